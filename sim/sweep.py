"""`sim sweep`: run a scenario at every point of a design, streaming results, resumable.

A sweep is planned (factors, design, point values; every point validated) before anything is
written, so bad input leaves nothing behind. It then runs in a hidden partial directory beside
its destination, `.NAME.partial/`, which holds `sweep.json` (the plan), `scenario.yaml` (the base
scenario as run) and `parts/`: one Parquet file per finished chunk (a group of at most
CHUNK_BLOCKS blocks of one point), written under a temporary name and renamed. Memory stays flat
however many points there are. When every chunk is done the parts are assembled, in point and
chunk order, into `runs.parquet`, `points.parquet`, `summary.parquet` and `manifest.json`, and
the directory is renamed into place. Interrupted, the partial directory stays, and
`--resume DIR` runs only the chunks without a part: the result is the same as an uninterrupted
sweep, byte for byte, because every chunk's numbers depend only on its (point, block) seeds.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
import os
import shutil
import sys
import types
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel
from tqdm import tqdm

from . import __version__, ensemble
from .designs import Factor, SweepInputError, SweepWarning, VarySpec, design_points, parse_spec, parse_vary
from .ensemble import MAX_RUNS, BlockTask, default_workers
from .executors import Executor, make_executor
from .model import ScenarioRef, resolve_scenario
from .results import command_line, environment, now, sha256
from .scenario import Distribution, Problem, Scenario, ScenarioError, dump_scenario, load_scenario
from .scenario.loader import _split, with_overrides
from .summary import wilson

CHUNK_BLOCKS = 2
PLAN_FILE = "sweep.json"
SUMMARY_SCHEMA = pa.schema(
    [
        ("point", pa.int64()),
        ("metric", pa.string()),
        ("p", pa.float64()),
        ("low", pa.float64()),
        ("high", pa.float64()),
        ("n", pa.int64()),
        ("crn", pa.bool_()),
    ]
)


# -- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything that decides a sweep's numbers, and where it is written."""

    base: Scenario
    text: str
    digest: str
    factors: tuple[Factor, ...]
    design: str
    requested_points: int | None
    values: tuple[tuple[float, ...], ...]
    runs: int
    seed: int
    crn: bool
    partial: Path
    target: Path
    started: str
    command: str

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.factors]

    @property
    def chunks_per_point(self) -> int:
        blocks = math.ceil(self.runs / ensemble.BLOCK)
        return math.ceil(blocks / CHUNK_BLOCKS)

    def chunk_runs(self, index: int) -> int:
        size = CHUNK_BLOCKS * ensemble.BLOCK
        return min(size, self.runs - index * size)

    def overrides(self, point: int) -> dict[str, float | int]:
        return {f.path: int(v) if f.integer else float(v) for f, v in zip(self.factors, self.values[point])}

    def label(self, point: int) -> str:
        return ", ".join(f"{k}={v:g}" for k, v in self.overrides(point).items())


def _vary_located(err: ScenarioError) -> ScenarioError:
    """Problems the loader located at `--set:i` belong to the i-th --vary."""
    return ScenarioError(
        Problem("--vary", p.line, p.column, p.path, p.message) if p.file == "--set" else p for p in err.problems
    )


def point_scenario(plan: Plan, point: int) -> Scenario:
    """The base scenario with the point's values applied and validated."""
    try:
        return with_overrides(plan.base, plan.overrides(point))
    except ScenarioError as err:
        raise _vary_located(err) from None


_MISSING = object()


def _current_value(base: Scenario, path: str) -> Any:
    """The value at a dotted path of the scenario, or _MISSING."""
    node: Any = base
    for key in _split(base.model_dump(mode="json"), path):
        if isinstance(node, BaseModel) and key in type(node).model_fields:
            node = getattr(node, key)
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return _MISSING
    return node


