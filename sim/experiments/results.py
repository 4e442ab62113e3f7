"""The results directory: written under a temporary name and renamed into place when complete."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from . import interrupts
from .destination import DestinationLock, OutputError, check_out
from ..scenario.paths import data_dir

PACKAGES = ("escalation-sim", "mesa", "numpy", "pyarrow", "pydantic", "pandas", "scipy", "pyyaml", "dask", "distributed")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_out(scenario_name: str, fingerprint: str, tag: str = "") -> Path:
    """results/<scenario>/<time>-<id>, and -<tag> (a hash of the overrides) when given."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / scenario_name / f"{stamp}-{fingerprint[:8]}{'-' + tag if tag else ''}"


def _git(*args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=data_dir("scenarios").parent, capture_output=True, text=True,
                              timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit() -> str | None:
    out = _git("rev-parse", "HEAD")
    return (out.stdout.strip() or None) if out is not None and out.returncode == 0 else None


def git_dirty() -> bool | None:
    """Whether the checkout the package runs from has changes not committed (None: not a checkout)."""
    out = _git("status", "--porcelain")
    return bool(out.stdout.strip()) if out is not None and out.returncode == 0 else None


def cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith(("model name", "Hardware", "Processor")) and ":" in line:
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def blas() -> dict | None:
    """numpy's BLAS as built (numpy.__config__), and as loaded when threadpoolctl is installed."""
    try:
        import numpy

        deps = numpy.__config__.CONFIG.get("Build Dependencies", {})  # numpy >= 1.26
        built = {k: deps.get("blas", {}).get(k) for k in ("name", "version")} or None
    except (AttributeError, ImportError, TypeError):
        built = None
    loaded = None
    try:
        from threadpoolctl import threadpool_info

        loaded = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                  for pool in threadpool_info() if pool.get("user_api") == "blas"] or None
    except Exception:  # noqa: BLE001 - optional, and only informative
        loaded = None
    if built is None and loaded is None:
        return None
    return {**(built or {}), **({"loaded": loaded} if loaded else {})}


def environment() -> dict:
    """Where the numbers were made: Python and package versions, machine, BLAS, git state."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "packages": versions,
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "blas": blas(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
    }


class ResultsDir:
    """A results directory that appears only once complete; a failure leaves nothing behind.

    The destination is checked before any work (destination.check_out) and locked from the
    start to the final rename, so a second writer to it is refused instead of mixing two runs
    into one directory. The work goes into a hidden partial directory beside it whose name is
    unique to the process (`.NAME.<pid>-<random>.partial`). With `numbered=True` (a default
    destination the user did not name) a taken name gets a `-2`, `-3`... suffix instead.
    """

    def __init__(self, final: Path, option: str = "--out", numbered: bool = False):
        self.final = Path(final)
        self.option = option
        self.numbered = numbered
        if not numbered:
            check_out(self.final, option)
        self.tmp = self.final.parent / f".{self.final.name}.partial"
        self.lock: DestinationLock | None = None
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._token: int | None = None

    def _take(self, final: Path) -> DestinationLock:
        check_out(final, self.option)
        lock = DestinationLock(final, self.option).acquire()
        try:
            check_out(final, self.option)  # again, now that no other sim can change it
        except BaseException:
            lock.release()
            raise
        return lock

    def __enter__(self) -> ResultsDir:
        if self.numbered:
            base = self.final
            for n in range(1, 100):
                candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
                try:
                    self.lock = self._take(candidate)
                except OutputError:
                    if n == 99:
                        raise
                    continue
                self.final = candidate
                break
        else:
            self.lock = self._take(self.final)
        try:
            _remove_stale_partials(self.final)
            self.tmp = self.final.parent / f".{self.final.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
            self.tmp.mkdir()
        except BaseException:
            self.lock.release()
            raise
        self._token = interrupts.register(self._discard)
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

    def _discard(self) -> None:
        """Remove the partial directory and let go of the destination (also on a second Ctrl-C)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.lock is not None:
            self.lock.release()

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None) -> None:
        _name_destination(error, self.final)
        try:
            closing: BaseException | None = None
            for writer in self._writers.values():
                try:
                    writer.close()
                except BaseException as err:  # a full disk fails here too: clean up all the same
                    closing = closing or err
            self._writers.clear()
            if error is None and closing is not None:
                _name_destination(closing, self.final)
                raise closing
            if error is None:
                if self.final.exists():
                    self.final.rmdir()  # an empty directory named by --out (checked under the lock)
                self.tmp.rename(self.final)
        finally:
            if self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
            if self.lock is not None:
                self.lock.release()
            if self._token is not None:
                interrupts.unregister(self._token)
                self._token = None


def _name_destination(error: BaseException | None, final: Path) -> None:
    """Say which results an OSError was writing when it names no file (pyarrow's do not)."""
    if isinstance(error, OSError) and not error.filename:
        error.writing = str(final)  # type: ignore[attr-defined]


def _remove_stale_partials(final: Path) -> None:
    """Partial directories of `final` left by killed runs (their owner would hold the lock we hold)."""
    pattern = re.compile(rf"\.{re.escape(final.name)}\.\d+-[0-9a-f]{{8}}\.partial")
    for entry in final.parent.glob(f".{glob.escape(final.name)}.*.partial"):
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def command_line() -> str:
    return " ".join(sys.argv)
