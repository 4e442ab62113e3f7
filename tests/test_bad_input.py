"""Hostile or broken input to the loader (issue 11, items 11-13 and 15): refused cleanly, never hung.

Each case states what the user sees: exit code 2, one `error: ` line naming the file (and,
where the problem is inside it, the line, column and path), no traceback, nothing quoted
from a file that is not a scenario. Nothing here is timed: the size of the work is counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import UserDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import Problem, ScenarioError, load_scenario
from sim.scenario.merge import merge
from sim.scenario.params import DISTRIBUTION_SHAPES, param
from sim.scenario.yamlio import MAX_BYTES, parse_yaml

REPO = Path(__file__).resolve().parents[1]


def sim_cli(*args: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def refused(*args: str, cwd: Path = REPO) -> str:
    """The one error line of a command that must exit 2 without a traceback."""
    result = sim_cli(*args, cwd=cwd)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def only(ref: str | Path) -> Problem:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref)
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0]


# --- 11: extends merges in linear time -------------------------------------------------------


class CountingLocations(UserDict):
    """A location table that counts every key it is asked about or yields, and gives up past a budget.

    Giving up makes a quadratic merge fail at once instead of running for minutes.
    """

    def __init__(self, data: dict, budget: list[int]):
        super().__init__()
        self.data = data
        self.budget = budget

    def _touch(self) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise AssertionError("the merge touched locations more than a few times per key")

    def __getitem__(self, key: Any) -> Any:
        self._touch()
        return self.data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch()
        self.data[key] = value

    def __delitem__(self, key: Any) -> None:
        self._touch()
        del self.data[key]

    def __contains__(self, key: object) -> bool:
        self._touch()
        return key in self.data

    def __iter__(self) -> Any:
        for key in self.data:
            self._touch()
            yield key


def _actors(n: int, resolve: Any, file: str) -> tuple[dict, dict]:
    """`n` actors as the YAML reader would return them (built directly: parsing 10,000 is slow)."""
    data = {"actors": {f"a{i}": {"label": f"A{i}", "resolve": resolve, "hostility": {"a0": 0.5}} for i in range(n)}}
    locations: dict = {}

    def locate(node: Any, path: tuple) -> None:
        locations[path] = (file, len(locations) + 1, 1)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in children:
            locate(child, (*path, key))

    locate(data, ())
    return data, locations


def test_extends_touches_each_location_a_bounded_number_of_times() -> None:
    """10,000 actors, each merged and with one value replaced whole: at most 8 touches per key."""
    n = 10_000
    base, base_locs = _actors(n, 0.5, "parent.yaml")
    over, over_locs = _actors(n, {"beta": [2, 2]}, "child.yaml")
    keys = len(base_locs) + len(over_locs)
    budget = [8 * keys]
    counting_base, counting_over = CountingLocations(base_locs, budget), CountingLocations(over_locs, budget)

    def distributions_replace(path: tuple, old: dict, new: dict) -> bool:
        return path[-1] == "resolve"

    merge(base, counting_base, over, counting_over, distributions_replace)

    assert base["actors"]["a9999"]["resolve"] == {"beta": [2, 2]}
    assert base_locs[("actors", "a9999", "resolve", "beta")][0] == "child.yaml"
    assert ("actors", "a9999", "resolve") in base_locs
    assert all(path[:3] != ("actors", "a1", "resolve") or loc[0] == "child.yaml" for path, loc in base_locs.items())


def test_a_replaced_value_forgets_the_parent_locations_inside_it() -> None:
    base, base_locs = parse_yaml("a:\n  x: {beta: [1, 2]}\n  y: 1\n", "parent.yaml")
    over, over_locs = parse_yaml("a:\n  x: 0.5\n", "child.yaml")
    merge(base, base_locs, over, over_locs, lambda path, old, new: False)
    assert base == {"a": {"x": 0.5, "y": 1}}
    assert base_locs == {(): ("parent.yaml", 1, 1), ("a",): ("child.yaml", 1, 1),
                         ("a", "x"): ("child.yaml", 2, 3), ("a", "y"): ("parent.yaml", 3, 3)}
