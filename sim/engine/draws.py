"""Per-run parameters: every number of a scenario as an array over the replicates of a block.

A fixed number becomes a constant array; a distribution is drawn from the block's Generator.
Draws happen once per block, in the scenario's field order, so they are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic import BaseModel

from ..scenario import Distribution, Scenario


def distributions(node: Any, path: str = "") -> Iterator[tuple[str, Distribution]]:
    """Every distribution in the scenario with its dotted path, in a fixed order."""
    if isinstance(node, Distribution):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from distributions(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from distributions(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from distributions(value, f"{path}[{i}]")


class Draws:
    """The sampled parameters of one block, and a way to read any parameter as an array."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, replicates: int):
        self.replicates = replicates
        self.sampled: dict[str, np.ndarray] = {
            path: dist.sample(rng, replicates) for path, dist in distributions(scenario)
        }

    def __call__(self, path: str, value: float | Distribution) -> np.ndarray:
        """The parameter at `path` (whose declared value is `value`) for each replicate."""
        if isinstance(value, Distribution):
            return self.sampled[path]
        return np.full(self.replicates, float(value))
