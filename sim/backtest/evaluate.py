"""Whether each event of a record happened in each run: the record's events checked against the
scenario and located in the events file, then evaluated as questions (experiments/questions.py)."""

from __future__ import annotations

import pandas as pd

from ..experiments import questions
from ..experiments.ensemble import BlockResult
from ..scenario import Scenario, ScenarioError
from ..scenario.calendar import round_of
from ..scenario.questions import Question, horizon_round, question_problems
from .events import Events

__all__ = ["check_events", "evaluate", "evaluate_result", "horizon_round", "round_of", "trajectory_columns"]


def check_events(events: Events, scenario: Scenario) -> None:
    """Every actor, action, red line, commitment, agreement and class an event names exists in
    `scenario`, the actor may take the action (toward the target), and each horizon lies within
    the run; ScenarioError locating each problem in the events file."""
    problems = [events.problem(("events", *path), message)
                for path, message in question_problems(events.events, scenario)]
    if problems:
        raise ScenarioError(problems)


def trajectory_columns(events: Events, scenario: Scenario) -> list[str]:
    """The trajectories.parquet columns `evaluate` reads for these events (empty: runs alone do)."""
    return questions.trajectory_columns(_yes_no(events), scenario)


def evaluate(events: Events, runs: pd.DataFrame, trajectories: pd.DataFrame | None,
             scenario: Scenario) -> pd.DataFrame:
    """One row per run (in the order of `runs`), one boolean column per event: whether it
    happened in that run by its horizon."""
    check_events(events, scenario)
    return questions.evaluate(_yes_no(events), runs, trajectories, scenario)


def _yes_no(events: Events) -> dict[str, Question]:
    return {eid: event.as_yes_no() for eid, event in events.events.items()}


def evaluate_result(events: Events, block: BlockResult, scenario: Scenario) -> pd.DataFrame:
    """`evaluate` on a freshly simulated block, reading only the trajectory columns the events need."""
    columns = trajectory_columns(events, scenario)
    trajectories = block.trajectories.select(columns).to_pandas() if columns and block.trajectories else None
    return evaluate(events, block.runs.to_pandas(), trajectories, scenario)
