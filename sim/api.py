"""The Python API behind `sim run`: run a scenario, write its results directory, summarise it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from . import __version__
from .engine.clock import calendar
from .experiments.ensemble import BLOCK, MAX_RUNS, BlockResult, block_tasks, cap_workers, execute
from .engine.model import ScenarioRef, resolve_scenario
from .experiments.results import ResultsDir, command_line, default_out, environment, now, sha256
from .scenario import Scenario, dump_scenario
from .scenario.params import sampled_text
from .experiments.summary import Tally, format_summary


@dataclass
class RunResult:
    """A finished run: where its results are, the scenario as run, and its tallies."""

    path: Path
    scenario: Scenario
    seed: int
    tally: Tally

    def runs(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "runs.parquet")

    def trajectories(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "trajectories.parquet")

    def summary(self) -> str:
        s = self.scenario
        title = f"{s.name}: {self.tally.runs} runs, {s.rounds} rounds, seed {self.seed}  ->  {self.path}"
        sampled = sampled_text(s)
        return format_summary(f"{title}\n{sampled}" if sampled else title, self.tally)


def check_runs(runs: int, seed: int) -> None:
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be between 1 and {MAX_RUNS:,} (got {runs})")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63 (got {seed})")


def run(
    scenario: ScenarioRef,
    runs: int = 10_000,
    seed: int = 0,
    rounds: int | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: bool = False,
    *,
    kind: str = "run",
    on_block: Callable[[Scenario, BlockResult], None] | None = None,
    finish: Callable[[Scenario, ResultsDir], Mapping[str, Any]] | None = None,
) -> RunResult:
    """Run `runs` replicates of `scenario` and write a results directory (DESIGN section 5).

    Bad input (ValueError, ScenarioError) and a destination that cannot take the results
    (destination.OutputError: a file, a symlink, a non-empty directory, read-only, another sim
    writing it) are refused before anything is computed. `workers` is capped at the machine's
    cores and the number of blocks (a WorkersCapped warning says so).

    Commands that build on a run (a backtest) pass `on_block`, which sees each finished block as
    it streams past, and `finish`, which writes more files into the results directory before it
    is renamed into place and returns what it adds to the manifest, whose `kind` they name.
    """
    check_runs(runs, seed)
    changes: Any = overrides or {}
    if rounds is not None:
        changes = [*changes, f"rounds={rounds}"] if isinstance(changes, list) else {**changes, "rounds": rounds}
    resolved = resolve_scenario(scenario, changes)
    text = dump_scenario(resolved)
    digest = sha256(text)
    target = Path(out) if out is not None else default_out(resolved.name, sha256(f"{digest}/{seed}/{runs}"))
    tasks = block_tasks(resolved, runs, seed)
    workers = cap_workers(workers, len(tasks))
    tally = Tally(list(resolved.outcomes.classes), list(resolved.red_lines), resolved.rounds)
    started = now()
    results_dir = ResultsDir(target, numbered=out is None)  # checks the destination: nothing computed yet
    with results_dir as results, tqdm(total=runs, unit="run", disable=None if progress else True) as bar, \
            closing(execute(tasks, workers)) as blocks:
        for block in blocks:
            results.append("runs.parquet", block.runs)
            results.append("trajectories.parquet", block.trajectories)
            tally.add(block.runs)
            if on_block is not None:
                on_block(resolved, block)
            bar.update(block.task.size)
        results.write_text("scenario.yaml", text)
        extra = finish(resolved, results) if finish is not None else {}
        results.write_json(
            "manifest.json",
            {
                "kind": kind,
                "scenario": resolved.name,
                "scenario_sha256": digest,
                "seed": seed,
                "runs": runs,
                "rounds": resolved.rounds,
                **calendar(resolved),
                "block_size": BLOCK,
                "workers": workers,
                "version": __version__,
                "command": command_line(),
                **environment(),
                "started": started,
                "finished": now(),
                **extra,
            },
        )
    return RunResult(results_dir.final, resolved, seed, tally)

