"""A tornado chart: how far each varied parameter moves a metric, from a sweep or sensitivity directory.

For each parameter, the points are grouped by its value (a grid) or by its quintile (a sampled
design); the bar spans the lowest and highest group mean of the metric, drawn against the mean
over all points. Parameters are ranked by the bar's length. This is a one-way summary: it
ignores interactions (the Sobol' ST of `sim sensitivity` counts them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .figure_data import Meta
from .plots import BLUE, VERMILLION, _new, caption, percent, styled

GROUPS = 5


def tornado_data(points: pd.DataFrame, summary: pd.DataFrame, metric: str,
                 parameters: Sequence[str]) -> pd.DataFrame:
    """Per parameter: low and high (the lowest and highest group mean of `metric`), at_low and
    at_high (the parameter's values there), swing = high − low; sorted by swing, largest first."""
    values = summary[summary["metric"].astype(str) == metric][["point", "p"]]
    table = points.merge(values, on="point")
    rows = []
    for parameter in parameters:
        x = table[parameter]
        groups = x if x.nunique() <= GROUPS * 2 else pd.qcut(x, GROUPS, duplicates="drop")
        means = table.groupby(groups, observed=True)["p"].mean()
        centre = table.groupby(groups, observed=True)[parameter].mean()
        if means.empty:
            continue
        rows.append({"parameter": parameter, "low": float(means.min()), "high": float(means.max()),
                     "at_low": float(centre[means.idxmin()]), "at_high": float(centre[means.idxmax()]),
                     "swing": float(means.max() - means.min())})
    frame = pd.DataFrame(rows, columns=["parameter", "low", "high", "at_low", "at_high", "swing"])
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


@styled
def tornado_figure(data: pd.DataFrame, metric: str, mean: float, *, meta: Meta | None = None) -> Figure:
    """Bars from the lowest to the highest group mean of `metric` per parameter, largest swing on
    top, split at `mean` (blue: below it, vermillion: above), each end labelled with the value
    of the parameter there."""
    figure, ax = _new(None, (8.0, 1.2 + 0.45 * max(1, len(data))))
    order = data.iloc[::-1]
    y = np.arange(len(order))
    ax.barh(y, np.minimum(order["high"], mean) - order["low"], left=order["low"], color=BLUE, height=0.6)
    ax.barh(y, order["high"] - np.maximum(order["low"], mean), left=np.maximum(order["low"], mean),
            color=VERMILLION, height=0.6)
    for yi, row in zip(y, order.itertuples()):
        ax.annotate(f"{row.at_low:.3g}", (row.low, yi), xytext=(-4, 0), textcoords="offset points", ha="right",
                    va="center", fontsize=7.5)
        ax.annotate(f"{row.at_high:.3g}", (row.high, yi), xytext=(4, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=7.5)
    ax.axvline(mean, color="black", linewidth=1)
    ax.set_yticks(y, list(order["parameter"]))
    span = (order["high"].max() - order["low"].min()) if len(order) else 1.0
    ax.set_xlim(order["low"].min() - 0.15 * span, order["high"].max() + 0.15 * span)
    ax.xaxis.set_major_formatter(lambda v, _: percent(v))
    ax.set_xlabel(f"{metric}: mean over the points, by the parameter's value")
    figure.text(0.99, 0.01, "bar ends: the lowest and highest mean over groups of points by the parameter's value "
                            "(labels: the value there); one-way, interactions not shown", ha="right", va="bottom",
                fontsize=7, color="#666666")
    ax.set_title(f"What moves {metric} (mean over all points {percent(mean)})", loc="left")
    ax.grid(axis="y", visible=False)
    return caption(figure, meta)
