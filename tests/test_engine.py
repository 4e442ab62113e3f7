"""The engine's specification, model version 2 (docs/design.md, "The model", docs/model.md).

Every test plays a small world (tests/data/duel.yaml; tests/data/proxy.yaml adds a non-state
actor) in which nothing is left to chance, scripts the actors it does not study, records the
whole trace and asserts all of it. A trace is one line per round:

    "alpha's events | beta's events | gamma's events || activities in force at the end"

An actor's events are its moves (`strike>gamma`), the starts of its activities (`+arm>beta`)
and its stops (`-arm>beta`), in the order of its options; `.` is the neutral move `idle`
(allowed toward one party only, so it needs no target). In force: `gamma:arm>beta`.

Exact tests run noise-free: every probability is 0 or 1 in floating point (a logit of 45 is
exactly 1.0), and a utility policy at temperature 0.01 leaves its losers weights below e^-400.
The replicates of a noise-free run must agree, and `play` checks that they do. Where a
mechanism is stochastic the test measures a rate over 20,000 replicates and allows five
standard errors either side of the value the formula gives: a bound that holds for any seed
(a false alarm about once in 1.7 million), never a seed found to pass.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from sim.engine.clock import DAYS
from sim.engine.causes import CAUSES
from sim.engine.commitments import STATUSES
from sim.engine.model import EscalationModel
from sim.engine.outcomes import runs_table, trajectory_table
from sim.scenario import Scenario, load_scenario

DATA = Path(__file__).parent / "data"
DUEL = DATA / "duel.yaml"
PROXY = DATA / "proxy.yaml"
ACTIONS = ("talk", "idle", "threaten", "sanction", "supply", "arm", "strike", "war")
# Any seed must pass: ENGINE_TEST_SEED=123 pytest tests/test_engine.py
SEED = int(os.environ.get("ENGINE_TEST_SEED", "7"))
MANY = 20_000
# Noise-free runs play 50 replicates that must agree: a tie the test did not intend (two options
# drawn at even odds) then passes unnoticed with probability 2^-49 at most.
SAME = 50
WEEK = 7 / DAYS["month"]  # a week in months: 0.23
# The owner of a red line never enforces: logit -20 + 50 x (resolve 0 - 1/2) = -45.
NEVER_ENFORCE = {"dynamics.enforcement.bias": -20.0, "actors.alpha.resolve": 0.0}
CALM = ". | . | . ||"


# -- building worlds -------------------------------------------------------------------------------


def _move(text: str) -> dict:
    action, target = text.split(">")
    return {"action": action, "target": target}


def script(actor: str, *moves: str) -> dict:
    """A scripted policy: `moves` ("strike>beta") one a round, then the last one for ever."""
    return {f"actors.{actor}.policy": {"name": "scripted", "moves": [_move(m) for m in moves]}}


def activities(actor: str, *moves: str) -> dict:
    """The actor's activities in force at the start (the status quo)."""
    return {f"actors.{actor}.activities": [_move(m) for m in moves]}


def utility(actor: str, toward: dict | None = None, temperature: float = 0.01, **preferences: float) -> dict:
    """A utility policy that idles: every action -10, idle 0, unless `preferences` (per action)
    or `toward` ({target: {action: value}}) say otherwise."""
    general = {a: -10.0 for a in ACTIONS} | {"idle": 0.0} | preferences
    return {
        f"actors.{actor}.policy": {"name": "utility", "temperature": temperature},
        f"actors.{actor}.preferences": general,
        f"actors.{actor}.preferences_toward": toward or {},
    }


def step_keeping_what_choices_read(model: EscalationModel) -> dict[str, np.ndarray]:
    """One round, after which the stance, posture and open options the round's choices read are
    back in place (the model drops them once the choices are made), so that a test may compute
    an actor's utility terms after the round as the policy did. Returns them."""
    read: dict[str, np.ndarray] = {}
    apply = model._apply_decisions

    def keep_then_apply() -> None:
        read.update(stance=model.stance, posture=model.posture, open=model.open)
        apply()

    model._apply_decisions = keep_then_apply
    model.step()
    del model._apply_decisions
    model.stance, model.posture, model.open = read["stance"], read["posture"], read["open"]
    return read


def inject(name: str, round: int, **what) -> dict:
    """An inject (force, stop, sign, set_state, set_status, set, until, probability)."""
    if "force" in what:
        what["force"] = {a: _move(m) for a, m in what["force"].items()}
    if "stop" in what:
        what["stop"] = {a: [_move(m) for m in ms] for a, ms in what["stop"].items()}
    return {f"injects.{name}": {"round": round, **what, "sources": ["judgement"]}}


def weekly(rounds: int = 6) -> dict:
    return {"round": {"length": 1, "unit": "week"}, "rates_per": "month", "rounds": rounds}


@functools.cache
def loaded(world: Path) -> Scenario:
    """Each world file read once (a test's overrides apply to a copy)."""
    return load_scenario(world)


def new_model(overrides: dict | None = None, replicates: int = 3, world: Path = DUEL) -> EscalationModel:
    return EscalationModel(loaded(world), replicates=replicates, rng=SEED, overrides=overrides or {})


# -- reading a run ---------------------------------------------------------------------------------


def render(model: EscalationModel, r: int = 0) -> str:
    """Replicate r's last round as a trace line (see the module docstring)."""
    t = model.tables
    columns = []
    for i in range(len(t.actors)):
        tokens = []
        for o in t.of_actor[i]:
            name = f"{t.actions[t.action[o]]}>{t.actors[t.target[o]]}"
            if model.stopped[o, r]:
                tokens.append("-" + name)
            if model.events[o, r]:
                tokens.append("." if t.action[o] == t.neutral else ("+" if model.option_activity[o] else "") + name)
        columns.append(" ".join(tokens))
    force = [
        f"{t.actors[t.actor[o]]}:{t.actions[t.action[o]]}>{t.actors[t.target[o]]}" for o in np.flatnonzero(model.in_force[:, r])
    ]
    return " | ".join(columns) + " ||" + "".join(" " + f for f in force)


def play(overrides: dict | None = None, replicates: int = SAME, world: Path = DUEL, watch=None):
    """Run a noise-free world to its end: (model, trace, and `watch(model)` after each round).
    Every replicate must play the same trace."""
    model = new_model(overrides, replicates, world)
    trace, watched = [], []
    while model.running:
        model.step()
        for name in ("events", "stopped", "in_force"):
            state = getattr(model, name)
            disagree = np.flatnonzero((state != state[:, :1]).any(axis=0))
            assert not len(disagree), (
                f"replicates disagree in round {model.round}: {render(model, 0)!r} and {render(model, disagree[0])!r}"
            )
        trace.append(render(model))
        if watch is not None:
            watched.append(watch(model))
    return model, trace, watched


def option(model: EscalationModel, actor: str, move: str) -> int:
    action, target = move.split(">")
    return model.tables.option(actor, action, target)


def watch_of(model: EscalationModel, observer: str, actor: str, target: str) -> int:
    t = model.tables
    return model.watches.index[(t.index(observer), t.pair_index(t.index(actor), t.index(target)))]


def line(model: EscalationModel, lid: str) -> int:
    return list(model.scenario.red_lines).index(lid)


def outcome_row(model: EscalationModel) -> dict:
    """The runs table of a noise-free run: one value per column, the same in every replicate."""
    table = runs_table(model, 0).to_pydict()
    row = {}
    for key, values in table.items():
        if key != "run" and not key.startswith("param."):
            assert len(set(values)) == 1, f"replicates disagree on {key}: {set(values)}"
            row[key] = values[0]
    return row


def status(model: EscalationModel, cid: str = "pact") -> list[str]:
    return sorted({STATUSES[s] for s in model.status[list(model.scenario.commitments).index(cid)]})


def assert_rate(hits: np.ndarray, p: float) -> None:
    """The share of `hits` is p within five standard errors."""
    n = hits.size
    se = math.sqrt(p * (1 - p) / n)
    assert abs(hits.mean() - p) < 5 * se, f"measured {hits.mean():.4f}, expected {p:.4f} +- {5 * se:.4f}"


def logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def stake(weight: float, publicity: float, specificity: float, drawn: dt.date, day: dt.date) -> float:
    """What backing down costs (Fearon 1994): grows with the line's age in real time."""
    return weight * publicity * specificity * (1 + (day - drawn).days / 365.25)


# -- policies ---------------------------------------------------------------------------------------


def test_the_quiet_world_stays_quiet():
    model, trace, _ = play()
    assert trace == [CALM] * 6
    assert (model.peak_new == 0).all()


def test_scripted_policy_plays_its_moves_then_repeats_the_last():
    _, trace, _ = play(script("alpha", "talk>beta", "threaten>gamma", "idle>beta", "threaten>beta"))
    assert trace == [
        "talk>beta | . | . ||",
        "threaten>gamma | . | . ||",
        ". | . | . ||",
        "threaten>beta | . | . ||",
        "threaten>beta | . | . ||",
        "threaten>beta | . | . ||",
    ]


def test_tit_for_tat_opens_then_answers_the_opponents_last_move_in_kind():
    # Beta answers what it saw alpha do toward it last round with its own nearest-rung option,
    # and plays its opening again when alpha did nothing toward it (round 6). Alpha's strike
    # on beta brings in gamma, beta's guarantor (the pact), in round 3.
    model, trace, _ = play(
        script("alpha", "threaten>beta", "strike>beta", "talk>beta", "idle>beta", "threaten>gamma", "idle>beta")
        | {"actors.beta.policy": {"name": "tit_for_tat", "opponent": "alpha", "opening": _move("talk>alpha")}}
    )
    assert trace == [
        "threaten>beta | talk>alpha | . ||",
        "strike>beta | threaten>alpha | . ||",
        "talk>beta | strike>alpha | . strike>alpha ||",
        ". | talk>alpha | . ||",
        "threaten>gamma | . | . ||",
        ". | talk>alpha | . ||",
    ]
    assert status(model) == ["invoked"]


def test_utility_policy_takes_what_it_prefers():
    _, trace, _ = play(utility("alpha", toward={"beta": {"threaten": 10.0}}))
    assert trace == ["threaten>beta | . | . ||"] * 6


