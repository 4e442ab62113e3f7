"""Blocks of replicates, their seeds, and running them on local processes (see executors.py).

Runs are cut into blocks of a fixed size, BLOCK; block b of sweep point p draws from
SeedSequence(seed, spawn_key=(p, b)). Blocks are independent and results are consumed in block
order, so the numbers are the same whatever the number of workers or the executor.

Small blocks of several points may run packed in one model (`simulate_pack`): each block
still draws from its own Generator (engine/streams.py), so its rows are the ones it gives
alone, byte for byte, and only the fixed cost of a round is shared.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import questions
from .executors import LocalExecutor, freeze_imports
from ..engine.model import EscalationModel, block_generator
from ..engine.outcomes import runs_table, trajectory_table
from ..engine.streams import PackedStreams
from ..scenario import Scenario

BLOCK = 10_000
MAX_RUNS = 100_000_000


@dataclass(frozen=True)
class BlockTask:
    """One block: `size` replicates of `scenario`, run ids from block * BLOCK."""

    scenario: Scenario
    seed: int
    point: int
    block: int
    size: int
    crn: bool = False
    trajectories: bool = True


@dataclass(frozen=True)
class BlockResult:
    task: BlockTask
    runs: pa.Table
    trajectories: pa.Table | None


def block_tasks(scenario: Scenario, runs: int, seed: int, point: int = 0, crn: bool = False,
                trajectories: bool = True) -> list[BlockTask]:
    """The blocks that make up `runs` runs; the last one may be short."""
    return [
        BlockTask(scenario, seed, point, b, min(BLOCK, runs - b * BLOCK), crn, trajectories)
        for b in range((runs + BLOCK - 1) // BLOCK)
    ]


def _generator(task: BlockTask) -> np.random.Generator:
    return block_generator(task.seed, 0 if task.crn else task.point, task.block)


def _finished(model: EscalationModel) -> EscalationModel:
    while model.running:
        model.step()
    return model


def _collect() -> None:
    # A Mesa model and its agents refer to each other, so a finished block's arrays (some 100 MB
    # at 10,000 replicates) would wait for the cyclic collector; free them before the next block.
    gc.collect()


def simulate_block(task: BlockTask) -> BlockResult:
    """Run one block to its last round and tabulate it."""
    freeze_imports()  # before the model exists: a frozen model would never be collected
    model = _finished(EscalationModel(task.scenario, replicates=task.size, rng=_generator(task)))
    first = task.block * BLOCK
    result = BlockResult(task, *tabulate(model, first, task.trajectories))
    del model
    _collect()
    return result


def tabulate(model: EscalationModel, first: int, trajectories: bool = True) -> tuple[pa.Table, pa.Table | None]:
    """A finished block's runs table, with its measures, and (if asked) its trajectories; run ids
    from `first`. Runs and replays (sim trace) tabulate a block alike; the model keeps only its
    histories afterwards (EscalationModel.drop_round_state)."""
    scenario = model.scenario
    needed = questions.trajectory_columns(scenario.measures, scenario)
    runs = runs_table(model, first)
    model.drop_round_state()
    moves = trajectory_table(model, first) if trajectories or needed else None
    if scenario.measures:
        runs = with_measures(runs, moves.select(needed) if needed and moves is not None else None, scenario)
    return runs, moves if trajectories else None


def with_measures(runs: pa.Table, trajectories: pa.Table | None, scenario: Scenario) -> pa.Table:
    """The runs table with a boolean `measure.<id>` column per measure the scenario declares."""
    answers = questions.evaluate(scenario.measures, runs.to_pandas(),
                                 trajectories.to_pandas() if trajectories is not None else None, scenario)
    for mid in scenario.measures:
        runs = runs.append_column(f"measure.{mid}", pa.array(answers[mid].to_numpy(dtype=bool)))
    return runs


def simulate_pack(tasks: Sequence[BlockTask]) -> list[BlockResult]:
    """Run blocks as one model, their replicates side by side, and give each its runs table (with
    its measures) as simulate_block would. The blocks' scenarios may differ only in per-run
    parameters (see experiments/packing.py), and none keeps trajectories."""
    if len(tasks) == 1:
        return [simulate_block(tasks[0])]
    if any(t.trajectories for t in tasks):
        raise ValueError("packed blocks keep no trajectories")
    freeze_imports()
    streams = PackedStreams([(_generator(t), t.size, t.scenario) for t in tasks])
    model = _finished(EscalationModel(tasks[0].scenario, replicates=streams.replicates, rng=streams))
    table = runs_table(model, 0)
    model.drop_round_state()
    needed = questions.trajectory_columns(tasks[0].scenario.measures, tasks[0].scenario)
    moves = trajectory_table(model, 0).select(needed) if needed else None
    assert table.column_names[0] == "run"
    del model
    _collect()
    results, offset = [], 0
    for task in tasks:
        first = task.block * BLOCK
        rows = table.slice(offset, task.size)
        if task.scenario.measures:
            mine = None
            if moves is not None:
                run = moves.column("run")
                mine = moves.filter(pc.and_(pc.greater_equal(run, offset), pc.less(run, offset + task.size)))
            rows = with_measures(rows, mine, task.scenario)
        rows = rows.set_column(0, table.schema.field("run"), pa.array(np.arange(first, first + task.size, dtype=np.int64)))
        results.append(BlockResult(task, rows, None))
        offset += task.size
    return results


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class WorkersCapped(UserWarning):
    """--workers asked for more processes than there are cores or pieces of work."""


def cap_workers(requested: int | None, units: int, unit: str = "block") -> int:
    """The worker processes to use: `requested` (default: the cores), at most the machine's cores
    and the `units` of work there are; a WorkersCapped warning says so when it cuts a request.
    A request below 1 is a ValueError."""
    if requested is not None and requested < 1:
        raise ValueError(f"--workers must be at least 1 (got {requested})")
    cores = default_workers()
    limit = max(1, min(cores, units))
    if requested is None:
        return limit
    if requested > limit:
        why = (f"the machine has {cores} core{'s' * (cores != 1)}" if cores <= units
               else f"there {'is' if units == 1 else 'are'} {units} {unit}{'s' * (units != 1)} of work")
        warnings.warn(f"--workers {requested}: using {limit} ({why})", WorkersCapped, stacklevel=2)
    return min(requested, limit)


def execute(tasks: Iterable[BlockTask], workers: int = 1) -> Iterator[BlockResult]:
    """Run blocks on `workers` local processes (1: in this process), yielding them in task order."""
    tasks = list(tasks)
    with LocalExecutor(workers if len(tasks) > 1 else 1) as executor:
        yield from executor.map(simulate_block, tasks)
