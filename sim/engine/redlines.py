"""Red lines and commitments: triggers, enforcement, credibility and audience costs.

Both are checked against what their owners *perceive*, so misperception can cross a line
that was not crossed, and a covert move can cross one unseen. Enforcement and honouring force
the owner's move this round, unless an inject already forced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.references import attackers_of

if TYPE_CHECKING:
    from .model import EscalationModel

STATUSES = ("active", "invoked", "lapsed", "nullified")
ACTIVE, INVOKED, LAPSED, NULLIFIED = range(4)


@dataclass
class RedLine:
    index: int
    id: str
    owner: int
    trigger_actor: int
    trigger_actions: np.ndarray
    trigger_target: int
    warning: np.ndarray
    response_action: int
    response_target: int
    publicity: np.ndarray
    specificity: np.ndarray
    severity: float  # escalation points of the declared response, scaled to [0, 1]
    months_drawn: int


@dataclass
class Commitment:
    index: int
    id: str
    parties: tuple[int, int]
    attackers: list[int]
    actions: np.ndarray
    ambiguous: np.ndarray
    obligation: int
    toward_attacker: bool
    honour: np.ndarray
    slack: np.ndarray
    nullify_state: int
    nullify_below: np.ndarray
    nullify_rate: np.ndarray


def compile_red_lines(model: EscalationModel) -> list[RedLine]:
    t, s, draws = model.tables, model.scenario, model.draws
    lines = []
    for index, (lid, line) in enumerate(s.red_lines.items()):
        response = t.actions.index(line.response.action)
        lines.append(
            RedLine(
                index=index,
                id=lid,
                owner=t.index(line.owner),
                trigger_actor=t.index(line.trigger.actor),
                trigger_actions=t.action_index(line.trigger.actions),
                trigger_target=t.index(line.trigger.target),
                warning=t.action_index(line.warning),
                response_action=response,
                response_target=t.index(line.response.target),
                publicity=draws(f"red_lines.{lid}.publicity", line.publicity),
                specificity=draws(f"red_lines.{lid}.specificity", line.specificity),
                severity=max(float(t.points[response]), 0.0),
                months_drawn=line.drawn_months_ago,
            )
        )
    return lines


def compile_commitments(model: EscalationModel) -> list[Commitment]:
    t, s, draws = model.tables, model.scenario, model.draws
    out = []
    for index, (cid, c) in enumerate(s.commitments.items()):
        base = f"commitments.{cid}"
        nullification = c.nullification
        out.append(
            Commitment(
                index=index,
                id=cid,
                parties=(t.index(c.parties[0]), t.index(c.parties[1])),
                attackers=[t.index(a) for a in attackers_of(s, c.parties, c.trigger.attackers)],
                actions=t.action_index(c.trigger.actions),
                ambiguous=t.action_index(c.trigger.ambiguous),
                obligation=t.actions.index(c.obligation.action),
                toward_attacker=c.obligation.toward == "attacker",
                honour=draws(f"{base}.honour", c.honour),
                slack=draws(f"{base}.slack", c.slack),
                nullify_state=list(s.state).index(nullification.state) if nullification else -1,
                nullify_below=draws(f"{base}.nullification.below", nullification.below if nullification else 0.0),
                nullify_rate=draws(f"{base}.nullification.rate", nullification.rate if nullification else 0.0),
            )
        )
    return out


def _force(model: EscalationModel, mask: np.ndarray, actor: int, action: int, target: np.ndarray | int) -> np.ndarray:
    """Force `actor`'s move where `mask` holds and no earlier rule forced it; return where it applied."""
    free = mask & (model.forced_action[:, actor] < 0)
    model.forced_action[free, actor] = action
    model.forced_target[free, actor] = target[free] if isinstance(target, np.ndarray) else target
    return free


