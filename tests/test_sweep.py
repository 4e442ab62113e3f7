"""Sweeps (docs/design.md, "Seeding", "Results contract" and "Reliability"; issue 4), stated as behaviour.

Designs give exactly the expected points; the same seed gives byte-identical runs.parquet for
any worker count and executor; an interrupted sweep resumed equals an uninterrupted one; a
failing point is recorded while the others finish; common random numbers make equal points
equal; bad input is refused with `error:` and exit 2, and leaves nothing behind.
Sweeps here are small (a few hundred runs of 6 rounds) so the default suite stays fast.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim
from sim.experiments import ensemble
from sim.experiments import sweeps as sweep_module
from sim.experiments import sweep_store
from sim.cli import main
from sim.experiments.designs import SweepInputError, SweepWarning, design_points, parse_spec, parse_vary
from sim.experiments.executors import DASK_MISSING, LocalExecutor
from sim.experiments.summary import wilson
from sim.experiments.sweeps import SweepResult

SHORT = "rounds=6"  # a fixed path: every point runs 6 rounds
RESOLVE = "actors.south_korea.resolve"
RISK = "actors.russia.risk_tolerance"


def small_sweep(out: Path, **kwargs) -> SweepResult:
    """Three points of `resolve` at 6 rounds, 300 runs each, on one worker unless told otherwise."""
    options = {"vary": [f"{RESOLVE}=0.2:0.8:3", SHORT], "runs": 300, "seed": 7, "workers": 1, "out": out}
    options.update(kwargs)
    return sim.sweep("baseline", **options)


def file_bytes(directory: Path, name: str) -> bytes:
    return (directory / name).read_bytes()


def test_sim_sweep_is_the_api_function_even_after_the_module_is_imported():
    import inspect

    import sim.experiments.sweeps  # noqa: F401

    assert sim.sweep is sim.experiments.sweeps.sweep
    assert list(inspect.signature(sim.sweep).parameters)[:4] == ["scenario", "vary", "design", "points"]


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("workers", [1, 3])
def test_local_executor_yields_results_in_order_and_takes_items_lazily(workers):
    taken = []

    def items():
        for i in range(20):
            taken.append(i)
            yield i

    with LocalExecutor(workers) as executor:
        results = executor.map(_square, items())
        assert next(results) == 0
        assert len(taken) <= 2 * workers + 1  # a bounded number in flight, not the whole list
        assert list(results) == [i * i for i in range(1, 20)]


# -- designs ------------------------------------------------------------------------------------


def test_grid_is_the_full_product_of_the_exact_values():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:8", f"{RISK}=0.3,0.6,0.9"])
    points = design_points(factors, "grid", None, seed=1)
    assert len(points) == 8 * 3
    assert sorted({p[0] for p in points}) == pytest.approx([0.2 + 0.1 * i for i in range(8)])
    assert [p[1] for p in points[:3]] == [0.3, 0.6, 0.9]  # the first path varies slowest
    assert points[3] == pytest.approx((0.3, 0.3))
    assert len(set(points)) == 24


def test_integer_paths_get_rounded_values(tmp_path):
    result = sim.sweep("baseline", vary={"rounds": "2:5:3"}, runs=50, seed=1, workers=1, out=tmp_path / "s")
    points = result.points()
    assert points["rounds"].tolist() == [2, 4, 5]  # 2, 3.5, 5 rounded half up
    assert points["rounds"].dtype == np.int64


def test_lhs_puts_one_point_in_each_stratum_of_each_dimension():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:2", f"{RISK}=0.1,0.5", "dynamics.chance.base=0:0.01:2"])
    n = 20
    points = np.array(design_points(factors, "lhs", n, seed=3))
    for k, f in enumerate(factors):
        strata = np.floor((points[:, k] - f.low) / (f.high - f.low) * n).astype(int)
        assert sorted(strata) == list(range(n)), f.path
    again = np.array(design_points(factors, "lhs", n, seed=3))
    other = np.array(design_points(factors, "lhs", n, seed=4))
    assert np.array_equal(points, again)
    assert not np.array_equal(points, other)


def test_sobol_is_within_bounds_reproducible_and_warns_off_powers_of_two():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:2", f"{RISK}=0.3,0.6,0.9"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at a power of two, not even scipy's
        points = np.array(design_points(factors, "sobol", 16, seed=5))
    assert points.shape == (16, 2)
    assert ((points[:, 0] >= 0.2) & (points[:, 0] <= 0.9)).all()
    assert ((points[:, 1] >= 0.3) & (points[:, 1] <= 0.9)).all()
    assert np.array_equal(points, np.array(design_points(factors, "sobol", 16, seed=5)))
    # Scrambled Sobol' points at n = 2^k are balanced: each half of each axis holds half the points.
    assert ((points[:, 0] < 0.55).sum(), (points[:, 1] < 0.6).sum()) == (8, 8)
    with pytest.warns(SweepWarning, match="not a power of two.*64 or 128"):
        design_points(factors, "sobol", 100, seed=5)


def test_a_single_value_fixes_a_path_in_sampled_designs():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:2", "rounds=6"])
    points = design_points(factors, "lhs", 5, seed=1)
    assert {p[1] for p in points} == {6.0}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("0.2:0.9:3:4", "a range is lo:hi or lo:hi:n, got 4 parts"),
        ("a:b:3", "'a' is not a number"),
        ("0.2:0.9:x", "whole number"),
        ("0.2:0.9:1", "between 2 and"),
        ("0.1,nan", "finite"),
        ("", "empty SPEC"),
    ],
)
def test_bad_specs_are_refused_with_what_was_expected(spec, message):
    with pytest.raises(SweepInputError, match=message):
        parse_spec(RESOLVE, spec)


def test_a_bare_range_spans_lhs_and_sobol_designs_but_not_a_grid():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9", "rounds=3:9"])
    assert factors[0].values == (0.2, 0.9) and factors[0].uncounted
    for design, n in (("lhs", 5), ("sobol", 8)):
        points = np.array(design_points(factors, design, n, seed=2))
        assert points.shape == (n, 2) and (points[:, 0] >= 0.2).all() and (points[:, 0] <= 0.9).all()
    with pytest.raises(SweepInputError, match=r"--vary rounds=3:9: a grid needs a count, lo:hi:n \(e.g. 3:9:5\)"):
        design_points(parse_vary(["rounds=3:9"]), "grid", None, seed=1)


def test_design_options_are_checked():
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:3"])
    with pytest.raises(SweepInputError, match="--points is for"):
        design_points(factors, "grid", 10, seed=1)
    with pytest.raises(SweepInputError, match="needs --points"):
        design_points(factors, "lhs", None, seed=1)
    with pytest.raises(SweepInputError, match="given twice"):
        parse_vary([f"{RESOLVE}=0.1,0.2", f"{RESOLVE}=0.3,0.4"])


# -- the sweep directory ------------------------------------------------------------------------


def test_sweep_directory_holds_the_contracted_tables(tmp_path):
    result = small_sweep(tmp_path / "s", vary=[f"{RESOLVE}=0.2:0.8:3", f"{RISK}=0.3,0.9", SHORT])
    d = result.path
    assert sorted(p.name for p in d.iterdir()) == [
        "manifest.json", "points.parquet", "runs.parquet", "scenario.yaml", "summary.parquet"
    ]
    assert not list(tmp_path.glob(".*"))  # no partial directory left
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["design"] == "grid" and manifest["points"] == 6
    assert manifest["vary"] == {RESOLVE: "0.2:0.8:3", RISK: "0.3,0.9", "rounds": "6"}
    points = result.points()
    assert list(points.columns) == ["point", RESOLVE, RISK, "rounds", "status", "error"]
    assert (points["status"] == "ok").all() and points["error"].isna().all()
    runs = pd.read_parquet(d / "runs.parquet")
    assert runs.columns[0] == "point"
    assert runs.groupby("point").size().tolist() == [300] * 6
    assert (runs.groupby("point")["run"].agg(list).map(list) == [list(range(300))] * 6).all()
    summary = result.summary()
    assert list(summary.columns) == ["point", "metric", "p", "low", "high", "n", "crn"]
    metrics = summary[summary.point == 0]["metric"].tolist()
    classes = list(sim.load_scenario("baseline").outcomes.classes)
    assert metrics[: len(classes)] == [f"outcome.{c}" for c in classes]
    assert "crossed.south_korea.precision_weapons" in metrics and "enforced.russia.lethal_aid" in metrics
    # Every figure agrees with the runs table it summarises.
    for point, group in runs.groupby("point"):
        rows = summary[summary.point == point].set_index("metric")
        for c in classes:
            k = int((group["outcome"] == c).sum())
            assert rows.loc[f"outcome.{c}", "p"] == pytest.approx(k / 300)
            assert (rows.loc[f"outcome.{c}", "low"], rows.loc[f"outcome.{c}", "high"]) == pytest.approx(wilson(k, 300))
        crossed = group["crossed.russia.lethal_aid"]
        enforced = group["enforced.russia.lethal_aid"][crossed].sum()
        assert rows.loc["enforced.russia.lethal_aid", "n"] == crossed.sum()
        if crossed.sum():
            assert rows.loc["enforced.russia.lethal_aid", "p"] == pytest.approx(enforced / crossed.sum())
    assert not summary["crn"].any()


def test_one_and_two_workers_write_identical_runs(tmp_path, monkeypatch):
    # Small blocks, so each point has several blocks and chunks, and two workers interleave them.
    monkeypatch.setattr(ensemble, "BLOCK", 100)
    saved = []
    real = sweep_module.save_part
    monkeypatch.setattr(sweep_module, "save_part", lambda parts, p, c, data: saved.append((p, c)) or real(parts, p, c, data))
    one = small_sweep(tmp_path / "one", workers=1)
    two = small_sweep(tmp_path / "two", workers=2)
    assert saved == [(p, c) for p in range(3) for c in range(2)] * 2  # 3 blocks a point: chunks of 2 and 1
    assert one.manifest()["workers"] == 1 and two.manifest()["workers"] == 2
    assert one.manifest()["executor"] == two.manifest()["executor"] == "local"
    for name in ("runs.parquet", "points.parquet", "summary.parquet"):
        assert file_bytes(one.path, name) == file_bytes(two.path, name), name


def test_runs_are_written_in_row_groups_of_many_points(tmp_path, monkeypatch):
    """The Parquet footer the writer holds grows with row groups, not with points (memory stays flat)."""
    monkeypatch.setattr(sweep_store, "ROW_GROUP_ROWS", 1000)
    result = small_sweep(tmp_path / "s", vary=[f"{RESOLVE}=0.1:0.9:10", SHORT])  # 10 points of 300 runs
    metadata = pq.ParquetFile(result.path / "runs.parquet").metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [1200, 1200, 600]


def test_parts_with_different_columns_are_unified(tmp_path, monkeypatch):
    """Points whose runs tables differ in columns (not the case when factors set numbers) still
    give one runs.parquet: the file is rebuilt from the parts with the columns unified."""
    real = ensemble.simulate_block

    def with_extra_column(task):
        result = real(task)
        if task.point == 1:
            return type(result)(task, result.runs.append_column("extra", pa.array([1.5] * task.size)), None)
        return result

    monkeypatch.setattr(ensemble, "simulate_block", with_extra_column)
    monkeypatch.setattr(sweep_module, "pack_runs", lambda runs, workers: 1)  # every block alone, through simulate_block
    runs = small_sweep(tmp_path / "s").runs()
    assert runs.groupby("point").size().tolist() == [300, 300, 300]
    assert runs.groupby("point")["extra"].count().tolist() == [0, 300, 0]


def test_the_same_sweep_gives_the_same_numbers_as_a_run_of_the_point(tmp_path):
    """Point p's blocks are SeedSequence(seed, spawn_key=(p, b)): point 0 of a sweep is `sim run`."""
    result = small_sweep(tmp_path / "s", vary=[f"{RESOLVE}=0.3,0.6", SHORT])
    runs = result.runs()
    first = runs[runs.point == 0].drop(columns="point").reset_index(drop=True)
    single = sim.run("baseline", runs=300, seed=7, overrides={RESOLVE: 0.3, "rounds": 6}, out=tmp_path / "r", workers=1)
    pd.testing.assert_frame_equal(first, single.runs())


