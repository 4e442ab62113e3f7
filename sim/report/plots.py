"""Figures: functions of data (the DataFrames of `sim.figure_data`) that return a matplotlib Figure.

Every function takes its data and an optional `ax=`; without one it makes its own Figure
(never through pyplot, so nothing global changes and nothing is shown). One style throughout:
the Okabe-Ito colour-blind-safe palette, outcome classes coloured from calm to severe, a
title, labelled axes, and, given `meta=` (a `figure_data.Meta`), a caption under the figure
with the scenario, seed and run count.
Multi-panel figures (`*_figure`) draw one panel per actor, red line or outcome with the
single-panel functions.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .figure_data import QUANTILE_COLUMNS, RESPONSE_COLUMNS, Meta, heatmap_data, is_grid

# Okabe and Ito (2008), "Color universal design": distinguishable with any colour vision.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
BLUE, SKY, GREEN, ORANGE, VERMILLION, PURPLE, BLACK = "#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#000000"
SEVERITY = (BLUE, SKY, GREEN, ORANGE, VERMILLION, PURPLE, BLACK)
CMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiency
GREY = "#555555"
CAPTION_INCHES = 0.28
RARE = 30  # transition rows seen fewer times than this are faded

STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    "image.cmap": CMAP,
    "savefig.dpi": 150,
    "svg.fonttype": "none",
    "text.parse_math": False,  # labels come from scenario files: a '$' in one is a dollar, not mathtext
}

F = TypeVar("F", bound=Callable[..., Figure])


def styled(function: F) -> F:
    """Draw under the package style without touching the caller's rcParams."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with mpl.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def severity_colours(n: int) -> list[str]:
    """n colours from calm to severe for ordered outcome classes (the last is always black)."""
    if n <= 1:
        return [BLUE][:n]
    if n <= len(SEVERITY):
        return [*SEVERITY[: n - 1], BLACK]
    return [SEVERITY[i % (len(SEVERITY) - 1)] for i in range(n - 1)] + [BLACK]


def percent(p: float) -> str:
    """A probability as a percentage with as many decimals as a small value needs."""
    if p is None or not np.isfinite(p):
        return "–"
    value = 100 * p
    if value == 0:
        return "0%"
    if abs(value) >= 10:
        return f"{value:.1f}%"
    if abs(value) >= 1:
        return f"{value:.2f}%"
    return f"{value:.2g}%" if abs(value) >= 0.01 else f"{value:.1g}%"


def _new(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """The caller's axes and its figure, or a new constrained-layout Figure (not a pyplot one) and axes."""
    if ax is not None:
        return ax.get_figure(), ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _grid(n: int, ncols: int, panel: tuple[float, float], **kwargs: Any) -> tuple[Figure, list[Axes]]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    figure = Figure(figsize=(panel[0] * ncols, panel[1] * nrows + 0.9), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False, **kwargs).ravel().tolist()
    for extra in axes[n:]:
        extra.set_visible(False)
    return figure, axes[:n]


def caption(figure: Figure, meta: Meta | str | None) -> Figure:
    """Write the run's identity (scenario, seed, runs) in small grey type under the figure."""
    if meta is None:
        return figure
    text = meta if isinstance(meta, str) else meta.caption()
    figure.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=7.5, color=GREY)
    engine = figure.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        bottom = CAPTION_INCHES / figure.get_figheight()
        engine.set(rect=(0, bottom, 1, 1 - bottom))
    return figure


def _subtitle(ax: Axes, text: str, width: int = 90, lines: int = 1) -> None:
    """A smaller grey line of explanation between an axes and its (left) title, padded to `lines` lines."""
    text = _wrap(text, width)
    ax.annotate(text, (0, 1), xycoords="axes fraction", xytext=(0, 5), textcoords="offset points",
                fontsize=8, color=GREY, va="bottom", ha="left")
    ax.set_title(ax.get_title(loc="left"), loc="left", pad=9 + 10.5 * max(lines, text.count("\n") + 1))