def enforcement_probability(model: EscalationModel, line: RedLine, stake: np.ndarray) -> np.ndarray:
    """logit P = bias + w_r (resolve - 1/2) + w_a (stake + past audience costs) - w_k caution severity."""
    owner, w = model.actors_by_index[line.owner], model.enforcement
    logit = (
        w["bias"]
        + w["resolve"] * (owner.resolve - 0.5)
        + w["audience"] * (stake + model.audience_cost[:, line.owner])
        - w["risk"] * (1.0 - owner.risk_tolerance) * line.severity
    )
    return 1.0 / (1.0 + np.exp(-logit))


def audience_stake(model: EscalationModel, line: RedLine) -> np.ndarray:
    """What backing down would cost the owner: grows with publicity, specificity and the line's age (Fearon)."""
    owner = model.actors_by_index[line.owner]
    age_years = (line.months_drawn + model.round * model.scenario.round_months) / 12.0
    return owner.audience_cost_weight * line.publicity * line.specificity * (1.0 + age_years)


def check_red_lines(model: EscalationModel) -> None:
    for line in model.red_lines:
        seen = model.perceived[:, line.owner, line.trigger_actor]
        at_target = model.target[:, line.trigger_actor] == line.trigger_target
        crossed = at_target & np.isin(seen, line.trigger_actions)
        approaching = at_target & np.isin(seen, line.warning)
        h = model.hostility[:, line.owner, line.trigger_actor]
        model.hostility[:, line.owner, line.trigger_actor] = h + np.where(approaching, model.approach * (1 - h), 0.0)
        if not crossed.any():
            continue
        stake = audience_stake(model, line)
        enforce = crossed & (model.rng.random(model.replicates) < enforcement_probability(model, line, stake))
        _force(model, enforce, line.owner, line.response_action, line.response_target)
        backed_down = crossed & ~enforce
        model.audience_cost[:, line.owner] += np.where(backed_down, stake, 0.0)
        update_credibility(model, line, enforce, backed_down)
        first = crossed & (model.first_crossed[:, line.index] == 0)
        model.first_crossed[first, line.index] = model.round
        model.enforced_first[first, line.index] = enforce[first]


def update_credibility(model: EscalationModel, line: RedLine, enforced: np.ndarray, backed_down: np.ndarray) -> None:
    """Enforcement builds credibility in every observer's eyes; backing down erodes it, more so for
    public and specific lines; the owner's other lines move by the spillover share (reputation)."""
    c = model.credibility[:, line.index, :]
    gain = model.credibility_rates["gain"][:, None] * (1 - c)
    loss = (model.credibility_rates["loss"] * line.publicity * line.specificity)[:, None] * c
    delta = np.where(enforced[:, None], gain, 0.0) - np.where(backed_down[:, None], loss, 0.0)
    for other in model.red_lines:
        if other.owner == line.owner:
            share = 1.0 if other.index == line.index else model.credibility_rates["spillover"][:, None]
            model.credibility[:, other.index, :] = np.clip(model.credibility[:, other.index, :] + share * delta, 0, 1)


def check_commitments(model: EscalationModel) -> None:
    rng, replicates = model.rng, model.replicates
    for c in model.commitments:
        status = model.status[:, c.index]
        for guarantor, protected in (c.parties, c.parties[::-1]):
            attacker = np.full(replicates, -1)
            for x in c.attackers:
                seen = model.perceived[:, guarantor, x]
                ambiguous_read = np.isin(seen, c.ambiguous) & (rng.random(replicates) < c.slack)
                hit = (model.target[:, x] == protected) & (np.isin(seen, c.actions) | ambiguous_read)
                attacker = np.where((attacker < 0) & hit, x, attacker)
            triggered = (attacker >= 0) & ((status == ACTIVE) | (status == INVOKED))
            honoured = triggered & (rng.random(replicates) < c.honour)
            _force(model, honoured, guarantor, c.obligation, attacker if c.toward_attacker else protected)
            status = np.where(honoured, INVOKED, np.where(triggered, LAPSED, status))
        if c.nullify_state >= 0:
            eroded = model.state_values[:, c.nullify_state] < c.nullify_below
            lapse = (status != NULLIFIED) & eroded & (rng.random(replicates) < c.nullify_rate)
            status = np.where(lapse, NULLIFIED, status)
        model.status[:, c.index] = status
