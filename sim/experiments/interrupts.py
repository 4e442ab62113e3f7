"""Interrupts: the first Ctrl-C or SIGTERM stops a command cleanly; a second one exits at once.

`install()` (the command line calls it) handles SIGINT, SIGTERM and SIGHUP itself, whatever the
disposition it inherited: a shell starts background jobs (`sim run ... &`) with SIGINT ignored,
and `kill -INT` must still stop them. (A SIGHUP ignored by `nohup` stays ignored.)

- The first signal raises KeyboardInterrupt (Terminated for SIGTERM and SIGHUP) in the main
  thread. The code unwinds as for Ctrl-C: worker processes are terminated rather than waited for,
  a run's partial directory is removed, a sweep keeps its partial directory and says how to resume.
- A second signal does not wait for that: it runs the quick cleanups registered with
  `on_hard_exit` (remove a run's partial directory, kill workers, release locks) and leaves with
  `os._exit(130)`, skipping the interpreter's shutdown, which would join worker threads.

Once the command has returned, `ignore_at_exit` keeps a late signal from changing its exit code:
CPython puts the default handlers back while it finalizes, so a second Ctrl-C sent just after the
first could otherwise kill the process by SIGINT after it had stopped cleanly and said so.

Workers call `die_with_parent` so that they never outlive the process that started them, even
when it is killed with SIGKILL and has no chance to stop them.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130
PR_SET_PDEATHSIG = 1  # linux/prctl.h

_cleanups: dict[int, Callable[[], None]] = {}
_next_token = 0
_received = 0


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled as Ctrl-C is."""


def register(cleanup: Callable[[], None]) -> int:
    """Run `cleanup` if a second signal forces an immediate exit; returns a token for `unregister`."""
    global _next_token
    _next_token += 1
    _cleanups[_next_token] = cleanup
    return _next_token


def unregister(token: int) -> None:
    _cleanups.pop(token, None)


@contextmanager
def on_hard_exit(cleanup: Callable[[], None]) -> Iterator[None]:
    token = register(cleanup)
    try:
        yield
    finally:
        unregister(token)


def hard_exit(message: str = "interrupted again: stopping now") -> None:
    """Run the registered cleanups (newest first, each on its own) and leave at once with 130."""
    for token in sorted(_cleanups, reverse=True):
        try:
            _cleanups[token]()
        except BaseException:  # noqa: BLE001 - nothing may stop the exit
            pass
    try:
        os.write(2, f"{message}\n".encode())
    except OSError:
        pass
    os._exit(EXIT_INTERRUPTED)


def _handler(signum: int, frame: FrameType | None) -> None:
    global _received
    _received += 1
    if _received > 1:
        hard_exit()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signal.Signals(signum).name)


def install() -> Callable[[], None]:
    """Handle SIGINT, SIGTERM and SIGHUP as described above; returns a function restoring the old handlers."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    _received = 0
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
            continue  # nohup: hang-ups were meant to be ignored
        previous[sig] = signal.signal(sig, _handler)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def ignore_at_exit() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP after the interpreter's last exit function.

    Call it before anything else registers one: exit functions run newest first, so this one runs
    after them all (a signal during those still exits at once) and before the handlers are reset.
    """
    atexit.register(_ignore_signals)


def _ignore_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def interrupted_by(error: BaseException) -> str:
    """'interrupted' or 'terminated (SIGTERM)', for messages."""
    return f"terminated ({error.args[0]})" if isinstance(error, Terminated) and error.args else "interrupted"


def die_with_parent(parent: int) -> None:
    """In a worker process: be killed when `parent` dies, however it dies.

    On Linux, prctl(PR_SET_PDEATHSIG, SIGKILL) asks the kernel to kill this process when the
    thread that started it exits (pools start their processes from the main thread). Elsewhere a
    daemon thread checks the parent's pid once a second. Either way, a parent that died before
    this call is caught by the pid check at the end.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()
    if os.getppid() != parent:
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


__all__ = ["Terminated", "die_with_parent", "hard_exit", "ignore_at_exit", "install", "interrupted_by",
           "on_hard_exit", "register", "unregister"]
