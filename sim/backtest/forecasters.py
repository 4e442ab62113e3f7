"""Reference forecasters: the simple forecasts a model of a crisis has to beat.

- `base_rate`: per kind of event (takes, in_force, ...), the share of the file's *other* events
  of that kind that happened, leave-one-out, with half an event added to each side (Jeffreys'
  prior) so that a kind with few events never says 0 or 1. Leave-one-out because an in-sample
  base rate would use the very answer it is scored on.
- `persistence`: the world goes on as it was. An event that names a series of the file's
  climatology record recurs at that series' recent rate (the share of the record's last twelve
  months with one: North Korea kept testing missiles, so persistence says it will). Otherwise
  what was in force at the start stays in force (an activity, an agreement), nothing new starts,
  no line is crossed, no commitment invoked, and the outcome stays at the lowest class that
  needs nothing stopped (probabilities 0 or 1).
- `climatology` (when the file names a record): an event that names a series gets the chance
  of at least its `rounds` (default 1) months with an occurrence within its horizon, at the
  series' monthly rate over the whole record (sim.backtest.climatology); an event that names
  none gets persistence's starting-state rule, 0 or 1.
- `always_0.5`: says 0.5 to everything (Brier 0.25, log score ln 2 = 0.693 whatever happens).
- Forecasters stated in the events file, by name (`default: climatology` fills the events a
  published forecast does not cover with climatology's).
"""

from __future__ import annotations

import numpy as np

from ..scenario import Scenario
from ..scenario.questions import window_rounds
from .climatology import at_least
from .construction import standing_at_start
from .events import Event, Events

JEFFREYS = 0.5


def base_rate(events: Events) -> dict[str, float]:
    """Leave-one-out base rate of each event's kind (all other events when it is its kind's only one)."""
    ids = list(events.events)
    happened = np.array([events.events[e].happened for e in ids], dtype=float)
    kinds = np.array([events.events[e].kind for e in ids])
    out = {}
    for i, eid in enumerate(ids):
        others = np.arange(len(ids)) != i
        same = others & (kinds == kinds[i])
        pool = same if same.any() else others
        out[eid] = float((happened[pool].sum() + JEFFREYS) / (pool.sum() + 2 * JEFFREYS))
    return out


def persistence(events: Events, scenario: Scenario) -> dict[str, float]:
    """A recurring event at its recent rate; otherwise 1 for what the start has and keeps, 0 for anything new."""
    return {eid: _from_record(event, scenario, events.record.recent_rate(event.climatology))
            if events.record is not None and event.climatology is not None else _persists(event, scenario)
            for eid, event in events.events.items()}


def climatology(events: Events, scenario: Scenario) -> dict[str, float]:
    """Each event at its series' monthly rate over the whole record (persistence's rule without one)."""
    assert events.record is not None
    return {eid: _from_record(event, scenario, events.record.rate(event.climatology))
            if event.climatology is not None else _persists(event, scenario)
            for eid, event in events.events.items()}


def _from_record(event: Event, scenario: Scenario, rate: float) -> float:
    """P(the event's count of months in its window lies in its bounds), months independent."""
    first, last = window_rounds(event, scenario)
    months = last - first + 1
    if event.through is not None:
        return rate**months
    fewest = event.rounds if event.rounds is not None else 0 if event.at_most is not None else 1
    too_many = 0.0 if event.at_most is None else at_least(rate, months, event.at_most + 1)
    return at_least(rate, months, fewest) - too_many


def _persists(event: Event, scenario: Scenario) -> float:
    if event.kind in ("takes", "in_force") and event.at_most is not None:
        first, last = window_rounds(event, scenario)
        count = last - first + 1 if event.kind == "in_force" and standing_at_start(event, scenario) else 0
        return float((event.rounds or 0) <= count <= event.at_most)
    if event.kind == "in_force":
        return float(standing_at_start(event, scenario))
    if event.kind == "agreement":
        return float(scenario.agreements[str(event.agreement)].in_force)
    if event.kind == "outcome":
        classes = list(scenario.outcomes.classes)
        unchanged = 1 if scenario.outcomes.classes[classes[0]].easing else 0  # nothing stopped, nothing new
        return float(classes.index(str(event.at_least)) <= unchanged)
    return 0.0  # takes, red_line, commitment: nothing new happens


def always(events: Events, p: float = 0.5) -> dict[str, float]:
    return {eid: p for eid in events.events}


def stated(events: Events, fallback: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """The events file's own forecasters: each event's stated probability, else the default
    (`fallback`, climatology's forecasts, for `default: climatology`)."""
    out = {}
    for name, f in events.forecasters.items():
        default = {eid: f.default for eid in events.events} if f.default not in (None, "climatology") else \
            fallback if f.default == "climatology" and fallback is not None else {}
        out[name] = {eid: f.probabilities.get(eid, default.get(eid, np.nan)) for eid in events.events}
    return out


def reference_forecasts(events: Events, scenario: Scenario) -> dict[str, dict[str, float]]:
    """Every reference forecaster's probability for every event, by forecaster name."""
    record = {"climatology": climatology(events, scenario)} if events.record is not None else {}
    return {"base_rate": base_rate(events), "persistence": persistence(events, scenario), **record,
            "always_0.5": always(events), **stated(events, record.get("climatology"))}
