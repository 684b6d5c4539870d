"""Running scenarios: one run now; replications, comparisons and sweeps build on it."""

from sim.experiment.run import RunResult, simulate

__all__ = ["RunResult", "simulate"]
