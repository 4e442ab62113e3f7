"""Where results go: a destination checked before any work and locked while it is written.

`check_out(path)` refuses, before anything is computed, a destination that could never take a
results directory: a symlink (dangling, looping or not), a file or device, a non-empty
directory, a name too long, a place that is read-only or not writable.

`DestinationLock(target)` is an exclusive lock on a destination, held from before the first
byte is written until the finished directory is renamed into place; a second writer gets
`DestinationBusy` at once (exit 2), never a mixed directory.

Why `fcntl.flock` on a lock file rather than an atomic mkdir or rename protocol: the kernel
drops a flock when its holder dies, however it dies (SIGKILL, the OOM killer), so there is never
a stale lock to break by guessing from a pid or an age, whereas a mkdir lock outlives a killed
holder and breaking it by heuristics can break a live one. The lock file `.NAME.lock` sits beside
the destination (never inside it: the destination must not exist until it is complete). It is
removed on release while still locked; a process that locked a file just removed sees that the
path no longer names the file it locked and tries again, so two processes never both hold the
lock of one name. If a holder is killed, its empty lock file stays until the next writer to that
destination takes and removes it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from . import interrupts

NAME_MAX = 255
PATH_MAX = 4096
# Room for the names made beside a destination: `.NAME.<pid>-<8 hex>.partial`, `.NAME.lock`.
SUFFIX_ROOM = 32
EXPECTED = "expected a new directory or an empty one"

_held: set[int] = set()  # lock descriptors this process holds (forked workers close their copies)


class OutputError(ValueError):
    """A destination that cannot take results: reported as `error: ...` with exit code 2."""


class DestinationBusy(OutputError):
    """Another process is writing the same destination."""


def no_space(err: BaseException) -> bool:
    """A full disk (or quota), however the library that hit it words it (pyarrow sets no errno)."""
    return isinstance(err, OSError) and (err.errno in (errno.ENOSPC, errno.EDQUOT)
                                         or "no space left on device" in str(err).lower())


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _reason(err: OSError) -> str:
    return {
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "not permitted",
        errno.ENOENT: "the file system does not take new files there",
        errno.ENAMETOOLONG: "name too long",
        errno.ELOOP: "too many levels of symbolic links",
        errno.ENOTDIR: "a part of the path is not a directory",
        errno.ENOSPC: "no space left on device",
    }.get(err.errno or 0, err.strerror or str(err))


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_out(path: str | Path, option: str = "--out") -> None:
    """Refuse (OutputError) a destination that could not take a results directory; touch nothing."""
    path = Path(path)
    where = f"{option} {path}"
    if path.name in ("", ".", ".."):
        raise OutputError(f"{where}: expected a path ending in the new directory's name")
    full = os.fsencode(os.path.abspath(path))
    if len(full) + SUFFIX_ROOM > PATH_MAX:
        raise OutputError(f"{where[:80]}...: path too long ({len(full)} bytes; at most {PATH_MAX - SUFFIX_ROOM})")
    ancestor = _nearest_existing(path.parent)
    longest = max(len(os.fsencode(part)) for part in Path(os.path.abspath(path)).parts)
    if longest > _name_max(ancestor) or len(os.fsencode(path.name)) + SUFFIX_ROOM > _name_max(ancestor):
        raise OutputError(f"{where[:80]}...: a name in the path is too long "
                          f"(at most {_name_max(ancestor) - SUFFIX_ROOM} bytes for the directory's own name)")
    info = _lstat(path, where)
    if info is not None:
        _check_existing(path, info, where)
    if not ancestor.is_dir():
        raise OutputError(f"{where}: {ancestor} is not a directory ({EXPECTED} inside a directory)")
    _check_writable(ancestor, where)


def _lstat(path: Path, where: str) -> os.stat_result | None:
    """What is at `path` itself (None for nothing); OutputError if the path cannot be looked at."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise OutputError(f"{where}: cannot use this path ({_reason(err)})") from None


def _check_writable(directory: Path, where: str) -> None:
    try:
        read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise OutputError(f"{where}: {directory} is on a read-only file system")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: cannot write in {directory} (permission denied)")


def check_out_place(path: str | Path, option: str = "--out") -> None:
    """Refuse (OutputError) a place for files (figures) whose nearest existing directory cannot be
    written; the place itself may exist and hold files."""
    ancestor = _nearest_existing(Path(path))
    _check_writable(ancestor if ancestor.is_dir() else ancestor.parent, f"{option} {path}")