def _whiskers(p: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error-bar lengths below and above p: never negative (rounding), zero where undefined."""
    below, above = np.nan_to_num(p - low), np.nan_to_num(high - p)
    return np.clip(np.vstack([below, above]), 0, None)


def _percent_axis(axis: Any) -> None:
    """Label a 0-1 axis in percent, with as few decimals as write every tick exactly."""

    def label(value: float, _: int) -> str:
        return f"{100 * value:.{percent_places(axis.get_majorticklocs())}f}%"

    axis.set_major_formatter(FuncFormatter(label))


def date_axis(ax: Axes, dates: Sequence[str] | None) -> None:
    """Label a round axis with each round's first day (a manifest's round_dates): monthly rounds
    as "Jul 2024", shorter ones as "23 Jul 2024"; without dates, plain round numbers."""
    if not dates:
        ax.set_xlabel("round")
        return
    days = [dt.date.fromisoformat(d) for d in dates]
    form = "%b %Y" if len(days) < 2 or (days[1] - days[0]).days >= 28 else "%d %b %Y"

    def label(value: float, _: Any) -> str:
        i = int(round(value)) - 1
        return days[i].strftime(form) if abs(value - round(value)) < 1e-6 and 0 <= i < len(days) else ""

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel("date (first day of the round)")


def percent_places(ticks: Sequence[float], most: int = 6) -> int:
    """The fewest decimals that write every tick (a share, 0-1) exactly as a percentage.

    Judging by the spacing alone gave 0 decimals for ticks 1.5% apart, so 1.5% read "2%" and
    4.5% read "4%" (rounded half to even); every tick must be written exactly, not just the step.
    """
    values = 100 * np.asarray(ticks, dtype=float)
    values = values[np.isfinite(values)]
    for places in range(most + 1):
        error = np.abs(values - np.round(values, places))
        if np.all(error <= 1e-9 * np.maximum(1.0, np.abs(values))):
            return places
    return most


def _wrap(label: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


# --- outcomes ---------------------------------------------------------------------------------


@styled
def outcome_bars(table: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None,
                 title: str = "Probability of each outcome", colours: Sequence[str] | None = None) -> Figure:
    """Horizontal bars of each outcome's probability (table from `outcome_table`, or any table of
    label, p, low, high: a scenario's measures) with 95% Wilson intervals."""
    figure, ax = _new(ax, (7.5, 0.45 * len(table) + 1.6))
    y = np.arange(len(table))[::-1]
    p, low, high = (table[c].to_numpy(dtype=float) for c in ("p", "low", "high"))
    colours = list(colours) if colours is not None else severity_colours(len(table))
    ax.barh(y, p, color=colours, height=0.62, edgecolor="white")
    ax.errorbar(p, y, xerr=_whiskers(p, low, high), fmt="none", ecolor=BLACK, elinewidth=1, capsize=3)
    top = float(np.nanmax(high)) if len(table) and np.isfinite(high).any() else 1.0
    limit = min(1.0, top * 1.6) if top > 0 else 1.0
    for yi, pi, lo, hi in zip(y, p, low, high):
        text = f"{percent(pi)}  ({percent(lo)} to {percent(hi)})"
        if hi > 0.6 * limit:  # no room on the right: write it inside the bar's end
            ax.text(lo - limit * 0.015, yi, text, va="center", ha="right", fontsize=8, color="white")
        else:
            ax.text(hi + limit * 0.015, yi, text, va="center", fontsize=8, color=GREY)
    ax.set_yticks(y, [_wrap(str(v)) for v in table["label"]])
    ax.set_xlim(0, limit)
    _percent_axis(ax.xaxis)
    ax.set_xlabel("probability (share of runs); whiskers: 95% Wilson interval")
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")
    caption(figure, meta)
    return figure


# --- fan charts -------------------------------------------------------------------------------


def _rung_axis(ax: Axes, ladder: Mapping[int, str] | None, labels: bool = True) -> None:
    if ladder:
        rungs = sorted(ladder)
        ax.set_yticks(rungs, [f"{ladder[r]} {r}" for r in rungs])
        ax.set_ylim(rungs[0] - 0.6, rungs[-1] + 0.6)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not labels:  # a shared axis: hide this panel's labels without clearing the shared ticks
        ax.tick_params(labelleft=False)
    ax.grid(axis="y", alpha=0.15)


