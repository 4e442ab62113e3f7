"""`sim sweep`: run a scenario at every point of a design, streaming results, resumable.

A sweep is planned first (factors, design, point values, every point validated) and nothing is
written until the plan is sound, so bad input leaves nothing behind. Then chunks (at most
CHUNK_BLOCKS blocks of one point) go to an executor, in point order; each finished chunk is
saved as its own part (see sweep_store) and, once all of a point's chunks are in, appended to
runs.parquet, so memory stays flat however many points there are. Interrupted, the partial
directory stays, and `--resume DIR` runs only the chunks without a part: the result equals an
uninterrupted sweep, byte for byte, because a chunk's numbers depend only on its (point, block)
seeds and every chunk reaches runs.parquet through the same Parquet bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel
from tqdm import tqdm

from .. import __version__
from . import ensemble, interrupts
from .designs import Factor, SweepInputError, SweepWarning, VarySpec, design_points, parse_vary
from .destination import DestinationLock, OutputError, check_out, no_space
from .ensemble import MAX_RUNS, BlockTask, cap_workers
from .executors import Executor, make_executor
from .interrupts import interrupted_by
from .packing import flatten, pack_runs, packable, packs
from ..engine.clock import calendar
from ..engine.model import ScenarioRef, resolve_scenario
from .results import command_line, environment, now, sha256
from ..scenario import Distribution, Problem, Scenario, ScenarioError, dump_scenario, load_scenario
from ..scenario.dotpath import PathError, parse_path, value_at
from ..scenario.errors import did_you_mean
from ..scenario.loader import with_overrides
from .sweep_integrity import SEAL, check_design, check_seal, verify_parts
from .sweep_store import (
    CHUNK_BLOCKS,
    PLAN_FILE,
    Plan,
    RunsStream,
    SweepState,
    check_finished,
    complete_points,
    create_partial,
    done_parts,
    encode_part,
    finish,
    locate_partial,
    move_into_place,
    part_name,
    partial_of,
    read_part,
    read_record,
    save_part,
    stored_factors,
    sweep_state,
    target_of,
)

# -- planning -----------------------------------------------------------------------------------


def _vary_located(err: ScenarioError, index: int | None = None) -> ScenarioError:
    """Problems the loader located at `--set:i` belong to the i-th --vary (or to `index`)."""
    return ScenarioError(
        Problem("--vary", index or p.line, p.column, p.path, p.message) if p.file == "--set" else p
        for p in err.problems
    )


def point_scenario(plan: Plan, point: int) -> Scenario:
    """The base scenario with the point's values applied and validated."""
    try:
        return with_overrides(plan.base, plan.overrides(point))
    except ScenarioError as err:
        raise _vary_located(err) from None


_MISSING = object()


def _current_value(base: Scenario, path: str) -> Any:
    """The value at a dotted path of the scenario (list items as `[i]`), or _MISSING."""
    try:
        return value_at(base, parse_path(base.model_dump(mode="json"), path))
    except (PathError, KeyError):
        return _MISSING


def _unknown_id(base: Scenario, path: str) -> str | None:
    """What is wrong when `path` names an actor, red line or other block the scenario lacks, else None."""
    section, _, rest = path.partition(".")
    name = rest.split(".", 1)[0].split("[", 1)[0]
    blocks = base.model_dump(mode="json").get(section)
    if not name or not isinstance(blocks, dict) or name in blocks or not all(isinstance(b, dict) for b in blocks.values()):
        return None
    return f"unknown key '{name}' (expected one of: {', '.join(blocks)}){did_you_mean(name, blocks)}"


def check_factor(base: Scenario, factor: Factor, index: int) -> Factor:
    """The factor if its path names a number in the scenario (integers marked); else an error."""
    value = _current_value(base, factor.path)
    if value is _MISSING:
        unknown = _unknown_id(base, factor.path)
        if unknown is not None:  # the loader would take it for a new block and list its missing keys
            raise ScenarioError([Problem("--vary", index, 1, factor.path, unknown)])
        # Not in the resolved scenario: the loader decides, and names the keys it expected.
        try:
            with_overrides(base, {factor.path: factor.values[0]})
        except ScenarioError as err:
            raise _vary_located(err, index) from None
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
    if out is not None:
        _check_target(target)
    return Plan(base, text, digest, factors, design, points, values, runs, seed, crn, partial_of(target), target, now(),
                command_line())


def _check_target(target: Path, locked: bool = False) -> None:
    """A sweep's destination: as for any results directory, and no interrupted sweep beside it.
    A partial directory whose sweep is still running is that sim's, not an interrupted one: while
    the destination is not `locked` by this process, its lock tells which (DestinationBusy)."""
    check_out(target, "--out")
    partial = partial_of(target)
    if os.path.lexists(partial):
        if not locked:
            DestinationLock(target, "--out").acquire().release()
        raise SweepInputError(
            f"{partial} holds an interrupted sweep to the same place: finish it with "
            f"'sim sweep --resume {partial}' or delete it"
        )


