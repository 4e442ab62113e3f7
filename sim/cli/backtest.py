"""`sim backtest`: score a scenario's forecasts against a dated record (docs/backtest.md)."""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable
from pathlib import Path

from . import show_warning, whole_number, worker_count

Command = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _backtest(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..backtest.run import backtest

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            result = backtest(args.scenario, args.events, runs=args.runs, seed=args.seed, out=args.out,
                              workers=args.workers, progress=not args.json, overrides=args.set)
    except (ValueError, FileExistsError) as err:
        raise UsageError(str(err)) from None
    print(json.dumps({**result.to_json(), "path": str(result.path)}, indent=2) if args.json else result.summary())
    return 0  # a measurement: the score is reported, never judged by the exit code


def add_commands(command: Command) -> None:
    """Register `backtest` with the `sim` parser (see sim.cli.COMMAND_MODULES)."""
    cmd = command("backtest", _backtest, "score a scenario's forecasts against a dated record of events, beside "
                                         "reference forecasters; writes a results directory")
    cmd.add_argument("scenario", metavar="NAME|FILE")
    cmd.add_argument("--events", type=Path, required=True, metavar="FILE", help="the events file (docs/backtest.md)")
    cmd.add_argument("--runs", type=whole_number, default=10_000, help="number of runs (default 10,000)")
    cmd.add_argument("--seed", type=whole_number, default=0, help="root seed (default 0)")
    cmd.add_argument("--out", type=Path, help="results directory (default results/<scenario>/<time>-<id>)")
    cmd.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                     help="override a value of the scenario, as in sim run")
    cmd.add_argument("--json", action="store_true",
                     help="print the summary as JSON (headline, by_construction, events, weighted), not the tables")
    cmd.add_argument("--workers", type=worker_count,
                     help="local processes (default and at most: the machine's cores, and one per block)")