@styled
def fan_chart(fan: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None, title: str = "Escalation",
              ladder: Mapping[int, str] | None = None, ylabel: str = "rung", colour: str = BLUE,
              legend: bool = True, rung_labels: bool = True, dates: Sequence[str] | None = None) -> Figure:
    """One fan chart: the median rung by round and the bands holding the middle 50% and 90% of runs.

    `fan` has columns round, q05, q25, q50, q75, q95 (one series of `fan_data`). Rungs are
    discrete, so each band covers whole rungs (a cell from half a rung below its lower
    quantile to half a rung above its upper one) and the median is a step line.
    """
    figure, ax = _new(ax, (7.5, 5.0))
    rounds = fan["round"].to_numpy()
    # each round is a cell from round - 0.5 to round + 0.5: repeat the last value to close the last cell
    edges = np.r_[rounds - 0.5, rounds[-1] + 0.5] if len(rounds) else rounds
    q05, q25, q50, q75, q95 = (np.r_[v, v[-1:]] for v in (fan[c].to_numpy(dtype=float) for c in QUANTILE_COLUMNS))
    ax.fill_between(edges, q05 - 0.5, q95 + 0.5, step="post", color=colour, alpha=0.18, linewidth=0,
                    label="90% of runs (5th to 95th percentile)")
    ax.fill_between(edges, q25 - 0.5, q75 + 0.5, step="post", color=colour, alpha=0.38, linewidth=0,
                    label="50% of runs (25th to 75th)")
    ax.step(edges, q50, where="post", color=colour, linewidth=2, label="median")
    ax.set_xlim(rounds.min() - 0.5, rounds.max() + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # a one-round run too
    _rung_axis(ax, ladder, rung_labels)
    date_axis(ax, dates if dates is not None else (meta.round_dates if isinstance(meta, Meta) else None))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    if legend:
        ax.legend(loc="lower right")
    caption(figure, meta)
    return figure


@styled
def fan_figure(fan: pd.DataFrame, *, meta: Meta | None = None, ladder: Mapping[int, str] | None = None,
               labels: Mapping[str, str] | None = None, title: str = "Highest rung reached so far",
               ylabel: str = "rung") -> Figure:
    """Small multiples of `fan_chart`, one per series of `fan_data` (all actors first, then each actor)."""
    series = list(dict.fromkeys(fan["series"]))
    figure, axes = _grid(len(series), 3, (4.6, 3.6), sharex=True, sharey=True)
    colours = [BLACK, *[c for c in OKABE_ITO if c not in (BLACK, "#F0E442")]]
    ncols = figure.axes[0].get_gridspec().ncols
    for i, (name, ax) in enumerate(zip(series, axes)):
        fan_chart(fan[fan["series"] == name], ax=ax, ladder=ladder, colour=colours[i % len(colours)],
                  title=(labels or {}).get(name, name), legend=False, rung_labels=i % ncols == 0,
                  ylabel=ylabel if i % ncols == 0 else "", dates=meta.round_dates if meta else None)
        if i < len(series) - ncols:
            ax.set_xlabel("")
    handles = [mpl.patches.Patch(color=GREY, alpha=0.18, label="90% of runs"),
               mpl.patches.Patch(color=GREY, alpha=0.45, label="50% of runs"),
               mpl.lines.Line2D([], [], color=GREY, linewidth=2, label="median")]
    figure.legend(handles=handles, loc="outside upper right", ncols=3)
    figure.suptitle(title, x=0.01, ha="left")
    return caption(figure, meta)


# --- red lines ------------------------------------------------------------------------------


@styled
def red_line_panel(curve: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None,
                   title: str = "Red line", legend: bool = True, dates: Sequence[str] | None = None) -> Figure:
    """Cumulative share of runs that crossed one red line (with its 95% band) and had it enforced, by round."""
    figure, ax = _new(ax, (6.5, 4.0))
    rounds = curve["round"].to_numpy()
    # each round is a cell from round - 0.5 to round + 0.5 holding the share by the end of that round
    edges = np.r_[rounds - 0.5, rounds[-1] + 0.5] if len(rounds) else rounds

    def cells(column: str) -> np.ndarray:
        values = curve[column].to_numpy(dtype=float)
        return np.r_[values, values[-1:]]

    crossed, enforced = cells("crossed"), cells("enforced")
    ax.fill_between(edges, cells("crossed_low"), cells("crossed_high"), step="post", color=BLUE, alpha=0.2,
                    linewidth=0)
    ax.step(edges, crossed, where="post", color=BLUE, linewidth=2, label="crossed")
    ax.step(edges, enforced, where="post", color=VERMILLION, linewidth=2, linestyle="--",
            label="enforced (at the first crossing)")
    if len(rounds):
        gap = abs(crossed[-1] - enforced[-1]) < 0.06  # keep the two end labels apart
        for value, colour, offset in ((crossed[-1], BLUE, 6 if gap else 0), (enforced[-1], VERMILLION, -6 if gap else 0)):
            ax.annotate(percent(value), (edges[-1], value), xytext=(4, offset), textcoords="offset points",
                        color=colour, fontsize=8, va="center", annotation_clip=False)
        ax.set_xlim(edges[0], edges[-1] + max(1, 0.12 * (edges[-1] - edges[0])))
        ticks = MaxNLocator(integer=True).tick_values(rounds.min(), rounds.max())
        ax.set_xticks(ticks[(ticks >= rounds.min()) & (ticks <= rounds.max())])  # none in the labels' margin
    ax.set_ylim(0, 1.02)
    _percent_axis(ax.yaxis)
    date_axis(ax, dates if dates is not None else (meta.round_dates if isinstance(meta, Meta) else None))
    ax.set_ylabel("share of runs (cumulative)")
    ax.set_title(title, loc="left")
    if legend:
        ax.legend(loc="center right")
    caption(figure, meta)
    return figure


@styled
def red_line_figure(curves: pd.DataFrame, *, meta: Meta | None = None,
                    descriptions: Mapping[str, str] | None = None) -> Figure:
    """One `red_line_panel` per red line, side by side."""
    lines = list(dict.fromkeys(curves["red_line"]))
    if not lines:
        figure = Figure(figsize=(6, 2), layout="constrained")
        figure.text(0.5, 0.5, "This scenario has no red lines.", ha="center", va="center")
        return caption(figure, meta)
    # one panel is drawn wider, so the title and the legend above it have room side by side
    figure, axes = _grid(len(lines), 2, (5.6, 3.9) if len(lines) > 1 else (10.0, 4.2), sharey=True)
    lines_needed = max((_wrap(d, 90).count("\n") + 1 for d in (descriptions or {}).values()), default=1)
    for i, (lid, ax) in enumerate(zip(lines, axes)):
        red_line_panel(curves[curves["red_line"] == lid], ax=ax, title=lid, legend=False,
                       dates=meta.round_dates if meta else None)
        if descriptions and lid in descriptions:
            _subtitle(ax, descriptions[lid], lines=lines_needed)
        if i % 2:
            ax.set_ylabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(mpl.patches.Patch(color=BLUE, alpha=0.2))
    labels.append("95% interval (crossed)")
    figure.legend(handles, labels, loc="outside upper right", ncols=3)
    figure.suptitle("Red lines: crossing and enforcement by date", x=0.01, ha="left")
    return caption(figure, meta)


# --- distributions ------------------------------------------------------------------------------


@styled
def peak_rung_bars(dist: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None,
                   classes: Mapping[str, str] | None = None, title: str = "Highest new rung (above the status quo)") -> Figure:
    """Share of runs by peak rung (from `peak_rung_distribution`), coloured by the outcome class it implies.

    `classes` maps outcome ids to labels, in ladder order; it fixes colours and the legend.
    """
    figure, ax = _new(ax, (7.5, 4.5))
    order = list(classes) if classes else list(dict.fromkeys(dist["outcome"]))
    colour = dict(zip(order, severity_colours(len(order))))
    x = np.arange(len(dist))
    share = dist["share"].to_numpy(dtype=float)
    ax.bar(x, share, color=[colour.get(o, GREY) for o in dist["outcome"]], width=0.75)
    top = float(np.nanmax(share)) if len(share) and np.isfinite(share).any() else 1.0
    limit = min(1.0, top * 1.25) if top > 0 else 1.0
    for xi, s in zip(x, share):
        if s > 0.75 * limit:  # a tall bar: write its share inside, at the top
            ax.text(xi, s - limit * 0.02, percent(s), ha="center", va="top", fontsize=7, rotation=90, color="white")
        elif s > 0:
            ax.text(xi, s + limit * 0.02, percent(s), ha="center", va="bottom", fontsize=7, rotation=90, color=GREY)
    ax.set_ylim(0, limit)
    ax.set_xticks(x, [f"{a} {r}" for a, r in zip(dist["action"], dist["rung"])], rotation=50, ha="right",
                  rotation_mode="anchor")
    _percent_axis(ax.yaxis)
    ax.set_ylabel("share of runs")
    ax.set_xlabel("highest rung any actor reached that was new against its party since the start")
    ax.grid(axis="x", visible=False)
    present = [o for o in order if o in set(dist["outcome"])]
    handles = [mpl.patches.Patch(color=colour[o], label=(classes or {}).get(o, o)) for o in present]
    ax.legend(handles=handles, title="outcome class", loc="upper left")
    ax.set_title(title, loc="left")
    caption(figure, meta)
    return figure


@styled
def score_histogram_plot(hist: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None,
                         title: str = "Escalation score", marks: Mapping[str, float] | None = None) -> Figure:
    """Histogram of the escalation score (from `score_histogram`) as shares of runs.

    `marks` ({"median": 7.1, ...}) draws labelled vertical lines, e.g. from `score_summary`.
    """
    figure, ax = _new(ax, (6.5, 4.5))
    left, right = hist["left"].to_numpy(dtype=float), hist["right"].to_numpy(dtype=float)
    ax.bar(left, hist["share"], width=right - left, align="edge", color=SKY, edgecolor=BLUE, linewidth=0.5)
    styles = ["-", "--", ":", "-."]
    for i, (name, value) in enumerate((marks or {}).items()):
        ax.axvline(value, color=BLACK, linestyle=styles[i % len(styles)], linewidth=1, label=f"{name} {value:.2f}")
    if marks:
        ax.legend(loc="upper right")
    _percent_axis(ax.yaxis)
    ax.set_ylabel("share of runs")
    ax.set_xlabel("escalation score (escalation points per round, all actors)")
    ax.grid(axis="x", visible=False)
    ax.set_title(title, loc="left")
    caption(figure, meta)
    return figure


@styled
def distributions_figure(peak: pd.DataFrame, hist: pd.DataFrame, *, meta: Meta | None = None,
                         classes: Mapping[str, str] | None = None, marks: Mapping[str, float] | None = None) -> Figure:
    """Peak rung and escalation score distributions side by side."""
    figure = Figure(figsize=(13, 5.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1.35, 1])
    peak_rung_bars(peak, ax=left, classes=classes)
    score_histogram_plot(hist, ax=right, marks=marks)
    figure.suptitle("How far runs escalate", x=0.01, ha="left")
    return caption(figure, meta)


# --- transitions ---------------------------------------------------------------------------------


@styled
def transition_heatmap(matrix: pd.DataFrame, *, ax: Axes | None = None, meta: Meta | None = None,
                       title: str = "Action transitions", colorbar: bool = True,
                       counts: pd.Series | None = None, rare: int = RARE) -> Figure:
    """Heatmap of a row-normalised transition matrix (from `transition_matrix`): P(next action | action).

    Cells of 1% or more are written as whole percentages. `counts` (how often each action
    was followed by another) labels the rows, and rows seen fewer than `rare` times are
    faded, so a 100% drawn from two cases does not read like one drawn from a million.
    """
    figure, ax = _new(ax, (6.0, 5.2))
    values = matrix.to_numpy(dtype=float)
    seen = np.array([counts.get(a, 0) for a in matrix.index]) if counts is not None else None
    alpha = np.ones_like(values)
    if seen is not None:
        alpha[seen < rare] = 0.3
    image = ax.imshow(np.ma.masked_invalid(values), cmap=CMAP, vmin=0, vmax=1, aspect="auto",
                      alpha=np.where(np.isfinite(values), alpha, 1.0))
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v) and v >= 0.01:
            faint = alpha[i, j] < 1
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=6.5,
                    color=GREY if faint else "black" if v > 0.55 else "white")
    rows = [str(a) for a in matrix.index]
    if counts is not None:
        rows = [f"{a} ({_count(counts.get(a, 0))})" for a in matrix.index]
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=50, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(range(matrix.shape[0]), rows)
    ax.grid(False)
    ax.set_xlabel("next round's action")
    ax.set_ylabel("action (times seen)" if counts is not None else "action")
    ax.set_title(title, loc="left")
    if colorbar:
        bar = figure.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("P(next action | action)")
        _percent_axis(bar.ax.yaxis)
    caption(figure, meta)
    return figure


