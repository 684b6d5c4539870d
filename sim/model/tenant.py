"""A Microsoft 365 tenant: its objects and the source capacities its jobs share."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim import defaults as d
from sim.defaults import DAY_S
from sim.model.throttle import RequestBudget
from sim.scenario.schema import TenantSpec
from sim.workload.objects import ObjectTable

if TYPE_CHECKING:
    from sim.model.sharing import FluidSharing


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


def daily_ru_budget(
    env: simpy.Environment, sharing: FluidSharing, events: list[dict[str, Any]], tn: Tenant
) -> Generator[simpy.Event, Any, None]:
    """The SharePoint/OneDrive RU budget per day (vb365 fact 26): checked every minute (the
    budget's own granularity); once spent, the tenant's RU capacity is 0 until midnight."""
    r = tn.res_ru
    per_s = tn.ru_per_min / 60.0
    day_start_used = 0.0
    day = 0
    spent_today = False
    while True:
        yield env.timeout(60.0)
        sharing._advance()
        today = int(env.now // DAY_S)
        if today != day:
            day = today
            day_start_used = float(sharing.consumed[r])
            if spent_today:
                spent_today = False
                if tn.ru_budget is not None:
                    tn.ru_budget.hold(False)
                else:
                    sharing.set_capacity(r, per_s)
                events.append({"t": env.now, "event": "ru_budget_reset", "tenant": tn.name})
        spent = float(sharing.consumed[r]) - day_start_used
        if spent >= tn.ru_per_day and not spent_today:
            spent_today = True
            if tn.ru_budget is not None:
                tn.ru_budget.hold(True)
            else:
                sharing.set_capacity(r, 0.0)
            events.append({"t": env.now, "event": "ru_budget_spent", "tenant": tn.name})