def _claim(plan: Plan, numbered: bool) -> tuple[Plan, DestinationLock]:
    """Lock the plan's destination and check it again under the lock. A default destination
    (`numbered`) that is taken gets a -2, -3... suffix instead of an error."""
    for n in range(1, 100):
        target = plan.target if n == 1 else plan.target.with_name(f"{plan.target.name}-{n}")
        try:
            _check_target(target)
            lock = DestinationLock(target, "--out").acquire()
        except (OutputError, SweepInputError):
            if not numbered or n == 99:
                raise
            continue
        try:
            _check_target(target, locked=True)
        except BaseException:
            lock.release()
            if not numbered:
                raise
            continue
        return replace(plan, target=target, partial=partial_of(target)), lock
    raise AssertionError("unreachable")


def resume_plan(resume: str | Path, scenario: ScenarioRef | None = None, vary: VarySpec | None = None) -> Plan:
    """The plan of an interrupted sweep; `scenario` and `vary`, if given, must be the ones it ran.

    The plan must match its checksum and the design it states, and every part on disk its record
    in parts.jsonl and the rows its name promises (sweep_integrity); SweepInputError otherwise."""
    partial = locate_partial(Path(resume))
    record = read_record(partial)
    where = f"--resume {partial}"
    check_seal(record, where)
    base = load_scenario(partial / "scenario.yaml")
    text = dump_scenario(base)
    if sha256(text) != record["scenario_sha256"]:
        raise SweepInputError(f"--resume {partial}: scenario.yaml has changed since the sweep started")
    if scenario is not None and sha256(dump_scenario(resolve_scenario(scenario))) != record["scenario_sha256"]:
        raise SweepInputError(f"--resume {partial}: the scenario differs from the one the sweep ran ({record['scenario']})")
    factors = stored_factors(record)
    if vary is not None and [(f.path, f.spec) for f in parse_vary(vary)] != [(f.path, f.spec) for f in factors]:
        given = " ".join(f"{f.path}={f.spec}" for f in factors)
        raise SweepInputError(f"--resume {partial}: --vary differs from the sweep's ({given})")
    check_design(record, factors, where)
    values = tuple(tuple(float(x) for x in v) for v in record["values"])
    plan = Plan(base, text, record["scenario_sha256"], factors, record["design"], record["points_requested"], values,
                int(record["runs"]), int(record["seed"]), bool(record["crn"]), partial, target_of(partial),
                record["started"], record["command"], record[SEAL])
    verify_parts(partial, len(values), plan.chunks_per_point, CHUNK_BLOCKS * ensemble.BLOCK, plan.seal, where)
    return plan


def _stored_options(state: SweepState) -> dict[str, Any]:
    """What decided a sweep's numbers: its plan if it is unfinished, else its manifest."""
    if state.kind == "partial":
        return read_record(state.partial)
    folder = state.partial if state.kind == "finishing" else state.target
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SweepInputError(f"--resume {folder}: unreadable manifest.json ({err})") from None


def resume_mismatches(resume: str | Path, given: Mapping[str, Any]) -> None:
    """Refuse options that would change an interrupted sweep's numbers (runs, seed, design, points, crn)."""
    record = _stored_options(sweep_state(Path(resume)))
    names = {"points": "points_requested"}
    for option, value in given.items():
        stored = record.get(names.get(option, option))
        if value is not None and value != stored:
            raise SweepInputError(f"--resume: --{option} {value} differs from the interrupted sweep's ({stored})")


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


# -- running ------------------------------------------------------------------------------------


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
    """A chunk's runs as the Parquet bytes of its part, or the error that stopped it."""

    point: int
    index: int
    runs: int
    data: bytes | None
    error: str | None


def _chunk_result(chunk: Chunk, tables: list[pa.Table]) -> ChunkResult:
    """The chunk's part: its blocks' runs with a leading `point` column."""
    table = pa.concat_tables(tables)
    table = table.add_column(0, "point", pa.array(np.full(table.num_rows, chunk.point, dtype=np.int64)))
    return ChunkResult(chunk.point, chunk.index, chunk.runs, encode_part(table), None)


def simulate_chunk(chunk: Chunk) -> ChunkResult:
    """Run a chunk's blocks. Errors are returned, not raised."""
    try:
        tables = [ensemble.simulate_block(task).runs for task in chunk.tasks]
    except Exception as err:  # a failing point is recorded and the sweep goes on
        return ChunkResult(chunk.point, chunk.index, chunk.runs, None, f"{type(err).__name__}: {err} (running {chunk.label})")
    return _chunk_result(chunk, tables)


