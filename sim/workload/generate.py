"""Generated inventories: objects per type from users x ratios, lognormal sizes; daily growth.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
"""

from __future__ import annotations

from typing import cast

import numpy as np

from sim import defaults as d
from sim.scenario.schema import ObjectTypeMix, TenantSpec
from sim.workload.table import TYPE_INDEX, ObjectTable


def _mix(spec: TenantSpec, otype: str) -> ObjectTypeMix | None:
    return cast(dict[str, ObjectTypeMix], spec.objects).get(otype)


def _type_param(spec: TenantSpec, otype: str, field: str, default: float) -> float:
    mix = _mix(spec, otype)
    value = getattr(mix, field) if mix is not None else None
    return float(default if value is None else value)


def generate_objects(spec: TenantSpec, rng: np.random.Generator) -> ObjectTable:
    """Generate a tenant's objects: counts from users x per-type ratios, lognormal sizes."""
    types: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    items: list[np.ndarray] = []
    change: list[np.ndarray] = []
    for otype in d.OBJECT_TYPES:
        mix = _mix(spec, otype)
        if mix is not None and mix.count is not None:
            count = int(mix.count)
        else:
            per_user = _type_param(spec, otype, "per_user", d.OBJECTS_PER_USER[otype])
            count = round(spec.users * per_user)
        if count == 0:
            continue
        mean = _type_param(spec, otype, "mean_size", d.MEAN_SIZE_BYTES_OF_TYPE[otype])
        sigma = _type_param(spec, otype, "size_sigma", d.SIZE_SIGMA_OF_TYPE[otype])
        item = _type_param(spec, otype, "mean_item_size", d.MEAN_ITEM_BYTES_OF_TYPE[otype])
        rate = _type_param(spec, otype, "daily_change", d.DAILY_CHANGE_RATE_OF_TYPE[otype])
        # lognormal with the requested mean: mu = ln(mean) - sigma^2 / 2
        size = rng.lognormal(np.log(max(mean, 1.0)) - sigma**2 / 2, sigma, count)
        types.append(np.full(count, TYPE_INDEX[otype], dtype=np.int64))
        sizes.append(size)
        items.append(np.maximum(1.0, np.round(size / item)))
        change.append(np.full(count, rate))
    if not types:
        empty = np.zeros(0)
        return ObjectTable(empty.astype(np.int64), empty, empty, empty)
    return ObjectTable(
        otype=np.concatenate(types),
        size_bytes=np.concatenate(sizes),
        items=np.concatenate(items),
        daily_change=np.concatenate(change),
    )


def with_growth(
    base: ObjectTable, per_day: float, days: int, rng: np.random.Generator
) -> tuple[ObjectTable, np.ndarray]:
    """The inventory plus the objects that join it on days 1..days-1, and each object's day.

    Each day ``round(per_day x initial count)`` new objects join, with types drawn in the initial
    proportions and sizes lognormal around ``GROWTH_SIZE_FRACTION`` of the type's mean (new
    mailboxes and OneDrives start small; INFERRED).
    """
    n0 = len(base)
    appear = np.zeros(n0, dtype=np.int64)
    per = round(per_day * n0)
    if per == 0 or days <= 1 or n0 == 0:
        return base, appear
    parts = [base]
    days_of = [appear]
    for day in range(1, days):
        pick = rng.integers(0, n0, per)
        otype = base.otype[pick]
        mean = np.asarray([d.MEAN_SIZE_BYTES_OF_TYPE[t] for t in d.OBJECT_TYPES])[otype]
        mean = mean * d.GROWTH_SIZE_FRACTION
        sigma = np.asarray([d.SIZE_SIGMA_OF_TYPE[t] for t in d.OBJECT_TYPES])[otype]
        size = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma)
        item = np.asarray([d.MEAN_ITEM_BYTES_OF_TYPE[t] for t in d.OBJECT_TYPES])[otype]
        parts.append(
            ObjectTable(
                otype=otype,
                size_bytes=size,
                items=np.maximum(1.0, np.round(size / item)),
                daily_change=base.daily_change[pick],
            )
        )
        days_of.append(np.full(per, day, dtype=np.int64))
    table = ObjectTable(
        otype=np.concatenate([p.otype for p in parts]),
        size_bytes=np.concatenate([p.size_bytes for p in parts]),
        items=np.concatenate([p.items for p in parts]),
        daily_change=np.concatenate([p.daily_change for p in parts]),
    )
    return table, np.concatenate(days_of)