@pytest.mark.slow  # several seconds: moved out of the default suite to keep it near 60 s; CI runs it
def test_local_and_dask_executors_write_identical_runs(tmp_path):
    """A Dask LocalCluster of two processes (about 2 s to start and stop on two quiet cores)."""
    pytest.importorskip("distributed")
    local = small_sweep(tmp_path / "local", workers=2)
    dask = small_sweep(tmp_path / "dask", workers=2, executor="dask")
    assert dask.manifest()["executor"] == "dask"
    for name in ("runs.parquet", "points.parquet", "summary.parquet"):
        assert file_bytes(local.path, name) == file_bytes(dask.path, name), name


def test_crn_makes_equal_points_give_identical_runs(tmp_path):
    def runs_of(result):
        runs = result.runs()
        return [runs[runs.point == p].drop(columns="point").reset_index(drop=True) for p in (0, 1)]

    vary = [f"{RISK}=0.6,0.6", SHORT]
    a, b = runs_of(small_sweep(tmp_path / "crn", vary=vary, crn=True))
    pd.testing.assert_frame_equal(a, b)
    a, b = runs_of(small_sweep(tmp_path / "nocrn", vary=vary))
    assert not a["escalation_score"].equals(b["escalation_score"])
    summary = pd.read_parquet(tmp_path / "crn" / "summary.parquet")
    assert summary["crn"].all()