def simulate_chunks(chunks: tuple[Chunk, ...]) -> list[ChunkResult]:
    """Run chunks of one block each packed into one model (see packing.py); each gets the part
    it would get alone. If the packed model fails, each chunk runs alone, to name the failing one."""
    if len(chunks) == 1:
        return [simulate_chunk(chunks[0])]
    try:
        blocks = ensemble.simulate_pack([chunk.tasks[0] for chunk in chunks])
    except Exception:
        return [simulate_chunk(chunk) for chunk in chunks]
    return [_chunk_result(chunk, [block.runs]) for chunk, block in zip(chunks, blocks)]


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


def _warn_failed(plan: Plan, point: int, error: str) -> None:
    warnings.warn(f"point {point} ({plan.label(point)}) failed: {error}", SweepWarning, stacklevel=3)


def _point_tables(plan: Plan, point: int, last: bytes | None) -> Iterator[pa.Table]:
    """A point's chunk tables in order: from their parts, the last one from memory when `last`
    holds it (that is, when the last chunk is the one just run)."""
    for c in range(plan.chunks_per_point):
        fresh = c == plan.chunks_per_point - 1 and last is not None
        yield read_part(last if fresh else plan.parts / part_name(point, c))


def run_points(plan: Plan, invalid: Mapping[int, str], executor: Executor, stream: RunsStream,
               progress: bool) -> dict[int, str]:
    """Run every chunk without a part, point by point, saving parts and streaming complete points
    into runs.parquet; return the points that failed while running."""
    done = done_parts(plan.parts)
    ok = [p for p in range(len(plan.values)) if p not in invalid]
    initial = sum(plan.chunk_runs(c) for p in ok for c in range(plan.chunks_per_point) if part_name(p, c) in done)
    pending = sum(plan.chunk_runs(c) for p in ok for c in range(plan.chunks_per_point) if part_name(p, c) not in done)
    groups = packs(_pending_chunks(plan, invalid, done), pack_runs(pending, executor.workers),
                   allowed=packable(plan.base, plan.paths, plan.values))
    results = flatten(executor.map(simulate_chunks, groups))
    failed: dict[int, str] = {}
    with tqdm(total=len(ok) * plan.runs, initial=initial, unit="run", unit_scale=True,
              disable=None if progress else True, desc="sweep") as bar:
        for count, p in enumerate(ok, start=1):
            last: bytes | None = None
            for c in range(plan.chunks_per_point):
                if part_name(p, c) in done:
                    continue
                result = next(results)
                if (result.point, result.index) != (p, c):
                    raise RuntimeError(f"executor returned chunk {result.point}/{result.index}, expected {p}/{c}")
                if result.error is not None:
                    failed.setdefault(p, result.error)
                else:
                    save_part(plan, p, c, result.data)
                    # Only the last chunk's bytes may stand in for its part: when an earlier chunk
                    # is run again (its part was deleted), the last one comes from its file.
                    last = result.data if c == plan.chunks_per_point - 1 else None
                bar.update(result.runs)
            if p in failed:
                _warn_failed(plan, p, failed[p])
            else:
                stream.add_point(p, _point_tables(plan, p, last))
            bar.set_postfix_str(f"points {count}/{len(ok)}")
    return failed


def _manifest(plan: Plan, errors: Mapping[int, str], executor: Executor, resumed: bool) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "scenario": plan.base.name,
        "scenario_sha256": plan.digest,
        "seed": plan.seed,
        "runs": plan.runs,
        "rounds": plan.base.rounds,
        **calendar(plan.base),
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
        "executor": executor.kind,
        "address": executor.address,
        "workers": executor.workers,
        "resumed": resumed,
        "version": __version__,
        "command": plan.command,
        **({"resume_command": command_line()} if resumed else {}),
        **environment(),
        "started": plan.started,
        "finished": now(),
    }


def _resume_hint(plan: Plan, error: BaseException | None) -> str:
    """What stopped the sweep, what is kept, and the command that finishes it."""
    if error is None or isinstance(error, KeyboardInterrupt):
        what = f"sweep {interrupted_by(error) if error is not None else 'interrupted'}"
    elif no_space(error):
        what = "sweep stopped: no space left on device"
    else:
        what = f"sweep stopped by an error ({type(error).__name__})"
    if not (plan.partial / PLAN_FILE).exists() and (plan.partial / "manifest.json").exists():
        done = "every point complete, not yet moved into place"
    else:
        done = f"{complete_points(plan)} of {len(plan.values)} points complete"
    then = "free some space, then finish it with" if error is not None and no_space(error) else "finish it with"
    return f"{what}: {done}; partial results kept in {plan.partial}\n{then}: {plan.resume_with} --resume {plan.partial}"


