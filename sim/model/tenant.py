"""A Microsoft 365 tenant: its objects and the source capacities its jobs share."""

from __future__ import annotations

import numpy as np

from sim import defaults as d
from sim.model.throttle import RequestBudget
from sim.scenario.schema import TenantSpec
from sim.workload.objects import ObjectTable


def _by_licence_tier(
    spec: TenantSpec, given: float | None, tiers: tuple[tuple[int | None, float], ...]
) -> float:
    """The scenario's value, else the tier's for the tenant's licence count (vb365 fact 26)."""
    if given is not None:
        return float(given)
    licences = spec.licences or spec.users
    for upper, ru in tiers:
        if upper is None or licences < upper:
            return ru
    raise AssertionError("unreachable")


def sharepoint_ru_per_min(spec: TenantSpec) -> float:
    """SharePoint/OneDrive RU budget per minute (vb365 fact 26)."""
    return _by_licence_tier(spec, spec.sharepoint_ru_per_min, d.SP_RU_PER_MIN_BY_LICENCES)


def sharepoint_ru_per_day(spec: TenantSpec) -> float:
    """SharePoint/OneDrive RU budget per day (vb365 fact 26)."""
    return _by_licence_tier(spec, spec.sharepoint_ru_per_day, d.SP_RU_PER_DAY_BY_LICENCES)


class Tenant:
    """A tenant's objects (global ids from ``first_object``) and its resource indices."""

    __slots__ = (
        "appear_day",
        "first_object",
        "idx",
        "name",
        "objects",
        "res_egress",
        "res_ingress",
        "res_ru",
        "res_teams",
        "res_workload",
        "ru_budget",
        "ru_per_day",
        "ru_per_min",
        "teams_budget",
    )

    def __init__(self, idx: int, name: str, objects: ObjectTable, first_object: int) -> None:
        self.idx = idx
        self.name = name
        self.objects = objects
        self.first_object = first_object
        self.res_egress = 0
        self.res_workload = [0] * len(d.WORKLOADS)
        self.res_ru = 0
        self.res_teams = 0
        self.res_ingress = 0
        self.ru_per_min = 0.0
        self.ru_per_day = 0.0
        self.ru_budget: RequestBudget | None = None
        """Request-level RU budget ('request' throttling), else None (a fluid cap)."""
        self.teams_budget: RequestBudget | None = None
        self.appear_day = np.zeros(len(objects), dtype=np.int64)
        """Day (0-based) each object joins the tenant; 0 for the initial inventory."""