def check_factor(base: Scenario, factor: Factor, index: int) -> Factor:
    """The factor if its path names a number in the scenario (integers marked); else an error."""
    value = _current_value(base, factor.path)
    if value is _MISSING:
        # Not in the resolved scenario: the loader decides, and names the key it expected.
        try:
            with_overrides(base, {factor.path: factor.values[0]})
        except ScenarioError as err:
            raise ScenarioError(
                Problem("--vary", index, p.column, p.path, p.message) if p.file == "--set" else p for p in err.problems
            ) from None
        return factor
    if isinstance(value, bool) or not isinstance(value, (int, float, Distribution)):
        kind = "section" if isinstance(value, (BaseModel, dict)) else type(value).__name__
        raise SweepInputError(f"--vary {factor.path}: expected a path to a number, got a {kind}")
    return factor.as_integer() if isinstance(value, int) else factor


def _check_runs(runs: int, seed: int) -> None:
    if not 1 <= runs <= MAX_RUNS:
        raise SweepInputError(f"--runs must be between 1 and {MAX_RUNS:,} per point (got {runs})")
    if not 0 <= seed < 2**63:
        raise SweepInputError(f"--seed must be a non-negative integer below 2**63 (got {seed})")


def partial_of(target: Path) -> Path:
    return target.parent / f".{target.name}.partial"


def target_of(partial: Path) -> Path:
    name = partial.name
    if name.startswith(".") and name.endswith(".partial") and len(name) > len("..partial"):
        return partial.parent / name[1 : -len(".partial")]
    return partial  # renamed by hand: finish in place


def new_plan(scenario: ScenarioRef, vary: VarySpec, design: str, points: int | None, runs: int, seed: int,
             crn: bool, out: str | Path | None) -> Plan:
    """Check every input and lay out the sweep; raises before anything is written."""
    _check_runs(runs, seed)
    base = resolve_scenario(scenario)
    factors = tuple(check_factor(base, f, i) for i, f in enumerate(parse_vary(vary), start=1))
    values = tuple(design_points(factors, design, points, seed))
    text = dump_scenario(base)
    digest = sha256(text)
    if out is None:
        key = json.dumps([digest, [(f.path, f.spec) for f in factors], design, points, runs, seed, crn])
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = Path("results") / base.name / f"sweep-{stamp}-{sha256(key)[:8]}"
    else:
        target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SweepInputError(f"--out {target}: exists and is not empty (expected a new directory)")
    partial = partial_of(target)
    if partial.exists():
        raise SweepInputError(
            f"{partial} holds an interrupted sweep to the same place: finish it with "
            f"'sim sweep --resume {partial}' or delete it"
        )
    return Plan(base, text, digest, factors, design, points, values, runs, seed, crn, partial, target, now(),
                command_line())


def _plan_record(plan: Plan) -> dict[str, Any]:
    return {
        "kind": "sweep-partial",
        "version": __version__,
        "scenario": plan.base.name,
        "scenario_sha256": plan.digest,
        "vary": [{"path": f.path, "spec": f.spec, "integer": f.integer} for f in plan.factors],
        "design": plan.design,
        "points_requested": plan.requested_points,
        "runs": plan.runs,
        "seed": plan.seed,
        "crn": plan.crn,
        "block_size": ensemble.BLOCK,
        "chunk_blocks": CHUNK_BLOCKS,
        "values": [list(v) for v in plan.values],
        "started": plan.started,
        "command": plan.command,
    }


def _create_partial(plan: Plan) -> None:
    """The partial directory with its plan, made whole under a temporary name and renamed."""
    plan.partial.parent.mkdir(parents=True, exist_ok=True)
    staging = plan.partial.with_name(f"{plan.partial.name}.{os.getpid()}.tmp")
    try:
        (staging / "parts").mkdir(parents=True)
        (staging / "scenario.yaml").write_text(plan.text, encoding="utf-8")
        (staging / PLAN_FILE).write_text(json.dumps(_plan_record(plan), indent=1) + "\n", encoding="utf-8")
        staging.rename(plan.partial)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# -- resuming -----------------------------------------------------------------------------------


def _is_complete_sweep(path: Path) -> bool:
    try:
        return json.loads((path / "manifest.json").read_text()).get("kind") == "sweep"
    except (OSError, ValueError, AttributeError):
        return False


