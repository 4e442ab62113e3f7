"""Figures of a robustness study (`sim robust`): regret per option, and each option's outcomes.

Plot functions take data (robust.parquet and options.parquet as DataFrames) and `ax=`, and
return a Figure, as in `sim.plots`; `robust_figures(DIR)` yields them by name for `sim plot`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import figure_data as fd
from .plots import (BLACK, BLUE, GREY, VERMILLION, _new, _percent_axis, _whiskers, _wrap, caption, severity_colours,
                    styled)


# Matplotlib 3.10 named it `orientation` and 3.11 deprecates the old `vert`.
_HORIZONTAL = {"orientation": "horizontal"} if "orientation" in inspect.signature(Axes.boxplot).parameters else {"vert": False}


def metric_label(metric: str, classes: Mapping[str, str]) -> str:
    """`at_least.militarized_crisis` -> `P(Militarized crisis or worse)`, for axis labels."""
    kind, _, name = metric.partition(".")
    if kind == "at_least":
        return f"P({classes.get(name, name)} or worse)"
    if kind == "outcome":
        return f"P({classes.get(name, name)})"
    if kind == "crossed":
        return f"P(red line {name} crossed)"
    return "mean escalation score" if metric == "escalation_score" else metric


def _order(options: pd.DataFrame, metric: str) -> list[str]:
    """Option labels, the most robust (lowest worst-case regret) first."""
    rows = options[options["metric"] == metric].sort_values(["rank_regret", "rank_expected", "option"])
    return list(rows["label"])


def _probability(metric: str) -> bool:
    return metric != "escalation_score"


@styled
def expected_panel(options: pd.DataFrame, metric: str, *, ax: Axes | None = None, label: str = "",
                   order: Sequence[str] | None = None) -> Figure:
    """Each option's expected value over the uncertainty points, with its 95% interval."""
    rows = options[options["metric"] == metric].set_index("label").loc[list(order or _order(options, metric))]
    figure, ax = _new(ax, (5.5, 0.45 * len(rows) + 1.5))
    y = np.arange(len(rows))[::-1]
    value, low, high = (rows[c].to_numpy(dtype=float) for c in ("expected", "low", "high"))
    ax.errorbar(value, y, xerr=_whiskers(value, low, high), fmt="o", color=BLUE, ecolor=BLACK,
                elinewidth=1, capsize=3)
    ax.set_yticks(y, [_wrap(v, 28) for v in rows.index])
    ax.set_xlabel(f"{label or metric}: expected (whiskers: 95% interval)")
    if _probability(metric):
        _percent_axis(ax.xaxis)
    ax.grid(axis="y", visible=False)
    ax.set_title("Expected outcome", loc="left")
    return figure


@styled
def regret_panel(table: pd.DataFrame, metric: str, *, ax: Axes | None = None, label: str = "",
                 order: Sequence[str] | None = None) -> Figure:
    """The regret of each option at every uncertainty point: a box of its spread and a dot per point,
    the worst case marked."""
    rows = table[table["metric"] == metric]
    order = list(order or rows.groupby("label")["regret"].max().sort_values().index)
    figure, ax = _new(ax, (5.5, 0.45 * len(order) + 1.5))
    y = np.arange(len(order))[::-1]
    samples = [rows.loc[rows["label"] == name, "regret"].to_numpy(dtype=float) for name in order]
    ax.boxplot(samples, positions=y, **_HORIZONTAL, widths=0.5, showfliers=False, patch_artist=True,
               boxprops={"facecolor": "#dde8f3", "edgecolor": GREY}, medianprops={"color": BLUE},
               whiskerprops={"color": GREY}, capprops={"color": GREY})
    jitter = np.random.default_rng(0)  # fixed: the same data draw the same figure
    for yi, values in zip(y, samples):
        ax.scatter(values, yi + jitter.uniform(-0.15, 0.15, len(values)), s=9, color=BLACK, alpha=0.55, zorder=3)
        ax.scatter([values.max()], [yi], marker="|", s=160, color=VERMILLION, zorder=4)
    ax.set_yticks(y, [_wrap(v, 28) for v in order])
    ax.set_xlabel("regret: minus the best option's value at the same point (red: worst case)")
    if _probability(metric):
        _percent_axis(ax.xaxis)
    ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    ax.grid(axis="y", visible=False)
    ax.set_title("Regret over the uncertainty points", loc="left")
    return figure


@styled
def regret_figure(table: pd.DataFrame, options: pd.DataFrame, metric: str, *, meta: fd.Meta | None = None,
                  label: str = "") -> Figure:
    """Expected outcome and regret side by side, options ordered from the most robust."""
    order = _order(options, metric)
    figure = Figure(figsize=(12, 0.5 * len(order) + 2.0), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    expected_panel(options, metric, ax=left, label=label, order=order)
    regret_panel(table, metric, ax=right, label=label, order=order)
    figure.suptitle(f"Options against the same uncertainties: {label or metric}", x=0.01, ha="left")
    return caption(figure, meta)


@styled
def class_figure(options: pd.DataFrame, classes: Mapping[str, str], *, meta: fd.Meta | None = None,
                 metric: str = "escalation_score") -> Figure:
    """Per option, the probability of each outcome class or worse: a panel per class that some
    option reaches in some runs and some option avoids in some runs (the others say nothing)."""
    expected = options[options["metric"].str.startswith("at_least.")].groupby("metric", sort=False)["expected"]
    metrics = [m for m, v in expected if v.max() > 0 and v.min() < 1] or list(expected.groups)[:1]
    order = _order(options, metric)
    figure = Figure(figsize=(3.6 * len(metrics) + 1.8, 0.42 * len(order) + 1.9), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(metrics), sharey=True)).tolist()
    colours = dict(zip(classes, severity_colours(len(classes))))
    y = np.arange(len(order))[::-1]
    for ax, m in zip(axes, metrics):
        rows = options[options["metric"] == m].set_index("label").loc[order]
        value, low, high = (rows[c].to_numpy(dtype=float) for c in ("expected", "low", "high"))
        colour = colours.get(m.partition(".")[2], BLUE)
        ax.errorbar(value, y, xerr=_whiskers(value, low, high), fmt="o", color=colour, ecolor=colour,
                    elinewidth=1.2, capsize=3)
        ax.set_yticks(y, [_wrap(v, 28) for v in order])
        _percent_axis(ax.xaxis)
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
        ax.set_title(_wrap(metric_label(m, classes), 34), loc="left")
    axes[0].set_xlabel("probability over every run of the option (whiskers: 95% Wilson interval)", loc="left")
    figure.suptitle("Each option's chance of each outcome class or worse", x=0.01, ha="left")
    return caption(figure, meta)


def robust_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for each figure of a robustness study directory."""
    path = Path(path)
    manifest = fd.read_manifest(path)
    table = fd.read_table(path / "robust.parquet")
    options = fd.read_table(path / "options.parquet")
    scenario = fd.load_run_scenario(path)
    classes = {cid: c.label or cid for cid, c in scenario.outcomes.classes.items()}
    meta = fd.meta_from_manifest(manifest, points=int(manifest.get("states", 0)))
    metric = str(manifest.get("minimise", "escalation_score"))
    yield "regret", regret_figure(table, options, metric, meta=meta, label=metric_label(metric, classes))
    yield "options-outcomes", class_figure(options, classes, meta=meta, metric=metric)


__all__ = ["class_figure", "expected_panel", "metric_label", "regret_figure", "regret_panel", "robust_figures"]
