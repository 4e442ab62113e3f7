"""Escalation scenario simulator: red lines, commitments and action-response rounds over many runs."""

from .scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"


def __getattr__(name: str):
    # The engine and its dependencies load on first use, so `sim list` and friends start fast.
    if name == "run":
        from .api import run

        return run
    if name == "EscalationModel":
        from .engine.model import EscalationModel

        return EscalationModel
    if name == "sweep":
        from .experiments.sweeps import sweep

        return sweep
    raise AttributeError(name)


__all__ = ["EscalationModel", "Scenario", "ScenarioError", "load_scenario", "run", "sweep", "__version__"]
