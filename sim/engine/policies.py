"""Decision rules, registered by name: each decides, for one actor and every replicate, which
of its activities to stop and which options to take this round.

A policy sees what its actor perceived (never the true moves of others) and returns
`Decision(picks, stops)`: `picks` (k, R) option indices to start or take (-1 for none),
`stops` (O_i, R) over the actor's own options (replicates last, as everywhere in the engine). Register a new rule with `@register("name")`;
the scenario schema names the same rules under `actors.<id>.policy.name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .agreements import break_costs
from .commitments import in_force as commitment_in_force

if TYPE_CHECKING:
    from .agents import Actor


@dataclass(frozen=True)
class Decision:
    picks: np.ndarray  # (k, R) option indices, -1 for none
    stops: np.ndarray  # (O_i, R) bool over the actor's options


class Policy(Protocol):
    def decide(self, actor: Actor) -> Decision: ...


POLICIES: dict[str, type] = {}


def register(name: str):
    def add(cls: type) -> type:
        POLICIES[name] = cls
        return cls

    return add


def make_policy(actor: Actor) -> Policy:
    """The policy named in the actor's scenario entry, bound to the actor's tables."""
    return POLICIES[actor.spec.policy.name](actor)


def softmax_draw(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One row index per column of `z` (options, R), drawn with probability proportional to
    exp(z); -inf is never drawn."""
    weights = np.exp(z - z.max(axis=0, keepdims=True))
    threshold = rng.random(z.shape[1]) * weights.sum(axis=0)
    running = np.zeros(z.shape[1])
    below = np.zeros(z.shape[1], dtype=np.intp)
    for row in weights[:-1]:  # a row at a time: numpy's cumsum along the first axis is slower
        running += row
        below += running < threshold
    return below


def softmax_probabilities(z: np.ndarray) -> np.ndarray:
    """The chance `softmax_draw` gives each row of `z` (options, R), column by column."""
    weights = np.exp(z - z.max(axis=0, keepdims=True))
    return weights / weights.sum(axis=0, keepdims=True)


