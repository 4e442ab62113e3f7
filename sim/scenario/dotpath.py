"""Dotted paths into a scenario: `actors.south_korea.resolve`, `state.x.drivers[1].delta`.

The syntax is the one the results already use for sampled parameters (`param.<path>`): keys
joined by dots, list items as `[i]`. Ids may contain dots (`red_lines.south_korea.precision_weapons`):
where a mapping holds a key spanning several dot-separated parts, the longest one wins.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from .errors import did_you_mean
from .yamlio import Key, dotted

_PART = re.compile(r"^(?P<name>[^\[\]]*)(?P<indexes>(?:\[\d+\])*)$")


class PathError(ValueError):
    """A path that does not fit the scenario: `path` is how far it got, `str()` what is wrong."""

    def __init__(self, path: tuple[Key, ...], message: str):
        super().__init__(message)
        self.path = path


def _parts(text: str) -> list[tuple[str, list[int]]]:
    """`drivers[1].delta` -> [('drivers', [1]), ('delta', [])]; refuses anything else."""
    parts = []
    for part in text.split("."):
        match = _PART.match(part)
        if match is None or not match["name"]:
            raise PathError((), f"malformed path (expected KEY or KEY[INDEX] between dots, got '{part}' in '{text}')")
        parts.append((match["name"], [int(i) for i in re.findall(r"\d+", match["indexes"])]))
    return parts


def parse_path(data: Any, text: str, create: bool = False) -> tuple[Key, ...]:
    """The keys of `text` in `data` (plain data, as loaded from YAML or dumped from a scenario).

    Names must exist unless `create` (then a missing name starts a new mapping there, for
    `--set` to fill); list indexes must always exist. PathError says what was expected.
    """
    parts = _parts(text.strip())
    keys: list[Key] = []
    node: Any = data
    i = 0
    while i < len(parts):
        key, i = _longest_key(node, parts, i)
        node = _step(node, key, tuple(keys), create)
        keys.append(key)
        for index in parts[i - 1][1]:
            node = _index(node, index, tuple(keys))
            keys.append(index)
    return tuple(keys)


def _longest_key(node: Any, parts: list[tuple[str, list[int]]], i: int) -> tuple[str, int]:
    """The longest run of parts from `i` that is a key of `node` (ids may contain dots); an index ends a run."""
    if isinstance(node, dict):
        for j in range(len(parts), i + 1, -1):
            if any(indexes for _, indexes in parts[i : j - 1]):
                continue
            key = ".".join(name for name, _ in parts[i:j])
            if key in node:
                return key, j
    return parts[i][0], i + 1


def _step(node: Any, key: str, where: tuple[Key, ...], create: bool) -> Any:
    if isinstance(node, dict):
        if key in node:
            return node[key]
        if create:
            return None
        known = [str(k) for k in node]
        raise PathError(
            (*where, key),
            f"unknown key '{key}' (expected one of: {', '.join(known)}){did_you_mean(key, known)}",
        )
    if node is None and create:
        return None
    if isinstance(node, list):
        raise PathError((*where, key), f"cannot look up '{key}' in a list (expected an item such as {_at(where)}[0], got .{key})")
    raise PathError((*where, key), f"cannot look up '{key}' inside {_kind(node)} (expected a mapping at {_at(where)})")


def _index(node: Any, index: int, where: tuple[Key, ...]) -> Any:
    if not isinstance(node, list):
        raise PathError((*where, index), f"cannot index {_kind(node)} (expected a list at {_at(where)})")
    if index >= len(node):
        expected = f"an index from 0 to {len(node) - 1}" if node else "no index: the list is empty"
        raise PathError((*where, index), f"no item {index} in {_at(where)} (expected {expected}, got {index})")
    return node[index]


def _at(where: tuple[Key, ...]) -> str:
    return dotted(where) or "the top level"


def _kind(node: Any) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    if isinstance(node, bool):
        return "a boolean"
    if isinstance(node, int | float):
        return "a number"
    if isinstance(node, str):
        return "a string"
    return f"a {type(node).__name__}"


def value_at(root: Any, keys: tuple[Key, ...]) -> Any:
    """The value at `keys` in a loaded scenario (models, mappings, lists); KeyError if absent."""
    node = root
    for key in keys:
        if isinstance(node, BaseModel) and isinstance(key, str) and key in type(node).model_fields:
            node = getattr(node, key)
        elif isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            raise KeyError(dotted(keys))
    return node
