"""Run a scenario at every point of a design and write a sweep directory.

The directory holds manifest.json, points.parquet, runs.parquet (with a `point` column) and
summary.parquet (per point, each outcome's probability and each red line's crossing and
enforcement rates, with 95% intervals).

SPEC is lo:hi:n (n evenly spaced values, both ends included), lo:hi (a range for lhs and sobol)
or v1,v2,... (a single value fixes the path). --design grid runs every combination; lhs and
sobol draw --points points in the box [lo, hi] of each range (a list spans [min, max]; n is for
grids only).

Example:  sim sweep baseline --vary actors.south_korea.resolve=0.2:0.9:8 \\
              --vary actors.russia.risk_tolerance=0.3,0.6,0.9 --runs 2000 --seed 1
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import show_warning, whole_number, worker_count
from ..scenario import ScenarioError

SHOWN_POINTS = 30



def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    sweep = command("sweep", _sweep, "run a scenario over a design of parameter values")
    sweep.description = __doc__
    sweep.formatter_class = argparse.RawDescriptionHelpFormatter
    sweep.add_argument("scenario", nargs="?", metavar="NAME|FILE", help="a named scenario or a scenario file")
    sweep.add_argument("--vary", action="append", default=None, metavar="PATH=SPEC",
                       help="a dotted path and its values: lo:hi:n, lo:hi (lhs, sobol) or v1,v2,... (repeat for more paths)")
    sweep.add_argument("--design", choices=["grid", "lhs", "sobol"], default=None, help="grid (default), lhs or sobol")
    sweep.add_argument("--points", type=whole_number, help="points to draw with --design lhs or sobol")
    sweep.add_argument("--runs", type=whole_number, help="runs per point (default 2,000)")
    sweep.add_argument("--seed", type=whole_number, help="root seed (default 0)")
    add_executor_arguments(sweep)
    sweep.add_argument("--crn", action="store_true", default=None,
                       help="common random numbers: every point reuses the same block seeds")
    sweep.add_argument("--resume", type=Path, metavar="DIR", help="finish the interrupted sweep in DIR")
    sweep.add_argument("--out", type=Path, metavar="DIR",
                       help="sweep directory (default results/<scenario>/sweep-<time>-<id>)")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """--workers, --executor and --address: where a sweep's chunks run (sweep, sensitivity)."""
    parser.add_argument("--workers", type=worker_count,
                        help="worker processes (default and at most: the machine's cores, and one per chunk)")
    parser.add_argument("--executor", choices=["local", "dask"], default=None,
                        help="local processes (default) or Dask distributed")
    parser.add_argument("--address", metavar="ADDR",
                        help="a Dask scheduler, e.g. tcp://HOST:8786 (implies --executor dask)")


def _sweep(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..experiments.designs import SweepInputError
    from ..experiments.executors import ExecutorError
    from ..experiments.sweeps import resume_mismatches, sweep

    executor = args.executor or ("dask" if args.address else "local")
    try:
        if args.resume is not None:
            if args.out is not None:
                raise SweepInputError("--out cannot be used with --resume (the sweep finishes where it was going)")
            resume_mismatches(args.resume, {"runs": args.runs, "seed": args.seed, "design": args.design,
                                            "points": args.points, "crn": args.crn})
        elif args.scenario is None:
            raise SweepInputError("expected a scenario NAME|FILE (or --resume DIR)")
        elif not args.vary:
            raise SweepInputError("expected at least one --vary PATH=SPEC, e.g. --vary actors.ACTOR.resolve=0.2:0.9:8")
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)  # SweepWarning, WorkersCapped
            warnings.showwarning = show_warning
            result = sweep(
                args.scenario,
                args.vary,
                design=args.design or "grid",
                points=args.points,
                runs=2000 if args.runs is None else args.runs,
                seed=args.seed or 0,
                workers=args.workers,
                executor=executor,
                address=args.address,
                crn=bool(args.crn),
                resume=args.resume,
                out=args.out,
                progress=True,
            )
    except (SweepInputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    if result.note is not None:
        print(f"note: {result.note}", file=sys.stderr)
    print(format_sweep(result))
    if result.ok == 0:
        print(f"error: every point of the sweep failed (errors in {result.path / 'points.parquet'})", file=sys.stderr)
        return 1
    return 0


def format_sweep(result: Any) -> str:
    """A header and one line per point: its values and each outcome's probability."""
    manifest, points, summary = result.manifest(), result.points(), result.summary()
    crn = "on" if manifest["crn"] else "off"
    lines = [
        f"{manifest['scenario']}: {manifest['design']} sweep, {result.n_points} points ({result.ok} ok, "
        f"{len(result.failed)} failed) x {manifest['runs']} runs, seed {manifest['seed']}, crn {crn}  ->  {result.path}",
    ]
    sampled = _sampled(result.path, manifest["paths"])
    lines += [sampled, ""] if sampled else [""]
    outcomes = summary[summary["metric"].str.startswith(("outcome.", "measure."))]
    table = outcomes.set_index(["point", "metric"])
    classes = list(dict.fromkeys(outcomes["metric"]))
    names = ["point", *manifest["paths"], *(c.removeprefix("outcome.") for c in classes)]
    widths = [max(len(n), 7) if i <= len(manifest["paths"]) else max(len(n), 15) for i, n in enumerate(names)]
    lines.append("  ".join(f"{n:>{w}}" for n, w in zip(names, widths)))
    d = len(manifest["paths"])
    for row in points.head(SHOWN_POINTS).itertuples(index=False):
        cells = [str(row[0]), *(_number(v) for v in row[1 : 1 + d])]
        if row.status == "ok":
            cells += [_share(table.loc[(row[0], c)]) for c in classes]
        else:
            cells.append(f"failed: {row.error}")
        lines.append("  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    if len(points) > SHOWN_POINTS:
        lines.append(f"... {len(points) - SHOWN_POINTS} more points in points.parquet and summary.parquet")
    if result.failed:
        lines.append(f"{len(result.failed)} point(s) failed: their errors are in points.parquet")
    lines.append("each share ± the wider side of its 95% Wilson interval; 0 (<x): none, x its upper bound")
    return "\n".join(lines)


def _share(row: Any) -> str:
    """A share and the wider side of its 95% interval, compactly: 0.1234±0.0091, or 0 (<0.0019)."""
    if row["p"] == 0:
        return f"0 (<{row['high']:.2g})"
    return f"{row['p']:.4f}±{max(row['p'] - row['low'], row['high'] - row['p']):.4f}"


def _sampled(path: Path, varied: list[str]) -> str:
    """The distributions every point draws per run (those a point fixes are left out)."""
    try:
        from ..scenario import load_scenario
        from ..scenario.params import sampled_text

        return sampled_text(load_scenario(path / "scenario.yaml"), varied)
    except (OSError, ScenarioError):
        return ""  # the summary stands without it


def _number(value: Any) -> str:
    if isinstance(value, float) and not math.isnan(value) and value != int(value):
        return f"{value:.4g}"
    return f"{value:g}" if isinstance(value, float) else str(value)
