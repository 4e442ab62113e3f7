"""`sim robust`: policy options (levers) against one shared sample of uncertainties, with regret.

EMA Workbench's vocabulary: a *lever* is a parameter one actor chooses, an *uncertainty*
everything else the analyst cannot pin down. An *option* is one combination of lever values.
Every option meets the same N uncertainty points, and at every point the same R runs' random
numbers (common random numbers): so a difference between two options at a point is the options'
doing, not noise, and a lever that changes nothing gives identical runs.

Uncertainty points are a Latin hypercube of N points drawn from the root seed, over
- the `--vary PATH=lo:hi` ranges when any are given (the scenario's distributions are then
  sampled per run, as in `sim run`), or else
- every distribution the scenario samples per run that is not a lever: each point fixes it at
  the quantile the hypercube gives (a state of the world), and runs at a point differ only by
  the chance in the rules.

The study runs as a sweep with common random numbers (points = options x uncertainty points,
option-major), through the sweep executors, inside one results directory that appears only once
complete. Outcomes (all to be minimised): each class's probability, the probability of each
class or worse, each red line's crossing rate and the mean escalation score. Regret of option o
at point u for a metric: value(o, u) - min over options o' of value(o', u).
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .. import __version__
from . import ensemble
from .designs import Factor, SweepInputError, SweepWarning, design_points, parse_spec
from .results import ResultsDir, command_line, default_out, environment, now, sha256
from .summary import Z95, wilson
from .sweep_store import Plan, RunsStream, create_partial, finish
from .sweeps import _check_runs, _executor, _vary_located, run_points, validate_points
from ..engine.clock import calendar
from ..engine.model import ScenarioRef, resolve_scenario
from ..scenario import Distribution, Problem, Scenario, ScenarioError, dump_scenario
from ..scenario.loader import with_overrides
from ..scenario.params import EMPIRICAL, sampled_parameters
from ..scenario.references import lever_path_problem

DEFAULT_METRIC = "escalation_score"
MAX_OPTIONS = 1000
LeverSpec = Mapping[str, Any] | Sequence[str] | None


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain path: a range [low, high] or a distribution whose quantiles the design picks."""

    path: str
    low: float
    high: float
    distribution: Distribution | None = None

    def at(self, unit: np.ndarray) -> np.ndarray:
        """The values at quantiles `unit` in [0, 1)."""
        if self.distribution is None:
            return self.low + unit * (self.high - self.low)
        if self.distribution.kind == EMPIRICAL:
            return self.distribution.at(self.distribution.rows_at(unit))
        return np.clip(self.distribution.quantiles(unit), self.distribution.low, self.distribution.high)

    @property
    def dimension(self) -> str:
        """The design coordinate this path reads: its joint group's, or its own."""
        joint = self.distribution.joint if self.distribution is not None else None
        return f"joint {joint}" if joint else self.path

    @property
    def spec(self) -> str:
        return str(self.distribution) if self.distribution is not None else f"{self.low:g}:{self.high:g}"


@dataclass(frozen=True)
class Study:
    """Everything that decides a robustness study's numbers."""

    base: Scenario
    levers: tuple[Factor, ...]
    uncertainties: tuple[Uncertainty, ...]
    options: tuple[tuple[float, ...], ...]
    states: tuple[tuple[float, ...], ...]  # the uncertainty points
    runs: int
    seed: int
    metric: str

    def point_values(self) -> tuple[tuple[float, ...], ...]:
        """Every (option, state) point's values, option-major: point = option * len(states) + state."""
        return tuple(o + s for o in self.options for s in self.states)

    def lever_actor(self, path: str) -> str | None:
        return next((lever.actor for lever in self.base.levers if lever.path == path), None)


# -- planning -----------------------------------------------------------------------------------


def _relocated(err: ScenarioError, option: str) -> ScenarioError:
    return ScenarioError(replace(p, file=option) if p.file == "--vary" else p for p in err.problems)


