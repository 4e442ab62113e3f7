"""Escalation scenario simulator: red lines, commitments and action-response rounds over many runs."""

from .scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["Scenario", "ScenarioError", "load_scenario", "__version__"]
