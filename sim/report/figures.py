"""Every figure for a results directory, by name: what `sim plot` draws and saves.

`run_figures` and `sweep_figures` read a directory with `sim.figure_data` and draw with
`sim.plots`; `write_figures` saves them. From Python:

    from sim.figures import figures_for
    figures = figures_for("results/gallery")      # {"outcomes": Figure, ...}
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from . import figure_data as fd
from . import plots
from .robust_figures import robust_figures
from .timeline_plots import at_least_by_date
from .tornado import tornado_data, tornado_figure
from .world_diagram import world_diagram
from ..experiments import interrupts
from ..experiments.questions import at_least_by_round

FORMATS = ("png", "svg", "pdf")
MAX_LEVELS = 8  # split response curves by the other parameter of a 2-D grid when it has at most this many values


def run_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for each figure of a run directory, one at a time so each can be saved and freed."""
    path = Path(path)
    manifest = fd.read_manifest(path)
    scenario = fd.load_run_scenario(path)
    meta = fd.meta_from_manifest(manifest)
    classes = {cid: c.label or cid for cid, c in scenario.outcomes.classes.items()}
    actors = {aid: a.label for aid, a in scenario.actors.items()}
    red_lines = list(scenario.red_lines)
    columns = ["outcome", "peak_rung", "new_rung", "escalation_score"]
    columns += [f"{k}.{lid}" for lid in red_lines for k in ("crossed", "enforced", "round")]
    forecast = manifest["kind"] == "forecast"  # its survivors count with the forecast's weights
    runs = fd.read_table(path / "runs.parquet", [*columns, "weight"] if forecast else columns)
    weights = runs["weight"].to_numpy(dtype=float) if forecast else None
    rounds = int(manifest.get("rounds") or scenario.rounds)

    outcomes = fd.forecast_outcomes(path, classes) if forecast else fd.outcome_table(runs, list(classes), classes)
    yield "outcomes", plots.outcome_bars(outcomes, meta=meta)
    measures = fd.measure_table(path, scenario)
    if len(measures):
        yield "measures", plots.outcome_bars(measures, meta=meta, title="The scenario's measures",
                                             colours=[plots.BLUE] * len(measures))
    curves = fd.red_line_curves(runs, red_lines, rounds, weights)
    yield "red-lines", plots.red_line_figure(curves, meta=meta, descriptions=fd.describe_red_lines(scenario))
    peak = fd.peak_rung_distribution(runs, scenario, weights)
    yield "distributions", plots.distributions_figure(peak, fd.score_histogram(runs, weights=weights), meta=meta,
                                                      classes=classes, marks=fd.score_summary(runs, weights))
    yield "world", world_diagram(scenario, meta)
    if not (path / "trajectories.parquet").is_file():
        return
    if len(classes) > 2:
        everything = fd.read_table(path / "runs.parquet", ["run", "outcome"])
        moves = fd.read_table(path / "trajectories.parquet", ["run", "round", *(f"moves.{a}" for a in actors)])
        yield "at-least-by-date", at_least_by_date(at_least_by_round(everything, moves, scenario), meta=meta,
                                                   labels=classes, classes=list(classes))
    summary = fd.summarise_trajectories(path, scenario)
    labels = {fd.ALL: "All actors (highest of any)", **actors}
    ladder = fd.ladder_labels(scenario)
    yield "escalation-fan", plots.fan_figure(fd.fan_data(summary, cumulative=True), meta=meta, ladder=ladder,
                                             labels=labels, title="Escalation: highest rung reached so far")
    yield "rung-by-round", plots.fan_figure(fd.fan_data(summary, cumulative=False), meta=meta, ladder=ladder,
                                            labels=labels, title="Escalation: rung taken in each round")
    if rounds < 2:
        warnings.warn("no transitions figure: a one-round run has no round that follows another", stacklevel=2)
        return
    matrices = {a: fd.transition_matrix(summary.transitions[a], scenario) for a in actors}
    counts = {a: summary.transitions[a].sum(axis=1) for a in actors}
    yield "transitions", plots.transitions_figure(matrices, meta=meta, labels=actors, counts=counts)


