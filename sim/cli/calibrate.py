"""`sim calibrate` and `sim forecast`: fit parameters to a dated record; forecast from what was observed.

Example:  sim calibrate baseline --events events/korea-2024.yaml --events events/tail-anchors.yaml \\
              --vary actors.north_korea.resolve=0.3:0.9 --points 1000 --runs 20000
          sim calibrate --resume results/baseline/<the interrupted calibration>
          sim forecast baseline --given events/korea-2024.yaml --as-of 2024-12-31 --survivors 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import show_warning, whole_number, worker_count


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got '{text}'") from None


def _bad_input_as_usage(work: Callable[[], Any]) -> Any:
    """Run `work` with warnings as one `warning:` line each; bad values become `error:` and exit 2."""
    from . import UsageError
    from ..experiments.executors import ExecutorError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            return work()
    except (ValueError, ExecutorError, FileExistsError) as err:
        raise UsageError(str(err)) from None


def _calibrate(args: argparse.Namespace) -> int:
    from ..backtest.calibration import calibrate, format_calibration, resume
    from ..experiments.designs import SweepInputError

    executor = args.executor or ("dask" if args.address else "local")

    def work() -> Any:
        if args.resume is not None:
            given = [f"--{name.replace('_', '-')}" for name in ("scenario", "events", "vary", "points", "runs", "waves",
                                                                 "seed", "design", "score_runs", "out")
                     if getattr(args, name) is not None]
            if given:
                raise SweepInputError(f"--resume finishes a calibration as it was started (expected no "
                                      f"{', '.join(given)})")
            return resume(args.resume, workers=args.workers, executor=executor, address=args.address)
        if args.scenario is None or args.events is None or args.vary is None:
            raise SweepInputError("expected a scenario NAME|FILE, --events FILE and --vary PATH=lo:hi (or --resume DIR)")
        return calibrate(args.scenario, args.events, args.vary, points=args.points or 1000, runs=args.runs or 20_000,
                         seed=args.seed or 0, design=args.design or "lhs", workers=args.workers, executor=executor,
                         address=args.address, out=args.out, score_runs=args.score_runs or 10_000,
                         waves=args.waves or 3)

    result = _bad_input_as_usage(work)
    print(format_calibration(result))
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from ..backtest.forecast import forecast, format_forecast

    result = _bad_input_as_usage(lambda: forecast(
        args.scenario, args.given, args.as_of, survivors=args.survivors, seed=args.seed, max_runs=args.max_runs,
        batch=args.batch, workers=args.workers, out=args.out))
    print(format_forecast(result))
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `calibrate` and `forecast` with the `sim` parser (see sim.cli.COMMAND_MODULES)."""
    cal = command("calibrate", _calibrate, "fit parameters to a dated record; writes a calibrated scenario")
    cal.epilog = __doc__.split("\n", 2)[2]
    cal.formatter_class = argparse.RawDescriptionHelpFormatter
    cal.add_argument("scenario", metavar="NAME|FILE", nargs="?")
    cal.add_argument("--events", action="append", type=Path, metavar="FILE",
                     help="the record: an events file (repeat for more: yes/no events and rates)")
    cal.add_argument("--vary", action="append", metavar="PATH=lo:hi",
                     help="a parameter and the range of its uniform prior (repeat for more)")
    cal.add_argument("--design", choices=["lhs", "sobol"], help="the first wave's design over the box (default lhs)")
    cal.add_argument("--points", type=whole_number, help="particles in the posterior (default 1,000)")
    cal.add_argument("--runs", type=whole_number, help="runs per wave, each at its own parameter point (default 20,000)")
    cal.add_argument("--waves", type=whole_number, help="waves of runs: history matching between them (default 3)")
    cal.add_argument("--score-runs", type=whole_number,
                     help="runs of the scenario as given and of the calibrated one to score (default 10,000)")
    cal.add_argument("--seed", type=whole_number, help="root seed (default 0)")
    cal.add_argument("--resume", type=Path, metavar="DIR", help="finish the interrupted calibration in DIR (its --out)")
    cal.add_argument("--workers", type=worker_count, help="worker processes (default and at most: the cores)")
    cal.add_argument("--executor", choices=["local", "dask"], default=None, help="local processes (default) or Dask")
    cal.add_argument("--address", metavar="ADDR", help="a Dask scheduler (implies --executor dask)")
    cal.add_argument("--out", type=Path, metavar="DIR", help="results directory (default results/<scenario>/<time>-<id>)")

    fc = command("forecast", _forecast, "forecast the rest of the horizon from the runs consistent with a record")
    fc.add_argument("scenario", metavar="NAME|FILE")
    fc.add_argument("--given", required=True, type=Path, metavar="FILE", help="the record: an events file")
    fc.add_argument("--as-of", required=True, type=_date, metavar="DATE",
                    help="condition on the events dated on or before DATE (YYYY-MM-DD)")
    fc.add_argument("--survivors", type=whole_number, default=1000, help="runs to keep (default 1,000)")
    fc.add_argument("--max-runs", type=whole_number, default=1_000_000,
                    help="give up after this many runs (default 1,000,000)")
    fc.add_argument("--batch", type=whole_number, default=10_000, help="runs per block (default 10,000)")
    fc.add_argument("--seed", type=whole_number, default=0, help="root seed (default 0)")
    fc.add_argument("--workers", type=worker_count, help="worker processes (default and at most: the cores)")
    fc.add_argument("--out", type=Path, metavar="DIR", help="results directory (default results/<scenario>-forecast/...)")