def locate_partial(path: Path) -> Path:
    """The partial directory that `--resume PATH` means: PATH itself, or the one beside PATH."""
    if (path / PLAN_FILE).is_file():
        return path
    beside = partial_of(path)
    if (beside / PLAN_FILE).is_file():
        return beside
    if _is_complete_sweep(path):
        raise SweepInputError(f"--resume {path}: this sweep is already complete (nothing to resume)")
    if not path.exists():
        raise SweepInputError(f"--resume {path}: no such directory (expected the directory an interrupted sweep left)")
    raise SweepInputError(
        f"--resume {path}: not an interrupted sweep (expected a directory holding {PLAN_FILE}, "
        "as an interrupted 'sim sweep' leaves it)"
    )


def _read_record(partial: Path) -> dict[str, Any]:
    try:
        record = json.loads((partial / PLAN_FILE).read_text(encoding="utf-8"))
        if record.get("kind") != "sweep-partial":
            raise ValueError("not a sweep plan")
        return record
    except (OSError, ValueError) as err:
        raise SweepInputError(f"--resume {partial}: unreadable {PLAN_FILE} ({err})") from None


def resume_plan(resume: str | Path, scenario: ScenarioRef | None = None, vary: VarySpec | None = None) -> Plan:
    """The plan of an interrupted sweep; `scenario` and `vary`, if given, must be the ones it ran."""
    partial = locate_partial(Path(resume))
    record = _read_record(partial)
    if record["block_size"] != ensemble.BLOCK or record["chunk_blocks"] != CHUNK_BLOCKS:
        raise SweepInputError(f"--resume {partial}: written with another block or chunk size (cannot be finished by this version)")
    base = load_scenario(partial / "scenario.yaml")
    text = dump_scenario(base)
    if sha256(text) != record["scenario_sha256"]:
        raise SweepInputError(f"--resume {partial}: scenario.yaml has changed since the sweep started")
    if scenario is not None and sha256(dump_scenario(resolve_scenario(scenario))) != record["scenario_sha256"]:
        raise SweepInputError(f"--resume {partial}: the scenario differs from the one the sweep ran ({record['scenario']})")
    factors = tuple(
        (lambda f: f.as_integer() if v["integer"] else f)(parse_spec(v["path"], v["spec"])) for v in record["vary"]
    )
    if vary is not None and [(f.path, f.spec) for f in parse_vary(vary)] != [(f.path, f.spec) for f in factors]:
        given = " ".join(f"{f.path}={f.spec}" for f in factors)
        raise SweepInputError(f"--resume {partial}: --vary differs from the sweep's ({given})")
    values = tuple(tuple(float(x) for x in v) for v in record["values"])
    return Plan(base, text, record["scenario_sha256"], factors, record["design"], record["points_requested"], values,
                int(record["runs"]), int(record["seed"]), bool(record["crn"]), partial, target_of(partial),
                record["started"], record["command"])


def resume_mismatches(resume: str | Path, given: Mapping[str, Any]) -> None:
    """Refuse options that would change an interrupted sweep's numbers (runs, seed, design, points, crn)."""
    record = _read_record(locate_partial(Path(resume)))
    names = {"points": "points_requested"}
    for option, value in given.items():
        if value is None:
            continue
        stored = record[names.get(option, option)]
        if value != stored:
            raise SweepInputError(f"--resume: --{option} {value} differs from the interrupted sweep's ({stored})")


# -- running chunks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """At most CHUNK_BLOCKS consecutive blocks of one point: one task for an executor."""

    point: int
    index: int
    tasks: tuple[BlockTask, ...]
    label: str

    @property
    def runs(self) -> int:
        return sum(t.size for t in self.tasks)


@dataclass(frozen=True)
class ChunkResult:
    point: int
    index: int
    runs: int
    table: pa.Table | None
    error: str | None


