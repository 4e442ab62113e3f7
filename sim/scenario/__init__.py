"""The scenario language: typed schema, safe YAML with locations, extends/overrides, references."""

from .errors import Problem, ScenarioError
from .loader import dump_scenario, find_scenario, load_scenario, parse_assignment, scenario_dir, scenario_names
from .params import Distribution
from .schema import Scenario
from .sources import load_digest

__all__ = [
    "Distribution",
    "dump_scenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "find_scenario",
    "load_digest",
    "load_scenario",
    "parse_assignment",
    "scenario_dir",
    "scenario_names",
]
