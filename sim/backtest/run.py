"""`sim backtest`: run a scenario, evaluate every event in every run, score the model and the
reference forecasters against what happened, and write it all into one results directory.

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

    def summary(self) -> str:
        title = (f"{self.scenario.name} against {self.events.file}: {len(self.table)} events, {self.runs:,} runs, "
                 f"seed {self.seed}  ->  {self.path}")
        return format_backtest(title, self.table, self.scores)


def forecaster_names(table: pd.DataFrame) -> list[str]:
    return [c.removeprefix("p.") for c in table.columns if c.startswith("p.")]


def score_table(events: Events, scenario: Scenario, probability: Mapping[str, float]) -> pd.DataFrame:
    """One row per event: what it asks, what happened, and each forecaster's probability, Brier
    and log score (the model's from `probability`, the reference forecasters' from the file)."""
    ids = list(events.events)
    forecasts = {MODEL: dict(probability), **reference_forecasts(events, scenario)}
    observed = np.array([events.events[e].happened for e in ids])
    table = pd.DataFrame({
        "event": ids,
        "kind": [events.events[e].kind for e in ids],
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


def mean_scores(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per forecaster: mean Brier and log score over events with bootstrap 95% intervals, and
    its mean score minus the model's (positive: the model did better) with a paired interval.
    Every bootstrap uses the same seed, so all resample the same events: the paired intervals
    hold the events fixed across forecasters."""
    rows = []
    for name in forecaster_names(table):
        row: dict[str, Any] = {"forecaster": name}
        for rule in ("brier", "log"):
            scores = table[f"{rule}.{name}"].to_numpy()
            mean, low, high = bootstrap_mean(scores, seed=seed)
            gap, gap_low, gap_high = bootstrap_mean(scores - table[f"{rule}.{MODEL}"].to_numpy(), seed=seed)
            row.update({rule: mean, f"{rule}_low": low, f"{rule}_high": high,
                        f"{rule}_minus_model": gap, f"{rule}_minus_model_low": gap_low,
                        f"{rule}_minus_model_high": gap_high})
        rows.append(row)
    return pd.DataFrame(rows)


def backtest(scenario: ScenarioRef, events: Events | str | Path, runs: int = 10_000, seed: int = 0,
             out: str | Path | None = None, workers: int | None = None, progress: bool = False) -> BacktestResult:
    """Run `scenario` `runs` times and score its forecasts of `events` (an Events or a file),
    beside the reference forecasters. Bad input (ScenarioError, ValueError) is refused before
    anything runs; the results directory appears only when complete."""
    from ..api import run

    source = None if isinstance(events, Events) else Path(events)
    loaded = (events if isinstance(events, Events) else load_events(events)).only(rates=False)  # rates: calibration's
    check_events(loaded, resolve_scenario(scenario))
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
                "log_score_clip": CLIP, "record_probability": SURE,
                "scores": scores.set_index("forecaster").round(6).to_dict(orient="index")}

    result = run(scenario, runs, seed, out=out, workers=workers, progress=progress, kind="backtest",
                      on_block=on_block, finish=finish)
    return BacktestResult(result.path, result.scenario, loaded, seed, runs, found["table"], found["scores"])


def format_backtest(title: str, table: pd.DataFrame, scores: pd.DataFrame) -> str:
    """The per-event table and the mean scores, as `sim backtest` prints them."""
    width = max(len("event"), *(len(e) for e in table["event"]))
    lines = [title, "",
             f"{'event':<{width}}  {'model':>7}  {'base':>7}  {'persist':>7}  happened  {'Brier':>6}  {'log':>6}"]
    for record in table.to_dict(orient="records"):
        lines.append(f"{record['event']:<{width}}  {_pct(record['p.model']):>7}  {_pct(record['p.base_rate']):>7}  "
                     f"{_pct(record['p.persistence']):>7}  {'yes' if record['observed'] else 'no':<8}  "
                     f"{record['brier.model']:>6.3f}  {record['log.model']:>6.3f}")
    lines += ["", f"mean over {len(table)} events, 95% bootstrap intervals over events "
                  f"(log score with p clipped to [{CLIP:g}, {1 - CLIP:g}]); 'minus model' > 0: the model scores better",
              f"{'forecaster':<14}  {'Brier':<22}  {'minus model':<25}  {'log score':<22}  {'minus model'}"]
    for row in scores.to_dict(orient="records"):
        cells = [f"{row['forecaster']:<14}"]
        for rule in ("brier", "log"):
            cells.append(f"{_interval(row, rule):<22}")
            gap = "" if row["forecaster"] == MODEL else _interval(row, f"{rule}_minus_model", signed=True)
            cells.append(f"{gap:<25}")
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _interval(row: Mapping[str, Any], key: str, signed: bool = False) -> str:
    form = "+.3f" if signed else ".3f"
    return f"{row[key]:{form}} ({row[f'{key}_low']:{form}} to {row[f'{key}_high']:{form}})"


def _pct(p: float) -> str:
    return "-" if not np.isfinite(p) else f"{100 * p:.1f}%"
