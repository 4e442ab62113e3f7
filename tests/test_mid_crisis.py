"""Mid-crisis moves in the scenario language (issue 17): blame per observer reaching red lines and
commitments, lines drawn and treaties signed inside the run, conditional injects, stops that hold.

Each test plays the noise-free duel world (tests/data/duel.yaml; proxy.yaml adds Delta, a group
Alpha sponsors) with the mechanism in use, and checks the behaviour exactly, or as a rate within
five standard errors where a probability decides it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.outcomes import runs_table
from sim.scenario import ScenarioError
from test_engine import (
    CALM, DUEL, MANY, PROXY, activities, assert_rate, inject, line, loaded, new_model, option, outcome_row, play,
    script, utility,
)
from sim.scenario.loader import with_overrides

# -- blame per observer reaching red lines and commitments -------------------------------------------

# Beta's line is named on Alpha, the sponsor: Alpha striking Beta, directly or through Delta.
SPONSOR_LINE = {
    "red_lines.beta_no_strikes": {
        "owner": "beta", "trigger": {"actor": "alpha", "actions": ["strike"], "target": "beta"},
        "response": {"action": "strike", "target": "alpha", "lag": 0}, "cost": 1.0, "publicity": 1.0,
        "specificity": 1.0, "credibility": 0.5, "drawn": "2023-06-01", "sources": ["judgement"]},
    # Gamma's line on the same act, Gamma never blaming Alpha
    "red_lines.gamma_no_strikes": {
        "owner": "gamma", "trigger": {"actor": "alpha", "actions": ["strike"], "target": "beta"},
        "response": {"action": "threaten", "target": "alpha", "lag": 0}, "cost": 1.0, "publicity": 1.0,
        "specificity": 1.0, "credibility": 0.5, "drawn": "2023-06-01", "sources": ["judgement"]},
    "actions.threaten.allowed.gamma": ["alpha"],
    "commitments.pact.status": "lapsed",  # the pact stays out of the way
}
DELTA_STRIKES = script("delta", "idle>beta", "strike>beta", "idle>beta")


def test_a_proxys_attack_fires_the_sponsor_named_line_at_the_owners_attribution_rate():
    # 20,000 runs: the share of runs Beta saw its line crossed is 0.3 within 5 standard errors
    # (0.016); Gamma, whose attribution is 0, never sees its line crossed.
    world = SPONSOR_LINE | DELTA_STRIKES | {"actors.delta.attribution": {"beta": 0.3, "gamma": 0.0}}
    model = new_model(world, replicates=MANY, world=PROXY)
    for _ in range(3):
        model.step()
    by_beta, by_gamma = line(model, "beta_no_strikes"), line(model, "gamma_no_strikes")
    seen = model.first_crossed[by_beta] > 0
    assert_rate(seen, 0.3)
    np.testing.assert_array_equal(model.first_crossed[by_beta][seen], 2)  # Delta struck in round 2
    # the owner's response, the round it saw the crossing, exactly where it saw it
    np.testing.assert_array_equal(model.events[option(model, "beta", "strike>alpha")], seen)
    assert not (model.first_crossed[by_gamma] > 0).any()
    assert not model.events[option(model, "gamma", "threaten>alpha")].any()
    # in fact the line was crossed (by the sponsor's proxy) in every run
    np.testing.assert_array_equal(model.first_fact[by_beta], 2)


def test_a_commitment_naming_the_sponsor_is_triggered_by_its_proxy_where_the_guarantor_blames_it():
    # The pact guards Beta against Alpha alone; Delta, Alpha's proxy, strikes Beta. Gamma blames
    # Alpha in 40% of runs and then strikes Alpha; in the others it does nothing (Delta is no
    # listed attacker). 20,000 runs, tolerance 5 standard errors (0.017).
    world = DELTA_STRIKES | {"commitments.pact.trigger.attackers": ["alpha"],
                             "actors.delta.attribution": {"gamma": 0.4, "beta": 1.0}}
    model = new_model(world, replicates=MANY, world=PROXY)
    for _ in range(3):
        model.step()
    at_sponsor = model.events[option(model, "gamma", "strike>alpha")]
    assert_rate(at_sponsor, 0.4)
    assert not model.events[option(model, "gamma", "strike>delta")].any()


def test_attribution_per_observer_is_validated_and_located(tmp_path: Path):
    base = loaded(PROXY)
    with pytest.raises(ScenarioError) as info:
        with_overrides(base, {"actors.delta.attribution": {"betta": 0.5}})
    [problem] = info.value.problems
    assert problem.path == "actors.delta.attribution.betta"
    assert problem.message.startswith("unknown actor (expected one of the scenario's actors, got 'betta')")
    with pytest.raises(ScenarioError) as info:
        with_overrides(base, {"actors.delta.attribution": {"beta": 1.5}})
    [problem] = info.value.problems
    assert problem.path == "actors.delta.attribution" and problem.message == "beta: expected a number in [0, 1], got 1.5"
    # one number for every observer, and a distribution, still load
    assert with_overrides(base, {"actors.delta.attribution": {"beta": [2, 2]}}).actors["delta"].attribution.kind == "beta"


# -- lines drawn and treaties signed inside the run --------------------------------------------------

# Gamma threatens Alpha every round; Alpha's line against it answers with a threat.
THREAT_LINE = script("gamma", "threaten>alpha") | {
    "red_lines.alpha_no_threats": {
        "owner": "alpha", "trigger": {"actor": "gamma", "actions": ["threaten"], "target": "alpha"},
        "response": {"action": "threaten", "target": "gamma", "lag": 0}, "cost": 1.0, "publicity": 1.0,
        "specificity": 1.0, "credibility": 0.5, "drawn": "2024-03-15", "sources": ["judgement"]},
    "commitments.pact.status": "lapsed",
}


def _answered(model) -> bool:
    return bool(model.events[option(model, "alpha", "threaten>gamma"), 0])


def test_a_line_drawn_in_round_k_cannot_be_crossed_before_k():
    # Drawn on 15 March: round 3 of monthly rounds from 1 January. Gamma's threats of rounds 1-2
    # cross nothing; its threat of round 3 does, and Alpha answers when it sees it, in round 4.
    model, _, answered = play(THREAT_LINE, watch=_answered)
    assert answered == [False, False, False, True, True, True]
    row = outcome_row(model)
    assert row["round.alpha_no_threats"] == 3 and row["crossed.alpha_no_threats"]
    short, _, _ = play(THREAT_LINE | {"rounds": 2})
    assert outcome_row(short)["crossed.alpha_no_threats"] is False
    # drawn before the start, it stands from round 1
    _, _, answered = play(THREAT_LINE | {"red_lines.alpha_no_threats.drawn": "2023-12-01"}, watch=_answered)
    assert answered == [False, True, True, True, True, True]


def test_a_commitment_signed_in_round_k_is_not_triggered_before_k():
    # Alpha strikes Beta in rounds 2 and 4; the pact, signed on 10 March (round 3), obliges Gamma
    # to strike Alpha the round it sees an attack: only the strike of round 4 is answered.
    world = script("alpha", "idle>beta", "strike>beta", "idle>beta", "strike>beta", "idle>beta")
    gamma_strikes = lambda m: bool(m.events[option(m, "gamma", "strike>alpha"), 0])  # noqa: E731
    _, _, strikes = play(world | {"commitments.pact.signed": "2024-03-10"}, watch=gamma_strikes)
    assert strikes == [False, False, False, False, True, False]
    _, _, strikes = play(world, watch=gamma_strikes)
    assert strikes == [False, False, True, False, True, False]


def test_an_agreement_from_a_date_inside_the_run_holds_from_that_round():
    # A truce in force from 10 April (round 4): it stops Alpha's war on Beta that round, not before.
    world = activities("alpha", "war>beta") | {"agreements.truce.in_force": True, "agreements.truce.from": "2024-04-10"}
    model, trace, agreed = play(world, watch=lambda m: bool(m.agreed[0, 0]))
    assert agreed == [False, False, False, True, True, True]
    assert trace[3] == ". -war>beta | . | . ||"
    assert outcome_row(model)["agreed.truce"] == 4
    # proposals wait for that round too: both sides want it at every chance, signed in round 4
    wanted = {"agreements.truce.value": {"alpha": 20.0, "beta": 20.0}, "agreements.truce.proposal_rate": 1.0,
              "agreements.truce.from": "2024-04-10"}
    _, _, agreed = play(wanted, watch=lambda m: bool(m.agreed[0, 0]))
    assert agreed == [False, False, False, True, True, True]


# -- conditional injects -----------------------------------------------------------------------------

def test_a_conditional_inject_acts_the_round_after_its_event_in_the_runs_that_had_it():
    # In half the runs (drawn per run) Alpha threatens Beta in round 2; Gamma threatens Alpha when
    # Alpha has threatened Beta: in round 3 in exactly those runs, and never in the others.
    world = inject("provocation", 2, force={"alpha": "threaten>beta"}, probability=0.5) | inject(
        "answer", 1, force={"gamma": "threaten>alpha"}) | {
        "injects.answer.when": {"actor": "alpha", "action": "threaten", "target": "beta"},
        "commitments.pact.status": "lapsed"}
    model = new_model(world, replicates=400)
    provoked, answers = None, []
    for _ in range(6):
        model.step()
        if model.round == 2:
            provoked = model.events[option(model, "alpha", "threaten>beta")].copy()
        answers.append(model.events[option(model, "gamma", "threaten>alpha")].copy())
    assert 0 < provoked.sum() < 400
    expected = [np.zeros(400, dtype=bool)] * 2 + [provoked] + [np.zeros(400, dtype=bool)] * 3
    np.testing.assert_array_equal(np.array(answers), np.array(expected))


def test_a_conditional_inject_waits_for_a_state_to_cross_a_level():
    # Morale falls 0.1 a round from 0.5: below 0.25 after round 3, so the inject acts in round 4.
    world = inject("answer", 1, force={"gamma": "threaten>alpha"}) | {
        "injects.answer.when": {"state_below": {"morale": 0.25}}, "state.morale.drift": -0.1}
    _, trace, _ = play(world)
    assert trace == [CALM] * 3 + [". | . | . threaten>alpha ||"] + [CALM] * 2
    # `until` closes the window: a condition that holds only later never acts
    _, trace, _ = play(world | {"injects.answer.until": 3})
    assert trace == [CALM] * 6
    # rising 0.1 a round from 0.5, it stands at or above 0.75 after round 3: the inject acts in round 4
    rising = inject("answer", 1, force={"gamma": "threaten>alpha"}) | {
        "injects.answer.when": {"state_above": {"morale": 0.75}}, "state.morale.drift": 0.1}
    _, trace, _ = play(rising)
    assert trace == [CALM] * 3 + [". | . | . threaten>alpha ||"] + [CALM] * 2


def test_a_condition_is_checked_against_the_scenario():
    base = loaded(DUEL)
    when = {"round": 1, "force": {"gamma": {"action": "threaten", "target": "alpha"}}, "sources": ["judgement"]}
    with pytest.raises(ScenarioError) as info:
        with_overrides(base, {"injects.answer": when | {"when": {"actor": "beta", "action": "arm"}}})
    assert [p.path for p in info.value.problems] == ["injects.answer.when.action"]
    with pytest.raises(ScenarioError) as info:
        with_overrides(base, {"injects.answer": when | {"when": {"state_above": {"moral": 0.5}}}})
    assert [p.path for p in info.value.problems] == ["injects.answer.when.state_above.moral"]
    with pytest.raises(ScenarioError) as info:
        with_overrides(base, {"injects.answer": when | {"when": {"actor": "beta"}}})
    assert "needs both actor and action" in info.value.problems[0].message


# -- a stop that holds -------------------------------------------------------------------------------

# Gamma supplies Beta from the start and wants to (its utility for supplies is 5, for idling 0).
AID = activities("gamma", "supply>beta") | utility("gamma", supply=5.0) | {"rounds": 12,
                                                                          "commitments.pact.status": "lapsed"}


def _aid_in_force(world: dict) -> np.ndarray:
    """(rounds, runs): where Gamma's supplies to Beta are in force at the end of each round."""
    model = new_model(world, replicates=200)
    rows = []
    while model.running:
        model.step()
        rows.append(model.in_force[option(model, "gamma", "supply>beta")].copy())
    return np.array(rows)


