"""`sim calibrate`: fit chosen parameters to dated records (yes/no events and rates).

The method (waves.py) is history matching on cheap runs, then a sequential sampler:
every run draws its own parameter point (the varied parameters become a joint `empirical`
table of points in the scenario the block runs), so a wave of runs is a cloud of points over
which an emulator of each event's probability is fitted; history matching rules out the points
the record makes implausible; tempered sequential Monte Carlo over the rest gives the posterior
as weighted particles, from which the next wave draws its runs. The posterior is written as a
joint `empirical` distribution in a scenario that `extends` the one calibrated.

Runs go to the sweep executors (local processes or Dask) in blocks seeded by (seed, wave,
block), so the result is the same for any number of workers. The destination is checked and
locked before anything runs, and the work is kept in a partial directory beside it, part by
part, so an interrupted calibration resumes (`--resume`) to the result an uninterrupted one gives.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .. import __version__
from ..engine.clock import add_months, calendar
from ..engine.model import ScenarioRef, resolve_scenario
from ..experiments import interrupts
from ..experiments.designs import Factor, SweepInputError, VarySpec, design_points, parse_vary
from ..experiments.destination import DestinationLock, check_out
from ..experiments.ensemble import BLOCK, MAX_RUNS, block_tasks, cap_workers
from ..experiments.executors import Executor, make_executor
from ..experiments.interrupts import interrupted_by
from ..experiments.results import command_line, default_out, environment, git_commit, now, sha256
from ..experiments.sweeps import check_factor
from ..scenario import Distribution, Problem, Scenario, ScenarioError, dump_scenario, load_scenario
from ..scenario.dotpath import parse_path
from ..scenario.loader import with_overrides
from ..scenario.params import numbers
from ..scenario.yamlio import read_text
from . import calibration_store as store
from .blocks import EventTask, evaluate_blocks
from .emulator import fit_emulator
from .evaluate import check_events, horizon_round
from .events import Events, load_events
from .likelihood import effective_sample_size, monthly_hazard, record_certainty
from .scoring import brier, log_score
from .waves import Evidence, posterior, quarter_noise, run_waves

FIT_MONTHS = 4  # the holdout fits on events dated in the record's first four months, scores the rest
GROUP = "calibration"  # the joint group (and reference) a calibration writes; suffixed if the scenario has one
MAX_TABLE = 100_000  # points in a wave's table (an empirical's sample limit): runs beyond it redraw rows
MONTHS_PER = {"month": 1.0, "week": 12 / 52.1775, "day": 12 / 365.2425}


@dataclass(frozen=True)
class Calibration:
    """A finished calibration: where it is written, and what a summary prints."""

    path: Path
    paths: list[str]
    posterior: pd.DataFrame  # one row per particle: values, log-likelihood and its noise, weight
    events: pd.DataFrame  # one row per event: the record and each forecast of it
    scores: dict[str, dict[str, float]]
    ess: float
    calibrated_yaml: str
    manifest: dict[str, Any]


# -- input ---------------------------------------------------------------------------------------


def range_factors(vary: VarySpec) -> list[Factor]:
    """Factors from `PATH=lo:hi` (a range is all a sampled design needs) or any sweep SPEC."""
    items = [f"{k}={v}" for k, v in vary.items()] if isinstance(vary, Mapping) else list(vary)
    return parse_vary([f"{item}:2" if item.count(":") == 1 and "," not in item else item for item in items])


def load_record(files: Sequence[str | Path], base: Scenario) -> Events:
    """Every events file, checked against the scenario, merged into one record (ids unique)."""
    merged: dict[str, Any] = {}
    first: Events | None = None
    for file in files:
        record = load_events(file)
        check_events(record, base)
        clash = sorted(set(record.events) & set(merged))
        if clash:
            raise ScenarioError([record.problem(("events", clash[0]), f"an event id another --events file "
                                                f"already uses (expected ids unique across files, got '{clash[0]}')")])
        merged.update(record.events)
        first = first or record
    assert first is not None
    return first.model_copy(update={"events": merged})


def joint_groups(base: Scenario) -> dict[str, list[str]]:
    """The scenario's joint groups and the paths that draw from each."""
    groups: dict[str, list[str]] = {}
    for path, value in numbers(base):
        if isinstance(value, Distribution) and value.joint is not None:
            groups.setdefault(value.joint, []).append(path)
    return groups


