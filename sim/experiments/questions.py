"""Whether a yes/no question (scenario/questions.py) was answered yes in each run: one boolean per
run and question, from the results tables. The backtest's events and a scenario's measures are
both evaluated here.

Dates become rounds through the scenario's calendar: a question by date D counts the rounds that
start on or before D (round 1 starts on the scenario's start date); a window `since` D starts at
the round D falls in. Most kinds read `runs.parquet` alone; a question about a named target, a
standing activity, a window, a count, or an outcome within fewer rounds than the run reads the
trajectory columns `trajectory_columns` names.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..engine.tables import Tables, compile_tables
from ..scenario import Scenario
from ..scenario.questions import Question, actors_answering, horizon_round, window_rounds


def _in_force_at_start(scenario: Scenario, q: Question) -> bool:
    return any(m.action == q.action for a in actors_answering(q, scenario) for m in scenario.actors[a].activities)


def _needs_trajectories(q: Question, scenario: Scenario) -> bool:
    if q.kind == "in_force":
        return True
    if q.kind == "takes":
        assert q.actor is not None and q.action is not None
        return (q.target is not None or (q.rounds or 1) > 1 or q.since is not None or q.at_most is not None
                or _in_force_at_start(scenario, q))
    if q.kind == "outcome":
        return horizon_round(q, scenario) < scenario.rounds or q.since is not None
    return False


def trajectory_columns(questions: Mapping[str, Question], scenario: Scenario) -> list[str]:
    """The trajectories.parquet columns `evaluate` reads for these questions (empty: runs alone do)."""
    columns: list[str] = []
    for q in questions.values():
        if not _needs_trajectories(q, scenario):
            continue
        if q.kind == "outcome":
            wanted = [f"moves.{actor}" for actor in scenario.actors]
        else:
            kind = "activities" if q.kind == "in_force" else "moves"
            wanted = [f"{kind}.{actor}" for actor in actors_answering(q, scenario)]
        columns += [c for c in wanted if c not in columns]
    return ["run", "round", *columns] if columns else []


def evaluate(questions: Mapping[str, Question], runs: pd.DataFrame, trajectories: pd.DataFrame | None,
             scenario: Scenario) -> pd.DataFrame:
    """One row per run (in the order of `runs`), one boolean column per question: whether it
    was answered yes in that run by its horizon. The questions must have been checked against
    the scenario (question_problems)."""
    tables = compile_tables(scenario)
    per_round = _per_round(trajectories, runs, scenario) if trajectory_columns(questions, scenario) else None
    out = {qid: _happened(q, runs, per_round, scenario, tables) for qid, q in questions.items()}
    return pd.DataFrame(out, index=runs.index)


def _per_round(trajectories: pd.DataFrame | None, runs: pd.DataFrame, scenario: Scenario) -> dict[str, np.ndarray]:
    """Each trajectory column as a (run, round) array of uint64 masks, runs in the order of `runs`."""
    if trajectories is None:
        raise ValueError("these questions need the trajectories (see trajectory_columns), got none")
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


def _matching_bits(tables: Tables, q: Question, actor: str) -> np.uint64:
    assert q.action is not None
    target = None if q.target is None else tables.index(q.target)
    options = tables.options_matching(tables.index(actor), tables.action_index([q.action]), target)
    return _bits(tables, actor, options)


def _by(column: pd.Series, last: int) -> np.ndarray:
    """Runs whose round in `column` (null: never) is at most `last`."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    return np.nan_to_num(values, nan=np.inf) <= last


