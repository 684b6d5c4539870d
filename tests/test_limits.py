"""Each capacity limit of the model puts the bottleneck where it belongs (docs/model.md, "How
concurrent transfers share capacity").

Every scenario is exact: ``exact_calibration`` (no overhead, resolve, metadata or restore-point
time, no change noise, unlimited proxies, items and repositories unless a test sets a limit),
equal object sizes (size_sigma 0) and a fixed item size, so items = size / item size exactly.
Throughput is measured from the task table as bytes over the busy span of the transfer phase
(first start to last end; with no per-object overhead a task transfers from its start to its
end). Scenarios are shaped so the limit binds over the whole span (a single transfer alone can
saturate the limit, or every task runs concurrently and ends together), so "within 1 %" is in
practice exact to float precision.

Sources: vb365 facts 19-22 and 25-26 (tenant side), 30-32 (object storage), 10 and 37 (proxy).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.scenario import (
    HUGE,
    NO_SCAN_CPU,
    exact_calibration,
    fixed_objects,
    job,
    repository,
    run,
    scenario_yaml,
    tenant,
)

from sim import defaults as d

MB = 1e6
DAY = 86_400.0
REL = 0.01  # the acceptance tolerance: 1 %


def transfer_calibration(thread_rate: float = 1e6, **extra: Any) -> dict[str, Any]:
    """``exact_calibration`` without the per-object scan CPU: the rates below are the transfer's
    alone (module docstring)."""
    return exact_calibration(thread_rate, **NO_SCAN_CPU, **extra)


def proxies(n: int, threads: int = 8, **kw: Any) -> list[dict[str, Any]]:
    return [{"name": f"p{i}", "threads": threads, **kw} for i in range(n)]


def pooled(
    objects: dict[str, Any],
    members: list[dict[str, Any]],
    *,
    tenant_kw: dict[str, Any] | None = None,
    repo_kw: dict[str, Any] | None = None,
    jobs: list[dict[str, Any]] | None = None,
    cal: dict[str, Any] | None = None,
    **kw: Any,
) -> str:
    """One tenant, one pull_fifo pool of ``members``, one repository 'r', jobs on 'r'."""
    return scenario_yaml(
        tenants=[tenant(objects=objects, **(tenant_kw or {}))],
        proxies=members,
        pools=[{"name": "pool", "members": [p["name"] for p in members]}],
        repositories=[repository("r", "pool", **(repo_kw or {}))],
        jobs=jobs or [job("j", "r")],
        calibration=cal if cal is not None else transfer_calibration(),
        **kw,
    )


def rate(tasks: pd.DataFrame) -> float:
    """Bytes read over the busy span of the transfer phase of ``tasks``."""
    span = float(tasks["end"].max() - tasks["start"].min())
    return float(tasks["bytes_read"].sum()) / span


def only(tasks: pd.DataFrame, **eq: Any) -> pd.DataFrame:
    mask = np.ones(len(tasks), dtype=bool)
    for col, value in eq.items():
        mask &= (tasks[col] == value).to_numpy()
    return tasks[mask]


# -- SharePoint/OneDrive resource units per minute (fact 26) -------------------------------------

RU_PER_MIN = 600.0  # 10 RU/s
ITEM = 1.5 * MB  # one file download (1 RU) per item
OD_SIZE = 150 * MB  # 100 items per OneDrive


def bytes_per_ru(size: float, item: float) -> float:
    """Bytes a OneDrive of ``size`` read in full moves per RU (vb365 fact 26): a download per
    item, a delta page per object and per 1,000 items (1 RU each), a permission read (5 RU)."""
    n = max(1.0, round(size / item))
    return size / (n + 1.0 + n / d.DISCOVERY_ITEMS_PER_REQUEST + d.RU_PER_PERMISSION)


RU_BOUND = RU_PER_MIN / 60.0 * bytes_per_ru(OD_SIZE, ITEM)  # 10 RU/s x 1.41 MB: 14.1 MB/s


def onedrive_run(n_proxies: int, threads: int = 2, count: int = 16, **tenant_kw: Any) -> Any:
    objects = fixed_objects({"onedrive": (count, OD_SIZE)}, item=ITEM)
    text = pooled(
        objects,
        proxies(n_proxies, threads),
        tenant_kw={"sharepoint_ru_per_min": RU_PER_MIN, **tenant_kw},
        jobs=[job("od", "r", workloads=["onedrive"])],
        cal=transfer_calibration(4 * MB),
    )
    return run(text)


@pytest.mark.parametrize("n_proxies", [1, 2, 4, 8])
def test_ru_budget_caps_onedrive_throughput_whatever_the_proxies(n_proxies: int) -> None:
    # 2 threads x 4 MB/s per proxy: 1 proxy (8 MB/s) is below the 14.1 MB/s budget; from 2
    # proxies on (16 MB/s of threads) the budget binds and more proxies add nothing
    r = onedrive_run(n_proxies)
    t = r.tasks
    assert (t["status"] == "done").all()
    assert t["items"].sum() == pytest.approx(16 * 100)
    expected = min(n_proxies * 2 * 4 * MB, RU_BOUND)
    assert rate(t) == pytest.approx(expected, rel=REL)
    s = r.sessions.iloc[0]
    assert s["bottleneck_source"] == pytest.approx(1.0)
    if n_proxies == 1:
        assert s["throttled_s"] == 0.0  # held only by its per-thread ceiling
    else:
        assert s["throttled_s"] > 0.0  # held below the ceiling by the tenant budget
        # held for the whole transfer time of every task
        assert s["throttled_s"] == pytest.approx(float((t["end"] - t["start"]).sum()), rel=1e-9)


def test_ru_budget_throughput_plateaus_once_it_binds() -> None:
    rates = [rate(onedrive_run(n).tasks) for n in (1, 2, 4, 8)]
    assert rates[0] < RU_BOUND * (1 - REL)  # not yet binding: proxies still help
    for later in rates[1:]:
        assert later == pytest.approx(RU_BOUND, rel=REL)
    assert max(rates[1:]) - min(rates[1:]) <= 1e-6 * RU_BOUND


def test_ru_budget_is_shared_by_sharepoint_onedrive_and_every_pool_of_the_tenant() -> None:
    # two pools, two repositories, a OneDrive job and a SharePoint job on one tenant: together they
    # move RU/s x bytes per RU, not twice that (fact 26: apps share the tenant's resource)
    objects = fixed_objects({"onedrive": (8, OD_SIZE), "site": (8, OD_SIZE)}, item=ITEM)
    text = scenario_yaml(
        tenants=[tenant(objects=objects, sharepoint_ru_per_min=RU_PER_MIN)],
        proxies=[{"name": "a1", "threads": 8}, {"name": "b1", "threads": 8}],
        pools=[{"name": "pa", "members": ["a1"]}, {"name": "pb", "members": ["b1"]}],
        repositories=[repository("ra", "pa"), repository("rb", "pb")],
        jobs=[
            job("od", "ra", workloads=["onedrive"]),
            job("sp", "rb", workloads=["sharepoint"]),
        ],
        calibration=transfer_calibration(4 * MB),
    )
    t = run(text).tasks
    assert set(t["workload"]) == {"onedrive", "sharepoint"}
    assert rate(t) == pytest.approx(RU_BOUND, rel=REL)
    # max-min fair: both jobs get half of the budget
    assert rate(only(t, workload="onedrive")) == pytest.approx(RU_BOUND / 2, rel=REL)


def test_ru_budget_does_not_touch_exchange() -> None:
    # 1 RU per minute would stall any OneDrive; Exchange is not metered in RU
    objects = fixed_objects({"mailbox": (4, 10 * MB)}, item=1 * MB)
    text = pooled(objects, proxies(1), tenant_kw={"sharepoint_ru_per_min": 1.0})
    t = run(text).tasks
    assert rate(t) == pytest.approx(4 * 1 * MB, rel=1e-9)


# -- the daily RU budget (fact 26) ---------------------------------------------------------------


def test_daily_ru_budget_stops_sharepoint_until_midnight_then_resumes() -> None:
    # 10 RU/s, 250 MB OneDrives of 1 MB items (256.25 RU each: downloads, delta pages and a
    # permission read), 900 RU per day: the budget is spent at t = 90 s and seen spent at the
    # next one-minute check (t = 120 s); nothing moves until midnight, then the rest goes on
    per_day = 900.0
    objects = fixed_objects({"onedrive": (8, 250 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1),
        tenant_kw={"sharepoint_ru_per_min": RU_PER_MIN, "sharepoint_ru_per_day": per_day},
        jobs=[job("od", "r", workloads=["onedrive"])],
        cal=transfer_calibration(4 * MB),
        bucket=60.0,
    )
    r = run(text)
    t = r.tasks
    assert (t["status"] == "done").all()
    ts = r.timeseries.groupby("t_start")["bytes"].sum()
    day1 = float(ts[ts.index < DAY].sum())
    per_ru = bytes_per_ru(250 * MB, 1 * MB)
    # day 1: the budget (900 RU) plus at most one check interval at 10 RU/s
    assert per_day * per_ru <= day1 <= (per_day + RU_PER_MIN) * per_ru
    assert day1 == pytest.approx(1200 * per_ru, rel=1e-9)  # exactly: stopped at the 120 s check
    last_moving = float(ts[(ts.index < DAY) & (ts > 0)].index.max()) + 60.0
    assert last_moving <= 90.0 + 60.0 + 1e-9
    # silence until midnight, then the rest at 10 RU/s
    assert float(ts[(ts.index >= last_moving) & (ts.index < DAY)].sum()) == 0.0
    assert float(ts[ts.index >= DAY].sum()) == pytest.approx(2000 * MB - day1, rel=1e-9)
    rest_s = (2000 * MB - day1) / (10.0 * per_ru)
    assert float(t["end"].max()) == pytest.approx(DAY + rest_s, abs=1e-6)
    assert (t["end"] > DAY).all()  # every OneDrive was held over the night
    s = r.sessions.iloc[0]
    assert s["bytes_read"] == pytest.approx(2000 * MB)
    assert s["bottleneck_source"] == pytest.approx(1.0)


def test_daily_ru_budget_leaves_exchange_running() -> None:
    objects = fixed_objects({"onedrive": (1, 2000 * MB), "mailbox": (1, 500 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1),
        tenant_kw={"sharepoint_ru_per_min": RU_PER_MIN, "sharepoint_ru_per_day": 600.0},
        jobs=[job("all", "r", workloads=["exchange", "onedrive"])],
        cal=transfer_calibration(1 * MB),
    )
    t = run(text).tasks
    mbx = only(t, workload="exchange").iloc[0]
    assert mbx["end"] == pytest.approx(500.0)  # 1 MB/s thread, untouched by the RU budget
    assert only(t, workload="onedrive").iloc[0]["end"] > DAY


# -- restores (facts 22, 25, 26) -----------------------------------------------------------------


def restore_scenario(
    objects: dict[str, Any], workload: str, tenant_kw: dict[str, Any], threads: int = 8
) -> str:
    restore = {
        "name": "rs",
        "type": "restore",
        "tenant": "t",
        "workloads": [workload],
        "repository": "r",
        "schedule": {"once": "00:00"},
    }
    return pooled(objects, proxies(1, threads), tenant_kw=tenant_kw, jobs=[restore])


def test_restore_pays_two_ru_per_written_item() -> None:
    # 10 RU/s and 2 RU per write: 5 items/s = 5 MB/s (8 threads x 2 MB/s restore ceiling = 16)
    objects = fixed_objects({"onedrive": (8, 100 * MB)}, item=1 * MB)
    r = run(restore_scenario(objects, "onedrive", {"sharepoint_ru_per_min": RU_PER_MIN}))
    t = r.tasks
    assert (t["status"] == "done").all()
    assert d.RU_PER_WRITE == 2.0
    assert rate(t) == pytest.approx(RU_PER_MIN / 60.0 / d.RU_PER_WRITE * 1 * MB, rel=REL)
    s = r.sessions.iloc[0]
    assert s["type"] == "restore"
    assert s["bottleneck_source"] == pytest.approx(1.0)


def test_restore_respects_ingress_cap() -> None:
    # 8 mailboxes at 0.5 MB/s upload each want 4 MB/s; the tenant ingress cap allows 1 MB/s
    objects = fixed_objects({"mailbox": (8, 10 * MB)}, item=1 * MB)
    r = run(restore_scenario(objects, "exchange", {"ingress_cap": "1 MB/s"}))
    t = r.tasks
    assert rate(t) == pytest.approx(1 * MB, rel=REL)
    assert r.sessions.iloc[0]["bottleneck_source"] == pytest.approx(1.0)
    # without the cap, the per-mailbox upload ceiling rules
    free = run(restore_scenario(objects, "exchange", {})).tasks
    assert rate(free) == pytest.approx(8 * d.MAILBOX_UPLOAD_BPS, rel=REL)


def test_ingress_cap_does_not_limit_backups() -> None:
    objects = fixed_objects({"mailbox": (4, 10 * MB)}, item=1 * MB)
    text = pooled(objects, proxies(1), tenant_kw={"ingress_cap": "0.1 MB/s"})
    assert rate(run(text).tasks) == pytest.approx(4 * MB, rel=1e-9)


# -- object storage (facts 30-32) ----------------------------------------------------------------


def test_slow_repository_write_makes_target_the_bottleneck() -> None:
    # 2 MB/s of stored bytes at compression 0.55 = 3.64 MB/s of source bytes; one 10 MB/s thread
    # alone would exceed it, so the limit holds to the last byte
    objects = fixed_objects({"mailbox": (6, 50 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1, threads=4),
        repo_kw={"write_bandwidth": "2 MB/s"},
        cal=transfer_calibration(10 * MB),
    )
    r = run(text)
    t = r.tasks
    comp = d.COMPRESSION_OF_WORKLOAD["exchange"]
    assert rate(t) == pytest.approx(2 * MB / comp, rel=REL)
    assert float(t["bytes_written"].sum()) == pytest.approx(comp * float(t["bytes_read"].sum()))
    s = r.sessions.iloc[0]
    assert s["bottleneck_target"] == pytest.approx(1.0, abs=1e-9)
    assert s["throttled_s"] == 0.0  # a repository is not a tenant budget
    assert (t["bottleneck"] == "target").all()


def test_write_bandwidth_uses_the_repository_compression() -> None:
    objects = fixed_objects({"onedrive": (4, 80 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1, threads=4),
        repo_kw={"write_bandwidth": "2 MB/s", "compression": {"onedrive": 0.5}},
        jobs=[job("od", "r", workloads=["onedrive"])],
        cal=transfer_calibration(10 * MB),
    )
    assert rate(run(text).tasks) == pytest.approx(4 * MB, rel=REL)


@pytest.mark.parametrize(
    ("otype", "workload", "blob"),
    [("mailbox", "exchange", 5 * MB), ("onedrive", "onedrive", 8 * MB)],
)
def test_low_put_rate_binds_through_blob_size_and_metadata(
    otype: str, workload: str, blob: float
) -> None:
    # compression 1 (stored = source bytes) so the blob size is unambiguous: every 5 MB (Exchange)
    # or 8 MB (OneDrive) data blob comes with one metadata object, 2 PUTs per blob (fact 30)
    put_rate = 2.0
    objects = fixed_objects({otype: (4, 80 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1, threads=4),
        repo_kw={"put_rate": put_rate, "compression": {workload: 1.0}},
        jobs=[job("j", "r", workloads=[workload])],
        cal=transfer_calibration(50 * MB),
    )
    r = run(text)
    assert d.BLOB_BYTES_OF_WORKLOAD[workload] == blob
    expected = put_rate * blob / (1.0 + d.METADATA_OBJECTS_PER_BLOB)
    assert rate(r.tasks) == pytest.approx(expected, rel=REL)
    assert r.sessions.iloc[0]["bottleneck_target"] == pytest.approx(1.0, abs=1e-9)


def test_put_rate_counts_blobs_of_source_bytes_whatever_the_compression() -> None:
    put_rate = 2.0
    objects = fixed_objects({"mailbox": (4, 80 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1, threads=4),
        repo_kw={"put_rate": put_rate},  # default Exchange compression 0.55
        cal=transfer_calibration(50 * MB),
    )
    expected = put_rate * 5 * MB / (1.0 + d.METADATA_OBJECTS_PER_BLOB)  # 5 MB/s
    assert rate(run(text).tasks) == pytest.approx(expected, rel=REL)


# -- proxies (facts 10, 37) ----------------------------------------------------------------------


def test_proxy_throttle_caps_that_proxy_only() -> None:
    # p0 throttled to 3 MB/s, p1 free; one 4 MB/s thread alone exceeds the throttle
    objects = fixed_objects({"mailbox": (40, 24 * MB)}, item=1 * MB)
    members = [
        {"name": "p0", "threads": 4, "throttle": "3 MB/s"},
        {"name": "p1", "threads": 4},
    ]
    r = run(pooled(objects, members, cal=transfer_calibration(4 * MB), bucket=5.0))
    t = r.tasks
    slow, fast = only(t, proxy="p0"), only(t, proxy="p1")
    assert len(slow) > 0 and len(fast) > 0
    assert rate(slow) == pytest.approx(3 * MB, rel=REL)
    assert rate(fast) == pytest.approx(4 * 4 * MB, rel=REL)
    assert (slow["bottleneck"] == "proxy").all()
    assert (fast["bottleneck"] == "source").all()  # its per-thread ceilings
    # the time series agrees in the steady middle (buckets where both proxies are busy)
    ts = r.timeseries
    end = min(float(slow["end"].max()), float(fast["end"].max()))
    mid = ts[(ts["t_start"] + 5.0 <= end)]
    assert len(mid) >= 2
    p0 = mid[mid["proxy"] == "p0"]["rate_bps"].to_numpy()
    np.testing.assert_allclose(p0, 3 * MB, rtol=REL)


@pytest.mark.parametrize(
    ("os_name", "threads", "expected", "where"),
    [
        ("linux", 8, 2 * 1 * MB * 1.2, "proxy"),  # 8 threads want 8 MB/s > 2.4
        ("windows", 8, 2 * 1 * MB, "proxy"),
        ("linux", 2, 2 * 1 * MB, "source"),  # 2 threads (2 MB/s) stay under 2.4 MB/s
    ],
)
def test_proxy_processing_caps_a_proxy_when_threads_would_exceed_it(
    os_name: str, threads: int, expected: float, where: str
) -> None:
    objects = fixed_objects({"mailbox": (16, 20 * MB)}, item=1 * MB)
    members = [{"name": "p0", "threads": threads, "cores": 2, "os": os_name}]
    cal = transfer_calibration(1 * MB, bps_per_core="1 MB/s", linux_efficiency=1.2)
    r = run(pooled(objects, members, cal=cal))
    t = r.tasks
    assert rate(t) == pytest.approx(expected, rel=REL)
    capacity = 2 * 1 * MB * (1.2 if os_name == "linux" else 1.0)
    assert float(r.proxies.iloc[0]["capacity_bps"]) == pytest.approx(capacity)
    share = r.sessions.iloc[0][f"bottleneck_{where}"]
    assert share == pytest.approx(1.0, abs=1e-9)


def test_processing_rate_overrides_cores() -> None:
    objects = fixed_objects({"mailbox": (8, 20 * MB)}, item=1 * MB)
    members = [{"name": "p0", "threads": 8, "cores": 64, "processing_rate": "3 MB/s"}]
    cal = transfer_calibration(1 * MB, bps_per_core="1 MB/s")
    assert rate(run(pooled(objects, members, cal=cal)).tasks) == pytest.approx(3 * MB, rel=REL)


# -- tenant read caps (fact 22) ------------------------------------------------------------------


def test_egress_cap_binds_across_workloads() -> None:
    objects = fixed_objects({"mailbox": (4, 40 * MB), "onedrive": (4, 40 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(2, threads=4),
        tenant_kw={"egress_cap": "5 MB/s"},
        jobs=[
            job("ex", "r", workloads=["exchange"]),
            job("od", "r", workloads=["onedrive"]),
        ],
        cal=transfer_calibration(10 * MB),  # one thread alone exceeds the cap
    )
    r = run(text)
    assert rate(r.tasks) == pytest.approx(5 * MB, rel=REL)
    for _, s in r.sessions.iterrows():
        assert s["bottleneck_source"] == pytest.approx(1.0)
        assert s["throttled_s"] > 0.0


def test_workload_cap_binds_its_workload_only() -> None:
    # Exchange capped at 2 MB/s; OneDrive runs at its thread ceilings meanwhile
    objects = fixed_objects({"mailbox": (4, 40 * MB), "onedrive": (4, 40 * MB)}, item=1 * MB)
    text = pooled(
        objects,
        proxies(1, threads=8),
        tenant_kw={"workload_caps": {"exchange": "2 MB/s"}, "sharepoint_ru_per_min": HUGE},
        jobs=[job("all", "r", workloads=["exchange", "onedrive"])],
        cal=transfer_calibration(10 * MB),
    )
    t = run(text).tasks
    assert rate(only(t, workload="exchange")) == pytest.approx(2 * MB, rel=REL)
    assert rate(only(t, workload="onedrive")) == pytest.approx(4 * 10 * MB, rel=REL)
    assert (only(t, workload="exchange")["throttled_s"] > 0).all()
    assert (only(t, workload="onedrive")["throttled_s"] == 0).all()


GRAPH_REQUESTS_PER_100 = 100 / 20 + 1 + 100 / 1000  # exportItems batches, discovery (fact 42)
GRAPH_ITEMS_PER_S = d.MAILBOX_REQUESTS_PER_S * 100 / GRAPH_REQUESTS_PER_100


@pytest.mark.parametrize(
    ("items_per_s", "expected_items_per_s"),
    [(HUGE, GRAPH_ITEMS_PER_S), (1000.0, GRAPH_ITEMS_PER_S), (10.0, 10.0)],
)
def test_exchange_per_mailbox_graph_limit(items_per_s: float, expected_items_per_s: float) -> None:
    # one mailbox of 100 items of 1 MB on a 1 GB/s thread, Exchange through Graph: 10,000
    # requests / 10 min per mailbox at 20 items per exportItems request (plus discovery) allow
    # ~273 items/s, whatever higher items_per_s the calibration asks for
    objects = fixed_objects({"mailbox": (1, 100 * MB)}, item=1 * MB)
    cal = transfer_calibration(1000 * MB, items_per_s={"exchange": items_per_s})
    text = pooled(objects, proxies(1), cal=cal, tenant_kw={"exchange_api": "graph"})
    t = run(text).tasks
    assert pytest.approx(16.6667, rel=1e-4) == d.MAILBOX_REQUESTS_PER_S
    assert rate(t) == pytest.approx(expected_items_per_s * 1 * MB, rel=REL)
    assert t.iloc[0]["end"] == pytest.approx(100 / expected_items_per_s, rel=1e-9)


def test_exchange_per_mailbox_graph_limit_is_not_on_the_ews_path() -> None:
    objects = fixed_objects({"mailbox": (1, 100 * MB)}, item=1 * MB)
    cal = transfer_calibration(100 * MB, items_per_s={"exchange": HUGE})
    t = run(pooled(objects, proxies(1), cal=cal)).tasks
    assert t.iloc[0]["end"] == pytest.approx(1.0, rel=1e-9)  # 100 MB at the thread's 100 MB/s


def test_exchange_per_mailbox_limit_is_per_mailbox() -> None:
    # four mailboxes in parallel each get their own ~273 items/s (Graph path)
    objects = fixed_objects({"mailbox": (4, 100 * MB)}, item=1 * MB)
    cal = transfer_calibration(1000 * MB)
    t = run(pooled(objects, proxies(1), cal=cal, tenant_kw={"exchange_api": "graph"})).tasks
    assert rate(t) == pytest.approx(4 * GRAPH_ITEMS_PER_S * MB, rel=REL)


def test_teams_per_team_limit() -> None:
    # at most 4 requests/s per team (fact 25), one message per request
    objects = fixed_objects({"team": (1, 40 * MB)}, item=1 * MB)
    t = run(
        pooled(
            objects,
            proxies(1),
            jobs=[job("tm", "r", workloads=["teams"])],
            cal=transfer_calibration(100 * MB),
        )
    ).tasks
    assert rate(t) == pytest.approx(d.TEAMS_PER_TEAM_REQUESTS_PER_S * MB, rel=REL)
    assert t.iloc[0]["end"] == pytest.approx(10.0, rel=1e-9)


def test_teams_tenant_request_rate() -> None:
    # 8 teams want 8 x 4 = 32 requests/s; the tenant allows 10/s for all of them
    objects = fixed_objects({"team": (8, 40 * MB)}, item=1 * MB)
    r = run(
        pooled(
            objects,
            proxies(1),
            tenant_kw={"teams_requests_per_s": 10},
            jobs=[job("tm", "r", workloads=["teams"])],
            cal=transfer_calibration(100 * MB),
        )
    )
    t = r.tasks
    assert rate(t) == pytest.approx(10 * MB, rel=REL)
    assert (t["throttled_s"] > 0).all()
    assert r.sessions.iloc[0]["bottleneck_source"] == pytest.approx(1.0)