def prior_note(base: Scenario, paths: Sequence[str]) -> tuple[str, list[str]]:
    """The joint group name this calibration writes, and what happens to each joint posterior
    the scenario already draws from (said plainly in the summary and the manifest). Varying
    some but not all of a group's parameters is an error, raised before anything runs."""
    notes = []
    for group, members in joint_groups(base).items():
        varied = [m for m in members if m in paths]
        if not varied:
            notes.append(f"kept: the scenario's joint posterior '{group}' over {', '.join(members)} stays as it is; "
                         f"every run draws those parameters from it, so the fit averages over them and does not "
                         f"refit them (vary them all to refit them)")
        elif len(varied) < len(members):
            rest = [m for m in members if m not in paths]
            raise SweepInputError(f"--vary {varied[0]}: drawn jointly with {', '.join(rest)} (the scenario's joint "
                                  f"posterior '{group}'); vary all of them to replace that posterior, or none to keep it")
        else:
            notes.append(f"replaced: the scenario's joint posterior '{group}' over {', '.join(members)} is replaced "
                         f"by this calibration's (the prior is now uniform over the --vary ranges)")
    taken = set(joint_groups(base)) | set(base.references)
    name = GROUP
    for n in range(2, 1000):
        if name not in taken:
            break
        name = f"{GROUP}_{n}"
    return name, notes


def months_per_round(base: Scenario) -> float:
    return base.round.length * MONTHS_PER[base.round.unit]


def _evidence(record: Events, base: Scenario) -> tuple[pd.DataFrame, Evidence]:
    """The events table (one row per event) and the record as evidence, in the same order."""
    rows, rates = [], []
    per_round = months_per_round(base)
    for i, (eid, e) in enumerate(record.events.items()):
        row: dict[str, Any] = {"event": eid, "kind": e.kind, "date": e.date, "sure": e.sure}
        if e.rate is None:
            split = "fit" if e.date < add_months(record.start, FIT_MONTHS) else "test"
            row.update(happened=e.happened, record=record_certainty(e), holdout=split)
        else:
            modelled = horizon_round(e, base) * per_round
            row.update(happened=None, record=np.nan, holdout="fit", rate_at_least=e.rate.at_least,
                       rate_at_most=e.rate.at_most, rate_months=e.rate.months, rate_factor=e.rate.factor,
                       months_modelled=modelled)
            rates.append((i, e.rate.at_least, e.rate.at_most, e.rate.months, e.rate.factor, modelled))
        rows.append(row)
    table = pd.DataFrame(rows)
    clusters = [e.cluster or eid for eid, e in record.events.items()]
    sizes = pd.Series(clusters).map(pd.Series(clusters).value_counts())
    table["weight"] = (1.0 / sizes).to_numpy()
    return table, Evidence(table["record"].to_numpy(dtype=float), tuple(rates), weight=table["weight"].to_numpy())


def _check_vary(base: Scenario, factors: Sequence[Factor], group: str) -> None:
    """Every varied path can be drawn per run (a number, not a whole number), checked by building a
    wave's scenario and the calibrated one on a two-point table before anything runs."""
    for i, f in enumerate(factors, start=1):
        if f.integer:
            raise ScenarioError([Problem("--vary", i, 1, f.path, "a whole number (expected a parameter that can be "
                                         "drawn per run, a real number such as a probability or a weight)")])
        if f.fixed:
            raise SweepInputError(f"--vary {f.path}={f.spec}: expected a range lo:hi with lo < hi")
    table = np.array([[f.low for f in factors], [f.high for f in factors]])
    try:
        with_overrides(base, wave_overrides([f.path for f in factors], table, group))
    except ScenarioError as err:
        raise ScenarioError(Problem("--vary", p.line, p.column, p.path, p.message) if p.file == "--set" else p
                            for p in err.problems) from None


