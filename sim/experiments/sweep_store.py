"""The sweep directory on disk: the partial directory a sweep works in, its parts, the final files.

A sweep to DEST works in `.DEST.partial/` beside it:

    sweep.json      the plan: everything that decides the numbers (to resume with), with its checksum
    scenario.yaml   the base scenario as run
    parts/          point-PPPPPP.chunk-CCCC.parquet, one per finished chunk, renamed into place whole
    parts.jsonl     each part's checksum and rows, recorded before the part is renamed into place
    runs.parquet.tmp  runs.parquet being written, point by point, as points complete

When every point is done the final files are written beside them (manifest.json last, whole),
the plan is removed (from then on the directory is a finished sweep that only needs its rename),
then the parts, and the directory is renamed to DEST. A resume finds each of these states and
finishes from it (see sweep_state). A part is Parquet bytes made by the worker; the
final runs.parquet is written from those same bytes, decoded, whether they come from a result
just received or from a part file left by an interrupted sweep, so a resumed sweep writes the
same bytes as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from . import ensemble
from .designs import Factor, SweepInputError, parse_spec
from .sweep_integrity import LEDGER, SEAL, record_part, seal
from ..scenario import Scenario
from .summary import wilson

CHUNK_BLOCKS = 2
PLAN_FILE = "sweep.json"
ROW_GROUP_ROWS = 65_536
PART_COMPRESSION = "lz4"  # parts are temporary: fast beats small
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
RECORD_KEYS = {"kind", "scenario", "scenario_sha256", "vary", "design", "points_requested", "runs", "seed", "crn",
               "block_size", "chunk_blocks", "values", "started", "command"}


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
    seal: str = ""  # the plan's checksum, once its partial directory exists
    resume_with: str = "sim sweep"  # the command that finishes it (sim sensitivity also analyses it)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.factors]

    @property
    def parts(self) -> Path:
        return self.partial / "parts"

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


# -- where ---------------------------------------------------------------------------------------


def partial_of(target: Path) -> Path:
    return target.parent / f".{target.name}.partial"


def target_of(partial: Path) -> Path:
    name = partial.name
    if name.startswith(".") and name.endswith(".partial") and len(name) > len("..partial"):
        return partial.parent / name[1 : -len(".partial")]
    return partial  # renamed by hand: finish in place


# -- the plan record -----------------------------------------------------------------------------


def plan_record(plan: Plan) -> dict[str, Any]:
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


def create_partial(plan: Plan) -> Plan:
    """The partial directory with its sealed plan, made whole under a temporary name and renamed;
    returns the plan with its seal."""
    plan.partial.parent.mkdir(parents=True, exist_ok=True)
    staging = plan.partial.with_name(f"{plan.partial.name}.{os.getpid()}.tmp")
    record = seal(plan_record(plan))
    try:
        (staging / "parts").mkdir(parents=True)
        (staging / "scenario.yaml").write_text(plan.text, encoding="utf-8")
        (staging / PLAN_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        staging.rename(plan.partial)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return replace(plan, seal=record[SEAL])


def _manifest_kind(path: Path) -> str | None:
    try:
        data = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


@dataclass(frozen=True)
class SweepState:
    """What `--resume PATH` finds: `partial` (an interrupted sweep), `finishing` (finished, but
    stopped before its final rename) or `complete` (at `target`, nothing to do)."""

    kind: str
    partial: Path
    target: Path


def sweep_state(path: Path) -> SweepState:
    """The sweep `--resume PATH` means: PATH itself, or the partial directory beside PATH."""
    path = Path(path)
    candidates = [path] if path.name.endswith(".partial") else [path, partial_of(path)]
    for candidate in candidates:
        if (candidate / PLAN_FILE).is_file():
            return SweepState("partial", candidate, target_of(candidate))
    for candidate in candidates:
        if candidate.name.endswith(".partial") and _manifest_kind(candidate) == "sweep":
            return SweepState("finishing", candidate, target_of(candidate))
    target = target_of(path) if path.name.endswith(".partial") else path
    if _manifest_kind(target) == "sweep" and not (target / PLAN_FILE).exists():
        return SweepState("complete", partial_of(target), target)
    if not path.exists():
        raise SweepInputError(f"--resume {path}: no such directory (expected the directory an interrupted sweep left)")
    raise SweepInputError(
        f"--resume {path}: not an interrupted sweep (expected a directory holding {PLAN_FILE}, "
        "as an interrupted 'sim sweep' leaves it)"
    )


def locate_partial(path: Path) -> Path:
    """The partial directory of the interrupted sweep that `--resume PATH` means."""
    state = sweep_state(path)
    if state.kind == "complete":
        raise SweepInputError(f"--resume {path}: this sweep is already complete (nothing to resume)")
    return state.partial


def read_record(partial: Path) -> dict[str, Any]:
    """The plan record of a partial directory, checked for completeness."""
    try:
        record = json.loads((partial / PLAN_FILE).read_text(encoding="utf-8"))
        missing = RECORD_KEYS - set(record) if isinstance(record, dict) else RECORD_KEYS
        if missing or record.get("kind") != "sweep-partial":
            raise ValueError(f"not a sweep plan: missing {', '.join(sorted(missing)) or 'kind sweep-partial'}")
    except (OSError, ValueError) as err:
        raise SweepInputError(f"--resume {partial}: unreadable {PLAN_FILE} ({err})") from None
    if record["block_size"] != ensemble.BLOCK or record["chunk_blocks"] != CHUNK_BLOCKS:
        raise SweepInputError(f"--resume {partial}: written with another block or chunk size (cannot be finished by this version)")
    return record


def stored_factors(record: Mapping[str, Any]) -> tuple[Factor, ...]:
    def factor(item: Mapping[str, Any]) -> Factor:
        parsed = parse_spec(item["path"], item["spec"])
        return parsed.as_integer() if item["integer"] else parsed

    return tuple(factor(item) for item in record["vary"])


# -- parts ---------------------------------------------------------------------------------------


def part_name(point: int, index: int) -> str:
    return f"point-{point:06d}.chunk-{index:04d}.parquet"


def encode_part(table: pa.Table) -> bytes:
    """A chunk's runs table as the Parquet bytes of its part file (made by the worker)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=PART_COMPRESSION)
    return sink.getvalue().to_pybytes()


