"""Actor(mesa.Agent): one actor's parameters over all replicates, and its decision each round."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .policies import Decision, make_policy

if TYPE_CHECKING:
    from .model import EscalationModel


class Actor(mesa.Agent):
    """An actor of the scenario. Each parameter is an array over the block's replicates, read
    from the model's parameter store each time so that an inject's `set` takes effect."""

    def __init__(self, model: EscalationModel, actor_id: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.index = model.tables.index(actor_id)
        self.spec = model.scenario.actors[actor_id]
        self.moves_per_round = self.spec.moves_per_round if self.spec.moves_per_round is not None else model.scenario.moves_per_round
        self.policy = make_policy(self)
        self.decision: Decision | None = None

    def param(self, name: str) -> np.ndarray:
        return self.model.params[f"actors.{self.actor_id}.{name}"]

    resolve = property(lambda self: self.param("resolve"))
    risk_tolerance = property(lambda self: self.param("risk_tolerance"))
    audience_cost_weight = property(lambda self: self.param("audience_cost_weight"))
    intelligence = property(lambda self: self.param("intelligence"))
    reciprocity = property(lambda self: self.param("reciprocity"))
    persistence = property(lambda self: self.param("persistence"))
    temperature = property(lambda self: self.model.params.get(f"actors.{self.actor_id}.policy.temperature", 1.0))

    def step(self) -> None:
        """Decide this round's stops and picks; the model applies them with what was forced."""
        self.decision = self.policy.decide(self)
        if self.model.tracer is not None:
            self.model.tracer.decided(self)
