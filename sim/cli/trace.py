"""`sim trace` and `sim paths`: why runs went where they went (one run's story; the common routes).

sim trace DIR --run N                 replays run N of a run directory as a dated story
sim trace SCENARIO --seed S --pick CLASS [--rounds K] [--set PATH=VALUE]...
                                      finds the first run of `sim run SCENARIO --seed S` that ends
                                      in CLASS and replays it
sim paths DIR --to CLASS [--top K]    the most common sequences of first events among the runs
                                      that reach CLASS or worse
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from . import whole_number

Command = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _trace(args: argparse.Namespace) -> int:
    from . import EXIT_INTERNAL, UsageError
    from ..report.figure_data import ResultsDirError, read_manifest
    from ..report.trace import DEFAULT_PICK_RUNS, format_trace, trace_pick, trace_run

    target = args.target
    is_dir = Path(target).is_dir()
    try:
        if args.pick is not None:
            if args.run is not None:
                raise UsageError("sim trace: --run and --pick exclude each other (expected --run N with a results "
                                 "directory, or --pick CLASS with a scenario)")
            if is_dir:
                raise UsageError(f"sim trace {target}: --pick takes a scenario name or file (expected a scenario, "
                                 f"got a directory; use --run N for a run of a results directory)")
            changes = [*args.set, *([f"rounds={args.rounds}"] if args.rounds is not None else [])]
            trace = trace_pick(target, args.seed if args.seed is not None else 0, args.pick, changes,
                               args.max_runs if args.max_runs is not None else DEFAULT_PICK_RUNS)
        else:
            if args.run is None:
                raise UsageError(f"sim trace {target}: which run? (expected --run N with a results directory, "
                                 f"or --pick CLASS with a scenario)")
            if args.set or args.rounds is not None or args.seed is not None or args.max_runs is not None:
                raise UsageError("sim trace DIR --run N replays the run as it was made (expected no --seed, --set, "
                                 "--rounds or --max-runs)")
            trace = trace_run(target, args.run)
    except (ResultsDirError, ValueError) as err:
        raise UsageError(str(err)) from None
    overrides = args.set if args.pick is not None else read_manifest(target).get("overrides") or []
    if overrides:
        print(f"with --set {', '.join(overrides)}")
    print(format_trace(trace, brief=args.brief))
    if trace.mismatches:
        print(f"error: the replay of run {trace.run} differs from the record in {len(trace.mismatches)} columns "
              f"(first: {trace.mismatches[0]})", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


def _paths(args: argparse.Namespace) -> int:
    from . import UsageError
    from ..report.figure_data import ResultsDirError
    from ..report.paths import LENGTH, first_event_paths, format_paths, read_event_runs

    if args.top is not None and args.top < 1:
        raise UsageError(f"--top {args.top}: expected at least 1 sequence")
    if args.length is not None and args.length < 1:
        raise UsageError(f"--length {args.length}: expected at least 1 event")
    try:
        runs, scenario = read_event_runs(args.dir)
        table = first_event_paths(runs, scenario, args.to, top=args.top or 10, length=args.length or LENGTH,
                                  at_least=not args.exactly)
    except (ResultsDirError, ValueError) as err:
        raise UsageError(str(err)) from None
    print(format_paths(table, args.to, at_least=not args.exactly))
    if len(table):
        print(f"\nthe first run on the top sequence, as a story: sim trace {args.dir} --run {table['example'].iloc[0]}")
    return 0


def add_commands(command: Command) -> None:
    """Register `trace` and `paths` with the `sim` parser (see sim.cli.COMMAND_MODULES)."""
    trace = command("trace", _trace, "one run as a dated story, with the reasons for each choice")
    trace.description = __doc__
    trace.formatter_class = argparse.RawDescriptionHelpFormatter
    trace.add_argument("target", metavar="DIR|SCENARIO", help="a run directory (with --run) or a scenario (with --pick)")
    trace.add_argument("--run", type=whole_number, metavar="N", help="the run id to replay (a row of runs.parquet)")
    trace.add_argument("--pick", metavar="CLASS", help="replay the first run that ends in this outcome class")
    trace.add_argument("--seed", type=whole_number, help="root seed for --pick (default 0)")
    trace.add_argument("--rounds", type=whole_number, help="rounds per run for --pick (default: the scenario's)")
    trace.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a value (--pick)")
    trace.add_argument("--brief", action="store_true",
                       help="leave out refused proposals, and misperceptions, choices and stops at or below posturing")
    trace.add_argument("--max-runs", type=whole_number, metavar="N",
                       help="runs to search for --pick, in whole blocks of 10,000 (default 100,000)")

    paths = command("paths", _paths, "the most common sequences of first events among the runs that reach a class")
    paths.description = __doc__ + "\n" + _paths_rules()
    paths.formatter_class = argparse.RawDescriptionHelpFormatter
    paths.add_argument("dir", metavar="DIR", type=Path, help="a run directory from sim run")
    paths.add_argument("--to", required=True, metavar="CLASS", help="an outcome class: runs that reach it or worse")
    paths.add_argument("--exactly", action="store_true", help="only the runs that end in CLASS itself")
    paths.add_argument("--top", type=whole_number, metavar="K", help="sequences to list (default 10)")
    paths.add_argument("--length", type=whole_number, metavar="L", help="events per sequence (default 3)")


def _paths_rules() -> str:
    return ("Events: a first act above the posturing band (a rung above the lowest non-easing class), a red line\n"
            "crossed, a commitment invoked, an agreement signed; a run's path is its first L events by round.\n"
            "Within a round: agreements, then acts (lower rung first), then crossings, then invocations.")
