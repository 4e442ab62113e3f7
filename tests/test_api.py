"""The Python API a notebook sees: what `dir(sim)` lists, results in memory, short reprs, tidy
exports, and `sim --version`."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main

API = ["backtest", "compare", "forecast", "load_scenario", "measures", "report", "robust", "run", "sensitivity",
       "sweep", "trace"]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> sim.RunResult:
    return sim.run("precision-weapons", runs=200, seed=3, rounds=4, overrides={"actors.south_korea.resolve": 0.8},
                   workers=1)


def test_dir_lists_the_api_with_typed_documented_parameters_and_no_hooks() -> None:
    import sim.backtest.run  # noqa: F401  subpackages named like API functions must not hide them
    import sim.report.plots  # noqa: F401

    names = [n for n in dir(sim) if not n.startswith("_")]
    assert set(API) <= set(names) and "annotations" not in names and "TYPE_CHECKING" not in names
    assert sim.__version__ == sim.__dict__["__version__"]
    for name in API:
        function = getattr(sim, name)
        assert function.__doc__, name
        assert "DESIGN section" not in function.__doc__, name
        parameters = inspect.signature(function).parameters
        assert not {"kind", "on_block", "finish"} & set(parameters), name
        assert all(p.annotation is not inspect.Parameter.empty for p in parameters.values()), name


def test_run_keeps_its_results_in_memory_unless_asked(small: sim.RunResult, tmp_path: Path) -> None:
    before = set(Path.cwd().iterdir())
    assert small.path is None and len(small.runs()) == 200 and len(small.trajectories()) == 200 * 4
    assert set(Path.cwd().iterdir()) == before
    written = small.save(tmp_path / "saved")
    assert pd.read_parquet(written / "runs.parquet").equals(small.runs())
    assert sim.trace(written, run=7).run == 7


def test_repr_is_short_and_the_notebook_gets_a_table(small: sim.RunResult) -> None:
    text = repr(small)
    assert len(text) < 200 and "precision-weapons" in text and "actors.south_korea.resolve=0.8" in text
    html = small._repr_html_()
    assert "<table>" in html and "militarized_crisis" in html and "seoul_lethal_aid" in html


def test_tidy_frame_has_one_row_per_run_and_quantity(small: sim.RunResult) -> None:
    runs = small.runs()
    tidy = small.to_frame(tidy=True)
    assert list(tidy.columns) == ["run", "quantity", "id", "value", "text", "date"]
    crossed = tidy[(tidy["quantity"] == "crossed") & (tidy["id"] == "south_korea.precision_weapons")]
    assert crossed.set_index("run")["value"].equals(runs.set_index("run")["crossed.south_korea.precision_weapons"]
                                                     .astype(float).rename("value"))
    outcome = tidy[tidy["quantity"] == "outcome"].set_index("run")["text"]
    assert (outcome == runs.set_index("run")["outcome"].astype(str)).all()
    rounds = tidy[(tidy["quantity"] == "round") & tidy["value"].notna()]
    assert rounds["date"].notna().all(), "a round is given its date"


def test_tidy_numbers_leave_the_text_column_empty(small: sim.RunResult) -> None:
    from sim.experiments.export import tidy_runs

    numbers = small.runs()[["run", "crossed.south_korea.precision_weapons", "round.south_korea.precision_weapons"]]
    tidy = tidy_runs(numbers, small.scenario)
    assert list(tidy.columns) == ["run", "quantity", "id", "value", "text", "date"]
    assert len(tidy) == 2 * len(numbers) and tidy["text"].map(lambda t: t is None).all()


@pytest.mark.slow
def test_sim_export_writes_tidy_csv_files(small: sim.RunResult, tmp_path: Path, capsys) -> None:
    small_dir = small.save(tmp_path / "r") if small.path is None else small.path
    assert main(["export", str(small_dir), "--out", str(tmp_path / "x"), "--format", "csv"]) == 0
    moves = pd.read_csv(tmp_path / "x" / "moves.csv")
    summary = pd.read_csv(tmp_path / "x" / "summary.csv")
    assert set(moves.columns) == {"run", "round", "date", "actor", "kind", "action", "target"}
    starts = moves[(moves["kind"] == "move") & (moves["actor"] == "russia") & (moves["action"] == "precision_weapons")]
    assert len(starts) > 0, "the inject's deliveries appear as decoded moves"
    row = summary[(summary["what"] == "outcome") & (summary["id"] == "proxy_escalation")].iloc[0]
    assert row["count"] == (small.runs()["outcome"] == "proxy_escalation").sum()
    assert main(["export", str(small_dir), "--out", str(tmp_path / "x")]) == 2, "an existing directory is refused"


@pytest.mark.slow
def test_a_default_directory_carries_a_hash_of_the_overrides(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    one = sim.run("baseline", runs=20, seed=1, rounds=2, overrides=["actors.south_korea.resolve=0.8"], out=True)
    two = sim.run("baseline", runs=20, seed=1, rounds=2, overrides=["actors.south_korea.resolve=0.7"], out=True)
    plain = sim.run("baseline", runs=20, seed=1, rounds=2, out=True)
    assert one.path.name.split("-set-")[1] != two.path.name.split("-set-")[1]
    assert "-set-" not in plain.path.name
    assert "actors.south_korea.resolve=0.8" in one.summary().splitlines()[0]
    assert main(["trace", str(one.path), "--run", "0", "--brief"]) == 0
    assert capsys.readouterr().out.startswith("with --set actors.south_korea.resolve=0.8\n")


def test_sim_version_prints_the_version() -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "--version"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})
    assert done.returncode == 0 and done.stdout.strip() == f"sim {sim.__version__}"
