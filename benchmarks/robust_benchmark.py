"""Robust-options benchmark (issue 10): CPU time of `sim robust` and `sim report` at the README's size.

    python benchmarks/robust_benchmark.py            # 6 options x 16 points x 1,000 runs (96,000 runs)
    python benchmarks/robust_benchmark.py --runs 200 # a quicker look

Runs the real command line in a fresh process, end to end (start-up, planning, every option at
every uncertainty point, robust.parquet), on `precision-weapons` with its two declared levers
(Seoul's lethal-aid preference: 3 values; the precision red line's specificity: 2), 24 rounds.
The figure to judge is CPU seconds, for the whole process tree, and CPU per run; the machine is
shared, so wall time is printed for reference only. Then `sim report` on the study, and on a
`sim run` of 10,000 runs (figures and three traced runs).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402


def timed(command: list[str]) -> tuple[float, float]:
    m = measure([sys.executable, "-m", "sim", *command], sample_memory=False)
    if m.result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({m.result.returncode}): {m.result.stderr}")
    return m.cpu_seconds, m.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}; workers {args.workers}")
    with tempfile.TemporaryDirectory() as scratch:
        study, run = Path(scratch) / "study", Path(scratch) / "run"
        cpu, wall = timed(["robust", "precision-weapons", "--points", str(args.points), "--runs", str(args.runs),
                           "--seed", "1", "--workers", str(args.workers), "--out", str(study)])
        total = 6 * args.points * args.runs
        print(f"sim robust precision-weapons (6 options x {args.points} points x {args.runs:,} runs = {total:,} runs): "
              f"{cpu:.1f} CPU s ({1e3 * cpu / total:.3f} CPU ms per run), wall {wall:.1f} s")
        cpu, wall = timed(["report", str(study)])
        print(f"sim report on that study: {cpu:.1f} CPU s, wall {wall:.1f} s")
        timed(["run", "precision-weapons", "--runs", "10000", "--seed", "1", "--out", str(run)])
        cpu, wall = timed(["report", str(run)])
        print(f"sim report on a 10,000-run directory (6 figures, 3 traced runs): {cpu:.1f} CPU s, wall {wall:.1f} s")


if __name__ == "__main__":
    main()
