"""Running one scenario many times: blocks streamed into a results directory or kept in memory.

`sim.run` (the public API) and the commands built on a run (a backtest, a comparison) call
`run_scenario`; only commands pass its hooks. The layout of what it writes is the results
contract of docs/design.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from .. import __version__
from ..engine.clock import calendar
from ..engine.model import ScenarioRef, resolve_scenario
from ..scenario import Scenario, dump_scenario
from .ensemble import BLOCK, MAX_RUNS, BlockResult, block_tasks, cap_workers, execute
from .results import ResultsDir, command_line, default_out, environment, now, sha256
from .summary import Tally

Overrides = Mapping[str, Any] | Sequence[str]


def check_runs(runs: int, seed: int) -> None:
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be between 1 and {MAX_RUNS:,} (got {runs})")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63 (got {seed})")


def override_texts(overrides: Overrides | None) -> list[str]:
    """Overrides as the `PATH=VALUE` lines every header, caption and manifest shows."""
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return [f"{path}={value}" for path, value in overrides.items()]
    return [str(text).strip() for text in overrides]


def overrides_tag(texts: Sequence[str]) -> str:
    """A short, stable hash of the overrides for a default directory name ('' without any)."""
    return f"set-{sha256(chr(10).join(texts))[:6]}" if texts else ""


@dataclass
class Finished:
    """What run_scenario made: the directory (None in memory), the scenario as run, its tallies,
    the manifest, and in memory the tables themselves."""

    path: Path | None
    scenario: Scenario
    tally: Tally
    manifest: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)


class _Memory:
    """Collects what a ResultsDir would write, for a run kept in memory."""

    def __init__(self) -> None:
        self.parts: dict[str, list[pa.Table]] = {}
        self.texts: dict[str, str] = {}

    def append(self, name: str, table: pa.Table) -> None:
        self.parts.setdefault(name, []).append(table)

    def write_text(self, name: str, text: str) -> None:
        self.texts[name] = text

    def write_json(self, name: str, data: dict) -> None:
        self.texts[name] = json.dumps(data, default=str)

    def tables(self) -> dict[str, pa.Table]:
        return {name.removesuffix(".parquet"): pa.concat_tables(parts) for name, parts in self.parts.items()}


def run_scenario(
    scenario: ScenarioRef,
    runs: int,
    seed: int,
    rounds: int | None = None,
    overrides: Overrides | None = None,
    out: str | Path | bool | None = True,
    workers: int | None = None,
    progress: bool = False,
    kind: str = "run",
    on_block: Callable[[Scenario, BlockResult], None] | None = None,
    finish: Callable[[Scenario, Any], Mapping[str, Any]] | None = None,
) -> Finished:
    """Run `runs` replicates of `scenario`. `out`: a directory, True for the default one
    (results/<scenario>/<time>-<id>[-set-<hash>]), None or False to keep everything in memory.

    Bad input (ValueError, ScenarioError) and a destination that cannot take the results
    (destination.OutputError) are refused before anything is computed. `on_block` sees each
    finished block as it streams past; `finish` writes more files before the directory is
    renamed into place and returns what it adds to the manifest, whose `kind` they name.
    """
    check_runs(runs, seed)
    changes: Any = overrides or {}
    if rounds is not None:
        changes = [*changes, f"rounds={rounds}"] if not isinstance(changes, Mapping) else {**changes, "rounds": rounds}
    resolved = resolve_scenario(scenario, changes)
    texts = override_texts(overrides)
    text = dump_scenario(resolved)
    digest = sha256(text)
    tasks = block_tasks(resolved, runs, seed)
    workers = cap_workers(workers, len(tasks))
    tally = Tally(list(resolved.outcomes.classes), list(resolved.red_lines), resolved.rounds, list(resolved.measures))
    started = now()
    if out is None or out is False:
        sink: Any = _Memory()
        results_dir = None
    else:
        tag = overrides_tag(texts)
        target = (Path(out) if out is not True else
                  default_out(resolved.name, sha256(f"{digest}/{seed}/{runs}"), tag))
        results_dir = ResultsDir(target, numbered=out is True)  # checks the destination: nothing computed yet
    with (results_dir if results_dir is not None else nullcontext(sink)) as results, \
            tqdm(total=runs, unit="run", disable=None if progress else True) as bar, \
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
        manifest = {
            "kind": kind,
            "scenario": resolved.name,
            "scenario_sha256": digest,
            "overrides": texts,
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
        }
        results.write_json("manifest.json", manifest)
    if results_dir is None:
        return Finished(None, resolved, tally, manifest, sink.tables())
    return Finished(results_dir.final, resolved, tally, manifest)

