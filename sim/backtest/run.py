"""`sim backtest`: run a scenario, evaluate every event in every run, score the model and the
reference forecasters against what happened, and write it all into one results directory.

The headline scores the events that forecast something: each cluster of nested events counts
once (each event weighs 1/size of its cluster), and events true by construction (what the
scenario starts with, asked to persist) are scored apart. The mean over all events, unweighted,
is kept beside them as the old headline was.

The results directory is a run directory (runs.parquet, trajectories.parquet, scenario.yaml)
with `kind: backtest` in its manifest, the events file as given (`events.yaml`) and
`backtest.parquet`: one row per event with each forecaster's probability and scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..engine.model import ScenarioRef, resolve_scenario
from ..experiments.ensemble import BlockResult
from ..experiments.results import ResultsDir, sha256
from ..scenario import Scenario
from ..scenario.yamlio import read_text
from .construction import true_by_construction
from .evaluate import check_events, evaluate_result, horizon_round
from .events import SURE, Events, load_events
from .forecasters import reference_forecasts
from .scoring import CLIP, bootstrap_mean, brier, log_score

MODEL = "model"


@dataclass
class BacktestResult:
    """A finished backtest: where its directory is, the table per event, the mean scores."""

    path: Path
    scenario: Scenario
    events: Events
    seed: int
    runs: int
    table: pd.DataFrame
    scores: pd.DataFrame

    @property
    def headline(self) -> pd.DataFrame:
        return headline_scores(self.table, self.seed)

    @property
    def by_construction(self) -> pd.DataFrame:
        return mean_scores(self.table[self.table["by_construction"]], self.seed, weighted=True)

    def summary(self) -> str:
        title = (f"{self.scenario.name} against {self.events.file}: {len(self.table)} events, {self.runs:,} runs, "
                 f"seed {self.seed}  ->  {self.path}")
        return format_backtest(title, self.table, self.seed)

    def to_json(self) -> dict[str, Any]:
        """The headline, the by-construction block and the unweighted mean over all events."""
        return summary_json(self.table, self.seed)


def forecaster_names(table: pd.DataFrame) -> list[str]:
    return [c.removeprefix("p.") for c in table.columns if c.startswith("p.")]


def score_table(events: Events, scenario: Scenario, probability: Mapping[str, float]) -> pd.DataFrame:
    """One row per event: what it asks, what happened, and each forecaster's probability, Brier
    and log score (the model's from `probability`, the reference forecasters' from the file)."""
    ids = list(events.events)
    forecasts = {MODEL: dict(probability), **reference_forecasts(events, scenario)}
    observed = np.array([events.events[e].happened for e in ids])
    constructed = np.array([true_by_construction(events.events[e], scenario) for e in ids], dtype=bool)
    clusters = np.array([events.events[e].cluster or e for e in ids], dtype=object)
    table = pd.DataFrame({
        "event": ids,
        "kind": [events.events[e].kind for e in ids],
        "cluster": clusters,
        "by_construction": constructed,
        "weight": _weights(clusters, constructed),
        "question": [events.events[e].question for e in ids],
        "observed": observed,
        "date": [events.events[e].date.isoformat() for e in ids],
        "horizon_round": [horizon_round(events.events[e], scenario) for e in ids],
        "sure": [events.events[e].sure for e in ids],
        "record_p": [events.events[e].record_probability for e in ids],
    })
    for name, forecast in forecasts.items():
        p = np.array([forecast[e] for e in ids], dtype=float)
        table[f"p.{name}"] = p
        table[f"brier.{name}"] = brier(p, observed)
        table[f"log.{name}"] = log_score(p, observed)
    return table


def _weights(clusters: np.ndarray, constructed: np.ndarray) -> np.ndarray:
    """Each event's weight in its block (headline or by construction): 1/size of its cluster there."""
    keys = pd.Series(list(zip(constructed, clusters, strict=True)))
    return 1.0 / keys.map(keys.value_counts()).to_numpy(dtype=float)


