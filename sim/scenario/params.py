"""Numeric parameters: a fixed number, or a distribution sampled once per run.

Every parameter declares its range. A fixed value outside it is an error; a distribution
whose support lies outside it is an error, except the normal, whose tails are clipped to the
range when sampled (that is the only way a normal fits a bounded quantity).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import PlainSerializer, PlainValidator

if TYPE_CHECKING:
    import numpy as np  # imported where sampled: loading a scenario (sim show) needs no numpy

DISTRIBUTION_SHAPES = {"beta": 2, "uniform": 2, "normal": 2, "triangular": 3}


@dataclass(frozen=True)
class Distribution:
    """A per-run random parameter, e.g. {beta: [4, 2]}; drawn from the run's block Generator."""

    kind: str
    args: tuple[float, ...]
    low: float = field(default=-math.inf, compare=False)
    high: float = field(default=math.inf, compare=False)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw `size` values, clipped to the parameter's range."""
        import numpy as np

        draw = getattr(rng, self.kind)(*self.args, size=size)
        return np.clip(draw, self.low, self.high)

    def as_yaml(self) -> dict[str, list[float]]:
        return {self.kind: list(self.args)}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_show(value)}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


def _range_text(low: float, high: float) -> str:
    return f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"


def _distribution(value: dict[str, Any], low: float, high: float) -> Distribution:
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTION_SHAPES:
        raise ValueError(
            "expected a number or one distribution "
            "({beta: [a, b]}, {uniform: [lo, hi]}, {normal: [mean, sd]}, {triangular: [lo, mode, hi]}), "
            f"got {_show(value)}"
        )
    kind, args = next(iter(value.items()))
    n = DISTRIBUTION_SHAPES[kind]
    if not isinstance(args, list) or len(args) != n:
        raise ValueError(f"expected {kind} to take a list of {n} numbers, got {_show(args)}")
    numbers = tuple(_number(a) for a in args)
    if kind == "beta":
        if min(numbers) <= 0:
            raise ValueError(f"expected beta shape parameters > 0, got {list(numbers)}")
        support = (0.0, 1.0)
    elif kind == "normal":
        if numbers[1] < 0:
            raise ValueError(f"expected a normal sd >= 0, got {numbers[1]:g}")
        support = (numbers[0], numbers[0])  # the mean must lie in range; tails are clipped
    elif kind == "uniform":
        if numbers[0] > numbers[1]:
            raise ValueError(f"expected uniform lo <= hi, got {list(numbers)}")
        support = numbers
    else:
        if not numbers[0] <= numbers[1] <= numbers[2]:
            raise ValueError(f"expected triangular lo <= mode <= hi, got {list(numbers)}")
        support = (numbers[0], numbers[2])
    if support[0] < low or support[1] > high:
        raise ValueError(f"expected a distribution within {_range_text(low, high)}, got {kind} over {list(support)}")
    return Distribution(kind, numbers, low, high)


def param(low: float = 0.0, high: float = 1.0) -> Any:
    """A parameter type: a number in [low, high] or a distribution that fits there."""

    def validate(value: Any) -> float | Distribution:
        if isinstance(value, Distribution):
            return value
        if isinstance(value, dict):
            return _distribution(value, low, high)
        number = _number(value)
        if not low <= number <= high:
            raise ValueError(f"expected a number in {_range_text(low, high)}, got {number:g}")
        return number

    def serialize(value: float | Distribution) -> Any:
        return value.as_yaml() if isinstance(value, Distribution) else value

    return Annotated[float | Distribution, PlainValidator(validate), PlainSerializer(serialize)]


Unit = param(0.0, 1.0)


def numbers(node: Any, path: str = "") -> Iterator[tuple[str, float | Distribution]]:
    """Every numeric parameter below `node` (a scenario or a block) with its dotted path, in field order."""
    from pydantic import BaseModel  # the schema's base; imported here to keep this module light

    if isinstance(node, Distribution) or (isinstance(node, float | int) and not isinstance(node, bool)):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from numbers(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from numbers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numbers(value, f"{path}[{i}]")
