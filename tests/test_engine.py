"""Specifications of the engine on a small noise-free world (tests/data/duel.yaml).

Each test scripts the other actors, records the whole trace and asserts all of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.model import EscalationModel

DUEL = Path(__file__).parent / "data" / "duel.yaml"


def script(*moves: str, target: str) -> dict:
    return {"name": "scripted", "moves": [{"action": m, "target": target} for m in moves]}


def play(replicates: int = 3, **overrides) -> tuple[EscalationModel, list[list[tuple[str, str]]]]:
    """Run the duel world to its end; the trace of replicate 0 as (action, target) per actor per round."""
    model = EscalationModel(DUEL, replicates=replicates, rng=7, overrides=overrides)
    trace = []
    while model.running:
        model.step()
        t = model.tables
        trace.append([(t.actions[a], t.actors[g]) for a, g in zip(model.action[0], model.target[0])])
        assert (model.action == model.action[0]).all(), "noise-free replicates must agree"
    return model, trace


def moves_of(trace, actor: int) -> list[str]:
    return [round_[actor][0] for round_ in trace]


def test_scripted_policy_plays_its_moves_then_repeats_the_last():
    _, trace = play(**{"actors.alpha.policy": script("talk", "threaten", "arm", target="beta")})
    assert moves_of(trace, 0) == ["talk", "threaten", "arm", "arm", "arm", "arm"]
    assert all(round_[0][1] == "beta" for round_ in trace)


def test_tit_for_tat_opens_then_answers_the_opponents_last_move_in_kind():
    _, trace = play(
        **{
            "actors.beta.policy": script("threaten", "strike", "talk", "idle", "invade", target="alpha"),
            "actors.alpha.policy": {
                "name": "tit_for_tat",
                "opponent": "beta",
                "opening": {"action": "talk", "target": "beta"},
            },
        }
    )
    assert moves_of(trace, 1) == ["threaten", "strike", "talk", "idle", "invade", "invade"]
    assert moves_of(trace, 0) == ["talk", "threaten", "strike", "talk", "idle", "invade"]


def test_tit_for_tat_replays_its_opening_when_the_opponent_looks_elsewhere():
    _, trace = play(
        **{
            "actors.beta.policy": script("arm", target="gamma"),
            "actors.alpha.policy": {"name": "tit_for_tat", "opponent": "beta", "opening": {"action": "idle", "target": "beta"}},
        }
    )
    assert moves_of(trace, 0) == ["idle"] * 6


def test_utility_policy_with_reciprocity_answers_the_rung_it_was_shown():
    # Only reciprocity counts and the temperature is near zero: alpha matches beta's last rung.
    _, trace = play(
        **{
            "actors.beta.policy": script("threaten", "arm", "talk", "strike", "idle", target="alpha"),
            "actors.alpha.policy": {"name": "utility", "temperature": 0.01},
            "actors.alpha.reciprocity": 10,
            # The red line on arms would be crossed if alpha armed; deterrence is off here.
        }
    )
    assert moves_of(trace, 0) == ["idle", "threaten", "arm", "talk", "strike", "idle"]


def test_utility_policy_is_deterred_by_a_credible_red_line():
    # Same as above, but beta's red line on alpha arming is fully credible and deterrence weighs:
    # where alpha would have armed it takes the nearest move that crosses no line; a little
    # escalation aversion breaks the tie between threaten and strike toward threaten.
    _, trace = play(
        **{
            "actors.beta.policy": script("threaten", "arm", "talk", "strike", "idle", target="alpha"),
            "actors.alpha.policy": {"name": "utility", "temperature": 0.01},
            "actors.alpha.reciprocity": 10,
            "actors.alpha.risk_tolerance": 0.0,
            "red_lines.beta.no_arms.credibility": 1.0,
            "dynamics.utility.deterrence": 50,
            "dynamics.utility.escalation_aversion": 1.0,
        }
    )
    assert moves_of(trace, 0) == ["idle", "threaten", "threaten", "talk", "strike", "idle"]


def test_utility_policy_prefers_what_it_prefers_when_nothing_else_counts():
    _, trace = play(
        **{
            "actors.alpha.policy": {"name": "utility", "temperature": 0.01},
            "actors.alpha.reciprocity": 0,
            "actors.alpha.preferences": {"threaten": 2.0, "arm": 1.0},
        }
    )
    assert moves_of(trace, 0) == ["threaten"] * 6


def crossing_world(bias: float, **more):
    return play(
        **{
            "actors.alpha.policy": script("idle", "arm", "idle", target="beta"),
            "dynamics.enforcement.bias": bias,
            **more,
        }
    )


def test_red_line_crossed_and_enforced():
    model, trace = crossing_world(bias=20.0)
    # Round 2: alpha arms; round 3: beta sees it and enforces with its declared response.
    assert moves_of(trace, 1) == ["idle", "idle", "strike", "idle", "idle", "idle"]
    assert trace[2][1] == ("strike", "alpha")
    assert model.first_crossed[:, 0].tolist() == [3, 3, 3]
    assert model.enforced_first[:, 0].all()
    # Credibility 0.5 rises by gain * (1 - c) = 0.3 * 0.5 in every observer's eyes.
    np.testing.assert_allclose(model.credibility[:, 0, :], 0.65)
    np.testing.assert_allclose(model.audience_cost, 0.0)


def test_red_line_crossed_and_not_enforced_costs_credibility_and_audience():
    model, trace = crossing_world(bias=-20.0)
    assert moves_of(trace, 1) == ["idle"] * 6
    assert model.first_crossed[:, 0].tolist() == [3, 3, 3]
    assert not model.enforced_first[:, 0].any()
    # Credibility falls by loss * publicity * specificity * c = 0.4 * 1.0 * 0.5 * 0.5 = 0.1.
    np.testing.assert_allclose(model.credibility[:, 0, :], 0.4)
    # The stake: audience weight 0.5 * publicity 1.0 * specificity 0.5 * (1 + 3 months / 12).
    np.testing.assert_allclose(model.audience_cost[:, 1], 0.25 * (1 + 3 / 12))
    np.testing.assert_allclose(model.audience_cost[:, [0, 2]], 0.0)


def test_past_audience_costs_make_the_next_enforcement_likelier():
    model, _ = crossing_world(bias=0.0, **{"dynamics.enforcement.audience": 4.0})
    from sim.engine.redlines import enforcement_probability

    line = model.red_lines[0]
    before = enforcement_probability(model, line, np.zeros(model.replicates))
    model.audience_cost[:, line.owner] += 1.0
    after = enforcement_probability(model, line, np.zeros(model.replicates))
    assert (after > before).all()


def test_treaty_commitment_honoured_after_an_attack_on_an_ally():
    model, trace = play(**{"actors.alpha.policy": script("idle", "invade", "idle", target="beta")})
    # Round 2: alpha invades beta; round 3: gamma, beta's ally, sees it and strikes alpha.
    assert moves_of(trace, 2) == ["idle", "idle", "strike", "idle", "idle", "idle"]
    assert trace[2][2] == ("strike", "alpha")
    assert (model.status[:, 0] == 1).all()  # invoked


def test_commitment_not_honoured_lapses():
    model, trace = play(
        **{"actors.alpha.policy": script("idle", "invade", "idle", target="beta"), "commitments.pact.honour": 0.0}
    )
    assert moves_of(trace, 2) == ["idle"] * 6
    assert (model.status[:, 0] == 2).all()  # lapsed


def test_nullified_commitment_does_nothing():
    model, trace = play(
        **{"actors.alpha.policy": script("idle", "invade", "idle", target="beta"), "commitments.pact.status": "nullified"}
    )
    assert moves_of(trace, 2) == ["idle"] * 6
    assert (model.status[:, 0] == 3).all()


def test_inject_forces_a_move_with_its_probability():
    model, trace = play(
        replicates=1,
        **{"injects": {"push": {"round": 2, "until": 3, "force": {"gamma": {"action": "strike", "target": "alpha"}},
                                 "sources": ["judgement"]}}},
    )
    assert moves_of(trace, 2) == ["idle", "strike", "strike", "idle", "idle", "idle"]
    never = EscalationModel(DUEL, replicates=50, rng=1, overrides={
        "injects": {"push": {"round": 2, "probability": 0.0, "force": {"gamma": {"action": "strike", "target": "alpha"}},
                             "sources": ["judgement"]}}})
    while never.running:
        never.step()
    assert (never.peak_rung[:, 2] == 1).all()


def test_misperception_reads_covert_moves_as_nothing_when_unseen():
    model = EscalationModel(DUEL, replicates=4000, rng=3, overrides={
        "actors.alpha.policy": script("arm", target="beta"),
        "actions.arm.public": False,
        "actions.arm.detection": 0.5,
        "rounds": 2,
    })
    model.step()
    model.step()
    seen = model.perceived[:, 1, 0]
    arm, idle = model.tables.actions.index("arm"), model.tables.actions.index("idle")
    assert set(np.unique(seen)) == {arm, idle}
    # Detection 0.5 x intelligence 1.0; 4000 draws: 4.5 standard errors either side is 0.5 +- 0.036.
    assert abs((seen == arm).mean() - 0.5) < 0.036


@pytest.mark.parametrize("name", ["baseline", "peninsula-war", "tit-for-tat"])
def test_invariants_under_fixed_seeds(name):
    model = EscalationModel(name, replicates=2000, rng=5)
    top = model.tables.top
    while model.running:
        model.step()
        rungs = model.tables.rung[model.action]
        assert ((0 <= rungs) & (rungs <= top)).all()
        for array in (model.hostility, model.credibility, model.state_values):
            assert ((0 <= array) & (array <= 1)).all()
        assert ((0 <= model.status) & (model.status <= 3)).all()
    # Every run's recorded history is a move each actor was allowed to make.
    t = model.tables
    for i in range(len(t.actors)):
        allowed = set(zip(t.options[i].action.tolist(), t.options[i].target.tolist()))
        taken = set(zip(model.history_action[:, :, i].ravel().tolist(), model.history_target[:, :, i].ravel().tolist()))
        assert taken <= allowed
    assert (model.peak_rung.max(axis=1) >= t.rung[model.action].max(axis=1)).all()


def test_same_seed_same_model_and_other_seed_differs():
    def history(seed):
        m = EscalationModel("baseline", replicates=500, rng=seed)
        while m.running:
            m.step()
        return m.history_action

    assert np.array_equal(history(3), history(3))
    assert not np.array_equal(history(3), history(4))


def test_seed_keyword_is_mesas_older_spelling_of_rng():
    a = EscalationModel("baseline", replicates=100, seed=9)
    b = EscalationModel("baseline", replicates=100, rng=9)
    for m in (a, b):
        while m.running:
            m.step()
    assert np.array_equal(a.history_action, b.history_action)
    with pytest.raises(ValueError):
        EscalationModel("baseline", rng=1, seed=1)


def test_dotted_keyword_overrides():
    m = EscalationModel("baseline", actors__south_korea__resolve=0.9, rounds=3)
    assert m.scenario.actors["south_korea"].resolve == 0.9
    assert m.scenario.rounds == 3


def test_mesa_batch_run():
    import mesa

    from sim.engine.model import EscalationModel as Model

    rows = mesa.batch_run(
        Model,
        parameters={"scenario": ["baseline", "lethal-aid"], "rng": [1, 2, 3]},
        max_steps=24,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 6
    assert {r["scenario"] for r in rows} == {"baseline", "lethal-aid"}
    assert all(r["round"] == 24 for r in rows)
