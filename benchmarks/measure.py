"""Wall time, CPU time and peak memory of a command, counting its whole process tree (parent + workers).

CPU time is user + system seconds of the command and every descendant it waited for (from
getrusage(RUSAGE_CHILDREN) before and after): on a shared, noisy machine it moves far less than
wall time, so targets are judged on it (docs/design.md, "Performance").

Memory is sampled from /proc every 20 ms as two sums over the tree: PSS (a page shared by forked
processes counts once, split between them) and RSS (shared pages count in every process that
maps them, so the RSS sum is an upper bound). Sampling costs CPU, so timed runs can skip it.
"""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.02


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float
    pss_mib: float | None
    rss_mib: float | None
    result: subprocess.CompletedProcess


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _pss_rss_kib(pid: int) -> tuple[int, int]:
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def tree_memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in KiB, summed over `pid` and all its descendants."""
    pss = rss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        a, b = _pss_rss_kib(p)
        pss, rss = pss + a, rss + b
        stack += _children(p)
    return pss, rss


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    command: list[str], sample_memory: bool = True, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> Measurement:
    """Run `command` to its end; its wall time, the CPU time of its whole process tree and, if
    sampled, the peak PSS and RSS of the tree. Measure one command at a time: CPU time is read
    as the growth of this process's children's total."""
    peak = [0, 0]
    cpu_before = children_cpu_seconds()
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    done = threading.Event()

    def sample() -> None:
        while sample_memory and not done.is_set():
            peak[:] = [max(a, b) for a, b in zip(peak, tree_memory_kib(process.pid))]
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    cpu = children_cpu_seconds() - cpu_before
    done.set()
    sampler.join()
    pss, rss = (peak[0] / 1024, peak[1] / 1024) if sample_memory else (None, None)
    return Measurement(seconds, cpu, pss, rss, subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
