"""Events true by construction: what the scenario starts with, asked to persist.

Such an event scores the scenario's starting state and the persistence the model gives it, not
a forecast (a model that keeps its standing activities says 99% and is right, and so is the
simplest persistence), so the backtest's headline leaves it out and reports it apart. Found
from the scenario, not the events file, because the scenario says what is in force at the
start and a file written for one scenario may be scored on another; a file may add events
(`by_construction: true`), never take one away.
"""

from __future__ import annotations

from ..scenario import Scenario
from ..scenario.calendar import from_round
from ..scenario.questions import actors_answering
from .events import Event


def true_by_construction(event: Event, scenario: Scenario) -> bool:
    """An `in_force` event on an activity the actor starts with (toward the target, if named; not
    one that asks for `at_most` rounds),
    an `agreement` in force at the start, an `outcome` at the lowest class, or one declared so."""
    if event.by_construction:
        return True
    if event.kind == "in_force" and event.at_most is None:
        return standing_at_start(event, scenario)
    if event.kind == "agreement":
        agreement = scenario.agreements[str(event.agreement)]
        return agreement.in_force and from_round(agreement.from_, scenario) == 0
    if event.kind == "outcome":
        return str(event.at_least) == next(iter(scenario.outcomes.classes))
    return False


def standing_at_start(event: Event, scenario: Scenario) -> bool:
    """The event's actor (or the proxies it acts through) starts with the event's activity in force
    (toward its target, if named)."""
    return any(m.action == event.action and event.target in (None, m.target)
               for actor in actors_answering(event, scenario) for m in scenario.actors[actor].activities)
