"""A climatology record: dated occurrences of kinds of events over the years before a window,
from which the climatology and persistence forecasters take monthly rates.

A record file has a `start` and `end` and named `series`; each series says what counts (one
occurrence in a calendar month makes the month count), the sources its absences rest on, an
optional later or earlier `start` of its own, and its `occurrences`, each dated and sourced.

- The climatology rate of a series is (months with an occurrence + 1/2) / (months + 1): the
  share of calendar months from its start to the record's end with at least one occurrence,
  with half a month added to each side (Jeffreys' prior), so a kind the record never saw is
  rare, never impossible.
- The recent rate is the plain share over the last RECENT_MONTHS months of the record: what
  persistence carries forward (0 when nothing happened lately: nothing new starts).
- An event asking for at least k months within a horizon of h rounds (months) gets the chance
  of at least k successes in h independent months at that rate (binomial tail).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..scenario.citations import DeclaredReference
from ..scenario.errors import Problem, ScenarioError
from ..scenario.loader import locate, problems_from_pydantic
from ..scenario.sources import load_digest
from ..scenario.yamlio import Locations, read_yaml
from .events import Id, Source

JEFFREYS = 0.5
# A year: the span North Korea's launches, shows of force and aid decisions are tallied over
# in the sources, long enough to hold a season's exercises and short enough to be "recent".
RECENT_MONTHS = 12


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Occurrence(_Block):
    date: dt.date
    what: Annotated[str, Field(min_length=1)]
    sources: Annotated[list[Id | Source], Field(min_length=1)]


class Series(_Block):
    """One kind of event: what counts, where its absences are documented, and its occurrences."""

    description: Annotated[str, Field(min_length=1)]
    start: dt.date | None = None
    sources: Annotated[list[Id | Source], Field(min_length=1)]
    occurrences: list[Occurrence] = []
    note: str = ""


class Climatology(_Block):
    start: dt.date
    end: dt.date
    description: str = ""
    references: dict[Id, DeclaredReference] = {}
    series: Annotated[dict[Id, Series], Field(min_length=1)]
    _file: str = PrivateAttr(default="<climatology>")
    _locations: Locations = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        return self._file

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        return locate(path, message, self._locations)

    def months(self, sid: str, since: dt.date | None = None) -> tuple[int, int]:
        """(calendar months with an occurrence, calendar months) of series `sid` from its start,
        or from `since` if later, to the record's end; a month counts if it is partly inside."""
        series = self.series[sid]
        first = series.start or self.start
        if since is not None:
            first = max(first, since)
        span = _month_index(self.end) - _month_index(first) + 1
        hit = {_month_index(o.date) for o in series.occurrences if first <= o.date <= self.end}
        return len(hit), span

    def rate(self, sid: str) -> float:
        """The climatology monthly rate of `sid`, with Jeffreys' half month each side."""
        hit, span = self.months(sid)
        return (hit + JEFFREYS) / (span + 2 * JEFFREYS)

    def recent_rate(self, sid: str) -> float:
        """The share of the record's last RECENT_MONTHS calendar months with an occurrence."""
        index = _month_index(self.end) - RECENT_MONTHS + 1
        hit, span = self.months(sid, since=dt.date(index // 12, index % 12 + 1, 1))
        return hit / span


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def at_least(rate: float, months: int, k: int = 1) -> float:
    """P(at least `k` of `months` independent months have the event), each with chance `rate`."""
    return float(sum(math.comb(months, j) * rate**j * (1.0 - rate) ** (months - j) for j in range(k, months + 1)))


def load_climatology(path: str | Path) -> Climatology:
    """The validated record at `path`; ScenarioError with every problem found, located."""
    data, locations = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), 1, 1, "", "expected a mapping with start, end and series, got "
                                     f"{type(data).__name__ if data is not None else 'an empty file'}")])
    try:
        record = Climatology.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from_pydantic(err, data, locations, Climatology)) from None
    record._file, record._locations = str(path), locations
    problems = list(_check(record))
    if problems:
        raise ScenarioError(problems)
    return record


def _check(record: Climatology) -> Any:
    citable = load_digest().ids | set(record.references)
    if record.end < record.start:
        yield record.problem(("end",), f"end before start (expected {record.start} or later, got {record.end})")
    for sid, series in record.series.items():
        first = series.start or record.start
        cited = [(("series", sid, "sources", i), s) for i, s in enumerate(series.sources)]
        for j, occurrence in enumerate(series.occurrences):
            at = ("series", sid, "occurrences", j)
            cited += [((*at, "sources", i), s) for i, s in enumerate(occurrence.sources)]
            if not first <= occurrence.date <= record.end:
                yield record.problem((*at, "date"), f"outside the series' span (expected {first} to {record.end}, "
                                                    f"got {occurrence.date})")
        for where, source in cited:
            if isinstance(source, str) and source not in citable:
                yield record.problem(where, f"unknown source (expected a reference id of this file or the seeds, "
                                            f"got '{source}')")
