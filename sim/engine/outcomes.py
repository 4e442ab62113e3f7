"""Per-run outcomes of a finished block, as Arrow tables (DESIGN section 5, runs.parquet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .redlines import STATUSES

if TYPE_CHECKING:
    from .model import EscalationModel


def outcome_class(model: EscalationModel, peak: np.ndarray) -> np.ndarray:
    """Index of the first outcome class whose max_rung covers each run's peak rung."""
    limits = np.array([c.max_rung for c in model.scenario.outcomes.classes.values()])
    return np.searchsorted(limits, peak, side="left")


def _categorical(codes: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(labels))


def _round_or_null(rounds: np.ndarray) -> pa.Array:
    return pa.array(rounds.astype(np.int16), mask=rounds == 0)


def runs_table(model: EscalationModel, first_run: int) -> pa.Table:
    """One row per replicate: outcome, rungs, score, red lines, commitments, first moves, parameters."""
    t, s = model.tables, model.scenario
    peak = model.peak_rung.max(axis=1)
    columns: dict[str, pa.Array] = {
        "run": pa.array(np.arange(first_run, first_run + model.replicates, dtype=np.int64)),
        "outcome": _categorical(outcome_class(model, peak), list(s.outcomes.classes)),
        "peak_rung": pa.array(peak.astype(np.int16)),
        "final_rung": pa.array(t.rung[model.action].max(axis=1).astype(np.int16)),
        "escalation_score": pa.array(model.score_total / s.rounds),
    }
    for i, actor in enumerate(t.actors):
        columns[f"peak_rung.{actor}"] = pa.array(model.peak_rung[:, i].astype(np.int16))
    for line in model.red_lines:
        crossed = model.first_crossed[:, line.index] > 0
        columns[f"crossed.{line.id}"] = pa.array(crossed)
        columns[f"enforced.{line.id}"] = pa.array(model.enforced_first[:, line.index], mask=~crossed)
        columns[f"round.{line.id}"] = _round_or_null(model.first_crossed[:, line.index])
    for c in model.commitments:
        columns[f"status.{c.id}"] = _categorical(model.status[:, c.index], list(STATUSES))
    for i, actor in enumerate(t.actors):
        for k in np.unique(t.options[i].action):
            columns[f"first.{actor}.{t.actions[k]}"] = _round_or_null(model.first_taken[:, i, k])
    for path, values in model.draws.sampled.items():
        columns[f"param.{path}"] = pa.array(values)
    return pa.table(columns)


def trajectory_table(model: EscalationModel, first_run: int) -> pa.Table:
    """Long format, run by run: one row per run and round, each actor's action and target as categories."""
    t = model.tables
    rounds, replicates, _ = model.history_action.shape
    columns: dict[str, pa.Array] = {
        "run": pa.array(np.repeat(np.arange(first_run, first_run + replicates, dtype=np.int64), rounds)),
        "round": pa.array(np.tile(np.arange(1, rounds + 1, dtype=np.int16), replicates)),
    }
    for i, actor in enumerate(t.actors):
        columns[f"action.{actor}"] = _categorical(model.history_action[:, :, i].T.ravel(), list(t.actions))
        columns[f"target.{actor}"] = _categorical(model.history_target[:, :, i].T.ravel(), list(t.actors))
    return pa.table(columns)
