"""Actor(mesa.Agent): one actor's parameters over all replicates, and its choice each round."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .policies import make_policy
from ..scenario.params import Distribution

if TYPE_CHECKING:
    from .model import EscalationModel


class Actor(mesa.Agent):
    """An actor of the scenario. Each attribute is an array over the block's replicates."""

    def __init__(self, model: EscalationModel, actor_id: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.index = model.tables.index(actor_id)
        self.spec = model.scenario.actors[actor_id]
        spec = self.spec
        self.resolve = self.param("resolve", spec.resolve)
        self.risk_tolerance = self.param("risk_tolerance", spec.risk_tolerance)
        self.audience_cost_weight = self.param("audience_cost_weight", spec.audience_cost_weight)
        self.intelligence = self.param("intelligence", spec.intelligence)
        self.reciprocity = self.param("reciprocity", spec.reciprocity)
        self.preferences = np.zeros((model.replicates, len(model.tables.actions)))
        for action, value in spec.preferences.items():
            self.preferences[:, model.tables.actions.index(action)] = self.param(f"preferences.{action}", value)
        self.policy = make_policy(self)

    def param(self, name: str, value: float | Distribution) -> np.ndarray:
        return self.model.draws(f"actors.{self.actor_id}.{name}", value)

    def step(self) -> None:
        """Choose this round's move; a forced move (inject, commitment, red line) takes precedence."""
        action, target = self.policy.choose(self)
        forced = self.model.forced_action[:, self.index] >= 0
        self.model.next_action[:, self.index] = np.where(forced, self.model.forced_action[:, self.index], action)
        self.model.next_target[:, self.index] = np.where(forced, self.model.forced_target[:, self.index], target)
