"""Executors: apply a function to work items on local processes or a Dask cluster, results in order.

Both keep a bounded number of items in flight (about two per worker), so memory does not grow
with the number of items, and both yield results in the order of the items: callers never see
how the work was spread, which is what makes results identical across worker counts and
executors. Dask is imported only when asked for; it is the optional `dask` extra.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from . import interrupts
from .destination import close_inherited_locks

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("local", "dask")
DASK_MISSING = "--executor dask needs the dask extra: pip install 'escalation-sim[dask]'"


class ExecutorError(ValueError):
    """An executor cannot be set up as asked (a missing extra, an unreachable scheduler)."""


def freeze_imports() -> None:
    """Move everything alive now (modules, classes, the scenario) out of the cyclic collector's
    reach, once per process, before simulating: its full collections (one after each block, and
    the automatic ones) then walk only what the blocks create, and forked workers share the
    frozen pages instead of copying them when the collector touches them."""
    global _frozen
    if not _frozen:
        gc.collect()  # what is garbage now would never be collected once frozen
        gc.freeze()
        _frozen = True


_frozen = False


def _worker_init(parent: int) -> None:
    """Set up a local worker process: it dies with its parent, and leaves signals to the parent."""
    # Ctrl-C reaches the whole process group; it is handled once, in the parent, which stops
    # handing out work and terminates the workers. SIGTERM and SIGHUP kill a worker outright
    # (a forked worker would otherwise inherit the parent's Python handlers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    close_inherited_locks()
    interrupts.die_with_parent(parent)


@contextmanager
def _interrupts_ignored_by_children() -> Iterator[None]:
    """Processes started meanwhile inherit an ignored SIGINT (it survives exec), so Ctrl-C in a
    terminal, which reaches the whole process group, stops only the parent, which shuts them down."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Executor:
    """Runs `fn` over items with `workers` workers; `map` yields results in item order."""

    kind = "base"
    workers: int = 1
    address: str | None = None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        raise NotImplementedError

    def close(self, abort: bool = False) -> None:
        """Release workers; with `abort` (an error or an interrupt), stop them without waiting for
        their work. Safe to call twice."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close(abort=error is not None)


def _ordered(submit: Callable[[T], Any], result: Callable[[Any], R], items: Iterable[T], in_flight: int,
             cancel: Callable[[Any], None]) -> Iterator[R]:
    """Submit items lazily, at most `in_flight` at a time, and yield their results in order."""
    pending: deque[Any] = deque()
    queue = iter(items)
    try:
        for item in queue:
            pending.append(submit(item))
            if len(pending) >= in_flight:
                break
        while pending:
            value = result(pending.popleft())
            for item in queue:
                pending.append(submit(item))
                break
            yield value
    finally:
        for future in pending:
            cancel(future)


class LocalExecutor(Executor):
    """Local processes (fork where available); one worker runs in this process, with no pool."""

    kind = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._token: int | None = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            freeze_imports()
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init,
                                             initargs=(os.getpid(),))
            pool = self._pool
            self._token = interrupts.register(lambda: _signal_workers(pool, signal.SIGKILL))
        return self._pool

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self.workers == 1:
            yield from map(fn, items)
            return
        pool = self._ensure_pool()

        def submit(item: T) -> Future[R]:
            return pool.submit(fn, item)

        yield from _ordered(submit, Future.result, items, 2 * self.workers, Future.cancel)

    def close(self, abort: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if abort:
            # Work in flight is of no use now: stop the workers rather than wait for it (which
            # could take minutes, and made a second Ctrl-C hang in the interpreter's exit).
            _signal_workers(pool, signal.SIGTERM)
            _end_results_stream(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        if self._token is not None:
            interrupts.unregister(self._token)
            self._token = None


def _end_results_stream(pool: ProcessPoolExecutor) -> None:
    """Close this process's copy of the pool's results pipe, which it never writes to.

    A worker stopped while it sends a result leaves half a message in the pipe, and the pool's
    reader thread (which `shutdown` waits for) would wait for the rest for ever: it was the app's
    Cancel hanging with the button greyed out. With no writer left the reader gets end-of-file,
    marks the pool broken and ends. (Workers of another pool forked meanwhile hold a copy too;
    the reader then ends when they do.)"""
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _signal_workers(pool: ProcessPoolExecutor, sig: int) -> None:
    """Send `sig` to each of the pool's processes (the pool offers no public way to list them)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, sig)
        except (OSError, ValueError):
            pass


