"""Whether each event happened in each run: one boolean per run and event, from the results tables.

Dates become rounds through the scenario's calendar: an event by date D counts the rounds that
start on or before D (round 1 starts on the scenario's start date). Most kinds read
`runs.parquet` alone; an event toward a named target, a standing activity, or an outcome
within fewer rounds than the run reads the trajectory columns `trajectory_columns` names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ..engine.clock import Clock
from ..engine.tables import Tables, compile_tables
from ..experiments.ensemble import BlockResult
from ..scenario import Problem, Scenario, ScenarioError
from .events import Event, Events


def round_of(day: dt.date, scenario: Scenario) -> int:
    """The number of rounds that have started by `day` (0 before the start)."""
    clock = Clock.of(scenario)
    return sum(1 for r in range(1, scenario.rounds + 2) if clock.date(r) <= day)


def horizon_round(event: Event, scenario: Scenario) -> int:
    """The last round an event may happen in to count (a rate with no `by`: the whole run)."""
    if event.kind == "rate" and event.by is None:
        return scenario.rounds
    horizon = event.horizon
    return horizon if isinstance(horizon, int) else round_of(horizon, scenario)


def check_events(events: Events, scenario: Scenario) -> None:
    """Every actor, action, red line, commitment, agreement and class an event names exists in
    `scenario`, the actor may take the action (toward the target), and each horizon lies within
    the run; ScenarioError locating each problem in the events file."""
    problems = list(_problems(events, scenario))
    if problems:
        raise ScenarioError(problems)


def _unknown(what: str, found: str, choices: list[str]) -> str:
    from ..scenario.errors import did_you_mean

    return f"unknown {what} (expected one of: {', '.join(choices)}, got '{found}'){did_you_mean(found, choices)}"


def _problems(events: Events, scenario: Scenario) -> Iterator[Problem]:
    for eid, event in events.events.items():
        at = ("events", eid)
        for field, section in (("red_line", scenario.red_lines), ("commitment", scenario.commitments),
                               ("agreement", scenario.agreements), ("at_least", scenario.outcomes.classes)):
            value = getattr(event, field)
            if value is not None and value not in section:
                yield events.problem((*at, field), _unknown(field.replace("_", " ") if field != "at_least"
                                                            else "outcome class", value, list(section)))
        yield from _option_problems(events, eid, event, scenario)
        last = horizon_round(event, scenario)
        classes = list(scenario.outcomes.classes)
        if (event.at_least in classes[1:2] and scenario.outcomes.classes[classes[0]].easing
                and last < scenario.rounds):
            yield events.problem((*at, "at_least"), f"'{classes[1]}' is told from '{classes[0]}' only at the end "
                                                    f"of a run (expected a horizon of {scenario.rounds} rounds, "
                                                    f"got {last})")
        field = "by" if event.by is not None else "date"
        if last < 1:
            yield events.problem((*at, field), f"horizon before the scenario's start (expected {scenario.start} "
                                               f"or later, got {event.horizon})")
        elif last > scenario.rounds:
            yield events.problem((*at, field), f"horizon beyond the run (expected at most round {scenario.rounds}, "
                                               f"the scenario's last, got {event.horizon}: round {last})")


def _option_problems(events: Events, eid: str, event: Event, scenario: Scenario) -> Iterator[Problem]:
    at = ("events", eid)
    if event.actor is None or event.action is None:
        return
    if event.actor not in scenario.actors:
        yield events.problem((*at, "actor"), _unknown("actor", event.actor, list(scenario.actors)))
        return
    if event.action not in scenario.actions:
        yield events.problem((*at, "action"), _unknown("action", event.action, list(scenario.actions)))
        return
    action = scenario.actions[event.action]
    targets = action.allowed.get(event.actor, [])
    if not targets:
        yield events.problem((*at, "action"), f"{event.actor} may not take {event.action} in this scenario "
                                              f"(expected an action it is allowed, got '{event.action}')")
    elif event.target is not None and event.target not in targets:
        yield events.problem((*at, "target"), f"{event.actor} may take {event.action} only toward "
                                              f"{', '.join(targets)} (got '{event.target}')")
    if event.kind == "in_force" and action.kind != "activity":
        yield events.problem((*at, "action"), f"not an activity (expected an action of kind activity, got "
                                              f"'{event.action}', a move)")
    if event.rounds is not None and event.rounds > horizon_round(event, scenario):
        yield events.problem((*at, "rounds"), f"more rounds than the horizon holds (expected at most "
                                              f"{horizon_round(event, scenario)}, got {event.rounds})")


def _in_force_at_start(scenario: Scenario, actor: str, action: str) -> bool:
    return any(m.action == action for m in scenario.actors[actor].activities)


def _needs_trajectories(event: Event, scenario: Scenario) -> bool:
    event = event.as_yes_no()
    if event.kind == "in_force":
        return True
    if event.kind == "takes":
        assert event.actor is not None and event.action is not None
        return (event.target is not None or (event.rounds or 1) > 1
                or _in_force_at_start(scenario, event.actor, event.action))
    if event.kind == "outcome":
        return horizon_round(event, scenario) < scenario.rounds
    return False


def trajectory_columns(events: Events, scenario: Scenario) -> list[str]:
    """The trajectories.parquet columns `evaluate` reads for these events (empty: runs alone do)."""
    columns: list[str] = []
    for event in (e.as_yes_no() for e in events.events.values()):
        if not _needs_trajectories(event, scenario):
            continue
        if event.kind == "outcome":
            wanted = [f"moves.{actor}" for actor in scenario.actors]
        else:
            wanted = [f"{'activities' if event.kind == 'in_force' else 'moves'}.{event.actor}"]
        columns += [c for c in wanted if c not in columns]
    return ["run", "round", *columns] if columns else []


def evaluate(events: Events, runs: pd.DataFrame, trajectories: pd.DataFrame | None,
             scenario: Scenario) -> pd.DataFrame:
    """One row per run (in the order of `runs`), one boolean column per event: whether it
    happened in that run by its horizon."""
    check_events(events, scenario)
    tables = compile_tables(scenario)
    per_round = _per_round(trajectories, runs, scenario) if trajectory_columns(events, scenario) else None
    out = {eid: _happened(event, runs, per_round, scenario, tables) for eid, event in events.events.items()}
    return pd.DataFrame(out, index=runs.index)


def evaluate_result(events: Events, block: BlockResult, scenario: Scenario) -> pd.DataFrame:
    """`evaluate` on a freshly simulated block, reading only the trajectory columns the events need."""
    columns = trajectory_columns(events, scenario)
    trajectories = block.trajectories.select(columns).to_pandas() if columns and block.trajectories else None
    return evaluate(events, block.runs.to_pandas(), trajectories, scenario)


def _per_round(trajectories: pd.DataFrame | None, runs: pd.DataFrame, scenario: Scenario) -> dict[str, np.ndarray]:
    """Each trajectory column as a (run, round) array of uint64 masks, runs in the order of `runs`."""
    if trajectories is None:
        raise ValueError("these events need the trajectories (see trajectory_columns), got none")
    index = pd.Index(runs["run"].to_numpy())
    row = index.get_indexer(trajectories["run"].to_numpy())
    col = trajectories["round"].to_numpy().astype(np.int64) - 1
    if (row < 0).any() or len(trajectories) != len(runs) * scenario.rounds:
        raise ValueError("trajectories do not match the runs (expected every round of every run once)")
    masks = {}
    for name in trajectories.columns:
        if name.startswith(("moves.", "activities.")):
            grid = np.zeros((len(runs), scenario.rounds), dtype=np.uint64)
            grid[row, col] = trajectories[name].to_numpy().astype(np.uint64)
            masks[name] = grid
    return masks


def _bits(tables: Tables, actor: str, options: np.ndarray) -> np.uint64:
    """The mask of `options` (option indices) among the actor's bits (tables.of_actor order)."""
    mine = list(tables.of_actor[tables.index(actor)])
    return np.uint64(sum(1 << mine.index(o) for o in options))