@register("utility")
class UtilityPolicy:
    """Keeps or stops each activity and draws new options from a softmax of their utility.

    utility = preference (toward the target where given, else for the action)
              + hostility toward the party it works against x escalation points
              - aversion x (1 - risk tolerance) x the escalation points above those of the
                actor's own activities already in force against that party (its posture)
              - reciprocity x |rung - rung of the target's perceived direct stance toward the
                actor| (options aimed at the party they work against only: answering in kind)
              - deterrence x credibility x cost, for options that would cross a red line
              - deterrence x honour x cost, for options attacking a party another guarantees
                (x slack where the attack is only ambiguous)
              (a party guaranteed against the one an option works against feels only
               1 - emboldening x honour of its escalation aversion, for acts short of force,
               and of its fear of a commitment's response)
              + state effects - break costs of agreements in force
    An activity in force is reconsidered with probability 1 - persistence (per rate unit) and
    then stopped with probability logistic(-utility / temperature). Up to `moves_per_round`
    options are drawn, with replacement; an activity already in force cannot be drawn, unless it
    has `levels` and stands below the top one: drawing it then raises it a level, at the escalation
    aversion of its full escalation points (a raise is a step of its own, not a step from the
    posture its current level holds).
    """

    def __init__(self, actor: Actor):
        model, t, i = actor.model, actor.model.tables, actor.index
        self.options = t.of_actor[i]
        self.action = t.action[self.options]
        self.against = t.against[self.options]
        self.dyad = actor.model.option_dyad[self.options]  # (actor, against) of each option
        self.direct = t.target[self.options] == self.against  # answering a party in kind, not arming a third
        self.points = t.points[self.action]
        self.escalation = np.maximum(self.points, 0.0)
        self.rung = t.rung[self.action] / t.top
        self.activity = t.activity[self.action]
        self.activity_rows = np.flatnonzero(self.activity)
        self.leveled_rows = np.flatnonzero(t.levels[self.action] > 1)  # activities with levels
        self.level_index = np.searchsorted(model.leveled, self.options[self.leveled_rows])
        self._preference_version = -1
        base = f"actors.{actor.actor_id}"
        self.preference_paths = [
            (f"{base}.preferences_toward.{t.actors[target]}.{t.actions[k]}", f"{base}.preferences.{t.actions[k]}")
            for k, target in zip(self.action, t.target[self.options])
        ]
        self.red_lines = [
            (line, np.isin(self.options, line.crossing_options))
            for line in model.red_lines
            if line.trigger_actor == i and np.isin(self.options, line.crossing_options).any()
        ]
        # Commitments deter their potential attackers (an option attacking a protected party
        # costs the obligation's cost times its honour, times slack for ambiguous acts) and
        # embolden the protected party against them (its escalation aversion shrinks).
        covering = [(c, g) for c in model.commitments for g in c.guarantees if g.protected == i]
        self.deterrents = []
        for c in model.commitments:
            for g in c.guarantees:
                if i in g.potential:
                    at_protected = t.target[self.options] == g.protected
                    listed = np.isin(self.action, c.actions) & at_protected
                    ambiguous = np.isin(self.action, c.ambiguous) & at_protected & ~listed
                    # Kim: the treaty's ambiguity makes its potential attackers answer even
                    # provocations more cautiously: escalation short of an attack on the protected
                    # party costs `caution` x the fear, in proportion to its escalation points
                    short = (self.against == g.protected) & (self.points > 0) & ~listed & ~ambiguous
                    attack_points = t.points[c.actions].max() if len(c.actions) else 1.0
                    cautious = np.where(short, self.points / attack_points, 0.0)
                    if listed.any() or ambiguous.any() or cautious.any():
                        cover = [(c2, g2) for c2, g2 in covering if g.protected in g2.potential]
                        self.deterrents.append((c, g, listed, ambiguous, cautious, cover))
        # emboldened to provoke (acts short of a use of force) those it is guaranteed against
        provocations = ~t.attack[self.action]
        self.emboldened = []  # (rows of provocations against one party, the guarantees covering them)
        for party in np.unique(self.against):
            cover = [(c, g) for c, g in covering if party in g.potential]
            rows = np.flatnonzero(provocations & (self.against == party))
            if cover and len(rows):
                self.emboldened.append((rows, cover))
        self.taboo_paths = [f"actions.{t.actions[k]}.taboo" for k in self.action]
        self._taboo_version = -1
        self.has_taboo = any(model.scenario.actions[t.actions[k]].taboo != 0 for k in self.action)
        self.effects = [
            (vid, list(model.scenario.state).index(vid), self.action == t.actions.index(e.action), f"state.{vid}.effects[{k}].weight")
            for vid, var in model.scenario.state.items()
            for k, e in enumerate(var.effects)
            if e.actor == actor.actor_id and e.action in t.actions
        ]

    def utilities(self, actor: Actor) -> np.ndarray:
        """(O_i, R): the utility of each of the actor's options in each replicate."""
        terms = self.terms(actor)
        _, _, first = next(terms)
        u = np.array(np.broadcast_to(first, (len(self.options), actor.model.replicates)), dtype=float)
        for _, sign, value in terms:
            if sign > 0:
                u += value
            else:
                u -= value
        return u

    def terms(self, actor: Actor) -> Iterator[tuple[str, int, np.ndarray | float]]:
        """The named terms of the utility (see the class docstring), each with its sign, in the
        order they are summed (the order fixes the floating-point result); sim trace reports the
        largest terms of each choice."""
        model, p, i = actor.model, actor.model.params, actor.index
        yield "preference", 1, self._preferences(actor)
        yield "hostility", 1, p["dynamics.utility.hostility"] * model.hostility[self.dyad] * self.points[:, None]
        increment = np.maximum(self.escalation[:, None] - model.posture[self.dyad], 0.0)
        yield "escalation aversion", -1, self._aversion(actor, increment)
        yield "reciprocity", -1, actor.reciprocity * np.abs(self.rung[:, None] - model.stance[self.dyad]) * self.direct[:, None]
        for line, crosses in self.red_lines:
            fear = p["dynamics.utility.deterrence"] * model.credibility[line.index, i] * p[line.path("cost")]
            yield f"deterred by red line {line.id}", -1, crosses[:, None] * fear
        for c, g, listed, ambiguous, cautious, guarantees in self.deterrents:
            fear = p["dynamics.utility.deterrence"] * commitment_in_force(model, c.index) * p[f"{g.path}.honour"] * p[f"{g.path}.cost"]
            if guarantees:  # the attacker's own guarantor makes it fear the response less
                fear = fear * self._unprotected(model, guarantees)
            deterred = listed[:, None] * fear + ambiguous[:, None] * (fear * p[c.path("slack")])
            if cautious.any():
                deterred += cautious[:, None] * (fear * p[c.path("caution")])
            yield f"deterred by {c.id}", -1, deterred
        if self.has_taboo:
            yield "taboo", -1, self._taboos(actor)
        for vid, variable, matches, weight in self.effects:
            yield f"state {vid}", 1, matches[:, None] * (p[weight] * model.state_values[variable])
        yield "agreements in force", -1, break_costs(model, i, self.options)

    def _aversion(self, actor: Actor, increment: np.ndarray) -> np.ndarray:
        """(O_i, R) aversion x (1 - risk tolerance) x Δ (1 + convexity Δ) for escalation increments
        Δ (changed in place: shrunk where a guarantee emboldens)."""
        model, p = actor.model, actor.model.params
        for rows, guarantees in self.emboldened:
            increment[rows] *= self._unprotected(model, guarantees)
        convex = increment * increment
        convex *= p["dynamics.utility.convexity"]
        convex += increment  # increment x (1 + convexity x increment)
        convex *= p["dynamics.utility.escalation_aversion"] * (1.0 - actor.risk_tolerance)
        return convex

    def raise_aversion(self, actor: Actor) -> tuple[np.ndarray, np.ndarray]:
        """(leveled rows, R) twice: the escalation aversion of raising each leveled activity a
        level (its full escalation points), and the one its utility holds (the increment over the
        actor's posture, which its own level holds)."""
        model, rows = actor.model, self.leveled_rows
        kept = self._aversion(actor, np.maximum(self.escalation[:, None] - model.posture[self.dyad], 0.0))[rows]
        raised = self._aversion(actor, np.repeat(self.escalation[:, None], model.replicates, axis=1))[rows]
        return raised, kept

    def _raise_scores(self, actor: Actor, u: np.ndarray) -> np.ndarray:
        """(leveled rows, R): the scores of raising each leveled activity in force a level: its
        utility `u` (over temperature) at the escalation aversion of a raise."""
        raised, kept = self.raise_aversion(actor)
        return u[self.leveled_rows] - (raised - kept) / actor.temperature

    @staticmethod
    def _unprotected(model, guarantees) -> np.ndarray:
        """(R,) the share of escalation aversion left to a protected party: 1 - emboldening x
        the likeliest guarantor's honour, while its commitment stands."""
        p = model.params
        cover = np.zeros(model.replicates)
        for c, g in guarantees:
            cover = np.maximum(cover, commitment_in_force(model, c.index) * p[f"{g.path}.honour"])
        return 1.0 - p["dynamics.utility.emboldening"] * cover

    def _taboos(self, actor: Actor) -> np.ndarray:
        """(O_i, R) taboo costs: fixed during a run unless an inject sets a parameter."""
        p = actor.model.params
        if self._taboo_version != p.version:
            self._taboo = np.stack([p[path] for path in self.taboo_paths])
            self._taboo_version = p.version
        return self._taboo

    def _preferences(self, actor: Actor) -> np.ndarray:
        """(O_i, R) preferences, or (O_i, 1) where no replicate differs from the first: fixed
        during a run unless an inject sets a parameter."""
        p = actor.model.params
        if self._preference_version != p.version:
            rows = [p.get(toward, 0.0) if toward in p.values else p.get(general, 0.0) for toward, general in self.preference_paths]
            same = all((row == row[0]).all() for row in rows)
            self._preference = np.stack([row[:1] if same else row for row in rows])
            self._preference_version = p.version
        return self._preference

    def new_option_scores(self, actor: Actor, u: np.ndarray) -> np.ndarray:
        """(O_i, R): the softmax scores of new options, utility / temperature `u` with the
        activities already in force left out (-inf)."""
        model, rows = actor.model, self.activity_rows
        z = np.where(model.open[self.options], u, -np.inf)
        z[rows] = np.where(model.in_force[self.options[rows]], -np.inf, z[rows])
        if len(self.leveled_rows):  # an activity in force below its top level may be raised
            rows = self.leveled_rows
            can_raise = model.in_force[self.options[rows]] & (model.level[self.level_index] < model.top_level[self.level_index])
            can_raise &= model.open[self.options[rows]]
            z[rows] = np.where(can_raise, self._raise_scores(actor, u), z[rows])
        return z

    def decide(self, actor: Actor) -> Decision:
        model = actor.model
        rng, R, k = model.rng, model.replicates, len(self.options)
        u = self.utilities(actor) / actor.temperature
        rows = self.activity_rows
        in_force = model.in_force[self.options[rows]]
        reconsider = rng.random((len(rows), R)) < model.clock.chance(1.0 - actor.persistence)
        stops = np.zeros((k, R), dtype=bool)
        stops[rows] = in_force & reconsider & (rng.random((len(rows), R)) < 0.5 * (1.0 - np.tanh(u[rows] / 2)))  # logistic(-u), overflow-free
        z = self.new_option_scores(actor, u)
        closed = np.isneginf(z.max(axis=0))  # nothing open: the actor takes nothing new
        z[0, closed] = 0.0
        picks = np.array([np.where(closed, -1, self.options[softmax_draw(z, rng)]) for _ in range(actor.moves_per_round)],
                         dtype=np.int64)
        return Decision(picks.reshape(actor.moves_per_round, R), stops)


