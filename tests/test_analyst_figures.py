"""Figures an analyst expects: dates on time axes, P(class or worse by date), a tornado chart, the
world's diagram, heatmaps on one colour scale with their run counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.questions import at_least_by_round
from sim.report.figure_data import Meta
from sim.report.plots import fan_chart, heatmap_figure
from sim.report.tornado import tornado_data
from sim.report.world_diagram import world_diagram
from sim.scenario import load_scenario
from sim.scenario.calendar import round_dates


@pytest.fixture(scope="module")
def small() -> sim.RunResult:
    return sim.run("precision-weapons", runs=400, seed=2, rounds=6, workers=1)


def test_a_time_axis_is_labelled_with_each_rounds_date() -> None:
    fan = pd.DataFrame({"round": [1, 2, 3], "q05": [1, 1, 1], "q25": [1, 2, 2], "q50": [2, 2, 3], "q75": [3, 3, 4],
                        "q95": [4, 4, 5]})
    meta = Meta("s", 1, 10, 3, round_dates=("2024-06-23", "2024-07-23", "2024-08-23"))
    figure = fan_chart(fan, meta=meta)
    figure.canvas.draw()
    ax = figure.axes[0]
    labels = {round(t): label.get_text() for t, label in zip(ax.get_xticks(), ax.get_xticklabels())}
    assert labels[2] == "Jul 2024" and labels[3] == "Aug 2024"
    assert ax.get_xlabel() == "date (first day of the round)"
    assert fan_chart(fan, meta=Meta("s", 1, 10, 3)).axes[0].get_xlabel() == "round", "no dates: rounds"


def test_class_or_worse_by_round_is_cumulative_and_ends_at_the_outcome(small: sim.RunResult) -> None:
    runs, trajectories, scenario = small.runs(), small.trajectories(), small.scenario
    table = at_least_by_round(runs, trajectories, scenario)
    classes = list(scenario.outcomes.classes)
    assert list(dict.fromkeys(table["class"])) == classes[2:]
    for cid, rows in table.groupby("class"):
        counts = rows.sort_values("round")["count"].to_numpy()
        assert (np.diff(counts) >= 0).all(), f"{cid}: a share reached by a date never falls later"
        worse = classes[classes.index(cid):]
        assert counts[-1] == runs["outcome"].astype(str).isin(worse).sum()
    # "militarized crisis or worse" by round r is the outcome measure with that horizon, evaluated alone
    from sim.experiments.questions import evaluate
    from sim.scenario.questions import Measure

    measure = Measure(question="q", kind="outcome", at_least="militarized_crisis", by=3)
    alone = evaluate({"m": measure}, runs, trajectories, scenario)["m"].sum()
    assert alone == table[(table["class"] == "militarized_crisis") & (table["round"] == 3)]["count"].item()
    # the same horizon given as round 3's first day, and a window opened by a date, read the scenario's calendar
    third = round_dates(scenario)[2]
    dated = {"by_date": Measure(question="q", kind="outcome", at_least="militarized_crisis", by=third),
             "since_date": Measure(question="q", kind="outcome", at_least="militarized_crisis", since=third, by=4),
             "since_round": Measure(question="q", kind="outcome", at_least="militarized_crisis", since=3, by=4)}
    answers = evaluate(dated, runs, trajectories, scenario)
    assert answers["by_date"].sum() == alone
    assert answers["since_round"].any(), "the window must hold crises for the comparison to mean anything"
    assert (answers["since_date"] == answers["since_round"]).all()


def test_the_tornado_ranks_a_planted_effect_first() -> None:
    rng = np.random.default_rng(3)
    points = pd.DataFrame({"point": range(60), "a": rng.uniform(0, 1, 60), "b": rng.uniform(0, 1, 60)})
    summary = pd.DataFrame({"point": range(60), "metric": "outcome.war", "p": 0.1 + 0.5 * points["a"]})
    data = tornado_data(points, summary, "outcome.war", ["b", "a"])
    assert list(data["parameter"]) == ["a", "b"]
    assert data.loc[0, "swing"] > 0.3 and data.loc[1, "swing"] < 0.15
    assert data.loc[0, "at_low"] < data.loc[0, "at_high"], "the metric rises with a"


def test_a_parameter_with_up_to_twice_the_groups_distinct_values_is_grouped_by_value() -> None:
    # 10 values (2 x GROUPS): one group per value, so the bar spans the extreme points exactly;
    # quintiles would average pairs (0.05 to 0.85 at 0.5 and 8.5).
    points = pd.DataFrame({"point": range(10), "a": np.arange(10.0)})
    summary = pd.DataFrame({"point": range(10), "metric": "outcome.war", "p": np.arange(10) / 10})
    row = tornado_data(points, summary, "outcome.war", ["a"]).iloc[0]
    assert (row["low"], row["high"], row["at_low"], row["at_high"]) == (0.0, 0.9, 0.0, 9.0)


def test_the_world_diagram_names_every_red_line_commitment_and_agreement() -> None:
    scenario = load_scenario("with-china")
    texts = " ".join(t.get_text() for t in world_diagram(scenario).axes[0].texts)
    for ids in (scenario.red_lines, scenario.commitments, scenario.agreements):
        for name in ids:
            assert name in texts
    assert all((a.label or aid) in texts for aid, a in scenario.actors.items())


def test_heatmaps_share_one_colour_scale_and_say_how_many_runs_each_cell_holds() -> None:
    points = pd.DataFrame({"point": range(4), "x": [0, 0, 1, 1], "y": [0, 1, 0, 1]})
    summary = pd.DataFrame({"point": list(range(4)) * 2, "metric": ["outcome.a"] * 4 + ["outcome.b"] * 4,
                            "p": [0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.03, 0.05], "n": 500})
    figure = heatmap_figure(points, summary, ["outcome.a", "outcome.b"], "x", "y")
    limits = {image.get_clim() for ax in figure.axes for image in ax.get_images()}
    assert limits == {(0.0, 0.4)}
    assert any("each cell from 500 runs" in t.get_text() for t in figure.texts)


def test_the_end_labels_of_close_curves_are_set_apart() -> None:
    from sim.report.timeline_plots import at_least_by_date

    # two classes ending half a point apart, two that no run reached: four labels, each at least
    # 8 points from the next (drawn at their own values they would overlap)
    ends = {"gray": 444, "proxy": 439, "war": 0, "nuclear": 0}
    table = pd.DataFrame([{"class": c, "round": r, "count": end * r // 3, "n": 1000}
                          for c, end in ends.items() for r in (1, 2, 3)])
    figure = at_least_by_date(table)
    figure.canvas.draw()
    labels = [t for t in figure.axes[0].texts if t.get_text().endswith("%")]
    assert sorted(t.get_text() for t in labels) == ["0.0%", "0.0%", "43.9%", "44.4%"]
    heights = sorted(t.get_window_extent().y0 * 72 / figure.dpi for t in labels)
    assert min(np.diff(heights)) >= 8.0