def test_a_stop_for_n_rounds_bars_the_restart_then_the_actor_chooses_freely():
    # "Gamma cuts the supplies in month 3 for 6 months": in force in no run in rounds 3-8, back
    # in every run from round 9 (Gamma still wants it).
    held = _aid_in_force(AID | inject("cut", 3, stop={"gamma": ["supply>beta"]})
                         | {"injects.cut.stop.gamma": [{"action": "supply", "target": "beta", "for": 6}]})
    assert held[:2].all() and not held[2:8].any() and held[8:].all()
    # `until` bars it through its round too
    held = _aid_in_force(AID | inject("cut", 3, until=8, stop={"gamma": ["supply>beta"]}))
    assert held[:2].all() and not held[2:8].any() and held[8:].all()
    # a stop alone holds one round: restarted the next
    once = _aid_in_force(AID | inject("cut", 3, stop={"gamma": ["supply>beta"]}))
    assert not once[2].any() and once[3:].all()


# -- a question on a sponsor's act answered by its proxies --------------------------------------------

def test_a_question_on_a_sponsor_taking_its_proxys_action_counts_the_proxys_acts():
    # Alpha may strike only Gamma; Delta, its proxy, strikes Beta in round 2 of every run. "Alpha
    # strikes Beta" is accepted and answered by Delta's strike: yes by round 2, no by round 1.
    from sim.engine.outcomes import trajectory_table
    from sim.experiments.questions import evaluate
    from sim.scenario.questions import Question, question_problems

    world = DELTA_STRIKES | {"actions.strike.allowed.alpha": ["gamma"]}
    model = new_model(world, replicates=4, world=PROXY)
    while model.running:
        model.step()
    asks = {f"by_{r}": Question(question="Alpha strikes Beta", kind="takes", actor="alpha", action="strike",
                                target="beta", by=r) for r in (1, 2)}
    asks["twice"] = Question(question="Alpha strikes Beta twice", kind="takes", actor="alpha", action="strike",
                             target="beta", rounds=2)
    assert list(question_problems(asks, model.scenario)) == []
    answers = evaluate(asks, runs_table(model, 0).to_pandas(), trajectory_table(model, 0).to_pandas(), model.scenario)
    assert answers.to_dict("list") == {"by_1": [False] * 4, "by_2": [True] * 4, "twice": [False] * 4}
    # an action neither the actor nor its proxies may take toward the target is still refused
    wrong = {"x": Question(question="Alpha strikes Gamma's ally", kind="takes", actor="alpha", action="war",
                           target="gamma")}
    [(path, message)] = list(question_problems(wrong, model.scenario))
    assert path == ("x", "target") and message == "alpha may take war only toward beta (got 'gamma')"


