"""`sim app`: the simulator in the browser, served on localhost (needs the `app` extra)."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from pathlib import Path

from . import whole_number

Command = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
APP_MISSING = "sim app needs the app extra: pip install 'escalation-sim[app]' (or pip install -e '.[app]')"


def _app(args: argparse.Namespace) -> int:
    from . import UsageError

    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: expected a port from 1 to 65535")
    # Only looked for, not imported: Solara reads its settings (usage statistics among them) at
    # import, and serve() must set them first.
    if importlib.util.find_spec("solara") is None:
        raise UsageError(APP_MISSING)
    from ..app.server import serve

    serve(args.host, args.port, args.results)
    return 0


def add_commands(command: Command) -> None:
    """Register `app` with the `sim` parser (see sim.cli.COMMAND_MODULES)."""
    app = command("app", _app, "explore scenarios in the browser: change values, run, compare, trace, download")
    app.add_argument("--port", type=whole_number, default=8765, help="port to listen on (default 8765)")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--results", type=Path, metavar="DIR",
                     help="keep the runs made in the app here (default: a temporary folder removed on exit)")
