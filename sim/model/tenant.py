"""A Microsoft 365 tenant: its objects, the source capacities its jobs share, its Exchange path
(EWS or Microsoft Graph, switchable on a date) and its daily RU budget window.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 23: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_managing_organizations.html
vb365 fact 40: https://www.veeam.com/kb4820
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim import defaults as d
from sim.defaults import DAY_S
from sim.model.throttle import RequestBudget
from sim.scenario.schema import TenantSpec
from sim.workload.table import ObjectTable

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
        "ews_budget",
        "exchange_api",
        "exchange_item_bytes",
        "exchange_items_per_s",
        "exchange_thread_bps",
        "first_object",
        "graph_budget",
        "idx",
        "name",
        "objects",
        "res_egress",
        "res_ews_budget",
        "res_ews_conn",
        "res_graph",
        "res_ingress",
        "res_ru",
        "res_teams",
        "res_workload",
        "ru_budget",
        "ru_per_day",
        "ru_per_min",
        "scope_rows",
        "spec",
        "teams_budget",
    )

    def __init__(
        self,
        idx: int,
        name: str,
        objects: ObjectTable,
        first_object: int,
        spec: TenantSpec | None = None,
    ) -> None:
        self.idx = idx
        self.spec = spec
        self.exchange_api: str = spec.exchange_api if spec is not None else d.EXCHANGE_API
        """The Exchange path of the tasks made from now on ('ews' or 'graph')."""
        self.exchange_thread_bps = d.THREAD_BPS_OF_WORKLOAD["exchange"]
        self.exchange_items_per_s = d.ITEMS_PER_S_OF_WORKLOAD["exchange"]
        """Exchange per-thread ceilings (the calibration's): an EWS connection's worth."""
        ex = objects.workload == 0  # defaults.WORKLOADS[0] == "exchange"
        n_items = float(objects.items[ex].sum()) if len(objects) else 0.0
        self.exchange_item_bytes = (
            float(objects.size_bytes[ex].sum()) / n_items
            if n_items > 0
            else d.MEAN_ITEM_BYTES_OF_TYPE["mailbox"]
        )
        """Mean bytes per Exchange item of the tenant's inventory: the tenant-wide Exchange
        coefficients use it (``limits.ews_requests_per_byte``)."""
        self.res_ews_conn = 0
        self.res_ews_budget = 0
        self.res_graph = 0
        self.ews_budget: RequestBudget | None = None
        self.graph_budget: RequestBudget | None = None
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
        self.scope_rows: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
        """(workload indices, day) -> the tenant's rows of those workloads that joined on that
        day (``job.job_scope``: jobs of the same workloads share them)."""


def switch_exchange_api(world: Any, tenant: str, api: str) -> None:
    """A timeline event: the tenant's Exchange objects go through ``api`` from now on. Tasks
    already made keep their path (a running object finishes as it started); the next sessions
    read through the new one (EWS is turned off tenant by tenant from 1 October 2026, vb365
    fact 40)."""
    for tn in world.tenants:
        if tn.name == tenant:
            before = tn.exchange_api
            tn.exchange_api = api
            world.events.append(
                {
                    "t": world.env.now,
                    "event": "exchange_api",
                    "tenant": tenant,
                    "api": api,
                    "before": before,
                }
            )
            return
    raise ValueError(f"unknown tenant {tenant!r}")


def daily_ru_budget(
    env: simpy.Environment, sharing: FluidSharing, events: list[dict[str, Any]], tn: Tenant
) -> Generator[simpy.Event, Any, None]:
    """The SharePoint/OneDrive RU budget per day (vb365 fact 26): checked every minute (the
    budget's own granularity); once spent, the tenant's RU capacity is 0 until the next daily
    window starts (``tenants[].ru_day_start``, INFERRED midnight)."""
    r = tn.res_ru
    per_s = tn.ru_per_min / 60.0
    start = float(tn.spec.ru_day_start) if tn.spec is not None else d.RU_DAY_START_S
    day_start_used = 0.0
    day = int((env.now - start) // DAY_S)
    spent_today = False
    while True:
        yield env.timeout(60.0)
        sharing._advance()
        today = int((env.now - start) // DAY_S)
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
