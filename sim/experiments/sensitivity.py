"""`sim sensitivity`: which varied parameters drive each outcome probability and red-line rate.

The design (salib_designs: Saltelli's for Sobol' indices, or Morris trajectories) is run as an
ordinary sweep over its points (sweeps.sweep: local or Dask, resumable, written whole), then each
point's summary (outcome.<class> and crossed.<line> probabilities, from summary.parquet) is
analysed with SALib: first-order and total Sobol' indices with bootstrap 95% intervals, or Morris
mu*, mu and sigma. The directory is a sweep directory plus sensitivity.parquet, and its manifest
says kind "sensitivity".

Common random numbers, always: every point reuses the same block seeds. Sobol' and Morris
estimators are built from differences between points that share all but one factor (A against
A with one column of B); with shared seeds the Monte Carlo noise of the two estimates is largely
the same and cancels in the difference, instead of adding 2p(1-p)/R to every squared difference.

Noise that remains: each point's probability comes from R runs, with binomial variance
p(1-p)/R. `noise` (per metric, in the manifest and the printed table) is that variance averaged
over the points, as a share of the variance of the probabilities across points. Left alone, such
noise lowers first-order indices (it inflates the variance they are divided by) and raises total
indices (it looks like an interaction with every factor); common random numbers shrink it, and a
share near 1 means the metric barely moves and its indices are noise: raise --runs.

Analysing after the sweep has moved into place keeps one sweep code path: sensitivity.parquet and
then the manifest are each replaced whole, and if that step is cut short the directory is a
complete sweep that `--resume` analyses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .designs import Factor, SweepInputError, parse_vary
from .salib_designs import LEVELS, base_samples
from .sweeps import _vary_located, check_factor, resume_mismatches, sweep
from .results import sha256
from ..engine.model import ScenarioRef, resolve_scenario
from ..scenario import Distribution, Scenario, ScenarioError
from ..scenario.loader import with_overrides
from ..scenario.params import EMPIRICAL, number_text, sampled_parameters

METHODS = {"sobol": "saltelli", "morris": "morris"}  # method -> the sweep design it runs
DEFAULT_POINTS = {"sobol": 64, "morris": 10}  # base samples N / trajectories
CENTRAL = 0.95  # the range taken from an unbounded or peaked distribution
RESAMPLES = 1000  # bootstrap resamples for the intervals
FILE = "sensitivity.parquet"
RESUME_WITH = "sim sensitivity"  # finishes the sweep and analyses it; `sim sweep --resume` would only finish it


@dataclass(frozen=True)
class DefaultRange:
    """A range chosen for a distribution in the scenario, and how (`support` or `central 95%`)."""

    path: str
    low: float
    high: float
    how: str
    distribution: Distribution

    @property
    def vary(self) -> str:
        return f"{self.path}={number_text(self.low)}:{number_text(self.high)}"


def default_ranges(scenario: Scenario) -> list[DefaultRange]:
    """Every parameter the scenario samples per run, over a range: a uniform's or a triangle's
    support; a beta's, a normal's or an empirical's central 95% (a beta's support, [0, 1], is
    mostly values it almost never draws), clipped to the parameter's own range."""
    out = []
    for path, dist in sampled_parameters(scenario):
        a = dist.args
        if dist.kind == "uniform":
            low, high, how = a[0], a[1], "support"
        elif dist.kind == "triangular":
            low, high, how = a[0], a[2], "support"
        else:  # a joint group's members vary one by one, like any others
            low, high = (float(v) for v in dist.quantiles([(1 - CENTRAL) / 2, (1 + CENTRAL) / 2]))
            how = f"central {CENTRAL:.0%}" + (" of its samples" if dist.kind == EMPIRICAL else "")
        low, high = max(low, dist.low), min(high, dist.high)
        if high > low:
            out.append(DefaultRange(path, float(low), float(high), how, dist))
    return out


def _check_ranges(base: Scenario, factors: Sequence[Factor]) -> None:
    """Both ends of every range must be values the scenario accepts: found now, not as failed points."""
    for i, factor in enumerate(factors, start=1):
        check_factor(base, factor, i)
        for value in (factor.low, factor.high):
            try:
                with_overrides(base, {factor.path: value})
            except ScenarioError as err:
                raise _vary_located(err, i) from None
    if sum(not f.fixed for f in factors) < 1:
        raise SweepInputError("sensitivity needs at least one range to vary (every --vary has a single value)")


def _default_out(base: Scenario, vary: Sequence[str], method: str, points: int, runs: int, seed: int) -> Path:
    key = json.dumps([base.name, list(vary), method, points, runs, seed])
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / base.name / f"sensitivity-{stamp}-{sha256(key)[:8]}"


