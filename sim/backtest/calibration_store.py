"""The calibration directory on disk: its partial directory, the parts of runs, the final rename.

A calibration to DEST works in `.DEST.partial/` beside it, created (with the destination's lock
held) before anything is simulated:

    calibration.json   the plan: every option that decides the numbers, to resume with
    scenario.yaml      the scenario as given
    parts/             NAME.npz, one per finished block of runs (the parameter points each run
                       drew and whether each event happened), written whole under a temporary
                       name and renamed into place

Interrupted, the partial directory stays; `sim calibrate --resume DEST` (or the partial
directory) runs only the blocks without a part. Every later step (emulators, history matching,
the sequential sampler) is a deterministic function of the parts and the seed, so the result
equals an uninterrupted calibration's. When it is done the final files are written into the
partial directory, manifest.json last, the parts removed and the directory renamed to DEST.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..experiments.designs import SweepInputError
from ..experiments.sweep_store import partial_of, target_of, write_durably

PLAN_FILE = "calibration.json"
PLAN_KIND = "calibration-partial"


def create_partial(partial: Path, plan: Mapping[str, Any], scenario_text: str) -> None:
    """The partial directory with its plan, made whole under a temporary name and renamed."""
    staging = partial.with_name(f"{partial.name}.{os.getpid()}.tmp")
    try:
        (staging / "parts").mkdir(parents=True)
        (staging / "scenario.yaml").write_text(scenario_text, encoding="utf-8")
        (staging / PLAN_FILE).write_text(json.dumps(plan, indent=1) + "\n", encoding="utf-8")
        staging.rename(partial)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def find_partial(path: Path) -> Path:
    """The partial directory `--resume PATH` means: PATH itself or the one beside it."""
    path = Path(path)
    for candidate in ([path] if path.name.endswith(".partial") else [path, partial_of(path)]):
        if (candidate / PLAN_FILE).is_file():
            return candidate
    if (path / "manifest.json").is_file():
        raise SweepInputError(f"--resume {path}: this calibration is already complete (nothing to resume)")
    raise SweepInputError(f"--resume {path}: not an interrupted calibration (expected a directory holding "
                          f"{PLAN_FILE}, as an interrupted 'sim calibrate' leaves it beside its --out)")


def read_plan(partial: Path) -> dict[str, Any]:
    try:
        plan = json.loads((partial / PLAN_FILE).read_text(encoding="utf-8"))
        if not isinstance(plan, dict) or plan.get("kind") != PLAN_KIND:
            raise ValueError(f"expected kind {PLAN_KIND}")
    except (OSError, ValueError) as err:
        raise SweepInputError(f"--resume {partial}: unreadable {PLAN_FILE} ({err})") from None
    return plan


def part_path(partial: Path, name: str) -> Path:
    return partial / "parts" / f"{name}.npz"


def save_part(partial: Path, name: str, **arrays: np.ndarray) -> None:
    final = part_path(partial, name)
    staging = final.with_name(final.name + ".tmp")
    with open(staging, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(staging, final)


def load_part(partial: Path, name: str) -> dict[str, np.ndarray] | None:
    """A part's arrays, or None if it was not written (or not whole)."""
    path = part_path(partial, name)
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError):
        path.unlink(missing_ok=True)  # cut short: run it again
        return None


def move_into_place(partial: Path, target: Path) -> Path:
    """Drop the parts and the plan, and rename the finished directory to `target`."""
    shutil.rmtree(partial / "parts", ignore_errors=True)
    (partial / PLAN_FILE).unlink(missing_ok=True)
    if target != partial:
        if target.exists():
            target.rmdir()  # an empty directory named by --out (checked under the lock)
        partial.rename(target)
    return target


__all__ = ["PLAN_FILE", "create_partial", "find_partial", "load_part", "move_into_place", "part_path",
           "partial_of", "read_plan", "save_part", "target_of", "write_durably"]
