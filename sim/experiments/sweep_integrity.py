"""Checksums that let a resumed sweep trust its partial directory.

The plan (sweep.json) carries the sha256 of its own content, `plan_sha256`. Each finished part is
recorded in parts.jsonl before it is renamed into place: its name, point and chunk, the run ids
it holds, its row count, the sha256 of its bytes and the plan it belongs to. On resume, the plan
must match its checksum and the design it states, and every part on disk must match its record
and hold the rows its name promises; anything else is refused (exit 2) with the file named and
what to do, instead of being merged into results that look complete.

A record without its part (the sweep stopped between the two) only means that chunk runs again.
A half-written last line of parts.jsonl (the sweep stopped while writing it) is dropped.

These checks catch accidents and naive tampering: a part copied over another, swapped or cut
short, an edited plan. Someone who recomputes the checksums can still forge a partial sweep.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .designs import SweepInputError

LEDGER = "parts.jsonl"
SEAL = "plan_sha256"
PART_NAME = re.compile(r"point-(\d{6})\.chunk-(\d{4})\.parquet")


def _canonical_sha(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != SEAL}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """The plan record with its own checksum added."""
    return {**record, SEAL: _canonical_sha(record)}


def check_seal(record: Mapping[str, Any], where: str) -> None:
    if SEAL not in record:
        raise SweepInputError(f"{where}: sweep.json has no checksum (made by an older sim; it cannot be verified, "
                              "so run the sweep again)")
    if record[SEAL] != _canonical_sha(record):
        raise SweepInputError(f"{where}: sweep.json does not match its checksum (edited since the sweep started); "
                              "restore it or run the sweep again")


def check_design(record: Mapping[str, Any], factors: tuple, where: str) -> None:
    """The plan's point values must be the ones its design, factors and seed give."""
    from .designs import design_points

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the design's notes were shown when the sweep started
        expected = [[float(x) for x in v] for v in design_points(factors, record["design"], record["points_requested"],
                                                                 int(record["seed"]))]
    if expected != [[float(x) for x in v] for v in record["values"]]:
        raise SweepInputError(f"{where}: sweep.json has point values that its design does not give (edited since "
                              "the sweep started); restore it or run the sweep again")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_part(partial: Path, name: str, point: int, chunk: int, first: int, data: bytes, plan_sha: str) -> None:
    """Append a part's record to the ledger (before the part is renamed into place)."""
    rows = pq.read_metadata(pa.BufferReader(data)).num_rows
    entry = {"part": name, "point": point, "chunk": chunk, "runs": [first, first + rows], "rows": rows,
             "sha256": hashlib.sha256(data).hexdigest(), "plan": plan_sha}
    with open(partial / LEDGER, "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(entry, separators=(",", ":")) + "\n")


def read_ledger(partial: Path, where: str) -> dict[str, dict[str, Any]]:
    """The latest record of each part. A last line cut short is dropped from the file."""
    file = partial / LEDGER
    if not file.exists():
        return {}
    raw = file.read_bytes()
    if raw and not raw.endswith(b"\n"):
        raw = raw[: raw.rfind(b"\n") + 1]  # the sweep stopped while writing this line
        with open(file, "r+b") as f:
            f.truncate(len(raw))
    entries: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            entry = json.loads(line)
            entries[entry["part"]] = {k: entry[k] for k in ("point", "chunk", "runs", "rows", "sha256", "plan")}
        except (ValueError, KeyError, TypeError):
            raise SweepInputError(f"{where}: {LEDGER} line {number} is not a part record (edited?); "
                                  "restore it or run the sweep again") from None
    return entries


def verify_parts(partial: Path, points: int, chunks_per_point: int, chunk_runs: int, plan_sha: str,
                 where: str) -> None:
    """Every part on disk must match its record and hold the rows its name promises; the parts
    that do not are all named in one SweepInputError."""
    ledger = read_ledger(partial, where)
    parts = partial / "parts"
    problems = []
    for path in sorted(parts.iterdir()) if parts.is_dir() else []:
        if path.name.endswith(".tmp"):
            continue  # half-written, never renamed into place: removed before the sweep goes on
        problem = _part_problem(path, points, chunks_per_point, chunk_runs, ledger, plan_sha)
        if problem is not None:
            problems.append(f"parts/{path.name} {problem}")
    if len(problems) == 1:
        raise SweepInputError(f"{where}: {problems[0]}; delete that file and resume again: its chunk will be run anew")
    if problems:
        raise SweepInputError(f"{where}: {'; '.join(problems)}; delete those files and resume again: their chunks "
                              "will be run anew")


def _part_problem(path: Path, points: int, chunks_per_point: int, chunk_runs: int,
                  ledger: Mapping[str, Mapping[str, Any]], plan_sha: str) -> str | None:
    match = PART_NAME.fullmatch(path.name)
    if match is None or int(match[1]) >= points or int(match[2]) >= chunks_per_point:
        return f"is not a part of this sweep ({points} points of {chunks_per_point} chunks)"
    point, chunk = int(match[1]), int(match[2])
    entry = ledger.get(path.name)
    if entry is None or entry["plan"] != plan_sha:
        return f"is not recorded in {LEDGER} for this plan (added by hand?)"
    if file_sha256(path) != entry["sha256"]:
        return f"does not match its checksum in {LEDGER} (swapped, edited or truncated)"
    return _rows_problem(path, point, chunk * chunk_runs, entry)


def _rows_problem(path: Path, point: int, first: int, entry: Mapping[str, Any]) -> str | None:
    try:
        table = pq.read_table(path, columns=["point", "run"])
    except Exception as err:  # noqa: BLE001 - any unreadable part is refused the same way
        return f"is unreadable ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
    rows = table.num_rows
    point_ok = bool(np.all(table.column("point").to_numpy() == point))
    runs_ok = np.array_equal(table.column("run").to_numpy(), np.arange(first, first + rows))
    if not (point_ok and runs_ok and entry["runs"] == [first, first + rows] and entry["point"] == point):
        return f"holds other rows than point {point}, runs {first} on (copied from another part?)"
    return None


__all__ = ["LEDGER", "check_design", "check_seal", "read_ledger", "record_part", "seal", "verify_parts"]