def sweep_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for each figure of a sweep directory: a response figure per varied
    parameter, and outcome heatmaps when exactly two parameters vary."""
    path = Path(path)
    manifest = fd.read_manifest(path)
    points, summary = fd.read_sweep(path)
    meta = fd.meta_from_manifest(manifest, points=int((points["status"].astype(str) == "ok").sum())
                                 if "status" in points else len(points))
    classes = None
    if (path / "scenario.yaml").is_file():
        scenario = fd.load_run_scenario(path)
        classes = list(scenario.outcomes.classes)
        labels = {f"outcome.{cid}": c.label or cid for cid, c in scenario.outcomes.classes.items()}
    else:
        labels = {}
    metrics = fd.metric_order(summary, classes)
    outcomes = [m for m in metrics if m.startswith("outcome.")]
    colours = dict(zip(outcomes, plots.severity_colours(len(outcomes))))
    colours.update({m: plots.BLUE if m.startswith("crossed.") else plots.VERMILLION
                    for m in metrics if m not in colours})
    curves = fd.response_curves(points, summary)
    varied = fd.varied_parameters(points)
    grid = len(varied) == 2 and fd.is_grid(points, *varied)
    for parameter in varied or fd.parameter_columns(points):
        other = [v for v in varied if v != parameter]
        by = other[0] if grid and points[other[0]].nunique() <= MAX_LEVELS else None
        yield f"response-{_slug(parameter)}", plots.response_figure(
            curves, parameter, metrics, meta=meta, labels=labels, colours=colours, by=by)
    yield from tornado_figures(points, summary, varied or fd.parameter_columns(points), metrics, meta)
    if len(varied) == 2:
        happened = summary.groupby(summary["metric"].astype(str))["p"].max()
        shown = [m for m in metrics if m.startswith(("outcome.", "crossed.", "measure.")) and happened.get(m, 0) > 0]
        x, y = varied
        yield "heatmap", plots.heatmap_figure(points, summary, shown, x, y, meta=meta, labels=labels)


def sensitivity_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """The indices of a sensitivity directory: one panel per metric that varied."""
    from .analysis_plots import sensitivity_figure

    path = Path(path)
    manifest = fd.read_manifest(path)
    indices = fd.read_table(path / "sensitivity.parquet")
    meta = fd.meta_from_manifest({**manifest, "kind": "sweep"}, points=manifest.get("points"))
    yield "sensitivity", sensitivity_figure(indices, manifest["method"], noise=manifest.get("noise"), meta=meta)
    points, summary = fd.read_sweep(path)
    yield from tornado_figures(points, summary, fd.varied_parameters(points), list(dict.fromkeys(indices["metric"])),
                               meta)


def tornado_figures(points: Any, summary: Any, parameters: list[str], metrics: list[str],
                    meta: fd.Meta) -> Iterator[tuple[str, Figure]]:
    """A tornado chart per outcome and measure that varies across the points."""
    for metric in metrics:
        if not metric.startswith(("outcome.", "measure.")):
            continue
        values = summary.loc[summary["metric"].astype(str) == metric, "p"]
        if values.nunique() < 2:
            continue
        data = tornado_data(points, summary, metric, parameters)
        yield f"tornado-{_slug(metric)}", tornado_figure(data, metric, float(values.mean()), meta=meta)


def calibration_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for a calibration directory: each parameter's prior against its posterior."""
    from .calibration_plots import calibration_figures as figures

    return figures(path)


def backtest_figures(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """(name, Figure) for a backtest directory: its scores against the record, then the run's figures."""
    from . import backtest_plots

    path = Path(path)
    meta = fd.meta_from_manifest(fd.read_manifest(path))
    table = fd.read_table(path / "backtest.parquet")
    yield "reliability", backtest_plots.reliability_diagram(table, meta=meta)
    yield "event-forecasts", backtest_plots.event_forecasts(table, meta=meta)
    yield from run_figures(path)


def figures_for(path: str | Path) -> Iterator[tuple[str, Figure]]:
    """The figures of a results directory of any kind in FIGURES (see read_manifest for errors)."""
    kind = fd.read_manifest(path)["kind"]
    return FIGURES.get(kind, run_figures)(path)


# The figures of each kind of results directory (a new kind adds a line).
FIGURES = {"run": run_figures, "sweep": sweep_figures, "robust": robust_figures, "backtest": backtest_figures,
           "sensitivity": sensitivity_figures, "calibration": calibration_figures}


def write_figures(figures: Iterator[tuple[str, Figure]] | Mapping[str, Figure], out: str | Path,
                  format: str = "png") -> list[Path]:
    """Save each figure as out/<name>.<format> and return the paths, in order: all or nothing.

    Every figure is drawn and saved into a hidden directory beside `out` first; only when all
    are saved do they move into `out` (a rename of the whole directory when `out` is new, else a
    rename per file). An error or an interrupt while drawing leaves `out` as it was.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {format!r})")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    staging.mkdir()
    items = figures.items() if isinstance(figures, Mapping) else figures
    token = interrupts.register(lambda: shutil.rmtree(staging, ignore_errors=True))
    try:
        names = []
        for name, figure in items:
            # No creation date in SVG and PDF files, so the same results give the same bytes.
            metadata = {"Date": None} if format in ("svg", "pdf") else None
            figure.savefig(staging / f"{name}.{format}", format=format, metadata=metadata)
            names.append(f"{name}.{format}")
        if not out.exists():
            staging.rename(out)
        else:
            for name in names:
                os.replace(staging / name, out / name)
        return [out / name for name in names]
    finally:
        interrupts.unregister(token)
        shutil.rmtree(staging, ignore_errors=True)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-")


__all__ = ["FORMATS", "backtest_figures", "figures_for", "run_figures", "sensitivity_figures", "sweep_figures",
           "write_figures"]
