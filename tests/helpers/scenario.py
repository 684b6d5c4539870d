"""A tiny scenario builder: plain dicts in, YAML text out (for ``sim.load_scenario_text``).

``exact_calibration`` removes every source of noise and every fixed cost (per-object overhead,
resolve and metadata phases with their role-holder CPU, restore point, change noise) and makes
proxies, item ceilings and repositories effectively unlimited, so a task's transfer takes exactly
``work / thread_rate`` unless a test adds a limit on purpose.

The proxy's per-object scan CPU (``calibration.cpu_per_object``) and the per-object change
probability (``calibration.change_probability``) stay at their shipped defaults: a scan holds a
core for its CPU seconds before the object's bytes move, and an incremental reads only the
objects that changed since the last backup (a test computes their bytes, or sets
``change_probability`` itself). A test whose figures are the transfer's alone (a capacity limit's
exact rate, a bucket's exact refill) adds ``NO_SCAN_CPU`` to its calibration and says why. A
proxy runs at most the threads its ``ram`` holds (``ram_for`` gives the ram for a thread count).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

import sim
from sim import defaults as d
from sim.experiment.run import RunResult
from sim.scenario.schema import with_units

WORKLOADS = ("exchange", "onedrive", "sharepoint", "teams")
HUGE = 1e15
"""A capacity no test reaches (bytes/s or requests/s); finite, since YAML '.inf' is rejected."""

NO_SCAN_CPU: dict[str, Any] = {"cpu_per_object": dict.fromkeys(WORKLOADS, 0)}
"""Calibration keys for a scan that costs no CPU: an object's bytes start moving the moment it
takes a thread (shipped: several core-seconds per object, ``sim.defaults``)."""


def ram_for(threads: int) -> float:
    """A proxy ``ram`` (bytes) that holds ``threads`` threads under the default
    ``calibration.ram_base`` and ``ram_per_thread``."""
    return float(d.PROXY_RAM_BASE_BYTES + threads * d.PROXY_RAM_PER_THREAD_BYTES)


def tenant(name: str = "t", users: int = 1, **kw: Any) -> dict[str, Any]:
    """A tenant section; ``kw`` adds objects, sharepoint_ru_per_min, egress_cap, ..."""
    return {"name": name, "users": users, **kw}


def exact_calibration(thread_rate: float = 1e6, **extra: Any) -> dict[str, Any]:
    """Calibration with deterministic, overhead-free tasks at ``thread_rate`` bytes/s."""
    cal: dict[str, Any] = {
        "thread_rate": dict.fromkeys(WORKLOADS, thread_rate),
        "items_per_s": dict.fromkeys(WORKLOADS, HUGE),
        "object_overhead": dict.fromkeys(WORKLOADS, 0),
        "bps_per_core": HUGE,
        "resolve_base": 0,
        "resolve_per_object": 0,
        "resolve_cpu_per_object": 0,
        "metadata_cpu_per_object": 0,
        "metadata_ios_per_object": 0,
        "restore_point": 0,
        "change_sigma": 0,
    }
    cal.update(extra)
    return cal


def fixed_objects(
    sizes: Mapping[str, tuple[int, float]],
    item: float = 1e6,
    daily_change: float | None = None,
) -> dict[str, Any]:
    """Object mix with exact counts and equal sizes: ``{type: (count, size_bytes)}``.

    Types not named get count 0, so the tenant holds exactly the objects listed; objects are
    generated in type order (mailbox, archive_mailbox, shared_mailbox, onedrive, site, team).
    """
    all_types = ("mailbox", "archive_mailbox", "shared_mailbox", "onedrive", "site", "team")
    out: dict[str, Any] = {t: {"count": 0} for t in all_types}
    for otype, (count, size) in sizes.items():
        out[otype] = {
            "count": count,
            "mean_size": size,
            "size_sigma": 0,
            "mean_item_size": item,
        }
        if daily_change is not None:
            out[otype]["daily_change"] = daily_change
    return out


def repository(name: str, owner: str, **kw: Any) -> dict[str, Any]:
    """An S3 repository that never limits unless told (huge bandwidth and PUT rate)."""
    out: dict[str, Any] = {
        "name": name,
        "kind": "s3",
        "owner": owner,
        "write_bandwidth": HUGE,
        "put_rate": HUGE,
    }
    out.update(kw)
    return out


def job(
    name: str,
    repo: str,
    daily: str = "00:00",
    tenant: str = "t",
    workloads: Iterable[str] = ("exchange",),
    **kw: Any,
) -> dict[str, Any]:
    """A backup job; ``kw`` may set share, share_offset or schedule extras."""
    schedule: dict[str, Any] = {"daily": daily}
    for key in ("window", "terminate_on_window"):
        if key in kw:
            schedule[key] = kw.pop(key)
    out: dict[str, Any] = {
        "name": name,
        "tenant": tenant,
        "workloads": list(workloads),
        "repository": repo,
        "schedule": schedule,
    }
    out.update(kw)
    return out


def scenario_yaml(
    *,
    tenants: list[dict[str, Any]],
    proxies: list[dict[str, Any]],
    repositories: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    pools: list[dict[str, Any]] | None = None,
    calibration: dict[str, Any] | None = None,
    days: int = 1,
    bucket: float = 300.0,
    seed: int = 0,
    name: str = "test",
) -> str:
    """The YAML text of a scenario built from its sections."""
    data: dict[str, Any] = {
        "name": name,
        "seed": seed,
        "tenants": tenants,
        "proxies": proxies,
        "pools": pools or [],
        "repositories": repositories,
        "jobs": jobs,
        "calibration": calibration if calibration is not None else exact_calibration(),
        "simulation": {"days": days, "bucket": bucket},
    }
    return yaml.safe_dump(with_units(data), sort_keys=False)


def run(text: str, **kw: Any) -> RunResult:
    """Load YAML text and simulate it; the run must not hit the safety horizon."""
    result = sim.simulate(sim.load_scenario_text(text), **kw)
    assert not result.truncated, "the run hit the safety horizon"
    return result