def _count(n: float) -> str:
    n = int(n)
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e4 else f"{n:,}"


@styled
def transitions_figure(matrices: Mapping[str, pd.DataFrame], *, meta: Meta | None = None,
                       labels: Mapping[str, str] | None = None,
                       counts: Mapping[str, pd.Series] | None = None) -> Figure:
    """One `transition_heatmap` per actor, sharing one colour scale."""
    actors = list(matrices)
    figure, axes = _grid(len(actors), 3, (5.2, 4.9))
    for actor, ax in zip(actors, axes):
        transition_heatmap(matrices[actor], ax=ax, title=(labels or {}).get(actor, actor), colorbar=False,
                           counts=(counts or {}).get(actor))
    image = axes[0].images[0] if axes and axes[0].images else None
    if image is not None:
        bar = figure.colorbar(image, ax=axes, shrink=0.6, aspect=30)
        bar.set_label("P(next round's action | this round's action), cells in %")
        _percent_axis(bar.ax.yaxis)
    figure.suptitle("Which action follows which, per actor", x=0.01, ha="left")
    if counts is not None:
        figure.text(0.99, 0.01, f"faded rows: actions seen fewer than {RARE} times", ha="right", va="bottom",
                    fontsize=7.5, color=GREY)
    return caption(figure, meta)


