"""Sensitivity benchmark (issue 10): CPU seconds of `sim sensitivity` at the README's size.

    python benchmarks/sensitivity_benchmark.py            # Sobol' N=64 over 4 parameters, 1,000 runs per point
    python benchmarks/sensitivity_benchmark.py --quick    # N=8, 200 runs: checks the script works

Runs the real command line in a fresh process, end to end, on the Korean world (`baseline`, 24
monthly rounds): N(d+2) = 384 points x 1,000 runs, the sweep written and analysed. Reports the
CPU seconds of the whole process tree (the target: the machine is shared, so wall time alone
says little), the wall time, the runs per CPU second, and, from the same run, the seconds the
analysis itself took (SALib, 1,000 bootstrap resamples per metric), measured in-process on the
finished directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402

VARY = [
    "actors.south_korea.resolve=0.2:0.9",
    "actors.russia.risk_tolerance=0.2:0.9",
    "red_lines.south_korea.precision_weapons.credibility=0.1:0.9",
    "red_lines.russia.lethal_aid.specificity=0.1:0.9",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n, runs = (8, 200) if args.quick else (64, 1000)
    points = n * (len(VARY) + 2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s"
        command = [sys.executable, "-m", "sim", "sensitivity", "baseline", *(a for v in VARY for a in ("--vary", v)),
                   "--points", str(n), "--runs", str(runs), "--seed", "1", "--workers", str(args.workers),
                   "--out", str(out)]
        m = measure(command, sample_memory=False)
        if m.result.returncode != 0:
            raise SystemExit(f"sensitivity failed ({m.result.returncode}): {m.result.stderr}")
        from sim.experiments.sensitivity import finish_analysis

        start = time.process_time()
        finish_analysis(out)
        analysis = time.process_time() - start
    total = points * runs
    print(f"sensitivity benchmark, {dt.date.today()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"sim sensitivity baseline: sobol, {len(VARY)} parameters, N={n}: {points} points x {runs:,} runs = "
          f"{total:,} runs, {args.workers} workers")
    print(f"  CPU {m.cpu_seconds:.1f} s (whole process tree), wall {m.seconds:.1f} s, {total / m.cpu_seconds:,.0f} runs per CPU second")
    print(f"  of which the analysis (SALib Sobol', bootstrap intervals, every metric): {analysis:.2f} CPU s")


if __name__ == "__main__":
    main()
