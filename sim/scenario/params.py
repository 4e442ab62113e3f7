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

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

if TYPE_CHECKING:
    import numpy as np  # imported where sampled: loading a scenario (sim show) needs no numpy

DISTRIBUTION_SHAPES = {"beta": 2, "uniform": 2, "normal": 2, "triangular": 3}
EMPIRICAL = "empirical"  # weighted samples: {empirical: {values: [...], weights: [...], joint: name}}
EMPIRICAL_KEYS = ("values", "weights", "joint")
MAX_SAMPLES = 100_000
DISTRIBUTION_KINDS = (*DISTRIBUTION_SHAPES, EMPIRICAL)


@dataclass(frozen=True, repr=False)
class Distribution:
    """A per-run random parameter, e.g. {beta: [4, 2]}; drawn from the run's block Generator.

    It prints as people write it in prose, `beta(4, 2)`, wherever it is shown (explain,
    errors, summaries, captions): never as the dataclass's field-by-field repr.
    """

    kind: str
    args: tuple[float, ...]  # an empirical's sample values
    low: float = field(default=-math.inf, compare=False)
    high: float = field(default=math.inf, compare=False)
    weights: tuple[float, ...] = ()  # empirical only: one per value, as written (normalised when drawn)
    joint: str | None = None  # empirical only: parameters naming the same group share one draw

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw `size` values, clipped to the parameter's range."""
        import numpy as np

        if self.kind == EMPIRICAL:
            return self.at(self.pick(rng, size))
        draw = getattr(rng, self.kind)(*self.args, size=size)
        return np.clip(draw, self.low, self.high)

    def pick(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """An empirical's sample indices, drawn by weight: one index array serves a whole joint group."""
        import numpy as np

        weights = np.asarray(self.weights)
        return rng.choice(len(self.args), size=size, p=weights / weights.sum())

    def at(self, indices: np.ndarray) -> np.ndarray:
        """An empirical's values at sample `indices` (see pick)."""
        import numpy as np

        return np.asarray(self.args)[indices]

    def rows_at(self, unit: np.ndarray) -> np.ndarray:
        """An empirical's sample indices at points `unit` in [0, 1) of its cumulative weights, in
        the order written: a design's unit coordinate becomes a draw from the samples, and one
        coordinate serves a whole joint group, so its members keep their rows together."""
        import numpy as np

        cumulative = np.cumsum(self.weights) / np.sum(self.weights)
        return np.minimum(np.searchsorted(cumulative, unit, side="right"), len(self.args) - 1)

    def quantiles(self, unit: Any) -> np.ndarray:
        """The inverse CDF at `unit` in [0, 1]; an empirical's is that of its weighted values
        (the marginal, for a member of a joint group)."""
        import numpy as np

        unit, a = np.asarray(unit, dtype=float), self.args
        if self.kind == EMPIRICAL:
            order = np.argsort(a, kind="stable")
            values, weights = np.asarray(a)[order], np.asarray(self.weights)[order]
            cumulative = np.cumsum(weights) / weights.sum()
            return values[np.minimum(np.searchsorted(cumulative, unit, side="left"), len(values) - 1)]
        if self.kind == "uniform":
            return a[0] + unit * (a[1] - a[0])
        from scipy import stats  # imported here: scipy.stats takes half a second to load

        if self.kind == "beta":
            return stats.beta.ppf(unit, a[0], a[1])
        if self.kind == "normal":
            return stats.norm.ppf(unit, a[0], a[1]) if a[1] > 0 else np.full_like(unit, a[0])
        return stats.triang.ppf(unit, (a[1] - a[0]) / (a[2] - a[0]), loc=a[0], scale=a[2] - a[0])

    def as_yaml(self) -> dict[str, Any]:
        if self.kind == EMPIRICAL:
            body: dict[str, Any] = {"values": list(self.args), "weights": list(self.weights)}
            return {EMPIRICAL: {**body, "joint": self.joint} if self.joint else body}
        return {self.kind: list(self.args)}

    def __str__(self) -> str:
        if self.kind == EMPIRICAL:
            group = f", joint {self.joint}" if self.joint else ""
            # a computed mean, not a number anyone wrote: four significant figures
            return f"empirical({len(self.args)} samples, mean {number_text(float(f'{self.mean:.4g}'))}{group})"
        return _call(self.kind, self.args)

    __repr__ = __str__

    @property
    def mean(self) -> float:
        """The mean before clipping to the parameter's range (only a normal's tails are ever clipped)."""
        a = self.args
        if self.kind == EMPIRICAL:
            return math.fsum(v * w for v, w in zip(a, self.weights)) / math.fsum(self.weights)
        if self.kind == "beta":
            return a[0] / (a[0] + a[1])
        if self.kind == "normal":
            return a[0]
        return sum(a) / len(a)  # uniform: (lo + hi) / 2; triangular: (lo + mode + hi) / 3


def number_text(value: float) -> str:
    """A number as a person writes it: 0.5, 2, 1e-06; never 2.0 or 0.30000000000000004."""
    return f"{value:.6g}"


def _call(kind: str, args: tuple[float, ...]) -> str:
    return f"{kind}({', '.join(number_text(a) for a in args)})"


def value_text(value: Any, quote: bool = False) -> str:
    """A value for people: `0.5`, `beta(2, 2)`, `[warn, sanction]`, as it would be written in YAML.

    With `quote`, strings are quoted (`'twelve'`), so an error shows that a string was found.
    """
    if isinstance(value, Distribution):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, str):
        return repr(value) if quote else value
    if value is None:
        return "null"
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(EMPIRICAL), dict):
        body = value[EMPIRICAL]  # thousands of samples are not for reading: their count and group
        count = len(body["values"]) if isinstance(body.get("values"), list) else "?"
        return f"empirical({count} samples{', joint ' + str(body['joint']) if body.get('joint') else ''})"
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTION_SHAPES:
        kind, args = next(iter(value.items()))
        if isinstance(args, list) and all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
            return _call(kind, tuple(args))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v, quote)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v, quote) for v in value) + "]"
    return str(value)