# -- the API ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A finished sweep: its directory, and readers for what it holds."""

    path: Path
    n_points: int
    failed: list[int]
    note: str | None = None  # set when --resume found nothing left to run

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
    resume_with: str = "sim sweep",
) -> SweepResult:
    """Run `scenario` at every point of a design over the `vary` paths and write a sweep directory.

    `vary` maps dotted paths to SPECs (`{"actors.south_korea.resolve": "0.2:0.9:8"}`) or is a list
    of `PATH=SPEC` strings. With `resume=DIR` the interrupted sweep in DIR is finished: its
    scenario, factors, design, runs, seed and crn are read from DIR (`scenario` and `vary`, if
    given, must match) and only the executor options apply. `resume_with` is the command an
    interrupted sweep's message tells the user to finish it with. Bad input raises SweepInputError or
    ScenarioError before anything is written; a point that fails is recorded (SweepWarning).
    """
    if resume is not None:
        return _resume(Path(resume), scenario, vary, workers, executor, address, progress, resume_with)
    if scenario is None or vary is None:
        raise SweepInputError("a sweep needs a scenario and at least one --vary PATH=SPEC (or --resume DIR)")
    plan = replace(new_plan(scenario, vary, design, points, runs, seed, crn, out), resume_with=resume_with)
    invalid = validate_points(plan)
    pool = _executor(plan, invalid, set(), workers, executor, address)  # fails before anything is written
    try:
        plan, lock = _claim(plan, numbered=out is None)
    except BaseException:
        pool.close(abort=True)
        raise
    with lock:
        try:
            plan = create_partial(plan)
        except BaseException:
            pool.close(abort=True)
            raise
        return _run(plan, invalid, pool, progress, resumed=False)


def _resume(path: Path, scenario: ScenarioRef | None, vary: VarySpec | None, workers: int | None, executor: str,
            address: str | None, progress: bool, resume_with: str) -> SweepResult:
    """Finish the sweep at `path` from whatever state it was left in (see sweep_store.sweep_state)."""
    with DestinationLock(sweep_state(path).target, "--resume"):
        state = sweep_state(path)  # again, now that no other sim can change it
        if state.kind == "complete":
            return _complete(state.target, "this sweep is already complete: nothing to resume")
        if state.kind == "finishing":
            check_finished(state.partial)
            target = move_into_place(state.partial, state.target)
            return _complete(target, "the sweep had finished but was not yet moved into place: moved it")
        plan = replace(resume_plan(state.partial, scenario, vary), resume_with=resume_with)
        invalid = validate_points(plan)
        pool = _executor(plan, invalid, done_parts(plan.parts), workers, executor, address)
        return _run(plan, invalid, pool, progress, resumed=True)


def _complete(path: Path, note: str) -> SweepResult:
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return SweepResult(path, int(manifest["points"]), sorted(manifest.get("points_failed", [])), f"{path}: {note}")


def _executor(plan: Plan, invalid: Mapping[int, str], done: set[str], workers: int | None, kind: str,
              address: str | None) -> Executor:
    """The executor, with local workers capped at the cores and the chunks left to run."""
    for p, error in invalid.items():
        _warn_failed(plan, p, error)
    chunks = sum(part_name(p, c) not in done for p in range(len(plan.values)) if p not in invalid
                 for c in range(plan.chunks_per_point))
    try:
        count = (workers or 1) if address is not None else cap_workers(workers, chunks, "chunk")
    except ValueError as err:
        raise SweepInputError(str(err)) from None
    return make_executor(kind, count, address)


def _run(plan: Plan, invalid: Mapping[int, str], pool: Executor, progress: bool, resumed: bool) -> SweepResult:
    """Run what is left of the plan and finish the sweep directory; on any stop, keep the partial
    directory and say how to resume."""
    hint = interrupts.register(lambda: os.write(2, (_resume_hint(plan, None) + "\n").encode()))
    stream = RunsStream(plan)
    try:
        errors = {**invalid, **run_points(plan, invalid, pool, stream, progress)}
        path = finish(plan, stream, errors, _manifest(plan, errors, pool, resumed))
    except BaseException as err:
        interrupts.unregister(hint)
        stream.abort()  # runs.parquet.tmp goes: a resume rebuilds it from the parts
        for stale in plan.parts.glob("*.tmp"):
            stale.unlink(missing_ok=True)  # a part cut short by a full disk, never renamed into place
        if isinstance(err, OSError) and not err.filename:
            err.writing = str(plan.partial)  # type: ignore[attr-defined]  # pyarrow's write errors name no file
        print(_resume_hint(plan, err), file=sys.stderr, flush=True)  # before stopping workers, which may take a while
        pool.close(abort=True)
        raise
    finally:
        interrupts.unregister(hint)
        pool.close()
    return SweepResult(path, len(plan.values), sorted(errors))


__all__ = ["SweepInputError", "SweepResult", "SweepWarning", "sweep"]
