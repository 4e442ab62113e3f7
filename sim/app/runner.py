"""Runs started from the app: `sim run` itself (experiments.runner.run_scenario) into the app's
results folder, with progress reported and a chance to stop after every block of runs.

A cancelled run raises Cancelled from the block hook; the results directory, written under a
temporary name until complete, is then removed, as for an interrupted `sim run`. Blocks are
10,000 runs, so a run of up to 10,000 stops only when its one block is done.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..experiments.runner import run_scenario


class Cancelled(Exception):
    """The analyst stopped the run."""


_claimed: set[Path] = set()  # names handed out in this server, taken before their directory exists
_claiming = threading.Lock()  # two browser sessions may start runs at once


def next_directory(folder: Path, scenario: str) -> Path:
    """A fresh directory in `folder` for a run of `scenario`: 1-precision-weapons, 2-baseline, ..."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(scenario).stem).strip("-") or "scenario"
    with _claiming:
        taken = {p.name.split("-", 1)[0] for p in folder.glob("*-*")} if folder.is_dir() else set()
        taken |= {p.name.split("-", 1)[0] for p in _claimed if p.parent == folder}
        number = next(n for n in itertools.count(1) if str(n) not in taken)
        path = folder / f"{number}-{slug}"
        _claimed.add(path)
        return path


def run_in_folder(folder: Path, scenario: str, runs: int, seed: int, overrides: list[str],
                 progress: Callable[[float], None], stopped: Callable[[], bool]) -> Path:
    """Run `scenario` with `overrides` into a new directory of `folder`; its path.

    `progress` gets the share of runs done after each block; when `stopped()` turns true the run
    ends at the next block with Cancelled and leaves nothing behind."""
    if stopped():
        raise Cancelled()
    done = 0

    def on_block(_scenario: Any, block: Any) -> None:
        nonlocal done
        done += block.task.size
        progress(done / runs)
        if stopped():
            raise Cancelled()

    done_run = run_scenario(scenario, runs, seed, overrides=overrides, out=next_directory(folder, scenario),
                            on_block=on_block)
    assert done_run.path is not None
    return done_run.path