def test_escalation_aversion_weighs_escalation_points_by_caution():
    # Alpha values threatening and striking beta alike (10); aversion 40 x caution (1 - risk
    # tolerance 0) x escalation points costs the threat 40/7 and the strike 40.
    _, trace, _ = play(
        utility("alpha", toward={"beta": {"threaten": 10.0, "strike": 10.0}})
        | {"dynamics.utility.escalation_aversion": 40.0, "actors.alpha.risk_tolerance": 0.0}
    )
    assert trace == ["threaten>beta | . | . ||"] * 6
    # the utility of every option: preference - aversion x (1 - risk tolerance) x max(points, 0)
    model = new_model(
        utility("alpha", toward={"beta": {"threaten": 10.0}})
        | {"dynamics.utility.escalation_aversion": 4.0, "actors.alpha.risk_tolerance": 0.25}
    )
    alpha, t = model.actors_by_index[0], model.tables
    points = {"talk": -2 / 28, "idle": 0.0, "threaten": 4 / 28, "sanction": 12 / 28, "strike": 1.0, "war": 1.0}
    expected = [
        (10.0 if (t.actions[t.action[o]], t.actors[t.target[o]]) == ("threaten", "beta") else 0.0 if t.action[o] == t.neutral else -10.0)
        - 4.0 * 0.75 * max(points[t.actions[t.action[o]]], 0.0)
        for o in t.of_actor[0]
    ]
    np.testing.assert_allclose(alpha.policy.utilities(alpha), np.repeat(np.array(expected)[:, None], 3, axis=1))


def test_utility_policy_with_reciprocity_answers_the_rung_it_was_shown():
    # Only reciprocity counts: alpha matches the rung of beta's perceived stance toward it,
    # which is beta's last move or, once beta is at war with it, the war in force.
    model, trace, _ = play(
        utility("alpha", **{a: 0.0 for a in ACTIONS})
        | {"actors.alpha.reciprocity": 10.0, "commitments.pact.status": "nullified", "rounds": 5}
        | script("beta", "threaten>alpha", "strike>alpha", "idle>alpha", "war>alpha")
    )
    assert trace == [
        ". | threaten>alpha | . ||",
        "threaten>beta | strike>alpha | . ||",
        "strike>beta | . | . ||",
        ". | +war>alpha | . || beta:war>alpha",
        "+war>beta |  | . || alpha:war>beta beta:war>alpha",
    ]


def test_an_actor_takes_at_most_moves_per_round_options():
    # Two options tie; a pick is drawn with replacement moves_per_round times, so with one
    # move alpha takes exactly one of them, with two both in half the rounds, with three in
    # three quarters; with none it only keeps its activities.
    tie = utility("alpha", toward={"beta": {"threaten": 10.0}, "gamma": {"threaten": 10.0}})
    both = [option(new_model(), "alpha", "threaten>beta"), option(new_model(), "alpha", "threaten>gamma")]
    for moves, p_both in ((1, 0.0), (2, 0.5), (3, 0.75)):
        model = new_model(tie | {"actors.alpha.moves_per_round": moves}, replicates=MANY)
        model.step()
        alpha = model.events[model.tables.of_actor[0]]
        assert (alpha.sum(axis=0) == alpha[both].sum(axis=0)).all()
        taken = alpha[both].sum(axis=0)
        assert ((taken >= 1) & (taken <= moves)).all()
        if p_both == 0.0:
            assert (taken == 1).all()
        else:
            assert_rate(taken == 2, p_both)
    _, trace, _ = play(tie | activities("alpha", "sanction>gamma") | {"actors.alpha.moves_per_round": 0})
    assert trace == [" | . | . || alpha:sanction>gamma"] * 6


# -- standing activities ----------------------------------------------------------------------------


def test_standing_activities_are_in_force_from_the_start_and_stay_so():
    # The status quo: a war, sanctions and arms deliveries. Nobody starts anything, so nothing
    # is an event: no red line is crossed, no commitment triggered, and the run is calm.
    model, trace, _ = play(activities("alpha", "war>beta") | activities("gamma", "sanction>alpha", "arm>beta"))
    assert trace == [". | . | . || alpha:war>beta gamma:sanction>alpha gamma:arm>beta"] * 6
    assert (model.first_crossed == 0).all()
    assert status(model) == ["active"]
    np.testing.assert_array_equal(model.credibility, 0.5)
    table = outcome_row(model)
    assert table["outcome"] == "calm"
    assert table["first.gamma.arm"] == 0 and table["rounds.gamma.arm"] == 6
    assert table["first.alpha.war"] == 0 and table["rounds.alpha.war"] == 6
    assert table["peak_round"] == None and table["settled"] == False


def test_an_activity_in_force_at_the_start_never_crosses_a_red_line():
    # Gamma keeps choosing to arm beta. Where the arms flow at the start that is no event and
    # alpha's line is never crossed; where they do not, the first round starts them, alpha sees
    # the crossing in round 2 and strikes gamma, its declared response.
    keeps_arming = script("gamma", "arm>beta")
    model, trace, _ = play(keeps_arming | activities("gamma", "arm>beta"))
    assert trace == [". | . |  || gamma:arm>beta"] * 6
    assert (model.first_crossed == 0).all()
    model, trace, _ = play(keeps_arming)
    assert trace == [
        ". | . | +arm>beta || gamma:arm>beta",
        ". strike>gamma | . |  || gamma:arm>beta",
    ] + [". | . |  || gamma:arm>beta"] * 4
    assert (model.first_crossed[line(model, "alpha.no_arms")] == 1).all()


def test_persistence_keeps_activities_and_without_it_they_are_reconsidered():
    # Gamma would stop arming beta (utility -10) and keep supplying it (utility +10). With
    # persistence 1 it never reconsiders; with persistence 0 it reconsiders every activity in
    # the first round: the arms stop, the supplies stay.
    world = utility("gamma", supply=10.0) | activities("gamma", "supply>beta", "arm>beta")
    _, trace, _ = play(world)
    assert trace == [". | . | . || gamma:supply>beta gamma:arm>beta"] * 6
    _, trace, _ = play(world | {"actors.gamma.persistence": 0.0})
    assert trace == [". | . | . -arm>beta || gamma:supply>beta"] + [". | . | . || gamma:supply>beta"] * 5


@pytest.mark.parametrize("clock, per_round", [({}, 0.5), (weekly(), 0.5**WEEK)], ids=["monthly", "weekly"])
def test_persistence_is_the_chance_of_not_reconsidering_per_rate_unit(clock, per_round):
    # Persistence 0.5 a month: an activity its actor would stop survives a round with
    # probability 0.5 in monthly rounds and 0.5^(7/30.44) = 0.85 in weekly ones.
    model = new_model(utility("gamma") | activities("gamma", "arm>beta") | {"actors.gamma.persistence": 0.5} | clock,
                      replicates=MANY)
    arms = option(model, "gamma", "arm>beta")
    for k in (1, 2, 3):
        model.step()
        assert_rate(model.in_force[arms], per_round**k)


def test_injects_force_starts_and_stops():
    # Forced into arming beta in rounds 2-3 (a forced start of what is in force is no event),
    # gamma crosses alpha's line; the arms stop when an inject stops them in round 5.
    _, trace, _ = play(
        inject("deliveries", 2, until=3, force={"gamma": "arm>beta"}) | inject("embargo", 5, stop={"gamma": ["arm>beta"]})
    )
    assert trace == [
        CALM,
        ". | . | . +arm>beta || gamma:arm>beta",
        ". strike>gamma | . | . || gamma:arm>beta",
        ". | . | . || gamma:arm>beta",
        ". | . | . -arm>beta ||",
        CALM,
    ]


def test_a_forced_start_overrides_a_stop():
    _, trace, _ = play(
        activities("gamma", "sanction>alpha")
        | inject("lift", 2, stop={"gamma": ["sanction>alpha"]})
        | inject("keep", 2, force={"gamma": "sanction>alpha"})
    )
    assert trace == [". | . | . || gamma:sanction>alpha"] * 6


def test_an_inject_fires_with_its_probability_once_per_run():
    world = inject("deliveries", 2, until=4, force={"gamma": "arm>beta"})
    model = new_model(world | {"injects.deliveries.probability": 0.3}, replicates=MANY)
    arms = option(model, "gamma", "arm>beta")
    model.step()
    model.step()
    fired = model.events[arms].copy()
    assert_rate(fired, 0.3)
    for _ in range(3):
        model.step()
        np.testing.assert_array_equal(model.in_force[arms], fired)
    _, trace, _ = play(world | {"injects.deliveries.probability": 0.0})
    assert trace == [CALM] * 6


# -- roles -------------------------------------------------------------------------------------------


def test_hostility_moves_toward_the_party_an_option_works_against():
    # Supplies for beta work against alpha: alpha's hostility toward gamma rises by
    # reaction x points x (1 - h) = 0.5 x 12/28 when it sees them start; beta's does not move.
    model, trace, hostility = play(
        script("gamma", "supply>beta") | {"dynamics.hostility.reaction": 0.5},
        watch=lambda m: m.dyads.dense(m.hostility[:, 0]),
    )
    assert trace == [". | . | +supply>beta || gamma:supply>beta"] + [". | . |  || gamma:supply>beta"] * 5
    felt = np.zeros((3, 3))
    felt[0, 2] = 0.5 * 12 / 28
    np.testing.assert_allclose(hostility, [np.zeros((3, 3))] + [felt] * 5)


def test_stopping_an_activity_eases_the_hostility_of_the_party_it_worked_against():
    # Alpha's war on beta is stopped in round 1: beta's hostility toward alpha (0.5) falls by
    # reaction (0.5) x the war's escalation points (1) x itself in round 2, the round beta sees it.
    model, trace, hostility = play(
        activities("alpha", "war>beta") | inject("peace", 1, stop={"alpha": ["war>beta"]}) | QUIET_PACT
        | {"dynamics.hostility.reaction": 0.5, "actors.beta.hostility": {"alpha": 0.5}},
        watch=lambda m: float(m.hostility[m.dyads.rows(1, 0), 0]),
    )
    assert trace == [". -war>beta | . | . ||"] + [CALM] * 5
    np.testing.assert_allclose(hostility, [0.5, 0.25, 0.25, 0.25, 0.25, 0.25], atol=1e-12)



def test_utility_weighs_hostility_toward_the_party_an_option_works_against():
    # Gamma hates alpha, not beta: supplying beta (against alpha) is worth 20 x 0.4 x 12/28 = 3.4,
    # more than idling (0) or striking alpha (-10 + 20 x 0.4 x 1 = -2).
    _, trace, _ = play(
        utility("gamma", supply=0.0) | {"actors.gamma.hostility": {"alpha": 0.4}, "dynamics.utility.hostility": 20.0}
    )
    assert trace == [". | . | +supply>beta || gamma:supply>beta"] + [". | . | . || gamma:supply>beta"] * 5


