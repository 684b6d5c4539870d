"""Roles and infrastructure do work (sim/model/rolework.py): resolving a session's objects runs
on the pool's Scheduler and synchronising their metadata on its Orchestrator, each holding one of
the holder's cores for CPU seconds proportional to the objects; the configuration database shares
its IOPS among the sessions syncing at once. Exact scenarios: no noise, no fixed costs but the
ones under test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    run,
    scenario_yaml,
    tenant,
)

from sim.scenario.schema import with_units

MB = 1e6


def _standalone(n: int, os: str = "windows", **cal: Any) -> str:
    return scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (n, 1 * MB)}))],
        proxies=[{"name": "p1", "cores": 1, "os": os}],
        repositories=[repository("r", "p1")],
        jobs=[job("a", "r")],
        calibration=exact_calibration(1 * MB, **cal),
    )


def _ready(text: str) -> float:
    t = run(text).tasks
    ready = t["ready"].to_numpy()
    assert (ready == ready[0]).all()
    return float(ready[0])


def test_resolve_time_scales_with_the_objects_and_zero_cost_is_the_old_delay() -> None:
    """The resolve phase is resolve_base + resolve_per_object x N (the old delay) plus
    resolve_cpu_per_object x N CPU seconds on the holder's core (Linux 1.2x faster)."""
    base = {"resolve_base": 30, "resolve_per_object": 0.01}
    for n in (10, 40):
        old = 30 + 0.01 * n
        assert _ready(_standalone(n, resolve_cpu_per_object=0, **base)) == pytest.approx(old)
        assert _ready(_standalone(n, resolve_cpu_per_object=0.5, **base)) == pytest.approx(
            old + 0.5 * n
        )
        linux = _standalone(n, os="linux", resolve_cpu_per_object=0.5, **base)
        assert _ready(linux) == pytest.approx(old + 0.5 * n / 1.2)


def test_metadata_costs_orchestrator_cpu_then_database_iops() -> None:
    """After the last object: metadata_cpu_per_object x objects on the holder's core, then
    metadata_ios_per_object x objects over db_iops, then the restore point; all zero: the
    session ends with its last object plus the restore point."""

    def tail(n: int, **cal: Any) -> float:
        r = run(_standalone(n, restore_point=30, **cal))
        return float(r.sessions["end"].iloc[0] - r.tasks["end"].max())

    for n in (10, 40):
        assert tail(n) == pytest.approx(30.0)
        cost = {"metadata_cpu_per_object": 0.25, "metadata_ios_per_object": 100, "db_iops": 50}
        assert tail(n, **cost) == pytest.approx(0.25 * n + 2.0 * n + 30.0)


def _pool(resolve_cpu: float) -> pd.DataFrame:
    """Two Windows proxies of one core and one thread each; every object's scan holds the core
    10 s (cpu_per_object) and moves 1 MB in 1 s. Job a (40 mailboxes) runs from 00:00; job b
    (20 OneDrives) starts at 00:05, its resolve on the Scheduler (p1)."""
    data: dict[str, Any] = yaml.safe_load(
        scenario_yaml(
            tenants=[
                tenant(objects=fixed_objects({"mailbox": (40, 1 * MB), "onedrive": (20, 1 * MB)}))
            ],
            proxies=[{"name": n, "cores": 1, "threads": 1} for n in ("p1", "p2")],
            pools=[{"name": "pool", "members": ["p1", "p2"], "policy": "pull_fifo"}],
            repositories=[repository("r", "pool")],
            jobs=[job("a", "r"), job("b", "r", daily="00:05", workloads=["onedrive"])],
            calibration=exact_calibration(
                1 * MB,
                cpu_per_object={"exchange": 10, "onedrive": 10},
                resolve_cpu_per_object=resolve_cpu,
            ),
        )
    )
    data["calibration"]["resolve_base"] = "0s"
    return run(yaml.safe_dump(data, sort_keys=False)).tasks


def test_the_scheduler_slows_while_it_resolves() -> None:
    """While the Scheduler (p1) resolves job b (20 objects x 5 CPU s = 100 s on its only core)
    it finishes no object; p2 goes on at one object per 11 s. Without the cost both proxies
    finish objects in that span, and b's objects are ready at once."""
    t = _pool(5.0)
    b_ready = float(t.loc[t["job"] == "b", "ready"].iloc[0])
    # job a's own resolve: 40 x 5 s from 0; b's starts at 300 s behind at most one scan (10 s)
    assert float(t.loc[t["job"] == "a", "ready"].iloc[0]) == pytest.approx(200.0)
    assert 400.0 <= b_ready <= 411.0
    span = (t["end"] > b_ready - 85.0) & (t["end"] <= b_ready)
    ended = t[span].groupby(t["proxy"].astype(str)).size()
    assert ended.get("p1", 0) == 0
    assert ended.get("p2", 0) >= 7  # 85 s at 11 s per object

    t0 = _pool(0.0)
    assert (t0.loc[t0["job"] == "b", "ready"] == 300.0).all()
    span0 = (t0["end"] > 300.0) & (t0["end"] <= 385.0)
    ended0 = t0[span0].groupby(t0["proxy"].astype(str)).size()
    assert ended0.get("p1", 0) >= 7 and ended0.get("p2", 0) >= 7


def _drill(maintenance_at: str | None) -> float:
    """A pool of two idle proxies; job a's resolve (100 objects x 1 CPU s) starts at 00:00 on
    the Scheduler p1; p1 may enter maintenance at ``maintenance_at``."""
    data: dict[str, Any] = yaml.safe_load(
        scenario_yaml(
            tenants=[tenant(objects=fixed_objects({"mailbox": (100, 1 * MB)}))],
            proxies=[{"name": n, "cores": 1} for n in ("p1", "p2")],
            pools=[{"name": "pool", "members": ["p1", "p2"], "policy": "pull_fifo"}],
            repositories=[repository("r", "pool")],
            jobs=[job("a", "r")],
            calibration=exact_calibration(1 * MB, resolve_cpu_per_object=1.0),
        )
    )
    if maintenance_at is not None:
        data["timeline"] = [
            {"action": "maintenance_on", "proxy": "p1", "day": 1, "at": maintenance_at}
        ]
    t = run(yaml.safe_dump(with_units(data), sort_keys=False)).tasks
    return float(t["ready"].iloc[0])


def test_resolve_moves_to_the_next_scheduler_when_the_holder_leaves() -> None:
    """p1 enters maintenance 60 s into a 100 s resolve: the Scheduler role is vacant for the
    failover delay (30 s), then p2 resolves the remaining 40 s."""
    assert _drill(None) == pytest.approx(100.0)
    assert _drill("00:01") == pytest.approx(100.0 + 30.0)


def test_a_bigger_job_costs_its_holder_more() -> None:
    """The role's CPU is proportional to the objects: doubling the scope doubles the resolve
    work, whatever else the holder does (here nothing)."""
    small = _ready(_standalone(25, resolve_base=0, resolve_cpu_per_object=0.2))
    big = _ready(_standalone(50, resolve_base=0, resolve_cpu_per_object=0.2))
    assert big == pytest.approx(2 * small)
    assert np.isclose(small, 5.0)