def wave_overrides(paths: Sequence[str], table: np.ndarray, group: str) -> dict[str, Any]:
    """The varied paths as one joint empirical table: each run draws a row, its own point."""
    return {path: {"empirical": {"values": table[:, j].tolist(), "joint": group}} for j, path in enumerate(paths)}


# -- the calibrated scenario ---------------------------------------------------------------------


def _nested(changes: Mapping[tuple, Any], extra_sources: Mapping[tuple, list[str]]) -> dict[str, Any]:
    """Dotted-path changes as the nested mapping an extending file writes, owners' sources included."""
    tree: dict[str, Any] = {}
    for keys, value in [*((k, v) for k, v in extra_sources.items()), *changes.items()]:
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return tree


def _owner_sources(data: dict[str, Any], keys: tuple, reference: str) -> tuple[tuple, list[str]]:
    """The nearest block above `keys` that cites sources, and its sources with the calibration added."""
    for n in range(len(keys) - 1, -1, -1):
        node: Any = data
        for key in keys[:n]:
            node = node[key]
        if isinstance(node, dict) and "sources" in node:
            cited = [s for s in node["sources"] if s != reference]
            return (*keys[:n], "sources"), [*cited, reference]
    raise SweepInputError(f"--vary {'.'.join(map(str, keys))}: no block above it cites sources")


def posterior_values(paths: Sequence[str], values: np.ndarray, weights: np.ndarray,
                     group: str = GROUP) -> dict[str, dict[str, Any]]:
    """Each varied path as the joint `empirical` distribution of the weighted points, as a
    scenario writes it: values and weights to 6 significant figures, points whose weight rounds to
    nothing left out."""
    shown = np.array([float(f"{w:.6g}") for w in weights / weights.max()])
    keep = shown > 0
    return {path: {"empirical": {"values": [float(f"{v:.6g}") for v in values[keep, j]],
                                 "weights": [float(w) for w in shown[keep]], "joint": group}}
            for j, path in enumerate(paths)}


def calibrated_scenario(base: Scenario, extends: str, posterior: Mapping[str, Any], header: str, citation: str,
                        reference: str = GROUP) -> str:
    """The YAML of a scenario that extends `extends` with the `posterior` values (posterior_values)
    and cites the calibration (as `reference`) in the sources of each block it changes."""
    data = base.model_dump(mode="json")
    changes, owners = {}, {}
    for path, value in posterior.items():
        keys = parse_path(data, path)
        if any(isinstance(k, int) for k in keys):
            raise SweepInputError(f"--vary {path}: calibrate varies values in mappings, not list items")
        changes[keys] = value
        where, cited = _owner_sources(data, keys, reference)
        owners[where] = cited
    body = {"extends": extends, "name": f"{base.name}-calibrated",
            "description": f"{base.name} with {', '.join(posterior)} drawn jointly from their posterior given the "
                           f"record (sim calibrate; see the {reference} reference).",
            "references": {reference: {"title": "Calibration of this scenario to a dated record",
                                       "citation": citation, "year": dt.date.today().year}},
            **_nested(changes, owners)}
    text = yaml.safe_dump(body, sort_keys=False, width=100, allow_unicode=True, default_flow_style=None)
    return header + text


def _extends_ref(scenario: ScenarioRef, base: Scenario) -> str:
    if isinstance(scenario, Scenario):
        return base.name
    text = str(scenario)
    return text if not text.endswith((".yaml", ".yml")) else str(Path(text).resolve())