def _pairs(spec: LeverSpec, option: str) -> list[tuple[str, str]]:
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        return [(str(k), ",".join(repr(float(x)) for x in v) if isinstance(v, (list, tuple)) else str(v))
                for k, v in spec.items()]
    pairs = []
    for item in spec or ():
        path, sep, values = str(item).partition("=")
        if not sep or not path.strip():
            raise SweepInputError(f"{option} {item}: expected PATH=VALUES, e.g. actors.ACTOR.resolve=0.3,0.6")
        pairs.append((path.strip(), values))
    seen: set[str] = set()
    for path, _ in pairs:
        if path in seen:
            raise SweepInputError(f"{option} {path}: given twice (expected each path once)")
        seen.add(path)
    return pairs


def _check_path(base: Scenario, path: str, option: str, index: int) -> None:
    """A lever or an uncertainty must name a number of the scenario: located at `option:index`."""
    problem = lever_path_problem(base, base.model_dump(mode="json"), path)
    if problem is not None:
        raise ScenarioError([Problem(option, index, 1, path, problem)])


def parse_levers(base: Scenario, spec: LeverSpec) -> tuple[Factor, ...]:
    """The levers from `--lever PATH=v1,v2,...` (or lo:hi:n), else those the scenario declares."""
    if not spec:
        declared = [lever for lever in base.levers if lever.values]
        if not declared:
            raise SweepInputError("expected at least one --lever PATH=v1,v2,... (the scenario declares no levers "
                                  "with values)")
        return tuple(Factor(lever.path, ",".join(f"{v:g}" for v in lever.values), tuple(lever.values))
                     for lever in declared)
    factors = []
    for i, (path, values) in enumerate(_pairs(spec, "--lever"), start=1):
        _check_path(base, path, "--lever", i)
        try:
            factor = parse_spec(path, values)
        except SweepInputError as err:
            raise SweepInputError(str(err).replace("--vary ", "--lever ", 1)) from None
        _check_values(base, factor.path, factor.values, "--lever", i)
        factors.append(factor)
    return tuple(factors)


def _check_values(base: Scenario, path: str, values: Sequence[float], option: str, index: int) -> None:
    """Each value must be one the scenario accepts at `path`: located at `option:index` otherwise."""
    for value in values:
        try:
            with_overrides(base, {path: value})
        except ScenarioError as err:
            raise _relocated(_vary_located(err, index), option) from None


def parse_uncertainties(base: Scenario, vary: LeverSpec, levers: Sequence[Factor]) -> tuple[Uncertainty, ...]:
    """`--vary PATH=lo:hi` ranges, or else every distribution of the scenario that is not a lever."""
    lever_paths = {f.path for f in levers}
    if not vary:
        return tuple(Uncertainty(path, d.low, d.high, d) for path, d in sampled_parameters(base)
                     if path not in lever_paths)
    found = []
    for i, (path, spec) in enumerate(_pairs(vary, "--vary"), start=1):
        _check_path(base, path, "--vary", i)
        if path in lever_paths:
            raise SweepInputError(f"--vary {path}: already a --lever (a path is a lever or an uncertainty, not both)")
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise SweepInputError(f"--vary {path}={spec}: expected a range lo:hi, e.g. 0.2:0.9")
        try:
            factor = parse_spec(path, f"{parts[0]}:{parts[1]}:2")  # a sampled range needs no count
        except SweepInputError as err:
            raise SweepInputError(str(err).replace(f"{parts[0]}:{parts[1]}:2", spec, 1).split(" (expected SPEC")[0]
                                  + " (expected a range lo:hi, e.g. 0.2:0.9)") from None
        _check_values(base, path, (factor.low, factor.high), "--vary", i)
        found.append(Uncertainty(path, factor.low, factor.high))
    return tuple(found)