def simulate_chunk(chunk: Chunk) -> ChunkResult:
    """Run a chunk's blocks; the runs table gets a leading `point` column. Errors are returned, not raised."""
    try:
        tables = [ensemble.simulate_block(task).runs for task in chunk.tasks]
    except Exception as err:  # a failing point is recorded and the sweep goes on
        return ChunkResult(chunk.point, chunk.index, chunk.runs, None, f"{type(err).__name__}: {err} (running {chunk.label})")
    table = pa.concat_tables(tables)
    table = table.add_column(0, "point", pa.array(np.full(table.num_rows, chunk.point, dtype=np.int64)))
    return ChunkResult(chunk.point, chunk.index, chunk.runs, table, None)


def part_name(point: int, index: int) -> str:
    return f"point-{point:06d}.chunk-{index:04d}.parquet"


def _write_part(parts: Path, result: ChunkResult) -> None:
    final = parts / part_name(result.point, result.index)
    staging = final.with_suffix(".tmp")
    pq.write_table(result.table, staging, compression="lz4")  # temporary: fast beats small
    os.replace(staging, final)


def validate_points(plan: Plan) -> dict[int, str]:
    """Error text of every point whose values the loader refuses; raises if every point is refused."""
    invalid: dict[int, str] = {}
    first: ScenarioError | None = None
    for p in range(len(plan.values)):
        try:
            point_scenario(plan, p)
        except ScenarioError as err:
            invalid[p] = "; ".join(str(problem) for problem in err.problems)
            first = first or err
    if first is not None and len(invalid) == len(plan.values):
        raise first
    return invalid


def _pending_chunks(plan: Plan, skip: Mapping[int, str], done: set[str]) -> Iterator[Chunk]:
    for p in range(len(plan.values)):
        if p in skip:
            continue
        missing = [c for c in range(plan.chunks_per_point) if part_name(p, c) not in done]
        if not missing:
            continue
        tasks = ensemble.block_tasks(point_scenario(plan, p), plan.runs, plan.seed, point=p, crn=plan.crn,
                                     trajectories=False)
        for c in missing:
            yield Chunk(p, c, tuple(tasks[c * CHUNK_BLOCKS : (c + 1) * CHUNK_BLOCKS]), plan.label(p))


def _done_parts(parts: Path) -> set[str]:
    for stale in parts.glob("*.tmp"):
        stale.unlink()
    return {f.name for f in parts.glob("*.parquet")}


def _warn_failed(plan: Plan, point: int, error: str) -> None:
    warnings.warn(f"point {point} ({plan.label(point)}) failed: {error}", SweepWarning, stacklevel=3)


def run_chunks(plan: Plan, invalid: Mapping[int, str], executor: Executor, progress: bool) -> dict[int, str]:
    """Run every chunk that has no part yet; return the points that failed while running."""
    parts = plan.partial / "parts"
    done = _done_parts(parts)
    ok = [p for p in range(len(plan.values)) if p not in invalid]
    left = {p: sum(part_name(p, c) not in done for c in range(plan.chunks_per_point)) for p in ok}
    initial = sum(plan.chunk_runs(c) for p in ok for c in range(plan.chunks_per_point) if part_name(p, c) in done)
    failed: dict[int, str] = {}
    if not any(left.values()):
        return failed
    points_done = sum(1 for n in left.values() if n == 0)
    with tqdm(total=len(ok) * plan.runs, initial=initial, unit="run", unit_scale=True,
              disable=None if progress else True, desc="sweep") as bar:
        bar.set_postfix_str(f"points {points_done}/{len(ok)}")
        for result in executor.map(simulate_chunk, _pending_chunks(plan, invalid, done)):
            if result.error is not None:
                if result.point not in failed:
                    failed[result.point] = result.error
                    _warn_failed(plan, result.point, result.error)
            else:
                _write_part(parts, result)
            left[result.point] -= 1
            points_done += left[result.point] == 0
            bar.set_postfix_str(f"points {points_done}/{len(ok)}", refresh=False)
            bar.update(result.runs)
    return failed


# -- assembling the sweep directory -------------------------------------------------------------


