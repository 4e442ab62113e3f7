"""The layer above the engine (issue 19, "Scale"): CPU seconds, old code against new, side by side.

    python benchmarks/scale_benchmark.py                    # every section, against commit 2c7ee07
    python benchmarks/scale_benchmark.py --only pack trace  # some sections
    python benchmarks/scale_benchmark.py --against REF --repeat 3

Every figure is the real command line in a fresh process, end to end, as user + system CPU
seconds of its whole process tree (benchmarks/measure.py); the old commit runs from a temporary
git worktree (benchmarks/worktree.py) with this venv's packages. Sections:

- dask:   a 24-point x 2,000-run sweep (the README's) on the local pool and on a Dask LocalCluster (2 workers
          each), old and new; runs.parquet must be identical between the executors.
- pack:   a 64-point x 1,000-run sweep (2 workers), old against new, and new with every point
          alone (packing off): the new packed runs.parquet must equal the unpacked one byte for byte.
- trace:  `sim trace DIR --run N` on a 10,000-run directory, old against new, and the same
          command's start-up (an out-of-range --run: imports and the manifest, no replay).
- report: `sim report DIR` on that directory (three traced runs), old against new.
- robust: `sim robust precision-weapons` at the README's size (6 options x 16 points x 1,000
          runs), old against new.
- sweep100: the sweep benchmark's 100 points x 2,000 runs (2 workers), old against new.
- freeze: a 16-point sensitivity run (Sobol', N=4 over 2 parameters, 1,000 runs a point) with
          gc.freeze() and without it, paired, new code; outputs must be identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402
from worktree import checkout, env_for, git  # noqa: E402

SECTIONS = ("dask", "pack", "trace", "report", "freeze", "robust", "sweep100")
OLD = "2c7ee07"  # main before this work (model v2)
SWEEP = ["--vary", "actors.south_korea.resolve=0.2:0.9:8", "--vary", "actors.russia.risk_tolerance=0.2:0.8:{b}"]
SENSITIVITY = ["--vary", "actors.south_korea.resolve=0.2:0.9", "--vary", "actors.russia.risk_tolerance=0.2:0.9",
               "--points", "4", "--runs", "1000", "--seed", "1", "--workers", "2"]
# Runs the command line with packing off (every point alone) or gc.freeze off, in this checkout.
UNPACKED = "import sys, sim.experiments.sweeps as s; s.pack_runs = lambda runs, workers: 1; from sim.cli import main; sys.exit(main(sys.argv[1:]))"
UNFROZEN = "import sys, sim.experiments.executors as e; e._frozen = True; from sim.cli import main; sys.exit(main(sys.argv[1:]))"


class Tree:
    """Where a command runs: the old commit's worktree or this checkout. Commands run in `cwd`,
    outside both trees: `python -m` and `-c` put the working directory first on sys.path, so
    run from a checkout they would import its `sim` whatever PYTHONPATH says."""

    def __init__(self, name: str, root: Path | None, cwd: Path):
        self.name, self.env, self.cwd = name, env_for(root), cwd

    def cpu(self, args: list[str], prefix: list[str] | None = None, expect: int = 0) -> float:
        command = [sys.executable, *(prefix or ["-m", "sim"]), *args]
        m = measure(command, sample_memory=False, env=self.env, cwd=self.cwd)
        if m.result.returncode != expect:
            raise SystemExit(f"{self.name}: {' '.join(args)} failed ({m.result.returncode}): {m.result.stderr[-2000:]}")
        return m.cpu_seconds


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def median_range(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} [{min(values):.2f}-{max(values):.2f}]"


def alternate(repeat: int, runs: dict[str, Callable[[int], float]]) -> dict[str, list[float]]:
    """Each named measurement `repeat` times, taken in turn."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(repeat):
        for name, run in runs.items():
            out[name].append(run(i))
    return out