def save_part(plan: Plan, point: int, index: int, data: bytes) -> None:
    """Write a part whole: under a temporary name, recorded in the ledger, then renamed into place."""
    final = plan.parts / part_name(point, index)
    staging = final.with_suffix(".tmp")
    staging.write_bytes(data)
    record_part(plan.partial, final.name, point, index, index * CHUNK_BLOCKS * ensemble.BLOCK, data, plan.seal)
    os.replace(staging, final)


def read_part(source: bytes | Path) -> pa.Table:
    """A part's table, from its bytes in memory or its file: the same bytes give the same table."""
    if isinstance(source, bytes):
        return pq.read_table(pa.BufferReader(source))
    return pq.read_table(source)


def done_parts(parts: Path) -> set[str]:
    """Names of the parts already written; half-written ones (an interrupted rename) are removed."""
    for stale in parts.glob("*.tmp"):
        stale.unlink()
    return {f.name for f in parts.glob("*.parquet")}


def complete_points(plan: Plan) -> int:
    done = {f.name for f in plan.parts.glob("*.parquet")} if plan.parts.is_dir() else set()
    return sum(all(part_name(p, c) in done for c in range(plan.chunks_per_point)) for p in range(len(plan.values)))


# -- runs.parquet and the summary ----------------------------------------------------------------