# --- sweeps --------------------------------------------------------------------------------------


def _metric_label(metric: str, labels: Mapping[str, str] | None) -> str:
    if labels and metric in labels:
        return labels[metric]
    kind, _, name = metric.partition(".")
    return {"crossed": f"crossed: {name}", "enforced": f"enforced | crossed: {name}"}.get(kind, name or metric)


def level_colours(n: int) -> list[str]:
    """n ordered colours (dark to light) from the colour-blind-safe cividis map, for a parameter's levels."""
    cmap = mpl.colormaps[CMAP]
    return [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.0, 0.8, max(n, 1))][:n]


@styled
def response_curve(curves: pd.DataFrame, metric: str, *, ax: Axes | None = None, meta: Meta | None = None,
                   by: str | None = None, colour: str = BLUE, title: str | None = None,
                   xlabel: str = "parameter", labels: Mapping[str, str] | None = None) -> Figure:
    """One metric's probability against one parameter's value, with 95% intervals.

    `curves` holds one parameter's rows of `response_curves`. When only this parameter
    varies, a line joins the points inside a band of their intervals. With `by` (another
    varied parameter, a column of `curves`) there is one such line per level of `by`, dark to
    light. When other parameters vary otherwise (a design with more parameters, or Latin
    hypercube points), each point is drawn with its interval and a line follows the mean over
    the other parameters (per value on a grid, per bin of values otherwise).
    """
    figure, ax = _new(ax, (5.0, 3.6))
    rows = curves[curves["metric"] == metric]
    rows = rows.assign(_x=pd.to_numeric(rows["value"], errors="coerce")).sort_values("_x")
    others = [c for c in _varied_columns(curves) if c != rows["parameter"].iloc[0]] if len(rows) else []
    if by is not None:
        levels = sorted(rows[by].dropna().unique())
        alpha = 0.15 if len(levels) <= 3 else 0.07  # many overlapping bands: lighter, so lines stay readable
        for level, shade in zip(levels, level_colours(len(levels))):
            _line_with_band(ax, rows[rows[by] == level], shade, f"{_number(level)}", alpha)
    elif not others:
        _line_with_band(ax, rows, colour, None)
    else:
        p, low, high = (rows[c].to_numpy(dtype=float) for c in ("p", "low", "high"))
        ax.errorbar(rows["_x"], p, yerr=_whiskers(p, low, high), fmt="o", color=colour, alpha=0.4, markersize=3,
                    elinewidth=0.8)
        trend = _trend(rows)
        ax.plot(trend.index, trend.to_numpy(), color=colour, linewidth=1.8)
    _percent_axis(ax.yaxis)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability")
    ax.set_title(_wrap(title or _metric_label(metric, labels), 36), loc="left")
    caption(figure, meta)
    return figure


