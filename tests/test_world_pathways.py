"""The Korean world's v3 pathways, each checked exactly in a few runs of one or two rounds.

The engine's mechanisms are specified on a small world (tests/test_engine.py); these tests check
that the Korean world wires its cited pathways through them, so that removing one from the world
file fails a fast test and not only the slow statistical ones (tests/test_claims.py,
tests/test_statistics.py): nuclear use is a threshold (at war with the target's side and the
state's own condition met), a nuclear use changes the state every actor reads (nuclear_shock),
and Russia's war drives a manpower need that makes sending troops worth more to Pyongyang.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import EscalationModel
from test_engine import step_keeping_what_choices_read

SEED = 2024
RUNS = 20


def first_round(**overrides) -> EscalationModel:
    model = EscalationModel("baseline", replicates=RUNS, rng=SEED, overrides=overrides)
    step_keeping_what_choices_read(model)
    return model


def state(model: EscalationModel, vid: str) -> np.ndarray:
    return model.state_values[list(model.scenario.state).index(vid)]


def term(model: EscalationModel, actor: str, action: str, target: str, name: str) -> np.ndarray:
    """(R,) the terms of an actor's utility for one option that bear `name`, summed (a state
    yields one term per effect)."""
    t = model.tables
    agent = model.actors_by_index[t.index(actor)]
    row = list(agent.policy.options).index(t.option(actor, action, target))
    shape = (len(agent.policy.options), RUNS)
    return sum(np.broadcast_to(v, shape)[row] for n, _, v in agent.policy.terms(agent) if n == name)


NK_AT_WAR = {"actors.north_korea.activities": [{"action": "arms_transfer", "target": "russia"},
                                               {"action": "war", "target": "south_korea"}]}


@pytest.mark.parametrize(
    ("at_war", "threat", "open_"),
    [(True, 0.9, True), (True, 0.3, False), (False, 0.9, False)],
    ids=["at-war-threatened", "at-war-not-threatened", "threatened-not-at-war"],
)
def test_nuclear_use_is_a_threshold_of_war_and_threat(at_war, threat, open_):
    # North Korea may choose nuclear use against the South only at war with it and with the
    # threat to its state at least 0.5 (its 2022 law); a war in force puts the rung (15) within
    # reach of its level (war, 14), so only the threshold closes it.
    model = first_round(**(NK_AT_WAR if at_war else {}), **{"state.threat_north_korea.initial": threat})
    nuclear = model.tables.option("north_korea", "nuclear_use", "south_korea")
    assert (model.open[nuclear] == open_).all()


def test_a_nuclear_use_shocks_the_world_every_actor_reads():
    # An inject has North Korea use a nuclear weapon on the South in round 1: nuclear_shock goes
    # from 0 to 1 - 0.02 (its drift) at once, and the US weighs an intervention on the North
    # by 3 x the shock more; with no use, the shock stays 0.
    used = first_round(**{"injects.first_use": {"round": 1, "force": {"north_korea": {"action": "nuclear_use", "target": "south_korea"}},
                                                "sources": ["judgement"]}})
    quiet = first_round()
    np.testing.assert_allclose(state(used, "nuclear_shock"), 0.98, atol=1e-12)
    np.testing.assert_allclose(state(quiet, "nuclear_shock"), 0.0)
    np.testing.assert_allclose(term(used, "united_states", "intervention", "north_korea", "state nuclear_shock"), 3.0 * 0.98, atol=1e-12)


def test_russias_war_drives_a_manpower_need_that_pulls_north_korean_troops():
    # The demand pathway: the need (0.5 in June 2024) grows by 0.05 a month while Russia's war on
    # Ukraine is in force, less a drift of 0.04; it adds 3 x the need to North Korea's utility
    # of sending troops to Russia.
    model = first_round()
    t = model.tables
    war = model.in_force[t.option("russia", "war", "ukraine")]
    assert war.any()
    need = state(model, "russia_manpower_need")
    np.testing.assert_allclose(need, 0.5 - 0.04 + 0.05 * war, atol=1e-12)
    pull = term(model, "north_korea", "troop_deployment", "russia", "state russia_manpower_need")
    assert (pull > 0).all()
    np.testing.assert_allclose(pull, 3.0 * need, atol=1e-12)
