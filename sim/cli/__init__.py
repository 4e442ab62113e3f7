"""The command line: a thin layer over the package API (see docs/design.md, "Command line").

Start-up is part of the interface (docs/design.md, "Performance": `sim --help` and `sim list` at most 0.5 CPU
seconds). This module imports only the standard library at the top; each command imports what
it needs when it runs, so pydantic, numpy, Mesa, pandas, pyarrow, scipy and matplotlib load
only for the commands that use them. tests/test_startup.py guards this.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import __version__
from ..experiments import interrupts
from ..experiments.destination import OutputError, no_space
from ..scenario import Problem, ScenarioError, read_description, scenario_names
from ..scenario.catalog import WORLD_FILES, world_files, world_folders
from ..scenario.paths import data_dir

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input on the command line that is not a scenario problem."""


def _list(args: argparse.Namespace) -> int:
    for world, files in world_folders().items():
        worlds = [f"{WORLD_FILES}/{p.name}" for p in world_files(world)]
        record = [f"record events/{world}.yaml"] if (data_dir("events") / f"{world}.yaml").is_file() else []
        print(f"{world} (scenarios/{world}/): " + "; ".join([f"world files {', '.join(worlds) or 'none'}", *record]))
        for path in files:
            print(f"  {path.stem:<26}{_first_sentence(path.stem)}")
    return 0


def _first_sentence(name: str) -> str:
    # The description as written, without validating the scenario (that needs pydantic and the
    # whole schema); a file that cannot be read that way gets the full load and its errors.
    description = read_description(name)
    if description is None:
        from ..scenario import load_scenario

        description = load_scenario(name).description
    return textwrap.shorten(description.split(". ")[0].rstrip(".") + ".", 100)


def _show(args: argparse.Namespace) -> int:
    from ..scenario import dump_scenario, load_scenario

    print(dump_scenario(load_scenario(args.scenario, args.set)), end="")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..scenario.lint import scenario_warnings

    problems, warned = [], False
    for file in args.files:
        try:
            found = scenario_warnings(Path(file))
        except ScenarioError as err:
            problems += err.problems
            continue
        for warning in found:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"ok: {file}" + (f" ({len(found)} warning{'s' * (len(found) != 1)})" if found else ""))
        warned = warned or bool(found)
    if problems:
        raise ScenarioError(problems)
    return EXIT_BAD_INPUT if warned and args.strict else 0


def _explain(args: argparse.Namespace) -> int:
    from ..report.explain import PathError, explain
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    try:
        print(explain(scenario, args.path))
    except PathError as err:
        raise ScenarioError([Problem(args.scenario, 0, 0, args.path.strip(), str(err))]) from None
    return 0


def whole_number(text: str) -> int:
    """An argparse type for counts and seeds: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {value}")
    return value


def worker_count(text: str) -> int:
    """An argparse type for --workers: a whole number >= 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 worker, got {value}")
    return value


def show_warning(message: object, category: type, filename: str, lineno: int, file: object = None,
                 line: object = None) -> None:
    """Warnings on the command line: one `warning: ...` line on stderr, clear of progress bars."""
    from tqdm import tqdm

    tqdm.write(f"warning: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from ..api import run

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            result = run(args.scenario, runs=args.runs, seed=args.seed, rounds=args.rounds, overrides=args.set,
                         out=args.out if args.out is not None else True, workers=args.workers, progress=True)
    except (ValueError, FileExistsError) as err:
        raise UsageError(str(err)) from None
    print(result.summary())
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but its complaints look like every other bad-input error: `error: ...`, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sim", description="Escalation scenario simulator.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    command("list", _list, "named scenarios with a one-line description")
    show = command("show", _show, "the resolved scenario as YAML")
    show.add_argument("scenario", metavar="NAME|FILE")
    show.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a value")
    validate = command("validate", _validate, "check scenario files: print every error, and warnings "
                                                     "about parts that likely do nothing")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--strict", action="store_true", help="exit 2 when there are warnings, not only errors")
    explain_cmd = command("explain", _explain, "red lines, commitments and injects, or any part of a scenario, "
                                               "with the sources it rests on")
    explain_cmd.add_argument("scenario", metavar="NAME|FILE")
    explain_cmd.add_argument("path", metavar="PATH", nargs="?", default=None,
                             help="a dotted path: a value (actors.ID.resolve, state.ID.drivers[0].delta), "
                                  "a block (actors.ID) or a section (red_lines)")
    run = command("run", _run, "run a scenario, write a results directory, print a summary")
    run.add_argument("scenario", metavar="NAME|FILE")
    run.add_argument("--runs", type=whole_number, default=10_000, help="number of runs (default 10,000)")
    run.add_argument("--seed", type=whole_number, default=0, help="root seed (default 0)")
    run.add_argument("--rounds", type=whole_number, help="rounds per run (default: the scenario's)")
    run.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a value")
    run.add_argument("--out", type=Path, help="results directory (default results/<scenario>/<time>-<id>)")
    run.add_argument("--workers", type=worker_count,
                     help="local processes (default and at most: the machine's cores, and one per block)")
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(command)
    return parser


# Modules that add their own commands: each defines add_commands(command), where
# command(name, handler, help) returns the new subcommand's argparse parser.
COMMAND_MODULES = ("sim.cli.sweep", "sim.cli.plot", "sim.cli.trace", "sim.cli.robust", "sim.cli.report",
                   "sim.cli.backtest", "sim.cli.sensitivity", "sim.cli.discover",
                   "sim.cli.calibrate", "sim.cli.schema", "sim.cli.export", "sim.cli.app")


def main(argv: Sequence[str] | None = None) -> int:
    # SIGINT, SIGTERM and SIGHUP are handled however they were inherited (see interrupts). Called
    # in-process with arguments (tests, scripts), the caller's handlers come back afterwards; as a
    # program, a signal arriving once the command has ended no longer changes its exit code.
    restore = interrupts.install()
    if argv is None:
        interrupts.ignore_at_exit()
    try:
        return _main(argv)
    finally:
        if argv is not None:
            restore()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as err:
        for problem in err.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UsageError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (sim list | head); nothing more to say
        return 0
    except KeyboardInterrupt as err:
        print(interrupts.interrupted_by(err), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # one line for users; --debug for developers
        if args.debug:
            raise
        if isinstance(err, OSError) and no_space(err):
            file = err.filename or getattr(err, "writing", None)  # set where sim knew what it was writing
            where = f" (writing {file})" if file else ""
            print(f"error: no space left on device{where}: free some space and try again", file=sys.stderr)
            return EXIT_INTERNAL
        print(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
