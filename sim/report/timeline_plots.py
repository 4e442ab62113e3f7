"""P(an outcome class or worse by each date): one cumulative curve per class, with 95% bands."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..experiments.summary import wilson
from .figure_data import Meta
from .plots import _new, _percent_axis, caption, date_axis, severity_colours, styled


@styled
def at_least_by_date(table: pd.DataFrame, *, meta: Meta | None = None, labels: Mapping[str, str] | None = None,
                     classes: list[str] | None = None) -> Figure:
    """`table` (class, round, count, n: experiments.questions.at_least_by_round) as curves of the
    share of runs that had reached each class or worse by the end of each round, dated by the
    manifest's round dates, each with its Wilson 95% band. `classes` (all the scenario's, in
    order) keeps each class's colour the same as in the other figures."""
    figure, ax = _new(None, (8.0, 4.8))
    shown = list(dict.fromkeys(table["class"]))
    order = classes or shown
    colours = dict(zip(order, severity_colours(len(order))))
    ends: list[tuple[float, float, str]] = []
    for cid in shown:
        rows = table[table["class"] == cid].sort_values("round")
        rounds = rows["round"].to_numpy()
        p = rows["count"].to_numpy() / rows["n"].to_numpy()
        bands = np.array([wilson(int(c), int(n)) for c, n in zip(rows["count"], rows["n"])])
        ax.fill_between(rounds, bands[:, 0], bands[:, 1], color=colours[cid], alpha=0.18, linewidth=0)
        ax.plot(rounds, p, color=colours[cid], linewidth=2, marker="o", markersize=2.5,
                label=f"{(labels or {}).get(cid, cid)} or worse")
        ends.append((float(p[-1]), float(rounds[-1]), colours[cid]))
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(0, 1.05)
    _end_labels(ax, ends)
    _percent_axis(ax.yaxis)
    date_axis(ax, meta.round_dates if meta else None)
    ax.set_ylabel("share of runs (cumulative; log scale above 1%)")
    ax.set_title("P(outcome class or worse by each date)", loc="left")
    ax.legend(loc="upper left", fontsize=8)
    figure.text(0.99, 0.01, "bands: 95% Wilson interval; by the end of each round (the last: the run's outcome)",
                ha="right", va="bottom", fontsize=7.5, color="#666666")
    return caption(figure, meta)


def _end_labels(ax, ends: list[tuple[float, float, str]], gap: float = 9.0) -> None:
    """Each curve's last share beside its end, nudged up where two would overlap (curves that end
    within a few points of each other, or classes no run reached): at least `gap` points apart."""
    points = 72.0 / ax.figure.dpi
    below = -np.inf
    for share, x, colour in sorted(ends):
        at = ax.transData.transform((x, share))[1] * points
        placed = max(at, below + gap)
        ax.annotate(f"{100 * share:.1f}%", (x, share), xytext=(4, placed - at), textcoords="offset points",
                    fontsize=8, color=colour, va="center", annotation_clip=False)
        below = placed