def show(value: Any) -> str:
    """A value quoted in an error message: strings quoted, distributions as `beta(1, 2)`, at most 60 characters."""
    text = value_text(value, quote=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {show(value)}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


def _range_text(low: float, high: float) -> str:
    return f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"


def _distribution(value: dict[str, Any], low: float, high: float) -> Distribution:
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTION_KINDS:
        raise ValueError(
            "expected a number or one distribution "
            "({beta: [a, b]}, {uniform: [lo, hi]}, {normal: [mean, sd]}, {triangular: [lo, mode, hi]}, "
            "{empirical: {values: [...], weights: [...]}}), "
            f"got {show(value)}"
        )
    kind, args = next(iter(value.items()))
    if kind == EMPIRICAL:
        return _empirical(args, low, high)
    n = DISTRIBUTION_SHAPES[kind]
    if not isinstance(args, list) or len(args) != n:
        raise ValueError(f"expected {kind} to take a list of {n} numbers, got {show(args)}")
    numbers = tuple(_number(a) for a in args)
    if kind == "beta":
        if min(numbers) <= 0:
            raise ValueError(f"expected beta shape parameters > 0, got {_call(kind, numbers)}")
        support = (0.0, 1.0)
    elif kind == "normal":
        if numbers[1] < 0:
            raise ValueError(f"expected a normal sd >= 0, got {numbers[1]:g}")
        support = (numbers[0], numbers[0])  # the mean must lie in range; tails are clipped
    elif kind == "uniform":
        if numbers[0] > numbers[1]:
            raise ValueError(f"expected uniform lo <= hi, got {_call(kind, numbers)}")
        support = numbers
    else:
        if not numbers[0] <= numbers[1] <= numbers[2]:
            raise ValueError(f"expected triangular lo <= mode <= hi, got {_call(kind, numbers)}")
        if numbers[0] == numbers[2]:  # numpy refuses a triangle of no width; a fixed number says it plainly
            raise ValueError(f"expected triangular lo < hi (or a plain number), got {_call(kind, numbers)}")
        support = (numbers[0], numbers[2])
    if support[0] < low or support[1] > high:
        if kind == "normal":
            raise ValueError(f"expected a normal mean within {_range_text(low, high)}, got {_call(kind, numbers)}")
        over = " over [0, 1]" if kind == "beta" else ""  # the others show their bounds in their arguments
        raise ValueError(f"expected a distribution within {_range_text(low, high)}, got {_call(kind, numbers)}{over}")
    _check_numpy_samples(kind, numbers)
    return Distribution(kind, numbers, low, high)


def _empirical(body: Any, low: float, high: float) -> Distribution:
    """Weighted samples: values in the parameter's range, weights >= 0 and not all 0 (equal if left out)."""
    if not isinstance(body, dict) or "values" not in body or set(body) - set(EMPIRICAL_KEYS):
        raise ValueError(f"expected empirical to take a mapping of {', '.join(EMPIRICAL_KEYS)} (values required), "
                         f"got {show(body)}")
    values, weights, joint = body["values"], body.get("weights"), body.get("joint")
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_SAMPLES:
        raise ValueError(f"expected empirical values to be a list of 1 to {MAX_SAMPLES:,} numbers, got {show(values)}")
    samples = tuple(_number(v) for v in values)
    outside = [i for i, v in enumerate(samples) if not low <= v <= high]
    if outside:
        i = outside[0]
        raise ValueError(f"expected empirical values within {_range_text(low, high)}, got values[{i}] = {samples[i]:g}")
    if weights is None:
        weights = [1.0] * len(samples)
    if not isinstance(weights, list) or len(weights) != len(samples):
        raise ValueError(f"expected empirical weights to be a list of {len(samples)} numbers, one per value, "
                         f"got {show(weights)}")
    raw_weights = tuple(_number(w) for w in weights)
    negative = [i for i, w in enumerate(raw_weights) if w < 0]
    if negative:
        i = negative[0]
        raise ValueError(f"expected empirical weights >= 0, got weights[{i}] = {raw_weights[i]:g}")
    total = math.fsum(raw_weights)
    if total <= 0:
        raise ValueError("expected empirical weights with a positive sum, got all 0")
    if joint is not None and (not isinstance(joint, str) or not joint.isidentifier()):
        raise ValueError(f"expected empirical joint to be a group name (letters, digits, _), got {show(joint)}")
    return Distribution(EMPIRICAL, samples, low, high, raw_weights, joint)


def _check_numpy_samples(kind: str, numbers: tuple[float, ...]) -> None:
    """Refuse at load whatever numpy's sampler would refuse at run time, where no location is known.

    The checks above are meant to cover numpy's; one trial draw makes sure of it.
    """
    import numpy as np  # loading a scenario with no distribution (sim show) needs no numpy

    try:
        getattr(np.random.default_rng(0), kind)(*numbers, size=1)
    except (ValueError, OverflowError) as err:
        raise ValueError(f"expected arguments numpy can sample from, got {_call(kind, numbers)} ({err})") from None


def param(low: float = 0.0, high: float = 1.0) -> Any:
    """A parameter type: a number in [low, high] or a distribution that fits there."""

    def validate(value: Any) -> float | Distribution:
        return parameter_value(value, low, high)

    return Annotated[
        float | Distribution, PlainValidator(validate), PlainSerializer(parameter_yaml),
        WithJsonSchema(parameter_json_schema(low, high)),
    ]


def parameter_value(value: Any, low: float, high: float) -> float | Distribution:
    """A parameter as written (a number or a distribution) checked to lie in [low, high]."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, dict):
        return _distribution(value, low, high)
    number = _number(value)
    if not low <= number <= high:
        raise ValueError(f"expected a number in {_range_text(low, high)}, got {number:g}")
    return number


def parameter_yaml(value: float | Distribution) -> Any:
    return value.as_yaml() if isinstance(value, Distribution) else value


def is_distribution(value: Any) -> bool:
    """Whether a written mapping is one distribution (`{beta: [2, 2]}`: a kind and its list, or
    `empirical` and its mapping) rather than ids mapped to parameters (`{beta: 0.5}`)."""
    if isinstance(value, Distribution):
        return True
    if not isinstance(value, dict) or len(value) != 1:
        return False
    kind, args = next(iter(value.items()))
    return (kind in DISTRIBUTION_SHAPES and isinstance(args, list)) or (kind == EMPIRICAL and isinstance(args, dict)
                                                                         and "values" in args)


def parameter_json_schema(low: float, high: float) -> dict[str, Any]:
    """What `param(low, high)` accepts, for editors (`sim schema`): a number in range or a distribution."""
    number: dict[str, Any] = {"type": "number"}
    if math.isfinite(low):
        number["minimum"] = low
    if math.isfinite(high):
        number["maximum"] = high
    shapes: dict[str, Any] = {
        kind: {"type": "array", "items": {"type": "number"}, "minItems": n, "maxItems": n}
        for kind, n in DISTRIBUTION_SHAPES.items()
    }
    shapes[EMPIRICAL] = {
        "type": "object",
        "properties": {
            "values": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": MAX_SAMPLES},
            "weights": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1, "maxItems": MAX_SAMPLES},
            "joint": {"type": "string"},
        },
        "required": ["values", "weights"],
        "additionalProperties": False,
    }
    distribution = {"type": "object", "properties": shapes, "minProperties": 1, "maxProperties": 1, "additionalProperties": False}
    return {"anyOf": [number, distribution]}


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


def sampled_parameters(node: Any) -> Iterator[tuple[str, Distribution]]:
    """Every distribution in a loaded scenario with its dotted path (`state.x.drivers[0].delta`),
    in field order: the paths the results name `param.<path>`."""
    return ((path, value) for path, value in numbers(node) if isinstance(value, Distribution))


def sampled_text(node: Any, leave_out: Iterator[str] | list[str] = ()) -> str:
    """`sampled per run: actors.x.resolve ~ beta(5, 3), ...` for summaries, or "" when nothing is sampled."""
    skip = set(leave_out)
    shown = [f"{path} ~ {dist}" for path, dist in sampled_parameters(node) if path not in skip]
    return f"sampled per run: {', '.join(shown)}" if shown else ""
