"""Blocks of runs with every event of a record evaluated where they ran: the unit of work that
calibration and conditional forecasts hand to an executor (local processes or Dask).

A block's trajectories are read only for the events that need them and never leave the worker:
what comes back is one boolean per run and event, plus the runs table when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from ..experiments import ensemble
from ..experiments.ensemble import BlockTask
from ..experiments.executors import Executor
from .evaluate import evaluate_result, trajectory_columns
from .events import Events


@dataclass(frozen=True)
class EventTask:
    """One block to run and the events to evaluate in it; `keep_runs` returns its runs table too,
    `columns` (runs.parquet columns, such as the sampled `param.<path>`) just those, as floats."""

    block: BlockTask
    events: Events
    keep_runs: bool = False
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluatedBlock:
    """A block's (runs, events) booleans in the events file's order, its runs if kept, and the
    (runs, columns) values of the columns asked for."""

    task: EventTask
    hits: np.ndarray
    runs: pa.Table | None
    values: np.ndarray | None = None


def evaluate_block(task: EventTask) -> EvaluatedBlock:
    """Run the block and evaluate every event in every run."""
    scenario = task.block.scenario
    wanted = bool(trajectory_columns(task.events, scenario))
    block = ensemble.simulate_block(replace(task.block, trajectories=wanted))
    hits = evaluate_result(task.events, block, scenario).to_numpy(dtype=bool)
    values = (np.column_stack([block.runs.column(c).to_numpy().astype(float) for c in task.columns])
              if task.columns else None)
    return EvaluatedBlock(task, hits, block.runs if task.keep_runs else None, values)


def evaluate_blocks(executor: Executor, tasks: Iterable[EventTask]) -> Iterator[EvaluatedBlock]:
    """Every task evaluated on `executor`, in task order (so results do not depend on the workers)."""
    return executor.map(evaluate_block, tasks)
