"""Running scenarios: one run, replications, policy comparisons, sweeps and capacity search."""

from sim.experiment.compare import Comparison, compare
from sim.experiment.executors import DaskExecutor, Executor, ProcessExecutor, make_executor
from sim.experiment.replicate import Replications, replicate, replication_seeds
from sim.experiment.run import RunResult, simulate
from sim.experiment.sizing import SizeResult, size
from sim.experiment.sweep import SweepResult, sweep

__all__ = [
    "Comparison",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "Replications",
    "RunResult",
    "SizeResult",
    "SweepResult",
    "compare",
    "make_executor",
    "replicate",
    "replication_seeds",
    "simulate",
    "size",
    "sweep",
]
