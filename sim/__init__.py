"""poolsim: a discrete-event simulator of Veeam Backup for Microsoft 365 proxy pools.

The public API: ``load_scenario`` to read and validate a scenario file, ``simulate`` to run it,
and the result objects that expose pandas DataFrames.
"""

from sim.experiment.run import RunResult, simulate
from sim.scenario import LoadedScenario, ScenarioError, load_scenario, load_scenario_text

__version__ = "0.1.0"

__all__ = [
    "LoadedScenario",
    "RunResult",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "load_scenario_text",
    "simulate",
]