# -- running -------------------------------------------------------------------------------------


@dataclass
class _Job:
    """A calibration being run: its plan (as stored), scenario, record, and where it works."""

    plan: dict[str, Any]
    base: Scenario
    record: Events
    factors: list[Factor]
    partial: Path
    target: Path

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.factors]

    @property
    def low(self) -> np.ndarray:
        return np.array([f.low for f in self.factors])

    @property
    def high(self) -> np.ndarray:
        return np.array([f.high for f in self.factors])

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.plan["seed"], spawn_key=(2**31, *key)))


def _run_blocks(job: _Job, pool: Executor, name: str, scenario: Scenario, runs: int, point: int,
                columns: tuple[str, ...]) -> list[dict[str, np.ndarray]]:
    """The blocks of `runs` runs of `scenario` (seeded by point, block), from their parts where an
    earlier attempt wrote them; the rest simulated and saved part by part."""
    tasks = block_tasks(scenario, runs, job.plan["seed"], point=point, trajectories=False)
    found = {b: store.load_part(job.partial, f"{name}.block-{b:04d}") for b in range(len(tasks))}
    todo = [EventTask(t, job.record, columns=columns) for b, t in enumerate(tasks) if found[b] is None]
    for block in evaluate_blocks(pool, todo):
        b = block.task.block.block
        arrays = {"hits": block.hits, **({"theta": block.values} if columns else {})}
        store.save_part(job.partial, f"{name}.block-{b:04d}", **arrays)
        found[b] = arrays
    return [found[b] for b in range(len(tasks))]  # type: ignore[misc]


