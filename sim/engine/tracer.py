"""The details of one replicate of a block, recorded as the rules decide them (sim trace).

A block runs untraced unless `model.tracer` is set; every hook in the engine is one
`if model.tracer is not None` test, so tracing costs nothing when off. A tracer only reads
arrays the rules have already computed (or recomputes pure functions of the state, such as
utilities) and never draws from the Generator: a traced block's results are the untraced
ones, bit for bit. Facts are indices (actors, options, lines...); sim.report.trace names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .causes import CAUSES
from .policies import softmax_probabilities

if TYPE_CHECKING:
    from .agents import Actor
    from .agreements import Agreement
    from .commitments import Commitment, Guarantee
    from .model import EscalationModel
    from .redlines import RedLine


@dataclass(frozen=True)
class Fact:
    """Something that happened to the traced replicate in a round, as indices and numbers."""

    round: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RoundState:
    """The traced replicate at the end of a round: option indices and flags."""

    events: list[int]  # starts and moves, after forcing and incidents
    causes: dict[int, str]  # why each event happened (causes.CAUSES)
    chosen: list[int]  # the events the actors picked themselves
    forced: list[int]  # forced starts and moves (responses, obligations, injects)
    stopped: list[int]
    stopped_by: dict[int, str]  # why each stop that was not the actor's choice: "agreement <id>", "inject <id>"
    in_force: list[int]
    agreed: list[bool]
    status: list[int]  # per commitment (commitments.STATUSES)
    hostility: np.ndarray  # (n, n)
    raised: list[int] = field(default_factory=list)  # activities in force raised a level (levels)


@dataclass
class Tracer:
    """Records the facts of replicate `replicate` of the block it is attached to."""

    replicate: int
    facts: list[Fact] = field(default_factory=list)
    states: list[RoundState] = field(default_factory=list)
    injects: dict[str, bool] = field(default_factory=dict)  # whether each inject fires in this replicate
    in_force_at_start: list[int] = field(default_factory=list)
    agreed_at_start: list[bool] = field(default_factory=list)
    hostility_at_start: np.ndarray | None = None

    @classmethod
    def attach(cls, model: EscalationModel, replicate: int) -> Tracer:
        """A tracer on `replicate` of a model that has not stepped yet, with its starting state."""
        if model.round != 0:
            raise ValueError("attach a tracer before the first round")
        tracer = cls(replicate)
        tracer.injects = {iid: bool(fires[replicate]) for iid, fires in model.inject_fires.items()}
        tracer.in_force_at_start = [int(o) for o in np.flatnonzero(model.in_force[:, replicate])]
        tracer.agreed_at_start = [bool(a) for a in model.agreed[:, replicate]]
        tracer.hostility_at_start = model.dyads.dense(model.hostility[:, replicate])
        model.tracer = tracer
        return tracer

    def _add(self, model: EscalationModel, kind: str, **data: Any) -> None:
        self.facts.append(Fact(model.round, kind, data))

    def perceived(self, model: EscalationModel) -> None:
        """Where a watch saw something else than what its pair did last round."""
        r, w = self.replicate, model.watches
        truth = w.top_events(model.last_events[:, r : r + 1])[w.pair, 0]
        seen = model.seen[:, r]
        for col in np.flatnonzero(truth != seen):
            self._add(model, "misperceived", observer=int(w.observer[col]), actor=int(w.actor[col]),
                      target=int(w.target[col]), truth=int(truth[col]), seen=int(seen[col]))

    def approached(self, model: EscalationModel, line: RedLine, approaching: np.ndarray) -> None:
        if approaching[self.replicate]:
            self._add(model, "approached", line=line.index)

    def crossed(self, model: EscalationModel, line: RedLine, crossed: np.ndarray, probability: np.ndarray,
                enforced: np.ndarray) -> None:
        r = self.replicate
        if crossed[r]:
            self._add(model, "crossed", line=line.index, probability=float(np.broadcast_to(probability, crossed.shape)[r]),
                      enforced=bool(enforced[r]))

    def triggered(self, model: EscalationModel, commitment: Commitment, guarantee: Guarantee, attacker: np.ndarray,
                  triggered: np.ndarray, honoured: np.ndarray) -> None:
        r = self.replicate
        if triggered[r]:
            honour = float(model.params[f"{guarantee.path}.honour"][r])
            self._add(model, "triggered", commitment=commitment.index, guarantor=guarantee.guarantor,
                      protected=guarantee.protected, attacker=int(attacker[r]), honour=honour, honoured=bool(honoured[r]))

    def nullified(self, model: EscalationModel, commitment: Commitment, lapse: np.ndarray) -> None:
        if lapse[self.replicate]:
            self._add(model, "nullified", commitment=commitment.index)

    def offered(self, model: EscalationModel, agreement: Agreement, proposer: int, other: int, proposes: np.ndarray,
                accepts: np.ndarray) -> None:
        r = self.replicate
        if proposes[r] and not model.agreed[agreement.index, r]:
            self._add(model, "offered", agreement=agreement.index, proposer=proposer, other=other,
                      accepted=bool(accepts[r]))

    def broken(self, model: EscalationModel, agreement: Agreement, broken: np.ndarray) -> None:
        r = self.replicate
        if broken[r] and model.agreed[agreement.index, r]:
            options = np.flatnonzero(model.events[agreement.covered, r])
            self._add(model, "broken", agreement=agreement.index,
                      by=[int(o) for o in np.flatnonzero(agreement.covered)[options]])

    def incidents(self, model: EscalationModel, happen: np.ndarray) -> None:
        r = self.replicate
        for k in np.flatnonzero(happen[:, r]):
            option = int(model.incidents.options[k])
            rate = float(model.clock.chance(model.params[model.incidents.paths[k]])[r])
            self._add(model, "incident", option=option, incident=model.incidents.ids[k], probability=rate)

    def decided(self, actor: Actor) -> None:
        """The actor's picks and stops, with the utility terms of each pick where its policy has them."""
        model, r, decision = actor.model, self.replicate, actor.decision
        terms = getattr(actor.policy, "terms", None)
        picks = [int(p) for p in decision.picks[:, r] if p >= 0]
        options = np.flatnonzero(model.tables.actor == actor.index)
        stops = [int(o) for o in options[decision.stops[:, r]]]
        if terms is None:
            self._add(model, "decided", actor=actor.index, picks=[(p, None, []) for p in picks], stops=stops)
            return
        named = [(name, sign * np.array(np.broadcast_to(value, (len(options), model.replicates))[:, r]))
                 for name, sign, value in terms(actor)]
        leveled = getattr(actor.policy, "leveled_rows", ())
        if len(leveled):  # a pick of an activity in force is a raise, at the aversion of a raise
            raised, _ = actor.policy.raise_aversion(actor)
            in_force = model.in_force[options[leveled], r]
            for name, value in named:
                if name == "escalation aversion":
                    value[leveled] = np.where(in_force, -raised[:, r], value[leveled])
        scores = actor.policy.new_option_scores(actor, actor.policy.utilities(actor) / actor.temperature)
        chance = softmax_probabilities(scores)[:, r]
        rows = {int(o): j for j, o in enumerate(options)}
        described = []
        for p in picks:
            j = rows[p]
            parts = sorted(((name, float(value[j])) for name, value in named if value[j] != 0),
                           key=lambda nv: -abs(nv[1]))
            described.append((p, float(chance[j]), parts))
        self._add(model, "decided", actor=actor.index, picks=described, stops=stops,
                  why={p: self._why(model, p) for p in picks})

    def _why(self, model: EscalationModel, option: int) -> str:
        """What opened a chosen option: a reply to the threat felt, a threshold met, or a choice
        within the actor's reach."""
        r, t = self.replicate, model.tables
        if model.reach.requires_options[option]:
            return "threshold met"
        if model.reach.by_reply[option, r]:
            felt = int(model.reach.threat[model.option_dyad[option], r])
            return f"reply to {t.actors[t.against[option]]} (rung {felt} felt)"
        return "choice"

    def ended_round(self, model: EscalationModel) -> None:
        r = self.replicate
        flags = lambda a: [int(o) for o in np.flatnonzero(a[:, r])]  # noqa: E731
        stopped_by = {}
        for o in flags(model.stopped & model.forced_stop):
            by = [f"agreement {g.id}" for g in model.agreements if g.covered[o] and model.agreed[g.index, r]]
            by += [f"inject {iid}" for iid, (_, stops) in model.inject_options.items()
                   if o in stops and iid in model.inject_acting and model.inject_acting[iid][r]]
            stopped_by[o] = ", ".join(by)
        causes = model.event_causes()[:, r]
        self.states.append(RoundState(
            events=flags(model.events),
            causes={o: CAUSES[causes[o]] for o in flags(model.events)},
            chosen=flags(model.chosen & model.events),
            forced=flags(model.forced_start & model.events),
            stopped=flags(model.stopped),
            stopped_by=stopped_by,
            in_force=flags(model.in_force),
            agreed=[bool(a) for a in model.agreed[:, r]],
            status=[int(s) for s in model.status[:, r]],
            hostility=model.dyads.dense(model.hostility[:, r]),
            raised=[int(model.leveled[k]) for k in np.flatnonzero(model.raised[:, r])],
        ))
