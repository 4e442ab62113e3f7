"""The events file: a dated record of yes/no questions, each defined over the results contract.

An event says *what* happened (a declarative `kind` with its fields, no code), *whether* it
happened by its horizon, *when*, how sure the record is, and where that is published. The
file is read with the scenario language's YAML machinery, so every problem comes back at
once as `FILE:LINE:COL: PATH: what was expected, what was found` (exit 2 on the command line).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..scenario.citations import DeclaredReference
from ..scenario.errors import Problem, ScenarioError
from ..scenario.loader import locate, problems_from_pydantic
from ..scenario.sources import load_digest
from ..scenario.yamlio import Locations, read_yaml

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
RoundCount = Annotated[int, Field(ge=1, le=600)]
Kind = Literal["takes", "in_force", "red_line", "commitment", "agreement", "outcome", "rate"]
Sure = Literal["high", "moderate", "low"]

# How likely the record is right, by how sure it says it is: Sherman Kent's estimative words
# (Kent 1964, "Words of Estimative Probability"): "almost certain" 93%, "probable" 75%; "low"
# is judgement, a little better than Kent's "chances about even" (50%): a reported but
# unconfirmed fact is still more likely true than not.
SURE: dict[str, float] = {"high": 0.93, "moderate": 0.75, "low": 0.6}

# The fields each kind needs; any other kind field on an event is a mistake.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "takes": ("actor", "action"),
    "in_force": ("actor", "action", "rounds"),
    "red_line": ("red_line",),
    "commitment": ("commitment",),
    "agreement": ("agreement",),
    "outcome": ("at_least",),
    "rate": (),  # either an outcome class (at_least) or an actor's action (actor, action, target): see Rate
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {"takes": ("target", "rounds"), "in_force": ("target",),
                                               "rate": ("at_least", "actor", "action", "target")}
BUILT_IN_FORECASTERS = ("model", "base_rate", "persistence", "always_0.5")
ALL_KIND_FIELDS = ("actor", "action", "target", "rounds", "red_line", "commitment", "agreement", "at_least")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Source(_Block):
    """A published report the record rests on, given in place (or cite a reference id)."""

    title: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    date: dt.date | None = None
    note: str = ""


Count = Annotated[int, Field(ge=0, le=100_000)]


class Rate(_Block):
    """What a long record says about how often something happens: at least and/or at most
    `at_least`..`at_most` times in `months` months. `factor` is the stated uncertainty: how far
    (a factor, one standard deviation on the log scale) the record's rate may stand from the
    modelled world's, because the record's years are not the world's months."""

    at_least: Count | None = None
    at_most: Count | None = None
    months: Annotated[float, Field(gt=0.0, le=12_000.0, allow_inf_nan=False)]
    factor: Annotated[float, Field(ge=1.0, le=100.0, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _a_bound(self) -> Rate:
        if self.at_least is None and self.at_most is None:
            raise ValueError("a rate needs at_least or at_most (expected a count, got neither)")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"expected at_least <= at_most, got {self.at_least} > {self.at_most}")
        return self


class Event(_Block):
    """One yes/no question about the record. `by` is the horizon: a date, or a number of rounds
    from the start (default: `date`, the day it happened or the end of the window it did not)."""

    question: Annotated[str, Field(min_length=1)]
    kind: Kind
    actor: Id | None = None
    action: Id | None = None
    target: Id | None = None
    rounds: RoundCount | None = None
    red_line: Id | None = None
    commitment: Id | None = None
    agreement: Id | None = None
    at_least: Id | None = None
    rate: Rate | None = None
    happened: bool | None = None  # every kind but rate: what a rate says is its count
    date: dt.date
    by: dt.date | RoundCount | None = None
    sure: Sure
    sources: Annotated[list[Id | Source], Field(min_length=1)]
    note: str = ""

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Event:
        if self.kind == "rate":
            return self._rate_fields()
        if self.rate is not None:
            raise ValueError(f"only a 'rate' event takes rate (expected none on a '{self.kind}' event)")
        if self.happened is None:
            raise ValueError(f"a '{self.kind}' event needs happened (expected true or false, got none)")
        needed = KIND_FIELDS[self.kind]
        missing = [f for f in needed if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a '{self.kind}' event needs {', '.join(needed)} "
                             f"(expected a value for {', '.join(missing)}, got none)")
        allowed = set(needed) | set(OPTIONAL_FIELDS.get(self.kind, ()))
        extra = [f for f in ALL_KIND_FIELDS if f not in allowed and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"a '{self.kind}' event takes only {', '.join(sorted(allowed))} "
                             f"(expected none of {', '.join(extra)}, got {', '.join(extra)})")
        return self

    def _rate_fields(self) -> Event:
        if self.rate is None:
            raise ValueError("a 'rate' event needs rate (expected {at_least or at_most, months}, got none)")
        if self.happened is not None:
            raise ValueError("a 'rate' event says how often, not whether (expected no happened, got one)")
        if self.rounds is not None or self.red_line or self.commitment or self.agreement:
            raise ValueError("a 'rate' event counts an outcome class (at_least) or an actor's action "
                             "(actor, action, target), nothing else")
        if (self.at_least is None) == (self.actor is None and self.action is None):
            raise ValueError("a 'rate' event counts either an outcome class (at_least) or an actor's action "
                             "(actor and action), not both or neither")
        if self.at_least is None and (self.actor is None or self.action is None):
            raise ValueError("a 'rate' event of an actor's action needs actor and action")
        return self

    def as_yes_no(self) -> Event:
        """The yes/no event a rate counts (takes, or outcome), each run's answer by the horizon."""
        if self.kind != "rate":
            return self
        kind = "outcome" if self.at_least is not None else "takes"
        return self.model_copy(update={"kind": kind, "rate": None, "happened": False})

    @property
    def horizon(self) -> dt.date | int:
        return self.date if self.by is None else self.by

    @property
    def record_probability(self) -> float:
        """How likely it is that the event happened, given the record and how sure it is."""
        if self.happened is None:
            raise ValueError(f"a '{self.kind}' event has no yes/no answer")
        return SURE[self.sure] if self.happened else 1.0 - SURE[self.sure]


class Forecaster(_Block):
    """A forecaster stated in the file: a probability per event, `default` for the rest."""

    description: Annotated[str, Field(min_length=1)]
    probabilities: dict[Id, Probability] = {}
    default: Probability | None = None
    sources: Annotated[list[Id | Source], Field(min_length=1)]
    note: str = ""


class Events(_Block):
    """A whole events file: its start, its own references, stated forecasters, and the events."""

    start: dt.date
    end: dt.date | None = None
    description: str = ""
    references: dict[Id, DeclaredReference] = {}
    forecasters: dict[Id, Forecaster] = {}
    events: Annotated[dict[Id, Event], Field(min_length=1)]
    _file: str = PrivateAttr(default="<events>")
    _locations: Locations = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        return self._file

    def only(self, rates: bool) -> Events:
        """This file with only its rate events (`rates`), or only its yes/no events."""
        return self.model_copy(update={"events": {k: e for k, e in self.events.items() if (e.kind == "rate") == rates}})

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        """A problem at `path` in this file, placed at the line and column where it was written."""
        return locate(path, message, self._locations)


def load_events(path: str | Path) -> Events:
    """The validated events file at `path`; ScenarioError with every problem found."""
    data, locations = read_yaml(Path(path))
    file = str(path)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, 1, "", "expected a mapping with start and events, got "
                                     f"{type(data).__name__ if data is not None else 'an empty file'}")])
    try:
        events = Events.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from_pydantic(err, data, locations, Events)) from None
    events._file, events._locations = file, locations
    problems = list(_check_record(events))
    if problems:
        raise ScenarioError(problems)
    return events


