"""`sim forecast`: the rest of the horizon, from the runs consistent with what was observed by a date.

What the record says by `as_of` conditions the runs in two ways, by how sure it is:
- an event the record gives with `sure: high` is a hard constraint: runs that disagree with it
  are rejected (rejection sampling: the survivors are draws from the model given the record);
- an event given as `moderate` or `low` is soft evidence: every run is kept with the weight
  P(the record says so | the run), r if the run agrees and 1 - r if not, r being the event's
  `record_probability` (importance sampling; the same channel as calibration's likelihood).
  Rejecting on an uncertain report would let one unconfirmed rumour veto the runs that explain
  everything else.

Blocks of runs (the run's blocks: seed, point 0, block b) are simulated until at least
`survivors` runs pass, or `max_runs` have been tried; if none passed by then, the error names
the hard events no run, or fewest runs, agreed with. Forecasts are weighted shares among the
survivors, with Wilson intervals on the weights' effective sample size.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from ..engine.clock import calendar
from ..engine.model import ScenarioRef, resolve_scenario
from ..experiments.ensemble import BLOCK, BlockTask, cap_workers
from ..experiments.executors import LocalExecutor
from ..experiments.results import ResultsDir, command_line, default_out, environment, now, sha256
from ..experiments.summary import wilson
from ..scenario import dump_scenario
from .blocks import EventTask, evaluate_blocks
from .evaluate import check_events, round_of
from .events import Events, load_events
from .likelihood import HARD, effective_sample_size

MAX_TRIED = 10_000_000


class ForecastError(ValueError):
    """The record cannot be conditioned on: bad options, or no run agreed with it."""


class ForecastWarning(UserWarning):
    """Fewer survivors than asked for: the forecast stands on what there is."""


@dataclass(frozen=True)
class Forecast:
    """A conditional forecast: how many runs were tried and kept, and what the kept runs say."""

    path: Path
    as_of: dt.date
    simulated: int
    survivors: int
    ess: float
    given: list[str]  # events dated by as_of, hard and soft
    outcomes: pd.DataFrame  # class, p, low, high
    red_lines: pd.DataFrame  # red line, crossed by as_of, crossed after
    later: pd.DataFrame  # events dated after as_of: p given the record, p unconditioned, what happened


def _weights(hits: np.ndarray, happened: np.ndarray, record: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """Each run's weight: 0 unless it agrees with every hard event; the product over soft events
    of r where it agrees and 1 - r where not."""
    agree = hits == happened
    keep = agree[:, hard].all(axis=1)
    soft = np.where(agree[:, ~hard], record[~hard], 1.0 - record[~hard]).prod(axis=1)
    return keep * soft


def _no_survivor_error(hits: np.ndarray, happened: np.ndarray, hard: np.ndarray, ids: list[str], tried: int) -> str:
    agreeing = (hits[:, hard] == happened[hard]).sum(axis=0)
    names = [eid for eid, h in zip(ids, hard) if h]
    never = [eid for eid, n in zip(names, agreeing) if n == 0]
    if never:
        return (f"no run of {tried:,} agrees with the record on {', '.join(never)} "
                f"(expected at least one run consistent with every event dated by --as-of)")
    fewest = names[int(np.argmin(agreeing))]
    return (f"no run of {tried:,} agrees with every event dated by --as-of at once (each alone has some; "
            f"fewest agree on {fewest}: {int(agreeing.min()):,} runs)")


def _share(values: np.ndarray, weights: np.ndarray, ess: float) -> tuple[float, float, float]:
    p = float(weights @ values / weights.sum())
    low, high = wilson(p * ess, ess)  # type: ignore[arg-type]  # weighted: successes and trials in ESS units
    return p, low, high


def forecast(scenario: ScenarioRef, given: str | Path, as_of: dt.date, survivors: int = 1000, seed: int = 0,
             max_runs: int = 1_000_000, batch: int = BLOCK, workers: int | None = None,
             out: str | Path | None = None) -> Forecast:
    """Condition `scenario` on the events of `given` dated by `as_of` and forecast the rest; write
    a results directory (runs.parquet of the survivors with their weight, outcomes.parquet,
    later.parquet, scenario.yaml, manifest.json)."""
    if not 1 <= survivors <= max_runs <= MAX_TRIED:
        raise ForecastError(f"expected 1 <= --survivors <= --max-runs <= {MAX_TRIED:,}, got {survivors:,} and {max_runs:,}")
    if not 1 <= batch <= BLOCK:
        raise ForecastError(f"--batch must be between 1 and {BLOCK:,} (got {batch})")
    base = resolve_scenario(scenario)
    record = load_events(given).only(rates=False)  # a rate is evidence for calibration, not a run's yes or no
    check_events(record, base)
    ids = list(record.events)
    events = list(record.events.values())
    observed = np.array([e.date <= as_of for e in events])
    if not base.start <= as_of:
        raise ForecastError(f"--as-of {as_of}: before the scenario's start ({base.start})")
    happened = np.array([e.happened for e in events])
    record_p = np.array([e.record_probability for e in events])
    hard = np.array([e.sure == HARD for e in events])
    target = Path(out) if out is not None else default_out(f"{base.name}-forecast", sha256(f"{given}/{as_of}/{seed}"))
    results = ResultsDir(target, numbered=out is None)
    # The destination is locked from here, before any run: a second forecast to the same --out is
    # refused at once, not after all its work.
    with results as folder:
        blocks = -(-max_runs // batch)
        tasks = (EventTask(BlockTask(base, seed, 0, b, min(batch, max_runs - b * batch)), record, keep_runs=True)
                 for b in range(blocks))
        kept_runs, kept_weights, kept_hits, all_hits, tried, kept = [], [], [], [], 0, 0
        with LocalExecutor(cap_workers(workers, blocks)) as pool:
            for block in evaluate_blocks(pool, tasks):
                tried += block.task.block.size
                w = _weights(block.hits[:, observed], happened[observed], record_p[observed], hard[observed])
                all_hits.append(block.hits)
                mask = w > 0
                kept_hits.append(block.hits[mask])
                kept += int(mask.sum())
                kept_runs.append(block.runs.filter(pa.array(mask)))
                kept_weights.append(w[mask])
                if kept >= survivors:
                    break
        hits_all = np.concatenate(all_hits)
        if kept == 0:
            raise ForecastError(_no_survivor_error(hits_all[:, observed], happened[observed], hard[observed],
                                                   [i for i, o in zip(ids, observed) if o], tried))
        if kept < survivors:
            warnings.warn(f"{kept:,} runs of {tried:,} agree with the record by {as_of}, fewer than the {survivors:,} "
                          f"asked for (--max-runs {max_runs:,} reached)", ForecastWarning, stacklevel=2)
        runs = pa.concat_tables(kept_runs).to_pandas()
        weights = np.concatenate(kept_weights)
        ess = effective_sample_size(weights)
        classes = list(base.outcomes.classes)
        outcomes = pd.DataFrame([(c, *_share((runs["outcome"].astype(str) == c).to_numpy(float), weights, ess))
                                 for c in classes], columns=["outcome", "p", "low", "high"])
        now_round = round_of(as_of, base)
        lines = []
        for lid in base.red_lines:
            crossed = runs[f"round.{lid}"].to_numpy(float)
            before = np.nan_to_num(crossed, nan=np.inf) <= now_round
            after = (np.nan_to_num(crossed, nan=-np.inf) > now_round)
            lines.append((lid, *_share(before.astype(float), weights, ess), *_share(after.astype(float), weights, ess)))
        red_lines = pd.DataFrame(lines, columns=["red_line", "by_as_of", "by_low", "by_high", "after", "after_low", "after_high"])
        later_rows = []
        survivor_hits = np.concatenate(kept_hits)
        for i, (eid, e) in enumerate(zip(ids, events)):
            if observed[i]:
                continue
            p, low, high = _share(survivor_hits[:, i].astype(float), weights, ess)
            later_rows.append((eid, str(e.date), p, low, high, float(hits_all[:, i].mean()), e.happened))
        later = pd.DataFrame(later_rows, columns=["event", "date", "p", "low", "high", "p_unconditioned", "happened"])
        runs.insert(1, "weight", weights)
        manifest = {"kind": "forecast", "scenario": base.name, "scenario_sha256": sha256(dump_scenario(base)),
                    "given": str(given), "as_of": str(as_of), "as_of_round": now_round, "seed": seed, "batch": batch,
                    "simulated": tried, "survivors": kept, "survivors_requested": survivors, "ess": ess,
                    "hard": [i for i, o, h in zip(ids, observed, hard) if o and h],
                    "soft": [i for i, o, h in zip(ids, observed, hard) if o and not h],
                    "runs": kept, "rounds": base.rounds, **calendar(base), "block_size": BLOCK,
                    "version": __version__, "command": command_line(), **environment(), "finished": now()}
        folder.append("runs.parquet", pa.Table.from_pandas(runs, preserve_index=False))
        folder.append("outcomes.parquet", pa.Table.from_pandas(outcomes, preserve_index=False))
        folder.append("red_lines.parquet", pa.Table.from_pandas(red_lines, preserve_index=False))
        folder.append("later.parquet", pa.Table.from_pandas(later, preserve_index=False))
        folder.write_text("scenario.yaml", dump_scenario(base))
        folder.write_json("manifest.json", manifest)
    return Forecast(results.final, as_of, tried, kept, ess, [i for i, o in zip(ids, observed) if o], outcomes,
                    red_lines, later)


def format_forecast(f: Forecast) -> str:
    """The summary `sim forecast` prints: runs tried and kept, then the forecasts with intervals."""
    lines = [f"forecast as of {f.as_of}: {f.survivors:,} of {f.simulated:,} runs agree with the record "
             f"({len(f.given)} events dated by then; effective sample size {f.ess:,.1f})  ->  {f.path}", "",
             f"{'outcome':<22}{'probability':>12}   95% interval"]
    for row in f.outcomes.itertuples():
        lines.append(f"{row.outcome:<22}{row.p:>12.4f}   [{row.low:.4f}, {row.high:.4f}]")
    lines += ["", f"{'red line':<34}{'crossed by then':>16}{'crossed after':>15}   95% interval"]
    for row in f.red_lines.itertuples():
        lines.append(f"{row.red_line:<34}{row.by_as_of:>16.4f}{row.after:>15.4f}   [{row.after_low:.4f}, "
                     f"{row.after_high:.4f}]")
    if len(f.later):
        lines += ["", f"{'event after ' + str(f.as_of):<36}{'date':>11}  {'given record [95% interval]':<29}"
                      f"{'unconditioned':>13}{'happened':>10}"]
        for row in f.later.itertuples():
            given = f"{row.p:.4f} [{row.low:.4f}, {row.high:.4f}]"
            lines.append(f"{row.event:<36}{row.date:>11}  {given:<29}{row.p_unconditioned:>13.4f}"
                         f"{'yes' if row.happened else 'no':>10}")
        lines.append("intervals: Wilson's with the survivors' effective sample size as the number of runs")
    return "\n".join(lines)
