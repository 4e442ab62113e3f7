"""`sim run baseline` end to end: wall time, peak memory, flatness, and speed against mesa.batch_run.

Prints the figures BENCHMARKS.md records. Memory is the peak over the process and its workers
(benchmarks/measure.py), judged on PSS, which counts pages the forked workers share once.
Targets (docs/design.md, "Performance"): 100,000 runs in <= 1.5 GB; 1,000,000 runs at most twice the peak memory of 100,000; at least 100x the
throughput of running the same model one replicate at a time through mesa.batch_run, with the
scenario loaded once and passed to every model as a Scenario object, as a Mesa user who sweeps a
model would (a scenario name would make each replicate re-read and validate the YAML, which is
more than half its time and flatters the ratio; that figure is printed too, for comparison).
Both throughputs are CPU time of this one process (time.process_time), measured in the same run.

    python benchmarks/run_benchmark.py [--skip-million] [--throughput-only] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mesa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402

from sim.engine.model import EscalationModel  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402


def sim_run(runs: int, out: Path, memory: bool) -> tuple[float, float | None, float | None, float]:
    """Wall seconds, if `memory` peak PSS and RSS (MiB, summed over the process tree), and CPU
    seconds (the whole tree) of one `sim run`. Timed runs are not sampled: reading /proc costs CPU
    that two workers would lose."""
    command = [sys.executable, "-m", "sim", "run", "baseline", "--runs", str(runs), "--seed", "1", "--out", str(out)]
    m = measure(command, sample_memory=memory)
    if m.result.returncode != 0:
        raise SystemExit(m.result.stderr)
    shutil.rmtree(out)
    return m.seconds, m.pss_mib, m.rss_mib, m.cpu_seconds


def batch_run_rate(scenario: Scenario | str, replicates: int) -> float:
    """Runs per CPU second, one replicate per model, through mesa.batch_run on one process.
    `scenario` is passed to every model as given: a loaded Scenario (in a list, since batch_run
    iterates any iterable value, and a pydantic model is one) or a name each model loads anew."""
    start = time.process_time()
    mesa.batch_run(
        EscalationModel,
        parameters={"scenario": [scenario], "rng": list(range(replicates))},
        max_steps=24,
        number_processes=1,
        display_progress=False,
    )
    return replicates / (time.process_time() - start)


def vectorized_rate(scenario: Scenario, replicates: int) -> float:
    """Runs per CPU second of the same model advancing `replicates` in lockstep, one process."""
    start = time.process_time()
    model = EscalationModel(scenario, replicates=replicates, rng=1)
    while model.running:
        model.step()
    return replicates / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--throughput-only", action="store_true", help="only the batch_run comparison")
    parser.add_argument("--repeat", type=int, default=3, help="throughput measurements, alternating (median)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if not args.throughput_only:
        run_figures(args.skip_million)
    throughput(args.repeat)


def run_figures(skip_million: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sim_run(1000, out / "warm", memory=False)  # warm the file cache and byte-compiled modules
        timed = [sim_run(100_000, out / f"t{i}", memory=False) for i in range(3)]
        seconds = min(t[0] for t in timed)
        cpu = statistics.median(t[3] for t in timed)
        _, pss, rss, _ = sim_run(100_000, out / "m100k", memory=True)
        print(f"sim run baseline --runs 100000 (2 workers): {seconds:.2f} s wall (best of 3), "
              f"{cpu:.2f} CPU s (median, whole process tree)")
        print(f"  peak memory {pss:.0f} MiB PSS ({rss:.0f} MiB RSS), sampled in a run of its own")
        print(f"  target <= 1536 MiB: {verdict(pss <= 1536)} (wall time has no target: it depends on the machine's load)")
        if not skip_million:
            _, pss_m, rss_m, _ = sim_run(1_000_000, out / "m1m", memory=True)
            print(f"sim run baseline --runs 1000000 (2 workers): peak {pss_m:.0f} MiB PSS ({rss_m:.0f} MiB RSS)")
            ratio = pss_m / pss
            print(f"  memory 1M / 100k = {ratio:.2f} by PSS, {rss_m / rss:.2f} by RSS (target <= 2): {verdict(ratio <= 2)}")


def throughput(repeat: int) -> None:
    """mesa.batch_run one replicate at a time against the vectorized model, `repeat` times in turn."""
    scenario = load_scenario("baseline")  # once, outside every timing
    rates: dict[str, list[float]] = {"fast": [], "slow": [], "by_name": []}
    for _ in range(max(1, repeat)):
        rates["fast"].append(vectorized_rate(scenario, 10_000))
        rates["slow"].append(batch_run_rate(scenario, 200))
        rates["by_name"].append(batch_run_rate("baseline", 200))
    fast, slow, by_name = (statistics.median(rates[k]) for k in ("fast", "slow", "by_name"))
    print(f"throughput, CPU time of this process, median of {max(1, repeat)} rounds in turn:")
    print(f"mesa.batch_run, one replicate per model, scenario loaded once, 1 process: {slow:.1f} runs per CPU s (200 runs)")
    print(f"EscalationModel, 10,000 replicates in lockstep, 1 process: {fast:.0f} runs per CPU s")
    print(f"  throughput ratio {fast / slow:.0f}x (target >= 100x): {verdict(fast / slow >= 100)}")
    print(f"  (for comparison: batch_run passing the name, so each replicate re-reads the YAML: "
          f"{by_name:.1f} runs per CPU s, ratio {fast / by_name:.0f}x)")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    main()