def mean_scores(table: pd.DataFrame, seed: int = 0, weighted: bool = False) -> pd.DataFrame:
    """Per forecaster: mean Brier and log score over events with bootstrap 95% intervals, and
    its mean score minus the model's (positive: the model did better) with a paired interval.
    Every bootstrap uses the same seed, so all resample the same events: the paired intervals
    hold the events fixed across forecasters. `weighted`: each cluster counts once (its events'
    mean), and whole clusters are resampled. No events: an empty table."""
    if table.empty:
        return pd.DataFrame(columns=["forecaster"])
    clusters = table["cluster"].to_numpy() if weighted else None
    rows = []
    for name in forecaster_names(table):
        row: dict[str, Any] = {"forecaster": name}
        for rule in ("brier", "log"):
            scores = table[f"{rule}.{name}"].to_numpy()
            mean, low, high = bootstrap_mean(scores, seed=seed, clusters=clusters)
            gap, gap_low, gap_high = bootstrap_mean(scores - table[f"{rule}.{MODEL}"].to_numpy(), seed=seed,
                                                    clusters=clusters)
            row.update({rule: mean, f"{rule}_low": low, f"{rule}_high": high,
                        f"{rule}_minus_model": gap, f"{rule}_minus_model_low": gap_low,
                        f"{rule}_minus_model_high": gap_high})
        rows.append(row)
    return pd.DataFrame(rows)