@dataclass
class SensitivityResult:
    """A finished sensitivity directory: its indices, the noise share per metric, what was varied."""

    path: Path
    method: str
    indices: pd.DataFrame
    noise: dict[str, float]
    constant: list[str]
    note: str | None = None

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))


def sensitivity(
    scenario: ScenarioRef | None = None,
    vary: Sequence[str] | None = None,
    method: str = "sobol",
    points: int | None = None,
    runs: int = 1000,
    seed: int = 0,
    workers: int | None = None,
    executor: str = "local",
    address: str | None = None,
    resume: str | Path | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> SensitivityResult:
    """Sobol' (`method="sobol"`) or Morris indices of every outcome probability and red-line
    crossing rate to the `vary` ranges (`["PATH=lo:hi", ...]`; default: every distribution in
    the scenario, see default_ranges). `points` is N, the base samples (Sobol', default 64: N(d+2)
    points) or trajectories (Morris, default 10: N(d+1) points); each point runs `runs` runs.
    `resume=DIR` finishes an interrupted sensitivity run (or analyses a finished sweep of one)."""
    if resume is not None:
        return _resume(Path(resume), workers, executor, address, progress)
    if method not in METHODS:
        raise SweepInputError(f"--method: expected one of {', '.join(METHODS)}, got '{method}'")
    if scenario is None:
        raise SweepInputError("expected a scenario NAME|FILE (or --resume DIR)")
    points = DEFAULT_POINTS[method] if points is None else points
    if points < 1:
        raise SweepInputError(f"--points must be at least 1, got {points}")
    base = resolve_scenario(scenario)
    if not vary:
        vary = [r.vary for r in default_ranges(base)]
        if not vary:
            raise SweepInputError(f"{base.name} samples no parameter per run: name the ranges with --vary PATH=lo:hi")
    factors = parse_vary(vary)
    _check_ranges(base, factors)
    target = Path(out) if out is not None else _default_out(base, vary, method, points, runs, seed)
    result = sweep(base, list(vary), design=METHODS[method], points=points, runs=runs, seed=seed, workers=workers,
                   executor=executor, address=address, crn=True, out=target, progress=progress,
                   resume_with=RESUME_WITH)
    return finish_analysis(result.path)


def _resume(path: Path, workers: int | None, executor: str, address: str | None, progress: bool) -> SensitivityResult:
    manifest = _read_manifest(path)
    if manifest.get("kind") == "sensitivity" and (path / FILE).exists():
        return _result(path, manifest, note=f"{path}: this sensitivity run is already complete: nothing to resume")
    if manifest.get("kind") == "sensitivity":  # its sweep is complete: analyse it again
        return finish_analysis(path, note=f"{path}: {FILE} was missing: analysed the sweep again")
    result = sweep(resume=path, workers=workers, executor=executor, address=address, progress=progress,
                   resume_with=RESUME_WITH)
    return finish_analysis(result.path, note=result.note)


def resume_checks(path: str | Path, given: dict[str, Any]) -> None:
    """Refuse options that would change an interrupted run's numbers (as `sim sweep --resume` does);
    a finished sensitivity directory has nothing left to change."""
    if _read_manifest(Path(path)).get("kind") != "sensitivity":
        resume_mismatches(path, given)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def finish_analysis(path: Path, note: str | None = None) -> SensitivityResult:
    """Analyse a finished sweep of a Saltelli or Morris design: write sensitivity.parquet, then
    the manifest with kind "sensitivity"."""
    manifest = _read_manifest(path)
    method = {v: k for k, v in METHODS.items()}.get(manifest.get("design"))
    if method is None:
        raise SweepInputError(f"{path}: not a sensitivity sweep (expected design saltelli or morris, "
                              f"got {manifest.get('design')!r})")
    if manifest.get("points_failed"):
        raise SweepInputError(f"{path}: {len(manifest['points_failed'])} point(s) failed (see points.parquet); "
                              "indices need every point of the design")
    points = pd.read_parquet(path / "points.parquet")
    summary = pd.read_parquet(path / "summary.parquet")
    table, noise, constant = analyse(points, summary, manifest["paths"], method, int(manifest["seed"]))
    _replace(path / FILE, lambda f: table.to_parquet(f, index=False))
    manifest = {**manifest, "kind": "sensitivity", "method": method,
                "base_samples": base_samples(manifest["design"], len(_varied(points, manifest["paths"])),
                                             len(points)),
                "morris_levels": LEVELS if method == "morris" else None, "noise": noise, "constant": constant}
    _replace(path / "manifest.json",
             lambda f: Path(f).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"))
    return _result(path, manifest, note)


def _replace(final: Path, write: Any) -> None:
    """Write `final` whole: under a temporary name, then renamed (a failure leaves it as it was)."""
    staging = final.with_name(f".{final.name}.tmp")
    try:
        write(staging)
        os.replace(staging, final)
    finally:
        staging.unlink(missing_ok=True)


def _result(path: Path, manifest: dict[str, Any], note: str | None = None) -> SensitivityResult:
    try:
        indices = pd.read_parquet(path / FILE)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise SweepInputError(f"{path / FILE}: unreadable ({err}); delete it and run 'sim sensitivity --resume "
                              f"{path}' to analyse the sweep again") from None
    return SensitivityResult(path, manifest["method"], indices, manifest["noise"], manifest["constant"], note)


def _varied(points: pd.DataFrame, paths: Sequence[str]) -> list[str]:
    return [p for p in paths if points[p].nunique() > 1]


def metric_matrix(summary: pd.DataFrame) -> pd.DataFrame:
    """Per point (rows, in point order), each outcome's probability, each red line's crossing
    rate and each measure's probability (columns, in summary order)."""
    wanted = summary[summary["metric"].str.startswith(("outcome.", "crossed.", "measure."))]
    order = list(dict.fromkeys(wanted["metric"]))
    return wanted.pivot(index="point", columns="metric", values="p").sort_index()[order]


def noise_share(p: np.ndarray, runs: int) -> float:
    """Binomial variance of the points' estimates, p(1-p)/R averaged, over their variance across points."""
    spread = float(np.var(p, ddof=1)) if len(p) > 1 else 0.0
    return float(np.mean(p * (1 - p)) / runs / spread) if spread > 0 else float("nan")


def analyse(points: pd.DataFrame, summary: pd.DataFrame, paths: Sequence[str], method: str,
            seed: int) -> tuple[pd.DataFrame, dict[str, float], list[str]]:
    """Indices of every metric that varies across points (long table: metric, parameter, index,
    value, low, high), the noise share of each, and the metrics that do not vary."""
    names = _varied(points, paths)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(points[n].min()), float(points[n].max())] for n in names]}
    matrix = metric_matrix(summary)
    runs = int(summary["n"].max())
    rows, noise, constant = [], {}, []
    for metric in matrix.columns:
        y = matrix[metric].to_numpy(dtype=float)
        if np.ptp(y) == 0:
            constant.append(metric)
            continue
        noise[metric] = noise_share(y, runs)
        if method == "sobol":
            rows += _sobol_rows(problem, y, metric, seed)
        else:
            rows += _morris_rows(problem, points[names].to_numpy(dtype=float), y, metric, seed)
    columns = ["metric", "parameter", "index", "value", "low", "high"]
    return pd.DataFrame(rows, columns=columns), noise, constant