# -- deterrence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("credibility", [0.0, 1.0])
def test_a_red_line_deters_by_its_perceived_credibility_times_cost(credibility):
    # Gamma values arming beta at 10; crossing alpha's line costs it deterrence 4 x credibility x
    # cost 5: nothing when nobody believes the line, 20 when everybody does.
    model, trace, _ = play(
        utility("gamma", arm=10.0)
        | {"dynamics.utility.deterrence": 4.0, "red_lines.alpha.no_arms.credibility": credibility}
    )
    if credibility == 0.0:
        assert trace == [
            ". | . | +arm>beta || gamma:arm>beta",
            ". strike>gamma | . | . || gamma:arm>beta",
        ] + [". | . | . || gamma:arm>beta"] * 4
    else:
        assert trace == [CALM] * 6


def test_deterrence_lowers_the_utility_of_crossing_options_only():
    model = new_model(utility("gamma", arm=3.0, supply=1.0) | {"dynamics.utility.deterrence": 4.0})
    model.credibility[line(model, "alpha.no_arms"), 2] = [0.0, 0.25, 1.0]
    gamma = model.actors_by_index[2]
    u = gamma.policy.utilities(gamma)
    t = model.tables
    expected = np.array([{"arm": 3.0, "supply": 1.0, "idle": 0.0}.get(t.actions[t.action[o]], -10.0) for o in t.of_actor[2]])
    arms = list(t.of_actor[2]).index(option(model, "gamma", "arm>beta"))
    sanctions = list(t.of_actor[2]).index(option(model, "gamma", "sanction>alpha"))
    expected = np.repeat(expected[:, None], 3, axis=1)
    expected[arms] -= 4.0 * 5.0 * np.array([0.0, 0.25, 1.0])
    expected[sanctions] -= 4.0 * 2.0 * 0.5  # alpha's other line, credibility 0.5, cost 2
    np.testing.assert_allclose(u, expected)


# -- red lines ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lag, response_round", [(0, 3), (2, 5), (4, None)])
def test_enforcement_comes_lag_rounds_after_the_crossing_is_seen(lag, response_round):
    # Gamma starts arming beta in round 2; alpha sees it in round 3 and enforces: its strike
    # comes `lag` rounds later (never, when that is after the last round).
    model, trace, _ = play(script("gamma", "idle>alpha", "arm>beta") | {"red_lines.alpha.no_arms.response.lag": lag})
    expected = [CALM, ". | . | +arm>beta || gamma:arm>beta"] + [". | . |  || gamma:arm>beta"] * 4
    if response_round:
        expected[response_round - 1] = ". strike>gamma | . |  || gamma:arm>beta"
    assert trace == expected
    arms, sanctions = line(model, "alpha.no_arms"), line(model, "alpha.no_sanctions")
    assert (model.first_crossed[arms] == 2).all()
    assert model.enforced_first[arms].all()
    # Enforcement raises credibility by gain x (1 - c) = 0.3 x 0.5 in every observer's eyes, and
    # the owner's other line by spillover x that = 0.5 x 0.15.
    np.testing.assert_allclose(model.credibility[arms], 0.65)
    np.testing.assert_allclose(model.credibility[sanctions], 0.575)
    np.testing.assert_array_equal(model.audience_cost, 0.0)


def test_backing_down_costs_credibility_and_the_audience_stake():
    model, trace, _ = play(script("gamma", "idle>alpha", "arm>beta") | NEVER_ENFORCE)
    assert trace == [CALM, ". | . | +arm>beta || gamma:arm>beta"] + [". | . |  || gamma:arm>beta"] * 4
    arms, sanctions = line(model, "alpha.no_arms"), line(model, "alpha.no_sanctions")
    assert (model.first_crossed[arms] == 2).all()
    assert not model.enforced_first[arms].any()
    # Credibility falls by loss x publicity x specificity x c = 0.4 x 1 x 0.5 x 0.5 = 0.1, the
    # other line's by half that; the stake is judged on the date of round 3, 2024-03-01.
    np.testing.assert_allclose(model.credibility[arms], 0.4)
    np.testing.assert_allclose(model.credibility[sanctions], 0.45)
    expected = np.zeros((3, model.replicates))
    expected[0] = stake(0.5, 1.0, 0.5, dt.date(2023, 1, 1), dt.date(2024, 3, 1))
    np.testing.assert_allclose(model.audience_cost, expected)


def test_a_move_forced_by_an_inject_is_not_enforcement():
    # Alpha backs down, but an inject makes it strike gamma in the same round: the record, the
    # credibility and the audience costs are those of backing down.
    model, trace, _ = play(
        script("gamma", "idle>alpha", "arm>beta") | NEVER_ENFORCE | inject("hawks", 3, force={"alpha": "strike>gamma"})
    )
    assert trace == [
        CALM,
        ". | . | +arm>beta || gamma:arm>beta",
        ". strike>gamma | . |  || gamma:arm>beta",
    ] + [". | . |  || gamma:arm>beta"] * 3
    arms = line(model, "alpha.no_arms")
    assert not model.enforced_first[arms].any()
    np.testing.assert_allclose(model.credibility[arms], 0.4)
    assert (model.audience_cost[0] > 0).all()
    table = outcome_row(model)
    assert table["crossed.alpha.no_arms"] == True
    assert table["enforced.alpha.no_arms"] == False
    assert table["round.alpha.no_arms"] == 2


def test_a_warning_move_raises_the_owners_hostility():
    # Supplies are in the warning band of alpha's line: seeing them start raises alpha's
    # hostility toward gamma by approach x (1 - h) = 0.4 x 0.5.
    model, trace, hostility = play(
        script("gamma", "supply>beta") | {"dynamics.hostility.approach": 0.4, "actors.alpha.hostility": {"gamma": 0.5}},
        watch=lambda m: float(m.hostility[m.dyads.rows(0, 2), 0]),
    )
    assert trace == [". | . | +supply>beta || gamma:supply>beta"] + [". | . |  || gamma:supply>beta"] * 5
    np.testing.assert_allclose(hostility, [0.5] + [0.7] * 5)
    assert (model.first_crossed == 0).all()


@pytest.mark.parametrize("slack", [0.0, 1.0])
def test_an_ambiguous_action_crosses_a_line_with_probability_slack(slack):
    model, trace, _ = play(script("gamma", "supply>beta") | {"red_lines.alpha.no_arms.trigger.slack": slack})
    response = ". strike>gamma" if slack else "."
    assert trace == [". | . | +supply>beta || gamma:supply>beta", f"{response} | . |  || gamma:supply>beta"] + [
        ". | . |  || gamma:supply>beta"
    ] * 4
    assert (model.first_crossed[line(model, "alpha.no_arms")] == (1 if slack else 0)).all()


def test_an_ambiguous_action_crosses_a_line_at_the_rate_of_its_slack():
    model = new_model(script("gamma", "supply>beta") | {"red_lines.alpha.no_arms.trigger.slack": 0.3}, replicates=MANY)
    model.step()
    model.step()
    assert_rate(model.first_crossed[line(model, "alpha.no_arms")] == 1, 0.3)


@pytest.mark.parametrize(
    "terms, logit",
    [
        ({}, 0.0),
        ({"red_lines.alpha.no_arms.propensity": math.log(3.0)}, math.log(3.0)),
        ({"red_lines.alpha.no_arms.propensity": -math.log(4.0)}, -math.log(4.0)),
        # risk 2 x caution (1 - risk tolerance 0.5) x severity of a strike (1)
        ({"dynamics.enforcement.risk": 2.0}, -1.0),
        # resolve 3 x (0.8 - 1/2)
        ({"dynamics.enforcement.resolve": 3.0, "actors.alpha.resolve": 0.8}, 0.9),
    ],
    ids=["even", "propensity+", "propensity-", "risk", "resolve"],
)
def test_a_lines_propensity_shifts_the_owners_logit_of_enforcing(terms, logit):
    # logit P(enforce) = bias + resolve term - risk term + audience term + the line's propensity;
    # here every term but the one under test is 0.
    model = new_model(
        script("gamma", "arm>beta") | {"dynamics.enforcement.bias": 0.0, "dynamics.enforcement.resolve": 0.0} | terms,
        replicates=MANY,
    )
    model.step()
    model.step()
    arms = line(model, "alpha.no_arms")
    assert (model.first_crossed[arms] == 1).all()
    assert_rate(model.enforced_first[arms], logistic(logit))
    # the response is the owner's strike, in exactly the runs where it enforced
    np.testing.assert_array_equal(model.events[option(model, "alpha", "strike>gamma")], model.enforced_first[arms])


def test_past_audience_costs_make_the_next_enforcement_likelier():
    # Gamma arms beta in round 1, stops (an inject) in round 2 and arms again in round 3. Alpha
    # judges the crossings in rounds 2 and 4 with logit -1 + audience weight 2 x (stake + the
    # stakes of its past back-downs): likelier the second time where it backed down the first.
    model = new_model(
        script("gamma", "arm>beta", "idle>alpha", "arm>beta", "idle>alpha")
        | inject("pause", 2, stop={"gamma": ["arm>beta"]})
        | {"dynamics.enforcement.bias": -1.0, "dynamics.enforcement.resolve": 0.0, "dynamics.enforcement.audience": 2.0},
        replicates=MANY,
    )
    strike = option(model, "alpha", "strike>gamma")
    enforced = []
    for _ in range(4):
        model.step()
        enforced.append(model.events[strike].copy())
    first, second = enforced[1], enforced[3]
    s2 = stake(0.5, 1.0, 0.5, dt.date(2023, 1, 1), dt.date(2024, 2, 1))
    s4 = stake(0.5, 1.0, 0.5, dt.date(2023, 1, 1), dt.date(2024, 4, 1))
    assert_rate(first, logistic(-1 + 2 * s2))
    assert_rate(second[first], logistic(-1 + 2 * s4))
    assert_rate(second[~first], logistic(-1 + 2 * (s4 + s2)))
    np.testing.assert_allclose(model.audience_cost[0], ~first * s2 + ~second * s4)


# -- commitments -----------------------------------------------------------------------------------------


