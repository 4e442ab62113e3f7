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
from ..scenario.questions import Question
from ..scenario.sources import load_digest
from ..scenario.yamlio import Locations, read_yaml

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Sure = Literal["high", "moderate", "low"]
EventKind = Literal["takes", "in_force", "red_line", "commitment", "agreement", "outcome", "rate"]
Count = Annotated[int, Field(ge=0, le=100_000)]

# How likely the record is right, by how sure it says it is: Sherman Kent's estimative words
# (Kent 1964, "Words of Estimative Probability"): "almost certain" 93%, "probable" 75%; "low"
# is judgement, a little better than Kent's "chances about even" (50%): a reported but
# unconfirmed fact is still more likely true than not.
SURE: dict[str, float] = {"high": 0.93, "moderate": 0.75, "low": 0.6}

BUILT_IN_FORECASTERS = ("model", "base_rate", "persistence", "always_0.5")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Source(_Block):
    """A published report the record rests on, given in place (or cite a reference id)."""

    title: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    date: dt.date | None = None
    note: str = ""


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


class Event(Question):
    """One question about the record (the kinds of scenario/questions.py), or a `rate`: how often
    something happened over a long record, evidence for calibration rather than a yes or no.
    `by` is the horizon: a date, or a number of rounds from the start (default: `date`, the day
    it happened or the end of the window it did not; a rate's default is the whole run)."""

    _noun = "event"
    kind: EventKind  # type: ignore[assignment]
    rate: Rate | None = None
    happened: bool | None = None  # every kind but rate: what a rate says is its count
    date: dt.date
    sure: Sure
    sources: Annotated[list[Id | Source], Field(min_length=1)]
    note: str = ""
    # Scoring: events of one cluster answer nearly the same question and count once between them
    # in the headline; an event declared by construction is left out of it (as are those the
    # scenario starts with, found by sim.backtest.construction); `climatology` names the series
    # of the events file's `record` that the climatology and persistence forecasters read.
    cluster: Id | None = None
    by_construction: bool = False
    climatology: Id | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Event:
        if self.kind == "rate":
            return self._rate_fields()
        if self.rate is not None:
            raise ValueError(f"only a 'rate' event takes rate (expected none on a '{self.kind}' event)")
        if self.happened is None:
            raise ValueError(f"a '{self.kind}' event needs happened (expected true or false, got none)")
        self._kind_fields_checked()
        return self

    def _rate_fields(self) -> Event:
        if self.rate is None:
            raise ValueError("a 'rate' event needs rate (expected {at_least or at_most, months}, got none)")
        if self.happened is not None:
            raise ValueError("a 'rate' event says how often, not whether (expected no happened, got one)")
        if (self.red_line or self.commitment or self.agreement or self.status
                or any(v is not None for v in (self.rounds, self.since, self.at_most, self.through))):
            raise ValueError("a 'rate' event counts an outcome class (at_least) or an actor's action "
                             "(actor, action, target), nothing else")
        if (self.at_least is None) == (self.actor is None and self.action is None):
            raise ValueError("a 'rate' event counts either an outcome class (at_least) or an actor's action "
                             "(actor and action), not both or neither")
        if self.at_least is None and (self.actor is None or self.action is None):
            raise ValueError("a 'rate' event of an actor's action needs actor and action")
        return self

    def as_yes_no(self) -> Question:
        """The yes/no question a rate counts (takes, or outcome: each run's answer by the horizon);
        any other event is its own."""
        if self.kind != "rate":
            return self
        return Question(question=self.question, kind="outcome" if self.at_least is not None else "takes",
                        actor=self.actor, action=self.action, target=self.target, at_least=self.at_least,
                        by=self.by)

    @property
    def horizon(self) -> dt.date | int | None:
        if self.kind == "rate":
            return self.by
        stated = super().horizon
        return self.date if stated is None else stated

    @property
    def record_probability(self) -> float:
        """How likely it is that the event happened, given the record and how sure it is."""
        if self.happened is None:
            raise ValueError(f"a '{self.kind}' event has no yes/no answer")
        return SURE[self.sure] if self.happened else 1.0 - SURE[self.sure]


class Forecaster(_Block):
    """A forecaster stated in the file: a probability per event, `default` for the rest (a
    probability, or `climatology` for that forecaster's). `published`: the day the forecasts
    were made public, which must precede the record's start (a forecast made inside the window
    could have seen part of what it forecasts)."""

    description: Annotated[str, Field(min_length=1)]
    probabilities: dict[Id, Probability] = {}
    default: Probability | Literal["climatology"] | None = None
    published: dt.date | None = None
    sources: Annotated[list[Id | Source], Field(min_length=1)]
    note: str = ""


class Events(_Block):
    """A whole events file: its start, its own references, stated forecasters, and the events."""

    start: dt.date
    end: dt.date | None = None
    description: str = ""
    climatology: Annotated[str, Field(min_length=1)] | None = None  # a climatology record, relative to this file
    references: dict[Id, DeclaredReference] = {}
    forecasters: dict[Id, Forecaster] = {}
    events: Annotated[dict[Id, Event], Field(min_length=1)]
    _file: str = PrivateAttr(default="<events>")
    _locations: Locations = PrivateAttr(default_factory=dict)
    _record: Any = PrivateAttr(default=None)

    @property
    def file(self) -> str:
        return self._file

    @property
    def record(self) -> Any:
        """The climatology record the file names (a sim.backtest.climatology.Climatology), or None."""
        return self._record

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
    if events.climatology is not None:
        from .climatology import load_climatology

        events._record = load_climatology(Path(path).parent / events.climatology)
    problems = list(_check_record(events))
    if problems:
        raise ScenarioError(problems)
    return events


def _check_record(events: Events) -> Any:
    """Cited ids exist, dates lie in the window, stated forecasters name real events."""
    citable = load_digest().ids | set(events.references)
    for eid, event in events.events.items():
        if event.climatology is not None and (events.record is None or event.climatology not in events.record.series):
            known = "no record named (expected `climatology:` at the top of this file)" if events.record is None else \
                f"expected one of: {', '.join(events.record.series)}"
            yield events.problem(("events", eid, "climatology"), f"unknown series ({known}, got '{event.climatology}')")
        for i, source in enumerate(event.sources):
            if isinstance(source, str) and source not in citable:
                yield events.problem(("events", eid, "sources", i),
                                     f"unknown source (expected a reference id of this file or the seeds, got '{source}')")
        for field in ("date", "by", "since", "through"):
            day = getattr(event, field)
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
        if forecaster.published is not None and forecaster.published >= events.start:
            yield events.problem(("forecasters", fid, "published"),
                                 f"published inside the record's window (expected a date before {events.start}, "
                                 f"got {forecaster.published})")
        if forecaster.default == "climatology" and events.climatology is None:
            yield events.problem(("forecasters", fid, "default"), "no climatology without a record (expected a "
                                                                  "probability, or `climatology:` in this file, got none)")
        unstated = [eid for eid in events.events if eid not in forecaster.probabilities]
        if unstated and forecaster.default is None:
            yield events.problem(("forecasters", fid),
                                 f"no probability for {', '.join(unstated)} (expected one per event or a default, got none)")
