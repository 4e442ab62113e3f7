"""`sim run baseline` end to end: wall time, peak memory, flatness, and speed against mesa.batch_run.

Prints the figures BENCHMARKS.md records. Memory is the peak over the process and its workers
(benchmarks/measure.py), judged on PSS, which counts pages the forked workers share once.
Targets (DESIGN section 6): 100,000 runs in <= 5 s
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

from sim.engine.model import EscalationModel  # noqa: E402


def sim_run(runs: int, out: Path, memory: bool) -> tuple[float, float | None, float | None]:
    """Wall seconds and, if `memory`, peak PSS and RSS (MiB, summed over the process tree) of one
    `sim run`. Timed runs are not sampled: reading /proc costs CPU that two workers would lose."""
    command = [sys.executable, "-m", "sim", "run", "baseline", "--runs", str(runs), "--seed", "1", "--out", str(out)]
    m = measure(command, sample_memory=memory)
    if m.result.returncode != 0:
        raise SystemExit(m.result.stderr)
    shutil.rmtree(out)
    return m.seconds, m.pss_mib, m.rss_mib


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
        sim_run(1000, out / "warm", memory=False)  # warm the file cache and byte-compiled modules
        seconds = min(sim_run(100_000, out / f"t{i}", memory=False)[0] for i in range(3))
        _, pss, rss = sim_run(100_000, out / "m100k", memory=True)
        print(f"sim run baseline --runs 100000 (2 workers): {seconds:.2f} s wall (best of 3)")
        print(f"  peak memory {pss:.0f} MiB PSS ({rss:.0f} MiB RSS), sampled in a run of its own")
        print(f"  target <= 5 s: {verdict(seconds <= 5)}; target <= 1536 MiB: {verdict(pss <= 1536)}")
        if not args.skip_million:
            seconds_m, pss_m, rss_m = sim_run(1_000_000, out / "m1m", memory=True)
            print(f"sim run baseline --runs 1000000 (2 workers): peak {pss_m:.0f} MiB PSS ({rss_m:.0f} MiB RSS)")
            ratio = pss_m / pss
            print(f"  memory 1M / 100k = {ratio:.2f} by PSS, {rss_m / rss:.2f} by RSS (target <= 2): {verdict(ratio <= 2)}")
    slow = batch_run_rate(200)
    fast = vectorized_rate(10_000)
    print(f"mesa.batch_run, one replicate per model, 1 process: {slow:.0f} runs/s (200 runs)")
    print(f"EscalationModel, 10,000 replicates in lockstep, 1 process: {fast:.0f} runs/s")
    print(f"  throughput ratio {fast / slow:.0f}x (target >= 100x): {verdict(fast / slow >= 100)}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    main()
