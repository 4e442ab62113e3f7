"""The Python API: what `import sim` offers a notebook or a script (docs/design.md, "Python API").

Every function takes plain values (names, paths, numbers, `{"path": value}` overrides) and
returns a result object with a short `repr`, an HTML table in a notebook (`_repr_html_`) and
tidy (long) data frames. `run` keeps its results in memory unless `out` asks for a directory.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from .engine.model import ScenarioRef
from .experiments.results import ResultsDir
from .experiments.runner import Overrides, run_scenario
from .experiments.summary import Tally, format_summary, rate_text
from .scenario import Scenario
from .scenario.params import sampled_text

if TYPE_CHECKING:
    from .backtest.forecast import Forecast
    from .backtest.run import BacktestResult
    from .report.compare import Comparison
    from .report.trace import Trace


@dataclass(repr=False)
class RunResult:
    """A finished run: the scenario as run, its seed, tallies and manifest, and its tables, read
    from `path` or held in memory (`path` None) when the run was not asked to write them."""

    path: Path | None
    scenario: Scenario
    seed: int
    tally: Tally
    manifest: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def _table(self, name: str) -> pd.DataFrame:
        if name in self.tables:
            return self.tables[name].to_pandas()
        if self.path is None:
            raise ValueError(f"no {name} table in this result")
        return pd.read_parquet(self.path / f"{name}.parquet")

    def runs(self) -> pd.DataFrame:
        """One row per run: outcome, red lines, commitments, agreements, measures, sampled values."""
        return self._table("runs")

    def trajectories(self) -> pd.DataFrame:
        """One row per run and round: each actor's top action and target, and bit masks of its moves."""
        return self._table("trajectories")

    @property
    def overrides(self) -> list[str]:
        return list(self.manifest.get("overrides", []))

    def title(self) -> str:
        s, where = self.scenario, self.path if self.path is not None else "in memory"
        set_text = f", set {', '.join(self.overrides)}" if self.overrides else ""
        return f"{s.name}{set_text}: {self.tally.runs:,} runs, {s.rounds} rounds, seed {self.seed}  ->  {where}"

    def summary(self) -> str:
        """The table `sim run` prints: outcome classes, red lines and measures with 95% intervals."""
        sampled = sampled_text(self.scenario)
        title = f"{self.title()}\n{sampled}" if sampled else self.title()
        return format_summary(title, self.tally, {m: q.question for m, q in self.scenario.measures.items()})

    def to_frame(self, tidy: bool = False) -> pd.DataFrame:
        """The summary as a data frame. `tidy=True`: one row per run and quantity (long format:
        run, quantity, id, value) with outcome, red lines, measures, commitments, agreements and
        sampled parameters decoded; otherwise the summary rows (what, id, p, low, high, count, n)."""
        from .experiments.export import summary_frame, tidy_runs

        return tidy_runs(self.runs(), self.scenario) if tidy else summary_frame(self.tally)

    def save(self, out: str | Path) -> Path:
        """Write a run kept in memory as a results directory (the layout `sim run` writes)."""
        if self.path is not None:
            raise ValueError(f"already written to {self.path}")
        from .scenario import dump_scenario

        with ResultsDir(Path(out)) as results:
            for name, table in self.tables.items():
                results.append(f"{name}.parquet", table)
            results.write_text("scenario.yaml", dump_scenario(self.scenario))
            results.write_json("manifest.json", self.manifest)
        self.path = results.final
        return self.path

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "in memory"
        set_text = f", set={self.overrides}" if self.overrides else ""
        return f"<RunResult {self.scenario.name!r}{set_text}: {self.tally.runs:,} runs, seed {self.seed}, {where}>"

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        rows = "".join(
            f"<tr><td>{html.escape(str(r.what))}</td><td>{html.escape(str(r.id))}</td>"
            f"<td>{html.escape(rate_text(r.count, r.n))}</td><td>{r.count:,} of {r.n:,}</td></tr>"
            for r in frame.itertuples())
        return (f"<p><b>{html.escape(self.title())}</b></p><table><thead><tr><th></th><th>id</th><th>p [95% interval]</th>"
                f"<th>runs</th></tr></thead><tbody>{rows}</tbody></table>")


