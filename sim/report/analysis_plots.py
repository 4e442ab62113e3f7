"""Figures for the analyses of an ensemble: sensitivity indices and PRIM's peeling trajectory.

Like sim.report.plots, each function takes data and returns a Figure (never pyplot's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figure_data import Meta
from .plots import BLACK, BLUE, GREY, ORANGE, VERMILLION, _grid, _whiskers, caption, styled

SOBOL_BARS = (("S1", "first-order S1", BLUE), ("ST", "total ST", ORANGE))
STEP_LABELS = 5  # every fifth peeling step is numbered
MORRIS_BARS = (("mu_star", "mu* (mean |elementary effect|)", BLUE),)


def path_lines(path: str, width: int = 30) -> str:
    """A dotted path broken into lines at its dots, each at most about `width` characters."""
    lines: list[str] = []
    for part in path.split("."):
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += "." + part
        else:
            lines.append(part if not lines else "." + part)
    return "\n".join(lines)


@styled
def sensitivity_figure(indices: pd.DataFrame, method: str, *, metrics: Sequence[str] | None = None,
                       noise: Mapping[str, float] | None = None, meta: Meta | str | None = None) -> Figure:
    """One panel per metric: each parameter's indices as horizontal bars with 95% whiskers
    (Sobol' S1 and ST, or Morris mu*), the most influential parameter on top."""
    bars = SOBOL_BARS if method == "sobol" else MORRIS_BARS
    metrics = list(metrics if metrics is not None else dict.fromkeys(indices["metric"]))
    parameters = list(dict.fromkeys(indices["parameter"]))
    figure, axes = _grid(len(metrics), 2, (6.2, 0.5 * len(parameters) * len(bars) + 1.3))
    height = 0.8 / len(bars)
    for ax, metric in zip(axes, metrics):
        rows = indices[indices["metric"] == metric]
        key = rows[rows["index"] == bars[-1][0]].set_index("parameter")["value"]
        order = key.sort_values(kind="stable").index.tolist()  # largest drawn last: on top
        y = np.arange(len(order))
        for k, (index, label, colour) in enumerate(bars):
            part = rows[rows["index"] == index].set_index("parameter").loc[order]
            v, lo, hi = (part[c].to_numpy(dtype=float) for c in ("value", "low", "high"))
            at = y - (k - (len(bars) - 1) / 2) * height  # the first index is the upper bar
            ax.barh(at, v, height=height * 0.9, color=colour, label=label)
            ax.errorbar(v, at, xerr=_whiskers(v, lo, hi), fmt="none", ecolor=BLACK, elinewidth=0.8, capsize=2)
        ax.axvline(0, color=GREY, linewidth=0.6)
        ax.set_yticks(y, [path_lines(p) for p in order], fontsize=7.5)
        share = (noise or {}).get(metric)
        extra = f"\nnoise share {share:.2f}" if share is not None and np.isfinite(share) else ""
        ax.set_title(f"{metric}{extra}", loc="left", fontsize=9.5)
        ax.grid(axis="y", visible=False)
    axes[0].legend(loc="lower right", fontsize=7.5)
    what = "Sobol' indices" if method == "sobol" else "Morris screening"
    figure.suptitle(f"Sensitivity: {what} per outcome and red line; whiskers 95% bootstrap intervals",
                    x=0.01, ha="left", fontsize=10.5)
    caption(figure, meta)
    return figure


@styled
def peeling_figure(trajectory: pd.DataFrame, chosen: int | None, *, outcome: str, threshold: float,
                   meta: Meta | str | None = None) -> Figure:
    """PRIM's peeling trade-off: coverage against density of each successively smaller box,
    coloured by how many parameters it restricts, the chosen box circled."""
    figure = Figure(figsize=(7.2, 4.8), layout="constrained")
    ax = figure.add_subplot()
    dims = trajectory["res_dim"].to_numpy(dtype=int)
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap="cividis", s=22, zorder=3)
    ax.plot(trajectory["coverage"], trajectory["density"], color=GREY, linewidth=0.6, zorder=2)
    for step in range(0, len(trajectory), STEP_LABELS):  # so a step can be asked for by number (--step)
        ax.annotate(str(step), (trajectory["coverage"].iloc[step], trajectory["density"].iloc[step]),
                    xytext=(3, 4), textcoords="offset points", fontsize=7, color=GREY)
    if chosen is not None:
        row = trajectory.iloc[chosen]
        ax.scatter([row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors=VERMILLION,
                   linewidths=2, zorder=4, label=f"chosen: step {chosen}")
        ax.legend(loc="lower left", fontsize=8)
    ax.axhline(threshold, color=VERMILLION, linestyle=":", linewidth=1)
    ax.text(0.02, threshold, f" threshold {threshold:g}", color=VERMILLION, fontsize=8, va="bottom",
            transform=ax.get_yaxis_transform())
    bar = figure.colorbar(points, ax=ax)
    bar.set_label("parameters restricted")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    ax.set_xlim(0, 1.02)
    top = max(threshold, float(trajectory["density"].max()))
    ax.set_ylim(0, min(1.02, top * 1.15))  # a rare outcome's densities would hug the axis on [0, 1]
    ax.set_xlabel(f"coverage: share of all '{outcome}' runs inside the box")
    ax.set_ylabel(f"density: share of the box's runs that are '{outcome}'")
    ax.set_title(f"Scenario discovery (PRIM): where '{outcome}' concentrates", loc="left")
    caption(figure, meta)
    return figure


__all__ = ["peeling_figure", "sensitivity_figure"]
