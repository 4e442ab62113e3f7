"""`sim export DIR --out NEW --format csv|parquet`: tidy tables of a run directory."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    export = command("export", _export, "a run directory's summary, runs and moves as tidy (long) CSV or "
                                        "Parquet tables")
    export.add_argument("dir", metavar="DIR", type=Path, help="a run directory (sim run, backtest, forecast)")
    export.add_argument("--out", type=Path, metavar="NEW", help="the directory to write (default DIR/export-FORMAT)")
    export.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)")


def _export(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..report.export import export
    from ..report.figure_data import ResultsDirError

    out = args.out if args.out is not None else args.dir / f"export-{args.format}"
    try:
        for file in export(args.dir, out, args.format):
            print(file)
    except ResultsDirError as err:
        raise UsageError(str(err)) from None
    return 0