@dataclass
class _Counts:
    """One point's outcome, crossing and enforcement counts, added chunk by chunk."""

    classes: list[str]
    red_lines: list[str]
    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    crossed: dict[str, int] = field(default_factory=dict)
    enforced: dict[str, int] = field(default_factory=dict)

    def add(self, table: pa.Table) -> None:
        self.runs += table.num_rows
        labels = table.column("outcome").cast(pa.string())
        for item in pc.value_counts(labels).to_pylist():
            self.outcomes[item["values"]] = self.outcomes.get(item["values"], 0) + item["counts"]
        for lid in self.red_lines:
            self.crossed[lid] = self.crossed.get(lid, 0) + int(pc.sum(table.column(f"crossed.{lid}")).as_py() or 0)
            self.enforced[lid] = self.enforced.get(lid, 0) + int(pc.sum(table.column(f"enforced.{lid}")).as_py() or 0)

    def rows(self, point: int, crn: bool) -> list[tuple]:
        def row(metric: str, k: int, n: int) -> tuple:
            return (point, metric, k / n if n else float("nan"), *wilson(k, n), n, crn)

        out = [row(f"outcome.{c}", self.outcomes.get(c, 0), self.runs) for c in self.classes]
        for lid in self.red_lines:
            out.append(row(f"crossed.{lid}", self.crossed[lid], self.runs))
            out.append(row(f"enforced.{lid}", self.enforced[lid], self.crossed[lid]))
        return out


