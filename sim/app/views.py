"""The tables the app shows, each computed from a run directory (the same files `sim run` writes),
so every number on the page can be had again from the command line.

Dates come from the manifest's `round_dates` (round k starts on round_dates[k - 1]). Intervals are
95%: Wilson for one proportion, Newcombe's paired-data interval for the difference of two
scenarios run with common random numbers (run i of A and run i of B share their draws).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments.summary import wilson
from ..report.figure_data import load_run_scenario, read_manifest
from ..report.paths import LENGTH, first_event_paths, posturing_ceiling
from ..scenario import Scenario


@dataclass
class Results:
    """A finished run directory, read once: its scenario, manifest and runs table."""

    path: Path
    scenario: Scenario
    manifest: dict
    runs: pd.DataFrame

    @classmethod
    def read(cls, path: str | Path) -> Results:
        path = Path(path)
        return cls(path, load_run_scenario(path), read_manifest(path), pd.read_parquet(path / "runs.parquet"))

    @property
    def classes(self) -> list[str]:
        return list(self.scenario.outcomes.classes)

    @property
    def dates(self) -> list[str]:
        """The first day of each round (the manifest's round_dates), or `round k` where it has none."""
        dates = self.manifest.get("round_dates") or []
        rounds = int(self.manifest["rounds"])
        return [dates[k - 1] if k <= len(dates) else f"round {k}" for k in range(1, rounds + 1)]

    def codes(self) -> np.ndarray:
        """Each run's outcome class as its index on the ladder."""
        return pd.Categorical(self.runs["outcome"].astype(str), categories=self.classes).codes


def outcomes(results: Results) -> pd.DataFrame:
    """Per class: runs, P(class) and P(class or worse), each with its 95% interval."""
    codes, n = results.codes(), len(results.runs)
    rows = []
    for i, name in enumerate(results.classes):
        count, worse = int((codes == i).sum()), int((codes >= i).sum())
        rows.append({"outcome": name, "runs": count, "p": count / n, "low": wilson(count, n)[0],
                     "high": wilson(count, n)[1], "p_or_worse": worse / n,
                     "or_worse_low": wilson(worse, n)[0], "or_worse_high": wilson(worse, n)[1]})
    return pd.DataFrame(rows)


def red_lines(results: Results) -> pd.DataFrame:
    """Per red line: crossed (share of runs) and enforced (share of crossings), with intervals."""
    n, rows = len(results.runs), []
    for lid in results.scenario.red_lines:
        crossed = results.runs[f"crossed.{lid}"].fillna(False).astype(bool)
        enforced = int(results.runs.loc[crossed, f"enforced.{lid}"].fillna(False).astype(bool).sum())
        k = int(crossed.sum())
        rows.append({"red_line": lid, "crossed": k / n, "crossed_low": wilson(k, n)[0], "crossed_high": wilson(k, n)[1],
                     "enforced": enforced / k if k else math.nan, "enforced_low": wilson(enforced, k)[0],
                     "enforced_high": wilson(enforced, k)[1], "crossings": k})
    return pd.DataFrame(rows)


def event_columns(results: Results) -> dict[str, str]:
    """The events the runs table dates, by label: an actor takes an action for the first time,
    a red line is crossed, a commitment invoked, an agreement signed (`sim paths`' events)."""
    s, out = results.scenario, {}
    for column in results.runs.columns:
        if column.startswith("first."):
            actor, action = column.removeprefix("first.").split(".", 1)
            out[f"{actor} takes {action}"] = column
    out |= {f"red line {lid} crossed": f"round.{lid}" for lid in s.red_lines}
    out |= {f"{cid} invoked": f"invoked.{cid}" for cid in s.commitments}
    out |= {f"{gid} agreed": f"agreed.{gid}" for gid in s.agreements}
    return {label: column for label, column in out.items() if column in results.runs.columns}


def event_rounds(results: Results, column: str) -> np.ndarray:
    """Each run's round of the event in `column`; inf when it never happened during the run
    (round 0, in force at the start, is no event)."""
    rounds = pd.to_numeric(results.runs[column], errors="coerce").to_numpy(dtype=float)
    return np.where(rounds > 0, rounds, np.inf)


def class_rounds(results: Results) -> dict[str, np.ndarray]:
    """For each class above posturing, the round each run first reached it or worse: the first
    round an action above the previous class's highest rung was taken, for the runs whose outcome
    is that class or worse (inf for the others). By the last round this is exactly the share of
    runs in the class or worse. Classes up to posturing differ by easing, which has no date."""
    s, codes = results.scenario, results.codes()
    classes = list(s.outcomes.classes.values())
    ceiling = posturing_ceiling(s)
    firsts = [(s.actions[c.removeprefix("first.").split(".", 1)[1]].rung, event_rounds(results, c))
              for c in results.runs.columns if c.startswith("first.")]
    out = {}
    for i in range(1, len(classes)):
        floor = classes[i - 1].max_rung
        if floor < ceiling:
            continue
        rounds = np.full(len(results.runs), np.inf)
        for rung, when in firsts:
            if rung > floor:
                rounds = np.minimum(rounds, when)
        rounds[codes < i] = np.inf
        # a run in the class whose action was taken before the start is dated by its last round
        rounds[(codes >= i) & ~np.isfinite(rounds)] = len(results.dates)
        out[results.classes[i]] = rounds
    return out


def by_date(results: Results, rounds: np.ndarray) -> pd.DataFrame:
    """P(the event by each date) with its 95% interval, from each run's round of it (inf: never)."""
    n, rows = len(rounds), []
    for k, date in enumerate(results.dates, start=1):
        hits = int((rounds <= k).sum())
        low, high = wilson(hits, n)
        rows.append({"round": k, "date": date, "p": hits / n, "low": low, "high": high})
    return pd.DataFrame(rows)


def classes_by_date(results: Results) -> pd.DataFrame:
    """P(class or worse by date) for every class above the first: one row per date, a column per class."""
    table = pd.DataFrame({"date": results.dates})
    for name, rounds in class_rounds(results).items():
        frame = by_date(results, rounds)
        table[name], table[f"{name} low"], table[f"{name} high"] = frame["p"], frame["low"], frame["high"]
    return table


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """B − A for two proportions measured on the same runs (paired, by run id), with a 95%
    interval: (difference, low, high).

    Newcombe's method 10 for paired data (Newcombe 1998, "Improved confidence intervals for the
    difference between binomial proportions based on paired data", Statistics in Medicine
    17:2635-2650): each proportion's Wilson limits, combined with the phi correlation of the
    pairs. Common random numbers correlate A and B, so this is narrower than the independent
    interval `sim compare` prints, and right rather than conservative.
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = len(a)
    if n == 0 or len(b) != n:
        return math.nan, math.nan, math.nan
    both, a_only, b_only = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = n - both - a_only - b_only
    pa, pb = (both + a_only) / n, (both + b_only) / n
    la, ua = wilson(both + a_only, n)
    lb, ub = wilson(both + b_only, n)
    margins = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    phi = (both * neither - a_only * b_only) / math.sqrt(margins) if margins else 0.0
    d = pb - pa
    below = math.sqrt(max(0.0, (pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2))
    above = math.sqrt(max(0.0, (ub - pb) ** 2 - 2 * phi * (ub - pb) * (pa - la) + (pa - la) ** 2))
    return d, max(-1.0, d - below), min(1.0, d + above)


def comparison(a: Results, b: Results) -> pd.DataFrame:
    """B − A for each class, each class or worse, and each red line crossed, paired run by run.
    A and B must be runs of the same seed and size (common random numbers)."""
    if len(a.runs) != len(b.runs) or a.manifest.get("seed") != b.manifest.get("seed"):
        raise ValueError(f"{a.path} and {b.path}: not run with the same seed and runs (expected common random "
                         f"numbers to pair them)")
    a_runs, b_runs = a.runs.sort_values("run"), b.runs.sort_values("run")
    ca = pd.Categorical(a_runs["outcome"].astype(str), categories=a.classes).codes
    cb = pd.Categorical(b_runs["outcome"].astype(str), categories=a.classes).codes
    rows = []

    def row(what: str, xa: np.ndarray, xb: np.ndarray) -> None:
        d, low, high = paired_difference(xa, xb)
        rows.append({"measure": what, "a": xa.mean(), "b": xb.mean(), "diff": d, "low": low, "high": high,
                     "significant": bool(low > 0 or high < 0)})

    for i, name in enumerate(a.classes):
        row(name, ca == i, cb == i)
    for i, name in enumerate(a.classes[1:], start=1):
        row(f"{name} or worse", ca >= i, cb >= i)
    for lid in a.scenario.red_lines:
        if f"crossed.{lid}" in b_runs.columns:
            row(f"crossed {lid}", a_runs[f"crossed.{lid}"].fillna(False).to_numpy(dtype=bool),
                b_runs[f"crossed.{lid}"].fillna(False).to_numpy(dtype=bool))
    return pd.DataFrame(rows)


def paths(results: Results, outcome: str, top: int = 5) -> pd.DataFrame:
    """The most common first-event paths to `outcome` or worse (`sim paths DIR --to CLASS`)."""
    return first_event_paths(results.runs, results.scenario, outcome, top=top, length=LENGTH)


def trace_text(results: Results, run: int) -> str:
    """Run `run` replayed as a dated story (`sim trace DIR --run N --brief`)."""
    from ..report.trace import format_trace, trace_run

    return format_trace(trace_run(results.path, run), brief=True)


def csv_bytes(results: Results) -> bytes:
    """The runs table as CSV, one row per run (the columns of runs.parquet)."""
    return results.runs.to_csv(index=False).encode()


def report_html(results: Results) -> bytes:
    """The HTML report of the run (`sim report DIR`)."""
    import matplotlib

    from ..report.html_report import build_report

    matplotlib.use("Agg")
    return build_report(results.path).encode()