# -- failures -----------------------------------------------------------------------------------


def test_a_point_the_loader_refuses_is_recorded_and_the_others_finish(tmp_path):
    with pytest.warns(SweepWarning, match=r"point 1 \(.*risk_tolerance=1.5.*\) failed"):
        result = small_sweep(tmp_path / "s", vary=[f"{RISK}=0.5,1.5,0.7", SHORT])
    points = result.points()
    assert points["status"].tolist() == ["ok", "failed", "ok"]
    assert RISK in points.loc[1, "error"] and "[0, 1]" in points.loc[1, "error"]
    assert result.failed == [1]
    assert sorted(result.runs()["point"].unique()) == [0, 2]
    assert sorted(result.summary()["point"].unique()) == [0, 2]


def test_a_point_whose_run_raises_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    real = ensemble.simulate_block

    real_pack = ensemble.simulate_pack

    def fragile(task):  # the model breaks for one parameter value
        if task.scenario.actors["russia"].risk_tolerance == 0.6:
            raise FloatingPointError("overflow in utilities")
        return real(task)

    def fragile_pack(tasks):  # a packed model holding that point breaks too: each point then runs alone
        if any(task.scenario.actors["russia"].risk_tolerance == 0.6 for task in tasks):
            raise FloatingPointError("overflow in utilities")
        return real_pack(tasks)

    monkeypatch.setattr(ensemble, "simulate_block", fragile)
    monkeypatch.setattr(ensemble, "simulate_pack", fragile_pack)
    with pytest.warns(SweepWarning, match="point 1 .* failed: FloatingPointError"):
        result = small_sweep(tmp_path / "s", vary=[f"{RISK}=0.3,0.6,0.9", SHORT])
    points = result.points()
    assert points["status"].tolist() == ["ok", "failed", "ok"]
    assert "overflow in utilities" in points.loc[1, "error"] and f"{RISK}=0.6" in points.loc[1, "error"]
    assert sorted(result.runs()["point"].unique()) == [0, 2]