# Dask's nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536. Setting it at all turns off
# glibc's dynamic mmap threshold, so every array over 128 KiB is mapped and unmapped afresh: a
# block's system time went from 0.35 to 8.8 CPU s (4.2M page faults instead of 61k) and a sweep
# on a LocalCluster cost 2.7x the local pool's CPU. None removes the variable from the nanny's
# pre-spawn environment. Workers started by `dask worker` elsewhere need the same, from a Dask
# config file (docs/sweeps.md); an environment variable cannot do it, as Dask lowercases its keys.
TRIM_THRESHOLD = "MALLOC_TRIM_THRESHOLD_"
WORKER_CONFIG = {
    f"distributed.nanny.pre-spawn-environ.{TRIM_THRESHOLD}": None,
    # Forked, not spawned: a spawned worker imports numpy, pandas, pyarrow, Mesa and the simulator
    # again (about 1.5 CPU s each); a forked one has them already, as the local pool's do.
    "distributed.worker.multiprocessing-method": "fork",
}


class DaskExecutor(Executor):
    """Dask distributed: a LocalCluster of `workers` single-threaded processes, or the scheduler
    at `address` (started elsewhere with `dask scheduler` and `dask worker ADDRESS`)."""

    kind = "dask"

    def __init__(self, workers: int = 1, address: str | None = None, timeout: str = "10s"):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(DASK_MISSING) from None
        self.address = address
        self._cluster = None
        if address is None:
            with _interrupts_ignored_by_children(), dask.config.set(WORKER_CONFIG):
                self._cluster = LocalCluster(
                    n_workers=max(1, int(workers)),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    # sim reports what goes wrong on its own cluster (a task's error, a lost
                    # worker); Dask's error logs add only noise, such as a worker's tracebacks
                    # for heartbeats to a scheduler that a Ctrl-C is closing.
                    silence_logs=logging.CRITICAL,
                )
        try:
            self._client = Client(self._cluster if self._cluster is not None else address, timeout=timeout)
        except (OSError, TimeoutError) as err:
            self._close_cluster()
            raise ExecutorError(f"--address: cannot reach a Dask scheduler at {address} ({err})") from None
        self.workers = max(1, sum(self._client.nthreads().values()))
        if address is not None:
            _warn_trimmed_workers(self._client, address)
        else:
            self._client.run(close_inherited_locks)  # forked: the locks must end with this process

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        client = self._client

        def submit(item: T) -> Any:
            return client.submit(fn, item, pure=False)

        def cancel(future: Any) -> None:
            future.cancel()

        # Workers that join later get work too: keep at least a few chunks queued.
        yield from _ordered(submit, lambda f: f.result(), items, max(2 * self.workers, 4), cancel)

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def close(self, abort: bool = False) -> None:
        if getattr(self, "_client", None) is not None:
            self._client.close()
            self._client = None
        self._close_cluster()


class DaskWorkerWarning(UserWarning):
    """Workers of a Dask cluster run in a way that costs far more CPU than they need."""


def _warn_trimmed_workers(client: Any, address: str) -> None:
    """Say so when the cluster's workers were started with MALLOC_TRIM_THRESHOLD_ set (see WORKER_CONFIG)."""
    try:
        values = client.run(os.environ.get, TRIM_THRESHOLD)
    except Exception:  # a worker that cannot answer is no reason to refuse the cluster
        return
    trimmed = sorted(worker for worker, value in values.items() if value is not None)
    if trimmed:
        warnings.warn(
            f"{len(trimmed)} of the Dask workers at {address} run with {TRIM_THRESHOLD} set, which costs "
            f"them several times the CPU (system time); restart them with "
            f"distributed.nanny.pre-spawn-environ.{TRIM_THRESHOLD}: null in their Dask config (see docs/sweeps.md)",
            DaskWorkerWarning, stacklevel=3,
        )


def make_executor(kind: str, workers: int, address: str | None = None) -> Executor:
    """The executor named `kind` ('local' or 'dask'); ExecutorError if it cannot be set up."""
    if kind not in EXECUTORS:
        raise ExecutorError(f"--executor: expected one of {', '.join(EXECUTORS)}, got '{kind}'")
    if kind == "local":
        if address is not None:
            raise ExecutorError("--address names a Dask scheduler (expected it with --executor dask)")
        return LocalExecutor(workers)
    return DaskExecutor(workers, address)


__all__ = ["DASK_MISSING", "DaskExecutor", "DaskWorkerWarning", "Executor", "ExecutorError", "LocalExecutor", "freeze_imports",
           "make_executor"]
