"""Escalation scenario simulator: red lines, commitments and action-response rounds over many runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import run
    from .engine.model import EscalationModel
    from .experiments.sensitivity import sensitivity
    from .experiments.sweeps import sweep
    from .scenario import Scenario, ScenarioError, load_scenario


def __getattr__(name: str) -> Any:
    # Everything loads on first use, even the scenario schema (pydantic), so `sim --help` and
    # `sim list` start fast (DESIGN section 6); `import sim` alone imports nothing heavy.
    if name in ("Scenario", "ScenarioError", "load_scenario"):
        from . import scenario

        return getattr(scenario, name)
    if name == "run":
        from .api import run

        return run
    if name == "EscalationModel":
        from .engine.model import EscalationModel

        return EscalationModel
    if name == "sensitivity":
        from .experiments.sensitivity import sensitivity

        return sensitivity
    if name == "sweep":
        from .experiments.sweeps import sweep

        return sweep
    raise AttributeError(name)


__all__ = ["EscalationModel", "Scenario", "ScenarioError", "load_scenario", "run", "sensitivity", "sweep", "__version__"]
