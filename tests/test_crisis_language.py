"""Issue 17, items 6, 7, 9 and 10: outcome classes that leave out scripted events or count chosen
dyads, audience costs that saturate with a line's age, activity levels, and actors with no
adversary. Each test builds a small world (tests/data/duel.yaml, see tests/test_engine.py for the
trace notation) that uses the mechanism and checks what it does.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.engine.outcomes import outcome_class
from sim.engine.redlines import audience_stake, enforcement_probability
from test_engine import activities, inject, new_model, outcome_row, play, script, utility

CLASSES = ("eased", "calm", "tense", "violent")
NO_PACT = {"commitments.pact.status": "lapsed"}  # gamma does not answer a strike on beta
OPENING_STRIKE = inject("opening", 1, force={"alpha": "strike>beta"})


def classes_of(model) -> list[str]:
    return sorted({CLASSES[c] for c in outcome_class(model)})


# -- outcome classes: scripted events and chosen dyads (item 6) ----------------------------------


def test_a_class_that_leaves_scripted_events_out_is_left_only_by_a_chosen_attack():
    # An inject makes alpha strike beta in round 1. Counted, the strike (rung 6) puts every run
    # in `violent`; with `scripted: false` on the classes below, a run stays `calm` unless an
    # attack is chosen (alpha strikes beta again in round 4 of its own script).
    unscripted = {f"outcomes.classes.{c}.scripted": False for c in ("eased", "calm", "tense")}
    model, trace, _ = play(OPENING_STRIKE | NO_PACT | unscripted)
    assert trace[0] == ". strike>beta | . | . ||"  # its own idle and the forced strike
    assert classes_of(model) == ["calm"]
    model, _, _ = play(OPENING_STRIKE | NO_PACT)  # switched off: the scripted strike counts
    assert classes_of(model) == ["violent"]
    chosen = script("alpha", "idle>beta", "idle>beta", "idle>beta", "strike>beta", "idle>beta")
    model, trace, _ = play(OPENING_STRIKE | NO_PACT | unscripted | chosen)
    assert trace[3] == "strike>beta | . | . ||"
    assert classes_of(model) == ["violent"]
    assert model.peak_new.tolist() == model.peak_counted[0].tolist() == [6] * 50


def test_a_class_over_one_dyad_ignores_another_dyads_war():
    # `calm` counts alpha and beta only (either way): alpha's strike on gamma leaves a run calm,
    # its strike on beta does not.
    between = {"outcomes.classes.calm.between": [["beta", "alpha"]]}
    model, _, _ = play(script("alpha", "strike>gamma") | between)
    assert classes_of(model) == ["calm"]
    model, _, _ = play(script("alpha", "strike>gamma"))  # switched off: every dyad counts
    assert classes_of(model) == ["violent"]
    model, _, _ = play(script("alpha", "strike>beta") | NO_PACT | between)
    assert classes_of(model) == ["violent"]


# -- audience costs that saturate with a line's age (item 7) --------------------------------------


def _enforcement_odds(drawn: str, half_life: float | None) -> float:
    """P(alpha enforces alpha.no_sanctions) in round 1, its line drawn on `drawn`: logit
    -6 + 1 x stake, stake = weight 0.5 x publicity 0.5 x specificity 1 x (1 + what the age counts)."""
    world = {"dynamics.enforcement.bias": -6.0, "dynamics.enforcement.resolve": 0.0,
             "dynamics.enforcement.audience": 1.0, "red_lines.alpha.no_sanctions.drawn": drawn}
    if half_life is not None:
        world["dynamics.enforcement.audience_half_life"] = half_life
    model = new_model(world)
    model.step()
    line = next(x for x in model.red_lines if x.id == "alpha.no_sanctions")
    probability = enforcement_probability(model, line, audience_stake(model, line))
    assert len(set(probability.tolist())) == 1
    return float(probability[0])


def test_an_old_lines_audience_cost_saturates_with_a_half_life():
    # Lines drawn 30 and 60 years before the start (2024-01-01). Linear (today's form, no
    # half-life): the stake counts 1 + age, so the older line is enforced with odds 0.85 against
    # 0.9999, more than 0.1 apart. With a 10-year half-life the age counts (10 / ln 2)(1 - 2^(-age/10)):
    # 12.6 and 14.2 years, and the two odds differ by less than 0.05.
    young, old = dt.date(1994, 1, 1), dt.date(1964, 1, 1)
    linear = [_enforcement_odds(str(d), None) for d in (young, old)]
    saturating = [_enforcement_odds(str(d), 10.0) for d in (young, old)]
    assert linear[1] - linear[0] > 0.1
    assert 0 < saturating[1] - saturating[0] < 0.05
    day = dt.date(2024, 1, 1)  # round 1 starts on the world's start
    for drawn, p in zip((young, old), saturating):
        age = (day - drawn).days / 365.25
        counted = 10.0 / math.log(2) * (1 - 2 ** (-age / 10.0))
        assert math.isclose(p, 1 / (1 + math.exp(6.0 - 0.25 * (1 + counted))), rel_tol=1e-12)
    for drawn, p in zip((young, old), linear):
        age = (day - drawn).days / 365.25
        assert math.isclose(p, 1 / (1 + math.exp(6.0 - 0.25 * (1 + age))), rel_tol=1e-12)


# -- an actor with no adversary (item 10) --------------------------------------------------------


def _mediator(idle_toward: list[str]) -> dict:
    """Delta, a mediator: talks to alpha or beta or idles (toward `idle_toward`; [] = nobody), at
    random (utility policy at temperature 1, no preference among the three). Alpha and beta know
    nothing (intelligence 0) and misread widely (misperception 3 rungs, spiral bias 1)."""
    return {
        "actors.delta": {"label": "Delta", "resolve": 0.5, "risk_tolerance": 0.5, "audience_cost_weight": 0.0,
                         "intelligence": 1.0, "hostility": {"alpha": 0.0}, "sources": ["judgement"]},
        "actions.talk.allowed.delta": ["alpha", "beta"],
        "actions.idle.allowed.delta": idle_toward,
        "actors.alpha.intelligence": 0.0,
        "actors.beta.intelligence": 0.0,
        "dynamics.perception.misperception": 3.0,
        "dynamics.perception.spiral_bias": 1.0,
        "agreements.truce.mediators": ["delta"],
    } | utility("delta", temperature=1.0, talk=0.0)


def _what_they_saw_of_delta(overrides: dict, replicates: int = 2000) -> tuple[list, list]:
    """Per round after the first, what each watch on delta saw and whether delta did that."""
    model = new_model(overrides, replicates)
    t = model.tables
    delta = t.index("delta")
    watches = [w for w in range(len(model.watches.couples)) if model.watches.actor[w] == delta]
    seen, truth = [], []
    while model.running:
        did = model.last_events.copy()  # what delta did last round: what the watches see now
        model.step()
        for w in watches:
            pair = model.watches.pair[w]
            options = np.flatnonzero(t.pair == pair)
            seen.append(model.seen[w].copy())
            truth.append([{int(t.action[o]) for o in options if did[o, r]} for r in range(replicates)])
    return seen, truth


def test_a_mediator_holding_toward_nobody_is_never_seen_holding_or_warning():
    # Delta holds toward nobody and talks to the parties; over 2,000 runs of 6 rounds its holds are
    # no event anyone sees, and everything its parties see of it is a talk it made: never a hold,
    # never a misread one (read as a talk, or a warning where it has one).
    seen, truth = _what_they_saw_of_delta(_mediator([]))
    model = new_model(_mediator([]), 1)
    talk, idle = model.tables.actions.index("talk"), model.tables.actions.index("idle")
    delta = model.tables.index("delta")
    assert all(model.watches.actor[w] != delta or model.watches.target[w] != delta
               for w in range(len(model.watches.couples)))
    talks = 0
    for saw, did in zip(seen, truth):
        for r, action in enumerate(saw.tolist()):
            assert action in (-1, talk)
            assert (action == talk) == (talk in did[r])
            talks += action == talk
    assert talks > 1000  # it did mediate, and was seen to
    # switched off: idling toward beta (as before), its holds are seen, and some read as talks it never made
    seen, truth = _what_they_saw_of_delta(_mediator(["beta"]))
    holds = misread = 0
    for saw, did in zip(seen, truth):
        for r, action in enumerate(saw.tolist()):
            holds += action == idle
            misread += action == talk and talk not in did[r]
    assert holds > 100 and misread > 100


# -- activity levels (item 9) --------------------------------------------------------------------

THREE_LEVELS = {"actions.sanction.levels": 3, "dynamics.hostility.reaction": 0.5}


def _level_and_hostility(model) -> tuple[int, float]:
    """Alpha's level of sanctions on gamma, and gamma's hostility toward alpha (every replicate alike)."""
    k = int(np.flatnonzero(model.leveled == model.tables.option("alpha", "sanction", "gamma"))[0])
    h = model.hostility[model.dyads.declared(model.tables.index("gamma"), model.tables.index("alpha"))]
    assert len(set(model.level[k].tolist())) == 1 and len(set(h.tolist())) == 1
    return int(model.level[k, 0]), float(h[0])


def test_raising_an_activity_a_level_is_an_event_its_target_sees_and_answers():
    # Alpha starts sanctions on gamma in round 1 and picks them again every round: with three
    # levels each pick raises them (rounds 2 and 3), an event gamma sees a round later, and its
    # hostility rises by reaction x points x (1 - h) each time it sees one (points 12/28); at the top level a
    # pick is no event. With one level (today) only the start is an event.
    model, trace, watched = play(script("alpha", "sanction>gamma") | THREE_LEVELS, watch=_level_and_hostility)
    assert trace == ["+sanction>gamma | . | . || alpha:sanction>gamma"] * 3 + [" | . | . || alpha:sanction>gamma"] * 3
    step = 0.5 * 12 / 28
    h = [0.0]
    for _ in range(3):
        h.append(h[-1] + step * (1 - h[-1]))
    assert [level for level, _ in watched] == [1, 2, 3, 3, 3, 3]
    assert np.allclose([x for _, x in watched], [h[0], h[1], h[2], h[3], h[3], h[3]], rtol=0, atol=1e-15)
    assert outcome_row(model)["level.alpha.sanction"] == 3
    # switched off: one level, the picks after the start are no events and gamma's hostility stays
    model, trace, watched = play(script("alpha", "sanction>gamma") | {"dynamics.hostility.reaction": 0.5},
                                 watch=lambda m: float(m.hostility[m.dyads.declared(2, 0), 0]))
    assert trace == ["+sanction>gamma | . | . || alpha:sanction>gamma"] + [" | . | . || alpha:sanction>gamma"] * 5
    assert np.allclose(watched, [h[0]] + [h[1]] * 5, rtol=0, atol=1e-15)


def test_a_raise_costs_the_activitys_escalation_points_again():
    # Sanctions on gamma in force at the start (level 1). Alpha likes them (preference p toward
    # gamma) but is averse to escalation: 20 x (1 - risk tolerance 0) x 12/28 = 8.6 for a raise,
    # though the level in force holds its posture (a start from there would cost nothing). With
    # p = 5 it holds (5 - 8.6 < 0, idle's 0); with p = 10 it raises twice, then holds at the top.
    def world(p: float) -> dict:
        return (activities("alpha", "sanction>gamma") | THREE_LEVELS
                | utility("alpha", toward={"gamma": {"sanction": p}})
                | {"dynamics.utility.escalation_aversion": 20.0, "actors.alpha.risk_tolerance": 0.0})

    _, trace, watched = play(world(5.0), watch=_level_and_hostility)
    assert trace == [". | . | . || alpha:sanction>gamma"] * 6
    assert [level for level, _ in watched] == [1] * 6
    _, trace, watched = play(world(10.0), watch=_level_and_hostility)
    assert trace == ["+sanction>gamma | . | . || alpha:sanction>gamma"] * 2 + [". | . | . || alpha:sanction>gamma"] * 4
    assert [level for level, _ in watched] == [2, 3, 3, 3, 3, 3]


# -- located errors ---------------------------------------------------------------------------------


def test_the_new_keys_are_checked_with_located_errors(tmp_path):
    import pytest

    from sim.scenario import ScenarioError, load_scenario
    from test_engine import DUEL

    (tmp_path / "duel.yaml").write_text(DUEL.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: duel.yaml\n"
        "actions:\n"
        "  threaten: {levels: 2}\n"
        "  strike:\n"
        "    allowed: {alpha: [beta, gamma], beta: [alpha], gamma: []}\n"
        "dynamics:\n"
        "  enforcement: {audience_half_life: 0}\n"
        "outcomes:\n"
        "  classes:\n"
        "    calm: {max_rung: 2, between: [[alpha, alpha], [alpha, zeta]]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as shape:
        load_scenario(bad)
    found = sorted(str(p).replace(str(tmp_path) + "/", "") for p in shape.value.problems)
    assert found == ["bad.yaml:7:17: dynamics.enforcement.audience_half_life: expected a number in [0.1, 1000], got 0"]
    text = bad.read_text(encoding="utf-8").replace("audience_half_life: 0", "audience_half_life: 5")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as references:
        load_scenario(bad)
    found = sorted(str(p).replace(str(tmp_path) + "/", "") for p in references.value.problems)
    assert found == [
        "bad.yaml:10:35: outcomes.classes.calm.between[0]: a dyad needs two actors (expected two different ids, got 'alpha' twice)",
        "bad.yaml:10:59: outcomes.classes.calm.between[1][1]: unknown actor (expected one of the scenario's actors, got 'zeta') (did you mean 'beta'?)",
        "bad.yaml:3:14: actions.threaten.levels: levels above 1 need kind: activity (expected 1 for a move, got 2)",
        "bad.yaml:5:52: actions.strike.allowed.gamma: no target (expected at least one; only the neutral action 'idle' may be taken toward nobody, got [])",
        "duel.yaml:111:7: commitments.pact.obligations.gamma: obligation not allowed (expected actions.strike.allowed.gamma to include alpha)",
    ]


def test_a_windowed_outcome_measure_counts_the_dyads_its_class_counts():
    # "violent or worse by round 4", read from the trajectories: alpha's strike on gamma (round 2)
    # does not count where the classes below count alpha and beta only, as it does not for the
    # run's outcome; where every dyad counts, it does.
    from sim.engine.outcomes import runs_table, trajectory_table
    from sim.experiments.questions import evaluate
    from sim.scenario.questions import Measure

    measure = {"m": Measure(question="q", kind="outcome", at_least="violent", by=4)}
    dyads = {f"outcomes.classes.{c}.between": [["alpha", "beta"]] for c in ("eased", "calm", "tense")}
    for between, expected in ((dyads, False), ({}, True)):
        model, _, _ = play(script("alpha", "idle>beta", "strike>gamma", "idle>beta") | between, replicates=3)
        runs, trajectories = runs_table(model, 0).to_pandas(), trajectory_table(model, 0).to_pandas()
        assert evaluate(measure, runs, trajectories, model.scenario)["m"].tolist() == [expected] * 3
        assert (runs["outcome"].astype(str) == "violent").tolist() == [expected] * 3


def test_a_traced_raise_is_told_as_a_raise():
    from sim.engine.model import resolve_scenario
    from sim.report.story import tell
    from sim.report.trace import replay
    from test_engine import DUEL

    scenario = resolve_scenario(DUEL, script("alpha", "sanction>gamma") | THREE_LEVELS)
    tracer, row = replay(scenario, seed=0, block=0, size=3, replicate=1)
    told = [r.lines for r in tell(scenario, tracer)][:4]
    assert told == [["starts      alpha sanction>gamma  (its policy)"], ["raises      alpha sanction>gamma  (its policy)"],
                    ["raises      alpha sanction>gamma  (its policy)"], []]
    assert row["level.alpha.sanction"] == 3
