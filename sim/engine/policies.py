"""Decision rules, registered by name: each chooses one move per replicate for one actor.

A policy sees what its actor perceived (never the true moves of others) and returns index
arrays `(action, target)` of shape (R,). Register a new rule with `@register("name")`; the
scenario schema names the same rules under `actors.<id>.policy.name`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .agents import Actor

Move = tuple[np.ndarray, np.ndarray]


class Policy(Protocol):
    def choose(self, actor: Actor) -> Move: ...


POLICIES: dict[str, type] = {}


def register(name: str):
    def add(cls: type) -> type:
        POLICIES[name] = cls
        return cls

    return add


def make_policy(actor: Actor) -> Policy:
    """The policy named in the actor's scenario entry, bound to the actor's tables."""
    return POLICIES[actor.spec.policy.name](actor)


@register("utility")
class UtilityPolicy:
    """Softmax over the actor's allowed moves of a utility built from its goals and fears.

    utility = preference + hostility toward the target x escalation points
              - aversion x (1 - risk tolerance) x escalation points
              - reciprocity x |rung - rung the target last used toward us|
              - deterrence x (1 - risk tolerance) x credibility x severity, for moves that cross a red line
              + state effects
    """

    def __init__(self, actor: Actor):
        model, tables, i = actor.model, actor.model.tables, actor.index
        opts = tables.options[i]
        self.actions, self.targets = opts.action, opts.target
        self.points = tables.points[opts.action]
        self.rung = tables.rung[opts.action] / tables.top
        self.temperature = actor.param("policy.temperature", actor.spec.policy.temperature)
        self.red_lines = [
            (line.index, np.isin(opts.action, line.trigger_actions) & (opts.target == line.trigger_target), line.severity)
            for line in model.red_lines
            if line.trigger_actor == i
        ]
        self.effects = [(v, self.actions == k, w) for v, k, w in model.effects_on(i)]
        # What does not change during a run: preferences and the cost of escalating.
        caution = 1.0 - actor.risk_tolerance
        aversion = model.utility_weights["escalation_aversion"] * caution
        self.fixed = actor.preferences[:, self.actions] - aversion[:, None] * np.maximum(self.points, 0.0)

    def utilities(self, actor: Actor) -> np.ndarray:
        model, w = actor.model, actor.model.utility_weights
        caution = 1.0 - actor.risk_tolerance
        u = self.fixed + (w["hostility"][:, None] * model.hostility[:, actor.index, self.targets]) * self.points
        u -= actor.reciprocity[:, None] * np.abs(self.rung - model.pressure[:, actor.index, self.targets])
        for line, crosses, severity in self.red_lines:
            fear = w["deterrence"] * caution * model.credibility[:, line, actor.index] * severity
            u -= fear[:, None] * crosses
        for variable, matches, weight in self.effects:
            u += (weight * model.state_values[:, variable])[:, None] * matches
        return u

    def choose(self, actor: Actor) -> Move:
        z = self.utilities(actor) / self.temperature[:, None]
        z -= z.max(axis=1, keepdims=True)
        cumulative = np.cumsum(np.exp(z), axis=1)
        threshold = actor.model.rng.random(len(z)) * cumulative[:, -1]
        pick = (cumulative < threshold[:, None]).sum(axis=1)
        return self.actions[pick], self.targets[pick]


@register("scripted")
class ScriptedPolicy:
    """Plays the scenario's moves in order, one a round, then keeps playing the last one."""

    def __init__(self, actor: Actor):
        tables = actor.model.tables
        self.moves = [
            (tables.actions.index(m.action), tables.actors.index(m.target)) for m in actor.spec.policy.moves
        ]

    def choose(self, actor: Actor) -> Move:
        action, target = self.moves[min(actor.model.round, len(self.moves)) - 1]
        replicates = actor.model.replicates
        return np.full(replicates, action), np.full(replicates, target)


@register("tit_for_tat")
class TitForTatPolicy:
    """Opens with a fixed move, then answers the opponent's perceived last move toward it in kind.

    In kind means the allowed move toward the opponent whose rung is nearest the rung perceived;
    when the opponent's last move was aimed elsewhere, it plays the opening move again.
    """

    def __init__(self, actor: Actor):
        tables, spec = actor.model.tables, actor.spec.policy
        self.opponent = tables.actors.index(spec.opponent)
        self.opening = (tables.actions.index(spec.opening.action), tables.actors.index(spec.opening.target))
        self.answer = tables.toward[actor.index, self.opponent]

    def choose(self, actor: Actor) -> Move:
        model, replicates = actor.model, actor.model.replicates
        action = np.full(replicates, self.opening[0])
        target = np.full(replicates, self.opening[1])
        if model.round > 1:
            aimed_at_us = model.target[:, self.opponent] == actor.index
            seen = model.tables.rung[model.perceived[:, actor.index, self.opponent]]
            action = np.where(aimed_at_us, self.answer[seen], action)
            target = np.where(aimed_at_us, self.opponent, target)
        return action, target
