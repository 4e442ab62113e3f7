"""Commitments: guarantees triggered by aggression against a protected party.

A guarantor is a party with an obligation (both parties of a mutual treaty, one of a one-way
guarantee). Aggression is an attack on the protected party by an attacker the protected party
was not itself attacking: an attack in reply to an attack is not new aggression. The
guarantor may still read any listed or ambiguous attack as aggression with probability
`slack` (deliberately ambiguous wording). Triggered, it honours the obligation with
probability `honour`, `lag` rounds later; not honouring lapses the commitment. A non-state
attacker's sponsor is blamed with the probability the guarantor blames it (the attacker's
`attribution`); a trigger naming the sponsor among its attackers is triggered by its proxies'
attacks where the guarantor blames the sponsor. A commitment `signed` after the start is judged,
and deters, only from the round that date falls in. A guarantor's
hostility reacts to an attack on its partner as to one on itself. Attackers are deterred by
an active commitment, and the protected party emboldened by it (see policies.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.calendar import from_round
from ..scenario.references import attackers_of
from .causes import OBLIGATION

if TYPE_CHECKING:
    from .model import EscalationModel

STATUSES = ("active", "invoked", "lapsed", "nullified")
ACTIVE, INVOKED, LAPSED, NULLIFIED = range(4)


@dataclass(frozen=True)
class Guarantee:
    guarantor: int
    protected: int
    attackers: list[tuple[int, int]]  # (attacker, the guarantor's watch on attacker -> protected)
    proxies: np.ndarray  # attackers watched only as a listed sponsor's proxies: they count when blamed on it
    potential: list[int]  # every actor that could trigger it, watched or not
    option_toward: np.ndarray  # (n,) the obligation's option toward each actor, -1 if not allowed
    toward_attacker: bool
    path: str


@dataclass(frozen=True)
class Commitment:
    index: int
    id: str
    actions: np.ndarray
    ambiguous: np.ndarray
    guarantees: list[Guarantee]
    nullify_state: int
    first_round: int  # the round it is signed in (0: in force from the start)

    def path(self, key: str) -> str:
        return f"commitments.{self.id}.{key}"


def _parties(c) -> list[tuple[str, str]]:
    """(guarantor, protected) for each obligation."""
    return [(g, next((p for p in c.parties if p != g), g)) for g in c.obligations]


def _proxies(s, c) -> list[str]:
    """The actors a listed attacker sponsors, not listed themselves: their attacks count where
    the guarantor blames the sponsor."""
    listed = attackers_of(s, c.parties, c.trigger.attackers)
    return [aid for aid, a in s.actors.items() if a.sponsor in listed and aid not in listed]


def _watched_attackers(s, c) -> list[str]:
    """Who may trigger it: the listed attackers and their proxies."""
    return attackers_of(s, c.parties, c.trigger.attackers) + _proxies(s, c)


def watches_of(model: EscalationModel) -> list[tuple[int, int]]:
    t, s, out = model.tables, model.scenario, []
    for c in s.commitments.values():
        for g, protected in _parties(c):
            for x in _watched_attackers(s, c):
                pair = t.pair_index(t.index(x), t.index(protected))
                if pair >= 0 and x != g:
                    out.append((t.index(g), pair))
    return out


def compile_commitments(model: EscalationModel) -> list[Commitment]:
    t, s = model.tables, model.scenario
    out = []
    for index, (cid, c) in enumerate(s.commitments.items()):
        guarantees = []
        for g, protected in _parties(c):
            gi, pi = t.index(g), t.index(protected)
            attackers = []
            for x in _watched_attackers(s, c):
                pair = t.pair_index(t.index(x), pi)
                if pair >= 0 and x != g:
                    attackers.append((t.index(x), model.watches.index[(gi, pair)]))
            obligation = c.obligations[g]
            k = t.actions.index(obligation.action)
            toward = np.full(len(t.actors), -1, dtype=np.int64)  # the guarantor's option toward each actor
            rows = np.flatnonzero((t.actor == gi) & (t.action == k))[::-1]  # the first option wins
            toward[t.target[rows]] = rows
            guarantees.append(
                Guarantee(
                    gi, pi, attackers, np.array([t.index(x) for x in _proxies(s, c)], dtype=np.int64),
                    [t.index(x) for x in attackers_of(s, c.parties, c.trigger.attackers) if x != g],
                    toward, obligation.toward == "attacker", f"commitments.{cid}.obligations.{g}",
                )
            )
        out.append(
            Commitment(
                index=index,
                id=cid,
                actions=t.actions_of(c.trigger.actions, c.trigger.categories),
                ambiguous=t.actions_of(c.trigger.actions + c.trigger.ambiguous, c.trigger.categories),
                guarantees=guarantees,
                nullify_state=list(s.state).index(c.nullification.state) if c.nullification else -1,
                first_round=from_round(c.signed, s),
            )
        )
    return out


def in_force(model: EscalationModel, commitment: int) -> np.ndarray:
    """(R,) bool: the commitment is signed and can still be honoured (active or invoked)."""
    status = model.status[commitment]
    return ((status == ACTIVE) | (status == INVOKED)) & (model.round >= model.commitments[commitment].first_round)


def check_commitments(model: EscalationModel, seen: np.ndarray) -> None:
    """Judge every guarantee on what its guarantor saw last round (`seen`, (R, W) actions)."""
    rng, R, p = model.rng, model.replicates, model.params
    for c in model.commitments:
        status = model.status[c.index]
        slack = p[c.path("slack")]
        for g in c.guarantees:
            attacker = np.full(R, -1)
            for x, watch in g.attackers:
                saw = seen[watch]
                attacked = (saw >= 0) & model.tables.attack[np.maximum(saw, 0)]
                if attacked.any():  # an attack on its partner is felt as one on itself (solidarity)
                    felt = np.where(attacked, model.tables.points[np.maximum(saw, 0)], 0.0)
                    model.react(model.dyads.declared(g.guarantor, x), felt, p["dynamics.hostility.reaction"])
                aggression = np.isin(saw, c.actions) & ~model.attacking[model.dyads.rows(g.protected, x)]
                read_as_aggression = np.isin(saw, c.ambiguous) & (rng.random(R) < slack)
                attacker = np.where((attacker < 0) & (aggression | read_as_aggression), x, attacker)
            attacker = model.blame_sponsors(attacker, g.guarantor)
            attacker = np.where(np.isin(attacker, g.proxies), -1, attacker)  # a proxy not blamed on its sponsor
            signed = model.round - 1 >= c.first_round  # what it judges happened last round
            triggered = (attacker >= 0) & ((status == ACTIVE) | (status == INVOKED)) & signed
            honoured = triggered & (rng.random(R) < p[f"{g.path}.honour"])
            option = g.option_toward[np.maximum(attacker, 0)] if g.toward_attacker else g.option_toward[g.protected]
            honoured &= option >= 0
            if model.tracer is not None:
                model.tracer.triggered(model, c, g, attacker, triggered, honoured)
            model.schedule(honoured, option, p.rounds(f"{g.path}.lag"), OBLIGATION)
            first = honoured & (model.first_invoked[c.index] == 0)
            model.first_invoked[c.index, first] = model.round
            status = np.where(honoured, INVOKED, np.where(triggered, LAPSED, status))
        if c.nullify_state >= 0:
            eroded = model.state_values[c.nullify_state] < p[c.path("nullification.below")]
            chance = model.clock.chance(p[c.path("nullification.rate")])
            lapse = (status != NULLIFIED) & eroded & (rng.random(R) < chance)
            if model.tracer is not None:
                model.tracer.nullified(model, c, lapse)
            status = np.where(lapse, NULLIFIED, status)
        model.status[c.index] = status
