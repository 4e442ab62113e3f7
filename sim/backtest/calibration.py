"""`sim calibrate`: fit chosen parameters to a dated record by likelihood weighting over a design.

A design (lhs, sobol or grid: sim.experiments.designs) spreads points uniformly over the box
of the varied parameters, so each point's posterior weight is its likelihood (a uniform prior
over the box; see likelihood.py for how the likelihood is computed). Every point runs the same
blocks of replicates as a sweep would (seed, point, block), on the sweep executors, and every
event is evaluated inside the worker (blocks.py). The posterior is the weighted points, written
as a joint `empirical` distribution in a scenario that `extends` the one calibrated.

Why likelihood weighting rather than ABC-SMC (pyabc): the likelihood of a yes/no record is
available in closed form from event frequencies, so nothing needs approximating by distance
thresholds; and one design, run once on our own executors, gives the posterior, the holdout
fit and the prior-against-posterior figure, reproducible bit for bit from the seed. Its limit is
the design's resolution: with many parameters or a sharp likelihood few points carry the
weight, which the effective sample size reports.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from .. import __version__
from ..engine.clock import add_months, calendar
from ..engine.model import ScenarioRef, resolve_scenario
from ..experiments.designs import Factor, SweepInputError, VarySpec, design_points, parse_vary
from ..experiments.ensemble import MAX_RUNS, block_tasks, cap_workers
from ..experiments.executors import make_executor
from ..experiments.results import ResultsDir, command_line, default_out, environment, git_commit, now, sha256
from ..experiments.sweeps import check_factor
from ..scenario import Scenario, dump_scenario
from ..scenario.dotpath import parse_path
from ..scenario.loader import with_overrides
from .blocks import EventTask, evaluate_blocks
from .evaluate import check_events
from .events import Events, load_events
from .likelihood import (effective_sample_size, likelihood_weights, log_likelihood, posterior_predictive,
                         record_certainty)
from .scoring import brier, log_score

FIT_MONTHS = 4  # the holdout fits on events dated in the record's first four months, scores the rest
JOINT_GROUP = "calibration"
REFERENCE = "calibration"


@dataclass(frozen=True)
class Calibration:
    """A finished calibration: where it is written, and what a summary prints."""

    path: Path
    paths: list[str]
    posterior: pd.DataFrame  # one row per design point: values, hits, log-likelihood, weights
    events: pd.DataFrame  # one row per event: the record and each forecast of it
    scores: dict[str, dict[str, float]]
    ess: float
    calibrated_yaml: str


def range_factors(vary: VarySpec) -> list[Factor]:
    """Factors from `PATH=lo:hi` (a range is all a sampled design needs) or any sweep SPEC."""
    items = [f"{k}={v}" for k, v in vary.items()] if isinstance(vary, Mapping) else list(vary)
    return parse_vary([f"{item}:2" if item.count(":") == 1 and "," not in item else item for item in items])


def _event_table(events: Events) -> pd.DataFrame:
    start = events.start
    rows = []
    for eid, e in events.events.items():
        split = "fit" if e.date < add_months(start, FIT_MONTHS) else "test"
        rows.append({"event": eid, "date": e.date, "happened": e.happened, "sure": e.sure,
                     "record": record_certainty(e), "holdout": split})
    return pd.DataFrame(rows)


def _hits(executor: Any, tasks: list[EventTask], groups: list[int], n_groups: int, n_events: int) -> np.ndarray:
    """Events happened per group of blocks (a design point, or a whole scenario)."""
    hits = np.zeros((n_groups, n_events), dtype=np.int64)
    for group, block in zip(groups, evaluate_blocks(executor, tasks)):
        hits[group] += block.hits.sum(axis=0)
    return hits


def _scores(p: np.ndarray, happened: np.ndarray) -> dict[str, float]:
    if len(p) == 0:
        return {}
    return {"brier": float(brier(p, happened).mean()), "log": float(log_score(p, happened).mean()), "events": len(p)}


def _nested(changes: Mapping[tuple, Any], extra_sources: Mapping[tuple, list[str]]) -> dict[str, Any]:
    """Dotted-path changes as the nested mapping an extending file writes, owners' sources included."""
    tree: dict[str, Any] = {}
    for keys, value in [*((k, v) for k, v in extra_sources.items()), *changes.items()]:
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return tree


def _owner_sources(data: dict[str, Any], keys: tuple) -> tuple[tuple, list[str]]:
    """The nearest block above `keys` that cites sources, and its sources with the calibration added."""
    for n in range(len(keys) - 1, -1, -1):
        node: Any = data
        for key in keys[:n]:
            node = node[key]
        if isinstance(node, dict) and "sources" in node:
            cited = [s for s in node["sources"] if s != REFERENCE]
            return (*keys[:n], "sources"), [*cited, REFERENCE]
    raise SweepInputError(f"--vary {'.'.join(map(str, keys))}: no block above it cites sources")


