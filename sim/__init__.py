"""Escalation scenario simulator: red lines, commitments and action-response rounds over many runs."""

import importlib

from .scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"


def __getattr__(name: str):
    # The engine and its dependencies load on first use, so `sim list` and friends start fast.
    if name == "run":
        from .api import run

        return run
    if name == "EscalationModel":
        from .model import EscalationModel

        return EscalationModel
    if name == "sweep":  # the sim.sweep module, callable as the sweep function (see sim/sweep.py)
        return importlib.import_module(".sweep", __name__)
    raise AttributeError(name)


__all__ = ["EscalationModel", "Scenario", "ScenarioError", "load_scenario", "run", "sweep", "__version__"]
