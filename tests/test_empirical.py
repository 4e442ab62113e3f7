"""The `empirical` distribution kind: weighted samples, alone or drawn jointly by one index.

A calibration's posterior is a table of weighted parameter points; `joint: NAME` makes every
parameter of one group read the same row, so the posterior's correlations survive sampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.parameters import Parameters
from sim.scenario import Distribution, ScenarioError, dump_scenario, load_scenario

DUEL = Path(__file__).resolve().parent / "data" / "duel.yaml"
ALPHA = "actors.alpha.resolve={empirical: {values: [0.2, 0.8], weights: [1, 3], joint: post}}"
BETA = "actors.beta.resolve={empirical: {values: [0.3, 0.9], weights: [1, 3], joint: post}}"


def test_loads_and_prints_as_written():
    s = load_scenario(DUEL, [ALPHA])
    value = s.actors["alpha"].resolve
    assert isinstance(value, Distribution)
    assert (value.args, value.weights, value.joint) == ((0.2, 0.8), (1.0, 3.0), "post")
    assert str(value) == "empirical(2 samples, mean 0.65, joint post)"
    assert load_scenario(DUEL, [ALPHA]) == s
    assert dump_scenario(load_scenario(DUEL, [ALPHA])) == dump_scenario(s)  # stable through a dump


def test_weights_default_to_equal():
    s = load_scenario(DUEL, ["actors.alpha.resolve={empirical: {values: [0.1, 0.2, 0.6]}}"])
    assert s.actors["alpha"].resolve.mean == pytest.approx(0.3)


@pytest.mark.parametrize(
    "value, message",
    [
        ("{values: [0.2, 0.8], weights: [1, -3]}", "expected empirical weights >= 0, got weights[1] = -3"),
        ("{values: [0.2, 0.8], weights: [0, 0]}", "expected empirical weights with a positive sum, got all 0"),
        ("{values: [0.2, 0.8], weights: [1]}",
         "expected empirical weights to be a list of 2 numbers, one per value, got [1]"),
        ("{values: [0.2, 1.5]}", "expected empirical values within [0, 1], got values[1] = 1.5"),
        ("{values: []}", "expected empirical values to be a list of 1 to 100,000 numbers, got []"),
    ],
)
def test_bad_samples_are_located_errors(tmp_path, value, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {DUEL}\nname: bad\nactors:\n  alpha:\n    resolve: {{empirical: {value}}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column, problem.path) == (str(path), 5, 5, "actors.alpha.resolve")
    assert problem.message == message


def test_a_joint_group_must_be_one_table():
    with pytest.raises(ScenarioError) as info:
        load_scenario(DUEL, [ALPHA, BETA.replace("[1, 3]", "[1, 1]")])
    (problem,) = info.value.problems
    assert problem.path == "actors.beta.resolve"
    assert problem.message == ("joint group 'post' (expected the 2 samples and weights of actors.alpha.resolve, "
                               "got 2 samples with other weights)")


def test_samples_by_weight():
    """40,000 draws of weight 3/4: the share's sd is 0.0022, so 0.01 is 4.6 sd."""
    s = load_scenario(DUEL, [ALPHA])
    drawn = Parameters(s, np.random.default_rng(7), 40_000)["actors.alpha.resolve"]
    assert set(np.unique(drawn)) == {0.2, 0.8}
    assert abs((drawn == 0.8).mean() - 0.75) < 0.01


def test_a_joint_group_draws_whole_rows():
    s = load_scenario(DUEL, [ALPHA, BETA])
    params = Parameters(s, np.random.default_rng(7), 1000)
    alpha, beta = params["actors.alpha.resolve"], params["actors.beta.resolve"]
    assert np.array_equal(alpha == 0.8, beta == 0.9)  # never (0.2, 0.9) or (0.8, 0.3)
    assert set(params.sampled) == {"actors.alpha.resolve", "actors.beta.resolve"}  # both recorded as param.<path>


def test_a_design_coordinate_picks_rows_by_cumulative_weight():
    d = load_scenario(DUEL, [ALPHA]).actors["alpha"].resolve  # rows weighted 1 and 3: cumulative 0.25, 1
    assert d.rows_at(np.array([0.0, 0.2499, 0.25, 0.9999])).tolist() == [0, 0, 1, 1]
    four = "actors.alpha.resolve={empirical: {values: [0.5, 0.1, 0.3, 0.2], weights: [1, 1, 1, 1]}}"
    # the inverse CDF, inf{x: F(x) >= p}, of 0.1 0.2 0.3 0.5 at 0.25 and 0.75
    assert load_scenario(DUEL, [four]).actors["alpha"].resolve.quantiles([0.25, 0.75]).tolist() == [0.1, 0.3]


def test_a_robustness_study_keeps_a_joint_groups_rows_together():
    from sim.experiments.robust import plan_study

    study = plan_study(load_scenario(DUEL, [ALPHA, BETA]), levers=["actors.alpha.persistence=0.5,0.9"], points=16,
                       runs=10, seed=5)
    paths = [u.path for u in study.uncertainties]
    rows = {(s[paths.index("actors.alpha.resolve")], s[paths.index("actors.beta.resolve")]) for s in study.states}
    assert rows == {(0.2, 0.3), (0.8, 0.9)}  # never 0.2 with 0.9: one coordinate picks the group's row


def test_explain_states_an_empirical_once_and_its_joint_group():
    from sim.report.explain import explain

    head = explain(load_scenario(DUEL, [ALPHA, BETA]), "actors.alpha.resolve").splitlines()[0]
    assert head == ("actors.alpha.resolve = empirical(2 samples, mean 0.65, joint post): drawn once per run "
                    "(one row of the joint group 'post' for every member) (results: param.actors.alpha.resolve)")