def posterior_values(paths: Sequence[str], values: np.ndarray, weights: np.ndarray) -> dict[str, dict[str, Any]]:
    """Each varied path as the joint `empirical` distribution of the weighted points, as a
    scenario writes it: values and weights to 6 significant figures, points whose weight rounds to
    nothing left out."""
    shown = np.array([float(f"{w:.6g}") for w in weights / weights.max()])
    keep = shown > 0
    return {path: {"empirical": {"values": [float(f"{v:.6g}") for v in values[keep, j]], "weights": [float(w) for w in shown[keep]],
                                 "joint": JOINT_GROUP}} for j, path in enumerate(paths)}


def calibrated_scenario(base: Scenario, extends: str, posterior: Mapping[str, Any], header: str, citation: str) -> str:
    """The YAML of a scenario that extends `extends` with the `posterior` values (posterior_values)
    and cites the calibration in the sources of each block it changes."""
    data = base.model_dump(mode="json")
    changes, owners = {}, {}
    for path, value in posterior.items():
        keys = parse_path(data, path)
        if any(isinstance(k, int) for k in keys):
            raise SweepInputError(f"--vary {path}: calibrate varies values in mappings, not list items")
        changes[keys] = value
        where, cited = _owner_sources(data, keys)
        owners[where] = cited
    body = {"extends": extends, "name": f"{base.name}-calibrated",
            "description": f"{base.name} with {', '.join(posterior)} drawn jointly from their posterior given the "
                           f"record (sim calibrate; see the calibration reference).",
            "references": {REFERENCE: {"title": "Calibration of this scenario to a dated record",
                                       "citation": citation, "year": dt.date.today().year}},
            **_nested(changes, owners)}
    text = yaml.safe_dump(body, sort_keys=False, width=100, allow_unicode=True, default_flow_style=None)
    return header + text


def _extends_ref(scenario: ScenarioRef, base: Scenario) -> str:
    if isinstance(scenario, Scenario):
        return base.name
    text = str(scenario)
    return text if not text.endswith((".yaml", ".yml")) else str(Path(text).resolve())


