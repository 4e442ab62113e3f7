"""`sim plot`: the data behind every figure, the figures as library functions, and the command.

The figures are checked through the numbers they draw (sim.report.figure_data): a crossing curve
climbs and ends at the crossing rate in runs.parquet, fan-chart bands are nested and on the
ladder, transition rows sum to one, response curves have one row per point and outcome.
Sweep figures are tested on a small synthetic sweep directory written here to the sweep
format's contract, so these tests do not depend on the sweep code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from sim.report import figure_data as fd
from sim.report import plots
from sim.api import run
from sim.cli import main
from sim.report.figures import figures_for, sweep_figures
from sim.experiments.summary import wilson

PNG = b"\x89PNG\r\n\x1a\n"
RUNS, ROUNDS = 1500, 8


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run("precision-weapons", runs=RUNS, seed=3, rounds=ROUNDS, out=tmp_path_factory.mktemp("plot") / "run").path


@pytest.fixture(scope="module")
def runs(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "runs.parquet")


@pytest.fixture(scope="module")
def scenario(run_dir: Path):
    return fd.load_run_scenario(run_dir)


@pytest.fixture(scope="module")
def trajectories(run_dir: Path, scenario) -> fd.TrajectorySummary:
    return fd.summarise_trajectories(run_dir, scenario)


# --- a synthetic sweep directory, to the sweep format's contract ------------------------------

CLASSES = ["calm", "tense", "crisis"]
LINES = ["owner.line"]


def write_sweep(path: Path, grid: dict[str, list[float]], runs: int = 400, failed: int | None = None) -> Path:
    """points.parquet, summary.parquet (long) and manifest.json for a grid over `grid`'s parameters.

    Outcome probabilities move smoothly with the parameters; counts are binomial draws, so
    the summary's p, low, high and n relate as Wilson intervals of real counts would.
    """
    rng = np.random.default_rng(7)
    names = list(grid)
    mesh = np.array(np.meshgrid(*grid.values(), indexing="ij")).reshape(len(names), -1).T
    points = pd.DataFrame(mesh, columns=names)
    points.insert(0, "point", np.arange(len(points)))
    points["status"] = "ok"
    points["error"] = None
    if failed is not None:
        points.loc[failed, ["status", "error"]] = ["failed", "ValueError: boom"]
    rows = []
    for _, point in points.iterrows():
        if point["status"] != "ok":
            continue
        drive = sum(point[n] for n in names) / len(names)
        weights = np.array([1 - drive, 0.5, drive]) + 0.05
        outcome = rng.multinomial(runs, weights / weights.sum())
        crossed = rng.binomial(runs, 0.2 + 0.6 * drive)
        enforced = rng.binomial(crossed, 0.5)
        metrics = [(f"outcome.{c}", k, runs) for c, k in zip(CLASSES, outcome)]
        metrics += [(f"crossed.{LINES[0]}", crossed, runs), (f"enforced.{LINES[0]}", enforced, crossed)]
        for metric, k, n in metrics:
            low, high = wilson(int(k), int(n))
            rows.append({"point": int(point["point"]), "metric": metric, "p": k / n if n else np.nan,
                         "low": low, "high": high, "n": int(n), "crn": False})
    path.mkdir(parents=True)
    points.to_parquet(path / "points.parquet")
    pd.DataFrame(rows).to_parquet(path / "summary.parquet")
    (path / "manifest.json").write_text(json.dumps({"kind": "sweep", "scenario": "synthetic", "seed": 11,
                                                    "runs": runs, "points": len(points)}))
    return path


@pytest.fixture(scope="module")
def sweep2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    grid = {"actors.a.resolve": [0.2, 0.4, 0.6, 0.8], "dynamics.chance.base": [0.0, 0.01, 0.02]}
    return write_sweep(tmp_path_factory.mktemp("sweep") / "two", grid, failed=5)


@pytest.fixture(scope="module")
def sweep1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep") / "one", {"actors.a.resolve": [0.1, 0.3, 0.5, 0.7, 0.9]})


# --- outcomes --------------------------------------------------------------------------------


def test_outcome_probabilities_sum_to_one_inside_their_intervals(runs: pd.DataFrame, scenario) -> None:
    table = fd.outcome_table(runs, list(scenario.outcomes.classes))
    assert table["outcome"].tolist() == list(scenario.outcomes.classes)
    assert table["count"].sum() == RUNS and table["p"].sum() == pytest.approx(1)
    assert ((table["low"] <= table["p"]) & (table["p"] <= table["high"])).all()
    counts = runs["outcome"].astype(str).value_counts()
    assert all(table.set_index("outcome")["count"].get(c) == counts.get(c, 0) for c in scenario.outcomes.classes)


# --- red lines ---------------------------------------------------------------------------------


def test_crossing_curves_climb_to_the_crossing_rate_in_runs(runs: pd.DataFrame, scenario) -> None:
    curves = fd.red_line_curves(runs, list(scenario.red_lines), ROUNDS)
    assert set(curves["red_line"]) == set(scenario.red_lines)
    for lid, curve in curves.groupby("red_line"):
        assert curve["round"].tolist() == list(range(1, ROUNDS + 1))
        crossed, enforced = curve["crossed"].to_numpy(), curve["enforced"].to_numpy()
        assert (np.diff(crossed) >= 0).all() and (np.diff(enforced) >= 0).all()
        assert (enforced <= crossed).all()
        assert crossed[-1] == pytest.approx(runs[f"crossed.{lid}"].mean())
        assert enforced[-1] == pytest.approx(runs[f"enforced.{lid}"].eq(True).sum() / RUNS)
        assert ((curve["crossed_low"] <= crossed) & (crossed <= curve["crossed_high"])).all()
        assert crossed[-1] > 0, "the scenario forces the precision-weapons transfer early: a line is crossed"


def test_red_line_rates_give_enforcement_as_a_share_of_crossings(runs: pd.DataFrame, scenario) -> None:
    rates = fd.red_line_rates(runs, list(scenario.red_lines)).set_index("red_line")
    for lid in scenario.red_lines:
        crossed = runs[f"crossed.{lid}"]
        assert rates.loc[lid, "crossed"] == pytest.approx(crossed.mean())
        assert rates.loc[lid, "enforced"] == pytest.approx(runs.loc[crossed, f"enforced.{lid}"].astype(bool).mean())
        assert rates.loc[lid, "enforced_low"] <= rates.loc[lid, "enforced"] <= rates.loc[lid, "enforced_high"]


# --- distributions -------------------------------------------------------------------------------


def test_peak_rung_shares_add_up_to_the_outcome_probabilities(runs: pd.DataFrame, scenario) -> None:
    dist = fd.peak_rung_distribution(runs, scenario)
    assert dist["count"].sum() == RUNS and dist["share"].sum() == pytest.approx(1)
    by_class = dist.groupby("outcome")["share"].sum()
    table = fd.outcome_table(runs, list(scenario.outcomes.classes)).set_index("outcome")
    for c in scenario.outcomes.classes:
        assert by_class.get(c, 0) == pytest.approx(table.loc[c, "p"])


def test_score_histogram_counts_every_run(runs: pd.DataFrame) -> None:
    hist = fd.score_histogram(runs, bins=25)
    assert len(hist) == 25 and hist["count"].sum() == RUNS
    assert (hist["left"] < hist["right"]).all() and np.allclose(hist["right"].iloc[:-1], hist["left"].iloc[1:])
    marks = fd.score_summary(runs)
    assert hist["left"].iloc[0] <= marks["median"] <= hist["right"].iloc[-1]


# --- trajectories: fan charts and transitions -------------------------------------------------------


def test_fan_bands_are_nested_and_on_the_ladder(trajectories: fd.TrajectorySummary, scenario) -> None:
    rungs = [a.rung for a in scenario.actions.values()]
    for cumulative in (True, False):
        fan = fd.fan_data(trajectories, cumulative=cumulative)
        assert set(fan["series"]) == {fd.ALL, *scenario.actors}
        assert len(fan) == (1 + len(scenario.actors)) * ROUNDS
        q = fan[list(fd.QUANTILE_COLUMNS)].to_numpy()
        assert (np.diff(q, axis=1) >= 0).all(), "5% <= 25% <= median <= 75% <= 95%"
        assert q.min() >= min(rungs) and q.max() <= max(rungs)
    peak = fd.fan_data(trajectories, cumulative=True)
    for _, series in peak.groupby("series"):
        assert (np.diff(series[list(fd.QUANTILE_COLUMNS)].to_numpy(), axis=0) >= 0).all(), "highest so far only rises"


def test_highest_rung_so_far_ends_at_each_runs_peak_rung(trajectories: fd.TrajectorySummary, runs: pd.DataFrame,
                                                         scenario) -> None:
    assert trajectories.runs == RUNS
    top = trajectories.peak.shape[-1]
    assert (trajectories.peak[0, -1] == np.bincount(runs["peak_rung"], minlength=top)).all()
    for i, actor in enumerate(scenario.actors, start=1):
        assert (trajectories.peak[i, -1] == np.bincount(runs[f"peak_rung.{actor}"], minlength=top)).all()
    assert (trajectories.current.sum(axis=-1) == RUNS).all()


def test_trajectories_read_in_any_batch_size_give_the_same_summary(run_dir: Path, scenario,
                                                                  trajectories: fd.TrajectorySummary) -> None:
    odd = fd.summarise_trajectories(run_dir, scenario, batch_runs=7)  # batches cut runs in two
    assert (odd.peak == trajectories.peak).all() and (odd.current == trajectories.current).all()
    assert all(odd.transitions[a].equals(trajectories.transitions[a]) for a in scenario.actors)


def test_transition_rows_sum_to_one_and_match_a_direct_count(run_dir: Path, trajectories: fd.TrajectorySummary,
                                                             scenario) -> None:
    actor = list(scenario.actors)[0]
    counts = trajectories.transitions[actor]
    assert counts.to_numpy().sum() == RUNS * (ROUNDS - 1)
    matrix = fd.transition_matrix(counts, scenario)
    seen = counts.loc[matrix.index].sum(axis=1) > 0
    assert np.allclose(matrix[seen].sum(axis=1), 1.0)
    assert matrix[~seen].isna().all().all()
    rungs = [scenario.actions[a].rung for a in matrix.index]
    assert rungs == sorted(rungs), "actions in ladder order"
    trajectory = pd.read_parquet(run_dir / "trajectories.parquet", columns=["run", "round", f"action.{actor}"])
    action = trajectory[f"action.{actor}"].astype(str)
    follows = pd.DataFrame({"from": action, "to": action.shift(-1)})[trajectory["round"] < ROUNDS]
    direct = pd.crosstab(follows["from"], follows["to"])
    for a in direct.index:
        for b in direct.columns:
            assert counts.loc[a, b] == direct.loc[a, b]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=1, max_size=300))
def test_histogram_quantiles_equal_numpys_inverted_cdf(values: list[int]) -> None:
    counts = np.bincount(values, minlength=16)
    expected = np.quantile(values, fd.QUANTILES, method="inverted_cdf")
    assert fd.histogram_quantiles(counts).tolist() == expected.tolist()


# --- sweeps ---------------------------------------------------------------------------------------


def test_response_curves_have_one_row_per_point_and_outcome(sweep2: Path) -> None:
    points, summary = fd.read_sweep(sweep2)
    ok = points[points["status"] == "ok"]
    curves = fd.response_curves(points, summary)
    params = ["actors.a.resolve", "dynamics.chance.base"]
    assert fd.varied_parameters(points) == params
    for param in params:
        rows = curves[(curves["parameter"] == param) & curves["metric"].str.startswith("outcome.")]
        assert len(rows) == len(ok) * len(CLASSES)
        assert not rows.duplicated(["point", "metric"]).any()
        assert set(rows["point"]) == set(ok["point"]), "the failed point is left out"
        expected = rows["point"].map(points.set_index("point")[param])
        assert (rows["value"] == expected).all() and (rows["value"] == rows[param]).all()
    assert ((curves["low"] <= curves["p"]) & (curves["p"] <= curves["high"])).all()


def test_heatmap_data_is_the_grid_of_probabilities(sweep2: Path, sweep1: Path) -> None:
    points, summary = fd.read_sweep(sweep2)
    x, y = "actors.a.resolve", "dynamics.chance.base"
    grid = fd.heatmap_data(points, summary, "outcome.crisis", x, y)
    assert grid.shape == (3, 4)
    assert grid.isna().sum().sum() == 1, "the failed point leaves one empty cell"
    row = summary[(summary["metric"] == "outcome.crisis") & (summary["point"] == 0)].iloc[0]
    assert grid.loc[0.0, 0.2] == row["p"]
    assert fd.is_grid(points, x, y), "a grid with a failed point is still a grid, with a hole"
    scattered = pd.DataFrame({"point": range(6), x: np.linspace(0, 1, 6), y: np.linspace(0, 1, 6)[::-1] ** 2,
                              "status": "ok"})
    assert not fd.is_grid(scattered, x, y), "Latin hypercube points are not a grid"
    full, full_summary = fd.read_sweep(sweep1)
    assert fd.varied_parameters(full) == ["actors.a.resolve"]


def test_sweep_figures_have_a_response_figure_per_parameter_and_one_heatmap(sweep2: Path, sweep1: Path) -> None:
    names = [name for name, _ in sweep_figures(sweep2)]
    tornadoes = [n for n in names if n.startswith("tornado-")]
    assert [n for n in names if n not in tornadoes] == ["response-actors-a-resolve", "response-dynamics-chance-base",
                                                        "heatmap"]
    assert tornadoes, "a tornado chart per outcome that varies"
    assert [name for name, _ in sweep_figures(sweep1) if not name.startswith("tornado-")] == ["response-actors-a-resolve"]


# --- figures as library functions -------------------------------------------------------------------


def _texts(figure: Figure) -> str:
    return " ".join(t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")))


def test_figure_functions_draw_into_a_given_axes_without_pyplot(runs: pd.DataFrame, scenario,
                                                                trajectories: fd.TrajectorySummary) -> None:
    before = plt.get_fignums()
    host = Figure()
    ax = host.add_subplot()
    fan = fd.fan_data(trajectories)
    drawn = [
        plots.outcome_bars(fd.outcome_table(runs, list(scenario.outcomes.classes)), ax=ax),
        plots.fan_chart(fan[fan["series"] == fd.ALL], ax=ax, ladder=fd.ladder_labels(scenario)),
        plots.red_line_panel(fd.red_line_curves(runs, list(scenario.red_lines)[:1], ROUNDS), ax=ax),
        plots.peak_rung_bars(fd.peak_rung_distribution(runs, scenario), ax=ax),
        plots.score_histogram_plot(fd.score_histogram(runs), ax=ax),
        plots.transition_heatmap(fd.transition_matrix(trajectories.transitions[list(scenario.actors)[1]]), ax=ax),
    ]
    assert all(f is host for f in drawn)
    assert plt.get_fignums() == before, "library code never opens pyplot figures"


def test_every_figure_has_a_title_labelled_axes_and_the_caption(run_dir: Path, sweep2: Path) -> None:
    for path, caption in ((run_dir, f"precision-weapons · seed 3 · {RUNS:,} runs · {ROUNDS} rounds"),
                          (sweep2, "synthetic · seed 11 · 11 points × 400 runs each")):
        for name, figure in figures_for(path):
            texts = _texts(figure)
            assert caption in texts, name
            assert figure.get_suptitle() or any(ax.get_title(loc="left") for ax in figure.axes), name
            for ax in figure.axes:
                if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.has_data():
                    assert ax.get_xlabel() or ax.get_ylabel() or not ax.get_xticklabels(), (name, ax.get_title())


def test_outcome_colours_run_from_calm_to_severe_in_the_okabe_ito_palette() -> None:
    colours = plots.severity_colours(6)
    assert len(set(colours)) == 6 and colours[-1] == plots.BLACK
    assert set(colours) <= set(plots.OKABE_ITO)


# --- the command -----------------------------------------------------------------------------------


def _valid(path: Path, kind: str) -> bool:
    data = path.read_bytes()
    return {"png": data[:8] == PNG, "pdf": data[:5] == b"%PDF-", "svg": b"<svg" in data[:2000]}[kind]


@pytest.mark.slow  # a few seconds: the default suite stays near 60 s
def test_sim_plot_writes_and_lists_every_run_figure(run_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    assert main(["plot", str(run_dir), "--out", str(tmp_path / "figs")]) == 0
    listed = [Path(line) for line in capsys.readouterr().out.split()]
    names = ["outcomes", "measures", "red-lines", "distributions", "world", "at-least-by-date", "escalation-fan",
             "rung-by-round",
             "transitions"]
    assert listed == [tmp_path / "figs" / f"{n}.png" for n in names]
    assert all(_valid(p, "png") for p in listed)


@pytest.mark.slow  # a few seconds: the default suite stays near 60 s
@pytest.mark.parametrize("kind", ["svg", "pdf"])
def test_sim_plot_writes_sweep_figures_in_each_format(kind: str, sweep2: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    assert main(["plot", str(sweep2), "--out", str(tmp_path), "--format", kind]) == 0
    listed = [Path(line) for line in capsys.readouterr().out.split()]
    assert [p.name for p in listed if not p.name.startswith("tornado-")] == [
        f"response-actors-a-resolve.{kind}", f"response-dynamics-chance-base.{kind}", f"heatmap.{kind}"]
    assert all(p.stat().st_size > 0 and _valid(p, kind) for p in listed)


def test_sim_plot_defaults_to_a_figures_folder_inside_the_directory(sweep1: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    assert main(["plot", str(sweep1)]) == 0
    listed = [line for line in capsys.readouterr().out.split() if "tornado-" not in line]
    assert listed == [str(sweep1 / "figures" / "response-actors-a-resolve.png")]


@pytest.mark.parametrize(
    ("make", "got"),
    [
        (lambda p: p / "missing", "got no such file or directory"),
        (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "got a file"),
        (lambda p: (p / "d").mkdir() or p / "d", "got a directory without manifest.json"),
        (lambda p: (p / "m").mkdir() or (p / "m" / "manifest.json").write_text("{nope") and p / "m", "got Expecting"),
        (lambda p: (p / "k").mkdir() or (p / "k" / "manifest.json").write_text('{"kind": "x"}') and p / "k",
         "got kind 'x'"),
        (lambda p: (p / "r").mkdir() or (p / "r" / "manifest.json").write_text('{"kind": "run"}') and p / "r",
         "got no runs.parquet"),
    ],
)
def test_sim_plot_on_something_else_exits_2_without_traceback(make, got: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    target = make(tmp_path)
    assert main(["plot", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: ")
    assert "expected a results directory (from sim run, sweep, backtest, calibrate, sensitivity or robust) with manifest.json" in err and got in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# --- percent axes: every tick label reads back as its tick ----------------------------------


def _tick_labels(figure: Figure, axis: str = "x") -> list[tuple[float, str]]:
    """(tick value, its drawn label) for every tick inside the axes' view, after drawing the figure."""
    figure.canvas.draw()
    ax = figure.axes[0]
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    ticks = ax.get_xticks() if axis == "x" else ax.get_yticks()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [(t, label.get_text()) for t, label in zip(ticks, labels) if low - 1e-12 <= t <= high + 1e-12]


