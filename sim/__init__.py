"""poolsim: a discrete-event simulator of Veeam Backup for Microsoft 365 proxy pools.

The public API: ``load_scenario`` to read and validate a scenario file, ``simulate`` to run it
once, ``replicate``, ``compare``, ``sweep`` and ``size`` for experiments over replications
(``make_executor`` for local processes or Dask), and result objects that expose pandas DataFrames.
``World`` is one run's model, for stepping it and making lifecycle requests while it runs
(``world.start()``, ``world.env.run(until=...)``, ``world.lifecycle.request(...)``).

The names are loaded on first use (PEP 562 ``__getattr__``): ``import sim.units`` or
``poolsim --help`` does not import pandas, matplotlib, SimPy or Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.provenance import __version__

if TYPE_CHECKING:
    from sim.experiment.compare import Comparison, compare
    from sim.experiment.executors import make_executor
    from sim.experiment.replicate import Replications, replicate
    from sim.experiment.run import RunResult, simulate
    from sim.experiment.sizing import SizeResult, size
    from sim.experiment.sweep import SweepResult, sweep
    from sim.model.world import World
    from sim.scenario import LoadedScenario, ScenarioError, load_scenario, load_scenario_text

_LAZY = {
    "Comparison": "sim.experiment",
    "Replications": "sim.experiment",
    "RunResult": "sim.experiment",
    "SizeResult": "sim.experiment",
    "SweepResult": "sim.experiment",
    "compare": "sim.experiment",
    "make_executor": "sim.experiment",
    "replicate": "sim.experiment",
    "simulate": "sim.experiment",
    "size": "sim.experiment",
    "sweep": "sim.experiment",
    "World": "sim.model.world",
    "LoadedScenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "load_scenario": "sim.scenario",
    "load_scenario_text": "sim.scenario",
}
"""Public name -> the module it is loaded from on first use."""

__all__ = [
    "Comparison",
    "LoadedScenario",
    "Replications",
    "RunResult",
    "ScenarioError",
    "SizeResult",
    "SweepResult",
    "World",
    "__version__",
    "compare",
    "load_scenario",
    "load_scenario_text",
    "make_executor",
    "replicate",
    "simulate",
    "size",
    "sweep",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use and keep it (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