def _happened(q: Question, runs: pd.DataFrame, per_round: dict[str, np.ndarray] | None, scenario: Scenario,
              tables: Tables) -> np.ndarray:
    last = horizon_round(q, scenario)
    if q.kind == "red_line":
        return _by(runs[f"round.{q.red_line}"], last)
    if q.kind == "commitment" and q.status is not None:
        return (runs[f"status.{q.commitment}"].astype(str) == q.status).to_numpy()
    if q.kind == "commitment":
        return _by(runs[f"invoked.{q.commitment}"], last)
    if q.kind == "agreement":
        return _by(runs[f"agreed.{q.agreement}"], last)
    if q.kind == "outcome":
        return _outcome_reached(q, runs, per_round, scenario, tables, last)
    actors = actors_answering(q, scenario)
    if not _needs_trajectories(q, scenario):
        taken = np.zeros(len(runs), dtype=bool)
        for actor in actors:
            first = runs[f"first.{actor}.{q.action}"]
            taken |= _by(first, last) & (first.fillna(-1).to_numpy() >= 1)
        return taken
    assert per_round is not None
    kind = "activities" if q.kind == "in_force" else "moves"
    first, last = window_rounds(q, scenario)
    hits = np.zeros((len(runs), max(last - first + 1, 0)), dtype=bool)
    for actor in actors:
        hits |= (per_round[f"{kind}.{actor}"][:, first - 1:last] & _matching_bits(tables, q, actor)) != 0
    if q.through is not None:
        return hits.all(axis=1)
    count = hits.sum(axis=1)
    fewest = q.rounds if q.rounds is not None else 0 if q.at_most is not None else 1
    return (count >= fewest) & (count <= (last if q.at_most is None else q.at_most))


def _outcome_reached(q: Question, runs: pd.DataFrame, per_round: dict[str, np.ndarray] | None,
                     scenario: Scenario, tables: Tables, last: int) -> np.ndarray:
    """The run's outcome class is at least `at_least`: over the whole run from `outcome`; within
    fewer rounds or a window, from a new event (as the engine defines one) at a rung above the
    class below."""
    classes = list(scenario.outcomes.classes)
    rank = classes.index(str(q.at_least))
    if last >= scenario.rounds and q.since is None:
        codes = pd.Categorical(runs["outcome"].astype(str), categories=classes).codes
        return codes >= rank
    if rank == 0:
        return np.ones(len(runs), dtype=bool)
    assert per_round is not None
    first, last = window_rounds(q, scenario)
    hits = _new_above(per_round, scenario, tables, rank)
    return np.zeros(len(runs), dtype=bool) if hits is None else hits[:, first - 1:last].any(axis=1)


def _first_new_above(per_round: dict[str, np.ndarray], scenario: Scenario, tables: Tables, rank: int) -> np.ndarray:
    """Per run, the first round with a new event above the class below class `rank` (inf: none)."""
    hits = _new_above(per_round, scenario, tables, rank)
    if hits is None:
        return np.full(len(next(iter(per_round.values()))), np.inf)
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)


def _new_above(per_round: dict[str, np.ndarray], scenario: Scenario, tables: Tables, rank: int) -> np.ndarray | None:
    """(run, round): a new event above the class below class `rank` (None: no option can be one)."""
    from ..engine.model import EscalationModel

    classes = list(scenario.outcomes.classes)
    threshold = scenario.outcomes.classes[classes[rank - 1]].max_rung
    model = EscalationModel(scenario, replicates=1)
    new = model.new_above & (tables.rung[tables.action] > threshold)
    counting = model.class_counting[rank - 1]
    if counting >= 0 and model.countings[counting].options is not None:  # the class counts chosen dyads only
        new &= model.countings[counting].options
    hits: np.ndarray | None = None
    for actor in tables.actors:
        options = tables.of_actor[tables.index(actor)][new[tables.of_actor[tables.index(actor)]]]
        if len(options):
            mine = (per_round[f"moves.{actor}"] & _bits(tables, actor, options)) != 0
            hits = mine if hits is None else hits | mine
    return hits


def at_least_by_round(runs: pd.DataFrame, trajectories: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """P(class or worse by the end of each round) for every class that can be told before the end
    (the third class up): columns class, round, count, n. The last round counts the outcome."""
    classes = list(scenario.outcomes.classes)
    per_round = _per_round(trajectories, runs, scenario)
    tables = compile_tables(scenario)
    codes = pd.Categorical(runs["outcome"].astype(str), categories=classes).codes
    rows = []
    for rank in range(2, len(classes)):
        first = _first_new_above(per_round, scenario, tables, rank)
        for r in range(1, scenario.rounds + 1):
            count = int((codes >= rank).sum()) if r == scenario.rounds else int((first <= r).sum())
            rows.append({"class": classes[rank], "round": r, "count": count, "n": len(runs)})
    return pd.DataFrame(rows)
