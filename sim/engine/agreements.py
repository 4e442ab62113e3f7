"""Agreements: talks and ceasefires as joint acts between two parties.

Each round an agreement not in force may be proposed by either party, with probability
`proposal_rate` (per rate unit) times the logistic of the proposer's utility for it; the
other party accepts with the logistic of its own utility. A party's utility is its `value` for
the agreement less its hostility toward the other (utility weights' `hostility`), plus
`mediation` when a mediator engaged that party last round (per party: it raises that party's
proposals and acceptances), plus its `ripeness` weight times a state variable (Zartman's
hurting stalemate: war weariness makes a settlement ripe). In force, it stops the
activities it names between the parties, eases their hostility by `eases` per rate unit, and
costs either party `break_cost` in utility for an option that would break it; an event of a
named action between the parties breaks it. An agreement `from` a date after the start is
neither proposed nor, if `in_force`, holding before the round that date falls in (it then comes
into force in that round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario
from ..scenario.calendar import from_round

if TYPE_CHECKING:
    from .model import EscalationModel


def logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x / 2))  # 1 / (1 + e^-x) without overflow


@dataclass(frozen=True)
class Agreement:
    index: int
    id: str
    parties: tuple[int, int]
    covered: np.ndarray  # (O,) bool: options of a party, of a named action, toward or against the other
    mediators: np.ndarray  # (M,) actors
    engaging: tuple[np.ndarray, np.ndarray]  # (O,) bool each: a mediator's de-escalating moves toward each party
    ripeness_state: int  # -1 when the agreement does not ripen
    first_round: int  # the round it may be proposed from, or comes into force if in force (0: the start)
    in_force: bool  # in force from its first round without being proposed

    def path(self, key: str) -> str:
        return f"agreements.{self.id}.{key}"


def in_force_at_start(s: Scenario) -> np.ndarray:
    """(G,) bool: the agreements in force before round 1."""
    return np.array([g.in_force and from_round(g.from_, s) == 0 for g in s.agreements.values()], dtype=bool)


def compile_agreements(model: EscalationModel) -> list[Agreement]:
    t, out = model.tables, []
    for index, (gid, g) in enumerate(model.scenario.agreements.items()):
        a, b = (t.index(x) for x in g.parties)
        named = np.isin(t.action, t.action_index(g.stops))
        between = ((t.actor == a) & ((t.target == b) | (t.against == b))) | (
            (t.actor == b) & ((t.target == a) | (t.against == a))
        )
        mediators = np.array([t.index(m) for m in g.mediators], dtype=np.int64)
        engaging = tuple(np.isin(t.actor, mediators) & (t.target == x) & (t.points[t.action] < 0) for x in (a, b))
        ripeness = list(model.scenario.state).index(g.ripeness.state) if g.ripeness else -1
        out.append(Agreement(index, gid, (a, b), named & between, mediators, engaging, ripeness,
                             from_round(g.from_, model.scenario), g.in_force))
    return out


def utility(model: EscalationModel, g: Agreement, party: int, other: int) -> np.ndarray:
    p, name = model.params, model.tables.actors[party]
    value = p[g.path(f"value.{name}")] - p["dynamics.utility.hostility"] * model.hostility[model.dyads.declared(party, other)]
    if g.ripeness_state >= 0:
        value = value + p.get(g.path(f"ripeness.weight.{name}"), 0.0) * model.state_values[g.ripeness_state]
    return value


def mediated(model: EscalationModel, g: Agreement, party: int) -> np.ndarray | float:
    """(R,): `party`'s `mediation` where a mediator engaged it last round, else 0."""
    engaging = g.engaging[g.parties.index(party)]
    if not engaging.any():
        return 0.0
    if isinstance(model.scenario.agreements[g.id].mediation, dict):
        strength = model.params.get(g.path(f"mediation.{model.tables.actors[party]}"), 0.0)
    else:
        strength = model.params[g.path("mediation")]
    return model.last_events[engaging].any(axis=0) * strength


def negotiate(model: EscalationModel) -> None:
    """Proposals and acceptances; agreements in force stop what they name and ease hostility."""
    rng, R, p = model.rng, model.replicates, model.params
    for g in model.agreements:
        a, b = g.parties
        in_force = model.agreed[g.index]
        rate = model.clock.chance(p[g.path("proposal_rate")])
        open_ = model.round >= g.first_round
        signed = np.full(R, g.in_force and model.round == g.first_round)
        for proposer, other in ((a, b), (b, a)):
            proposes = rng.random(R) < rate * logistic(utility(model, g, proposer, other) + mediated(model, g, proposer))
            proposes &= open_
            accepts = rng.random(R) < logistic(utility(model, g, other, proposer) + mediated(model, g, other))
            signed |= proposes & accepts
            if model.tracer is not None:
                model.tracer.offered(model, g, proposer, other, proposes, accepts)
        new = signed & ~in_force
        first = new & (model.first_agreed[g.index] < 0)
        model.first_agreed[g.index, first] = model.round
        in_force = in_force | new
        model.agreed[g.index] = in_force
        model.forced_stop[g.covered] |= in_force
        ease = model.clock.chance(p[g.path("eases")]) * in_force
        for x, y in ((a, b), (b, a)):
            model.hostility[model.dyads.declared(x, y)] *= 1.0 - ease


def breaks(model: EscalationModel) -> None:
    """An event of a named action between the parties ends the agreement."""
    for g in model.agreements:
        broken = model.events[g.covered].any(axis=0)
        if model.tracer is not None:
            model.tracer.broken(model, g, broken)
        model.agreed[g.index] &= ~broken


def break_costs(model: EscalationModel, actor: int, options: np.ndarray) -> np.ndarray | float:
    """(len(options), R): the utility an actor gives up by breaking the agreements in force."""
    cost: np.ndarray | float = 0.0
    for g in model.agreements:
        covered = g.covered[options]
        if actor in g.parties and covered.any():
            cost = cost + covered[:, None] * (model.agreed[g.index] * model.params[g.path("break_cost")])[None, :]
    return cost
