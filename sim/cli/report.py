"""`sim report DIR`: one self-contained HTML file for a results directory."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    report = command("report", _report, "one self-contained HTML report for a results directory")
    report.add_argument("dir", metavar="DIR", type=Path, help="a results directory (run, sweep, robust, comparison)")
    report.add_argument("--out", type=Path, metavar="FILE", help="the HTML file (default DIR/report.html)")


def _report(args: argparse.Namespace) -> int:
    from . import UsageError, show_warning
    from ..report.figure_data import ResultsDirError
    from ..report.html_report import write_report

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            written = write_report(args.dir, args.out)
    except ResultsDirError as err:
        raise UsageError(str(err)) from None
    print(written)
    return 0