def check_out_file(path: str | Path, option: str = "--out") -> None:
    """Refuse (OutputError) a path for one file (a report) that writing would misuse: a symlink,
    a device, FIFO or anything but a regular file, a directory that does not exist or cannot be
    written. A regular file there is replaced whole. Touches nothing."""
    path = Path(path)
    where = f"{option} {path}"
    expected = "expected a new file's path or a regular file to replace"
    info = _lstat(path, where)
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise OutputError(f"{where}: a symlink (to {os.readlink(path)}); {expected}: give the real path")
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "directory" if stat.S_ISDIR(info.st_mode) else _kind(info.st_mode)
        raise OutputError(f"{where}: exists and is a {kind} ({expected})")
    parent = Path(os.path.abspath(path)).parent
    if not parent.is_dir():
        what = "is not a directory" if os.path.lexists(parent) else "does not exist"
        raise OutputError(f"{where}: {parent} {what} ({expected} in an existing directory)")
    _check_writable(parent, where)


def write_error(err: OSError, path: Path, option: str = "--out") -> OutputError | OSError:
    """An OSError met while writing `path` as the one-line error to report (a full disk stays an
    OSError: the command line words it and exits 1)."""
    if no_space(err):
        return err
    return OutputError(f"{option} {path}: cannot write it ({_reason(err)})")


def _check_existing(path: Path, info: os.stat_result, where: str) -> None:
    if stat.S_ISLNK(info.st_mode):
        link = os.readlink(path)
        try:
            os.stat(path)
        except FileNotFoundError:
            raise OutputError(f"{where}: a dangling symlink (to {link}, which does not exist); {EXPECTED}") from None
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise OutputError(f"{where}: a symlink loop (to {link}); {EXPECTED}") from None
            raise OutputError(f"{where}: a symlink to {link} that cannot be followed ({_reason(err)})") from None
        raise OutputError(f"{where}: a symlink (to {link}); {EXPECTED}: give the real path")
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{where}: exists and is a {_kind(info.st_mode)} ({EXPECTED})")
    try:
        with os.scandir(path) as entries:
            empty = next(entries, None) is None
    except OSError as err:
        raise OutputError(f"{where}: cannot read this directory ({_reason(err)})") from None
    if not empty:
        raise OutputError(f"{where}: exists and is not empty ({EXPECTED})")


def lock_path(target: Path) -> Path:
    return Path(target).parent / f".{Path(target).name}.lock"


class DestinationLock:
    """An exclusive, non-blocking lock on a destination (see the module docstring)."""

    def __init__(self, target: str | Path, option: str = "--out"):
        self.target = Path(target)
        self.path = lock_path(self.target)
        self.option = option
        self.fd: int | None = None
        self._token: int | None = None

    def acquire(self) -> DestinationLock:
        where = f"{self.option} {self.target}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"{where}: cannot create {self.path.parent} ({_reason(err)})") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            except OSError as err:
                raise OutputError(f"{where}: cannot create files in {self.path.parent} ({_reason(err)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                who = f"another sim (pid {holder})" if holder.isdigit() else "another sim"
                raise DestinationBusy(f"{where}: {who} is writing there now; wait for it to finish"
                                      + (" or choose another --out" if self.option == "--out" else "")) from None
            try:
                now = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            mine = os.fstat(fd)
            if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)  # its holder removed it as we locked it: lock the new one
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self.fd = fd
            _held.add(fd)
            self._token = interrupts.register(self.release)  # a second Ctrl-C leaves no lock file
            return self

    def release(self) -> None:
        """Remove the lock file while still holding it, then let go; safe to call twice."""
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        _held.discard(self.fd)
        os.close(self.fd)
        self.fd = None
        if self._token is not None:
            interrupts.unregister(self._token)
            self._token = None

    def __enter__(self) -> DestinationLock:
        return self if self.fd is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def close_inherited_locks() -> None:
    """In a forked worker: close the copies of the parent's lock descriptors, so the locks end
    with the parent even if a worker outlives it for a moment."""
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


__all__ = ["DestinationBusy", "DestinationLock", "OutputError", "check_out", "check_out_file", "check_out_place",
           "close_inherited_locks", "lock_path", "no_space", "write_error"]
