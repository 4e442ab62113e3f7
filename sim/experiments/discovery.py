"""`sim discover`: scenario discovery with PRIM (Friedman & Fisher 1999; Bryant & Lempert 2010).

Each run is a case: its parameter values (a sweep's point values, and every `param.<path>` a run
sampled) and whether it ended in the outcome class of interest. PRIM peels the box of all values
a little at a time (peel_alpha of the cases at a time), keeping the peel that raises the share of
cases of interest the most, and records each box's coverage (share of all cases of interest inside
it) and density (share of the box's cases that are of interest). The box chosen is the one with
the highest coverage among those whose density reaches the threshold; further boxes are searched
among the cases outside the earlier ones.

PRIM comes from EMA Workbench (BSD-3, maintained, installs on Python 3.11 with our numpy and
pandas): the `prim` package on PyPI is GPL-3, which an MIT project cannot take as a dependency,
and has had no release since 2019. EMA Workbench is heavy (scikit-learn, statsmodels, seaborn),
so it is an optional extra, `pip install 'escalation-sim[discover]'`, loaded only by this command.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .designs import SweepInputError

PEEL_ALPHA = 0.05  # EMA Workbench's default, and Friedman & Fisher's suggested 0.05-0.10
MASS_MIN = 0.05  # the smallest box, as a share of the cases: below it a box describes a handful of runs
PARAM = "param."
MAX_CASES = 100_000  # PRIM's memory grows with the cases times the peeling steps (2 GB at 384,000 runs);
# a random 100,000 runs give coverage and density to within about 0.003 (one standard error)
ANY_CASE = 1e-9


@dataclass(frozen=True)
class Cases:
    """Per run: the parameter values (columns are scenario paths) and whether it is of interest."""

    x: pd.DataFrame
    y: np.ndarray
    outcome: str
    source: str  # "sweep" or "run"
    total: int = 0  # runs in the directory, when more than the cases (a random subset was kept)

    def subset(self, most: int, seed: int) -> Cases:
        """At most `most` cases, drawn at random without replacement (the same for the same seed)."""
        if len(self.y) <= most:
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self.y), size=most, replace=False))
        return Cases(self.x.iloc[keep].reset_index(drop=True), self.y[keep], self.outcome, self.source, len(self.y))


@dataclass(frozen=True)
class Box:
    """One box found by PRIM: its statistics, limits on restricted paths, the whole trajectory."""

    coverage: float
    density: float
    mass: float
    limits: dict[str, tuple[float, float]]  # only the restricted paths
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    chosen: int  # row of the trajectory
    reached: bool  # whether the density reached the threshold

    def vary(self) -> list[str]:
        """`PATH=lo:hi` for `sim sweep --vary` and `sim sensitivity --vary`."""
        return [f"{p}={_text(lo)}:{_text(hi)}" for p, (lo, hi) in self.limits.items()]

    def set(self) -> list[str]:
        """`PATH=VALUE` for `--set`: the middle of each restricted range."""
        return [f"{p}={_text((lo + hi) / 2)}" for p, (lo, hi) in self.limits.items()]


def _text(value: float) -> str:
    return f"{value:.4g}"


def read_cases(path: str | Path, outcome: str) -> Cases:
    """The cases of a sweep or sensitivity directory, or of a run directory whose runs sampled parameters."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SweepInputError(f"{path}: not a results directory (expected a sweep or run directory with "
                              "manifest.json)") from None
    runs_file = path / "runs.parquet"
    try:
        names = pq.read_schema(runs_file).names
    except (OSError, pa.ArrowInvalid) as err:
        raise SweepInputError(f"{path}: unreadable runs.parquet (expected the runs of a sweep or run, got {err})") from None
    params = [n for n in names if n.startswith(PARAM)]
    runs = pd.read_parquet(runs_file, columns=[c for c in ("point", "outcome") if c in names] + params)
    x = runs[params].rename(columns=lambda c: c.removeprefix(PARAM))
    source = "run"
    if "point" in runs.columns:
        points = pd.read_parquet(path / "points.parquet")
        varied = [p for p in manifest.get("paths", []) if p in points.columns]
        values = points.set_index("point")[varied]
        x = pd.concat([values.loc[runs["point"].to_numpy()].reset_index(drop=True), x.reset_index(drop=True)], axis=1)
        x = x.loc[:, ~x.columns.duplicated()]
        source = "sweep"
    x = x.loc[:, x.nunique() > 1].astype(float)
    if x.shape[1] == 0:
        raise SweepInputError(f"{path}: no parameter varies across its runs (expected a sweep, or a run whose "
                              "scenario samples parameters per run: param.<path> columns)")
    classes = [str(c) for c in runs["outcome"].cat.categories] if hasattr(runs["outcome"], "cat") \
        else sorted(set(runs["outcome"].astype(str)))
    if outcome not in classes:
        raise SweepInputError(f"--outcome {outcome}: not an outcome class of {path} (expected one of "
                              f"{', '.join(classes)})")
    y = (runs["outcome"].astype(str) == outcome).to_numpy()
    return Cases(x.reset_index(drop=True), y, outcome, source).subset(MAX_CASES, int(manifest.get("seed") or 0))


