"""The results directory: written under a temporary name and renamed into place when complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from ..scenario.paths import data_dir

PACKAGES = ("escalation-sim", "mesa", "numpy", "pyarrow", "pydantic", "pandas", "scipy", "pyyaml")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_out(scenario_name: str, fingerprint: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / scenario_name / f"{stamp}-{fingerprint[:8]}"


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=data_dir("scenarios").parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "packages": versions, "git_commit": git_commit()}


class ResultsDir:
    """A results directory that appears only once complete; a failure leaves nothing behind."""

    def __init__(self, final: Path):
        self.final = Path(final)
        if self.final.exists() and any(self.final.iterdir()):
            raise FileExistsError(f"{self.final} exists and is not empty (expected a new directory)")
        self.tmp = self.final.parent / f".{self.final.name}.partial"
        self._writers: dict[str, pq.ParquetWriter] = {}

    def __enter__(self) -> ResultsDir:
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        return self

    def append(self, name: str, table: pa.Table) -> None:
        """Stream a table into `name` (a Parquet file), one row group per call."""
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self.tmp / name, table.schema, compression="zstd")
        self._writers[name].write_table(table)

    def write_text(self, name: str, text: str) -> None:
        (self.tmp / name).write_text(text, encoding="utf-8")

    def write_json(self, name: str, data: dict) -> None:
        self.write_text(name, json.dumps(data, indent=2, default=str) + "\n")

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for writer in self._writers.values():
            writer.close()
        if error is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if self.final.exists():
            self.final.rmdir()
        self.tmp.rename(self.final)


def command_line() -> str:
    return " ".join(sys.argv)
