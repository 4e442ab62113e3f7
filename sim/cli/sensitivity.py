"""`sim sensitivity`: which parameters drive each outcome probability and red-line rate (SALib).

Runs the design's points as a sweep (every point with the same seeds: common random numbers) and
writes a sweep directory plus sensitivity.parquet; prints, per metric, the parameters ranked by
their total Sobol' index (or Morris mu*). `sim plot DIR` draws the indices.

Without --vary, every parameter the scenario samples per run is varied: a uniform's or a
triangle's support, a beta's or a normal's central 95%.

Example:  sim sensitivity baseline --vary actors.south_korea.resolve=0.2:0.9 \\
              --vary actors.russia.risk_tolerance=0.2:0.9 --points 64 --runs 1000
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import show_warning, whole_number
from .sweep import add_executor_arguments

NOISY = 0.5  # a noise share above this is flagged in the table


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    sens = command("sensitivity", _sensitivity, "Sobol' or Morris sensitivity of each outcome and red line (SALib)")
    sens.description = __doc__
    sens.formatter_class = argparse.RawDescriptionHelpFormatter
    sens.add_argument("scenario", nargs="?", metavar="NAME|FILE", help="a named scenario or a scenario file")
    sens.add_argument("--vary", action="append", default=None, metavar="PATH=lo:hi",
                      help="a dotted path and its range (repeat; default: every distribution in the scenario)")
    sens.add_argument("--method", choices=["sobol", "morris"], default=None,
                      help="sobol: first-order and total indices (default); morris: mu*, sigma (screening)")
    sens.add_argument("--points", type=whole_number,
                      help="base samples N (sobol, default 64: N(d+2) points) or trajectories (morris, default 10)")
    sens.add_argument("--runs", type=whole_number, help="runs per point (default 1,000)")
    sens.add_argument("--seed", type=whole_number, help="root seed (default 0)")
    add_executor_arguments(sens)
    sens.add_argument("--resume", type=Path, metavar="DIR", help="finish the interrupted sensitivity run in DIR")
    sens.add_argument("--out", type=Path, metavar="DIR",
                      help="directory (default results/<scenario>/sensitivity-<time>-<id>)")


def _sensitivity(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..experiments.designs import SweepInputError
    from ..experiments.executors import ExecutorError
    from ..experiments.sensitivity import METHODS, default_ranges, resume_checks, sensitivity
    from ..engine.model import resolve_scenario

    executor = args.executor or ("dask" if args.address else "local")
    try:
        if args.resume is not None:
            if args.out is not None or args.scenario is not None or args.vary:
                raise SweepInputError("--resume DIR takes no scenario, --vary or --out (it finishes the run in DIR)")
            resume_checks(args.resume, {"runs": args.runs, "seed": args.seed, "points": args.points,
                                        "design": METHODS.get(args.method)})
        if args.resume is None and args.scenario is None:
            raise SweepInputError("expected a scenario NAME|FILE (or --resume DIR)")
        if args.resume is None and not args.vary:
            ranges = default_ranges(resolve_scenario(args.scenario))
            for r in ranges:
                print(f"varying {r.vary}  ({r.how} of {r.distribution})", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            result = sensitivity(args.scenario, args.vary, method=args.method or "sobol", points=args.points,
                                 runs=1000 if args.runs is None else args.runs, seed=args.seed or 0, workers=args.workers, executor=executor, address=args.address,
                                 resume=args.resume, out=args.out, progress=True)
    except (SweepInputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    if result.note is not None:
        print(f"note: {result.note}", file=sys.stderr)
    print(format_sensitivity(result))
    return 0


def _cell(value: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{value:6.3f}"
    return f"{value:6.3f} [{low:6.3f}, {high:6.3f}]"


def format_sensitivity(result: Any) -> str:
    """A header, then per metric its parameters ranked: S1 [CI], ST [CI] (or mu* [CI], mu, sigma)."""
    from ..experiments.sensitivity import ranked

    m = result.manifest()
    sobol = result.method == "sobol"
    lines = [f"{m['scenario']}: {result.method} sensitivity, {m['points']} points (N={m['base_samples']}) x "
             f"{m['runs']} runs, seed {m['seed']}, common random numbers  ->  {result.path}", ""]
    table = ranked(result.indices, result.method)
    width = max([len("parameter"), *(len(p) for p in table["parameter"])])
    heads = ("S1 [95% CI]", "ST [95% CI]") if sobol else ("mu* [95% CI]", "    mu", " sigma")
    widths = (24, 24) if sobol else (24, 6, 6)
    for metric, rows in table.groupby("metric", sort=False):
        share = result.noise.get(metric, math.nan)
        flag = "  (noisy: raise --runs)" if share > NOISY else ""
        lines.append(f"{metric}   noise share {share:.2f}{flag}")
        lines.append(f"  {'parameter':<{width}}  " + "  ".join(f"{h:<{w}}" for h, w in zip(heads, widths)).rstrip())
        for row in rows.itertuples(index=False):
            r = row._asdict()
            if sobol:
                cells = [_cell(r["S1"], r["S1_low"], r["S1_high"]), _cell(r["ST"], r["ST_low"], r["ST_high"])]
            else:
                cells = [_cell(r["mu_star"], r["mu_star_low"], r["mu_star_high"]), f"{r['mu']:6.3f}",
                         f"{r['sigma']:6.3f}"]
            lines.append(f"  {r['parameter']:<{width}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths)).rstrip())
        lines.append("")
    if result.constant:
        lines.append(f"the same at every point (no indices): {', '.join(result.constant)}")
    lines.append("noise share: binomial variance of a point's estimate over the variance across points; "
                 "near or above 1, the indices are mostly noise")
    return "\n".join(lines).rstrip()
