"""The tables the app shows, each computed from a run directory (the same files `sim run` writes),
so every number on the page can be had again from the command line.

Dates come from the manifest's `round_dates` (round k starts on round_dates[k - 1]). Intervals are
95%: Wilson for one proportion, Newcombe's paired-data interval (report.compare) for the
difference of two scenarios run with common random numbers (run i of A and of B share their draws).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments.export import summary_frame, tidy_runs
from ..experiments.questions import at_least_by_round, evaluate, trajectory_columns
from ..experiments.summary import Tally, wilson
from ..report.compare import paired_difference
from ..report.figure_data import load_run_scenario, read_manifest
from ..report.paths import LENGTH, first_event_paths
from ..scenario import Scenario
from ..scenario.questions import Question


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

    def trajectories(self, columns: list[str]) -> pd.DataFrame | None:
        """The trajectories table's `columns` (None for none)."""
        return pd.read_parquet(self.path / "trajectories.parquet", columns=columns) if columns else None

    @cached_property
    def tally(self) -> Tally:
        """The counts `sim run` prints (outcomes, red lines, measures), from this runs table."""
        import pyarrow as pa

        s = self.scenario
        tally = Tally(self.classes, list(s.red_lines), s.rounds,
                      [m for m in s.measures if f"measure.{m}" in self.runs.columns])
        tally.add(pa.Table.from_pandas(self.runs, preserve_index=False))
        return tally

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
    """Per red line, as `sim run` prints them: crossed and seen by its owner (shares of runs), and
    enforced (share of the runs it was seen in: an owner enforces only what it saw), with intervals."""
    tally = results.tally
    return pd.DataFrame([
        {"red_line": r["red_line"], "crossed": r["crossed"], "crossed_low": r["crossed_ci"][0],
         "crossed_high": r["crossed_ci"][1], "seen": r["seen"], "seen_low": r["seen_ci"][0],
         "seen_high": r["seen_ci"][1], "enforced": r["enforced"], "enforced_low": r["enforced_ci"][0],
         "enforced_high": r["enforced_ci"][1], "crossings": tally.crossed[r["red_line"]]}
        for r in tally.red_line_rows()
    ])


def questions(results: Results) -> dict[str, Question]:
    """What the app can date, by label: the scenario's declared measures first (their question),
    then every event the runs table dates: an actor takes an action, a red line is crossed, a
    commitment invoked, an agreement signed (`sim paths`' events, in the measures' vocabulary)."""
    s, out = results.scenario, {}
    for measure in s.measures.values():
        out[f"{measure.question} (measure)"] = measure
    for column in results.runs.columns:
        if column.startswith("first."):
            actor, action = column.removeprefix("first.").split(".", 1)
            out[f"{actor} takes {action}"] = Question(question=f"{actor} takes {action}", kind="takes",
                                                      actor=actor, action=action)
    for lid in s.red_lines:
        out[f"red line {lid} crossed"] = Question(question=f"red line {lid} crossed", kind="red_line", red_line=lid)
    for cid in s.commitments:
        out[f"{cid} invoked"] = Question(question=f"{cid} invoked", kind="commitment", commitment=cid)
    for gid in s.agreements:
        out[f"{gid} agreed"] = Question(question=f"{gid} agreed", kind="agreement", agreement=gid)
    return out


def question_by_date(results: Results, question: Question) -> pd.DataFrame:
    """P(the question is answered yes by each date) with its 95% interval: the question asked
    with each round as its horizon (`by`), evaluated as measures are (experiments/questions.py)."""
    asked = {k: question.model_copy(update={"by": k}) for k in range(1, len(results.dates) + 1)}
    answers = evaluate(asked, results.runs, results.trajectories(trajectory_columns(asked, results.scenario)),
                       results.scenario)
    return by_date(results, np.array([answers[k].to_numpy() for k in asked]))


def by_date(results: Results, answers: np.ndarray) -> pd.DataFrame:
    """P(yes by each date) with its 95% interval, from one row of yes/no per round."""
    rows = []
    for k, (date, yes) in enumerate(zip(results.dates, answers), start=1):
        hits, n = int(yes.sum()), len(yes)
        low, high = wilson(hits, n)
        rows.append({"round": k, "date": date, "p": hits / n, "low": low, "high": high})
    return pd.DataFrame(rows)


def classes_by_date(results: Results) -> pd.DataFrame:
    """P(class or worse by date) with 95% intervals for every class that can be told before the end
    (experiments.questions.at_least_by_round): one row per date, a column per class."""
    moves = results.trajectories(["run", "round", *(f"moves.{a}" for a in results.scenario.actors)])
    counts = at_least_by_round(results.runs, moves, results.scenario)
    table = pd.DataFrame({"date": results.dates})
    for name, rows in counts.groupby("class", sort=False):
        bounds = [wilson(int(c), int(n)) for c, n in zip(rows["count"], rows["n"])]
        table[name] = (rows["count"] / rows["n"]).to_numpy()
        table[f"{name} low"], table[f"{name} high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return table


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
    for mid, measure in {**a.scenario.measures, **b.scenario.measures}.items():
        column = f"measure.{mid}"
        if column in a_runs.columns and column in b_runs.columns:
            row(measure.question, a_runs[column].to_numpy(dtype=bool), b_runs[column].to_numpy(dtype=bool))
    return pd.DataFrame(rows)


def paths(results: Results, outcome: str, top: int = 5) -> pd.DataFrame:
    """The most common first-event paths to `outcome` or worse (`sim paths DIR --to CLASS`)."""
    return first_event_paths(results.runs, results.scenario, outcome, top=top, length=LENGTH)


def trace_text(results: Results, run: int) -> str:
    """Run `run` replayed as a dated story (`sim trace DIR --run N --brief`)."""
    from ..report.trace import format_trace, trace_run

    return format_trace(trace_run(results.path, run), brief=True)


def summary_csv(results: Results) -> bytes:
    """Outcomes, red lines and measures with their intervals, as `sim export` writes summary.csv."""
    return summary_frame(results.tally).to_csv(index=False).encode()


def runs_csv(results: Results) -> bytes:
    """The runs in tidy (long) form, one row per run and quantity, as `sim export` writes runs.csv."""
    return tidy_runs(results.runs, results.scenario).to_csv(index=False).encode()


def report_html(results: Results) -> bytes:
    """The HTML report of the run (`sim report DIR`)."""
    import matplotlib

    from ..report.html_report import build_report

    matplotlib.use("Agg")
    return build_report(results.path).encode()
