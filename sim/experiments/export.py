"""Tidy (long) tables of results, for spreadsheets and data frames without sim's conventions.

The runs table's dotted columns (`crossed.<red line>`, `param.<path>`) become rows of
(run, quantity, id, value, text); the trajectories' bit masks become one row per move
(run, round, date, actor, kind, action, target). `sim export` writes them as CSV or Parquet.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..scenario import Scenario
from ..scenario.calendar import round_dates
from .summary import Tally

FORMATS = ("csv", "parquet")


def summary_frame(tally: Tally) -> pd.DataFrame:
    """One row per outcome class, red line (crossed and enforced | crossed) and measure:
    what, id, p, low, high (Wilson 95%), count, n."""
    rows = [{"what": "outcome", "id": r["outcome"], "count": r["runs"], "n": tally.runs} for r in tally.outcome_rows()]
    for lid in tally.red_lines:
        rows.append({"what": "crossed", "id": lid, "count": tally.crossed[lid], "n": tally.runs})
        rows.append({"what": "enforced|crossed", "id": lid, "count": tally.enforced[lid], "n": tally.crossed[lid]})
    rows += [{"what": "measure", "id": r["measure"], "count": r["runs"], "n": tally.runs} for r in tally.measure_rows()]
    return _with_intervals(pd.DataFrame(rows, columns=["what", "id", "count", "n"]))


def measure_frame(tally: Tally, scenario: Scenario) -> pd.DataFrame:
    """The declared measures: id, question, p, low, high, count, n."""
    frame = summary_frame(tally)
    frame = frame[frame["what"] == "measure"].drop(columns="what").reset_index(drop=True)
    frame.insert(1, "question", [scenario.measures[m].question for m in frame["id"]])
    return frame


def _with_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    from .summary import wilson

    bounds = [wilson(int(c), int(n)) for c, n in zip(frame["count"], frame["n"])]
    frame["p"] = [c / n if n else float("nan") for c, n in zip(frame["count"], frame["n"])]
    frame["low"] = [b[0] for b in bounds]
    frame["high"] = [b[1] for b in bounds]
    return frame[["what", "id", "p", "low", "high", "count", "n"]]


def tidy_runs(runs: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per run and quantity: run, quantity (the column's prefix), id (the rest, e.g. a red
    line or a parameter path), value (numbers and yes/no as 1/0; empty for never) and text (a
    category: the outcome class, a commitment's status). `round.`/`agreed.`/`first.` values are
    rounds; `date` gives the first day of that round."""
    keys = [c for c in ("point", "run") if c in runs.columns]
    frames = []
    dates = {r: d.isoformat() for r, d in enumerate(round_dates(scenario), start=1)}
    for column in runs.columns:
        if column in keys:
            continue
        quantity, _, ident = column.partition(".")
        series = runs[column]
        piece = runs[keys].copy()
        piece["quantity"], piece["id"] = quantity, ident
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
            piece["value"], piece["text"] = np.nan, series.astype(str).to_numpy()
        else:
            values = series.astype("float64").to_numpy()
            piece["value"], piece["text"] = values, None
        if quantity in ("round", "agreed", "first", "invoked", "peak_round"):
            piece["date"] = series.map(dates).astype(object).to_numpy()
        frames.append(piece)
    tidy = pd.concat(frames, ignore_index=True)
    if "date" not in tidy.columns:
        tidy["date"] = None
    return tidy[[*keys, "quantity", "id", "value", "text", "date"]]


def tidy_moves(trajectories: pd.DataFrame, options: Mapping[str, list[str]], scenario: Scenario) -> pd.DataFrame:
    """One row per move and per standing activity in force: run, round, date, actor, kind
    (move or activity), action, target; the bit masks decoded with their option labels."""
    dates = np.array([d.isoformat() for d in round_dates(scenario)], dtype=object)
    frames = []
    for actor, labels in options.items():
        for kind, prefix in (("move", "moves"), ("activity", "activities")):
            column = f"{prefix}.{actor}"
            if column not in trajectories.columns:
                continue
            masks = trajectories[column].to_numpy().astype(np.uint64)
            for bit, label in enumerate(labels):
                hit = (masks >> np.uint64(bit)) & np.uint64(1) == 1
                if not hit.any():
                    continue
                action, _, target = label.partition(">")
                rounds = trajectories["round"].to_numpy()[hit]
                frames.append(pd.DataFrame({"run": trajectories["run"].to_numpy()[hit], "round": rounds,
                                            "date": dates[rounds.astype(int) - 1], "actor": actor, "kind": kind,
                                            "action": action, "target": target}))
    columns = ["run", "round", "date", "actor", "kind", "action", "target"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).sort_values(["run", "round", "actor"], kind="stable")[columns]