def test_every_point_failing_while_running_writes_the_errors_and_exits_1(tmp_path, capsys, monkeypatch):
    def broken(task):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(ensemble, "simulate_block", broken)
    monkeypatch.setattr(ensemble, "simulate_pack", broken)
    out = tmp_path / "s"
    code = main(["sweep", "baseline", "--vary", f"{RISK}=0.3,0.6", "--vary", SHORT, "--runs", "50", "--workers", "1",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("warning: point ") == 2 and "RuntimeError: engine bug" in err
    assert "error: every point of the sweep failed" in err
    points = pd.read_parquet(out / "points.parquet")
    assert points["status"].tolist() == ["failed", "failed"]
    assert len(pd.read_parquet(out / "runs.parquet")) == 0 and len(pd.read_parquet(out / "summary.parquet")) == 0


def test_every_point_refused_is_bad_input_and_writes_nothing(tmp_path, capsys):
    code = main(["sweep", "baseline", "--vary", f"{RISK}=1.5,2", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: --vary:1:1: actors.russia.risk_tolerance: expected a number in [0, 1]" in err
    assert list(tmp_path.iterdir()) == []


# -- interruption and resume --------------------------------------------------------------------


def interrupt_after(monkeypatch, k: int) -> None:
    """Make the k+1-th part write raise KeyboardInterrupt, as Ctrl-C between two chunks would."""
    real = sweep_module.save_part
    written = []

    def save_then_maybe_stop(plan, point, index, data):
        if len(written) == k:
            raise KeyboardInterrupt
        real(plan, point, index, data)
        written.append((point, index))

    monkeypatch.setattr(sweep_module, "save_part", save_then_maybe_stop)


@pytest.mark.slow  # several seconds: moved out of the default suite to keep it near 60 s; CI runs it
def test_an_interrupted_sweep_resumed_equals_an_uninterrupted_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ensemble, "BLOCK", 100)  # 3 blocks a point: chunks of 2 + 1
    vary = [f"{RESOLVE}=0.2:0.8:4", SHORT]
    whole = small_sweep(tmp_path / "whole", vary=vary)

    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            small_sweep(tmp_path / "cut", vary=vary)
    partial = tmp_path / ".cut.partial"
    assert not (tmp_path / "cut").exists()
    assert len(list((partial / "parts").glob("*.parquet"))) == 3
    err = capsys.readouterr().err
    assert f"sim sweep --resume {partial}" in err and "1 of 4 points complete" in err

    resumed = sim.sweep(resume=partial, workers=2)
    assert resumed.path == tmp_path / "cut" and not partial.exists()
    for name in ("runs.parquet", "points.parquet", "summary.parquet"):
        assert file_bytes(whole.path, name) == file_bytes(resumed.path, name), name
    assert resumed.manifest()["resumed"] is True


def test_resume_runs_only_the_missing_chunks(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        interrupt_after(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            small_sweep(tmp_path / "cut")
    ran = []
    real = sweep_module.simulate_chunk
    monkeypatch.setattr(sweep_module, "simulate_chunk", lambda chunk: ran.append(chunk.point) or real(chunk))
    sim.sweep(resume=tmp_path / "cut", workers=1)  # the destination's name finds its partial directory
    assert ran == [2]


def test_resume_refuses_options_that_would_change_the_numbers(tmp_path, monkeypatch, capsys):
    with monkeypatch.context() as patch:
        interrupt_after(patch, 1)
        with pytest.raises(KeyboardInterrupt):
            small_sweep(tmp_path / "cut")
    partial = tmp_path / ".cut.partial"
    before = sorted(p.name for p in (partial / "parts").iterdir())
    assert main(["sweep", "--resume", str(partial), "--runs", "500"]) == 2
    assert "error: --resume: --runs 500 differs from the interrupted sweep's (300)" in capsys.readouterr().err
    assert main(["sweep", "baseline", "--vary", f"{RESOLVE}=0.1:0.8:3", "--resume", str(partial)]) == 2
    assert "--vary differs" in capsys.readouterr().err
    assert sorted(p.name for p in (partial / "parts").iterdir()) == before
    monkeypatch.setattr(ensemble, "default_workers", lambda: 2)  # two chunks left: --workers 1 must be kept
    assert main(["sweep", "--resume", str(partial), "--runs", "300", "--seed", "7", "--workers", "1"]) == 0
    assert (tmp_path / "cut" / "runs.parquet").is_file()
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["workers"] == 1


# -- the command line ---------------------------------------------------------------------------


def test_cli_sweep_prints_a_table_and_writes_the_directory(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["sweep", "baseline", "--vary", f"{RESOLVE}=0.2:0.8:2", "--vary", SHORT, "--runs", "200",
                 "--seed", "3", "--design", "lhs", "--points", "3", "--workers", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"baseline: lhs sweep, 3 points (3 ok, 0 failed) x 200 runs, seed 3, crn off  ->  {out}" in printed
    assert RESOLVE in printed and "proxy_escalation" in printed
    assert len(pd.read_parquet(out / "points.parquet")) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--vary", f"{RESOLVE}=0.2:0.9"], "error: --vary actors.south_korea.resolve=0.2:0.9: a grid needs a count, "
                                           "lo:hi:n (e.g. 0.2:0.9:5) or a list v1,v2,...; a bare range lo:hi is for "
                                           "--design lhs or sobol"),
        (["--vary", f"{RESOLVE}=a:b:3"], "error: --vary actors.south_korea.resolve=a:b:3: 'a' is not a number"),
        (["--vary", "actors.south_korea.resolv=0.2:0.9:3"], "(did you mean 'resolve'?)"),
        (["--vary", "actors.south_korea=0.2:0.9:3"], "expected a path to a number, got a section"),
        (["--vary", "actors.south_kore.resolve=0.2:0.9:3"],  # not a new actor missing its keys
         "error: --vary:1:1: actors.south_kore.resolve: unknown key 'south_kore' (expected one of: south_korea, "
         "russia, north_korea, united_states, ukraine) (did you mean 'south_korea'?)"),
        (["--vary", f"{RESOLVE}=0.2:0.9:3", "--points", "5"], "error: --points is for --design lhs or sobol"),
        (["--vary", f"{RESOLVE}=0.2:0.9:3", "--design", "sobol"], "error: --design sobol needs --points N"),
        (["--vary", f"{RESOLVE}=0.2:0.9:3", "--runs", "0"], "error: --runs must be between 1"),
        (["--vary", f"{RESOLVE}=0.2:0.9:3", "--executor", "local", "--address", "tcp://h:8786"], "error: --address"),
        ([], "error: expected at least one --vary PATH=SPEC"),
    ],
)
def test_cli_refuses_bad_input_with_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)  # the default results/ directory would appear here
    code = main(["sweep", "baseline", *args] + ([] if "--runs" in args else ["--runs", "10"]))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.startswith("error: ")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_path_names_the_vary_and_the_expected_keys(tmp_path, capsys):
    code = main(["sweep", "baseline", "--vary", "rounds=6", "--vary", "actors.south_korea.resolv=0.2:0.9:3",
                 "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: --vary:2:1: actors.south_korea.resolv: unknown key 'resolv'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make", ["missing", "empty", "run"])
def test_cli_resume_of_a_directory_that_is_not_an_interrupted_sweep(tmp_path, capsys, make):
    target = tmp_path / "d"
    if make == "empty":
        target.mkdir()
    elif make == "run":
        sim.run("baseline", runs=20, seed=1, rounds=2, out=target, workers=1)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["sweep", "--resume", str(target)]) == 2
    err = capsys.readouterr().err
    expected = {"missing": "no such directory", "empty": "not an interrupted sweep", "run": "not an interrupted sweep"}[make]
    assert err.startswith(f"error: --resume {target}: ") and expected in err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_cli_dask_without_the_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = main(["sweep", "baseline", "--vary", f"{RESOLVE}=0.2:0.9:3", "--executor", "dask",
                 "--out", str(tmp_path / "s")])
    assert code == 2
    assert capsys.readouterr().err == f"error: {DASK_MISSING}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_keeps_a_resumable_sweep_and_resume_finishes_it(tmp_path):
    """A real SIGINT to `sim sweep` with two worker processes: exit 130, a resume hint, then --resume."""
    out = tmp_path / "s"
    command = [sys.executable, "-m", "sim", "sweep", "baseline", "--vary", f"{RESOLVE}=0.2:0.9:40", "--vary",
               "rounds=12", "--runs", "2000", "--seed", "1", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parts = tmp_path / ".s.partial" / "parts"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(parts.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"finish it with: sim sweep --resume {tmp_path / '.s.partial'}" in err
    assert not out.exists() and 3 <= len(list(parts.glob("*.parquet"))) < 40
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", "--resume", str(tmp_path / ".s.partial")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    whole = sim.sweep("baseline", vary=[f"{RESOLVE}=0.2:0.9:40", "rounds=12"], runs=2000, seed=1, workers=2,
                      out=tmp_path / "whole")
    assert file_bytes(out, "runs.parquet") == file_bytes(whole.path, "runs.parquet")
    assert file_bytes(out, "summary.parquet") == file_bytes(whole.path, "summary.parquet")


def test_a_sobol_design_is_a_net_not_merely_stratified():
    # Mutation survivor (docs/hardening.md): drawing Latin hypercube points for --design sobol
    # passed the test above, as LHS is balanced per axis too. Sobol's first two coordinates at
    # 2^4 points form a (0, 4, 2)-net, which scrambling keeps: each of the 4 x 4 cells holds one.
    factors = parse_vary([f"{RESOLVE}=0.2:0.9:2", f"{RISK}=0.3,0.6,0.9"])
    points = np.array(design_points(factors, "sobol", 16, seed=5))
    unit = (points - [0.2, 0.3]) / [0.7, 0.6]
    cells = {(int(x * 4), int(y * 4)) for x, y in unit}
    assert len(cells) == 16
