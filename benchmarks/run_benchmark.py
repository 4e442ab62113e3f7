"""`sim run baseline` end to end: wall time, peak memory, flatness, and speed against mesa.batch_run.

Prints the figures BENCHMARKS.md records. Targets (DESIGN section 6): 100,000 runs in <= 5 s
and <= 1.5 GB; 1,000,000 runs at most twice the peak memory of 100,000; at least 100x the
throughput of running the same model one replicate at a time through mesa.batch_run.

    python benchmarks/run_benchmark.py [--skip-million]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import mesa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402

from sim.model import EscalationModel  # noqa: E402


def sim_run(runs: int, out: Path, workers: int | None = None) -> tuple[float, float]:
    command = [sys.executable, "-m", "sim", "run", "baseline", "--runs", str(runs), "--seed", "1", "--out", str(out)]
    if workers:
        command += ["--workers", str(workers)]
    seconds, mib, done = measure(command)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    shutil.rmtree(out)
    return seconds, mib


def batch_run_rate(replicates: int) -> float:
    """Runs per second, one replicate per model, through mesa.batch_run on one process."""
    start = time.perf_counter()
    mesa.batch_run(
        EscalationModel,
        parameters={"scenario": "baseline", "rng": list(range(replicates))},
        max_steps=24,
        number_processes=1,
        display_progress=False,
    )
    return replicates / (time.perf_counter() - start)


def vectorized_rate(replicates: int) -> float:
    """Runs per second of the same model advancing `replicates` in lockstep, one process."""
    start = time.perf_counter()
    model = EscalationModel("baseline", replicates=replicates, rng=1)
    while model.running:
        model.step()
    return replicates / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-million", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sim_run(1000, out / "warm")  # warm the file cache and byte-compiled modules
        seconds, mib = sim_run(100_000, out / "r100k")
        print(f"sim run baseline --runs 100000 (2 workers): {seconds:.2f} s wall, {mib:.0f} MiB peak (tree RSS)")
        print(f"  target <= 5 s: {'met' if seconds <= 5 else 'MISSED'}; target <= 1536 MiB: {'met' if mib <= 1536 else 'MISSED'}")
        if not args.skip_million:
            seconds_m, mib_m = sim_run(1_000_000, out / "r1m")
            print(f"sim run baseline --runs 1000000 (2 workers): {seconds_m:.1f} s wall, {mib_m:.0f} MiB peak")
            ratio = mib_m / mib
            print(f"  memory 1M / 100k = {ratio:.2f} (target <= 2): {'met' if ratio <= 2 else 'MISSED'}")
    slow = batch_run_rate(200)
    fast = vectorized_rate(10_000)
    print(f"mesa.batch_run, one replicate per model, 1 process: {slow:.0f} runs/s (200 runs)")
    print(f"EscalationModel, 10,000 replicates in lockstep, 1 process: {fast:.0f} runs/s")
    print(f"  throughput ratio {fast / slow:.0f}x (target >= 100x): {'met' if fast / slow >= 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
