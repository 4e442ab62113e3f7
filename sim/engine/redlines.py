"""Red lines: crossings as their owners perceive them, enforcement, credibility and audience costs.

A line is crossed when its owner sees the trigger actor start or take one of the trigger
actions toward the trigger target (or, with probability `slack`, one of the ambiguous ones).
An activity that was already in force at the start is no event, so it never crosses a line.
A line named on a sponsor is crossed too when one of its proxies (actors it sponsors) does what
the trigger names: in fact always, in the owner's eyes where the owner blames the sponsor (the
proxy's `attribution` for that observer). A line `drawn` after the start stands from the round
that date falls in: nothing done before then crosses it.
The owner enforces with a logistic probability; enforcing schedules the declared response
`lag` rounds later. Only this decision counts as enforcement: a move forced by an inject is
not the owner's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.calendar import from_round
from .causes import RED_LINE

if TYPE_CHECKING:
    from .model import EscalationModel


@dataclass(frozen=True)
class RedLine:
    index: int
    id: str
    owner: int
    trigger_actor: int
    trigger_actions: np.ndarray
    ambiguous: np.ndarray
    watch: int  # the owner's watch on (trigger actor, trigger target); -1 if that pair has no option
    crossing_options: np.ndarray  # the trigger actor's and its proxies' options that cross the line
    warning: np.ndarray
    response: int  # the owner's response option
    severity: float  # escalation points of the declared response, scaled to [0, 1]
    drawn: object  # datetime.date
    first_round: int  # the round it is drawn in (0: it stands from the start)
    proxies: list[tuple[int, int]]  # (proxy of the trigger actor, the owner's watch on proxy -> target)

    def stands(self, round_number: int) -> bool:
        """Whether what happened in `round_number` can cross it."""
        return round_number >= self.first_round

    def path(self, key: str) -> str:
        return f"red_lines.{self.id}.{key}"


def _proxy_pairs(model: EscalationModel, line) -> list[tuple[int, int]]:
    """(proxy, pair proxy -> target) for each actor the trigger actor sponsors that acts toward the target."""
    t = model.tables
    proxies = [t.index(aid) for aid, a in model.scenario.actors.items() if a.sponsor == line.trigger.actor]
    pairs = [(x, t.pair_index(x, t.index(line.trigger.target))) for x in proxies]
    return [(x, pair) for x, pair in pairs if pair >= 0]


def compile_red_lines(model: EscalationModel) -> list[RedLine]:
    t, s = model.tables, model.scenario
    lines = []
    for index, (lid, line) in enumerate(s.red_lines.items()):
        actor, target = t.index(line.trigger.actor), t.index(line.trigger.target)
        pair = t.pair_index(actor, target)
        triggers = t.actions_of(line.trigger.actions, line.trigger.categories)
        owner = t.index(line.owner)
        proxies = _proxy_pairs(model, line)
        crossing = np.concatenate([t.options_matching(x, triggers, target) for x in [actor, *(x for x, _ in proxies)]])
        response = t.option(line.owner, line.response.action, line.response.target)
        lines.append(
            RedLine(
                index=index,
                id=lid,
                owner=owner,
                trigger_actor=actor,
                trigger_actions=triggers,
                ambiguous=t.action_index(line.trigger.ambiguous),
                watch=model.watches.index.get((t.index(line.owner), pair), -1),
                crossing_options=crossing,
                warning=t.action_index(line.warning),
                response=response,
                severity=max(float(t.points[t.action[response]]), 0.0),
                drawn=line.drawn,
                first_round=from_round(line.drawn, s),
                proxies=[(x, model.watches.index[(owner, pair)]) for x, pair in proxies],
            )
        )
    return lines


def watches_of(model: EscalationModel) -> list[tuple[int, int]]:
    """The (owner, pair) couples the red lines need perceived."""
    t, out = model.tables, []
    for line in model.scenario.red_lines.values():
        pair = t.pair_index(t.index(line.trigger.actor), t.index(line.trigger.target))
        if pair >= 0:
            out.append((t.index(line.owner), pair))
        out += [(t.index(line.owner), proxy_pair) for _, proxy_pair in _proxy_pairs(model, line)]
    return out


def enforcement_probability(model: EscalationModel, line: RedLine, stake: np.ndarray) -> np.ndarray:
    """logit P = bias + w_r (resolve - 1/2) + w_a (stake + past audience costs)
    - w_k (1 - risk tolerance) severity + the line's own propensity."""
    owner, p = model.actors_by_index[line.owner], model.params
    logit = (
        p["dynamics.enforcement.bias"]
        + p["dynamics.enforcement.resolve"] * (owner.resolve - 0.5)
        + p["dynamics.enforcement.audience"] * (stake + model.audience_cost[line.owner])
        - p["dynamics.enforcement.risk"] * (1.0 - owner.risk_tolerance) * line.severity
        + p[line.path("propensity")]
    )
    return 1.0 / (1.0 + np.exp(-logit))


