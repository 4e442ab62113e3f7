"""Fault injection, second round (issue 19): the commands added after the first hardening
(`report`, `plot` of new kinds, `sensitivity`, forecasts) end as cleanly as `run`, and the
guarantees the first round made (atomic files, fsync, the re-check under the lock) each have a
test that fails when the guarantee is taken out (see docs/hardening.md for the mutations).

Item numbers are the issue's faults (f1..f10) and mutations (m1..m6). Each case asserts the
exit code, the one `error:` line, and what is left on disk.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import stat
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.experiments import destination, ensemble, sensitivity as sensitivity_module, sweep_store
from sim.experiments.destination import DestinationLock
from sim.report import figures as figures_module, html_report, plots

RESOLVE = "actors.south_korea.resolve"
TOY = Path(__file__).resolve().parent / "data" / "calibration-toy.yaml"


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root: its kind, inode and, for regular files, bytes. Never opens a FIFO
    or a device, never follows a symlink."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            info = os.lstat(p)
            content = p.read_bytes() if stat.S_ISREG(info.st_mode) else (
                os.readlink(p) if stat.S_ISLNK(info.st_mode) else None)
            found[str(p.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_ino, content)
    return found


def one_error_line(err: str, starts: str) -> None:
    assert err.startswith(f"error: {starts}"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> SimpleNamespace:
    """A small run, sweep and sensitivity directory (blocks of 50 runs, 2 rounds)."""
    base = tmp_path_factory.mktemp("dirs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensemble, "BLOCK", 50)
        run = sim.run("baseline", runs=100, seed=1, rounds=2, out=base / "run").path
        sweep = sim.sweep("baseline", vary=[f"{RESOLVE}=0.2:0.8:2", "rounds=2"], runs=50, seed=1, workers=1,
                          out=base / "sweep").path
        sens = sim.sensitivity("baseline", vary=[f"{RESOLVE}=0.2:0.9", "actors.russia.risk_tolerance=0.2:0.9"],
                               points=2, runs=50, seed=1, workers=1, out=base / "sens")
    return SimpleNamespace(run=run, sweep=sweep, sens=sens.path)


@pytest.fixture
def copy_of(dirs, tmp_path):
    import shutil

    def copy(name: str) -> Path:
        shutil.copytree(getattr(dirs, name), tmp_path / name)
        return tmp_path / name

    return copy


@pytest.fixture
def quick_report(monkeypatch):
    """Reports without figures or traced runs: what is tested here is around them."""
    monkeypatch.setattr(html_report, "figures_for", lambda path: iter(()))
    monkeypatch.setattr(html_report, "traces_html", lambda path, scenario: "<p>traces</p>")


# == f1. report --out on a device, FIFO or symlink ================================================


def _special(kind: str, tmp_path: Path) -> Path:
    out = tmp_path / "out.html"
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "symlink to a file":
        (tmp_path / "real.html").write_text("the user's file")
        out.symlink_to(tmp_path / "real.html")
    elif kind == "dangling symlink":
        out.symlink_to(tmp_path / "nowhere.html")
    elif kind == "character device":
        try:
            os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
        except PermissionError:
            pytest.skip("no CAP_MKNOD here")
    return out


@pytest.mark.parametrize("kind", ["fifo", "symlink to a file", "dangling symlink", "character device"])
def test_f1_report_out_on_a_device_fifo_or_symlink_is_refused_untouched(kind, dirs, tmp_path, capsys, monkeypatch):
    out = _special(kind, tmp_path)
    monkeypatch.setattr(html_report, "build_report", lambda path: "<html>a report</html>")
    before = snapshot(tmp_path)
    assert main(["report", str(dirs.run), "--out", str(out)]) == 2
    one_error_line(capsys.readouterr().err, f"--out {out}: ")
    assert snapshot(tmp_path) == before


def test_f1_report_out_as_a_new_or_regular_file_is_written(dirs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(html_report, "build_report", lambda path: "<html>a report</html>")
    (tmp_path / "old.html").write_text("an earlier report")
    for name in ("new.html", "old.html"):
        assert main(["report", str(dirs.run), "--out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_text() == "<html>a report</html>"
    assert sorted(os.listdir(tmp_path)) == ["new.html", "old.html"]


# == f2. plot of a forecast uses the forecast's weights ===========================================

RECORD = """\
start: 2024-01-01
end: 2024-12-31
references:
  synthetic: {title: Synthetic record}
