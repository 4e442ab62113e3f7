"""Which new options an actor can take this round (model v3): reach and thresholds.

Reach. An actor's *level* toward a target is the highest rung of its options toward that target
that are in force or that it took in the last two rounds (the rung of the neutral action at
least). A new option toward the target is open when its rung is at most the level plus its
reach (`dynamics.reach.rungs`, or the action's own `reach`), or when it answers what the actor
perceived: its rung is at most the *threat* it felt from the party the option works against.
The threat is the highest rung the actor saw that party (or the party's treaty partner or
sponsor) do against it or against a party it guarantees last round, and the rung of that
party's direct activities in force against it. Forced acts (red-line responses, obligations,
injects, incidents) are never filtered: only choices are.

Thresholds. An action may require, per actor, conditions on the state of the world: at war with
the target's side (a war in force between the actor and the target or one of the target's
treaty partners, either way), its own territory attacked (an attack on it in force or last
round), only in reply (the threat felt from the party it works against is at least the
option's rung), and state variables at or above their levels.

Arrays are per declared pair (levels: `tables.pairs`) and per declared dyad (threats, wars:
dyads.py), never per pair of actors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .dyads import partners_of
from .perception import Groups

if TYPE_CHECKING:
    from .model import EscalationModel

UNLIMITED = 10_000  # no world reach: every rung is open


class Reach:
    """The open options of a round, (O, R) bool, with why each is open (for sim trace)."""

    def __init__(self, model: EscalationModel):
        t, s, d = model.tables, model.scenario, model.dyads
        world = s.dynamics.reach.rungs if s.dynamics.reach is not None else UNLIMITED
        own = np.array([s.actions[a].reach if s.actions[a].reach is not None else world for a in t.actions])
        self.switched_on = s.dynamics.reach is not None or any(a.reach is not None for a in s.actions.values())
        # an option is within reach where the level toward its target is at least its rung - reach
        self.needs_level = (t.rung[t.action] - np.minimum(own[t.action], UNLIMITED)).astype(np.int16)[:, None]
        self.option_rung = t.rung[t.action].astype(np.int16)[:, None]
        self.floor = int(t.rung[t.neutral])
        self.by_pair = Groups(t.pair, len(t.pairs))
        self._pair_key = (t.rung[t.action] + 1).astype(np.int16)[:, None]
        protects = {  # (guarantor, protected)
            (t.index(g), t.index(next((p for p in c.parties if p != g), g)))
            for c in s.commitments.values()
            for g in c.obligations
        }
        # a dyad (i, k) reads (i, x) for each x on k's side (a treaty partner of k, or k's proxy)
        partners = partners_of(s, t)
        # in slots: the j-th partner of each dyad's k in slot j, so a slot names each dyad once
        slots = max((len(p) for p in partners), default=0)
        self._side = []
        for j in range(slots):
            rows = [row for row, k in enumerate(d.second.tolist()) if len(partners[k]) > j]
            into = np.array(rows, dtype=np.int64)
            partner = np.array([partners[k][j] for k in d.second[into].tolist()], dtype=np.int64)
            self._side.append((into, d.rows(d.first[into], partner)))
        self.requires = _compile_requires(model)
        self.requires_options = np.zeros(t.options, dtype=bool)
        for options, _ in self.requires:
            self.requires_options[options] = True
        w = model.watches
        self.by_watcher = Groups(model.watch_dyad, d.size + 1)
        # per watch and action seen (the last column: nothing), the rung it makes the observer
        # feel: what the actor did against the observer or a party it guarantees, else -1
        against = t.against_of[w.pair]  # (W, A)
        protected = np.array([(o, x) in protects for o, x in zip(w.observer.tolist(), w.target.tolist())], dtype=bool)
        concerns = (against == w.observer[:, None]) | protected.reshape(-1, 1)
        felt = np.where(concerns, t.rung[None, :], -1).astype(np.int16)
        self._felt = np.concatenate([felt, np.full((len(w.couples), 1), -1, dtype=np.int16)], axis=1)
        self.threat = d.state(-1, model.replicates, np.int16)
        self.by_reply = np.zeros((t.options, model.replicates), dtype=bool)

    def open_options(self, model: EscalationModel, direct_rung: np.ndarray, recent: np.ndarray) -> np.ndarray:
        """(O, R): the options an actor may choose this round; sets `threat` and `by_reply`.

        `direct_rung` (dyads + 1, R) is the rung of each actor's direct activities in force against
        each other one ([actor, against]), -1 where none; `recent` (O, R) the options in force or taken
        in the last two rounds."""
        t = model.tables
        self.threat = self._threat(model, direct_rung)
        answering = np.empty((t.options, model.replicates), dtype=bool)  # rung <= the threat felt
        for dyad, rows in model.by_dyad.members:  # a dyad at a time: no (O, R) copy of the threats
            answering[rows] = self.option_rung[rows] <= self.threat[dyad]
        if self.switched_on:
            level = self.by_pair.max(recent * self._pair_key, fill=0)  # highest rung + 1, 0 where nothing
            within = level[t.pair] > self.needs_level  # level >= rung - reach
            within |= self.needs_level <= self.floor  # within reach of the floor (the neutral rung)
            self.by_reply = answering & ~within
            open_ = within | answering
            open_ |= self.option_rung <= self.floor
        else:
            self.by_reply = np.zeros_like(answering)
            open_ = np.ones_like(answering)
        for options, condition in self.requires:
            open_[options] &= condition(model, answering[options])
        return open_

    def _threat(self, model: EscalationModel, direct_rung: np.ndarray) -> np.ndarray:
        """(dyads + 1, R) [actor, party]: the highest rung the actor felt from the party's side
        last round, or saw in force against it directly."""
        rung = np.take_along_axis(self._felt, model.seen, axis=1)  # seen -1 (nothing) picks the last column
        felt = self.by_watcher.max(rung, fill=-1)
        felt = np.maximum(felt, direct_rung[model.dyads.reverse])
        threat = felt.copy()
        for into, source in self._side:
            threat[into] = np.maximum(threat[into], felt[source])
        return threat


def at_war(model: EscalationModel, reach: Reach) -> np.ndarray:
    """(dyads + 1, R) [actor, target]: a war (an activity of MID level 5) in force between the
    actor and the target's side, either way."""
    t = model.tables
    wars = model.in_force & t.war[t.action][:, None]
    war = model.by_dyad.any(wars)
    war |= war[model.dyads.reverse]
    out = war.copy()
    for into, source in reach._side:
        out[into] |= war[source]
    return out


def _compile_requires(model: EscalationModel) -> list:
    """Per (action, actor) with requirements: its options and a condition (model, answering) -> (k, R)."""
    t, s = model.tables, model.scenario
    out = []
    states = list(s.state)
    for k, aid in enumerate(t.actions):
        for actor, needs in s.actions[aid].requires.items():
            i = t.index(actor)
            options = np.flatnonzero((t.actor == i) & (t.action == k))
            if len(options) == 0:
                continue
            targets = t.target[options]
            levels = [(states.index(v), f"actions.{aid}.requires.{actor}.state_above.{v}") for v in needs.state_above]

            at_war_rows = model.dyads.rows(i, targets)
            attackers = np.flatnonzero(model.dyads.second == i)  # the dyads [anyone, i]

            def condition(model, answering, needs=needs, levels=levels, at_war_rows=at_war_rows, attackers=attackers):
                met = np.ones_like(answering)
                if needs.at_war:
                    met &= model.at_war()[at_war_rows]
                if needs.attacked:
                    met &= model.attacking[attackers].any(axis=0)[None, :]
                if needs.in_reply:
                    met &= answering
                for v, path in levels:
                    met &= (model.state_values[v] >= model.params[path])[None, :]
                return met

            out.append((options, condition))
    return out
