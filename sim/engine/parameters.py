"""Per-run parameters: every number of a scenario as an array over the replicates of a block.

A fixed number is a read-only broadcast (no memory per replicate); a distribution is drawn
from the block's Generator once per block, in the scenario's field order, so it is
reproducible. Empirical parameters that name the same `joint` group share one index array,
drawn at the group's first parameter, so a joint posterior keeps its correlations. An inject's `set` overwrites a parameter in the runs where it fired, from its
round on; the engine reads parameters through this store every round, so the change holds.
"""

from __future__ import annotations

import numpy as np

from .streams import PackedStreams
from ..scenario import Distribution, Scenario
from ..scenario.params import numbers


class Parameters:
    """The sampled parameters of one block (`sampled`, kept in the results) and every other number."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, replicates: int):
        self.replicates = replicates
        self.version = 0  # bumped by `set`, so that cached terms know to recompute
        self.sampled: dict[str, np.ndarray] = {}
        self.values: dict[str, np.ndarray] = {}
        joint_indices: dict[str, np.ndarray] = {}
        for path, value in numbers(scenario):
            if isinstance(value, Distribution) and value.joint is not None:
                if value.joint not in joint_indices:
                    joint_indices[value.joint] = value.pick(rng, replicates)
                self.sampled[path] = self.values[path] = value.at(joint_indices[value.joint])
            elif isinstance(value, Distribution):
                self.sampled[path] = self.values[path] = value.sample(rng, replicates)
            else:
                self.values[path] = np.broadcast_to(float(value), (replicates,))

    @classmethod
    def joined(cls, parts: list[Parameters]) -> Parameters:
        """The parameters of a packed block: each part's replicates in turn. The parts must name
        the same paths (their scenarios differ only in per-run numbers)."""
        whole = cls.__new__(cls)
        whole.replicates = sum(part.replicates for part in parts)
        whole.version = 0
        paths = [list(part.values) for part in parts]
        if any(names != paths[0] for names in paths) or any(list(p.sampled) != list(parts[0].sampled) for p in parts):
            raise ValueError("packed blocks must have the same parameters (their scenarios differ in structure)")
        whole.sampled = {path: np.concatenate([p.sampled[path] for p in parts]) for path in parts[0].sampled}
        whole.values = {path: _joined([p.values[path] for p in parts], whole.replicates) for path in paths[0]}
        for path in whole.sampled:
            whole.values[path] = whole.sampled[path]
        return whole

    def __getitem__(self, path: str) -> np.ndarray:
        return self.values[path]

    def get(self, path: str, default: float) -> np.ndarray:
        """The parameter at `path`, or `default` for every replicate where the scenario has none."""
        found = self.values.get(path)
        return found if found is not None else np.broadcast_to(float(default), (self.replicates,))

    def set(self, path: str, where: np.ndarray, value: float) -> None:
        """Change a parameter from now on in the replicates `where` (an inject's `set`)."""
        changed = np.array(self.values[path], dtype=float)
        changed[where] = value
        self.values[path] = changed
        self.version += 1

    def rounds(self, path: str) -> np.ndarray:
        """A lag in whole rounds (distributions are rounded to the nearest round)."""
        return np.rint(self.values[path]).astype(np.int64)


def _joined(arrays: list[np.ndarray], replicates: int) -> np.ndarray:
    """The arrays one after the other; a read-only broadcast again when they all hold one number."""
    first = arrays[0]
    if all(a.strides == (0,) for a in arrays) and all(a[0] == first[0] for a in arrays):
        return np.broadcast_to(first[0], (replicates,))
    return np.concatenate(arrays)


def block_parameters(scenario: Scenario, rng: np.random.Generator, replicates: int) -> Parameters:
    """A block's parameters; a packed block's are each member's own, drawn from its own stream
    with its own scenario, so they are the numbers it would have alone."""
    if isinstance(rng, PackedStreams):
        return Parameters.joined([Parameters(member, stream, n) for stream, n, member in rng.members])
    return Parameters(scenario, rng, replicates)