TREND_BINS = 6


def _varied_columns(curves: pd.DataFrame) -> list[str]:
    """The parameter columns `response_curves` carries that vary in these rows."""
    return [c for c in curves.columns if c not in RESPONSE_COLUMNS and not c.startswith("_") and curves[c].nunique() > 1]


def _trend(rows: pd.DataFrame) -> pd.Series:
    """Mean p per distinct x when values repeat (a grid), else per bin of x (bin centres)."""
    if rows["_x"].nunique() <= TREND_BINS or not rows["_x"].is_unique:
        return rows.groupby("_x")["p"].mean()
    bins = pd.qcut(rows["_x"], TREND_BINS, duplicates="drop")
    grouped = rows.groupby(bins, observed=True)
    return pd.Series(grouped["p"].mean().to_numpy(), index=grouped["_x"].mean().to_numpy())


def _line_with_band(ax: Axes, rows: pd.DataFrame, colour: str, label: str | None, alpha: float = 0.15) -> None:
    x = rows["_x"].to_numpy(dtype=float)
    p, low, high = (rows[c].to_numpy(dtype=float) for c in ("p", "low", "high"))
    ax.fill_between(x, low, high, color=colour, alpha=alpha, linewidth=0)
    ax.plot(x, p, color=colour, marker="o", markersize=3, linewidth=1.6, label=label)


@styled
def response_figure(curves: pd.DataFrame, parameter: str, metrics: Sequence[str], *, meta: Meta | None = None,
                    labels: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None,
                    by: str | None = None) -> Figure:
    """Small multiples of `response_curve` against one parameter, one panel per metric, each on its own scale.

    Metrics that never happened at any point are listed under the figure instead of drawn.
    """
    rows = curves[curves["parameter"] == parameter]
    peak = rows.groupby("metric")["p"].max()
    shown = [m for m in metrics if peak.get(m, 0) > 0]
    hidden = [m for m in metrics if m not in shown]
    if not shown:
        figure = Figure(figsize=(6, 2), layout="constrained")
        figure.text(0.5, 0.5, "No outcome or red-line event occurred at any point.", ha="center", va="center")
        return caption(figure, meta)
    figure, axes = _grid(len(shown), 4, (3.6, 2.9))
    ncols = axes[0].get_gridspec().ncols
    for i, (metric, ax) in enumerate(zip(shown, axes)):
        response_curve(rows, metric, ax=ax, by=by, colour=(colours or {}).get(metric, BLUE), labels=labels,
                       xlabel=parameter if i >= len(shown) - ncols else "")
        ax.title.set_fontsize(9)
        if i % ncols:
            ax.set_ylabel("")
    others = [c for c in _varied_columns(rows) if c != parameter]
    notes = ["each panel has its own scale"]
    if by is None and others:
        notes.append("points: sweep points with 95% intervals; line: mean over the other parameters "
                     f"({', '.join(others)})")
    else:
        notes.append("bands: 95% intervals")
    if hidden:
        notes.append("never happened at any point: " + ", ".join(_metric_label(m, labels) for m in hidden))
    if by is not None:
        handles, names = axes[0].get_legend_handles_labels()
        figure.legend(handles, names, title=by, loc="outside right upper")
    figure.suptitle(f"Response to {parameter}", x=0.01, ha="left")
    figure.text(0.99, 0.01, _wrap("; ".join(notes), 150), ha="right", va="bottom", fontsize=7.5, color=GREY)
    return caption(figure, meta)


