"""Which points may share a model, and how many runs a packed model holds.

A round costs about 4 ms whatever the block's size plus about 5 us per run, so points of 1,000
or 2,000 runs spend about half their CPU on that fixed part. Several such points run as one
model (ensemble.simulate_pack) pay it once. Points may share a model when their scenarios differ
only in per-run parameters: fields that may hold a distribution (`param` in the schema), which
the engine reads per replicate through its parameter store. Any other difference (an integer
such as `rounds`, a rung, an action's detection) changes the model's structure, and such points
run alone. Packing never changes a number: each point draws from its own (point, block)
Generator (engine/streams.py), so results are byte-identical whatever the packing.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ..scenario import Distribution, Scenario
from ..scenario.dotpath import PathError, parse_path
from . import ensemble

TASKS_PER_WORKER = 4  # packed tasks per worker when there are several


class Packable(Protocol):
    @property
    def runs(self) -> int: ...

    @property
    def tasks(self) -> tuple[Any, ...]: ...


P = TypeVar("P", bound=Packable)


def _options(annotation: Any) -> list[Any]:
    """The types an annotation allows: Annotated and unions unwrapped."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _options(arg)]
    return [annotation]


def _child(annotation: Any, key: str | int) -> Any:
    """The annotation of `key` inside a value of type `annotation`, or None."""
    for option in _options(annotation):
        origin = typing.get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel) and isinstance(key, str):
            field = option.model_fields.get(key)
            if field is not None:
                return field.annotation
        elif origin is dict and isinstance(key, str):
            return typing.get_args(option)[1]
        elif origin is list and isinstance(key, int):
            return typing.get_args(option)[0]
    return None


def per_run_path(base: Scenario, path: str) -> bool:
    """Whether the number at `path` is a per-run parameter (a field that may hold a distribution)."""
    try:
        keys = parse_path(base.model_dump(mode="json"), path)
    except PathError:
        return False
    annotation: Any = type(base)
    for key in keys:
        annotation = _child(annotation, key)
        if annotation is None:
            return False
    return Distribution in _options(annotation)


def packable(base: Scenario, paths: Sequence[str], values: Sequence[Sequence[float]]) -> bool:
    """Whether points that differ from `base` only at `paths`, point i taking `values[i]`, may
    share a model: every path whose value varies is a per-run parameter."""
    varying = [path for k, path in enumerate(paths) if len({point[k] for point in values}) > 1]
    return all(per_run_path(base, path) for path in varying)


def pack_runs(total_runs: int, workers: int) -> int:
    """The most runs a packed model holds: a block on one worker; on more, about
    TASKS_PER_WORKER tasks per worker (so the last ones keep every worker busy), at most a block."""
    if workers <= 1:
        return ensemble.BLOCK
    return max(1, min(ensemble.BLOCK, math.ceil(total_runs / (TASKS_PER_WORKER * workers))))


def packs(items: Iterable[P], limit: int, allowed: bool = True) -> Iterator[tuple[P, ...]]:
    """Consecutive items of one block each grouped while their runs stay within `limit`; others
    (and every item when not `allowed`) alone. The order of the items is kept."""
    group: list[P] = []
    runs = 0
    for item in items:
        if not allowed or len(item.tasks) != 1 or item.runs >= limit:
            if group:
                yield tuple(group)
                group, runs = [], 0
            yield (item,)
            continue
        if group and runs + item.runs > limit:
            yield tuple(group)
            group, runs = [], 0
        group.append(item)
        runs += item.runs
    if group:
        yield tuple(group)


def flatten(results: Iterable[Sequence[Any]]) -> Iterator[Any]:
    for group in results:
        yield from group


__all__ = ["pack_runs", "packable", "packs", "per_run_path"]