def test_a_one_way_guarantee_binds_only_its_guarantor():
    # Gamma guarantees beta; beta owes gamma nothing. Alpha strikes gamma in round 2 (nothing
    # follows) and beta in round 4: gamma sees the aggression in round 5 and strikes alpha.
    model, trace, _ = play(script("alpha", "idle>beta", "strike>gamma", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [CALM, "strike>gamma | . | . ||", CALM, "strike>beta | . | . ||", ". | . | . strike>alpha ||", CALM]
    assert status(model) == ["invoked"]
    assert (model.first_invoked[0] == 5).all()


def test_a_commitment_deters_attacks_on_the_party_it_protects():
    # Alpha values striking beta at 10; gamma's guarantee of beta costs an attack on beta
    # deterrence 4 x honour 1 x the obligation's cost 5 = 20 (an ambiguous threat, x slack 0.5).
    strike_beta = utility("alpha", toward={"beta": {"strike": 10.0}}) | {"dynamics.utility.deterrence": 4.0}
    _, trace, _ = play(strike_beta)
    assert trace[:2] == ["strike>beta | . | . ||", "strike>beta | . | . strike>alpha ||"]
    _, trace, _ = play(strike_beta | {"commitments.pact.obligations.gamma.cost": 5.0})
    assert trace == [CALM] * 6
    model = new_model(strike_beta | {"commitments.pact.obligations.gamma.cost": 5.0, "commitments.pact.slack": 0.5})
    alpha, t = model.actors_by_index[0], model.tables
    u = alpha.policy.utilities(alpha)[:, 0]
    assert u[list(t.of_actor[0]).index(option(model, "alpha", "strike>beta"))] == 10.0 - 20.0
    assert u[list(t.of_actor[0]).index(option(model, "alpha", "threaten>beta"))] == -10.0 - 20.0 * 0.5
    assert u[list(t.of_actor[0]).index(option(model, "alpha", "strike>gamma"))] == -10.0  # gamma is not protected
    model.status[0] = STATUSES.index("lapsed")  # a lapsed commitment deters nothing
    assert alpha.policy.utilities(alpha)[list(t.of_actor[0]).index(option(model, "alpha", "strike>beta")), 0] == 10.0

    # An attacker guaranteed in its turn (here by a second pact of gamma's, against beta) fears the
    # response 1 - emboldening 0.5 x honour 1 as much: 10 instead of 20.
    cover = {"commitments.cover": {"parties": ["gamma", "alpha"], "trigger": {"actions": ["strike"], "attackers": ["beta"]},
                                   "obligations": {"gamma": {"action": "talk", "toward": "party", "honour": 1.0}},
                                   "slack": 0.0, "sources": ["judgement"]}}
    model = new_model(strike_beta | cover | {"commitments.pact.obligations.gamma.cost": 5.0,
                                             "dynamics.utility.emboldening": 0.5})
    alpha = model.actors_by_index[0]
    assert alpha.policy.utilities(alpha)[list(t.of_actor[0]).index(option(model, "alpha", "strike>beta")), 0] == 10.0 - 10.0


def test_a_guarantee_emboldens_the_protected_party_to_provoke_not_to_attack():
    # Beta, guaranteed by gamma (honour 1) against alpha, feels 1 - emboldening 0.5 of its
    # escalation aversion (40 x caution 1 x points) for a threat, all of it for a strike.
    aversion = {"dynamics.utility.escalation_aversion": 40.0, "actors.beta.risk_tolerance": 0.0}
    provoke = utility("beta", threaten=3.0) | aversion  # aversion of a threat: 40 x 4/28 = 5.7
    assert play(provoke)[1] == [CALM] * 6
    _, trace, _ = play(provoke | {"dynamics.utility.emboldening": 0.5})  # 3 - 2.86 > 0: it threatens
    assert trace == [". | threaten>alpha | . ||"] * 6
    model = new_model(aversion | utility("beta") | {"dynamics.utility.emboldening": 0.5})
    beta, t = model.actors_by_index[1], model.tables
    u = dict(zip((t.actions[t.action[o]] for o in t.of_actor[1]), beta.policy.utilities(beta)[:, 0]))
    assert u["threaten"] == pytest.approx(-10.0 - 40.0 * 4 / 28 * 0.5)
    assert u["strike"] == pytest.approx(-10.0 - 40.0)


def test_a_guarantor_feels_an_attack_on_its_partner_as_one_on_itself():
    # Reaction 0.5: alpha's strike on beta (round 1, 1 escalation point) raises gamma's hostility
    # toward alpha to 0.5 when gamma sees it (round 2), though the strike was not aimed at gamma.
    hostility = []
    play(script("alpha", "strike>beta", "idle>beta") | {"dynamics.hostility.reaction": 0.5},
         watch=lambda m: hostility.append(float(m.hostility[m.dyads.rows(2, 0), 0])))
    assert hostility == [0.0] + [0.5] * 5


def test_escalation_aversion_counts_only_what_goes_beyond_the_actors_own_posture():
    # At war with beta, alpha feels no aversion to striking beta (the war already weighs 1
    # escalation point against beta), but all of it (40) to striking gamma.
    model = new_model(utility("alpha") | activities("alpha", "war>beta")
                      | {"dynamics.utility.escalation_aversion": 40.0, "actors.alpha.risk_tolerance": 0.0})
    step_keeping_what_choices_read(model)
    alpha, t = model.actors_by_index[0], model.tables
    u = alpha.policy.utilities(alpha)[:, 0]
    assert u[list(t.of_actor[0]).index(option(model, "alpha", "strike>beta"))] == -10.0
    assert u[list(t.of_actor[0]).index(option(model, "alpha", "strike>gamma"))] == -10.0 - 40.0


def test_a_mutual_commitment_binds_both_parties():
    # Both owe each other a strike on an attacker: beta answers alpha's strike on gamma (round 3),
    # gamma alpha's strike on beta (round 6). Alpha's strike on beta right after beta's strike
    # (round 4) would answer it, and would be no new aggression.
    mutual = {"commitments.pact.obligations.beta": {"action": "strike", "toward": "attacker", "honour": 1.0}}
    model, trace, _ = play(mutual | script("alpha", "idle>beta", "strike>gamma", "idle>beta", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [
        CALM,
        "strike>gamma | . | . ||",
        ". | . strike>alpha | . ||",
        CALM,
        "strike>beta | . | . ||",
        ". | . | . strike>alpha ||",
    ]
    assert (model.first_invoked[0] == 3).all()
    _, trace, _ = play(mutual | script("alpha", "idle>beta", "strike>gamma", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [CALM, "strike>gamma | . | . ||", ". | . strike>alpha | . ||", "strike>beta | . | . ||", CALM, CALM]


def test_an_obligation_toward_the_party_helps_the_party():
    model, trace, _ = play(
        script("alpha", "idle>beta", "strike>beta", "idle>beta")
        | {"commitments.pact.obligations.gamma": {"action": "supply", "toward": "party", "honour": 1.0}}
    )
    assert trace == [CALM, "strike>beta | . | . ||", ". | . | . +supply>beta || gamma:supply>beta"] + [
        ". | . | . || gamma:supply>beta"
    ] * 3


def test_an_attack_in_reply_to_an_attack_is_not_new_aggression():
    # Beta is at war with alpha: alpha's strike answers it, and gamma does nothing.
    model, trace, _ = play(activities("beta", "war>alpha") | script("alpha", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [". | . | . || beta:war>alpha", "strike>beta | . | . || beta:war>alpha"] + [
        ". | . | . || beta:war>alpha"
    ] * 4
    assert status(model) == ["active"]
    # Beta strikes first; alpha answers the round after it saw the strike: no aggression either.
    fight = script("beta", "strike>alpha", "idle>alpha") | script("alpha", "idle>beta", "strike>beta", "idle>beta")
    model, trace, _ = play(fight)
    assert trace == [". | strike>alpha | . ||", "strike>beta | . | . ||"] + [CALM] * 4
    assert status(model) == ["active"]
    # ... unless the guarantor reads it as aggression anyway (slack 1).
    model, trace, _ = play(fight | {"commitments.pact.slack": 1.0})
    assert trace == [". | strike>alpha | . ||", "strike>beta | . | . ||", ". | . | . strike>alpha ||"] + [CALM] * 3
    # A strike a round later than that answers nothing: it is new aggression.
    model, trace, _ = play(script("beta", "strike>alpha", "idle>alpha") | script("alpha", "idle>beta", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [". | strike>alpha | . ||", CALM, "strike>beta | . | . ||", ". | . | . strike>alpha ||", CALM, CALM]


@pytest.mark.parametrize("slack", [0.0, 1.0])
def test_an_ambiguous_act_triggers_a_commitment_with_probability_slack(slack):
    model, trace, _ = play(script("alpha", "threaten>beta", "idle>beta") | {"commitments.pact.slack": slack})
    assert trace == ["threaten>beta | . | . ||", ". | . | . strike>alpha ||" if slack else CALM] + [CALM] * 4
    assert status(model) == ["invoked" if slack else "active"]


def test_an_ambiguous_act_triggers_a_commitment_at_the_rate_of_its_slack():
    model = new_model(script("alpha", "threaten>beta", "idle>beta") | {"commitments.pact.slack": 0.3}, replicates=MANY)
    model.step()
    model.step()
    assert_rate(model.events[option(model, "gamma", "strike>alpha")], 0.3)


def test_an_obligation_is_honoured_lag_rounds_after_the_aggression_is_seen():
    model, trace, _ = play(
        script("alpha", "idle>beta", "strike>beta", "idle>beta") | {"commitments.pact.obligations.gamma.lag": 2}
    )
    assert trace == [CALM, "strike>beta | . | . ||", CALM, CALM, ". | . | . strike>alpha ||", CALM]
    assert (model.first_invoked[0] == 3).all()  # invoked when decided, honoured later
    assert status(model) == ["invoked"]


def test_a_commitment_not_honoured_lapses_for_good():
    # Gamma fails beta in round 3; from round 4 it would honour the pact (an inject sets honour
    # to 1), but a lapsed commitment is not triggered again.
    model, trace, _ = play(
        script("alpha", "idle>beta", "strike>beta", "idle>beta", "strike>beta", "idle>beta")
        | {"commitments.pact.obligations.gamma.honour": 0.0}
        | inject("new_government", 4, set={"commitments.pact.obligations.gamma.honour": 1.0})
    )
    assert trace == [CALM, "strike>beta | . | . ||", CALM, "strike>beta | . | . ||", CALM, CALM]
    assert status(model) == ["lapsed"]
    assert (model.first_invoked[0] == 0).all()


def test_a_commitment_is_nullified_once_its_state_variable_falls_below_the_level():
    # Morale starts at 0.5 and drifts down 0.1 a month: below 0.25 after round 3, so the pact is
    # nullified in round 4 (rate 1) and alpha's strike in round 4 goes unanswered, while its
    # strike in round 2 was answered in round 3.
    model, trace, _ = play(
        script("alpha", "idle>beta", "strike>beta", "idle>beta", "strike>beta", "idle>beta")
        | {"state.morale.drift": -0.1, "commitments.pact.nullification": {"state": "morale", "below": 0.25, "rate": 1.0}},
        watch=lambda m: status(m),
    )
    assert trace == [CALM, "strike>beta | . | . ||", ". | . | . strike>alpha ||", "strike>beta | . | . ||", CALM, CALM]
    assert [s[0] for s in _] == ["active", "active", "invoked", "nullified", "nullified", "nullified"]


def test_nullification_is_a_rate_per_rate_unit():
    model = new_model(
        {"commitments.pact.nullification": {"state": "morale", "below": 0.6, "rate": 0.5}} | weekly(), replicates=MANY
    )
    model.step()
    assert_rate(model.status[0] == STATUSES.index("nullified"), 1 - 0.5**WEEK)


def test_a_sponsor_is_blamed_for_its_proxys_attacks():
    # Delta, alpha's proxy, strikes beta. With attribution 1 gamma blames alpha and strikes it,
    # and beta's hostility rises toward both; with attribution 0 gamma strikes delta.
    attack = script("delta", "idle>beta", "strike>beta", "idle>beta") | {"dynamics.hostility.reaction": 0.5}
    model, trace, _ = play(attack | {"actors.delta.attribution": 1.0}, world=PROXY)
    assert trace == [
        ". | . | . | . ||",
        ". | . | . | strike>beta ||",
        ". | . | . strike>alpha | . ||",
    ] + [". | . | . | . ||"] * 3
    t = model.tables
    np.testing.assert_allclose(model.hostility[model.dyads.rows(t.index("beta"), [t.index("alpha"), t.index("delta")])], 0.5)
    model, trace, _ = play(attack | {"actors.delta.attribution": 0.0}, world=PROXY)
    assert trace[2] == ". | . | . strike>delta | . ||"
    np.testing.assert_allclose(model.hostility[model.dyads.rows(t.index("beta"), t.index("alpha"))], 0.0)
    np.testing.assert_allclose(model.hostility[model.dyads.rows(t.index("beta"), t.index("delta"))], 0.5)


def test_a_sponsor_is_blamed_at_the_rate_of_attribution():
    model = new_model(script("delta", "idle>beta", "strike>beta", "idle>beta") | {"actors.delta.attribution": 0.3},
                      replicates=MANY, world=PROXY)
    for _ in range(3):
        model.step()
    at_sponsor = model.events[option(model, "gamma", "strike>alpha")]
    at_proxy = model.events[option(model, "gamma", "strike>delta")]
    np.testing.assert_array_equal(at_sponsor, ~at_proxy)
    assert_rate(at_sponsor, 0.3)


# -- agreements ----------------------------------------------------------------------------------------


def test_an_agreement_both_sides_want_is_signed_and_stops_what_it_names():
    # Alpha and beta are at war; both value a truce (20) and propose it at every chance: it is
    # signed in round 1 and stops both wars at once. The run ends eased.
    at_war = activities("alpha", "war>beta") | activities("beta", "war>alpha")
    model, trace, agreed = play(
        at_war | {"agreements.truce.value": {"alpha": 20.0, "beta": 20.0}, "agreements.truce.proposal_rate": 1.0},
        watch=lambda m: bool(m.agreed[0, 0]),
    )
    assert trace == [". -war>beta | . -war>alpha | . ||"] + [CALM] * 5
    assert agreed == [True] * 6
    table = outcome_row(model)
    assert table["agreed.truce"] == 1 and table["in_force.truce"] == True
    assert table["outcome"] == "eased"
    # Neither wants it: the wars go on.
    model, trace, _ = play(at_war | {"agreements.truce.proposal_rate": 1.0})
    assert trace == [". | . | . || alpha:war>beta beta:war>alpha"] * 6
    assert outcome_row(model)["agreed.truce"] == None


def test_an_agreement_stops_activities_toward_or_against_the_other_party():
    # A detente between alpha and gamma names sanctions and arms: gamma's arms for beta work
    # against alpha and stop too; its supplies are not named and go on.
    detente = {
        "agreements.detente": {
            "parties": ["alpha", "gamma"], "stops": ["sanction", "arm"], "value": {"alpha": 0.0, "gamma": 0.0},
            "proposal_rate": 0.0, "in_force": True, "sources": ["judgement"],
        }
    }
    _, trace, _ = play(
        detente | activities("alpha", "sanction>gamma") | activities("gamma", "sanction>alpha", "supply>beta", "arm>beta")
    )
    assert trace == [". -sanction>gamma | . | . -sanction>alpha -arm>beta || gamma:supply>beta"] + [
        ". | . | . || gamma:supply>beta"
    ] * 5


def test_an_event_of_a_named_action_breaks_an_agreement():
    model, trace, agreed = play(
        {"agreements.truce.in_force": True} | script("alpha", "idle>beta", "idle>beta", "strike>beta", "idle>beta"),
        watch=lambda m: bool(m.agreed[0, 0]),
    )
    assert trace == [CALM, CALM, "strike>beta | . | . ||", ". | . | . strike>alpha ||", CALM, CALM]
    assert agreed == [True, True, False, False, False, False]
    table = outcome_row(model)
    assert table["agreed.truce"] == 0 and table["in_force.truce"] == False


@pytest.mark.parametrize("break_cost", [0.0, 20.0])
def test_breaking_an_agreement_costs_its_break_cost_in_utility(break_cost):
    # Alpha values striking beta at 10; under a truce that costs 20 it holds back.
    model, trace, _ = play(
        utility("alpha", toward={"beta": {"strike": 10.0}})
        | {"agreements.truce.in_force": True, "agreements.truce.break_cost": break_cost}
    )
    if break_cost:
        assert trace == [CALM] * 6
        assert model.agreed.all()
    else:
        assert trace == ["strike>beta | . | . ||", "strike>beta | . | . strike>alpha ||"] + [
            "strike>beta | . | . strike>alpha ||"
        ] * 4
        assert not model.agreed.any()


@pytest.mark.parametrize("clock, rate", [({}, 0.5), (weekly(), 1 - 0.5**WEEK)], ids=["monthly", "weekly"])
def test_an_agreement_in_force_eases_hostility_between_its_parties(clock, rate):
    _, trace, hostility = play(
        {"agreements.truce.in_force": True, "agreements.truce.eases": 0.5}
        | {f"actors.{a}.hostility": {b: 0.8 for b in ("alpha", "beta", "gamma") if b != a} for a in ("alpha", "beta", "gamma")}
        | clock,
        watch=lambda m: m.dyads.dense(m.hostility[:, 0]),
    )
    assert trace == [CALM] * 6
    for k, h in enumerate(hostility, start=1):
        expected = np.full((3, 3), 0.8) - 0.8 * np.eye(3)
        expected[0, 1] = expected[1, 0] = 0.8 * (1 - rate) ** k
        np.testing.assert_allclose(h, expected)


def test_agreements_are_proposed_at_a_rate_per_rate_unit():
    # Both parties want a truce; each proposes it with probability 1 - (1 - 0.5)^(7/30.44) a week.
    model = new_model(
        {"agreements.truce.value": {"alpha": 20.0, "beta": 20.0}, "agreements.truce.proposal_rate": 0.5} | weekly(),
        replicates=MANY,
    )
    model.step()
    one_way = (1 - 0.5**WEEK) * logistic(20.0) * logistic(20.0)
    assert_rate(model.agreed[0], 1 - (1 - one_way) ** 2)


def test_mediation_raises_the_engaged_partys_proposals_and_acceptance():
    # Alpha always proposes; beta accepts with logistic(-20): never, unless gamma (the mediator)
    # engaged beta last round, which adds mediation 20 to beta's utility: beta then accepts with
    # logistic(0) = 1/2 and proposes with 1/2 (alpha accepts), so a truce is signed with
    # 1 - (1/2)(1/2) = 3/4. Engaging alpha instead moves only alpha, who wanted it anyway.
    world = {
        "agreements.truce.value": {"alpha": 20.0, "beta": -20.0},
        "agreements.truce.proposal_rate": 1.0,
        "agreements.truce.mediation": 20.0,
    }
    model = new_model(world | script("gamma", "talk>beta", "idle>alpha"), replicates=MANY)
    model.step()
    assert model.agreed.mean() < 1e-3
    model.step()
    assert_rate(model.first_agreed[0] == 2, 0.75)
    for other in (world, world | script("gamma", "talk>alpha", "idle>alpha")):
        model = new_model(other, replicates=MANY)
        model.step()
        model.step()
        assert model.agreed.mean() < 1e-3


def test_mediation_per_party_moves_only_the_party_that_seeks_it():
    # The same world, gamma engaging both parties every round; mediation given per party. With
    # beta's strength 20 the truce is signed as above (3/4 in round 2); with beta's 0 (beta refuses
    # third-party mediation, alpha seeks it) never, though gamma engages beta as much.
    world = {
        "agreements.truce.value": {"alpha": 20.0, "beta": -20.0},
        "agreements.truce.proposal_rate": 1.0,
    }
    both = script("gamma", "talk>beta", "idle>alpha")
    sought = new_model(world | {"agreements.truce.mediation": {"alpha": 0.0, "beta": 20.0}} | both, replicates=MANY)
    refused = new_model(world | {"agreements.truce.mediation": {"alpha": 20.0}} | both, replicates=MANY)
    for model in (sought, refused):
        model.step()
        model.step()
    assert_rate(sought.first_agreed[0] == 2, 0.75)
    assert refused.agreed.mean() == 0.0


def test_hostility_lowers_a_partys_value_of_an_agreement():
    model = new_model(
        {"agreements.truce.value": {"alpha": 20.0, "beta": 20.0}, "agreements.truce.proposal_rate": 1.0,
         "dynamics.utility.hostility": 19.0, "actors.beta.hostility": {"alpha": 1.0}},
        replicates=MANY,
    )
    model.step()
    # alpha proposes and beta accepts with logistic(20 - 19), or beta proposes with the same
    # probability and alpha accepts
    p = logistic(1.0)
    assert_rate(model.agreed[0], 1 - (1 - p * logistic(20)) * (1 - p * logistic(20)))


# -- injects ---------------------------------------------------------------------------------------------


def test_injects_sign_agreements_and_set_states_and_statuses():
    model, trace, seen = play(
        activities("alpha", "war>beta")
        | script("alpha", "idle>beta", "idle>beta", "idle>beta", "strike>beta", "idle>beta")
        | inject("talks", 2, sign=["truce"])
        | inject("shock", 3, set_state={"morale": 0.9})
        | inject("abrogation", 4, set_status={"pact": "nullified"}),
        watch=lambda m: (bool(m.agreed[0, 0]), round(float(m.state_values[0, 0]), 6), status(m)[0]),
    )
    assert trace == [
        ". | . | . || alpha:war>beta",
        ". -war>beta | . | . ||",
        CALM,
        "strike>beta | . | . ||",
        CALM,
        CALM,
    ]
    assert seen == [
        (False, 0.5, "active"),
        (True, 0.5, "active"),
        (True, 0.9, "active"),
        (False, 0.9, "nullified"),
        (False, 0.9, "nullified"),
        (False, 0.9, "nullified"),
    ]
    assert outcome_row(model)["agreed.truce"] == 2


def test_an_inject_changes_a_parameter_from_its_round_on():
    # A new government in alpha values threatening beta from round 3 on.
    world = utility("alpha", toward={"beta": {"threaten": -10.0}}) | inject(
        "election", 3, set={"actors.alpha.preferences_toward.beta.threaten": 10.0}
    )
    _, trace, _ = play(world)
    assert trace == [CALM, CALM] + ["threaten>beta | . | . ||"] * 4
    _, trace, _ = play(world | {"injects.election.probability": 0.0})
    assert trace == [CALM] * 6


# -- real time ----------------------------------------------------------------------------------------


def test_rounds_have_dates():
    monthly = new_model({"start": "2024-01-31"})
    assert [monthly.clock.date(r) for r in (1, 2, 3, 13)] == [
        dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2025, 1, 31)
    ]
    week = new_model(weekly() | {"round": {"length": 2, "unit": "week"}})
    assert [week.clock.date(r) for r in (1, 2, 3)] == [dt.date(2024, 1, 1), dt.date(2024, 1, 15), dt.date(2024, 1, 29)]
    assert week.clock.units_per_round == pytest.approx(14 / DAYS["month"])


def test_a_lines_age_is_real_time():
    # Weekly rounds: the crossing of round 2 is judged in round 3, dated 2024-01-15.
    model, _, _ = play(script("gamma", "idle>alpha", "arm>beta") | NEVER_ENFORCE | weekly())
    np.testing.assert_allclose(model.audience_cost[0], stake(0.5, 1.0, 0.5, dt.date(2023, 1, 1), dt.date(2024, 1, 15)))


# -- model v3: reach, thresholds, costs, incidents, consequences, facts --------------------------------

QUIET_PACT = {"commitments.pact.status": "nullified"}


def reach(rungs: int) -> dict:
    return {"dynamics.reach": {"rungs": rungs, "sources": ["judgement"]}}


def incident(name: str, actor: str, move: str, rate: float) -> dict:
    return {f"incidents.{name}": {"actor": actor, **_move(move), "rate": rate, "sources": ["judgement"]}}


def test_reach_climbs_the_ladder_a_few_rungs_at_a_time():
    # Alpha prefers a strike (rung 6) to a threat (2) to idling (1). Without reach it strikes at
    # once; with reach 4 its level toward beta (idle, 1) opens only rungs up to 5, so it threatens
    # first, and its threat (level 2) opens the strike the round after; with reach 2 it never
    # gets there, since a threat keeps its level at 2.
    world = utility("alpha", toward={"beta": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT
    _, trace, _ = play(world)
    assert trace == ["strike>beta | . | . ||"] * 6
    _, trace, _ = play(world | reach(4))
    assert trace == ["threaten>beta | . | . ||", "strike>beta | . | . ||"] + ["strike>beta | . | . ||"] * 4
    _, trace, _ = play(world | reach(2))
    assert trace == ["threaten>beta | . | . ||"] * 6


def test_reach_opens_a_reply_at_the_rung_felt_and_never_filters_forced_acts():
    # Beta strikes alpha in round 2: alpha, held to threats by reach 2, may answer with a strike
    # in round 3 (the rung it felt); its own strike then keeps its level up. Alpha's red line
    # response (a strike on gamma, forced) happens whatever its reach.
    world = utility("alpha", toward={"beta": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT | reach(2)
    _, trace, _ = play(world | script("beta", "idle>alpha", "strike>alpha", "idle>alpha"))
    assert trace[:4] == ["threaten>beta | . | . ||", "threaten>beta | strike>alpha | . ||",
                         "strike>beta | . | . ||", "strike>beta | . | . ||"]
    _, trace, _ = play(script("gamma", "idle>alpha", "arm>beta") | reach(0))
    assert trace[2] == ". strike>gamma | . |  || gamma:arm>beta"


def test_an_action_may_declare_its_own_reach():
    world = utility("alpha", toward={"beta": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT | reach(2)
    _, trace, _ = play(world | {"actions.strike.reach": 5})
    assert trace == ["strike>beta | . | . ||"] * 6


def test_a_guarantor_may_reply_at_the_rung_of_an_attack_on_the_party_it_guarantees():
    # Gamma guarantees beta (the pact, here nullified so that no obligation forces its hand) and
    # would strike alpha, but reach 2 holds it to threats; alpha's strike on beta in round 2
    # opens gamma's strike on alpha in round 3, a reply at the rung it felt for its partner.
    world = utility("gamma", toward={"alpha": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT | reach(2)
    _, trace, _ = play(world | script("alpha", "idle>beta", "strike>beta", "idle>beta"))
    assert trace[:4] == [". | . | threaten>alpha ||", "strike>beta | . | threaten>alpha ||",
                         ". | . | strike>alpha ||", ". | . | strike>alpha ||"]


def test_an_attack_by_a_partys_treaty_partner_opens_a_reply_against_the_party():
    # Beta, gamma's treaty partner, strikes alpha in round 2: alpha, held by reach 2 to threats
    # against gamma, may strike gamma in round 3 (gamma's side struck it).
    world = utility("alpha", toward={"gamma": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT | reach(2)
    _, trace, _ = play(world | script("beta", "idle>alpha", "strike>alpha", "idle>alpha"))
    assert trace[:4] == ["threaten>gamma | . | . ||", "threaten>gamma | strike>alpha | . ||",
                         "strike>gamma | . | . ||", "strike>gamma | . | . ||"]


@pytest.mark.parametrize(
    ("needs", "setting", "strikes_from"),
    [
        ({"at_war": True}, activities("beta", "war>alpha"), 1),
        ({"at_war": True}, {}, None),
        ({"state_above": {"morale": 0.6}}, {"state.morale.initial": 0.7}, 1),
        ({"state_above": {"morale": 0.6}}, {}, None),
        ({"attacked": True}, script("beta", "idle>alpha", "strike>alpha", "idle>alpha"), 3),
        ({"in_reply": True}, script("beta", "idle>alpha", "strike>alpha", "idle>alpha"), 3),
    ],
)
def test_an_action_requires_its_conditions_per_replicate(needs, setting, strikes_from):
    # Alpha would strike beta every round; `requires` lets it only where the conditions hold: at
    # war with beta, morale at least 0.6, attacked by beta (last round or the one before), or
    # in reply to a strike it saw (the round after it, not later).
    world = utility("alpha", toward={"beta": {"strike": 5.0}}) | QUIET_PACT | {"actions.strike.requires": {"alpha": needs}} | setting
    model, trace, _ = play(world)
    struck = [round for round, line in enumerate(trace, start=1) if line.startswith("strike>beta")]
    if strikes_from is None:
        assert struck == []
    elif "attacked" in needs:
        assert struck == [3, 4]  # beta's strike of round 2 counts as an attack in rounds 3 and 4
    elif "in_reply" in needs:
        assert struck == [3]
    else:
        assert struck[0] == strikes_from


def test_escalation_aversion_grows_faster_than_the_step_with_convexity():
    model = new_model(utility("alpha") | {"dynamics.utility.escalation_aversion": 2.0, "dynamics.utility.convexity": 3.0})
    step_keeping_what_choices_read(model)
    actor = model.actors_by_index[0]
    terms = {name: np.broadcast_to(value, (len(actor.policy.options), 3)) for name, _, value in actor.policy.terms(actor)}
    t = model.tables
    strike = list(actor.policy.options).index(option(model, "alpha", "strike>beta"))
    step = t.points[t.actions.index("strike")]
    np.testing.assert_allclose(terms["escalation aversion"][strike], 2.0 * 0.5 * step * (1 + 3.0 * step))


def test_an_action_may_set_its_own_escalation_points():
    # A strike sized 60 (a category's 28 otherwise) is the largest step: 1 on the scaled ladder.
    t = new_model({"actions.strike.points": 60.0}).tables
    assert t.points[t.actions.index("strike")] == 1.0 and t.score[t.actions.index("strike")] == 60.0
    t = new_model().tables
    assert t.points[t.actions.index("strike")] == pytest.approx(28 / 28)  # violent is the duel's largest
    assert t.points[t.actions.index("threaten")] == pytest.approx(4 / 28)
    t = new_model({"actions.strike.points": 56.0}).tables
    assert t.points[t.actions.index("war")] == pytest.approx(28 / 56)


def test_a_taboo_is_a_cost_of_its_own():
    # Alpha prefers a strike by 5; a taboo of 6 on strikes leaves it idling.
    world = utility("alpha", toward={"beta": {"strike": 5.0}}) | QUIET_PACT
    _, trace, _ = play(world | {"actions.strike.taboo": 6.0})
    assert trace == [CALM] * 6
    _, trace, _ = play(world | {"actions.strike.taboo": 4.0})
    assert trace == ["strike>beta | . | . ||"] * 6


def test_an_incident_is_an_event_nobody_chose_seen_and_answered():
    # Alpha only idles; an incident has it strike beta in every round. Beta sees it, the pact
    # obliges gamma to strike alpha the round after, and the run's first use of force is caused
    # by an incident. Nothing slips above the incident's own rung.
    model, trace, _ = play(incident("border", "alpha", "strike>beta", 1.0))
    assert trace == [". strike>beta | . | . ||"] + [". strike>beta | . | . strike>alpha ||"] * 5
    assert (model.first_force_cause == CAUSES.index("incident")).all()


def test_incidents_happen_at_their_rate_per_rate_unit():
    model = new_model(incident("border", "alpha", "strike>beta", 0.3) | QUIET_PACT | weekly(), replicates=MANY)
    model.step()
    assert_rate(model.events[option(model, "alpha", "strike>beta")], 1 - 0.7**WEEK)
    assert not model.chosen[option(model, "alpha", "strike>beta")].any()


def test_a_commitment_triggers_by_category():
    # The pact names war only; with the category violent_escalation a strike on beta triggers it.
    world = script("alpha", "strike>beta", "idle>beta") | {"commitments.pact.trigger.actions": ["war"]}
    _, trace, _ = play(world)
    assert trace[1] == ". | . | . ||"
    _, trace, _ = play(world | {"commitments.pact.trigger.categories": ["violent_escalation"]})
    assert trace[1] == ". | . | . strike>alpha ||"


def test_a_red_line_triggers_by_category():
    world = script("gamma", "idle>alpha", "arm>beta") | {"red_lines.alpha.no_arms.trigger.actions": ["sanction"],
                                                          "red_lines.alpha.no_arms.trigger.target": "beta"}
    _, trace, _ = play(world)
    assert trace[2] == ". | . |  || gamma:arm>beta"
    _, trace, _ = play(world | {"red_lines.alpha.no_arms.trigger.categories": ["non_violent_escalation"]})
    assert trace[2] == ". strike>gamma | . |  || gamma:arm>beta"


def test_a_commitment_makes_its_potential_attackers_cautious_short_of_an_attack():
    # Kim: caution x the deterrence of an attack on beta weighs on alpha's threats to beta, in
    # proportion to their escalation points over those of the listed attacks (a strike, a war).
    world = utility("alpha") | {"commitments.pact.obligations.gamma.cost": 5.0, "dynamics.utility.deterrence": 1.0,
                                "commitments.pact.trigger.ambiguous": []}
    for caution in (0.0, 2.0):
        model = new_model(world | {"commitments.pact.caution": caution})
        step_keeping_what_choices_read(model)
        actor = model.actors_by_index[0]
        terms = {name: np.broadcast_to(v, (len(actor.policy.options), 3)) for name, _, v in actor.policy.terms(actor)}
        t = model.tables
        threaten = list(actor.policy.options).index(option(model, "alpha", "threaten>beta"))
        expected = caution * 1.0 * 5.0 * t.points[t.actions.index("threaten")] / t.points[t.actions.index("war")]
        np.testing.assert_allclose(terms["deterred by pact"][threaten], expected)


def test_an_agreement_ripens_with_its_state():
    # Both parties value a truce at -10, plus 20 x morale (0.5): utility 0, so each proposes and
    # accepts half the time: signed with 1 - (1 - 1/4)^2. Without ripeness, almost never.
    world = {"agreements.truce.value": {"alpha": -10.0, "beta": -10.0}, "agreements.truce.proposal_rate": 1.0}
    model = new_model(world | {"agreements.truce.ripeness": {"state": "morale", "weight": {"alpha": 20.0, "beta": 20.0}}},
                      replicates=MANY)
    model.step()
    assert_rate(model.agreed[0], 1 - 0.75**2)
    model = new_model(world, replicates=MANY)
    model.step()
    assert model.agreed.mean() < 1e-3


def test_a_state_driver_may_name_its_targets():
    model, _, morale = play(
        script("alpha", "strike>gamma", "strike>beta") | QUIET_PACT
        | {"state.morale.drivers": [{"actor": "alpha", "actions": ["strike"], "targets": ["beta"], "delta": 0.2}]},
        watch=lambda m: float(m.state_values[0, 0]),
    )
    np.testing.assert_allclose(morale[:3], [0.5, 0.7, 0.9], atol=1e-12)


def test_state_drifts_and_moves_with_its_drivers():
    # Morale drifts down 0.1 a month; each strike alpha makes adds 0.3 (round 1 only).
    _, _, morale = play(
        script("alpha", "strike>beta", "idle>beta") | QUIET_PACT
        | {"state.morale.drift": -0.1, "state.morale.drivers": [{"actor": "alpha", "actions": ["strike"], "delta": 0.3}]},
        watch=lambda m: float(m.state_values[0, 0]),
    )
    np.testing.assert_allclose(morale, [0.7, 0.6, 0.5, 0.4, 0.3, 0.2], atol=1e-12)


def test_a_state_variable_weighs_in_an_actors_utility():
    # A strike on beta is worth -5 to alpha (on gamma -10), plus 20 x morale: at morale 0.5 it
    # is worth 5 and alpha strikes beta; at 0.2 it is worth -1 and alpha idles (idle 0).
    world = utility("alpha", toward={"beta": {"strike": -5.0}}) | QUIET_PACT | {"state.morale.effects": [{"actor": "alpha", "action": "strike", "weight": 20.0}]}
    _, trace, _ = play(world)
    assert trace == ["strike>beta | . | . ||"] * 6
    _, trace, _ = play(world | {"state.morale.initial": 0.2})
    assert trace == [CALM] * 6


def test_a_state_can_make_an_activity_in_force_worth_stopping():
    # De-escalation by the state (v3: war weariness): alpha's war on beta is worth 5 to it, and
    # alpha reconsiders it every round (persistence 0). It keeps it; with morale weighing -20 on
    # war (-10 at 0.5) the war is worth -5 and alpha stops it in round 1, then idles.
    world = utility("alpha", toward={"beta": {"war": 5.0}}) | activities("alpha", "war>beta") | QUIET_PACT
    world |= {"actors.alpha.persistence": 0.0}
    _, trace, _ = play(world)
    assert trace == [". | . | . || alpha:war>beta"] * 6
    _, trace, _ = play(world | {"state.morale.effects": [{"actor": "alpha", "action": "war", "weight": -20.0}]})
    assert trace == [". -war>beta | . | . ||"] + [CALM] * 5


def test_routine_moves_are_part_of_the_status_quo():
    # Alpha threatens beta every round: new escalation, unless threats were its routine.
    world = script("alpha", "threaten>beta") | QUIET_PACT
    model, _, _ = play(world)
    assert (model.peak_new == model.tables.rung[model.tables.actions.index("threaten")]).all()
    model, _, _ = play(world | {"actors.alpha.routine": [_move("threaten>beta")]})
    assert (model.peak_new == 0).all()


def test_a_line_crossed_unseen_is_a_fact_the_owner_does_not_enforce():
    # Gamma arms beta covertly and alpha never sees it: crossed (the fact), not seen, not enforced.
    world = script("gamma", "idle>alpha", "arm>beta") | {"actions.arm.public": False, "actions.arm.detection": 0.0}
    model, trace, _ = play(world)
    assert all("strike>gamma" not in line for line in trace)
    runs = runs_table(model, 0).to_pandas()
    assert runs["crossed.alpha.no_arms"].all() and not runs["seen.alpha.no_arms"].any()
    assert (runs["round.alpha.no_arms"] == 2).all() and runs["enforced.alpha.no_arms"].isna().all()
    model, _, _ = play(script("gamma", "idle>alpha", "arm>beta"))
    runs = runs_table(model, 0).to_pandas()
    assert runs["seen.alpha.no_arms"].all() and runs["enforced.alpha.no_arms"].all()


def test_the_cause_of_a_first_use_of_force_is_recorded():
    # A strike chosen with no reach to hold it back is a choice; a red line's response is forced;
    # a strike opened only by the strike alpha felt from beta is a reply.
    model, _, _ = play(script("alpha", "strike>beta", "idle>beta"))
    assert (model.first_force_cause == CAUSES.index("choice")).all()
    model, _, _ = play(script("gamma", "idle>alpha", "arm>beta"))
    assert (model.first_force_cause == CAUSES.index("red-line response")).all()
    world = utility("alpha", toward={"beta": {"strike": 5.0, "threaten": 3.0}}) | QUIET_PACT | reach(2)
    model = new_model(world | script("beta", "idle>alpha", "strike>alpha", "idle>alpha"), replicates=SAME)
    for _ in range(3):
        model.step()
    strike = option(model, "alpha", "strike>beta")
    assert (model.event_causes()[strike] == CAUSES.index("reply")).all()
    assert (model.first_force_cause == CAUSES.index("choice")).all()  # beta's strike came first


# -- perception ----------------------------------------------------------------------------------------


def test_covert_actions_are_seen_with_probability_detection_times_intelligence():
    model = new_model(
        script("gamma", "supply>beta")
        | {"actions.supply.public": False, "actions.supply.detection": 0.5, "actors.alpha.intelligence": 0.8},
        replicates=MANY,
    )
    model.step()
    model.step()
    saw = model.seen[watch_of(model, "alpha", "gamma", "beta")]
    supply = model.tables.actions.index("supply")
    assert set(np.unique(saw)) == {supply, -1}
    assert_rate(saw == supply, 0.4)
    # beta, the recipient, is told in the same way (intelligence 1): half the time
    assert_rate(model.seen[watch_of(model, "beta", "gamma", "beta")] == supply, 0.5)


def test_spiral_bias_makes_a_hostile_observer_read_a_move_higher():
    # Beta hates alpha (1.0) and, knowing nothing (intelligence 0: the tilt falls with
    # intelligence), reads its moves 3 rungs higher: a threat (rung 2) is read at
    # rung 5, nearest to a strike, and tit-for-tat beta answers a strike; alpha's idling (rung 1)
    # is read at rung 4, as near a threat as a strike, so as a threat (lower on ties). Gamma, not
    # hostile, reads the threat as it is and the pact stays quiet.
    model, trace, _ = play(
        script("alpha", "threaten>beta", "idle>beta")
        | {"dynamics.perception.spiral_bias": 3.0, "actors.beta.hostility": {"alpha": 1.0}}
        | {"actors.beta.policy": {"name": "tit_for_tat", "opponent": "alpha", "opening": _move("idle>alpha")}}
    )
    assert not any("strike>alpha" in line for line in trace)  # fully informed: it reads the threat as it is
    model, trace, _ = play(
        script("alpha", "threaten>beta", "idle>beta")
        | {"dynamics.perception.spiral_bias": 3.0, "actors.beta.hostility": {"alpha": 1.0}, "actors.beta.intelligence": 0.0}
        | {"actors.beta.policy": {"name": "tit_for_tat", "opponent": "alpha", "opening": _move("idle>alpha")}}
    )
    assert trace == ["threaten>beta | . | . ||", ". | strike>alpha | . ||"] + [". | threaten>alpha | . ||"] * 4
    assert status(model) == ["active"]


def test_misperception_reads_rungs_with_noise_that_falls_with_intelligence():
    # Beta, knowing nothing (intelligence 0), reads alpha's threat (rung 2) at rung 2 + N(0, 1),
    # rounded and clipped to the ladder, as alpha's option nearest that rung (lower on ties):
    # talk (<= 0), idle (1), threaten (2-4), strike (5-6), war (7).
    model = new_model(
        script("alpha", "threaten>beta")
        | {"dynamics.perception.misperception": 1.0, "actors.beta.intelligence": 0.0, "actors.gamma.intelligence": 1.0},
        replicates=MANY,
    )
    model.step()
    model.step()
    saw = model.seen[watch_of(model, "beta", "alpha", "beta")]
    a = model.tables.actions.index
    for action, low, high in (("talk", -9, -1.5), ("idle", -1.5, -0.5), ("threaten", -0.5, 2.5), ("strike", 2.5, 4.5)):
        assert_rate(saw == a(action), normal_cdf(high) - normal_cdf(low))
    # gamma, fully informed, reads it as it is
    assert (model.seen[watch_of(model, "gamma", "alpha", "beta")] == a("threaten")).all()


# -- outcomes --------------------------------------------------------------------------------------------


def test_outcome_class_measures_what_is_new_against_the_party_it_works_against():
    # Gamma arms beta from the start: that is rung 5 against alpha. Its sanctions on alpha
    # (rung 3, against alpha) are then nothing new and the run stays calm; without the arms they
    # are new, and the run is tense.
    sanctions = script("gamma", "idle>alpha", "sanction>alpha") | NEVER_ENFORCE
    model, trace, _ = play(sanctions | activities("gamma", "arm>beta"))
    assert trace[1] == ". | . | +sanction>alpha || gamma:sanction>alpha gamma:arm>beta"
    table = outcome_row(model)
    assert table["outcome"] == "calm" and table["new_rung"] == 0 and table["peak_round"] == None
    model, trace, _ = play(sanctions)
    assert trace[1] == ". | . | +sanction>alpha || gamma:sanction>alpha"
    table = outcome_row(model)
    assert table["outcome"] == "tense" and table["new_rung"] == 3 and table["peak_round"] == 2


def test_the_easing_class_needs_a_stop_or_an_agreement_and_nothing_new():
    at_war = activities("alpha", "war>beta")
    cases = {
        "calm": {},
        "eased": inject("lift", 3, stop={"alpha": ["war>beta"]}),
        "violent": inject("lift", 3, stop={"alpha": ["war>beta"]}) | script("alpha", "idle>beta", "strike>gamma", "idle>beta"),
    }
    for expected, world in cases.items():
        model, _, _ = play(at_war | world)
        assert outcome_row(model)["outcome"] == expected, expected
    model, _, _ = play(inject("talks", 5, sign=["truce"]))
    assert outcome_row(model)["outcome"] == "eased"


def test_settled_means_escalated_then_back_to_the_start_and_peak_round_is_the_first_at_the_peak():
    # Gamma sanctions alpha from round 2; alpha answers in kind (its line) in round 3; an inject
    # lifts both in round 4 (gamma's script no longer asks for them). Peak rung 3 in round 2.
    lift = inject("lift", 4, stop={"gamma": ["sanction>alpha"], "alpha": ["sanction>gamma"]})
    world = script("gamma", "idle>alpha", "sanction>alpha", "idle>alpha")
    model, trace, _ = play(world | lift)
    assert trace == [
        CALM,
        ". | . | +sanction>alpha || gamma:sanction>alpha",
        ". +sanction>gamma | . | . || alpha:sanction>gamma gamma:sanction>alpha",
        ". -sanction>gamma | . | . -sanction>alpha ||",
        CALM,
        CALM,
    ]
    table = outcome_row(model)
    assert table["settled"] == True and table["peak_round"] == 2 and table["outcome"] == "tense"
    model, _, _ = play(world)
    table = outcome_row(model)
    assert table["settled"] == False and table["peak_round"] == 2


def test_runs_table_records_when_and_how_long_each_actor_did_each_thing():
    model, trace, _ = play(
        activities("gamma", "supply>beta")
        | script("alpha", "idle>beta", "strike>beta", "idle>beta")
        | inject("talks", 4, sign=["truce"])
    )
    assert trace == [
        ". | . | . || gamma:supply>beta",
        "strike>beta | . | . || gamma:supply>beta",
        ". | . | . strike>alpha || gamma:supply>beta",
    ] + [". | . | . || gamma:supply>beta"] * 3
    assert runs_table(model, 10).column("run").to_pylist() == list(range(10, 10 + model.replicates))
    row = outcome_row(model)
    expected = {
        "outcome": "violent", "settled": True, "peak_round": 2, "new_rung": 6, "peak_rung": 6, "final_rung": 4,
        "new_rung.alpha": 6, "new_rung.beta": 0, "new_rung.gamma": 6,
        "peak_rung.alpha": 6, "peak_rung.beta": 1, "peak_rung.gamma": 6,  # beta only idles (rung 1)
        "crossed.alpha.no_arms": False, "enforced.alpha.no_arms": None, "round.alpha.no_arms": None,
        "crossed.alpha.no_sanctions": False, "enforced.alpha.no_sanctions": None, "round.alpha.no_sanctions": None,
        "status.pact": "invoked", "invoked.pact": 3, "agreed.truce": 4, "in_force.truce": True,
        "first.alpha.idle": 1, "rounds.alpha.idle": 5, "first.alpha.strike": 2, "rounds.alpha.strike": 1,
        "first.gamma.supply": 0, "rounds.gamma.supply": 6, "first.gamma.strike": 3, "rounds.gamma.strike": 1,
        "first.gamma.idle": 1, "rounds.gamma.idle": 6, "first.beta.idle": 1, "rounds.beta.idle": 6,
        "first.beta.war": None, "rounds.beta.war": 0, "first.gamma.arm": None, "rounds.gamma.arm": 0,
    }
    assert {key: row[key] for key in expected} == expected
    # one first. and one rounds. column for every action an actor may take, and no other
    allowed = {f"{actor}.{action}" for action in ACTIONS for actor in model.scenario.actions[action].allowed}
    assert {key.partition(".")[2] for key in row if key.startswith("first.")} == allowed
    assert {key.partition(".")[2] for key in row if key.startswith("rounds.")} == allowed
    # the mean over rounds of the escalation points of what was taken or in force: supplies (12)
    # every round, alpha's strike (28) and gamma's (28)
    assert row["escalation_score"] == pytest.approx((6 * 12 + 28 + 28) / 6)


def test_trajectories_record_each_rounds_events_and_activities():
    model, trace, _ = play(activities("gamma", "supply>beta") | script("alpha", "idle>beta", "strike>beta", "idle>beta"))
    assert trace == [
        ". | . | . || gamma:supply>beta",
        "strike>beta | . | . || gamma:supply>beta",
        ". | . | . strike>alpha || gamma:supply>beta",
    ] + [". | . | . || gamma:supply>beta"] * 3
    table = trajectory_table(model, 0)
    labels = json.loads(table.schema.metadata[b"options"])
    run0 = table.filter(table["run"].to_numpy() == 0).to_pydict()
    assert run0["round"] == [1, 2, 3, 4, 5, 6]

    def decode(actor, column):
        return [{label for j, label in enumerate(labels[actor]) if mask >> j & 1} for mask in run0[f"{column}.{actor}"]]

    assert decode("alpha", "moves") == [{"idle>beta"}, {"strike>beta"}] + [{"idle>beta"}] * 4
    assert decode("gamma", "moves") == [{"idle>alpha"}, {"idle>alpha"}, {"idle>alpha", "strike>alpha"}] + [{"idle>alpha"}] * 3
    assert decode("gamma", "activities") == [{"supply>beta"}] * 6
    assert decode("alpha", "activities") == [set()] * 6
    # each actor's highest-rung event of the round (an activity in force is no event)
    assert [f"{a}>{t}" for a, t in zip(run0["action.alpha"], run0["target.alpha"])] == ["idle>beta", "strike>beta"] + ["idle>beta"] * 4
    assert [f"{a}>{t}" for a, t in zip(run0["action.gamma"], run0["target.gamma"])] == [
        "idle>alpha", "idle>alpha", "strike>alpha", "idle>alpha", "idle>alpha", "idle>alpha"
    ]


# -- determinism and Mesa ----------------------------------------------------------------------------


def test_same_seed_same_runs_and_another_seed_differs():
    def history(seed):
        m = EscalationModel("baseline", replicates=100, rng=seed, rounds=8)
        while m.running:
            m.step()
        return m.history_events

    assert np.array_equal(history(3), history(3))
    assert not np.array_equal(history(3), history(4))


def test_seed_keyword_is_mesas_older_spelling_of_rng():
    a = EscalationModel(DUEL, replicates=100, seed=9, overrides={"injects.x": {"round": 1, "probability": 0.5,
                        "force": {"alpha": _move("threaten>beta")}, "sources": ["judgement"]}})
    b = EscalationModel(DUEL, replicates=100, rng=9, overrides={"injects.x": {"round": 1, "probability": 0.5,
                        "force": {"alpha": _move("threaten>beta")}, "sources": ["judgement"]}})
    np.testing.assert_array_equal(a.inject_fires["x"], b.inject_fires["x"])
    with pytest.raises(ValueError):
        EscalationModel(DUEL, rng=1, seed=1)


def test_dotted_keyword_overrides():
    m = EscalationModel(DUEL, actors__alpha__resolve=0.9, rounds=3)
    assert m.scenario.actors["alpha"].resolve == 0.9
    assert m.scenario.rounds == 3


def test_invariants_of_a_free_run():
    model = EscalationModel("peninsula-war", replicates=1000, rng=SEED)
    t = model.tables
    while model.running:
        model.step()
        for array in (model.hostility, model.credibility, model.state_values):
            assert ((0 <= array) & (array <= 1)).all()
        assert ((0 <= model.status) & (model.status <= 3)).all()
        assert not (model.in_force & ~model.option_activity[:, None]).any(), "only activities stay in force"
        assert not (model.stopped & model.in_force).any()
        assert not (model.stopped & model.events).any()
    assert (model.peak_new <= t.top).all()


def test_mesa_batch_run():
    import mesa

    rows = mesa.batch_run(
        EscalationModel,
        parameters={"scenario": [str(DUEL)], "rng": [1, 2]},
        max_steps=6,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 2
    assert all(r["round"] == 6 for r in rows)
