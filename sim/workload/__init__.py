"""The workload stage: every tenant's Microsoft 365 objects, built before any World.

``build_workload(scenario, seed)`` gives each tenant its inventory (its CSV if it names one,
else generated, ``generate.py``) plus the objects that join it day by day. The draws come from
the tenant's own stream (kind ``WORKLOAD_STREAM``, the ``sim.model.rng.WORKLOAD`` kind), so they
do not depend on the policy: compared policies see the same objects (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from sim.scenario.loader import LoadedScenario
    from sim.scenario.schema import TenantSpec
    from sim.workload.generate import generate_objects
    from sim.workload.inventory import read_inventory_csv
    from sim.workload.table import TYPE_INDEX, WORKLOAD_INDEX, ObjectTable

# numpy and the stage's modules are imported on first use: `poolsim validate` imports
# sim.workload.check, which must not pay for numpy (tests/test_lazy_imports.py)
_LAZY = {
    "generate_objects": "sim.workload.generate",
    "read_inventory_csv": "sim.workload.inventory",
    "TYPE_INDEX": "sim.workload.table",
    "WORKLOAD_INDEX": "sim.workload.table",
    "ObjectTable": "sim.workload.table",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TYPE_INDEX",
    "WORKLOAD_INDEX",
    "ObjectTable",
    "TenantWorkload",
    "Workload",
    "build_workload",
    "generate_objects",
    "read_inventory_csv",
    "tenant_objects",
]

WORKLOAD_STREAM = 1
"""Stream kind of the inventory draws: equal to ``sim.model.rng.WORKLOAD`` (a test checks)."""


@dataclass(frozen=True)
class TenantWorkload:
    """One tenant's objects (initial inventory, then the ones that join) and each one's day."""

    objects: ObjectTable
    appear_day: np.ndarray
    """Day (0-based) each object joins the tenant; 0 for the initial inventory."""


@dataclass(frozen=True)
class Workload:
    """Every tenant's objects, in the scenario's tenant order."""

    tenants: tuple[TenantWorkload, ...]

    @property
    def n_objects(self) -> int:
        return sum(len(t.objects) for t in self.tenants)


def tenant_objects(spec: TenantSpec, base_dir: Path, rng: np.random.Generator) -> ObjectTable:
    """The tenant's inventory: its CSV if it names one, else generated."""
    from sim.workload.generate import generate_objects
    from sim.workload.inventory import read_inventory_csv

    if spec.inventory is not None:
        return read_inventory_csv(base_dir / spec.inventory)
    return generate_objects(spec, rng)


def build_workload(scenario: LoadedScenario, seed: int | None = None) -> Workload:
    """The objects of every tenant of ``scenario`` for ``seed`` (default: the scenario's)."""
    import numpy as np

    from sim.workload.generate import with_growth

    sc = scenario.spec
    root = sc.seed if seed is None else seed
    tenants = []
    for i, ts in enumerate(sc.tenants):
        rng = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(WORKLOAD_STREAM, i)))
        objs = tenant_objects(ts, scenario.base_dir, rng)
        objs, appear = with_growth(objs, ts.growth_per_day, sc.simulation.days, rng)
        tenants.append(TenantWorkload(objs, appear))
    return Workload(tuple(tenants))