def headline_scores(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The headline's mean scores: clusters once, events true by construction left out (a table
    written before clusters existed has no such columns: all its events, unweighted)."""
    if "by_construction" not in table:
        return mean_scores(table, seed)
    return mean_scores(table[~table["by_construction"].astype(bool)], seed, weighted=True)


def summary_json(table: pd.DataFrame, seed: int = 0) -> dict[str, Any]:
    """`sim backtest --json`: per forecaster in each block, the mean Brier and log score, their
    95% intervals and the paired gap to the model (forecaster minus model, with its interval)."""
    def block(scores: pd.DataFrame) -> dict[str, Any]:
        out = {}
        for row in scores.to_dict(orient="records"):
            entry: dict[str, Any] = {}
            for rule in ("brier", "log"):
                entry[rule] = round(row[rule], 6)
                entry[f"{rule}_interval"] = [round(row[f"{rule}_low"], 6), round(row[f"{rule}_high"], 6)]
                if row["forecaster"] != MODEL:
                    entry[f"{rule}_minus_model"] = [round(row[f"{rule}_minus_model{end}"], 6)
                                                    for end in ("", "_low", "_high")]
            out[row["forecaster"]] = entry
        return out

    headline, constructed = table[~table["by_construction"]], table[table["by_construction"]]
    return {"headline": block(headline_scores(table, seed)),
            "by_construction": block(mean_scores(constructed, seed, weighted=True)),
            "all_events_unweighted": block(mean_scores(table, seed)),
            "events": int(len(headline)), "clusters": int(headline["cluster"].nunique()),
            "by_construction_events": sorted(constructed["event"]), "weighted": True,
            "intervals": "95% percentile bootstrap over clusters (events, unweighted), 10,000 draws, seed "
                         f"{seed}; minus_model: [forecaster minus model, low, high], > 0: the model scores better"}


def backtest(scenario: ScenarioRef, events: Events | str | Path, runs: int = 10_000, seed: int = 0,
             out: str | Path | None = None, workers: int | None = None, progress: bool = False,
             overrides: Mapping[str, Any] | list[str] | None = None) -> BacktestResult:
    """Run `scenario` (with `overrides`, as `sim run --set`) `runs` times and score its forecasts
    of `events` (an Events or a file), beside the reference forecasters. Bad input
    (ScenarioError, ValueError) is refused before anything runs; the results directory appears
    only when complete."""
    from ..experiments.runner import run_scenario

    source = None if isinstance(events, Events) else Path(events)
    loaded = (events if isinstance(events, Events) else load_events(events)).only(rates=False)  # rates: calibration's
    check_events(loaded, resolve_scenario(scenario, overrides or {}))
    hits = pd.Series(0, index=list(loaded.events), dtype=np.int64)
    found: dict[str, Any] = {}

    def on_block(resolved: Scenario, block: BlockResult) -> None:
        hits.loc[:] += evaluate_result(loaded, block, resolved).sum().to_numpy()

    def finish(resolved: Scenario, results: ResultsDir) -> dict[str, Any]:
        table = score_table(loaded, resolved, (hits / runs).to_dict())
        scores = mean_scores(table, seed)
        results.append("backtest.parquet", pa.Table.from_pandas(table, preserve_index=False))
        text = read_text(source) if source is not None else ""
        if text:
            results.write_text("events.yaml", text)
        found.update(table=table, scores=scores)
        return {"events": str(source) if source else loaded.file, "events_sha256": sha256(text) if text else None,
                "climatology": loaded.record.file if loaded.record is not None else None,
                "log_score_clip": CLIP, "record_probability": SURE,
                "scores": scores.set_index("forecaster").round(6).to_dict(orient="index"),
                "summary": summary_json(table, seed)}

    result = run_scenario(scenario, runs, seed, overrides=overrides, out=out if out is not None else True,
                          workers=workers, progress=progress, kind="backtest", on_block=on_block, finish=finish)
    return BacktestResult(result.path, result.scenario, loaded, seed, runs, found["table"], found["scores"])


def format_backtest(title: str, table: pd.DataFrame, seed: int = 0) -> str:
    """The per-event table and the mean scores (headline, by construction, all events
    unweighted), as `sim backtest` prints them."""
    width = max(len("event"), *(len(e) for e in table["event"]))
    shown = [n for n in ("base_rate", "persistence", "climatology") if f"p.{n}" in table]
    heads = {"base_rate": "base", "persistence": "persist", "climatology": "clim"}
    lines = [title, "", f"{'event':<{width}}  {'model':>7}  " + "  ".join(f"{heads[n]:>7}" for n in shown)
             + f"  happened  {'weight':>6}  {'Brier':>6}  {'log':>6}"]
    for record in table.to_dict(orient="records"):
        weight = "constr" if record["by_construction"] else f"{record['weight']:.2f}"
        lines.append(f"{record['event']:<{width}}  {_pct(record['p.model']):>7}  "
                     + "  ".join(f"{_pct(record[f'p.{n}']):>7}" for n in shown)
                     + f"  {'yes' if record['observed'] else 'no':<8}  {weight:>6}  "
                     f"{record['brier.model']:>6.3f}  {record['log.model']:>6.3f}")
    headline, constructed = table[~table["by_construction"]], table[table["by_construction"]]
    lines += ["", f"95% bootstrap intervals (log score with p clipped to [{CLIP:g}, {1 - CLIP:g}]); "
                  "'minus model' > 0: the model scores better"]
    blocks = [(f"HEADLINE: {len(headline)} events in {headline['cluster'].nunique()} clusters, each cluster counted "
               "once (weight), true-by-construction events left out", headline_scores(table, seed)),
              (f"true by construction ({len(constructed)} events: what the scenario starts with, asked to persist)",
               mean_scores(constructed, seed, weighted=True)),
              (f"all {len(table)} events, unweighted (the old headline)", mean_scores(table, seed))]
    for heading, scores in blocks:
        if not scores.empty:
            lines += ["", heading] + _score_lines(scores)
    return "\n".join(lines)


def _score_lines(scores: pd.DataFrame) -> list[str]:
    lines = [f"{'forecaster':<14}  {'Brier':<22}  {'minus model':<25}  {'log score':<22}  {'minus model'}"]
    for row in scores.to_dict(orient="records"):
        cells = [f"{row['forecaster']:<14}"]
        for rule in ("brier", "log"):
            cells.append(f"{_interval(row, rule):<22}")
            gap = "" if row["forecaster"] == MODEL else _interval(row, f"{rule}_minus_model", signed=True)
            cells.append(f"{gap:<25}")
        lines.append("  ".join(cells).rstrip())
    return lines


def _interval(row: Mapping[str, Any], key: str, signed: bool = False) -> str:
    form = "+.3f" if signed else ".3f"
    return f"{row[key]:{form}} ({row[f'{key}_low']:{form}} to {row[f'{key}_high']:{form}})"


def _pct(p: float) -> str:
    return "-" if not np.isfinite(p) else f"{100 * p:.1f}%"