def run(
    scenario: ScenarioRef,
    runs: int = 10_000,
    seed: int = 0,
    rounds: int | None = None,
    overrides: Overrides | None = None,
    out: str | Path | bool | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> RunResult:
    """Run `runs` replicates of `scenario` (a name, a file or a Scenario) from root `seed`.

    `overrides` maps dotted paths to values (`{"actors.south_korea.resolve": 0.8}`) or lists
    `PATH=VALUE` strings as `--set` does. The results stay in memory unless `out` names a
    directory, or is True for the default one (results/<scenario>/<time>-<id>), which is
    written in the layout of docs/design.md ("Results contract"). Bad input (ValueError,
    ScenarioError) and a destination that cannot take the results are refused before anything
    runs. `workers` is capped at the machine's cores and the number of blocks of 10,000 runs.
    """
    done = run_scenario(scenario, runs, seed, rounds, overrides, out=out, workers=workers, progress=progress)
    return RunResult(done.path, done.scenario, seed, done.tally, done.manifest, done.tables)


def compare(a: str | Path, b: str | Path, runs: int | None = None, seed: int | None = None,
            rounds: int | None = None, out: str | Path | None = None, workers: int | None = None) -> Comparison:
    """B against A, each a run directory or a scenario to run now with the same seed (common
    random numbers), with paired 95% intervals of B − A where the runs pair up."""
    from .report.compare import compare as _compare

    return _compare(a, b, runs=runs, seed=seed, rounds=rounds, out=out, workers=workers)


def backtest(scenario: ScenarioRef, events: str | Path, runs: int = 10_000, seed: int = 0,
             out: str | Path | None = None, workers: int | None = None,
             overrides: Mapping[str, Any] | list[str] | None = None) -> BacktestResult:
    """Score the scenario's forecasts (with `overrides`, as `sim backtest --set`) of a dated record
    of events (an events file) beside the reference forecasters; writes a results directory
    (default results/<scenario>/...)."""
    from .backtest.run import backtest as _backtest

    return _backtest(scenario, events, runs=runs, seed=seed, out=out, workers=workers, overrides=overrides)


def forecast(scenario: ScenarioRef, given: str | Path, as_of: dt.date | str, survivors: int = 1000,
             seed: int = 0, out: str | Path | None = None, workers: int | None = None) -> Forecast:
    """The scenario conditioned on the record `given` up to `as_of`: later events' probabilities."""
    from .backtest.forecast import forecast as _forecast

    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return _forecast(scenario, given, day, survivors=survivors, seed=seed, out=out, workers=workers)


def trace(source: str | Path | RunResult, run: int | None = None, *, outcome: str | None = None,
          seed: int = 0, overrides: Overrides | None = None) -> Trace:
    """One run told round by round: run `run` of a results directory, or (`outcome=CLASS`) the
    first run of scenario `source` from `seed` that ends in that class."""
    from .report.trace import trace_pick, trace_run

    if isinstance(source, RunResult):
        if source.path is None and outcome is None:
            raise ValueError("trace a run kept in memory by saving it first (result.save(DIR)), or pass outcome=")
        source, seed = (source.path, source.seed) if source.path is not None else (source.scenario, source.seed)
    if outcome is not None:
        return trace_pick(source, seed, outcome, list(overrides) if overrides is not None and not isinstance(
            overrides, Mapping) else overrides)
    if run is None:
        raise ValueError("trace needs run= (a run of a results directory) or outcome= (a class to find)")
    return trace_run(source, run)


def report(results_dir: str | Path | RunResult, out: str | Path | None = None) -> Path:
    """Write the HTML report of a results directory (default DIR/report.html); returns its path."""
    from .report.html_report import write_report

    path = results_dir.path if isinstance(results_dir, RunResult) else results_dir
    if path is None:
        raise ValueError("report reads a results directory: save the run first (result.save(DIR))")
    return write_report(path, out)


def measures(result: RunResult | str | Path) -> pd.DataFrame:
    """The declared measures of a run with their 95% intervals: id, question, p, low, high, count, n."""
    from .experiments.export import measure_frame

    if not isinstance(result, RunResult):
        from .report.figure_data import load_run_scenario, read_manifest

        path = Path(result)
        manifest = read_manifest(path)
        scenario = load_run_scenario(path)
        tally = Tally(list(scenario.outcomes.classes), list(scenario.red_lines), scenario.rounds,
                      list(scenario.measures))
        tally.add(pa.Table.from_pandas(pd.read_parquet(path / "runs.parquet"), preserve_index=False))
        result = RunResult(path, scenario, int(manifest.get("seed", 0)), tally, manifest)
    return measure_frame(result.tally, result.scenario)


__all__ = ["RunResult", "backtest", "compare", "forecast", "measures", "report", "run", "trace"]