def plan_study(scenario: ScenarioRef, levers: LeverSpec = None, vary: LeverSpec = None, points: int = 16,
               runs: int = 1000, seed: int = 0, metric: str = DEFAULT_METRIC) -> Study:
    """Check every input and lay out the study; raises before anything is run or written."""
    _check_runs(runs, seed)
    base = resolve_scenario(scenario)
    factors = parse_levers(base, levers)
    options = tuple(itertools.product(*(f.values for f in factors)))
    if len(options) > MAX_OPTIONS:
        raise SweepInputError(f"{len(options):,} options (expected at most {MAX_OPTIONS:,}); give fewer lever values")
    uncertain = parse_uncertainties(base, vary, factors)
    if not uncertain and points != 1:
        warnings.warn(f"nothing is uncertain (no --vary and no distribution outside the levers): one point, "
                      f"not {points}", SweepWarning, stacklevel=2)
        points = 1
    if uncertain:
        # A joint group's members share one coordinate (one row of samples); any other path has its own.
        dimensions = list(dict.fromkeys(u.dimension for u in uncertain))
        unit_factors = [Factor(d, "0:1", (0.0, 1.0)) for d in dimensions]
        unit = np.array(design_points(unit_factors, "lhs", points, seed)).reshape(points, len(dimensions))
        columns = [u.at(unit[:, dimensions.index(u.dimension)]) for u in uncertain]
        states = tuple(tuple(float(c[p]) for c in columns) for p in range(points))
    else:
        states = ((),)
    study = Study(base, factors, uncertain, options, states, runs, seed, metric)
    check_metric(base, metric)
    return study


def metric_names(base: Scenario) -> list[str]:
    """Every outcome a study reports, in order; all are to be minimised."""
    classes = list(base.outcomes.classes)
    return [*(f"outcome.{c}" for c in classes), *(f"at_least.{c}" for c in classes[1:]),
            *(f"crossed.{lid}" for lid in base.red_lines), *(f"measure.{mid}" for mid in base.measures), DEFAULT_METRIC]


def check_metric(base: Scenario, metric: str) -> None:
    names = metric_names(base)
    if metric not in names:
        from ..scenario.errors import did_you_mean

        raise SweepInputError(f"--minimise: unknown outcome (expected one of {', '.join(names)}, got '{metric}')"
                              f"{did_you_mean(metric, names)}")


def _plan(study: Study, partial: Path, target: Path) -> Plan:
    factors = (*study.levers, *(Factor(u.path, u.spec, (u.low, u.high)) for u in study.uncertainties))
    text = dump_scenario(study.base)
    return Plan(study.base, text, sha256(text), factors, "robust", len(study.states), study.point_values(),
                study.runs, study.seed, True, partial, target, now(), command_line())


# -- outcomes and regret ------------------------------------------------------------------------