def _sobol_rows(problem: dict, y: np.ndarray, metric: str, seed: int) -> list[tuple]:
    from SALib.analyze import sobol

    result = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=0.95,
                           seed=seed + 1)  # SALib ignores a seed of 0
    rows = []
    for i, name in enumerate(problem["names"]):
        for index in ("S1", "ST"):
            value, half = float(result[index][i]), float(result[f"{index}_conf"][i])
            rows.append((metric, name, index, value, value - half, value + half))
    return rows


def _morris_rows(problem: dict, x: np.ndarray, y: np.ndarray, metric: str, seed: int) -> list[tuple]:
    from SALib.analyze import morris

    result = morris.analyze(problem, x, y, num_resamples=RESAMPLES, conf_level=0.95, num_levels=LEVELS,
                            seed=seed + 1)
    rows = []
    for i, name in enumerate(problem["names"]):
        star, half = float(result["mu_star"][i]), float(result["mu_star_conf"][i])
        rows.append((metric, name, "mu_star", star, star - half, star + half))
        rows.append((metric, name, "mu", float(result["mu"][i]), math.nan, math.nan))
        rows.append((metric, name, "sigma", float(result["sigma"][i]), math.nan, math.nan))
    return rows


def ranked(indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """One row per (metric, parameter): Sobol' S1 and ST with their intervals, or Morris mu*, mu,
    sigma; within each metric, the most influential parameter (largest ST or mu*) first."""
    key = "ST" if method == "sobol" else "mu_star"
    wide = indices.pivot_table(index=["metric", "parameter"], columns="index", values=["value", "low", "high"],
                               sort=False, dropna=False)
    wide.columns = [f"{index}" if stat == "value" else f"{index}_{stat}" for stat, index in wide.columns]
    wide = wide.reset_index()
    metric_order = {m: i for i, m in enumerate(dict.fromkeys(indices["metric"]))}
    wide["_m"] = wide["metric"].map(metric_order)
    return wide.sort_values(["_m", key], ascending=[True, False], kind="stable").drop(columns="_m").reset_index(drop=True)


__all__ = ["DefaultRange", "SensitivityResult", "analyse", "default_ranges", "finish_analysis", "metric_matrix",
           "noise_share", "ranked", "resume_checks", "sensitivity"]
