"""Incidents (model v3): events nobody chose, each at its own rung.

RAND's *Dangerous Thresholds* (Morgan et al. 2008) separates deliberate escalation from
inadvertent and accidental escalation: an exchange of fire at a border, a collision in the air.
Each incident of the scenario is a per-dyad process: `actor` takes `action` toward `target` with
probability `rate` per rate unit, whatever it chose. The event is then like any other: seen (or
missed) by the others, crossing lines and triggering commitments, answered through their
decisions. An incident never moves anyone more than its own rung: nothing slips up a ladder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import EscalationModel


class Incidents:
    def __init__(self, model: EscalationModel):
        t = model.tables
        self.ids = list(model.scenario.incidents)
        self.options = np.array(
            [t.option(i.actor, i.action, i.target) for i in model.scenario.incidents.values()], dtype=np.int64
        )
        self.paths = [f"incidents.{iid}.rate" for iid in self.ids]

    def occur(self, model: EscalationModel) -> np.ndarray:
        """(K, R) bool: which incidents happen this round. One draw (K, R) per round whatever happens."""
        if len(self.ids) == 0:
            return np.zeros((0, model.replicates), dtype=bool)
        rates = np.stack([model.clock.chance(model.params[path]) for path in self.paths])
        return model.rng.random((len(self.ids), model.replicates)) < rates