def _bars(highest: float) -> Figure:
    table = pd.DataFrame({"label": ["calm", "tense"], "p": [highest / 2, highest * 0.8],
                          "low": [highest / 3, highest * 0.6], "high": [highest * 0.6, highest]})
    return plots.outcome_bars(table)


def test_percent_ticks_spaced_one_and_a_half_points_apart_are_written_exactly() -> None:
    figure = _bars(0.05)
    figure.axes[0].set_xticks([0, 0.015, 0.03, 0.045, 0.06])
    assert [label for _, label in _tick_labels(figure)] == ["0.0%", "1.5%", "3.0%", "4.5%", "6.0%"]


def _response(top: float) -> Figure:
    """A response curve whose probabilities climb to about `top`: the y axis picks its own ticks."""
    x = np.linspace(0.1, 0.9, 5)
    p = np.linspace(0.005, top * 0.85, 5)
    curves = pd.DataFrame({"parameter": "x", "metric": "outcome.crisis", "value": x, "x": x, "point": range(5),
                           "p": p, "low": p * 0.8, "high": p * 1.15})
    return plots.response_curve(curves, "outcome.crisis")


@pytest.mark.parametrize("top", [0.064, 0.6, 0.045, 0.03, 0.0064])
def test_every_percent_tick_label_reads_back_as_its_tick(top: float) -> None:
    """Whatever ticks matplotlib picks (here 1.5 points apart for top 0.064), each label is its tick's value."""
    pairs = _tick_labels(_response(top), "y")
    assert len(pairs) >= 3
    for tick, label in pairs:
        assert label.endswith("%")
        assert float(label.rstrip("%").replace("\u2212", "-")) == pytest.approx(100 * tick, abs=1e-9), pairs
    assert len({label for _, label in pairs}) == len(pairs)


def test_an_outcome_never_seen_has_an_interval_from_exactly_zero():
    # The Wilson formula leaves a 1e-19 residue at zero successes, printed as "1e-17%".
    from sim.report.plots import percent

    assert wilson(0, 10_000)[0] == 0.0 and percent(wilson(0, 10_000)[0]) == "0%"
    assert wilson(10_000, 10_000)[1] == 1.0
