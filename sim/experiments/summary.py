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
    measures: list[str] = field(default_factory=list)
    runs: int = 0
    outcome_counts: np.ndarray = field(init=False)
    crossed: dict[str, int] = field(init=False)
    seen: dict[str, int] = field(init=False)
    enforced: dict[str, int] = field(init=False)
    crossing_rounds: dict[str, np.ndarray] = field(init=False)
    measured: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.outcome_counts = np.zeros(len(self.classes), dtype=np.int64)
        self.crossed = dict.fromkeys(self.red_lines, 0)
        self.seen = dict.fromkeys(self.red_lines, 0)
        self.enforced = dict.fromkeys(self.red_lines, 0)
        self.crossing_rounds = {lid: np.zeros(self.rounds + 1, dtype=np.int64) for lid in self.red_lines}
        self.measured = dict.fromkeys(self.measures, 0)

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
        for mid in self.measures:
            self.measured[mid] += int(pc.sum(runs.column(f"measure.{mid}")).as_py() or 0)

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

    def measure_rows(self) -> list[dict]:
        rows = []
        for mid in self.measures:
            low, high = wilson(self.measured[mid], self.runs)
            rows.append({"measure": mid, "runs": self.measured[mid], "p": self.measured[mid] / self.runs,
                         "low": low, "high": high})
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


def rate_text(count: int, n: int) -> str:
    """A share with its Wilson 95% interval, `0.1234 [0.1200, 0.1268]`. None in n is written
    `0 [0, 0.0038%]`: an upper bound, not a zero-width interval; all of n `1 [1 - 0.0038%, 1]`."""
    if n == 0:
        return "-"
    low, high = wilson(count, n)
    if count == 0:
        return f"0 [0, {100 * high:.2g}%]"
    if count == n:
        return f"1 [1 - {100 * (1 - low):.2g}%, 1]"
    return f"{count / n:.4f} [{low:.4f}, {high:.4f}]"


def format_summary(title: str, tally: Tally, questions: dict[str, str] | None = None) -> str:
    """The table `sim run` prints: outcome classes, red lines and measures (their `questions` as
    labels), each with a Wilson 95% interval."""
    lines = [title, "", f"{'outcome':<24}{'probability [95% interval]':<30}{'runs':>10}"]
    for r in tally.outcome_rows():
        lines.append(f"{r['outcome']:<24}{rate_text(r['runs'], tally.runs):<30}{r['runs']:>10}")
    if tally.red_lines:
        lines += ["", f"{'red line':<32}{'crossed [95% interval]':<30}{'seen by owner [95%]':<30}"
                      f"{'enforced | seen [95%]':<30}{'median round':>12}"]
        for lid in tally.red_lines:
            crossed, seen, enforced = tally.crossed[lid], tally.seen[lid], tally.enforced[lid]
            median = tally.median_round(lid)
            lines.append(f"{lid:<32}{rate_text(crossed, tally.runs):<30}{rate_text(seen, tally.runs):<30}"
                         f"{rate_text(enforced, seen):<30}{'-' if np.isnan(median) else f'{median:.0f}':>12}")
        lines.append("(crossed: the trigger happened; seen: its owner saw a crossing, ambiguous readings "
                     "included; the owner enforces only what it saw)")
    if tally.measures:
        lines += ["", f"{'measure':<32}{'probability [95% interval]':<30}question"]
        for r in tally.measure_rows():
            question = (questions or {}).get(r["measure"], "")
            lines.append(f"{r['measure']:<32}{rate_text(r['runs'], tally.runs):<30}{question}")
    return "\n".join(lines)


__all__ = ["Tally", "format_summary", "rate_text", "wilson"]
