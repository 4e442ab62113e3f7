"""Model v1 against the current code, side by side on this machine (docs/design.md, "Performance").

    python benchmarks/compare_versions.py                   # v1 (b029b1c) against this checkout
    python benchmarks/compare_versions.py --skip-million    # CPU and 100k memory only (about 2 minutes)
    python benchmarks/compare_versions.py --new main        # against a commit instead of this checkout
    python benchmarks/compare_versions.py --old-python /path/to/v1-venv/bin/python

Both sides run the same command end to end, `python -m sim run baseline --runs 100000 --seed 1
--workers 2 --out TMP` (start-up and the results directory included), each on its own scenarios.
The old side is a temporary detached git worktree of `--old` (`git worktree add --detach`,
removed at the end), imported through PYTHONPATH ahead of the editable install, with this venv's
packages (v1 needs the same ones; `--old-python` runs it with another interpreter instead). The
new side is this checkout as it is on disk, uncommitted changes included, unless `--new REF`.

Figures:
- CPU seconds per run: user + system time of the whole process tree (the command and its
  worker processes) divided by the runs; repeats alternate old/new (old first, then new first)
  so a busy moment on a shared machine hits both; medians and the ratio new/old.
- Peak memory: the largest sum over the tree, sampled every 20 ms from /proc in runs of their
  own (benchmarks/measure.py), as PSS (pages the forked workers share with the parent count
  once) and, in brackets, RSS (counted in every process). Targets are judged on PSS.
- Flatness: peak at 1,000,000 runs over peak at 100,000.

Targets for the new model: at most 1.5x v1's CPU per run; at most 1.5 GB peak at 100,000 runs;
1,000,000 runs at most twice the peak of 100,000.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import ClassVar
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402
from worktree import REPO, checkout, env_for, git  # noqa: E402

V1 = "b029b1c"  # model version 1, the reference (docs/design.md, "Performance")
RUNS = 100_000
MILLION = 1_000_000
TARGET_CPU_RATIO = 1.5
TARGET_PEAK_MIB = 1536
TARGET_FLATNESS = 2.0


@dataclass
class Side:
    label: str
    tree: Path | None  # None: this checkout
    python: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    memory: dict[int, tuple[float, float]] = field(default_factory=dict)  # runs -> (PSS, RSS) MiB
    width: ClassVar[int] = 28  # of the labels, for aligned columns

    @property
    def root(self) -> Path:
        return self.tree if self.tree is not None else REPO

    def command(self, runs: int, out: Path, workers: int) -> list[str]:
        return [self.python, "-m", "sim", "run", "baseline", "--runs", str(runs), "--seed", "1",
                "--workers", str(workers), "--out", str(out)]

    def run(self, runs: int, out: Path, workers: int, memory: bool) -> None:
        m = measure(self.command(runs, out, workers), sample_memory=memory, env=env_for(self.tree), cwd=self.root)
        if m.result.returncode != 0:
            raise SystemExit(f"{self.label}: sim run failed ({m.result.returncode}):\n{m.result.stderr}")
        shutil.rmtree(out)
        if memory:
            self.memory[runs] = (m.pss_mib or 0.0, m.rss_mib or 0.0)
        else:
            self.cpu.append(m.cpu_seconds)
            self.wall.append(m.seconds)
        shown = f"peak {m.pss_mib:.0f} MiB PSS ({m.rss_mib:.0f} MiB RSS)" if memory else (
            f"{m.cpu_seconds:6.2f} CPU s, {m.cpu_seconds / runs * 1e6:6.1f} CPU us per run, {m.seconds:5.2f} s wall")
        print(f"  {self.label:<{Side.width}} {runs:>9,} runs: {shown}", flush=True)

    def imports_from(self) -> str:
        """Where this side's `sim` package comes from (a check that PYTHONPATH did its job)."""
        code = "import sim, pathlib; print(pathlib.Path(sim.__file__).parent)"
        done = subprocess.run([self.python, "-c", code], env=env_for(self.tree), cwd=self.root,
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()


def describe(ref: str | None) -> str:
    if ref is None:
        dirty = "+changes" if git("status", "--porcelain", "--", "sim", "scenarios") else ""
        return f"this checkout ({git('rev-parse', '--short', 'HEAD')}{dirty})"
    short = git("rev-parse", "--short", ref)
    return ref if short.startswith(ref) else f"{ref} ({short})"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def report(old: Side, new: Side, skip_million: bool) -> None:
    print()
    print(f"CPU per run, end to end, median [min-max] of {len(new.cpu)} runs of {RUNS:,} each:")
    for side in (old, new):
        per_run = [c / RUNS * 1e6 for c in side.cpu]
        print(f"  {side.label:<{Side.width}} {spread(side.cpu)} CPU s = {spread(per_run)} CPU us per run; "
              f"wall {spread(side.wall)} s")
    ratio = statistics.median(new.cpu) / statistics.median(old.cpu)
    pairs = [n / o for n, o in zip(new.cpu, old.cpu)]
    print(f"  ratio new/old: {ratio:.2f}x (pair by pair {min(pairs):.2f}-{max(pairs):.2f}x); "
          f"target <= {TARGET_CPU_RATIO}x: {verdict(ratio <= TARGET_CPU_RATIO)}")
    print()
    print("peak memory of the process tree, sampled in runs of their own:")
    for side in (old, new):
        for runs, (pss, rss) in sorted(side.memory.items()):
            print(f"  {side.label:<{Side.width}} {runs:>9,} runs: {pss:5.0f} MiB PSS ({rss:.0f} MiB RSS)")
        if MILLION in side.memory:
            flat = side.memory[MILLION][0] / side.memory[RUNS][0]
            flat_rss = side.memory[MILLION][1] / side.memory[RUNS][1]
            print(f"  {side.label:<{Side.width}} 1M / 100k: {flat:.2f}x by PSS, {flat_rss:.2f}x by RSS")
    pss = new.memory[RUNS][0]
    print(f"  new at 100k: {pss:.0f} MiB PSS; target <= {TARGET_PEAK_MIB} MiB: {verdict(pss <= TARGET_PEAK_MIB)}")
    if not skip_million:
        flat = new.memory[MILLION][0] / pss
        print(f"  new 1M / 100k: {flat:.2f}x; target <= {TARGET_FLATNESS}x: {verdict(flat <= TARGET_FLATNESS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", default=V1, help=f"the reference commit (default {V1}, model v1)")
    parser.add_argument("--new", metavar="REF", help="a commit to compare instead of this checkout")
    parser.add_argument("--old-python", default=sys.executable, help="interpreter for the old side (default: this one)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side, alternating (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="sim run --workers for both sides (default 2)")
    parser.add_argument("--skip-million", action="store_true", help="no 1,000,000-run memory check")
    args = parser.parse_args()
    print(f"version comparison, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {metadata.version('numpy')}, mesa {metadata.version('mesa')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    with contextlib.ExitStack() as stack:
        old = Side(f"old {describe(args.old)}", stack.enter_context(checkout(args.old)), args.old_python)
        new_tree = stack.enter_context(checkout(args.new)) if args.new else None
        new = Side(f"new {describe(args.new)}", new_tree, sys.executable)
        Side.width = max(len(old.label), len(new.label))
        for side in (old, new):
            print(f"  {side.label} imports sim from {side.imports_from()}")
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sim-compare-")))
        print("warm-up (byte-compiling, file cache), not counted:")
        for side in (old, new):
            side.run(1000, out / "warm", args.workers, memory=False)
            side.cpu.clear()
            side.wall.clear()
        print(f"timed runs, {args.workers} workers, unsampled, alternating:")
        for i in range(max(1, args.repeat)):
            for side in (old, new) if i % 2 == 0 else (new, old):
                side.run(RUNS, out / "run", args.workers, memory=False)
        print("memory runs, sampled:")
        for runs in (RUNS,) if args.skip_million else (RUNS, MILLION):
            for side in (old, new):
                side.run(runs, out / "run", args.workers, memory=True)
        report(old, new, args.skip_million)


if __name__ == "__main__":
    main()
