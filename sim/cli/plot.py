"""`sim plot` and `sim compare`: figures and comparisons on the command line (docs/design.md, "Command line")."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path

from . import show_warning, whole_number, worker_count

Command = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _agg() -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window, whatever the environment says


def _plot(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..report.figure_data import ResultsDirError, read_manifest
    from ..experiments.destination import check_out_place
    from ..report.figures import figures_for, write_figures

    _agg()
    try:
        read_manifest(args.dir)
        out = args.out if args.out is not None else args.dir / "figures"
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out}: not a directory (expected a directory for the figures, got a file)")
        check_out_place(out)
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            written = write_figures(figures_for(args.dir), out, args.format)  # all or nothing
    except ResultsDirError as err:
        raise UsageError(str(err)) from None
    for path in written:
        print(path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..report.compare import FIGURE_FORMATS, compare, format_comparison
    from ..report.figure_data import ResultsDirError

    _agg()
    if args.plot is not None and args.plot.suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise UsageError(f"{args.plot}: unknown figure format (expected a .png, .svg or .pdf file, "
                         f"got '{args.plot.suffix}')")
    try:
        comparison = compare(args.a, args.b, runs=args.runs, seed=args.seed, rounds=args.rounds, out=args.out,
                             workers=args.workers)
    except (ResultsDirError, ValueError, FileExistsError) as err:
        raise UsageError(str(err)) from None
    print(format_comparison(comparison))
    if args.plot is not None:
        print(comparison.save_figure(args.plot))
    return 0


def add_commands(command: Command) -> None:
    """Register `plot` and `compare` with the `sim` parser (see sim.cli.COMMAND_MODULES)."""
    plot = command("plot", _plot, "figures for any results directory (run, sweep, backtest, calibration, sensitivity, "
                                  "robust); prints the files it writes")
    plot.add_argument("dir", metavar="DIR", type=Path, help="a results directory written by any sim command")
    plot.add_argument("--out", type=Path, help="directory for the figures (default DIR/figures)")
    plot.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="image format (default png)")

    cmp = command("compare", _compare, "two scenarios or result directories side by side, with differences")
    cmp.add_argument("a", metavar="A", help="scenario name or file, or a run directory")
    cmp.add_argument("b", metavar="B", help="scenario name or file, or a run directory")
    cmp.add_argument("--runs", type=whole_number, help="runs per scenario (default: a directory's, else 10,000)")
    cmp.add_argument("--seed", type=whole_number, help="root seed shared by both (default: a directory's, else 0)")
    cmp.add_argument("--rounds", type=whole_number, help="rounds per run (default: a directory's, else the scenario's)")
    cmp.add_argument("--workers", type=worker_count, help="local processes (default and at most: the machine's cores)")
    cmp.add_argument("--plot", type=Path, metavar="FILE", help="also write a side-by-side figure (.png, .svg, .pdf)")
    cmp.add_argument("--out", type=Path, metavar="DIR", help="keep the scenarios' results under DIR (default: discard)")