def audience_stake(model: EscalationModel, line: RedLine) -> np.ndarray:
    """What backing down would cost the owner: grows with publicity, specificity and the line's
    age in real time (Fearon 1994); with a half-life h, the age counts (h / ln 2)(1 - 2^(-age/h)),
    as much as the linear form at first and never more than h / ln 2 (Tomz 2007; Snyder and
    Borghard 2011: the cost of backing down is bounded)."""
    owner, p = model.actors_by_index[line.owner], model.params
    age_years = max(model.clock.years_since(line.drawn, model.round), 0.0)
    grown = 1.0 + age_years
    if model.scenario.dynamics.enforcement.audience_half_life is not None:
        half_life = p["dynamics.enforcement.audience_half_life"]
        grown = 1.0 + half_life / np.log(2.0) * -np.expm1(-np.log(2.0) * age_years / half_life)
    return owner.audience_cost_weight * p[line.path("publicity")] * p[line.path("specificity")] * grown


def _reads_as_crossing(model: EscalationModel, line: RedLine, saw: np.ndarray) -> np.ndarray:
    """(R,) where what the owner saw (`saw`, actions) is a trigger action, or an ambiguous one it
    reads as one (with probability `slack`)."""
    slack = model.rng.random(model.replicates) < model.params[line.path("trigger.slack")]
    return np.isin(saw, line.trigger_actions) | (np.isin(saw, line.ambiguous) & slack)


def check_red_lines(model: EscalationModel, seen: np.ndarray) -> None:
    """Judge every line on what its owner saw last round (`seen`, (R, W) actions)."""
    R = model.replicates
    for line in model.red_lines:
        if line.watch < 0 and not line.proxies:
            continue
        saw = seen[line.watch] if line.watch >= 0 else np.full(R, -1)
        crossed = _reads_as_crossing(model, line, saw)
        for proxy, watch in line.proxies:
            crossed |= _reads_as_crossing(model, line, seen[watch]) & (model.rng.random(R) < model.attribution(proxy, line.owner))
        standing = line.stands(model.round - 1)  # it judges what happened last round
        crossed &= standing
        approaching = np.isin(saw, line.warning) & standing
        dyad = model.dyads.declared(line.owner, line.trigger_actor)
        h = model.hostility[dyad]
        model.hostility[dyad] = h + np.where(
            approaching, model.params["dynamics.hostility.approach"] * (1 - h), 0.0
        )
        if model.tracer is not None:
            model.tracer.approached(model, line, approaching)
        draw = model.rng.random(model.replicates)  # drawn every round, crossed or not (engine/streams.py)
        if not crossed.any():
            continue
        stake = audience_stake(model, line)
        probability = enforcement_probability(model, line, stake)
        enforce = crossed & (draw < probability)
        if model.tracer is not None:
            model.tracer.crossed(model, line, crossed, probability, enforce)
        model.schedule(enforce, line.response, model.params.rounds(line.path("response.lag")), RED_LINE)
        backed_down = crossed & ~enforce
        model.audience_cost[line.owner] += np.where(backed_down, stake, 0.0)
        update_credibility(model, line, enforce, backed_down)
        first = crossed & (model.first_crossed[line.index] == 0)
        model.first_crossed[line.index, first] = model.round - 1  # the crossing happened last round
        model.enforced_first[line.index, first] = enforce[first]


def record_facts(model: EscalationModel) -> None:
    """The round each line was first crossed in fact (its trigger happened, seen or not)."""
    for line in model.red_lines:
        fact = model.events[line.crossing_options].any(axis=0) & (model.first_fact[line.index] == 0)
        fact &= line.stands(model.round)
        model.first_fact[line.index, fact] = model.round


def update_credibility(model: EscalationModel, line: RedLine, enforced: np.ndarray, backed_down: np.ndarray) -> None:
    """Enforcement builds credibility in every observer's eyes; backing down erodes it, more so for
    public and specific lines; the owner's other lines move by the spillover share (reputation)."""
    p = model.params
    c = model.credibility[line.index]  # (observer, R)
    gain = p["dynamics.credibility.gain"] * (1 - c)
    loss = p["dynamics.credibility.loss"] * p[line.path("publicity")] * p[line.path("specificity")] * c
    delta = np.where(enforced, gain, 0.0) - np.where(backed_down, loss, 0.0)
    for other in model.red_lines:
        if other.owner == line.owner:
            share = 1.0 if other.index == line.index else p["dynamics.credibility.spillover"]
            model.credibility[other.index] = np.clip(model.credibility[other.index] + share * delta, 0, 1)