@styled
def sweep_heatmap(points: pd.DataFrame, summary: pd.DataFrame, metric: str, x: str, y: str, *,
                  ax: Axes | None = None, meta: Meta | None = None, title: str | None = None,
                  vmax: float | None = None, colorbar: bool = True) -> Any:
    """`metric`'s probability over two varied parameters: a grid heatmap, or coloured points off a grid.

    The colour scale runs from zero (so sampling noise around a large probability does not look
    like a pattern) to `vmax`, by default this metric's highest value; cells give the value in
    percent. Returns the figure, or the image when drawn without its colour bar (for a shared one).
    """
    figure, ax = _new(ax, (6.0, 5.0))
    rows = summary[summary["metric"].astype(str) == metric].merge(points[["point", x, y]], on="point")
    values = rows["p"].to_numpy(dtype=float)
    low = 0.0
    high = vmax if vmax is not None else float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    high = high if high > 0 else 0.01
    decimals = 1 if high >= 0.1 else 2 if high >= 0.01 else 3
    if is_grid(points, x, y):
        table = heatmap_data(points, summary, metric, x, y)
        grid = table.to_numpy(dtype=float)
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap=CMAP, vmin=low, vmax=high)
        ax.set_facecolor("#DDDDDD")  # a cell without a result (a failed point) shows grey
        for (i, j), v in np.ndenumerate(grid):
            if not np.isfinite(v):
                ax.text(j, i, "no\nresult", ha="center", va="center", fontsize=6.5, color=GREY)
            elif grid.size <= 144:
                light = (v - low) / (high - low) > 0.6
                ax.text(j, i, f"{100 * v:.{decimals}f}", ha="center", va="center", fontsize=7,
                        color="black" if light else "white")
        ax.set_xticks(range(len(table.columns)), [_number(v) for v in table.columns])
        ax.set_yticks(range(len(table.index)), [_number(v) for v in table.index])
    else:
        image = ax.scatter(rows[x], rows[y], c=values, cmap=CMAP, vmin=low, vmax=high, s=40, edgecolor="white",
                           linewidth=0.5)
    ax.grid(False)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title or metric, loc="left")
    if not colorbar:
        return image
    _percent_bar(figure, image, ax, decimals)
    caption(figure, meta)
    return figure


def _percent_bar(figure: Figure, image: Any, ax: Any, decimals: int) -> None:
    bar = figure.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("probability, %")
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.{decimals}f}"))


def _number(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float | np.floating) else str(v)


@styled
def heatmap_figure(points: pd.DataFrame, summary: pd.DataFrame, metrics: Sequence[str], x: str, y: str, *,
                   meta: Meta | None = None, labels: Mapping[str, str] | None = None) -> Figure:
    """One `sweep_heatmap` per metric on one colour scale, from 0 to the highest value of any
    panel, so panels can be read against each other; the note says how many runs each cell holds."""
    figure, axes = _grid(len(metrics), 3, (4.8, 3.9))
    ncols = axes[0].get_gridspec().ncols if axes else 1
    shown = summary[summary["metric"].astype(str).isin(list(metrics))]
    values = shown["p"].to_numpy(dtype=float)
    high = float(np.nanmax(values)) if np.isfinite(values).any() and np.nanmax(values) > 0 else 0.01
    image = None
    for i, (metric, ax) in enumerate(zip(metrics, axes)):
        image = sweep_heatmap(points, summary, metric, x, y, ax=ax, title=_metric_label(metric, labels), vmax=high,
                              colorbar=False)
        if i % ncols:
            ax.set_ylabel("")
        if i < len(metrics) - ncols:
            ax.set_xlabel("")
    if image is not None:
        _percent_bar(figure, image, axes, 1 if high >= 0.1 else 2 if high >= 0.01 else 3)
    outcome_runs = shown.loc[shown["metric"].astype(str).str.startswith("outcome."), "n"]
    runs = sorted({int(n) for n in outcome_runs}) if len(outcome_runs) else []
    counted = (f"each cell from {runs[0]:,} runs" if len(runs) == 1 else
               f"each cell from {runs[0]:,} to {runs[-1]:,} runs" if runs else "")
    figure.suptitle(f"Probabilities over {x} and {y}", x=0.01, ha="left")
    figure.text(0.99, 0.01, f"cells: probability in %, {counted}; one colour scale for every panel, 0 to "
                            f"{100 * high:.1f}%", ha="right", va="bottom", fontsize=7.5, color=GREY)
    return caption(figure, meta)


