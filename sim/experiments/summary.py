"""Summaries with 95% intervals, accumulated block by block so memory stays flat."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Z95 = 1.959963984540054


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion (Wilson 1927); (nan, nan) with no trials."""
    if trials == 0:
        return float("nan"), float("nan")
    p = successes / trials
    denominator = 1 + Z95**2 / trials
    centre = (p + Z95**2 / (2 * trials)) / denominator
    half = Z95 * np.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / denominator
    # At 0 or all successes the bound is exactly 0 or 1; the formula leaves a rounding residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return float(low), float(high)


@dataclass
class Tally:
    """Counts from runs tables: outcomes, red-line crossings (the fact), the crossings their owners
    saw, enforcement (of what was seen), first-crossing rounds."""

    classes: list[str]
    red_lines: list[str]
    rounds: int
    runs: int = 0
    outcome_counts: np.ndarray = field(init=False)
    crossed: dict[str, int] = field(init=False)
    seen: dict[str, int] = field(init=False)
    enforced: dict[str, int] = field(init=False)
    crossing_rounds: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.outcome_counts = np.zeros(len(self.classes), dtype=np.int64)
        self.crossed = dict.fromkeys(self.red_lines, 0)
        self.seen = dict.fromkeys(self.red_lines, 0)
        self.enforced = dict.fromkeys(self.red_lines, 0)
        self.crossing_rounds = {lid: np.zeros(self.rounds + 1, dtype=np.int64) for lid in self.red_lines}

    def add(self, runs: pa.Table) -> None:
        self.runs += runs.num_rows
        codes = runs.column("outcome").combine_chunks().indices.to_numpy(zero_copy_only=False)
        self.outcome_counts += np.bincount(codes, minlength=len(self.classes))
        for lid in self.red_lines:
            crossed = runs.column(f"crossed.{lid}").to_numpy(zero_copy_only=False)
            self.crossed[lid] += int(crossed.sum())
            if f"seen.{lid}" in runs.column_names:  # results of model v2 have the owner's view only
                self.seen[lid] += int(pc.sum(runs.column(f"seen.{lid}")).as_py() or 0)
            else:
                self.seen[lid] += int(crossed.sum())
            self.enforced[lid] += int(pc.sum(runs.column(f"enforced.{lid}")).as_py() or 0)
            rounds = runs.column(f"round.{lid}").to_numpy(zero_copy_only=False)
            rounds = rounds[crossed].astype(np.int64)
            self.crossing_rounds[lid] += np.bincount(rounds, minlength=self.rounds + 1)

    def median_round(self, lid: str) -> float:
        counts = self.crossing_rounds[lid]
        if counts.sum() == 0:
            return float("nan")
        cumulative = np.cumsum(counts)
        return float(np.searchsorted(cumulative, cumulative[-1] / 2.0))

    def outcome_rows(self) -> list[dict]:
        rows = []
        for name, count in zip(self.classes, self.outcome_counts):
            low, high = wilson(int(count), self.runs)
            rows.append({"outcome": name, "runs": int(count), "p": count / self.runs, "low": low, "high": high})
        return rows

    def red_line_rows(self) -> list[dict]:
        rows = []
        for lid in self.red_lines:
            crossed, seen, enforced = self.crossed[lid], self.seen[lid], self.enforced[lid]
            rows.append(
                {
                    "red_line": lid,
                    "crossed": crossed / self.runs,
                    "crossed_ci": wilson(crossed, self.runs),
                    "seen": seen / self.runs,
                    "seen_ci": wilson(seen, self.runs),
                    "enforced": enforced / seen if seen else float("nan"),
                    "enforced_ci": wilson(enforced, seen),
                    "median_round": self.median_round(lid),
                }
            )
        return rows


def format_summary(title: str, tally: Tally) -> str:
    """The table `sim run` prints."""
    lines = [title, "", f"{'outcome':<22}{'probability':>12}   95% interval       runs"]
    for r in tally.outcome_rows():
        lines.append(f"{r['outcome']:<22}{r['p']:>12.4f}   [{r['low']:.4f}, {r['high']:.4f}]   {r['runs']:>8}")
    if tally.red_lines:
        lines += ["", f"{'red line':<32}{'crossed':>9}{'seen by owner':>15}{'enforced|seen':>15}{'median round':>14}"]
        for r in tally.red_line_rows():
            enforced = "-" if np.isnan(r["enforced"]) else f"{r['enforced']:.3f}"
            median = "-" if np.isnan(r["median_round"]) else f"{r['median_round']:.0f}"
            lines.append(f"{r['red_line']:<32}{r['crossed']:>9.3f}{r['seen']:>15.3f}{enforced:>15}{median:>14}")
        lines.append("(crossed: the trigger happened; seen: its owner saw a crossing, ambiguous readings "
                     "included; the owner enforces only what it saw)")
    return "\n".join(lines)


__all__ = ["Tally", "format_summary", "wilson"]
