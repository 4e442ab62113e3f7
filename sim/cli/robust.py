"""Compare policy options (levers) against the same sample of uncertainties, with regret.

Every option (a combination of --lever values) meets the same --points uncertainty points and,
at each, the same --runs runs' random numbers. Uncertainty points are a Latin hypercube over the
--vary PATH=lo:hi ranges, or, with no --vary, over every distribution the scenario samples per
run that is not a lever (each point fixes them at quantiles of their distributions).

Writes robust.parquet (per option, point and outcome: value, 95% interval, regret against the
best option at that point), options.parquet (per option and outcome: expected value with its
interval, mean and worst regret, ranks), runs.parquet and points.parquet.

Example:  sim robust precision-weapons --lever actors.south_korea.preferences.lethal_aid=-1.5,1,3 \\
              --lever red_lines.south_korea.precision_weapons.specificity=0.7,1 --points 16 --runs 1000
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import show_warning, whole_number, worker_count


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    robust = command("robust", _robust, "options (levers) against the same uncertainties: outcomes, regret, ranking")
    robust.description = __doc__
    robust.formatter_class = argparse.RawDescriptionHelpFormatter
    robust.add_argument("scenario", metavar="NAME|FILE", help="a named scenario or a scenario file")
    robust.add_argument("--lever", action="append", default=None, metavar="PATH=v1,v2,...",
                        help="a choice and the values to compare (repeat; default: the scenario's levers)")
    robust.add_argument("--vary", action="append", default=None, metavar="PATH=lo:hi",
                        help="an uncertain range (repeat; default: the scenario's distributions)")
    robust.add_argument("--points", type=whole_number, default=16, help="uncertainty points (default 16)")
    robust.add_argument("--runs", type=whole_number, default=1000, help="runs per option and point (default 1,000)")
    robust.add_argument("--seed", type=whole_number, default=0, help="root seed (default 0)")
    robust.add_argument("--minimise", default="escalation_score", metavar="OUTCOME",
                        help="the outcome regret ranks on: escalation_score (default), outcome.CLASS, "
                             "at_least.CLASS or crossed.RED_LINE")
    robust.add_argument("--workers", type=worker_count, help="worker processes (default: the machine's cores)")
    robust.add_argument("--executor", choices=["local", "dask"], default=None, help="local (default) or dask")
    robust.add_argument("--address", metavar="ADDR", help="a Dask scheduler (implies --executor dask)")
    robust.add_argument("--out", type=Path, metavar="DIR", help="results directory (default results/<scenario>/robust-...)")


def _robust(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..experiments.designs import SweepInputError
    from ..experiments.executors import ExecutorError
    from ..experiments.robust import robust

    if args.points < 1:
        raise UsageError("--points must be at least 1")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            result = robust(args.scenario, args.lever, args.vary, points=args.points, runs=args.runs, seed=args.seed,
                            metric=args.minimise, workers=args.workers,
                            executor=args.executor or ("dask" if args.address else "local"), address=args.address,
                            out=args.out, progress=True)
    except (SweepInputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    print(format_robust(result.manifest(), result.options(), result.path))
    return 0


def overlapping_first(table: Any) -> int:
    """How many options' expected-value intervals overlap the first-ranked option's."""
    first = table.iloc[0]
    rest = table.iloc[1:]
    return int(((rest["low"] <= first["high"]) & (first["low"] <= rest["high"])).sum())


def format_robust(manifest: dict[str, Any], options: Any, path: Path | str) -> str:
    """The options ranked by worst regret on the minimised outcome, with their expected outcomes."""
    metric = manifest["minimise"]
    table = options[options["metric"] == metric].sort_values(["rank_regret", "rank_expected", "option"])
    worst = options[options["metric"].str.startswith("at_least.")]
    lines = [f"{manifest['scenario']}: {manifest['options']} options x {manifest['states']} uncertainty points x "
             f"{manifest['runs']} runs, seed {manifest['seed']}, common random numbers  ->  {path}",
             "uncertain: " + (", ".join(f"{u['path']} ~ {u['spec']}" for u in manifest["uncertainties"]) or "nothing"),
             "", f"minimising {metric}: expected over the uncertainty points (95% interval), regret against the best "
                 "option at each point", ""]
    width = max(len("option"), *(len(x) for x in table["label"]))
    lines.append(f"{'option':<{width}}  {'expected':>9}  {'95% interval':>19}  {'mean regret':>11}  "
                 f"{'max regret':>10}  {'rank exp.':>9}  {'rank regret':>11}")
    first = table.iloc[0]
    for row in table.itertuples():
        overlaps = row.Index != table.index[0] and row.low <= first.high and first.low <= row.high
        lines.append(f"{row.label:<{width}}  {row.expected:>9.4f}  [{row.low:>8.4f}, {row.high:>8.4f}]  "
                     f"{row.mean_regret:>11.4f}  {row.max_regret:>10.4f}  {row.rank_expected:>9}  {row.rank_regret:>11}"
                     f"{'  ~' if overlaps else ''}")
    tied = overlapping_first(table)
    if tied:
        lines += ["", f"~ its 95% interval overlaps that of the first option ({first.label}): the ranking between "
                      f"them is not significant ({tied} of {len(table) - 1} other options); more --runs or "
                      "--points may separate them"]
    if len(worst):
        lines += ["", "probability of each outcome class or worse, per option (expected over the points):"]
        pivot = worst.pivot(index="label", columns="metric", values="expected")
        pivot = pivot[list(dict.fromkeys(worst["metric"]))].reindex(table["label"])
        names = [m.removeprefix("at_least.") for m in pivot.columns]
        lines.append(f"{'option':<{width}}  " + "  ".join(f"{'>= ' + n:>20}" for n in names))
        for label, row in pivot.iterrows():
            lines.append(f"{label:<{width}}  " + "  ".join(f"{v:>20.4f}" for v in row))
    measures = options[options["metric"].str.startswith("measure.")]
    if len(measures):
        lines += ["", "measures per option (expected over the points, 95% interval):"]
        for mid, rows in measures.groupby("metric", sort=False):
            lines.append(f"  {mid.removeprefix('measure.')}")
            for row in rows.set_index("label").reindex(table["label"]).itertuples():
                lines.append(f"{row.Index:<{width}}  {row.expected:>9.4f}  [{row.low:>8.4f}, {row.high:>8.4f}]")
    return "\n".join(lines)
