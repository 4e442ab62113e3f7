"""Blocks of replicates, their seeds, and running them on local processes (see executors.py).

Runs are cut into blocks of a fixed size, BLOCK; block b of sweep point p draws from
SeedSequence(seed, spawn_key=(p, b)). Blocks are independent and results are consumed in block
order, so the numbers are the same whatever the number of workers or the executor.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from . import questions
from .executors import LocalExecutor
from ..engine.model import EscalationModel, block_generator
from ..engine.outcomes import runs_table, trajectory_table
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


def simulate_block(task: BlockTask) -> BlockResult:
    """Run one block to its last round and tabulate it."""
    rng = block_generator(task.seed, 0 if task.crn else task.point, task.block)
    model = EscalationModel(task.scenario, replicates=task.size, rng=rng)
    while model.running:
        model.step()
    runs, trajectories = tabulate(model, task.block * BLOCK, task.trajectories)
    result = BlockResult(task, runs, trajectories)
    # A Mesa model and its agents refer to each other, so a finished block's arrays (some 100 MB
    # at 10,000 replicates) would wait for the cyclic collector; free them before the next block.
    del model
    gc.collect()
    return result


def tabulate(model: EscalationModel, first: int, trajectories: bool = True) -> tuple[pa.Table, pa.Table | None]:
    """A finished block's runs table, with its measures, and (if asked) its trajectories; run ids
    from `first`. Runs and replays (sim trace) tabulate a block alike."""
    scenario = model.scenario
    needed = questions.trajectory_columns(scenario.measures, scenario)
    moves = trajectory_table(model, first) if trajectories or needed else None
    runs = runs_table(model, first)
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