@dataclass
class Counts:
    """One point's outcome, crossing and enforcement counts, added chunk by chunk."""

    classes: list[str]
    red_lines: list[str]
    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    crossed: dict[str, int] = field(default_factory=dict)
    enforced: dict[str, int] = field(default_factory=dict)
    measures: list[str] = field(default_factory=list)
    measured: dict[str, int] = field(default_factory=dict)

    def add(self, table: pa.Table) -> None:
        self.runs += table.num_rows
        labels = table.column("outcome").cast(pa.string())
        for item in pc.value_counts(labels).to_pylist():
            self.outcomes[item["values"]] = self.outcomes.get(item["values"], 0) + item["counts"]
        for lid in self.red_lines:
            self.crossed[lid] = self.crossed.get(lid, 0) + int(pc.sum(table.column(f"crossed.{lid}")).as_py() or 0)
            # An owner may enforce a line on a crossing it wrongly saw; here, enforced among the crossings.
            enforced = pc.and_(table.column(f"crossed.{lid}"), pc.fill_null(table.column(f"enforced.{lid}"), False))
            self.enforced[lid] = self.enforced.get(lid, 0) + int(pc.sum(enforced).as_py() or 0)
        for mid in self.measures:
            self.measured[mid] = self.measured.get(mid, 0) + int(pc.sum(table.column(f"measure.{mid}")).as_py() or 0)

    def rows(self, point: int, crn: bool) -> list[tuple]:
        """summary.parquet rows: outcome.<class>, then crossed.<line> and enforced.<line> (given
        crossed), then measure.<id>."""

        def row(metric: str, k: int, n: int) -> tuple:
            return (point, metric, k / n if n else float("nan"), *wilson(k, n), n, crn)

        out = [row(f"outcome.{c}", self.outcomes.get(c, 0), self.runs) for c in self.classes]
        for lid in self.red_lines:
            out.append(row(f"crossed.{lid}", self.crossed.get(lid, 0), self.runs))
            out.append(row(f"enforced.{lid}", self.enforced.get(lid, 0), self.crossed.get(lid, 0)))
        out += [row(f"measure.{mid}", self.measured.get(mid, 0), self.runs) for mid in self.measures]
        return out


class RowGroups:
    """A Parquet writer that gathers small tables into row groups of about ROW_GROUP_ROWS rows.

    One row group per point would make the file's footer, which the writer keeps in memory until
    it closes, grow with the number of points; grouping keeps memory flat and reads faster.
    """

    def __init__(self, path: Path, schema: pa.Schema):
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.pending: list[pa.Table] = []
        self.rows = 0

    @property
    def schema(self) -> pa.Schema:
        return self.writer.schema

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            table = pa.concat_tables(self.pending)
            self.writer.write_table(table, row_group_size=table.num_rows)
            self.pending, self.rows = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


