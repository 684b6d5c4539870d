"""poolsim: a discrete-event simulator of Veeam Backup for Microsoft 365 proxy pools.

The public API: ``load_scenario`` to read and validate a scenario file, ``simulate`` to run it
once, ``replicate``, ``compare``, ``sweep`` and ``size`` for experiments over replications
(``make_executor`` for local processes or Dask), and result objects that expose pandas DataFrames.
``World`` is one run's model, for stepping it and making lifecycle requests while it runs
(``world.start()``, ``world.env.run(until=...)``, ``world.lifecycle.request(...)``).
"""

from sim.experiment import (
    Comparison,
    Replications,
    RunResult,
    SizeResult,
    SweepResult,
    compare,
    make_executor,
    replicate,
    simulate,
    size,
    sweep,
)
from sim.model.world import World
from sim.scenario import LoadedScenario, ScenarioError, load_scenario, load_scenario_text

__version__ = "0.1.0"

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