# --- comparison -----------------------------------------------------------------------------------


@styled
def comparison_figure(table: pd.DataFrame, *, a: str = "A", b: str = "B", meta: str | Meta | None = None) -> Figure:
    """Paired bars of A and B with 95% intervals (left) and B − A with Newcombe intervals (right).

    `table` is `sim.compare.comparison_table`: one row per outcome, per red-line rate and per
    measure; the axis says which interval (paired or independent) the differences use.
    """
    rows = table.reset_index(drop=True)
    n = len(rows)
    figure = Figure(figsize=(12, 0.42 * n + 1.9), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=[1.3, 1])
    y = np.arange(n)[::-1].astype(float)
    h = 0.38
    for offset, side, colour, name in ((h / 2, "a", SKY, a), (-h / 2, "b", ORANGE, b)):
        p, low, high = (rows[f"{side}_{c}"].to_numpy(dtype=float) for c in ("p", "low", "high"))
        left.barh(y + offset, np.nan_to_num(p), height=h, color=colour, label=name)
        left.errorbar(p, y + offset, xerr=_whiskers(p, low, high), fmt="none", ecolor=BLACK, elinewidth=0.8,
                      capsize=2)
    left.set_yticks(y, [_wrap(str(v), 30) for v in rows["label"]])
    left.set_xlim(0, 1)
    _percent_axis(left.xaxis)
    left.set_xlabel("probability (95% Wilson interval)")
    figure.legend(*left.get_legend_handles_labels(), loc="outside upper right", ncols=2)
    left.grid(axis="y", visible=False)
    left.set_title("A and B", loc="left")
    d, low, high = (rows[c].to_numpy(dtype=float) for c in ("diff", "diff_low", "diff_high"))
    significant = (low > 0) | (high < 0)
    colours = [VERMILLION if s else GREY for s in significant]
    right.axvline(0, color=BLACK, linewidth=0.8)
    whiskers = _whiskers(d, low, high)
    for i, colour in enumerate(colours):
        right.errorbar(d[i:i + 1], y[i:i + 1], xerr=whiskers[:, i:i + 1], fmt="o", color=colour, markersize=4,
                       elinewidth=1.2, capsize=3)
    span = float(np.nanmax(np.abs(np.r_[low, high, 0.01])))
    right.set_xlim(-span * 1.1, span * 1.1)
    right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+.0f} pp" if span > 0.05
                                                  else f"{100 * v:+.1f} pp"))
    paired = "interval" in rows and (rows["interval"] == "paired").any()
    right.set_xlabel("B − A, percentage points (95%; " + ("paired where the runs pair up)" if paired else
                                                          "independent samples)"))
    right.grid(axis="y", visible=False)
    right.set_title("Difference (coloured: interval excludes 0; grey: n.s.)", loc="left")
    for i, (value, lo, hi) in enumerate(zip(d, low, high)):
        if np.isfinite(value):
            right.annotate(f"{100 * value:+.1f}" if abs(value) >= 0.0005 else "0.0", (value, y[i]), xytext=(0, 5), textcoords="offset points",
                           ha="center", va="bottom", fontsize=7, color=GREY)
    groups = [{"outcome": "outcome", "measure": "measure"}.get(k, "red line") for k in rows["kind"]] if "kind" in rows else []
    for i in range(1, n):
        if groups and groups[i] != groups[i - 1]:
            for ax in (left, right):
                ax.axhline(y[i] + 0.5, color=GREY, linewidth=0.6, linestyle=":")
    figure.suptitle(f"{a} against {b}", x=0.01, ha="left")
    return caption(figure, meta)


__all__ = [
    "OKABE_ITO", "STYLE", "caption", "comparison_figure", "distributions_figure", "fan_chart", "fan_figure",
    "heatmap_figure", "level_colours", "outcome_bars", "peak_rung_bars", "percent", "red_line_figure", "red_line_panel",
    "response_curve", "response_figure", "score_histogram_plot", "severity_colours", "styled", "sweep_heatmap",
    "transition_heatmap", "transitions_figure",
]
