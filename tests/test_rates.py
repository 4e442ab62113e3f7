"""Rate events (`kind: rate`): what a long record says about how often, as soft evidence.

A rate event counts an outcome class or an actor's action; in each run it is the yes/no event
it counts (whether it happens within the run, or by `by`), evaluated here on the hand-built
tables of test_backtest. Its likelihood is worked by hand: the model's share of runs gives a
monthly rate, the record's count is Poisson at that rate times its months, averaged over the
stated factor. The tail evidence must penalise a parameter point that produces a catastrophe,
and stop doing so when it is switched off.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from scipy import integrate, stats

from sim.backtest import evaluate, load_events
from sim.backtest.emulator import Emulator, features
from sim.backtest.likelihood import count_log_probability, monthly_hazard, rate_log_likelihood
from sim.backtest.waves import Evidence, Plausible, posterior
from sim.scenario import ScenarioError, load_scenario
from test_backtest import HEAD, hand_built_runs, hand_built_trajectories


def rate(eid: str, body: str) -> str:
    return textwrap.indent(f"{eid}:\n  question: q\n  kind: rate\n{textwrap.indent(body, '  ')}  date: 2024-12-31\n"
                           f"  sure: high\n  sources: [wide-press]\n", "  ")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def test_a_rate_is_evaluated_in_each_run_as_the_event_it_counts(tmp_path, baseline):
    path = tmp_path / "rates.yaml"
    path.write_text(HEAD + rate("clashes", "actor: north_korea\naction: border_clash\ntarget: south_korea\n"
                                           "rate: {at_least: 1, months: 100}\n")
                    + rate("clashes-by-5", "actor: north_korea\naction: border_clash\ntarget: south_korea\nby: 5\nrate: {at_most: 0, months: 10}\n")
                    + rate("wars", "at_least: regional_war\nrate: {at_most: 0, months: 851, factor: 3}\n"), encoding="utf-8")
    events = load_events(path)
    table = evaluate(events, hand_built_runs(), hand_built_trajectories(), baseline)
    # run 2 clashes in round 6 and ends in a regional war; a rate with no `by` looks at the whole run
    assert table.to_dict(orient="list") == {"clashes": [False, False, True], "clashes-by-5": [False, False, False],
                                            "wars": [False, False, True]}
    assert list(events.only(rates=True).events) == ["clashes", "clashes-by-5", "wars"]
    assert events.only(rates=False).events == {}


def test_a_malformed_rate_is_located(tmp_path):
    path = tmp_path / "rates.yaml"
    path.write_text(HEAD + rate("a", "at_least: nuclear_use\n")
                    + rate("b", "at_least: nuclear_use\nrate: {at_least: 3, at_most: 1, months: 10}\n")
                    + rate("c", "at_least: nuclear_use\nhappened: true\nrate: {at_most: 0, months: 10}\n")
                    + rate("d", "at_least: nuclear_use\nactor: russia\naction: war\nrate: {at_most: 0, months: 10}\n"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    text = str(err.value)
    assert "events.a: a 'rate' event needs rate" in text
    assert "expected at_least <= at_most, got 3 > 1" in text
    assert "events.c: a 'rate' event says how often, not whether" in text
    assert "events.d: a 'rate' event counts either an outcome class (at_least) or an actor's action" in text


def test_the_rate_likelihood_worked_by_hand():
    p = np.array([1.0 - math.exp(-0.5)])  # within 10 months: a rate of 0.05 a month
    assert monthly_hazard(p, 10.0) == pytest.approx([0.05])
    # 20 record months: a Poisson count with mean 1
    assert rate_log_likelihood(p, 10.0, None, 0, 20.0) == pytest.approx([-1.0])
    assert rate_log_likelihood(p, 10.0, 1, None, 20.0) == pytest.approx([math.log(1.0 - math.exp(-1.0))])
    assert rate_log_likelihood(p, 10.0, 1, 2, 20.0) == pytest.approx([math.log(math.exp(-1.0) * 1.5)])
    assert count_log_probability(np.array([2.0]), 3, 3) == pytest.approx([math.log(math.exp(-2.0) * 8 / 6)])


def test_the_stated_factor_averages_over_a_log_normal_rate():
    p, months, factor = np.array([0.01]), 24.0, 3.0
    mean = -math.log(1 - 0.01) / 24.0 * 946.0
    sigma = math.log(factor)

    def integrand(z: float) -> float:
        return stats.norm.pdf(z) * stats.poisson.pmf(0, mean * math.exp(sigma * z))

    exact = math.log(integrate.quad(integrand, -12, 12, epsabs=1e-13)[0])
    assert rate_log_likelihood(p, months, None, 0, 946.0, factor) == pytest.approx([exact], rel=1e-6)
    # uncertainty about the rate flattens the likelihood: it softens the verdict of 0 in 946 months on a
    # world with a 5% chance in 24 months (the rate could be a third of it)
    five = np.array([0.05])
    assert rate_log_likelihood(five, months, None, 0, 946.0, factor)[0] > rate_log_likelihood(five, months, None, 0, 946.0)[0]


def _evidence(with_tail: bool) -> Evidence:
    """Event 0: a yes/no event that happened (r = 1); event 1: the catastrophe, at most 0 in 946 months."""
    rates = ((1, None, 0, 946.0, 3.0, 24.0),) if with_tail else ()
    return Evidence(np.array([1.0, np.nan]), rates)


def test_the_tail_evidence_penalises_a_point_that_buys_an_event_with_a_catastrophe():
    # two points explain what happened equally well; one of them also gives a 5% catastrophe in 24 months
    p = np.array([[0.6, 0.0005], [0.6, 0.05]])
    with_tail = _evidence(True).log_likelihood(p)
    without = _evidence(False).log_likelihood(p)
    assert without[0] == pytest.approx(without[1])  # switched off: nothing tells them apart
    assert with_tail[0] - with_tail[1] > 1.0  # on: the catastrophe costs more than a nat


def test_the_tail_evidence_moves_the_posterior_away_from_the_catastrophe():
    """A one-parameter world (theta in [0, 1]) where theta makes the event that happened likelier
    (logit 2 theta - 1... ) and the catastrophe much likelier (logit -9 + 7 theta): with the tail the
    posterior mean falls; switched off, the yes/no event alone pulls it up."""
    low, high = np.array([0.0]), np.array([1.0])
    n_features = features(np.array([[0.5]])).shape[1]  # 1, z, z^2, z^3 with z = 2 theta - 1
    coefficients = np.zeros((2, n_features))
    coefficients[0, :2] = [0.0, 1.0]  # the event that happened: logit z
    coefficients[1, :2] = [-5.5, 3.5]  # the catastrophe: logit -5.5 + 3.5 z (0.01% to 11% in 24 months)
    emulator = Emulator(low, high, coefficients)
    means = {}
    for tail in (True, False):
        particles = posterior(emulator, _evidence(tail), Plausible(), 2000, np.random.default_rng(3))
        means[tail] = float(particles.weights @ particles.theta[:, 0])
        assert particles.ess >= 1000
    assert means[False] > 0.55  # the yes/no event alone favours high theta
    assert means[True] < means[False] - 0.1