def _prim_module():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its import notes optional parts we do not use (ipyparallel)
            from ema_workbench.analysis import prim
    except ImportError:
        raise SweepInputError("sim discover needs EMA Workbench's PRIM: pip install 'escalation-sim[discover]' "
                              "(or pip install ema_workbench)") from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def discover(cases: Cases, threshold: float = 0.5, boxes: int = 1, step: int | None = None) -> list[Box]:
    """Up to `boxes` PRIM boxes where the outcome concentrates (density at least `threshold` where
    reachable; the first box is reported even when it is not, marked `reached=False`). `step`
    picks the first box's peeling step by hand instead (read off the peeling figure)."""
    if not 0 < threshold <= 1:
        raise SweepInputError(f"--threshold must be in (0, 1], got {threshold:g}")
    if not cases.y.any():
        raise SweepInputError(f"--outcome {cases.outcome}: no run ended in this class: nothing to discover")
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation notes from inside EMA Workbench
        # EMA Workbench counts y >= threshold as cases of interest (any positive value will do for
        # 0/1) and replaces a box whose last, smallest step has a mean below it by the whole space,
        # losing the trajectory: a tiny threshold keeps every trajectory, and _choose applies ours.
        finder = prim.Prim(cases.x.reset_index(drop=True), cases.y, threshold=ANY_CASE, peel_alpha=PEEL_ALPHA,
                           mass_min=MASS_MIN)
        found: list[Box] = []
        for _ in range(boxes):
            box = finder.find_box()
            if box is None:
                break
            result = _choose(box, finder.box_init, threshold, step if not found else None)
            if found and not result.reached:
                break
            found.append(result)
            if not result.reached:
                break
    return found


def _choose(box, init: pd.DataFrame, threshold: float, step: int | None = None) -> Box:
    """Select `step`, or the trajectory's box with the highest coverage whose density reaches the
    threshold (else the densest), and read its statistics and restricted limits."""
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    good = trajectory.index[trajectory["density"] >= threshold]
    reached = len(good) > 0
    if step is not None:
        if not 0 <= step < len(trajectory):
            raise SweepInputError(f"--step {step}: the peeling has steps 0 to {len(trajectory) - 1}")
        chosen, reached = step, bool(trajectory.loc[step, "density"] >= threshold)
    elif reached:
        chosen = int(good[np.argmax(trajectory.loc[good, "coverage"].to_numpy())])
    else:
        chosen = int(trajectory["density"].to_numpy().argmax())
    box.select(chosen)
    lims = box.box_lims[chosen]
    limits = {str(c): (float(lims[c].iloc[0]), float(lims[c].iloc[1])) for c in lims.columns
              if not (math.isclose(lims[c].iloc[0], init[c].iloc[0]) and math.isclose(lims[c].iloc[1], init[c].iloc[1]))}
    row = trajectory.loc[chosen]
    return Box(float(row["coverage"]), float(row["density"]), float(row["mass"]), limits, trajectory, chosen, reached)


__all__ = ["Box", "Cases", "discover", "read_cases"]