def _matching_bits(tables: Tables, event: Event) -> np.uint64:
    assert event.actor is not None and event.action is not None
    target = None if event.target is None else tables.index(event.target)
    options = tables.options_matching(tables.index(event.actor), tables.action_index([event.action]), target)
    return _bits(tables, event.actor, options)


def _by(column: pd.Series, last: int) -> np.ndarray:
    """Runs whose round in `column` (null: never) is at most `last`."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    return np.nan_to_num(values, nan=np.inf) <= last


def _happened(event: Event, runs: pd.DataFrame, per_round: dict[str, np.ndarray] | None, scenario: Scenario,
              tables: Tables) -> np.ndarray:
    last = horizon_round(event, scenario)
    event = event.as_yes_no()
    if event.kind == "red_line":
        return _by(runs[f"round.{event.red_line}"], last)
    if event.kind == "commitment":
        return _by(runs[f"invoked.{event.commitment}"], last)
    if event.kind == "agreement":
        return _by(runs[f"agreed.{event.agreement}"], last)
    if event.kind == "outcome":
        return _outcome_reached(event, runs, per_round, scenario, tables, last)
    if not _needs_trajectories(event, scenario):
        first = runs[f"first.{event.actor}.{event.action}"]
        return _by(first, last) & (first.fillna(-1).to_numpy() >= 1)
    assert per_round is not None
    bits = _matching_bits(tables, event)
    name = f"{'activities' if event.kind == 'in_force' else 'moves'}.{event.actor}"
    hits = (per_round[name][:, :last] & bits) != 0
    return hits.sum(axis=1) >= (event.rounds or 1)


def _outcome_reached(event: Event, runs: pd.DataFrame, per_round: dict[str, np.ndarray] | None,
                     scenario: Scenario, tables: Tables, last: int) -> np.ndarray:
    """The run's outcome class is at least `at_least`: over the whole run from `outcome`; within
    fewer rounds, from a new event (as the engine defines one) at a rung above the class below."""
    classes = list(scenario.outcomes.classes)
    rank = classes.index(str(event.at_least))
    if last >= scenario.rounds:
        codes = pd.Categorical(runs["outcome"].astype(str), categories=classes).codes
        return codes >= rank
    if rank == 0:
        return np.ones(len(runs), dtype=bool)
    from ..engine.model import EscalationModel

    assert per_round is not None
    threshold = scenario.outcomes.classes[classes[rank - 1]].max_rung
    new = EscalationModel(scenario, replicates=1).new_above & (tables.rung[tables.action] > threshold)
    reached = np.zeros(len(runs), dtype=bool)
    for actor in tables.actors:
        options = tables.of_actor[tables.index(actor)][new[tables.of_actor[tables.index(actor)]]]
        if len(options):
            reached |= ((per_round[f"moves.{actor}"][:, :last] & _bits(tables, actor, options)) != 0).any(axis=1)
    return reached

