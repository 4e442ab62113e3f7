"""Per-run outcomes of a finished block, as Arrow tables (docs/design.md, "Results contract", runs.parquet).

Outcome classes measure the largest change from the starting situation: the highest *new*
rung (`new_rung`), that of an event (a start or a move with positive escalation points) above
the rung its actor already had in force against the same party at the start. `peak_rung` is
the highest rung of any event (start or move) at all. The first class may require *easing* (an activity of
the start stopped, or an agreement in force, at the end). A class may count only some events
(`scripted: false` leaves out those an inject forced, `between` keeps those of the listed dyads):
a run falls in the first class whose `max_rung` covers the highest new rung among the events that
class counts, so a scripted opening attack need not push every run out of the lower classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .causes import INJECT
from .commitments import STATUSES

if TYPE_CHECKING:
    from .model import EscalationModel


def eased(model: EscalationModel) -> np.ndarray:
    """Runs that end with an activity of the start stopped or an agreement in force."""
    stopped = (model.start_force[:, None] & ~model.in_force).any(axis=0)
    return stopped | model.agreed.any(axis=0)


@dataclass(frozen=True)
class Counting:
    """The events an outcome class counts: those of `options` (None: every option), and those an
    inject forced only when `scripted`."""

    options: np.ndarray | None  # (O,) bool
    scripted: bool


def class_countings(model: EscalationModel) -> tuple[list[Counting], list[int]]:
    """The distinct countings of the classes that do not count every event, and per class the
    index of its counting (-1: every event, read from `peak_new`)."""
    t, countings, index = model.tables, [], []
    for c in model.scenario.outcomes.classes.values():
        if c.scripted and not c.between:
            index.append(-1)
            continue
        options = None
        if c.between:
            dyads = {(t.index(a), t.index(b)) for a, b in c.between}
            dyads |= {(b, a) for a, b in dyads}
            options = np.array([(int(i), int(j)) in dyads for i, j in zip(t.actor, t.against)], dtype=bool)
        counting = Counting(options, c.scripted)
        match = [k for k, known in enumerate(countings)
                 if known.scripted == counting.scripted and np.array_equal(known.options, counting.options)]
        if not match:
            countings.append(counting)
        index.append(match[0] if match else len(countings) - 1)
    return countings, index


def record_counted(model: EscalationModel) -> None:
    """Raise each counting's highest new rung (`peak_counted`) by the round's events it counts."""
    if not model.countings:
        return
    scripted = model.forced_start & (model.forced_cause == INJECT) & ~model.incident
    for k, counting in enumerate(model.countings):
        counted = model.events if counting.scripted else model.events & ~scripted
        if counting.options is not None:
            counted = counted & counting.options[:, None]
        peak = np.where(counted, model._new_rung, 0).max(axis=0)
        np.maximum(model.peak_counted[k], peak, out=model.peak_counted[k])


def outcome_class(model: EscalationModel) -> np.ndarray:
    """Index of the first outcome class whose max_rung covers each run's highest new rung among
    the events the class counts (the first, with easing, only where the run eased)."""
    classes = list(model.scenario.outcomes.classes.values())
    code = np.full(model.replicates, len(classes) - 1)
    for c in reversed(range(len(classes))):
        k = model.class_counting[c]
        fits = (model.peak_new if k < 0 else model.peak_counted[k]) <= classes[c].max_rung
        if c == 0 and classes[0].easing:
            fits &= eased(model)
        code = np.where(fits, c, code)
    return code


def settled(model: EscalationModel) -> np.ndarray:
    """Runs that escalated and ended back at or below the start: nothing new in force or taken
    in the last round above the rung its actor had against that party at the start."""
    still = (model.last_active & model.new_above[:, None]).any(axis=0)
    return (model.peak_new > 0) & ~still


def _categorical(codes: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    # int8 codes as always, wider only where there are more labels than int8 holds (many actors)
    width = np.int8 if len(labels) <= np.iinfo(np.int8).max else np.int32
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(width)), pa.array(labels))


def _round_or_null(rounds: np.ndarray, never: int = 0) -> pa.Array:
    return pa.array(rounds.astype(np.int16), mask=rounds == never)


def _highest_rung(active: np.ndarray, rung: np.ndarray) -> np.ndarray:
    """(R,): the highest rung among each run's `active` (O, R) options, 0 if none: a rung at a
    time, as an (O, R) array of rungs would be 8 bytes a cell (76 MB at 950 options, 10,000 runs)."""
    final = np.zeros(active.shape[1], dtype=rung.dtype)
    for level in np.unique(rung[rung > 0]):  # ascending: the highest one set last
        final[active[rung == level].any(axis=0)] = level
    return final


def runs_table(model: EscalationModel, first_run: int) -> pa.Table:
    """One row per replicate: outcome, rungs, score, red lines, commitments, agreements, what each
    actor did and when, and the sampled parameters."""
    t, s = model.tables, model.scenario
    final = _highest_rung(model.last_active, model.option_rung)
    columns: dict[str, pa.Array] = {
        "run": pa.array(np.arange(first_run, first_run + model.replicates, dtype=np.int64)),
        "outcome": _categorical(outcome_class(model), list(s.outcomes.classes)),
        "settled": pa.array(settled(model)),
        "peak_round": _round_or_null(model.peak_round),
        "peak_rung": pa.array(model.peak_event_actor.max(axis=0).astype(np.int16)),
        "new_rung": pa.array(model.peak_new.astype(np.int16)),
        "final_rung": pa.array(final.astype(np.int16)),
        "escalation_score": pa.array(model.score_total / s.rounds),
    }
    for i, actor in enumerate(t.actors):
        columns[f"peak_rung.{actor}"] = pa.array(model.peak_event_actor[i].astype(np.int16))
        columns[f"new_rung.{actor}"] = pa.array(model.peak_new_actor[i].astype(np.int16))
    for line in model.red_lines:
        # the fact (the trigger happened) and what the owner saw, which alone it enforces
        seen = model.first_crossed[line.index] > 0
        columns[f"crossed.{line.id}"] = pa.array(model.first_fact[line.index] > 0)
        columns[f"seen.{line.id}"] = pa.array(seen)
        columns[f"enforced.{line.id}"] = pa.array(model.enforced_first[line.index], mask=~seen)
        columns[f"round.{line.id}"] = _round_or_null(model.first_fact[line.index])
    for c in model.commitments:
        columns[f"status.{c.id}"] = _categorical(model.status[c.index], list(STATUSES))
        columns[f"invoked.{c.id}"] = _round_or_null(model.first_invoked[c.index])
    for g in model.agreements:
        columns[f"agreed.{g.id}"] = _round_or_null(model.first_agreed[g.index], never=-1)
        columns[f"in_force.{g.id}"] = pa.array(model.agreed[g.index])
    A = len(t.actions)
    names = [f"{t.actors[key // A]}.{t.actions[key % A]}" for key in model.by_actor_action.keys]
    for g, name in enumerate(names):
        columns[f"first.{name}"] = _round_or_null(model.first_taken[g], never=-1)
    for g, name in enumerate(names):
        columns[f"rounds.{name}"] = pa.array(model.rounds_taken[g])
    for name, peak in peak_levels(model).items():
        columns[f"level.{name}"] = pa.array(peak)
    for path, values in model.params.sampled.items():
        columns[f"param.{path}"] = pa.array(values)
    return pa.table(columns)


def peak_levels(model: EscalationModel) -> dict[str, np.ndarray]:
    """Per `actor.action` of an activity with levels, the highest level it reached toward any
    target in each run (int8; 0: never in force)."""
    t, out = model.tables, {}
    for k, option in enumerate(model.leveled):
        name = f"{t.actors[t.actor[option]]}.{t.actions[t.action[option]]}"
        out[name] = np.maximum(out.get(name, 0), model.peak_level[k]).astype(np.int8)
    return out


def _actor_masks(history: np.ndarray, options: np.ndarray, replicates: int) -> np.ndarray:
    """One uint64 per run and round (run-major) from (rounds, O, R / 8) flags packed along the
    replicates (model.history_events): bit j for the actor's j-th option."""
    mask = np.zeros((len(history), replicates), dtype=np.uint64)  # (rounds, R)
    for j, option in enumerate(options):
        flags = np.unpackbits(history[:, option], axis=-1, count=replicates)
        mask |= flags.astype(np.uint64) << np.uint64(j)
    return mask.T.ravel()


