"""Escalation scenario simulator: red lines, commitments and action-response rounds over many runs.

The Python API (docs/design.md, "Python API"): `load_scenario`, `run`, `compare`, `sweep`,
`sensitivity`, `robust`, `backtest`, `forecast`, `trace`, `report` and `measures`. Each loads
on first use, so `import sim` (and `sim --help`) imports nothing heavy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_API = {
    "load_scenario": "sim.scenario",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "run": "sim.api",
    "RunResult": "sim.api",
    "compare": "sim.api",
    "backtest": "sim.api",
    "forecast": "sim.api",
    "trace": "sim.api",
    "report": "sim.api",
    "measures": "sim.api",
    "sweep": "sim.experiments.sweeps",
    "sensitivity": "sim.experiments.sensitivity",
    "robust": "sim.experiments.robust",
    "EscalationModel": "sim.engine.model",
}

if TYPE_CHECKING:
    from .api import RunResult, backtest, compare, forecast, measures, report, run, trace
    from .engine.model import EscalationModel
    from .experiments.robust import robust
    from .experiments.sensitivity import sensitivity
    from .experiments.sweeps import sweep
    from .scenario import Scenario, ScenarioError, load_scenario


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)


def __dir__() -> list[str]:
    return sorted({"__version__", *_API})


class _Package(types.ModuleType):
    """`sim.backtest` and `sim.report` are API functions, and also the names of subpackages.
    Importing a subpackage sets it as an attribute of its parent, which would hide the function;
    this package keeps the function (the subpackages stay importable: `from sim.report.plots
    import ...` goes through sys.modules)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("backtest", "report") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = sorted(_API)
