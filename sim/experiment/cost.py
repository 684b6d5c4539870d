"""What a run is expected to cost, relative to other runs, read from its scenario alone.

A sweep, a comparison or a set of replications hands its runs to an executor most costly first
(longest processing time first, ``lpt_order``): on a few workers, a long run started last would
run alone at the end while the others wait. The estimate only orders runs; it never changes what
a run computes (each run's randomness comes from its own seed), and the results are put back in
their places whatever the order.

The estimate (``run_cost``) is the simulation's work, in tasks: a synthetic scenario's arrivals,
or the tenants' objects times the days simulated (every object in a backup job's scope is a
task a day, and the model's time goes into tasks). It needs no run and costs microseconds, and a
wrong estimate only costs balance, never numbers.

The policy is not part of it: what a policy costs depends on the scenario. Measured (CPU s of
one run of the quickstart's incremental night, 32 threads on proxy-01, AMD EPYC), against
``pull_fifo``: at 45,000 users ``pull_largest_first`` 1.41x, ``least_work_left`` 1.50x,
``least_active_threads`` 0.68x, ``jsq`` 0.72x; at 10,000 users ``pull_largest_first`` 1.14x,
``least_active_threads`` 1.58x, ``jsq`` 1.94x. No factor per policy would order both right,
so runs that differ only by policy (or by thread counts) keep their given order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.scenario import LoadedScenario


def _inventory_rows(path: Path) -> int:
    """Data rows of an inventory CSV (lines after the header); 0 when unreadable."""
    try:
        with open(path, "rb") as handle:
            return max(0, sum(1 for _ in handle) - 1)
    except OSError:
        return 0


def _objects(loaded: LoadedScenario) -> int:
    """Objects of every tenant: an inventory's rows, or the generated counts."""
    from sim.scenario.lint import tenant_counts

    total = 0
    for tenant in loaded.spec.tenants:
        if tenant.inventory is not None:
            total += _inventory_rows(loaded.base_dir / tenant.inventory)
        else:
            total += sum((tenant_counts(tenant) or {}).values())
    return total


def run_cost(loaded: LoadedScenario) -> float:
    """Estimated cost of one run of ``loaded``, in tasks; at least 1."""
    spec = loaded.spec
    if spec.synthetic is not None:
        work = float(spec.synthetic.tasks)
    else:
        work = float(_objects(loaded)) * spec.simulation.days
    return max(1.0, work)


def lpt_order(costs: Sequence[float]) -> list[int]:
    """Indices of ``costs``, most costly first; equal costs keep their order (a stable sort),
    so the order is the same on every machine."""
    return sorted(range(len(costs)), key=lambda i: -costs[i])