def _check_record(events: Events) -> Any:
    """Cited ids exist, dates lie in the window, stated forecasters name real events."""
    citable = load_digest().ids | set(events.references)
    for eid, event in events.events.items():
        for i, source in enumerate(event.sources):
            if isinstance(source, str) and source not in citable:
                yield events.problem(("events", eid, "sources", i),
                                     f"unknown source (expected a reference id of this file or the seeds, got '{source}')")
        for field, day in (("date", event.date), ("by", event.by)):
            if isinstance(day, dt.date) and day < events.start:
                yield events.problem(("events", eid, field),
                                     f"date before the record's start (expected {events.start} or later, got {day})")
            if isinstance(day, dt.date) and events.end is not None and day > events.end:
                yield events.problem(("events", eid, field),
                                     f"date after the record's end (expected {events.end} or earlier, got {day})")
    for fid, forecaster in events.forecasters.items():
        if fid in BUILT_IN_FORECASTERS:
            yield events.problem(("forecasters", fid), f"a built-in forecaster's name (expected another name than "
                                                       f"{', '.join(BUILT_IN_FORECASTERS)}, got '{fid}')")
        for eid in forecaster.probabilities:
            if eid not in events.events:
                yield events.problem(("forecasters", fid, "probabilities", eid),
                                     f"unknown event (expected one of this file's events, got '{eid}')")
        unstated = [eid for eid in events.events if eid not in forecaster.probabilities]
        if unstated and forecaster.default is None:
            yield events.problem(("forecasters", fid),
                                 f"no probability for {', '.join(unstated)} (expected one per event or a default, got none)")