@register("scripted")
class ScriptedPolicy:
    """Plays the scenario's moves in order, one a round, then keeps playing the last one; it
    never stops an activity of its own accord."""

    def __init__(self, actor: Actor):
        t = actor.model.tables
        self.options = [t.option(actor.index, m.action, m.target) for m in actor.spec.policy.moves]
        self.width = len(t.of_actor[actor.index])

    def decide(self, actor: Actor) -> Decision:
        model = actor.model
        option = self.options[min(model.round, len(self.options)) - 1]
        return Decision(np.full((1, model.replicates), option), np.zeros((self.width, model.replicates), dtype=bool))


@register("tit_for_tat")
class TitForTatPolicy:
    """Opens with a fixed option, then answers the opponent's perceived last event toward it in
    kind: the allowed option toward the opponent whose rung is nearest the rung perceived. When
    the opponent did nothing it saw toward it, it plays the opening again, as it does where the
    answer is not open to it (a threshold not met); it never stops an activity of its own accord."""

    def __init__(self, actor: Actor):
        model, t, spec = actor.model, actor.model.tables, actor.spec.policy
        self.opponent = t.index(spec.opponent)
        self.opening = t.option(actor.index, spec.opening.action, spec.opening.target)
        self.watch = model.watches.index.get((actor.index, t.pair_index(self.opponent, actor.index)), -1)
        own = t.of_actor[actor.index]
        toward = own[t.target[own] == self.opponent]
        ranked = toward[np.argsort(t.rung[t.action[toward]], kind="stable")]
        rungs = t.rung[t.action[ranked]]
        nearest = np.abs(rungs[None, :] - np.arange(t.top + 1)[:, None]).argmin(axis=1)
        self.answer = ranked[nearest]  # (top + 1,) option answering each rung
        self.width = len(own)

    def decide(self, actor: Actor) -> Decision:
        model, R = actor.model, actor.model.replicates
        pick = np.full(R, self.opening)
        if model.round > 1 and self.watch >= 0:
            seen = model.seen[self.watch]
            pick = np.where(seen >= 0, self.answer[model.tables.rung[np.maximum(seen, 0)]], pick)
        # an answer the actor may not choose (v3: out of reach, or a threshold not met) is not given
        pick = np.where(model.open[pick, np.arange(R)], pick, self.opening)
        return Decision(pick[None, :], np.zeros((self.width, R), dtype=bool))


def watches_of(model) -> list[tuple[int, int]]:
    """The (actor, pair) couples the tit-for-tat policies need perceived."""
    t, out = model.tables, []
    for aid, spec in model.scenario.actors.items():
        if spec.policy.name == "tit_for_tat":
            pair = t.pair_index(t.index(spec.policy.opponent), t.index(aid))
            if pair >= 0:
                out.append((t.index(aid), pair))
    return out