def calibrate(scenario: ScenarioRef, events: str | Path, vary: VarySpec, points: int = 64, runs: int = 2000,
              seed: int = 0, design: str = "lhs", workers: int | None = None, executor: str = "local",
              address: str | None = None, out: str | Path | None = None, score_runs: int = 10_000) -> Calibration:
    """Fit the `vary` parameters of `scenario` to the record in `events` and write a results
    directory (posterior.parquet, events.parquet, calibrated.yaml, scenario.yaml, manifest.json).
    The scenario as given and the calibrated one are scored on `score_runs` fresh runs each: the
    log score of a rare event that happened is too noisy on a point's few thousand.

    Bad input (ScenarioError for the scenario or the events file, SweepInputError, ValueError)
    is refused before anything runs or is written."""
    for option, count in (("--runs", runs), ("--score-runs", score_runs)):
        if not 1 <= count <= MAX_RUNS:
            raise SweepInputError(f"{option} must be between 1 and {MAX_RUNS:,} (got {count})")
    base = resolve_scenario(scenario)
    record = load_events(events)
    check_events(record, base)
    factors = [check_factor(base, f, i) for i, f in enumerate(range_factors(vary), start=1)]
    paths = [f.path for f in factors]
    values = np.array(design_points(factors, design, points if design != "grid" else None, seed), dtype=float)
    table = _event_table(record)
    n, n_events = len(values), len(table)
    target = Path(out) if out is not None else default_out(base.name, sha256(f"{dump_scenario(base)}/{paths}/{seed}"))
    results = ResultsDir(target, numbered=out is None)  # checks the destination before any work
    point_scenarios = [with_overrides(base, dict(zip(paths, v))) for v in values]
    tasks, groups = [], []
    for p, s in enumerate([*point_scenarios, base]):  # the base runs as point n: its own seed stream
        for task in block_tasks(s, runs if p < n else score_runs, seed, point=p, trajectories=False):
            tasks.append(EventTask(task, record))
            groups.append(p)
    count = cap_workers(workers, len(tasks)) if address is None else (workers or 1)
    with make_executor(executor, count, address) as pool:
        hits = _hits(pool, tasks, groups, n + 1, n_events)
        before_hits, hits = hits[n], hits[:n]
        record_p = table["record"].to_numpy()
        log_lik = log_likelihood(hits, runs, record_p)
        weights = likelihood_weights(log_lik)
        fit = (table["holdout"] == "fit").to_numpy()
        test = (table["holdout"] == "test").to_numpy()
        fit_weights = likelihood_weights(log_likelihood(hits[:, fit], runs, record_p[fit]))
        started = now()
        citation = (f"sim {__version__} (git {git_commit() or 'unknown'}), {dt.date.today().isoformat()}: "
                    f"{command_line()}. Likelihood weighting of {n} {design} points x {runs:,} runs against "
                    f"{len(table)} events of {events}; Kish effective sample size "
                    f"{effective_sample_size(weights):.1f}.")
        header = "".join(f"# {line}\n" for line in textwrap.wrap(f"Written by sim calibrate; {citation}", 98))
        drawn = posterior_values(paths, values, weights)
        text = calibrated_scenario(base, _extends_ref(scenario, base), drawn, header, citation)
        calibrated = with_overrides(base, drawn)
        after_tasks = [EventTask(t, record) for t in block_tasks(calibrated, score_runs, seed, point=n + 1)]
        after_hits = _hits(pool, after_tasks, [0] * len(after_tasks), 1, n_events)[0]
    happened = table["happened"].to_numpy()
    table["p_before"] = before_hits / score_runs
    table["p_after"] = after_hits / score_runs
    table["p_posterior"] = posterior_predictive(weights, hits, runs)
    table["p_holdout"] = np.where(test, posterior_predictive(fit_weights, hits, runs), np.nan)
    scores = {
        "before": _scores(table["p_before"].to_numpy(), happened),
        "after": _scores(table["p_after"].to_numpy(), happened),
        "holdout_before": _scores(table["p_before"].to_numpy()[test], happened[test]),
        "holdout_after": _scores(table["p_holdout"].to_numpy()[test], happened[test]),
    }
    posterior = pd.DataFrame({"point": np.arange(n), **{f"param.{p}": values[:, j] for j, p in enumerate(paths)},
                              "log_likelihood": log_lik, "weight": weights, "holdout_weight": fit_weights,
                              **{f"hits.{e}": hits[:, i] for i, e in enumerate(table["event"])}})
    ess = effective_sample_size(weights)
    manifest = {"kind": "calibration", "scenario": base.name, "scenario_sha256": sha256(dump_scenario(base)),
                "events": str(events), "seed": seed, "runs": runs, "rounds": base.rounds, **calendar(base),
                "design": design, "points": n, "score_runs": score_runs, "vary": {f.path: [f.low, f.high] for f in factors},
                "ess": ess, "ess_holdout": effective_sample_size(fit_weights), "scores": scores,
                "holdout": {"fit_before": str(add_months(record.start, FIT_MONTHS))},
                "executor": executor, "workers": count, "version": __version__, "command": command_line(),
                **environment(), "started": started, "finished": now()}
    with results as folder:
        folder.append("posterior.parquet", pa.Table.from_pandas(posterior, preserve_index=False))
        folder.append("events.parquet", pa.Table.from_pandas(table.astype({"date": str}), preserve_index=False))
        folder.write_text("calibrated.yaml", text)
        folder.write_text("scenario.yaml", dump_scenario(base))
        folder.write_json("manifest.json", manifest)
    return Calibration(results.final, paths, posterior, table, scores, ess, text)


def format_calibration(c: Calibration) -> str:
    """The summary `sim calibrate` prints: ESS, each parameter's prior and posterior, the scores."""
    w = c.posterior["weight"].to_numpy()
    lines = [f"calibration: {len(c.posterior)} points, {len(c.events)} events  ->  {c.path}",
             f"effective sample size (Kish): {c.ess:.1f} of {len(c.posterior)} points", "",
             f"{'parameter':<58}{'prior mean':>11}{'posterior mean':>16}{'sd':>8}"]
    for path in c.paths:
        x = c.posterior[f"param.{path}"].to_numpy()
        mean = float(w @ x)
        sd = float(np.sqrt(w @ (x - mean) ** 2))
        lines.append(f"{path:<58}{x.mean():>11.3f}{mean:>16.3f}{sd:>8.3f}")
    lines += ["", f"{'score (mean over events)':<34}{'Brier':>8}{'log':>8}{'events':>8}"]
    names = {"before": "in-sample, scenario as given", "after": "in-sample, calibrated",
             "holdout_before": "holdout, scenario as given", "holdout_after": f"holdout, fitted on months 1-{FIT_MONTHS}"}
    for key, label in names.items():
        s = c.scores.get(key) or {}
        if s:
            lines.append(f"{label:<34}{s['brier']:>8.3f}{s['log']:>8.3f}{s['events']:>8d}")
        elif key.startswith("holdout"):
            lines.append(f"{label:<34}  (no events dated after month {FIT_MONTHS} of the record)")
    lines += ["", f"calibrated scenario: {c.path / 'calibrated.yaml'} (sim run accepts it)"]
    return "\n".join(lines)


__all__ = ["Calibration", "calibrate", "calibrated_scenario", "format_calibration", "range_factors"]
