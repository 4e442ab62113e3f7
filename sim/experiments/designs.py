"""Sweep designs: which parameter values each sweep point gets (EMA Workbench calls them uncertainties).

A factor is one varied dotted path with its SPEC: `lo:hi:n` (n evenly spaced values, both ends
included), `lo:hi` (a range with no count, for the designs that draw from it) or `v1,v2,...` (the
values as listed; a single value fixes the path for every point).

- `grid`: the full product of every factor's values; the first factor varies slowest.
- `lhs` and `sobol`: `points` points drawn in the box [low, high] of each factor with
  `scipy.stats.qmc` (Latin hypercube; scrambled Sobol'). A range `lo:hi` or `lo:hi:n` spans
  [lo, hi] (a count n is for grids only); a list spans [min, max]; a single value stays fixed.
  The draws come from the sweep's root seed, so the same seed gives the same design.
- `saltelli` and `morris`: the designs `sim sensitivity` analyses (salib_designs): from `points`
  base samples (Sobol') or trajectories (Morris), SALib lays out N(d+2) or N(d+1) points in the
  same box, in the order its analysis expects.

Paths whose current value in the scenario is an integer (`rounds`) get values rounded half up.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DESIGNS = ("grid", "lhs", "sobol")
ANALYSIS_DESIGNS = ("saltelli", "morris")  # laid out for `sim sensitivity`, analysed in that order
MAX_POINTS = 100_000
MAX_LEVELS = 10_000
# The design's random stream: a one-element spawn key, apart from the blocks' (point, block) keys.
DESIGN_STREAM = 2**32 - 1

VarySpec = Mapping[str, Any] | Sequence[str]


class SweepInputError(ValueError):
    """Bad sweep input (a SPEC, a design, a count): reported as `error: ...` with exit code 2."""


class SweepWarning(UserWarning):
    """Something the user should know that does not stop the sweep (a failed point, a design note)."""


@dataclass(frozen=True)
class Factor:
    """One varied path: its SPEC as written, its grid values, its range, whether it is an integer,
    and whether it is a bare range `lo:hi` (no count: it cannot make a grid)."""

    path: str
    spec: str
    values: tuple[float, ...]
    integer: bool = False
    uncounted: bool = False

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def as_integer(self) -> Factor:
        return Factor(self.path, self.spec, tuple(float(_round_half_up(v)) for v in self.values), True, self.uncounted)


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def _number(path: str, spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SweepInputError(f"--vary {path}={spec}: '{text.strip()}' is not a number {_SPEC_HELP}") from None
    if not math.isfinite(value):
        raise SweepInputError(f"--vary {path}={spec}: expected a finite number, got '{text.strip()}'")
    return value


_SPEC_HELP = "(expected SPEC lo:hi:n, e.g. 0.2:0.9:8, lo:hi for a drawn design, or v1,v2,..., e.g. 0.3,0.6,0.9)"


def parse_spec(path: str, spec: str) -> Factor:
    """A factor from `lo:hi:n`, `lo:hi` or `v1,v2,...`; SweepInputError says what is wrong."""
    text = spec.strip()
    if not text:
        raise SweepInputError(f"--vary {path}=: empty SPEC {_SPEC_HELP}")
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise SweepInputError(f"--vary {path}={spec}: a range is lo:hi or lo:hi:n, got {len(parts)} parts {_SPEC_HELP}")
        lo, hi = _number(path, spec, parts[0]), _number(path, spec, parts[1])
        if len(parts) == 2:
            return Factor(path, spec, (lo, hi), uncounted=True)
        try:
            n = int(parts[2])
        except ValueError:
            raise SweepInputError(f"--vary {path}={spec}: the count n must be a whole number, got '{parts[2]}'") from None
        if not 2 <= n <= MAX_LEVELS:
            raise SweepInputError(f"--vary {path}={spec}: the count n must be between 2 and {MAX_LEVELS:,}, got {n}")
        return Factor(path, spec, tuple(float(v) for v in np.linspace(lo, hi, n)))
    values = tuple(_number(path, spec, v) for v in text.split(","))
    if len(values) > MAX_LEVELS:
        raise SweepInputError(f"--vary {path}={spec}: at most {MAX_LEVELS:,} values, got {len(values):,}")
    return Factor(path, spec, values)


def parse_vary(vary: VarySpec) -> list[Factor]:
    """Factors from `["PATH=SPEC", ...]` or `{PATH: SPEC}` (a SPEC string, a number or a list of numbers)."""
    if isinstance(vary, str):
        vary = [vary]
    pairs: list[tuple[str, str]] = []
    if isinstance(vary, Mapping):
        for path, spec in vary.items():
            if isinstance(spec, (list, tuple)):
                spec = ",".join(repr(float(v)) for v in spec)
            pairs.append((str(path), str(spec)))
    else:
        for item in vary:
            path, sep, spec = str(item).partition("=")
            if not sep or not path.strip():
                raise SweepInputError(f"--vary {item}: expected PATH=SPEC, e.g. actors.ACTOR.resolve=0.2:0.9:8")
            pairs.append((path.strip(), spec))
    if not pairs:
        raise SweepInputError("a sweep needs at least one --vary PATH=SPEC")
    seen: set[str] = set()
    for path, _ in pairs:
        if path in seen:
            raise SweepInputError(f"--vary {path}: given twice (expected each path once)")
        seen.add(path)
    return [parse_spec(path, spec) for path, spec in pairs]


def design_points(factors: Sequence[Factor], design: str, points: int | None, seed: int) -> list[tuple[float, ...]]:
    """The value of every factor at every point, in point order."""
    if design not in DESIGNS + ANALYSIS_DESIGNS:
        raise SweepInputError(f"--design: expected one of {', '.join(DESIGNS)}, got '{design}'")
    if design == "grid":
        if points is not None:
            raise SweepInputError("--points is for --design lhs or sobol (a grid has one point per combination)")
        for f in factors:
            if f.uncounted:
                raise SweepInputError(f"--vary {f.path}={f.spec}: a grid needs a count, lo:hi:n (e.g. {f.spec}:5) "
                                      "or a list v1,v2,...; a bare range lo:hi is for --design lhs or sobol")
        count = math.prod(len(f.values) for f in factors)
        if count > MAX_POINTS:
            raise SweepInputError(f"the grid has {count:,} points (expected at most {MAX_POINTS:,}); use fewer values or --design lhs")
        return [tuple(p) for p in itertools.product(*(f.values for f in factors))]
    if points is None:
        raise SweepInputError(f"--design {design} needs --points N (how many points to draw)")
    if not 1 <= points <= MAX_POINTS:
        raise SweepInputError(f"--points must be between 1 and {MAX_POINTS:,}, got {points}")
    return _sampled(factors, design, points, seed)


def _sampled(factors: Sequence[Factor], design: str, points: int, seed: int) -> list[tuple[float, ...]]:
    varied = [i for i, f in enumerate(factors) if not f.fixed]
    if not varied:
        raise SweepInputError(f"--design {design} needs at least one range to draw from (every --vary has a single value)")
    unit = _unit_sample(design, len(varied), points, seed)
    if len(unit) > MAX_POINTS:
        raise SweepInputError(f"--design {design} with {points} base samples lays out {len(unit):,} points "
                              f"(expected at most {MAX_POINTS:,}); use fewer --points")
    points = len(unit)
    columns: list[np.ndarray] = [np.full(points, f.low) for f in factors]
    for k, i in enumerate(varied):
        f = factors[i]
        values = f.low + unit[:, k] * (f.high - f.low)
        if f.integer:
            values = np.clip(np.floor(values + 0.5), f.low, f.high)
        columns[i] = values
    return [tuple(float(c[p]) for c in columns) for p in range(points)]


def _design_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)))


def _rng_keyword(sampler: type) -> str:
    # scipy >= 1.15 names it `rng`; older versions `seed`.
    return "rng" if "rng" in inspect.signature(sampler.__init__).parameters else "seed"


def _unit_sample(design: str, d: int, n: int, seed: int) -> np.ndarray:
    """n points in [0, 1)^d from the seeded sampler (more for the analysis designs: see salib_designs)."""
    if design in ANALYSIS_DESIGNS:
        from .salib_designs import unit_design

        return unit_design(design, d, n, _design_rng(seed))
    from scipy.stats import qmc  # imported here: scipy.stats takes half a second to load

    kind = qmc.LatinHypercube if design == "lhs" else qmc.Sobol
    kwargs: dict[str, Any] = {_rng_keyword(kind): _design_rng(seed)}
    if design == "sobol":
        kwargs["scramble"] = True
    sampler = kind(d, **kwargs)
    if design == "sobol" and n & (n - 1):
        below, above = 1 << (n.bit_length() - 1), 1 << n.bit_length()
        warnings.warn(
            f"--points {n} is not a power of two: Sobol' points are balanced only for powers of two "
            f"(e.g. {below} or {above}); drawing {n} anyway",
            SweepWarning,
            stacklevel=4,
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
        return sampler.random(n)


__all__ = [
    "ANALYSIS_DESIGNS",
    "DESIGNS",
    "Factor",
    "MAX_POINTS",
    "SweepInputError",
    "SweepWarning",
    "design_points",
    "parse_spec",
    "parse_vary",
]
