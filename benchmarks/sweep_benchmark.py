"""Sweep benchmark (docs/design.md, "Performance"): wall time, worker speedup and peak memory of `sim sweep`.

    python benchmarks/sweep_benchmark.py            # the full measurement (about 4 minutes on 2 cores)
    python benchmarks/sweep_benchmark.py --quick    # fewer runs for the 1,000-point memory check
    python benchmarks/sweep_benchmark.py --repeat 1 # time each 100-point sweep once (default: best of 3)

Each measurement runs the real command line, `python -m sim sweep baseline ...` (24 rounds),
in a fresh process, end to end: start-up, planning, simulation, the streamed parts and the
final assembly. Peak memory is the largest total over the command and all its worker processes,
sampled every 20 ms from /proc (benchmarks/measure.py), as two sums: PSS (proportional set size: a page shared by
forked processes counts once, split between them) and RSS (shared pages count in every process
that maps them, so the RSS sum is an upper bound). The targets are judged on PSS. Memory is
measured in runs of their own: sampling /proc takes CPU that would slow the timed runs.

Targets: 100 grid points x 2,000 runs in at most 30 s with 2 workers; 2 workers at least 1.6
times as fast as 1; 10 times more points at most 1.5 times the peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure as measure_command  # noqa: E402


def grid(points: int) -> list[str]:
    """A grid of `points` points over two paths (points = a * b)."""
    a = 10
    b = points // a
    return ["--vary", f"actors.south_korea.resolve=0.2:0.9:{a}", "--vary", f"actors.russia.risk_tolerance=0.1:0.9:{b}"]


def measure(points: int, runs: int, workers: int, out: Path, memory: bool) -> dict:
    """Run one sweep; its wall time and, if `memory`, the peak memory of its process tree in MiB.
    Timed runs are not sampled: reading /proc takes CPU time that two workers on two cores lose."""
    command = [sys.executable, "-m", "sim", "sweep", "baseline", *grid(points), "--runs", str(runs),
               "--seed", "1", "--workers", str(workers), "--out", str(out)]
    m = measure_command(command, sample_memory=memory)
    if m.result.returncode != 0:
        raise SystemExit(f"sweep failed ({m.result.returncode}): {m.result.stderr}")
    return {"points": points, "runs": runs, "workers": workers, "wall": m.seconds, "peak_mb": m.pss_mib, "rss_mb": m.rss_mib}


def startup_seconds() -> float:
    """Interpreter start and imports, which every measured command pays once."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sim.experiments.sweeps, sim.cli"], check=True)
    return time.perf_counter() - start


def show(m: dict) -> str:
    line = (f"{m['points']:>5} points x {m['runs']:>5} runs, {m['workers']} worker(s): {m['wall']:6.1f} s wall, "
            f"{m['points'] * m['runs'] / m['wall']:>8,.0f} runs/s")
    if m["peak_mb"] is not None:
        line += f", peak {m['peak_mb']:.0f} MiB PSS ({m['rss_mb']:.0f} MiB RSS; sampled, so slower)"
    return line


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 runs per point for the 100 vs 1,000 point memory check")
    parser.add_argument("--repeat", type=int, default=3, help="time each 100-point sweep this often, keep the fastest")
    args = parser.parse_args()
    memory_runs = 200 if args.quick else 2000
    print(f"sweep benchmark, {dt.date.today()}, Python {platform.python_version()}, {os.cpu_count()} cores "
          f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"start-up (python + imports): {startup_seconds():.1f} s per command")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        timings: dict[int, list[dict]] = {1: [], 2: []}
        for i in range(max(1, args.repeat)):  # alternate, so a busy moment does not hit one side only
            for workers in (2, 1):
                timings[workers].append(measure(100, 2000, workers, root / f"w{workers}-{i}", memory=False))
                print(show(timings[workers][-1]))
        two, one = (min(timings[w], key=lambda m: m["wall"]) for w in (2, 1))
        if args.repeat > 1:
            print(f"fastest of {args.repeat}: 2 workers {two['wall']:.1f} s, 1 worker {one['wall']:.1f} s")
        small = measure(100, memory_runs, 2, root / "small", memory=True)
        print(show(small))
        large = measure(1000, memory_runs, 2, root / "large", memory=True)
        print(show(large))
    speedup = one["wall"] / two["wall"]
    print()
    print(f"100 x 2,000 with 2 workers: {two['wall']:.1f} s (target <= 30 s: {verdict(two['wall'] <= 30)})")
    print(f"speedup 2 workers over 1: {speedup:.2f}x (target >= 1.6x: {verdict(speedup >= 1.6)})")
    ratio = large["peak_mb"] / small["peak_mb"]
    print(f"peak memory (PSS) 1,000 vs 100 points ({memory_runs} runs each): {large['peak_mb']:.0f} MiB / "
          f"{small['peak_mb']:.0f} MiB = {ratio:.2f}x (target <= 1.5x: {verdict(ratio <= 1.5)}); "
          f"RSS sums {large['rss_mb']:.0f} / {small['rss_mb']:.0f} MiB = {large['rss_mb'] / small['rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