def point_values(runs: pd.DataFrame, base: Scenario, options: int, states: int) -> pd.DataFrame:
    """Per (option, state, metric): value, 95% interval and runs, from a study's runs table."""
    classes = list(base.outcomes.classes)
    codes = pd.Categorical(runs["outcome"].astype(str), categories=classes).codes
    frames = []
    for point, rows in runs.groupby("point", sort=True):
        n = len(rows)
        mine = codes[runs["point"].to_numpy() == point]
        counts = np.bincount(mine, minlength=len(classes))
        worse = np.cumsum(counts[::-1])[::-1]  # runs in each class or above
        items = [(f"outcome.{c}", int(k)) for c, k in zip(classes, counts)]
        items += [(f"at_least.{c}", int(k)) for c, k in zip(classes[1:], worse[1:])]
        items += [(f"crossed.{lid}", int(rows[f"crossed.{lid}"].sum())) for lid in base.red_lines]
        items += [(f"measure.{mid}", int(rows[f"measure.{mid}"].sum())) for mid in base.measures]
        records = [(m, k / n, *wilson(k, n)) for m, k in items]
        score = rows[DEFAULT_METRIC].to_numpy(dtype=float)
        half = Z95 * score.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
        records.append((DEFAULT_METRIC, score.mean(), score.mean() - half, score.mean() + half))
        frame = pd.DataFrame(records, columns=["metric", "value", "low", "high"])
        frame.insert(0, "state", int(point) % states)
        frame.insert(0, "option", int(point) // states)
        frame["runs"] = n
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def with_regret(values: pd.DataFrame) -> pd.DataFrame:
    """`values` (option, state, metric, value, ...) with `regret`: value minus the best (lowest)
    value of any option at the same state for the same metric."""
    best = values.groupby(["state", "metric"], sort=False)["value"].transform("min")
    return values.assign(regret=values["value"] - best)


def rank_options(table: pd.DataFrame) -> pd.DataFrame:
    """Per option and metric: the expected value over states, its spread over states, the mean and
    worst (max) regret, and ranks by expected value and by worst regret (1 = best; ties share)."""
    grouped = table.groupby(["option", "metric"], sort=False)
    summary = grouped.agg(expected=("value", "mean"), state_low=("value", lambda v: v.quantile(0.05)),
                          state_median=("value", "median"), state_high=("value", lambda v: v.quantile(0.95)),
                          mean_regret=("regret", "mean"), max_regret=("regret", "max")).reset_index()
    by_metric = summary.groupby("metric", sort=False)
    summary["rank_expected"] = by_metric["expected"].rank(method="min").astype(int)
    summary["rank_regret"] = by_metric["max_regret"].rank(method="min").astype(int)
    return summary


def pooled_intervals(runs: pd.DataFrame, values: pd.DataFrame, states: int) -> pd.DataFrame:
    """Per option and metric: a 95% interval for the expected value over every run of the option."""
    rows = []
    for (option, metric), group in values.groupby(["option", "metric"], sort=False):
        n = int(group["runs"].sum())
        mean = float((group["value"] * group["runs"]).sum() / n)
        if metric == DEFAULT_METRIC:
            scores = runs.loc[runs["point"] // states == option, DEFAULT_METRIC].to_numpy(dtype=float)
            half = Z95 * scores.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
            low, high = mean - half, mean + half
        else:
            low, high = wilson(round(mean * n), n)
        rows.append((option, metric, low, high, n))
    return pd.DataFrame(rows, columns=["option", "metric", "low", "high", "runs"])


def option_labels(study: Study) -> list[str]:
    return [", ".join(f"{f.path.rsplit('.', 1)[-1]}={v:g}" for f, v in zip(study.levers, o)) for o in study.options]


def _lever_columns(study: Study, frame: pd.DataFrame) -> pd.DataFrame:
    labels = option_labels(study)
    frame.insert(1, "label", [labels[o] for o in frame["option"]])
    for k, f in enumerate(study.levers):
        frame[f"lever.{f.path}"] = [study.options[o][k] for o in frame["option"]]
    return frame


# -- running ------------------------------------------------------------------------------------


@dataclass
class RobustResult:
    """A finished study: its directory and readers for what it holds."""

    path: Path

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def table(self) -> pd.DataFrame:
        """robust.parquet: per option, uncertainty state and metric, the value, interval and regret."""
        return pd.read_parquet(self.path / "robust.parquet")

    def options(self) -> pd.DataFrame:
        """options.parquet: per option and metric, expected value with interval, regret, ranks."""
        return pd.read_parquet(self.path / "options.parquet")


def robust(scenario: ScenarioRef, levers: LeverSpec = None, vary: LeverSpec = None, points: int = 16,
           runs: int = 1000, seed: int = 0, metric: str = DEFAULT_METRIC, workers: int | None = None,
           executor: str = "local", address: str | None = None, out: str | Path | None = None,
           progress: bool = False) -> RobustResult:
    """Evaluate every option (combination of lever values) against the same uncertainty sample.

    `levers` maps paths to values (`{"actors.x.preferences.y": [0, 1]}`) or is a list of
    `PATH=v1,v2` strings; none: the scenario's declared levers. Bad input raises SweepInputError
    or ScenarioError before anything is written; an interrupted study leaves nothing behind.
    """
    study = plan_study(scenario, levers, vary, points, runs, seed, metric)
    numbered = out is None
    key = json.dumps([dump_scenario(study.base), study.options, study.states, runs, seed, metric])
    target = Path(out) if out is not None else default_out(study.base.name, sha256(key))
    target = target.with_name(f"robust-{target.name}") if numbered else target
    with ResultsDir(target, numbered=numbered) as results:
        plan = _plan(study, results.tmp / ".sweep.partial", results.tmp / "sweep")
        invalid = _invalid_points(plan)
        pool = _executor(plan, invalid, set(), workers, executor, address)
        stream = RunsStream(plan)
        try:
            plan = create_partial(plan)
            stream.plan = plan
            errors = {**invalid, **run_points(plan, invalid, pool, stream, progress)}
            finish(plan, stream, errors, {"kind": "sweep"})
        except BaseException:
            stream.abort()
            pool.close(abort=True)
            raise
        pool.close()
        _write_study(results, study, plan, errors, pool)
    return RobustResult(results.final)


def _invalid_points(plan: Plan) -> dict[int, str]:
    try:
        return validate_points(plan)
    except ScenarioError as err:
        raise _relocated(_vary_located(err), "--lever") from None


def _write_study(results: ResultsDir, study: Study, plan: Plan, errors: Mapping[int, str], pool: Any) -> None:
    """robust.parquet, options.parquet, scenario.yaml and the manifest from the finished sweep."""
    sweep_dir = plan.target
    states = len(study.states)
    failed_states = sorted({p % states for p in errors})
    if failed_states:
        warnings.warn(f"{len(failed_states)} uncertainty point(s) left out: an option failed there "
                      f"({next(iter(errors.values()))})", SweepWarning, stacklevel=3)
    if len(failed_states) == states:
        raise SweepInputError(f"every uncertainty point failed for some option: {next(iter(errors.values()))}")
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    runs = runs[~(runs["point"] % states).isin(failed_states)]
    values = with_regret(point_values(runs, study.base, len(study.options), states))
    for k, u in enumerate(study.uncertainties):
        values[f"uncertain.{u.path}"] = [study.states[s][k] for s in values["state"]]
    ranked = rank_options(values).merge(pooled_intervals(runs, values, states), on=["option", "metric"])
    for name in ("runs.parquet", "points.parquet", "summary.parquet"):
        (sweep_dir / name).rename(results.tmp / name)
    shutil.rmtree(sweep_dir)  # what is left: the sweep's own manifest and scenario.yaml
    pq.write_table(_to_arrow(_lever_columns(study, values)), results.tmp / "robust.parquet", compression="zstd")
    pq.write_table(_to_arrow(_lever_columns(study, ranked)), results.tmp / "options.parquet", compression="zstd")
    results.write_text("scenario.yaml", plan.text)
    results.write_json("manifest.json", _manifest(study, plan, errors, failed_states, pool))


def _to_arrow(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _manifest(study: Study, plan: Plan, errors: Mapping[int, str], failed_states: list[int], pool: Any) -> dict:
    return {
        "kind": "robust",
        "scenario": study.base.name,
        "scenario_sha256": plan.digest,
        "seed": study.seed,
        "runs": study.runs,
        "rounds": study.base.rounds,
        **calendar(study.base),
        "block_size": ensemble.BLOCK,
        "crn": True,
        "levers": [{"path": f.path, "values": list(f.values), "actor": study.lever_actor(f.path)}
                   for f in study.levers],
        "uncertainties": [{"path": u.path, "spec": u.spec, "low": u.low, "high": u.high}
                          for u in study.uncertainties],
        "design": "lhs",
        "options": len(study.options),
        "option_labels": option_labels(study),
        "states": len(study.states),
        "states_failed": failed_states,
        "points_failed": {str(p): e for p, e in sorted(errors.items())},
        "minimise": study.metric,
        "executor": pool.kind,
        "address": pool.address,
        "workers": pool.workers,
        "version": __version__,
        "command": plan.command,
        **environment(),
        "started": plan.started,
        "finished": now(),
    }


__all__ = ["RobustResult", "Study", "plan_study", "rank_options", "robust", "with_regret"]