# -- the engine's rule for draws holds: a run replays alone ------------------------------------------

def test_a_run_using_every_mid_crisis_move_replays_alone_exactly():
    # Blame per observer on a sponsor's line, a line drawn and a pact signed inside the run, a
    # conditional inject and a stop that holds, with chance everywhere (attribution, the inject's
    # probability, utility choices): each traced replicate, replayed alone (sim trace), gives the
    # row the block recorded.
    from sim.engine.model import EscalationModel, block_generator
    from sim.experiments.ensemble import tabulate
    from sim.report.trace import differences, replay

    world = SPONSOR_LINE | DELTA_STRIKES | activities("gamma", "supply>beta") | utility("gamma", supply=1.0, temperature=1.0) | {
        "actors.delta.attribution": {"beta": 0.5, "gamma": 0.2},
        "red_lines.beta_no_strikes.drawn": "2024-02-10",
        "commitments.pact.status": "active", "commitments.pact.signed": "2024-03-10",
        "injects.cut": {"round": 2, "probability": 0.5, "sources": ["judgement"],
                        "stop": {"gamma": [{"action": "supply", "target": "beta", "for": 2}]}},
        "injects.answer": {"round": 1, "sources": ["judgement"], "when": {"actor": "delta", "action": "strike"},
                           "force": {"gamma": {"action": "threaten", "target": "alpha"}}},
    }
    scenario = with_overrides(loaded(PROXY), world)
    size = 16
    model = EscalationModel(scenario, replicates=size, rng=block_generator(3, 0, 0))
    while model.running:
        model.step()
    recorded = tabulate(model, 0, trajectories=False)[0].to_pylist()
    for replicate in (0, 5, 11):
        _, row = replay(scenario, seed=3, block=0, size=size, replicate=replicate)
        assert differences(recorded[replicate], row) == []