def _simulate_wave(job: _Job, pool: Executor, wave: int, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scenario = with_overrides(job.base, wave_overrides(job.paths, table, job.plan["group"]))
    parts = _run_blocks(job, pool, f"wave-{wave}", scenario, job.plan["runs"], wave,
                        tuple(f"param.{p}" for p in job.paths))
    return np.vstack([p["theta"] for p in parts]), np.vstack([p["hits"] for p in parts])


def _scenario_hits(job: _Job, pool: Executor, name: str, scenario: Scenario, point: int) -> np.ndarray:
    parts = _run_blocks(job, pool, name, scenario, job.plan["score_runs"], point, ())
    return np.vstack([p["hits"] for p in parts]).mean(axis=0)


def _first_table(job: _Job) -> np.ndarray:
    size = min(job.plan["runs"], MAX_TABLE)
    return np.array(design_points(job.factors, job.plan["design"], size, job.plan["seed"]), dtype=float)


def _scores(p: np.ndarray, happened: np.ndarray) -> dict[str, float]:
    if len(p) == 0:
        return {}
    return {"brier": float(brier(p, happened).mean()), "log": float(log_score(p, happened).mean()), "events": len(p)}


def _citation(job: _Job, ess: float) -> str:
    return (f"sim {__version__} (git {git_commit() or 'unknown'}), {dt.date.today().isoformat()}: "
            f"{job.plan['command']}. History matching and sequential Monte Carlo over an emulator of "
            f"{job.plan['waves']} waves of {job.plan['runs']:,} runs against {len(job.record.events)} events of "
            f"{', '.join(job.plan['events'])}; {job.plan['points']} particles, Kish effective sample size {ess:.1f}.")


def _execute(job: _Job, pool: Executor) -> Calibration:
    table, evidence = _evidence(job.record, job.base)
    n_events = len(table)
    theta, hits, waves, plausible = run_waves(lambda w, t: _simulate_wave(job, pool, w, t), _first_table(job),
                                              job.low, job.high, evidence, job.plan["waves"], job.plan["points"],
                                              lambda w: job.rng(w))
    first_wave = waves[0]["runs"]
    prior_predictive = hits[:first_wave].mean(axis=0)  # wave 0 draws its points from the prior box
    kept = plausible(theta, evidence)
    emulator = fit_emulator(theta[kept], hits[kept], job.low, job.high)
    final_rng = job.rng(job.plan["waves"])
    particles = posterior(emulator, evidence, plausible, job.plan["points"], final_rng)
    noise, relative = quarter_noise(theta[kept], hits[kept], emulator, evidence, particles.theta, particles.weights)
    fit = (table["holdout"] == "fit").to_numpy()
    test = (table["holdout"] == "test").to_numpy()
    holdout = posterior(emulator, evidence.only(fit), plausible, job.plan["points"], job.rng(job.plan["waves"] + 1))
    p_particles = emulator.probability(particles.theta)
    ess = particles.ess
    citation = _citation(job, ess)
    header = "".join(f"# {line}\n" for line in textwrap.wrap(f"Written by sim calibrate; {citation}", 98))
    drawn = posterior_values(job.paths, particles.theta, particles.weights, job.plan["group"])
    text = calibrated_scenario(job.base, job.plan["extends"], drawn, header, citation, job.plan["group"])
    calibrated = with_overrides(job.base, drawn)
    waves_n = job.plan["waves"]
    table["p_prior"] = prior_predictive
    table["p_before"] = _scenario_hits(job, pool, "before", job.base, waves_n)
    table["p_after"] = _scenario_hits(job, pool, "after", calibrated, waves_n + 1)
    table["p_posterior"] = particles.weights @ p_particles
    table["p_holdout"] = np.where(test, holdout.weights @ emulator.probability(holdout.theta), np.nan)
    rate = table["kind"] == "rate"
    if rate.any():
        modelled = table["months_modelled"].to_numpy(dtype=float)
        months = table["rate_months"].to_numpy(dtype=float)
        for column in ("p_prior", "p_before", "p_after", "p_posterior"):
            table[f"count_{column.removeprefix('p_')}"] = np.where(
                rate, monthly_hazard(table[column].to_numpy(), modelled) * months, np.nan)
    yes_no = ~rate.to_numpy()
    happened = table["happened"].to_numpy()
    scores = {
        "before": _scores(table["p_before"].to_numpy()[yes_no], happened[yes_no].astype(bool)),
        "after": _scores(table["p_after"].to_numpy()[yes_no], happened[yes_no].astype(bool)),
        "holdout_before": _scores(table["p_before"].to_numpy()[test], happened[test].astype(bool)),
        "holdout_after": _scores(table["p_holdout"].to_numpy()[test], happened[test].astype(bool)),
    }
    particle_table = pd.DataFrame({"point": np.arange(len(particles.theta)),
                                   **{f"param.{p}": particles.theta[:, j] for j, p in enumerate(job.paths)},
                                   "log_likelihood": particles.log_likelihood, "log_likelihood_sd": noise,
                                   "relative_log_likelihood_sd": relative,
                                   "weight": particles.weights,
                                   **{f"p.{e}": p_particles[:, i] for i, e in enumerate(table["event"])}})
    edge = _edge_mass(particles.theta, particles.weights, job.low, job.high)
    manifest = {"kind": "calibration", "scenario": job.base.name, "scenario_sha256": job.plan["scenario_sha256"],
                "events": job.plan["events"], "seed": job.plan["seed"], "runs": job.plan["runs"],
                "waves": job.plan["waves"], "points": job.plan["points"], "design": job.plan["design"],
                "rounds": job.base.rounds, **calendar(job.base), "block_size": BLOCK,
                "score_runs": job.plan["score_runs"], "vary": {f.path: [f.low, f.high] for f in job.factors},
                "method": "history matching + tempered SMC over a logistic emulator (sim.backtest.waves)",
                "ess": ess, "smc_steps": particles.steps, "smc_acceptance": particles.acceptance,
                "ess_holdout": holdout.ess, "runs_total": int(len(theta)), "runs_plausible": int(kept.sum()),
                "waves_report": waves, "edge_mass": edge,
                "log_likelihood_sd": {"weighted_mean": float(particles.weights @ noise), "max": float(noise.max()),
                                      "relative_weighted_mean": float(particles.weights @ relative),
                                      "relative_max": float(relative.max())},
                "emulator_degrees": dict(zip(table["event"], (emulator.degrees if emulator.degrees is not None
                                                              else []).tolist())),
                "joint_group": job.plan["group"], "prior_notes": job.plan["notes"], "scores": scores,
                "holdout": {"fit_before": str(add_months(job.record.start, FIT_MONTHS))},
                "version": __version__, "command": job.plan["command"], **environment(),
                "started": job.plan["started"], "finished": now(), "resumed": job.plan.get("resumed", False)}
    _write_final(job, particle_table, table, text, manifest)
    path = store.move_into_place(job.partial, job.target)
    return Calibration(path, job.paths, particle_table, table, scores, ess, text, manifest)


def _edge_mass(theta: np.ndarray, weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> list[float]:
    """Each parameter's posterior mass in the outer 5% of its range (2.5% at each end)."""
    unit = (theta - low) / (high - low)
    return [float(weights @ ((unit[:, j] < 0.025) | (unit[:, j] > 0.975))) for j in range(theta.shape[1])]


def _write_final(job: _Job, particles: pd.DataFrame, events: pd.DataFrame, text: str, manifest: dict) -> None:
    folder = job.partial
    pq.write_table(pa.Table.from_pandas(particles, preserve_index=False), folder / "posterior.parquet",
                   compression="zstd")
    pq.write_table(pa.Table.from_pandas(events.astype({"date": str, "happened": object}), preserve_index=False),
                   folder / "events.parquet", compression="zstd")
    (folder / "calibrated.yaml").write_text(text, encoding="utf-8")
    store.write_durably(folder / "manifest.json", (json.dumps(manifest, indent=2, default=str) + "\n").encode())


def _hint(job: _Job, error: BaseException | None) -> str:
    what = interrupted_by(error) if isinstance(error, KeyboardInterrupt) or error is None else \
        f"stopped by an error ({type(error).__name__})"
    return (f"calibration {what}: the runs done so far are kept in {job.partial}\n"
            f"finish it with: sim calibrate --resume {job.partial}")


def _check_target(target: Path) -> None:
    check_out(target, "--out")
    partial = store.partial_of(target)
    if partial.exists() or partial.is_symlink():
        raise SweepInputError(f"{partial} holds an interrupted calibration to the same place: finish it with "
                              f"'sim calibrate --resume {partial}' or delete it")


def _claim(target: Path, numbered: bool) -> tuple[Path, DestinationLock]:
    """Lock the destination (checked before and again under the lock); a default destination
    that is taken gets a -2, -3... suffix instead of an error."""
    for n in range(1, 100):
        candidate = target if n == 1 else target.with_name(f"{target.name}-{n}")
        try:
            _check_target(candidate)
            lock = DestinationLock(candidate, "--out").acquire()
        except ValueError:
            if not numbered or n == 99:
                raise
            continue
        try:
            _check_target(candidate)
        except BaseException:
            lock.release()
            if not numbered:
                raise
            continue
        return candidate, lock
    raise AssertionError("unreachable")


def _pool(runs: int, workers: int | None, executor: str, address: str | None) -> Executor:
    blocks = -(-runs // BLOCK)
    count = (workers or 1) if address is not None else cap_workers(workers, blocks)
    return make_executor(executor, count, address)


def _go(job: _Job, lock: DestinationLock, pool: Executor) -> Calibration:
    """Run the job with the destination locked; on any stop keep the partial directory, except
    for bad input found by a worker, which leaves nothing."""
    hint = interrupts.register(lambda: sys.stderr.write(_hint(job, None) + "\n"))
    try:
        with lock, pool:
            return _execute(job, pool)
    except ScenarioError:
        shutil.rmtree(job.partial, ignore_errors=True)
        raise
    except BaseException as err:
        if job.partial.exists():
            print(_hint(job, err), file=sys.stderr, flush=True)
        raise
    finally:
        interrupts.unregister(hint)


def calibrate(scenario: ScenarioRef, events: str | Path | Sequence[str | Path], vary: VarySpec, points: int = 1000,
              runs: int = 20_000, seed: int = 0, design: str = "lhs", workers: int | None = None,
              executor: str = "local", address: str | None = None, out: str | Path | None = None,
              score_runs: int = 10_000, waves: int = 3) -> Calibration:
    """Fit the `vary` parameters of `scenario` to the records in `events` (one file or several)
    and write a results directory (posterior.parquet, events.parquet, calibrated.yaml,
    scenario.yaml, manifest.json). `runs` runs per wave, each drawing its own parameter point;
    `points` particles in the posterior. The scenario as given and the calibrated one are scored
    on `score_runs` fresh runs each.

    Bad input (ScenarioError for the scenario or an events file, SweepInputError, ValueError)
    is refused before anything runs or is written; the destination is locked from the start."""
    for option, count, most in (("--runs", runs, MAX_RUNS), ("--score-runs", score_runs, MAX_RUNS),
                                ("--points", points, 100_000), ("--waves", waves, 20)):
        if not 1 <= count <= most:
            raise SweepInputError(f"{option} must be between 1 and {most:,} (got {count})")
    if design not in ("lhs", "sobol"):
        raise SweepInputError(f"--design: expected lhs or sobol, got '{design}'")
    files = [events] if isinstance(events, (str, Path)) else list(events)
    base = resolve_scenario(scenario)
    record = load_record(files, base)
    factors = [check_factor(base, f, i) for i, f in enumerate(range_factors(vary), start=1)]
    paths = [f.path for f in factors]
    group, notes = prior_note(base, paths)
    _check_vary(base, factors, group)
    text = dump_scenario(base)
    plan = {"kind": store.PLAN_KIND, "version": __version__, "scenario": base.name, "scenario_sha256": sha256(text),
            "events": [str(f) for f in files], "events_sha256": [sha256(read_text(Path(f))) for f in files],
            "vary": [[f.path, f.low, f.high] for f in factors], "design": design, "points": points, "runs": runs,
            "waves": waves, "seed": seed, "score_runs": score_runs, "group": group, "notes": notes,
            "extends": _extends_ref(scenario, base), "started": now(), "command": command_line()}
    target = Path(out) if out is not None else default_out(base.name, sha256(json.dumps(plan["vary"]) + text + str(seed)))
    pool = _pool(runs, workers, executor, address)  # fails before anything is written
    try:
        target, lock = _claim(target, numbered=out is None)
    except BaseException:
        pool.close(abort=True)
        raise
    try:
        store.create_partial(store.partial_of(target), plan, text)
    except BaseException:
        lock.release()
        pool.close(abort=True)
        raise
    job = _Job(plan, base, record, factors, store.partial_of(target), target)
    return _go(job, lock, pool)


def resume(path: str | Path, workers: int | None = None, executor: str = "local",
           address: str | None = None) -> Calibration:
    """Finish the interrupted calibration at `path` (its --out or its partial directory)."""
    partial = store.find_partial(Path(path))
    target = store.target_of(partial)
    lock = DestinationLock(target, "--resume").acquire()
    try:
        plan = store.read_plan(partial)
        base = load_scenario(partial / "scenario.yaml")
        if sha256(dump_scenario(base)) != plan["scenario_sha256"]:
            raise SweepInputError(f"--resume {partial}: scenario.yaml has changed since the calibration started")
        for file, digest in zip(plan["events"], plan["events_sha256"]):
            try:
                same = sha256(read_text(Path(file))) == digest
            except (OSError, ScenarioError):
                same = False
            if not same:
                raise SweepInputError(f"--resume {partial}: the events file {file} is missing or has changed since "
                                      f"the calibration started")
        record = load_record(plan["events"], base)
        factors = [Factor(p, f"{lo}:{hi}", (float(lo), float(hi)), uncounted=True) for p, lo, hi in plan["vary"]]
        pool = _pool(plan["runs"], workers, executor, address)
    except BaseException:
        lock.release()
        raise
    plan["resumed"] = True
    return _go(_Job(plan, base, record, factors, partial, target), lock, pool)


# -- the summary ---------------------------------------------------------------------------------


def format_calibration(c: Calibration) -> str:
    """The summary `sim calibrate` prints: the method's figures, each parameter, the scores."""
    m = c.manifest
    w = c.posterior["weight"].to_numpy()
    noise = m["log_likelihood_sd"]
    lines = [f"calibration: {m['waves']} waves x {m['runs']:,} runs, {len(c.events)} events, "
             f"{len(c.posterior)} particles  ->  {c.path}",
             *(f"prior: {note}" for note in m["prior_notes"]),
             "history matching: " + ", ".join(f"wave {r['wave']} keeps {100 * r['plausible_after']:.1f}% of the box"
                                              for r in m["waves_report"] if "plausible_after" in r),
             f"effective sample size (Kish): {c.ess:.1f} of {len(c.posterior)} particles "
             f"(SMC: {m['smc_steps']} tempering steps, acceptance {m['smc_acceptance']:.2f})",
             f"seed noise of a particle's log-likelihood (sd): {noise['weighted_mean']:.3f} nats on average, "
             f"{noise['max']:.3f} at most; relative to the posterior mean (what moves the weights): "
             f"{noise['relative_weighted_mean']:.3f} on average, {noise['relative_max']:.3f} at most", "",
             f"{'parameter':<52}{'range':>15}{'posterior mean':>16}{'sd':>8}{'edge mass':>11}"]
    for path, edge in zip(c.paths, m["edge_mass"]):
        x = c.posterior[f"param.{path}"].to_numpy()
        mean = float(w @ x)
        sd = float(np.sqrt(w @ (x - mean) ** 2))
        low, high = m["vary"][path]
        lines.append(f"{path:<52}{f'{low:g}:{high:g}':>15}{mean:>16.3f}{sd:>8.3f}{100 * edge:>10.1f}%")
    lines += ["", f"{'score (mean over yes/no events)':<34}{'Brier':>8}{'log':>8}{'events':>8}"]
    names = {"before": "in-sample, scenario as given", "after": "in-sample, calibrated",
             "holdout_before": "holdout, scenario as given", "holdout_after": f"holdout, fitted on months 1-{FIT_MONTHS}"}
    for key, label in names.items():
        s = c.scores.get(key) or {}
        if s:
            lines.append(f"{label:<34}{s['brier']:>8.3f}{s['log']:>8.3f}{s['events']:>8d}")
        elif key.startswith("holdout"):
            lines.append(f"{label:<34}  (no events dated after month {FIT_MONTHS} of the record)")
    rates = c.events[c.events["kind"] == "rate"]
    if len(rates):
        lines += ["", f"{'rate (expected count in the record months)':<44}{'record':>10}{'before':>10}{'after':>10}"]
        for row in rates.to_dict(orient="records"):
            bound = f"{'' if pd.isna(row['rate_at_least']) else int(row['rate_at_least'])}.." \
                    f"{'' if pd.isna(row['rate_at_most']) else int(row['rate_at_most'])}"
            lines.append(f"{row['event']:<44}{bound:>10}{row['count_before']:>10.3g}{row['count_after']:>10.3g}")
    lines += ["", f"calibrated scenario: {c.path / 'calibrated.yaml'} (sim run accepts it)"]
    return "\n".join(lines)


__all__ = ["Calibration", "calibrate", "calibrated_scenario", "format_calibration", "range_factors", "resume"]