def option_labels(model: EscalationModel) -> dict[str, list[str]]:
    """Per actor, the `action>target` of each bit of its `moves.` and `activities.` masks."""
    t = model.tables
    return {
        actor: [f"{t.actions[t.action[o]]}>{t.actors[t.target[o]]}" for o in t.of_actor[i]]
        for i, actor in enumerate(t.actors)
    }


def trajectory_table(model: EscalationModel, first_run: int) -> pa.Table:
    """Long format, run by run: one row per run and round. Per actor: `action.`/`target.` its
    highest-rung event of the round, the neutral action when it had none (categories), `moves.`
    a bit mask of its events
    (starts and moves) and `activities.` one of its activities in force; the schema metadata
    `options` names each bit."""
    t = model.tables
    rounds, _, replicates = model.history_top.shape
    columns: dict[str, pa.Array] = {
        "run": pa.array(np.repeat(np.arange(first_run, first_run + replicates, dtype=np.int64), rounds)),
        "round": pa.array(np.tile(np.arange(1, rounds + 1, dtype=np.int16), replicates)),
    }
    for i, actor in enumerate(t.actors):
        top = model.history_top[:, i].T.ravel().astype(np.int64)
        option = np.where(top >= 0, top, t.of_actor[i][0])
        action = np.where(top >= 0, t.action[option], t.neutral)
        target = np.where(top >= 0, t.target[option], t.target[t.of_actor[i][0]])
        columns[f"action.{actor}"] = _categorical(action, list(t.actions))
        columns[f"target.{actor}"] = _categorical(target, list(t.actors))
        columns[f"moves.{actor}"] = pa.array(_actor_masks(model.history_events, t.of_actor[i], replicates))
        columns[f"activities.{actor}"] = pa.array(_actor_masks(model.history_activities, t.of_actor[i], replicates))
    table = pa.table(columns)
    return table.replace_schema_metadata({"options": json.dumps(option_labels(model))})
