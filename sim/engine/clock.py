"""Real time: the date of each round, and rates stated per their own unit turned into per-round ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario
from ..scenario.calendar import DAYS, add_months, round_start

__all__ = ["DAYS", "Clock", "add_months", "calendar"]


@dataclass(frozen=True)
class Clock:
    start: dt.date
    length: int
    unit: str
    rates_per: str

    @classmethod
    def of(cls, s: Scenario) -> Clock:
        return cls(s.start, s.round.length, s.round.unit, s.rates_per)

    @property
    def units_per_round(self) -> float:
        """How many of the rates' unit one round lasts (a week is 0.23 months)."""
        return self.length * DAYS[self.unit] / DAYS[self.rates_per]

    def date(self, round_number: int) -> dt.date:
        """The first day of round `round_number` (round 1 starts on the start date)."""
        return round_start(self.start, self.length, self.unit, round_number)

    def years_since(self, day: dt.date, round_number: int) -> float:
        return (self.date(round_number) - day).days / 365.25

    def chance(self, p: np.ndarray | float) -> np.ndarray:
        """A probability per rate unit as a probability per round: 1 - (1 - p)^(units per round)."""
        return 1.0 - (1.0 - np.asarray(p, dtype=float)) ** self.units_per_round

    def amount(self, x: np.ndarray | float) -> np.ndarray:
        """An amount per rate unit (a drift) as an amount per round."""
        return np.asarray(x, dtype=float) * self.units_per_round


def calendar(s: Scenario) -> dict[str, object]:
    """What a results manifest says about time: the start, the round's length, the rates' unit,
    and the first day of every round."""
    clock = Clock.of(s)
    return {
        "start": s.start.isoformat(),
        "round_length": {"length": s.round.length, "unit": s.round.unit},
        "rates_per": s.rates_per,
        "round_dates": [clock.date(r).isoformat() for r in range(1, s.rounds + 1)],
    }
