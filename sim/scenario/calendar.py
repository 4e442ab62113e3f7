"""The calendar of a scenario: the first day of each round, and the round a date falls in."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schema import Scenario

DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (the last day where the month is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def round_start(start: dt.date, length: int, unit: str, round_number: int) -> dt.date:
    """The first day of round `round_number` (round 1 starts on `start`) for rounds of `length` `unit`s."""
    steps = (round_number - 1) * length
    if unit == "month":
        return add_months(start, steps)
    return start + dt.timedelta(days=steps * DAYS[unit])


def round_dates(s: Scenario) -> list[dt.date]:
    """The first day of every round of the scenario."""
    return [round_start(s.start, s.round.length, s.round.unit, r) for r in range(1, s.rounds + 1)]


def round_of(day: dt.date, s: Scenario) -> int:
    """The number of rounds that have started by `day` (0 before the start)."""
    return sum(1 for r in range(1, s.rounds + 2) if round_start(s.start, s.round.length, s.round.unit, r) <= day)


def from_round(day: dt.date | None, s: Scenario) -> int:
    """The round from which something dated `day` (a line drawn, a treaty signed) holds: the round
    the date falls in, 0 (before round 1) when it is on or before the start or not given, and
    past the last round when it lies beyond the run."""
    return round_of(day, s) if day is not None and day > s.start else 0