def _aligned(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.equals(schema):
        return table
    columns = [table[f.name] if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _write_runs(plan: Plan, ok: list[int]) -> list[tuple]:
    """Stream every part of the ok points into runs.parquet, in point and chunk order; return summary rows."""
    parts = plan.partial / "parts"
    files = {p: [parts / part_name(p, c) for c in range(plan.chunks_per_point)] for p in ok}
    schemas = [pq.read_schema(f).remove_metadata() for fs in files.values() for f in fs]
    schema = pa.unify_schemas(schemas) if schemas else pa.schema([("point", pa.int64())])
    staging = plan.partial / "runs.parquet.tmp"
    rows: list[tuple] = []
    with pq.ParquetWriter(staging, schema, compression="zstd") as writer:
        for p in ok:
            counts = _Counts(list(plan.base.outcomes.classes), list(plan.base.red_lines))
            for f in files[p]:
                table = _aligned(pq.read_table(f), schema)
                writer.write_table(table)
                counts.add(table)
            rows += counts.rows(p, plan.crn)
    os.replace(staging, plan.partial / "runs.parquet")
    return rows


def _points_table(plan: Plan, errors: Mapping[int, str]) -> pa.Table:
    columns: dict[str, pa.Array] = {"point": pa.array(np.arange(len(plan.values), dtype=np.int64))}
    for i, f in enumerate(plan.factors):
        raw = [v[i] for v in plan.values]
        columns[f.path] = pa.array(np.array(raw, dtype=np.int64 if f.integer else np.float64))
    columns["status"] = pa.array(["failed" if p in errors else "ok" for p in range(len(plan.values))], pa.string())
    columns["error"] = pa.array([errors.get(p) for p in range(len(plan.values))], pa.string())
    return pa.table(columns)


def _manifest(plan: Plan, errors: Mapping[int, str], executor: str, address: str | None, workers: int,
              resumed: bool) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "scenario": plan.base.name,
        "scenario_sha256": plan.digest,
        "seed": plan.seed,
        "runs": plan.runs,
        "rounds": plan.base.rounds,
        "block_size": ensemble.BLOCK,
        "chunk_blocks": CHUNK_BLOCKS,
        "design": plan.design,
        "vary": {f.path: f.spec for f in plan.factors},
        "paths": plan.paths,
        "integer_paths": [f.path for f in plan.factors if f.integer],
        "points": len(plan.values),
        "points_requested": plan.requested_points,
        "points_failed": sorted(errors),
        "crn": plan.crn,
        "executor": executor,
        "address": address,
        "workers": workers,
        "resumed": resumed,
        "version": __version__,
        "command": plan.command,
        **({"resume_command": command_line()} if resumed else {}),
        **environment(),
        "started": plan.started,
        "finished": now(),
    }


def assemble(plan: Plan, errors: Mapping[int, str], manifest: dict[str, Any]) -> Path:
    """Write the final files into the partial directory, drop the parts, and rename it into place."""
    ok = [p for p in range(len(plan.values)) if p not in errors]
    rows = _write_runs(plan, ok)
    pq.write_table(_points_table(plan, errors), plan.partial / "points.parquet", compression="zstd")
    summary = pa.Table.from_pylist([dict(zip(SUMMARY_SCHEMA.names, r)) for r in rows], schema=SUMMARY_SCHEMA)
    pq.write_table(summary, plan.partial / "summary.parquet", compression="zstd")
    (plan.partial / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    shutil.rmtree(plan.partial / "parts")
    (plan.partial / PLAN_FILE).unlink()
    if plan.target != plan.partial:
        if plan.target.exists():
            plan.target.rmdir()  # an empty directory named by --out
        plan.partial.rename(plan.target)
    return plan.target


def _complete_points(plan: Plan) -> int:
    parts = plan.partial / "parts"
    done = {f.name for f in parts.glob("*.parquet")} if parts.is_dir() else set()
    return sum(all(part_name(p, c) in done for c in range(plan.chunks_per_point)) for p in range(len(plan.values)))


def _tell_how_to_resume(plan: Plan, error: BaseException) -> None:
    what = "interrupted" if isinstance(error, KeyboardInterrupt) else f"stopped by an error ({type(error).__name__})"
    print(
        f"sweep {what}: {_complete_points(plan)} of {len(plan.values)} points complete; "
        f"partial results kept in {plan.partial}\n"
        f"finish it with: sim sweep --resume {plan.partial}",
        file=sys.stderr,
    )


# -- the API ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A finished sweep: its directory, and readers for what it holds."""

    path: Path
    n_points: int
    failed: list[int]

    @property
    def ok(self) -> int:
        return self.n_points - len(self.failed)

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "points.parquet")

    def summary(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "summary.parquet")

    def runs(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "runs.parquet")


def sweep(
    scenario: ScenarioRef | None = None,
    vary: VarySpec | None = None,
    design: str = "grid",
    points: int | None = None,
    runs: int = 2000,
    seed: int = 0,
    workers: int | None = None,
    executor: str = "local",
    address: str | None = None,
    crn: bool = False,
    resume: str | Path | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> SweepResult:
    """Run `scenario` at every point of a design over the `vary` paths and write a sweep directory.

    `vary` maps dotted paths to SPECs (`{"actors.south_korea.resolve": "0.2:0.9:8"}`) or is a list
    of `PATH=SPEC` strings. With `resume=DIR` the interrupted sweep in DIR is finished: its
    scenario, factors, design, runs, seed and crn are read from DIR (`scenario` and `vary`, if
    given, must match) and only the executor options apply. Bad input raises SweepInputError or
    ScenarioError before anything is written; a point that fails is recorded (SweepWarning).
    """
    if resume is not None:
        plan = resume_plan(resume, scenario, vary)
    else:
        if scenario is None or vary is None:
            raise SweepInputError("a sweep needs a scenario and at least one --vary PATH=SPEC (or --resume DIR)")
        plan = new_plan(scenario, vary, design, points, runs, seed, crn, out)
    invalid = validate_points(plan)
    for p, error in invalid.items():
        _warn_failed(plan, p, error)
    pool = make_executor(executor, workers or default_workers(), address)  # fails before anything is written
    try:
        if resume is None:
            _create_partial(plan)
        try:
            errors = {**invalid, **run_chunks(plan, invalid, pool, progress)}
            manifest = _manifest(plan, errors, pool.kind, address, pool.workers, resume is not None)
            path = assemble(plan, errors, manifest)
        except BaseException as err:
            _tell_how_to_resume(plan, err)
            raise
    finally:
        pool.close()
    return SweepResult(path, len(plan.values), sorted(errors))


class _CallableModule(types.ModuleType):
    """Importing sim.sweep binds the package attribute `sim.sweep` to this module, hiding the
    function of the same name; calling the module calls the function, so `sim.sweep(...)` works
    whether or not the module has been imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__signature__ = inspect.signature(sweep)

__all__ = ["SweepInputError", "SweepResult", "SweepWarning", "sweep"]
