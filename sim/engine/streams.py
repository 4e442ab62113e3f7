"""Random streams for blocks that are not one Generator's plain block (docs/design.md, "Seeding").

The engine keeps one rule for its draws: every random array has the replicates on its *last*
axis (shape (..., R)), and the draws a round makes (how many, which shapes) depend on the
scenario and R alone, never on the state. Two things follow, both byte-exact:

- `PackedStreams`: several blocks (sweep points) in one model. Each draw is made from each
  member block's own Generator at its own replicate count and joined along the last axis, so
  every member gets the numbers it would have drawn alone.
- `ReplicateStream`: one replicate of a block replayed alone (R = 1). Each draw is made at the
  whole block's shape from the block's Generator and only the replicate's column is kept, so
  the replicate sees its numbers while the model logic runs for one replicate instead of R.

A draw of any other shape, or through a method not listed here, raises StreamError: a stream
that drifted silently would give a packed point or a traced run other numbers than its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# Draws with their size first (rng.random((k, R))); the others take it as `size=`.
SIZE_FIRST = ("random", "standard_normal")
DRAWS = (*SIZE_FIRST, "integers", "choice", "beta", "uniform", "normal", "triangular")
# Mesa seeds its stdlib `random` with one scalar draw of `integers` when given a Generator; the
# engine never uses that `random`, so a scalar draw of `integers` is allowed (see _scalar).
SCALAR_OK = ("integers",)
# Arguments that are the same for every replicate even when they are arrays.
SHARED_ARRAYS = {"choice": ("a", "p")}


class StreamError(RuntimeError):
    """A draw that breaks the engine's rule (replicates last, shapes fixed by the structure)."""


def _split_size(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[int, ...] | None, tuple, dict]:
    kwargs = dict(kwargs)
    if name in SIZE_FIRST and args:
        size, args = args[0], args[1:]
    else:
        size = kwargs.pop("size", None)
    if size is None:
        return None, args, kwargs
    return (tuple(int(s) for s in size) if np.ndim(size) else (int(size),)), args, kwargs


class _Streams(np.random.Generator):
    """A Generator whose draws are made elsewhere; `replicates` is the last axis every draw must have."""

    replicates: int

    def _draw(self, name: str, size: tuple[int, ...], args: tuple, kwargs: dict) -> np.ndarray:
        raise NotImplementedError

    def _scalar(self, name: str, args: tuple, kwargs: dict) -> Any:
        raise NotImplementedError

    def _call(self, name: str, args: tuple, kwargs: dict) -> Any:
        size, args, kwargs = _split_size(name, args, kwargs)
        shared = SHARED_ARRAYS.get(name, ())
        if any(np.ndim(a) for a in args[len(shared):]) or any(np.ndim(v) for k, v in kwargs.items() if k not in (*shared, "dtype")):
            raise StreamError(f"{name}: an array argument (expected numbers; a per-replicate argument cannot be split)")
        if size is None:
            if name not in SCALAR_OK:
                raise StreamError(f"{name} without a size (expected a draw of shape (..., {self.replicates}))")
            return self._scalar(name, args, kwargs)
        if size[-1:] != (self.replicates,):
            raise StreamError(f"{name} of shape {size} (expected the replicates, {self.replicates}, on the last axis)")
        return self._draw(name, size, args, kwargs)

    def __getattribute__(self, name: str) -> Any:
        if name in _UNLISTED:
            raise StreamError(f"{name}: not a draw these streams can split (expected one of {', '.join(DRAWS)})")
        return super().__getattribute__(name)


def _method(name: str) -> Callable[..., Any]:
    def draw(self: _Streams, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, args, kwargs)

    draw.__name__ = name
    return draw


for _name in DRAWS:
    setattr(_Streams, _name, _method(_name))
_UNLISTED = {n for n in dir(np.random.Generator) if not n.startswith("_")} - set(DRAWS) - {"bit_generator"}


class PackedStreams(_Streams):
    """The streams of a packed block: `members` are (Generator, replicates, payload) in the order
    their replicates sit in the model; the payload (a member's scenario) is the caller's."""

    def __init__(self, members: Sequence[tuple[np.random.Generator, int, Any]]):
        if not members:
            raise ValueError("a packed block needs at least one member")
        super().__init__(members[0][0].bit_generator)
        self.members = list(members)
        self.replicates = sum(n for _, n, _ in members)

    def _draw(self, name: str, size: tuple[int, ...], args: tuple, kwargs: dict) -> np.ndarray:
        head = size[:-1]
        parts = [getattr(g, name)(*args, size=(*head, n), **kwargs) for g, n, _ in self.members]
        return np.concatenate(parts, axis=-1)

    def _scalar(self, name: str, args: tuple, kwargs: dict) -> Any:
        values = [getattr(g, name)(*args, **kwargs) for g, _, _ in self.members]
        return values[0]


class ReplicateStream(_Streams):
    """Replicate `replicate` of a block of `block_size` replicates drawing from `block`, alone."""

    replicates = 1

    def __init__(self, block: np.random.Generator, block_size: int, replicate: int):
        if not 0 <= replicate < block_size:
            raise ValueError(f"replicate {replicate} is not in a block of {block_size}")
        super().__init__(block.bit_generator)
        self.block, self.block_size, self.replicate = block, block_size, replicate

    def _draw(self, name: str, size: tuple[int, ...], args: tuple, kwargs: dict) -> np.ndarray:
        full = getattr(self.block, name)(*args, size=(*size[:-1], self.block_size), **kwargs)
        return np.ascontiguousarray(full[..., self.replicate : self.replicate + 1])

    def _scalar(self, name: str, args: tuple, kwargs: dict) -> Any:
        return getattr(self.block, name)(*args, **kwargs)


__all__ = ["PackedStreams", "ReplicateStream", "StreamError"]