def sweep_args(points: int, out: Path, runs: int = 1000) -> list[str]:
    vary = [part.format(b=points // 8) for part in SWEEP]
    return ["sweep", "baseline", *vary, "--runs", str(runs), "--seed", "1", "--workers", "2", "--out", str(out)]


def section_dask(old: Tree, new: Tree, work: Path, repeat: int) -> None:
    print("\n## dask: 24 points x 2,000 runs, 2 workers, CPU s of the whole tree, median [range] of", repeat)
    runs = {}
    for tree in (old, new):
        for executor in ("local", "dask"):
            def run(i: int, tree: Tree = tree, executor: str = executor) -> float:
                out = work / f"dask-{tree.name}-{executor}-{i}"
                return tree.cpu([*sweep_args(24, out, runs=2000), "--executor", executor])
            runs[f"{tree.name} {executor}"] = run
    cpu = alternate(repeat, runs)
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}")
    for tree in (old, new):
        ratio = statistics.median(cpu[f"{tree.name} dask"]) / statistics.median(cpu[f"{tree.name} local"])
        same = digest(work / f"dask-{tree.name}-local-0" / "runs.parquet") == digest(work / f"dask-{tree.name}-dask-0" / "runs.parquet")
        print(f"  {tree.name}: dask / local = {ratio:.2f}x; runs.parquet identical: {same}")


def section_pack(old: Tree, new: Tree, work: Path, repeat: int) -> None:
    print("\n## pack: 64 points x 1,000 runs, 2 workers, CPU s of the whole tree, median [range] of", repeat)
    cpu = alternate(repeat, {
        "old": lambda i: old.cpu(sweep_args(64, work / f"pack-old-{i}")),
        "new packed": lambda i: new.cpu(sweep_args(64, work / f"pack-new-{i}")),
        "new alone": lambda i: new.cpu(sweep_args(64, work / f"pack-alone-{i}"), prefix=["-c", UNPACKED]),
    })
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}")
    print(f"  old / new packed: {statistics.median(cpu['old']) / statistics.median(cpu['new packed']):.2f}x; "
          f"new alone / new packed: {statistics.median(cpu['new alone']) / statistics.median(cpu['new packed']):.2f}x")
    same = {digest(work / f"pack-{kind}-{i}" / "runs.parquet") for kind in ("new", "alone") for i in range(repeat)}
    print(f"  new packed and new alone runs.parquet byte-identical: {len(same) == 1}")


def section_trace(old: Tree, new: Tree, work: Path, repeat: int, report: bool) -> None:
    dirs = {}
    for tree in (old, new):
        dirs[tree.name] = work / f"run-{tree.name}"
        tree.cpu(["run", "baseline", "--runs", "10000", "--seed", "1", "--out", str(dirs[tree.name])])
    print(f"\n## trace: sim trace DIR --run N on a 10,000-run directory, CPU s, median [range] of {repeat} (runs 17, 4242, 9999)")
    runs = {}
    for tree in (old, new):
        runs[f"{tree.name} start-up"] = lambda i, t=tree: t.cpu(["trace", str(dirs[t.name]), "--run", "10000"], expect=2)
        runs[f"{tree.name} trace"] = lambda i, t=tree: t.cpu(["trace", str(dirs[t.name]), "--run", str((17, 4242, 9999)[i % 3])])
    cpu = alternate(repeat, runs)
    for name, values in cpu.items():
        print(f"  {name:<16} {median_range(values)}")
    for tree in (old, new):
        beyond = statistics.median(cpu[f"{tree.name} trace"]) - statistics.median(cpu[f"{tree.name} start-up"])
        print(f"  {tree.name}: beyond start-up {beyond:.2f} CPU s")
    if not report:
        return
    print(f"\n## report: sim report DIR (6 figures, 3 traced runs) on that directory, CPU s, median [range] of {repeat}")
    cpu = alternate(repeat, {
        tree.name: lambda i, t=tree: t.cpu(["report", str(dirs[t.name]), "--out", str(work / f"report-{t.name}-{i}.html")])
        for tree in (old, new)
    })
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}")
    print(f"  old / new: {statistics.median(cpu[old.name]) / statistics.median(cpu[new.name]):.2f}x")


