"""Start-up: CPU seconds of `sim --help`, `sim list` and `sim show baseline` (docs/design.md, "Performance").

    python benchmarks/startup_benchmark.py                  # this checkout, median of 15 runs each
    python benchmarks/startup_benchmark.py --against main   # and another commit, side by side
    python benchmarks/startup_benchmark.py --repeat 30

Each figure is the user + system CPU time of the whole command (the process and anything it
starts), from getrusage of its children; wall time on a shared machine says more about the
neighbours than about the code. Commands run in a fresh interpreter each time, in turn (every
command once, then again), after one unmeasured warm-up run each (byte-compiling, file cache),
and the median is reported. `--against REF` checks REF out in a temporary git worktree and runs
the same commands from it with this venv's packages, alternating with this checkout. Commands
run as `python -m sim` from the root of their tree (the `sim` script adds nothing but its name).

Target: `sim --help` and `sim list` at most 0.5 CPU s each. `python -c pass` is the floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402
from worktree import REPO, checkout, env_for, git  # noqa: E402

TARGET_CPU_SECONDS = 0.5
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "sim --help": ["-m", "sim", "--help"],
    "sim list": ["-m", "sim", "list"],
    "sim show baseline": ["-m", "sim", "show", "baseline"],
}
TARGETS = ("sim --help", "sim list")


def cpu_seconds(args: list[str], tree: Path | None) -> float:
    m = measure([sys.executable, *args], sample_memory=False, env=env_for(tree), cwd=tree or REPO)
    if m.result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({m.result.returncode}): {m.result.stderr}")
    return m.cpu_seconds


def run(trees: dict[str, Path | None], repeat: int) -> dict[tuple[str, str], list[float]]:
    """CPU seconds of every command in every tree, `repeat` times, interleaved."""
    for tree in trees.values():
        for args in COMMANDS.values():
            cpu_seconds(args, tree)  # warm-up: byte-compile, fill the file cache
    samples: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in COMMANDS}
    for _ in range(repeat):
        for label, tree in trees.items():
            for command, args in COMMANDS.items():
                samples[label, command].append(cpu_seconds(args, tree))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (default 15); the median is shown")
    parser.add_argument("--against", metavar="REF", help="also measure this commit, side by side")
    args = parser.parse_args()
    here = f"this checkout ({git('rev-parse', '--short', 'HEAD')}{'+changes' if git('status', '--porcelain', '--', 'sim') else ''})"
    print(f"start-up benchmark, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"CPU seconds (user + system, whole process), median of {args.repeat} runs [min-max]")
    if args.against:
        with checkout(args.against) as tree:
            short = git("rev-parse", "--short", args.against)
            label = args.against if short.startswith(args.against) else f"{args.against} ({short})"
            trees = {label: tree, here: None}
            samples = run(trees, args.repeat)
    else:
        trees = {here: None}
        samples = run(trees, args.repeat)
    width = max(len(c) for c in COMMANDS)
    print(f"{'':<{width}}  " + "  ".join(f"{label:>24}" for label in trees))
    for command in COMMANDS:
        cells = []
        for label in trees:
            s = samples[label, command]
            cells.append(f"{statistics.median(s):6.3f} [{min(s):.2f}-{max(s):.2f}]".rjust(24))
        print(f"{command:<{width}}  " + "  ".join(cells))
    print()
    for command in TARGETS:
        median = statistics.median(samples[here, command])
        verdict = "met" if median <= TARGET_CPU_SECONDS else "MISSED"
        print(f"{command}: {median:.3f} CPU s (target <= {TARGET_CPU_SECONDS} s): {verdict}")


if __name__ == "__main__":
    main()
