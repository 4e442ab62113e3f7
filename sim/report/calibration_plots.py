"""Figures of a calibration directory: each varied parameter's prior against its posterior.

The prior is uniform over the box `sim calibrate --vary` gave (a dashed line); the posterior is
the weighted histogram of the sequential sampler's particles. Both are densities over the same
bins, so their areas compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import figure_data as fd
from .plots import BLUE, GREY, VERMILLION, _grid, caption, styled

BINS = 12


@styled
def prior_posterior_figure(posterior: pd.DataFrame, ranges: Mapping[str, Sequence[float]], *, ess: float | None = None,
                           meta: fd.Meta | str | None = None) -> Figure:
    """One panel per parameter: the uniform prior and the weighted posterior."""
    figure, axes = _grid(len(ranges), 2, (4.6, 3.0))
    weights = posterior["weight"].to_numpy()
    for ax, (path, (low, high)) in zip(axes, ranges.items()):
        x = posterior[f"param.{path}"].to_numpy()
        bins = np.linspace(low, high, BINS + 1)
        ax.hist(x, bins=bins, weights=weights, density=True, histtype="stepfilled", color=BLUE, alpha=0.55,
                label="posterior (weighted particles)")
        ax.axhline(1.0 / (high - low), color=GREY, linestyle="--", linewidth=1, label="uniform prior")
        mean = float(weights @ x)
        ax.axvline(mean, color=VERMILLION, linewidth=1.2, label=f"posterior mean {mean:.3g}")
        ax.set_title(path, fontsize=9)
        ax.set_xlabel("value")
        ax.set_ylabel("density")
        ax.legend(loc="upper right", fontsize=7)
    ess_text = f"\nKish effective sample size {ess:.1f} of {len(posterior)} particles" if ess is not None else ""
    figure.suptitle("Prior against posterior" + ess_text)
    return caption(figure, meta)


def calibration_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for a calibration directory: prior against posterior."""
    path = Path(path)
    manifest = fd.read_manifest(path)
    posterior = pd.read_parquet(path / "posterior.parquet")
    meta = (f"{fd.meta_from_manifest(manifest).caption()} per wave · {manifest.get('waves')} waves · "
            f"{manifest.get('points')} particles")
    yield "prior-posterior", prior_posterior_figure(posterior, manifest["vary"], ess=manifest.get("ess"), meta=meta)
