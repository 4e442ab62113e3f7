"""The scenario language: typed schema, safe YAML with locations, extends/overrides, references.

Names load on first use (PEP 562), so `from sim.scenario import scenario_names` or a
`ScenarioError` handler does not import pydantic and the schema: the command line's start-up
stays light (docs/design.md, "Performance"). Import from here as always; nothing else changes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the submodule that defines it
_EXPORTS = {
    "Distribution": "params",
    "dump_scenario": "loader",
    "find_scenario": "catalog",
    "load_digest": "sources",
    "load_scenario": "loader",
    "parse_assignment": "loader",
    "Problem": "errors",
    "read_description": "catalog",
    "Scenario": "schema",
    "ScenarioError": "errors",
    "scenario_dir": "catalog",
    "scenario_names": "catalog",
}

__all__ = sorted(_EXPORTS, key=str.lower)

if TYPE_CHECKING:
    from .catalog import find_scenario, read_description, scenario_dir, scenario_names
    from .errors import Problem, ScenarioError
    from .loader import dump_scenario, load_scenario, parse_assignment
    from .params import Distribution
    from .schema import Scenario
    from .sources import load_digest


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