class RunsStream:
    """runs.parquet written as points complete, in point order, with each point's summary rows.

    A point's rows go in only once all its chunks have run, so a failed point leaves none. If a
    part's columns differ from the first part's (they do not when the factors only set numbers),
    streaming stops and `finish` rebuilds the file from the parts with their columns unified.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.staging = plan.partial / "runs.parquet.tmp"
        self.writer: RowGroups | None = None
        self.rows: list[tuple] = []
        self.broken = False

    def add_point(self, point: int, tables: Iterable[pa.Table]) -> None:
        if self.broken:
            return
        counts = Counts(list(self.plan.base.outcomes.classes), list(self.plan.base.red_lines),
                        measures=list(self.plan.base.measures))
        for table in tables:
            if self.writer is None:
                self.writer = RowGroups(self.staging, table.schema)
            elif not table.schema.equals(self.writer.schema):
                self.broken = True
                return
            self.writer.write(table)
            counts.add(table)
        self.rows += counts.rows(point, self.plan.crn)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def abort(self) -> None:
        """Stop, and remove runs.parquet.tmp (a resume rebuilds it from the parts): on a full disk
        this gives back its space. Never raises."""
        if self.writer is not None:
            try:
                self.writer.writer.close()
            except Exception:  # noqa: BLE001 - the file is removed next
                pass
            self.writer = None
        try:
            self.staging.unlink(missing_ok=True)
        except OSError:
            pass


def _aligned(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.equals(schema):
        return table
    columns = [table[f.name] if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def rewrite_runs(plan: Plan, ok: list[int]) -> list[tuple]:
    """runs.parquet rebuilt from the parts of the ok points, columns unified; the summary rows."""
    files = {p: [plan.parts / part_name(p, c) for c in range(plan.chunks_per_point)] for p in ok}
    schema: pa.Schema | None = None
    for f in (f for fs in files.values() for f in fs):  # one schema at a time: memory stays flat
        part = pq.read_schema(f)
        if schema is None or not part.equals(schema):
            schema = part if schema is None else pa.unify_schemas([schema, part])
    rows: list[tuple] = []
    writer = RowGroups(plan.partial / "runs.parquet.tmp", schema)
    for p in ok:
        counts = Counts(list(plan.base.outcomes.classes), list(plan.base.red_lines), measures=list(plan.base.measures))
        for f in files[p]:
            table = _aligned(read_part(f), schema)
            writer.write(table)
            counts.add(table)
        rows += counts.rows(p, plan.crn)
    writer.close()
    return rows


def _points_table(plan: Plan, errors: Mapping[int, str]) -> pa.Table:
    n = len(plan.values)
    columns: dict[str, pa.Array] = {"point": pa.array(np.arange(n, dtype=np.int64))}
    for i, f in enumerate(plan.factors):
        columns[f.path] = pa.array(np.array([v[i] for v in plan.values], dtype=np.int64 if f.integer else np.float64))
    columns["status"] = pa.array(["failed" if p in errors else "ok" for p in range(n)], pa.string())
    columns["error"] = pa.array([errors.get(p) for p in range(n)], pa.string())
    return pa.table(columns)


FINAL_FILES = ("runs.parquet", "points.parquet", "summary.parquet", "manifest.json")


def write_durably(path: Path, data: bytes) -> None:
    """Write a file under a temporary name, flush it to disk, and rename it into place."""
    staging = path.with_name(path.name + ".tmp")
    with open(staging, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(staging, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finish(plan: Plan, stream: RunsStream, errors: Mapping[int, str], manifest: dict[str, Any]) -> Path:
    """Write the final files into the partial directory, drop the plan and the parts, and rename
    it into place. Stopped at any step, a resume finishes it (see sweep_state)."""
    ok = [p for p in range(len(plan.values)) if p not in errors]
    stream.close()
    rows = stream.rows
    if not ok:
        pq.write_table(pa.table({"point": pa.array([], pa.int64())}), stream.staging)
    elif stream.broken:
        rows = rewrite_runs(plan, ok)
    os.replace(stream.staging, plan.partial / "runs.parquet")
    pq.write_table(_points_table(plan, errors), plan.partial / "points.parquet", compression="zstd")
    summary = pa.Table.from_pylist([dict(zip(SUMMARY_SCHEMA.names, r)) for r in rows], schema=SUMMARY_SCHEMA)
    pq.write_table(summary, plan.partial / "summary.parquet", compression="zstd")
    for name in FINAL_FILES[:-1]:
        _fsync(plan.partial / name)
    # manifest.json last and whole: once it is there, every final file is complete.
    write_durably(plan.partial / "manifest.json", (json.dumps(manifest, indent=2, default=str) + "\n").encode())
    (plan.partial / PLAN_FILE).unlink()
    return move_into_place(plan.partial, plan.target)


def check_finished(partial: Path) -> None:
    """A finished sweep's final files must all be there and readable (SweepInputError otherwise)."""
    for name in FINAL_FILES:
        file = partial / name
        try:
            if name.endswith(".parquet"):
                pq.read_metadata(file)
            else:
                json.loads(file.read_text(encoding="utf-8"))
        except Exception as err:  # noqa: BLE001 - any unreadable final file means the same
            raise SweepInputError(f"--resume {partial}: the sweep had finished but {name} is unreadable ({err}); "
                                  "its parts are gone, so run the sweep again (the command is in manifest.json)") from None


def move_into_place(partial: Path, target: Path) -> Path:
    """Remove what only a partial sweep needs, and rename the finished directory to `target`."""
    shutil.rmtree(partial / "parts", ignore_errors=True)
    for name in (LEDGER, "runs.parquet.tmp"):
        (partial / name).unlink(missing_ok=True)
    if target != partial:
        if target.exists():
            target.rmdir()  # an empty directory named by --out
        partial.rename(target)
    return target


__all__ = ["CHUNK_BLOCKS", "Plan", "RunsStream", "SUMMARY_SCHEMA", "SweepState", "check_finished", "finish",
           "locate_partial", "move_into_place", "part_name", "sweep_state", "write_durably"]
