"""Request-level throttling: 429 with Retry-After (Microsoft 365) and 503 Slow Down (Amazon S3).

Sources: vb365 fact 26 (RU budgets; 429/503 with Retry-After; throttled requests still count),
fact 25 (Teams request caps), fact 31 (S3 per-prefix request rates, 503 Slow Down, re-partitioning
in 30-60 min). The budget is a token bucket holding one minute's budget (sim/model/throttle.py);
every expected value below follows from that rule by hand, so the scenarios leave out the
proxy's per-object scan CPU (``NO_SCAN_CPU``): it would hold each object's first request back by
a few seconds, a shift of the bucket's timeline that has nothing to do with throttling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers.scenario import (
    NO_SCAN_CPU,
    exact_calibration,
    fixed_objects,
    job,
    repository,
    run,
    scenario_yaml,
    tenant,
)

import sim
from sim import defaults as d
from sim.model.world import World

MB = 1e6
ITEM = 1.5 * MB  # one file download (1 RU) per 1.5 MB


def bytes_per_ru(size: float) -> float:
    """Bytes a full OneDrive of ``size`` moves per RU: one download per item, one delta page per
    object and per 1,000 items (1 RU each) and one permission read (5 RU; vb365 fact 26)."""
    n = max(1.0, round(size / ITEM))
    return size / (n + 1.0 + n / d.DISCOVERY_ITEMS_PER_REQUEST + d.RU_PER_PERMISSION)


def onedrive(
    *,
    count: int = 1,
    size: float = 600 * MB,
    threads: int = 1,
    n_proxies: int = 1,
    thread_rate: float = 4 * MB,
    days: int = 1,
    **tenant_kw: Any,
) -> str:
    objects = fixed_objects({"onedrive": (count, size)}, item=ITEM)
    members = [{"name": f"p{i}", "threads": threads} for i in range(n_proxies)]
    tenant_kw.setdefault("retry_jitter", 0.0)  # exact bucket arithmetic: every wait is Retry-After
    return scenario_yaml(
        tenants=[tenant(objects=objects, **tenant_kw)],
        proxies=members,
        pools=[{"name": "pool", "members": [m["name"] for m in members]}],
        repositories=[repository("r", "pool")],
        jobs=[job("od", "r", workloads=["onedrive"])],
        calibration=exact_calibration(thread_rate, **NO_SCAN_CPU),
        days=days,
    )


def bucket_reference(
    work: float, rate: float, ru_per_byte: float, ru_per_min: float, retry_after: float
) -> tuple[float, int]:
    """One transfer against the bucket, step by step: (finish time, rejected requests)."""
    refill, burst = ru_per_min / 60.0, ru_per_min
    use = rate * ru_per_byte
    t, balance, left, rejected = 0.0, burst, work, 0
    while True:
        run_s = balance / (use - refill)  # until the bucket is empty
        if run_s * rate >= left:
            return t + left / rate, rejected
        t += run_s
        left -= run_s * rate
        balance = 0.0
        while True:  # 429: the rejected request is charged 1 RU, then Retry-After
            rejected += 1
            balance = min(burst, balance - 1.0 + refill * retry_after)
            t += retry_after
            if balance > 0:
                break


@pytest.mark.parametrize("retry_after", [5.0, 20.0, 45.0, 120.0])
def test_single_transfer_follows_the_bucket_exactly(retry_after: float) -> None:
    # 4 MB/s asks 2.67 RU/s of a 1 RU/s budget: it runs 36 s on the full bucket (60 RU), then
    # alternates 429 + Retry-After with short runs on what the bucket recharged minus 1 RU
    # (610 MB: not a whole number of cycles, so the finish never ties with an empty bucket)
    r = run(
        onedrive(
            size=610 * MB, sharepoint_ru_per_min=60.0, throttling="request", retry_after=retry_after
        )
    )
    t = r.tasks.iloc[0]
    end, rejected = bucket_reference(
        610 * MB, 4 * MB, 1 / bytes_per_ru(610 * MB), 60.0, retry_after
    )
    assert t["status"] == "done"
    assert t["end"] == pytest.approx(end, rel=1e-9)
    assert int(t["throttled_requests"]) == rejected
    assert rejected > 0


def test_long_retry_after_wastes_budget_because_the_bucket_overflows() -> None:
    # a wait longer than the bucket takes to fill (60 s) loses the overflow
    ends = [
        run(onedrive(sharepoint_ru_per_min=60.0, throttling="request", retry_after=ra)).tasks[
            "end"
        ][0]
        for ra in (20.0, 120.0)
    ]
    assert ends[1] > ends[0] * 1.2


def test_fluid_semantics_never_rejects_and_request_semantics_costs_time() -> None:
    size = 6000 * MB
    fluid = run(onedrive(size=size, sharepoint_ru_per_min=60.0)).tasks
    req = run(onedrive(size=size, sharepoint_ru_per_min=60.0, throttling="request")).tasks
    assert fluid["end"][0] == pytest.approx(size / bytes_per_ru(size))  # 1 RU/s ~ 1.5 MB/s
    # the fluid budget rejects nothing itself; the 429s its rate stands for are accounted in
    # aggregate: 2,500 s lost below the 4 MB/s ceiling over a 20 s Retry-After = 125
    lost = size / bytes_per_ru(size) - size / (4 * MB)
    assert fluid["throttled_requests"].sum() == pytest.approx(lost / d.RETRY_AFTER_S)
    # the full bucket at the start is a head start of at most one minute's budget
    burst_s = 60.0 * ITEM / (1.0 * ITEM)
    assert req["end"][0] >= fluid["end"][0] - burst_s
    # over a long transfer the rejected requests' cost outweighs it
    assert req["end"][0] > fluid["end"][0]


def test_rejected_retries_back_off_so_a_crowd_cannot_starve_the_bucket() -> None:
    # 64 transfers each charged 1 RU per rejection against 1 RU/s x 20 s of recharge would
    # keep the bucket in debt for ever without the exponential backoff
    r = run(
        onedrive(
            count=64,
            size=15 * MB,
            threads=64,
            sharepoint_ru_per_min=60.0,
            throttling="request",
            retry_after=20.0,
        )
    )
    assert (r.tasks["status"] == "done").all()
    assert int(r.tasks["throttled_requests"].sum()) > 64


@pytest.mark.parametrize("n_proxies", [4, 8])
def test_many_transfers_stay_under_the_budget_and_count_every_rejection(n_proxies: int) -> None:
    text = onedrive(
        count=32,
        size=150 * MB,
        threads=2,
        n_proxies=n_proxies,
        sharepoint_ru_per_min=600.0,
        throttling="request",
    )
    loaded = sim.load_scenario_text(text)
    world = World(loaded)
    world.run()
    res = sim.simulate(loaded)
    t = res.tasks
    assert (t["status"] == "done").all()
    span = float(t["end"].max() - t["start"].min())
    achieved = float(t["bytes_read"].sum()) / span
    fluid_cap = 600.0 / 60.0 * bytes_per_ru(150 * MB)
    # never above the fluid cap over the run (one minute's burst aside), and within 10 % below
    burst_bytes = 600.0 * bytes_per_ru(150 * MB)
    assert achieved * span <= fluid_cap * span + burst_bytes + 1.0
    assert achieved >= 0.9 * fluid_cap
    budget = world.tenants[0].ru_budget
    assert budget is not None
    assert int(world.tasks.throttled_requests[: world.tasks.n].sum()) == budget.rejected
    assert int(t["throttled_requests"].sum()) == budget.rejected > 0
    # every episode rejects each waiting transfer at least once
    assert budget.rejected >= budget.episodes
    assert budget.closed_seconds() > 0.0


def test_rejections_are_reported_per_tenant_in_the_summary() -> None:
    r = run(onedrive(count=8, threads=4, sharepoint_ru_per_min=120.0, throttling="request"))
    total = int(r.tasks["throttled_requests"].sum())
    assert total > 0
    assert r.metric("throttled_requests") == total
    assert r.metric("throttled_requests", "tenant:t") == total
    share = r.metric("throttled_request_share", "tenant:t")
    assert 0.0 < share < 1.0
    assert r.metric("throttled_time", "tenant:t") > 0.0


def test_daily_budget_closes_the_bucket_until_midnight() -> None:
    # 100 RU/day at 1 RU/s fluid-equivalent: the day's budget is gone after ~100 RU of downloads
    r = run(
        onedrive(
            sharepoint_ru_per_min=60.0,
            sharepoint_ru_per_day=100.0,
            throttling="request",
            size=300 * MB,
            days=2,
        )
    )
    t = r.tasks.iloc[0]
    assert t["status"] == "done"
    assert t["end"] > 86_400.0  # 200 RU of downloads need the second day's budget


def teams_text(throttling: str) -> str:
    objects = fixed_objects({"team": (8, 40 * MB)}, item=0.1 * MB)
    return scenario_yaml(
        tenants=[tenant(objects=objects, teams_requests_per_s=20.0, throttling=throttling)],
        proxies=[{"name": "p0", "threads": 8}],
        pools=[{"name": "pool", "members": ["p0"]}],
        repositories=[repository("r", "pool")],
        jobs=[job("tm", "r", workloads=["teams"])],
        calibration=exact_calibration(1 * MB, **NO_SCAN_CPU),
    )


def test_teams_request_cap_answers_429_under_request_semantics() -> None:
    fluid = run(teams_text("fluid")).tasks
    req = run(teams_text("request")).tasks
    # fluid: 8 teams of 400 messages share 20 rps (2.5/s each) below their 4/s ceiling: each
    # loses 160 - 100 = 60 s, accounted as 429s over the mean wait Retry-After x (1 + jitter/2)
    wait = d.RETRY_AFTER_S * (1.0 + 0.5 * d.RETRY_JITTER)
    assert fluid["throttled_requests"].sum() == pytest.approx(8 * 60.0 / wait)
    assert int(req["throttled_requests"].sum()) > 0
    # 8 threads x 4 items/s (the per-team cap) ask 32 rps of a 20 rps cap
    items = float(req["items"].sum())
    assert items / float(req["end"].max()) <= 20.0 * 1.01 + 20.0 / float(req["end"].max())
    assert float(req["end"].max()) >= float(fluid["end"].max())


# -- S3 503 Slow Down and re-partitioning (fact 31) ----------------------------------------------


def s3_text(slow_down: dict[str, Any] | None, put_rate: float = 4.0) -> str:
    # Exchange blobs are 5 MB of source data, plus one metadata object each: 2 PUTs per 5 MB
    objects = fixed_objects({"mailbox": (16, 400 * MB)}, item=1 * MB)
    repo_kw: dict[str, Any] = {"put_rate": put_rate}
    if slow_down is not None:
        repo_kw["slow_down"] = slow_down
    return scenario_yaml(
        tenants=[tenant(objects=objects)],
        proxies=[{"name": "p0", "threads": 16}],
        pools=[{"name": "pool", "members": ["p0"]}],
        repositories=[repository("r", "pool", **repo_kw)],
        jobs=[job("ex", "r")],
        calibration=exact_calibration(2 * MB, **NO_SCAN_CPU),
    )


def test_s3_fluid_put_cap_has_no_slow_down() -> None:
    t = run(s3_text(None)).tasks
    assert int(t["slowdown_requests"].sum()) == 0
    # 4 PUT/s x 2.5 MB per PUT
    assert float(t["bytes_read"].sum()) / float(t["end"].max()) == pytest.approx(10 * MB, rel=1e-6)


def test_s3_slow_down_rejects_and_repartitioning_doubles_the_rate() -> None:
    sd = {"partitions": 1, "max_partitions": 4, "repartition_after": 120, "backoff": 1}
    loaded = sim.load_scenario_text(s3_text(sd))
    world = World(loaded)
    world.run()
    t = world.tasks
    n = t.n
    assert int(t.slowdown_requests[:n].sum()) > 0
    reparts = [e for e in world.events if e["event"] == "repartitioned"]
    assert [e["partitions"] for e in reparts] == [2, 4]  # doubles, capped at max_partitions
    # the first re-partitioning comes repartition_after after the first 503: the bucket holds
    # one second of PUTs (4) and 16 threads at 2 MB/s ask 12.8 PUT/s, so it is empty at 4/8.8 s
    assert reparts[0]["t"] == pytest.approx(120.0 + 1.0 / (12.8 - 4.0) * 4.0, rel=1e-6)
    # once 4 partitions carry 16 PUT/s > 12.8 asked, nothing is rejected any more
    assert world.repositories[0].partitions == 4
    end = float(np.nanmax(t.end[:n]))
    fluid_end = float(run(s3_text(None)).tasks["end"].max())
    assert end < fluid_end  # re-partitioning beats a fixed 4 PUT/s cap


def test_slow_down_is_refused_on_a_local_disk() -> None:
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (1, MB)}))],
        proxies=[{"name": "p0"}],
        repositories=[
            {"name": "disk", "kind": "local", "owner": "p0", "slow_down": {"partitions": 1}}
        ],
        jobs=[job("ex", "disk")],
    )
    with pytest.raises(sim.ScenarioError, match="503 Slow Down is an object-storage answer"):
        sim.load_scenario_text(text)
