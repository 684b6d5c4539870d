"""A Microsoft 365 tenant: its objects and the source capacities its jobs share."""

from __future__ import annotations

from sim import defaults as d
from sim.scenario.schema import TenantSpec
from sim.workload.objects import ObjectTable


def sharepoint_ru_per_min(spec: TenantSpec) -> float:
    """SharePoint/OneDrive RU budget per minute: the scenario's, else by licence tier
    (vb365 fact 26)."""
    if spec.sharepoint_ru_per_min is not None:
        return float(spec.sharepoint_ru_per_min)
    licences = spec.licences or spec.users
    for upper, ru in d.SP_RU_PER_MIN_BY_LICENCES:
        if upper is None or licences < upper:
            return ru
    raise AssertionError("unreachable")


class Tenant:
    """A tenant's objects (global ids from ``first_object``) and its resource indices."""

    __slots__ = ("first_object", "idx", "name", "objects", "res_egress", "res_ru", "res_workload")

    def __init__(self, idx: int, name: str, objects: ObjectTable, first_object: int) -> None:
        self.idx = idx
        self.name = name
        self.objects = objects
        self.first_object = first_object
        self.res_egress = 0
        self.res_workload = [0] * len(d.WORKLOADS)
        self.res_ru = 0
