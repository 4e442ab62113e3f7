"""Backtest figures: a reliability diagram and each event's forecasts against what happened.

Both take the table `sim backtest` writes (backtest.parquet: one row per event, `observed`,
and `p.<forecaster>` per forecaster) and return a Figure, in the style of `plots`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..experiments.summary import wilson
from .figure_data import Meta
from .plots import BLACK, BLUE, GREY, ORANGE, PURPLE, VERMILLION, _new, _percent_axis, caption, styled

BINS = 5  # equal-width forecast bins: with a few dozen events, more would hold one event each
COLOURS = {"model": BLUE, "base_rate": ORANGE, "persistence": PURPLE, "always_0.5": GREY}
LABELS = {"model": "model", "base_rate": "base rate (leave-one-out)", "persistence": "persistence",
          "always_0.5": "always 0.5"}


def reliability_data(table: pd.DataFrame, forecaster: str, bins: int = BINS) -> pd.DataFrame:
    """Per forecast bin with events in it: mean forecast, share that happened with a 95% Wilson
    interval, and the number of events."""
    p = table[f"p.{forecaster}"].to_numpy(dtype=float)
    observed = table["observed"].to_numpy(dtype=bool)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        if n == 0:
            continue
        happened = int(observed[inside].sum())
        low, high = wilson(happened, n)
        rows.append({"bin": b, "forecast": float(p[inside].mean()), "observed": happened / n, "low": low,
                     "high": high, "events": n})
    return pd.DataFrame(rows, columns=["bin", "forecast", "observed", "low", "high", "events"])


@styled
def reliability_diagram(table: pd.DataFrame, forecasters: Sequence[str] = ("model", "base_rate"), *,
                        ax: Axes | None = None, meta: Meta | None = None) -> Figure:
    """Share of events that happened against the forecast, binned, for each forecaster; a
    calibrated forecaster lies on the diagonal. Marker area: events in the bin; whiskers: 95%
    Wilson interval. Ticks at the bottom and top: each event's model forecast."""
    figure, ax = _new(ax, (6.2, 5.6))
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfectly calibrated")
    for offset, name in zip(np.linspace(-0.008, 0.008, len(forecasters)), forecasters):
        data = reliability_data(table, name)
        colour = COLOURS.get(name, BLACK)
        x = data["forecast"].to_numpy() + offset
        y = data["observed"].to_numpy()
        ax.errorbar(x, y, yerr=[np.maximum(y - data["low"], 0), np.maximum(data["high"] - y, 0)], fmt="none",
                    ecolor=colour, elinewidth=1, alpha=0.7)
        ax.plot(x, y, color=colour, linewidth=1.2, alpha=0.8)
        ax.scatter(x, y, s=25 + 18 * data["events"], color=colour, edgecolor="white", zorder=3,
                   label=LABELS.get(name, name))
        for xi, yi, n in zip(x, y, data["events"]):
            ax.annotate(str(n), (xi, yi), xytext=(6, -3), textcoords="offset points", fontsize=7, color=colour)
    p = table["p.model"].to_numpy(dtype=float)
    happened = table["observed"].to_numpy(dtype=bool)
    ax.plot(p[happened], np.full(happened.sum(), 1.03), "|", color=VERMILLION, markersize=9, label="model, per event")
    ax.plot(p[~happened], np.full((~happened).sum(), -0.03), "|", color=VERMILLION, markersize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.07, 1.07)
    _percent_axis(ax.xaxis)
    _percent_axis(ax.yaxis)
    ax.set_xlabel("forecast probability (events binned in fifths; number: events in the bin)")
    ax.set_ylabel("share of the bin's events that happened")
    ax.set_title(f"Reliability: forecasts of {len(table)} events against the record", loc="left")
    ax.legend(loc="lower right", markerscale=0.6)
    caption(figure, meta)
    return figure


@styled
def event_forecasts(table: pd.DataFrame, forecasters: Sequence[str] = ("model", "base_rate", "persistence"), *,
                    ax: Axes | None = None, meta: Meta | None = None) -> Figure:
    """Each event's forecast by each forecaster, and whether it happened (a black ring at 0 or 1)."""
    figure, ax = _new(ax, (8.0, 0.27 * len(table) + 1.6))
    y = np.arange(len(table))[::-1]
    observed = table["observed"].to_numpy(dtype=float)
    ax.scatter(observed, y, s=110, facecolor="none", edgecolor=BLACK, linewidth=1.2, label="what happened", zorder=2)
    markers = {"model": "o", "base_rate": "D", "persistence": "s"}
    for name in forecasters:
        ax.scatter(table[f"p.{name}"], y, s=28 if name == "model" else 16, marker=markers.get(name, "^"),
                   color=COLOURS.get(name, BLACK), label=LABELS.get(name, name), zorder=3,
                   alpha=1.0 if name == "model" else 0.75)
    ax.set_yticks(y, table["event"])
    ax.set_xlim(-0.04, 1.04)
    _percent_axis(ax.xaxis)
    ax.set_xlabel("forecast probability")
    ax.grid(axis="y", alpha=0.15)
    ax.set_title("Each event: forecasts against what happened", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 2.2 / (0.27 * len(table) + 1.6) * 0.1), ncol=4)
    caption(figure, meta)
    return figure