def section_robust(old: Tree, new: Tree, work: Path, repeat: int) -> None:
    print(f"\n## robust: precision-weapons, 6 options x 16 points x 1,000 runs, 2 workers, CPU s, median [range] of {repeat}")
    command = ["robust", "precision-weapons", "--points", "16", "--runs", "1000", "--seed", "1", "--workers", "2",
               "--minimise", "at_least.militarized_crisis"]
    cpu = alternate(repeat, {t.name: lambda i, t=t: t.cpu([*command, "--out", str(work / f"robust-{t.name}-{i}")])
                             for t in (old, new)})
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}  ({statistics.median(values) / 96:.3f} CPU ms per run)")
    print(f"  old / new: {statistics.median(cpu[old.name]) / statistics.median(cpu[new.name]):.2f}x")


def section_sweep100(old: Tree, new: Tree, work: Path, repeat: int) -> None:
    print(f"\n## sweep100: 100 points x 2,000 runs, 2 workers, CPU s, median [range] of {repeat}")
    grid = ["--vary", "actors.south_korea.resolve=0.2:0.9:10", "--vary", "actors.russia.risk_tolerance=0.1:0.9:10"]
    command = ["sweep", "baseline", *grid, "--runs", "2000", "--seed", "1", "--workers", "2"]
    cpu = alternate(repeat, {t.name: lambda i, t=t: t.cpu([*command, "--out", str(work / f"sweep100-{t.name}-{i}")])
                             for t in (old, new)})
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}  ({statistics.median(values) / 200:.3f} CPU ms per run)")
    print(f"  old / new: {statistics.median(cpu[old.name]) / statistics.median(cpu[new.name]):.2f}x")


def section_freeze(new: Tree, work: Path, repeat: int) -> None:
    print(f"\n## freeze: sim sensitivity, 16 points x 1,000 runs, 2 workers, paired, median [range] of {repeat}")
    cpu = alternate(repeat, {
        "gc.freeze": lambda i: new.cpu(["sensitivity", "baseline", *SENSITIVITY, "--out", str(work / f"frozen-{i}")]),
        "no freeze": lambda i: new.cpu(["sensitivity", "baseline", *SENSITIVITY, "--out", str(work / f"unfrozen-{i}")],
                                       prefix=["-c", UNFROZEN]),
    })
    for name, values in cpu.items():
        print(f"  {name:<12} {median_range(values)}")
    pairs = [b / a for a, b in zip(cpu["gc.freeze"], cpu["no freeze"])]
    print(f"  saving: {1 - 1 / statistics.median(pairs):.1%} of the unfrozen CPU (pair by pair {min(pairs):.3f}-{max(pairs):.3f}x)")
    files = sorted(p.name for p in (work / "frozen-0").iterdir() if p.suffix == ".parquet")
    same = all(digest(work / "frozen-0" / f) == digest(work / "unfrozen-0" / f) for f in files)
    print(f"  {', '.join(files)} identical: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default=OLD, help=f"the old commit (default {OLD})")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=SECTIONS)
    args = parser.parse_args()
    sections = set(args.only or SECTIONS)
    load = os.getloadavg()[0]
    print(f"scale benchmark, {dt.date.today()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {load:.2f} at the start")
    print(f"old: {args.against}; new: this checkout ({git('rev-parse', '--short', 'HEAD')}"
          f"{', uncommitted changes' if git('status', '--porcelain', '--untracked-files=no') else ''})")
    with tempfile.TemporaryDirectory(prefix="sim-scale-") as tmp, checkout(args.against) as tree:
        work = Path(tmp)
        old, new = Tree("old", tree, work), Tree("new", None, work)
        for t in (old, new):  # each must import its own tree's code
            found = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"], env=t.env, cwd=work,
                                   capture_output=True, text=True, check=True).stdout.strip()
            print(f"{t.name} imports {found}")
        if "dask" in sections:
            section_dask(old, new, work, args.repeat)
        if "pack" in sections:
            section_pack(old, new, work, args.repeat)
        if sections & {"trace", "report"}:
            section_trace(old, new, work, max(args.repeat, 3), "report" in sections)
        if "freeze" in sections:
            section_freeze(new, work, max(args.repeat, 3))
        if "robust" in sections:
            section_robust(old, new, work, 1)
        if "sweep100" in sections:
            section_sweep100(old, new, work, 1)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