events:
  sanctions-early:
    question: Gamma's sanctions in force in at least 1 of the first 2 rounds
    kind: in_force
    actor: gamma
    action: sanction
    rounds: 1
    by: 2
    happened: true
    date: 2024-02-15
    sure: moderate
    sources: [synthetic]
"""


@pytest.fixture(scope="module")
def weighted_forecast(tmp_path_factory) -> Path:
    from sim.backtest.forecast import forecast

    base = tmp_path_factory.mktemp("forecast")
    (base / "record.yaml").write_text(RECORD, encoding="utf-8")
    return forecast(TOY, base / "record.yaml", dt.date(2024, 3, 1), survivors=400, batch=200, max_runs=400, seed=2,
                    workers=1, out=base / "f").path


def test_f2_a_forecasts_outcome_figure_shows_its_weighted_shares(weighted_forecast, monkeypatch):
    drawn = {}
    real = plots.outcome_bars
    monkeypatch.setattr(plots, "outcome_bars", lambda table, **kw: drawn.setdefault("table", table) is not None
                        and real(table, **kw))
    for name, figure in figures_module.figures_for(weighted_forecast):
        if name == "outcomes":
            break
    shown = drawn["table"].set_index("outcome")
    written = pd.read_parquet(weighted_forecast / "outcomes.parquet").set_index("outcome")
    runs = pd.read_parquet(weighted_forecast / "runs.parquet")
    unweighted = runs["outcome"].astype(str).value_counts(normalize=True).reindex(written.index, fill_value=0)
    assert runs["weight"].nunique() > 1 and not np.allclose(unweighted, written["p"], atol=1e-3)  # the test can fail
    for column in ("p", "low", "high"):
        np.testing.assert_allclose(shown.loc[written.index, column], written[column], rtol=1e-12)
    classes = sim.load_scenario(TOY).outcomes.classes
    assert shown.loc[written.index, "label"].tolist() == [classes[c].label or c for c in written.index]
    from sim.report.figure_data import forecast_outcomes  # the toy's classes have no labels of their own

    named = forecast_outcomes(weighted_forecast, {c: f"the {c} class" for c in written.index})
    assert named["label"].tolist() == [f"the {c} class" for c in named["outcome"]]


def test_f2_a_weighted_share_is_the_forecasts_own():
    from sim.backtest.forecast import _share
    from sim.report.figure_data import weighted_share

    weights = np.array([0.45, 0.05, 0.05, 0.25, 0.125])  # summing below 1, as weights may
    hit = np.array([1, 0, 1, 0, 1])
    ess = weights.sum() ** 2 / (weights @ weights)
    assert weighted_share(hit, weights) == pytest.approx(_share(hit.astype(float), weights, ess), rel=1e-12)
    assert all(np.isnan(weighted_share(hit, np.zeros(5))))


def test_f2_a_forecasts_red_line_and_distribution_figures_are_weighted(weighted_forecast):
    from sim.report import figure_data as fd

    runs = pd.read_parquet(weighted_forecast / "runs.parquet")
    scenario = fd.load_run_scenario(weighted_forecast)
    w = runs["weight"].to_numpy() / runs["weight"].sum()
    peak = fd.peak_rung_distribution(runs, scenario, weights=runs["weight"].to_numpy())
    for row in peak.itertuples():
        assert row.share == pytest.approx(float(w @ (runs["new_rung"].astype(int) == row.rung)))
    hist = fd.score_histogram(runs, weights=runs["weight"].to_numpy())
    assert hist["share"].sum() == pytest.approx(1.0)
    scores = runs["escalation_score"].to_numpy(float)
    assert fd.score_summary(runs, weights=runs["weight"].to_numpy())["mean"] == pytest.approx(float(w @ scores))
    two = pd.DataFrame({"round.x": [1.0, np.nan], "crossed.x": [True, False], "enforced.x": [True, None]})
    curve = fd.red_line_curves(two, ["x"], 2, weights=np.array([3.0, 1.0]))
    assert curve["crossed"].tolist() == curve["enforced"].tolist() == [0.75, 0.75]
    assert fd.red_line_curves(two, ["x"], 2)["crossed"].tolist() == [0.5, 0.5]


# == f3. a second sweep or sensitivity run to a destination being written =========================


@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_f3_a_second_run_to_a_destination_being_written_names_the_writer(command, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ensemble, "simulate_block", lambda *a, **k: pytest.fail("computed before the refusal"))
    partial = tmp_path / ".s.partial"
    partial.mkdir()
    (partial / "sweep.json").write_text("{}")  # the live sweep's plan, as far as this test needs
    before = snapshot(tmp_path)
    vary = ["--vary", f"{RESOLVE}=0.2:0.8" + (":2" if command == "sweep" else ""),
            "--vary", "actors.russia.risk_tolerance=0.2:0.9" + (":2" if command == "sweep" else "")]
    with DestinationLock(tmp_path / "s"):  # the live sweep holds its destination
        code = main([command, "baseline", *vary, "--runs", "30", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"error: --out {tmp_path / 's'}: another sim (pid {os.getpid()}) is writing there now; " \
                  "wait for it to finish or choose another --out\n"
    assert snapshot(tmp_path) == before


# == f6. report of a sweep whose scenario.yaml was edited =========================================


@pytest.mark.parametrize("kind", ["sweep", "sens"])
def test_f6_a_report_of_an_edited_scenario_warns_on_stderr_and_on_the_page(kind, copy_of, capsys, quick_report):
    path = copy_of(kind)
    data = yaml.safe_load((path / "scenario.yaml").read_text())
    data["description"] = "An edited description."
    (path / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["report", str(path)]) == 0
    err = capsys.readouterr().err
    assert err == (f"warning: {path / 'scenario.yaml'} differs from the scenario these results were made with "
                   "(its sha256 is not the manifest's scenario_sha256): the report shows the edited file\n")
    page = (path / "report.html").read_text()
    assert page.count("differs from the scenario these results were made with") == 1


def test_f6_an_unedited_scenario_gives_no_warning(copy_of, capsys, quick_report):
    path = copy_of("sweep")
    assert main(["report", str(path)]) == 0
    assert capsys.readouterr().err == ""
    page = (path / "report.html").read_text()
    assert "differs from the scenario" not in page
    assert re.search(r"report made [^<]*</p><p class=question>", page)  # nothing between the two


# == f8. internal errors that are bad input =======================================================


def _read_only(monkeypatch, place: Path) -> None:
    """The flag a read-only mount reports, for `place` alone (a real mount is root-only here)."""
    real = os.statvfs
    flags = SimpleNamespace(f_flag=os.ST_RDONLY)
    monkeypatch.setattr(destination.os, "statvfs", lambda p: flags if Path(p) == place else real(p))


@pytest.mark.parametrize("command", ["report", "plot"])
def test_f8_a_read_only_results_directory_is_refused_for_report_and_plot(command, copy_of, capsys, monkeypatch,
                                                                         quick_report):
    path = copy_of("run")
    _read_only(monkeypatch, path)
    monkeypatch.setattr(figures_module, "figures_for", lambda p: pytest.fail("drew before the refusal"))
    before = snapshot(path)
    assert main([command, str(path)]) == 2
    target = path / ("report.html" if command == "report" else "figures")
    one_error_line(capsys.readouterr().err, f"--out {target}: {path} is on a read-only file system")
    assert snapshot(path) == before


def test_f8_a_read_only_results_directory_is_refused_for_discover(copy_of, capsys, monkeypatch):
    path = copy_of("sweep")
    _read_only(monkeypatch, path)
    before = snapshot(path)
    assert main(["discover", str(path), "--outcome", "contained"]) == 2
    one_error_line(capsys.readouterr().err, f"--plot {path / 'figures' / 'discover-contained.png'}: "
                                            f"{path} is on a read-only file system")
    assert snapshot(path) == before


@pytest.mark.slow
def test_f8_a_really_read_only_results_directory_for_report_plot_and_discover(copy_of):
    import subprocess
    import sys

    from test_faults import _unshare_works

    if not _unshare_works():
        pytest.skip("needs unshare -rm (user and mount namespaces) for a read-only bind mount")
    path = copy_of("sweep")
    before = snapshot(path)
    sim_cmd = f"{sys.executable} -m sim"
    script = f"mount --bind {path} {path} && mount -o remount,bind,ro {path} || exit 99\n" + "".join(
        f"{sim_cmd} {command}; echo rc=$?\n" for command in
        (f"report {path}", f"plot {path}", f"discover {path} --outcome contained"))
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines() == ["rc=2"] * 3, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --out {path / 'report.html'}: {path} is on a read-only file system",
        f"error: --out {path / 'figures'}: {path} is on a read-only file system",
        f"error: --plot {path / 'figures' / 'discover-contained.png'}: {path} is on a read-only file system"]
    assert snapshot(path) == before


def test_f8_a_write_that_fails_anyway_is_one_error_line_and_leaves_nothing(copy_of, capsys, monkeypatch, quick_report):
    path = copy_of("run")

    def refused(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", refused)
    before = snapshot(path)
    assert main(["report", str(path)]) == 2
    one_error_line(capsys.readouterr().err, f"--out {path / 'report.html'}: cannot write it (permission denied)")
    assert snapshot(path) == before


def test_f8_report_out_into_a_missing_directory(dirs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(html_report, "build_report", lambda path: pytest.fail("built before the refusal"))
    out = tmp_path / "no" / "such" / "report.html"
    assert main(["report", str(dirs.run), "--out", str(out)]) == 2
    one_error_line(capsys.readouterr().err, f"--out {out}: {tmp_path / 'no' / 'such'} does not exist")
    assert os.listdir(tmp_path) == []


def test_f8_a_thousand_chained_extends_is_a_located_error(tmp_path, capsys):
    for i in range(1000):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n" if i < 999 else "extends: baseline\n")
    assert main(["validate", str(tmp_path / "s0.yaml")]) == 2
    err = capsys.readouterr().err
    one_error_line(err, f"{tmp_path / 's63.yaml'}:1:1: extends: too many files extending one another")
    assert "at most 64 files" in err


def test_f8_a_dollar_in_a_label_is_drawn_as_text_not_mathtext(tmp_path):
    import io

    table = pd.DataFrame([{"outcome": "a", "label": "costs $5 bn, $ and $$", "count": 1, "n": 2, "p": 0.5,
                           "low": 0.1, "high": 0.9}])
    plots.outcome_bars(table, meta="US$ 1 $x").savefig(io.BytesIO(), format="png")


def test_f8_a_start_whose_rounds_run_past_the_calendar_is_a_located_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ensemble, "simulate_block", lambda *a, **k: pytest.fail("computed before the refusal"))
    assert main(["run", "baseline", "--set", "start=9999-12-01", "--rounds", "2", "--runs", "10",
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    one_error_line(err, "--set:1:")
    assert "start: 2 rounds of 1 month from 9999-12-01 run past 9999-12-31" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["report", "plot"])
def test_f8_a_manifest_with_a_list_as_kind(command, copy_of, capsys):
    path = copy_of("run")
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "kind": ["run"]}))
    before = snapshot(path)
    assert main([command, str(path)]) == 2
    one_error_line(capsys.readouterr().err, f"{path}: unknown kind in manifest.json")
    assert snapshot(path) == before


def test_f8_a_truncated_sensitivity_parquet_on_resume(copy_of, capsys):
    path = copy_of("sens")
    data = (path / "sensitivity.parquet").read_bytes()
    (path / "sensitivity.parquet").write_bytes(data[: len(data) // 2])
    before = snapshot(path)
    assert main(["sensitivity", "--resume", str(path)]) == 2
    one_error_line(capsys.readouterr().err, f"{path / 'sensitivity.parquet'}: unreadable")
    assert snapshot(path) == before


def test_f8_the_hint_works_a_deleted_sensitivity_parquet_is_analysed_again(copy_of, capsys):
    path = copy_of("sens")
    indices = pd.read_parquet(path / "sensitivity.parquet")
    (path / "sensitivity.parquet").unlink()
    assert main(["sensitivity", "--resume", str(path)]) == 0
    assert f"{path}: sensitivity.parquet was missing: analysed the sweep again" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(path / "sensitivity.parquet"), indices)


# == f9. extends of a file outside the scenario's tree ============================================


@pytest.mark.parametrize("secret", ["rounds: Hunter2-SECRET-TOKEN\npassword: Hunter2-other\n",
                                    "name: x\nactors: Hunter2-SECRET-TOKEN\n",
                                    "Hunter2-SECRET-KEY: 1\nrounds: 3\n"])
def test_f9_extends_outside_the_tree_quotes_nothing_from_that_file(secret, tmp_path, capsys):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "elsewhere" / "secret.yaml").write_text(secret)
    (tmp_path / "mine" / "s.yaml").write_text("extends: ../elsewhere/secret.yaml\nname: mine\n")
    assert main(["validate", str(tmp_path / "mine" / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Hunter2" not in err and "Traceback" not in err
    assert err.startswith(f"error: {tmp_path / 'mine' / '..' / 'elsewhere' / 'secret.yaml'}:")
    assert "not quoted" in err


def test_f9_extends_inside_the_tree_still_quotes_what_is_wrong(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text("extends: baseline\nrounds: twelve\n")
    (tmp_path / "s.yaml").write_text("extends: base.yaml\n")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    assert "got 'twelve'" in capsys.readouterr().err


# == f10. every float Python accepts ==============================================================


@pytest.mark.parametrize("text, value", [("5e-1", 0.5), ("1E-1", 0.1), ("+2.5e-1", 0.25), (".5e0", 0.5),
                                         ("1_0e-2", 0.1), ("0.5", 0.5), ("1", 1)])
def test_f10_set_and_scenario_files_take_exponent_floats(text, value, tmp_path):
    from sim.scenario import load_scenario

    assert load_scenario("baseline", [f"{RESOLVE}={text}"]).actors["south_korea"].resolve == value
    (tmp_path / "s.yaml").write_text(f"extends: baseline\nactors:\n  south_korea:\n    resolve: {text}\n")
    assert load_scenario(tmp_path / "s.yaml").actors["south_korea"].resolve == value


def test_f10_a_huge_float_is_out_of_range_not_not_a_number(capsys):
    assert main(["show", "baseline", "--set", f"{RESOLVE}=1e308"]) == 2
    err = capsys.readouterr().err
    assert "got 1e+308" in err and "'1e308'" not in err


# == m1. HTML escaping in reports =================================================================


def test_m1_a_report_escapes_every_text_from_the_scenario(copy_of, quick_report):
    path = copy_of("sweep")
    data = yaml.safe_load((path / "scenario.yaml").read_text())
    data["description"] = "Will <script>alert(1)</script> & co escalate?"
    (path / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.warns(UserWarning, match="differs from the scenario"):
        page = html_report.build_report(path)
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co") == 2  # the question and the scenario
    cells = html_report.table(["<th>"], [["<img src=x onerror=alert(2)>", "dropped"]])
    assert cells == ("<table><thead><tr><th>&lt;th&gt;</th></tr></thead><tbody>"
                     "<tr><td>&lt;img src=x onerror=alert(2)&gt;</td></tr></tbody></table>")


# == m2. the report written atomically ============================================================


def _half_then_full_disk(real):
    def write(self, data, *args, **kwargs):
        real(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    return write


def test_m2_a_report_that_fails_while_written_leaves_the_earlier_one(copy_of, monkeypatch, capsys, quick_report):
    path = copy_of("run")
    (path / "report.html").write_text("an earlier report")
    before = snapshot(path)
    monkeypatch.setattr(Path, "write_text", _half_then_full_disk(Path.write_text))
    assert main(["report", str(path)]) == 1
    assert capsys.readouterr().err.startswith("error: no space left on device")
    assert snapshot(path) == before


# == m3. the sensitivity analysis written atomically ==============================================


def test_m3_an_analysis_that_fails_while_writing_its_indices_leaves_the_directory(copy_of, monkeypatch):
    path = copy_of("sens")
    before = snapshot(path)

    def half(self, target, *args, **kwargs):
        Path(target).write_bytes(b"PAR1 half an analysis")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half)
    with pytest.raises(OSError):
        sensitivity_module.finish_analysis(path)
    assert snapshot(path) == before


def test_m3_an_analysis_that_fails_while_writing_its_manifest_leaves_the_manifest(copy_of, monkeypatch):
    path = copy_of("sens")
    manifest = (path / "manifest.json").read_bytes()
    monkeypatch.setattr(Path, "write_text", _half_then_full_disk(Path.write_text))
    with pytest.raises(OSError):
        sensitivity_module.finish_analysis(path)
    assert (path / "manifest.json").read_bytes() == manifest
    assert sorted(os.listdir(path)) == ["manifest.json", "points.parquet", "runs.parquet", "scenario.yaml",
                                        "sensitivity.parquet", "summary.parquet"]


# == m4, m5. a sweep's final files: synced, and the manifest never half there =====================


def test_m4_every_final_file_of_a_sweep_is_synced_before_its_manifest(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(ensemble, "BLOCK", 50)
    monkeypatch.setattr(sweep_store.os, "fsync", fsync)
    sim.sweep("baseline", vary=[f"{RESOLVE}=0.2:0.8:2", "rounds=2"], runs=50, seed=1, workers=1, out=tmp_path / "s")
    final = [name for name in synced if name in sweep_store.FINAL_FILES or name == "manifest.json.tmp"]
    assert final[-1] == "manifest.json.tmp"  # the manifest last: once there, every final file is complete
    assert set(final[:-1]) == {"runs.parquet", "points.parquet", "summary.parquet"}


class Killed(BaseException):
    """Stands for a kill at an exact point; the disk is then as a kill there leaves it."""


def test_m5_a_sweep_killed_while_writing_its_manifest_resumes_to_the_same_result(dirs, tmp_path, monkeypatch):
    import builtins

    monkeypatch.setattr(ensemble, "BLOCK", 50)
    options = dict(vary=[f"{RESOLVE}=0.2:0.8:2", "rounds=2"], runs=50, seed=1, workers=1)  # as dirs.sweep
    whole = dirs.sweep

    class HalfWritten:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise Killed

    def open_(file, mode="r", *args, **kwargs):
        f = builtins.open(file, mode, *args, **kwargs)
        return HalfWritten(f) if "manifest.json" in str(file) and "w" in mode else f

    monkeypatch.setattr(sweep_store, "open", open_, raising=False)
    with pytest.raises(Killed):
        sim.sweep("baseline", out=tmp_path / "s", **options)
    monkeypatch.delattr(sweep_store, "open")
    assert "manifest.json" not in os.listdir(tmp_path / ".s.partial")
    assert sim.sweep(resume=tmp_path / "s").path == tmp_path / "s"
    for name in ("runs.parquet", "points.parquet", "summary.parquet"):
        assert (tmp_path / "s" / name).read_bytes() == (whole / name).read_bytes()


# == m6. the destination checked again under the lock =============================================


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_m6_a_destination_filled_between_the_check_and_the_lock_is_refused(command, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    real = DestinationLock.acquire

    def another_sim_got_there_first(self):
        out.mkdir(exist_ok=True)
        (out / "manifest.json").write_text("another sim's results")
        return real(self)

    monkeypatch.setattr(DestinationLock, "acquire", another_sim_got_there_first)
    monkeypatch.setattr(ensemble, "simulate_block", lambda *a, **k: pytest.fail("computed after the lock"))
    args = ["--vary", f"{RESOLVE}=0.2:0.8:2", "--vary", "rounds=2"] if command == "sweep" else ["--rounds", "2"]
    assert main([command, "baseline", *args, "--runs", "20", "--out", str(out)]) == 2
    one_error_line(capsys.readouterr().err, f"--out {out}: exists and is not empty")
    assert sorted(os.listdir(tmp_path)) == ["r"] and os.listdir(out) == ["manifest.json"]
    assert (out / "manifest.json").read_text() == "another sim's results"
