"""End-to-end model tests: tiny scenarios through ``sim.simulate`` with exactly known outcomes.

Every scenario uses ``exact_calibration`` (no per-object overhead, no resolve/metadata/restore
phases, no change noise, unlimited proxy processing, items and repositories unless a test sets a
limit), so a task's transfer takes its work divided by its rate and the oracles are exact: FCFS
and processor-sharing traces (docs/validation.md, Cases, T24; PS: each of k jobs gets 1/k of the
capacity, Kleinrock, Queueing Systems Vol. 2 (1976) Ch. 4).

The proxy's per-object scan CPU stays at its shipped default: before its bytes move, an object
holds one of its proxy's cores for ``SCAN`` seconds. Every proxy here has at least as many cores
as threads, so no scan waits for a core and a task's service time is ``SCAN + work / rate``: the
FCFS traces are those of that service time, the PS traces start ``SCAN`` after each arrival.
Tests that measure a capacity limit's rate over a busy span leave the scan out (``NO_SCAN_CPU``,
as tests/test_limits.py does), since it opens a gap of ``SCAN`` seconds in the span.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
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

from sim import defaults as d

MB = 1e6
DAY = 86_400.0
SCAN = d.CPU_PER_OBJECT_S_OF_WORKLOAD["exchange"]
"""Seconds an object's scan holds a core of a Windows proxy (the same for every workload)."""
assert set(d.CPU_PER_OBJECT_S_OF_WORKLOAD.values()) == {SCAN}


def one_pool(
    objects: dict[str, Any],
    proxies: list[dict[str, Any]],
    policy: str = "pull_fifo",
    jobs: list[dict[str, Any]] | None = None,
    members: list[str] | None = None,
    repo: dict[str, Any] | None = None,
    tenant_kw: dict[str, Any] | None = None,
    **kw: Any,
) -> str:
    """One tenant, one pool of ``proxies`` (in ``members`` order), one repository."""
    return scenario_yaml(
        tenants=[tenant(objects=objects, **(tenant_kw or {}))],
        proxies=proxies,
        pools=[
            {
                "name": "pool",
                "members": members or [p["name"] for p in proxies],
                "policy": policy,
            }
        ],
        repositories=[repo or repository("r", "pool")],
        jobs=jobs or [job("j", "r")],
        **kw,
    )


def by_task(tasks: pd.DataFrame, col: str) -> list[Any]:
    return list(tasks.sort_values("task")[col])


# -- FCFS and PS traces (docs/validation.md, Cases, T24) -----------------------------------------


def test_pull_fifo_two_threads_is_fcfs() -> None:
    # FCFS, 2 threads, service times SCAN + (1, 2, 3) at t = 0 -> completions SCAN + 1,
    # SCAN + 2, 2 SCAN + 4
    objects = fixed_objects(
        {"mailbox": (1, 1 * MB), "archive_mailbox": (1, 2 * MB), "shared_mailbox": (1, 3 * MB)}
    )
    text = one_pool(
        objects,
        [{"name": "p1", "threads": 2}],
    )
    r = run(text)
    t = r.tasks.sort_values("task")
    np.testing.assert_allclose(t["work_bytes"], [1 * MB, 2 * MB, 3 * MB], rtol=1e-12)
    start = [0, 0, SCAN + 1]
    np.testing.assert_allclose(t["start"], start, rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["end"], [SCAN + 1, SCAN + 2, 2 * SCAN + 4], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["wait_s"], start, rtol=0, atol=1e-9)
    assert (t["status"] == "done").all()
    assert (t["bottleneck"] == "source").all()  # the per-thread ceiling counts as source


def three_arrivals(threads: int, **proxy: Any) -> str:
    """Jobs (arrival, size) = (0, 3), (1, 1), (2, 1) in MB and seconds: three jobs, each with a
    third of the tenant's Exchange objects, starting at 00:00:00, 00:00:01 and 00:00:02. A
    ``processing_rate`` is the proxy's 8 cores at ``bps_per_core``, so a scan takes SCAN s."""
    third = 1 / 3
    rate = proxy.get("processing_rate")
    cal = exact_calibration(**({} if rate is None else {"bps_per_core": rate / 8}))
    return one_pool(
        fixed_objects({"mailbox": (1, 3 * MB), "archive_mailbox": (2, 1 * MB)}),
        [{"name": "p1", "threads": threads, **proxy}],
        jobs=[
            job("a", "r", daily="00:00:00", share=third, share_offset=0.0),
            job("b", "r", daily="00:00:01", share=third, share_offset=third),
            job("c", "r", daily="00:00:02", share=third, share_offset=2 * third),
        ],
        calibration=cal,
    )


def test_pull_fifo_one_thread_fcfs_with_arrivals() -> None:
    # FCFS, 1 thread, jobs (0, 3), (1, 1), (2, 1), each with the scan's SCAN s of service
    # more -> completions SCAN + 3, 2 SCAN + 4, 3 SCAN + 5
    r = run(three_arrivals(threads=1))
    t = r.tasks.sort_values("ready")
    assert t["job"].astype(str).tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(t["ready"], [0, 1, 2], rtol=0, atol=1e-9)
    end = [SCAN + 3, 2 * SCAN + 4, 3 * SCAN + 5]
    np.testing.assert_allclose(t["end"], end, rtol=0, atol=1e-9)


def test_processor_sharing_through_the_model() -> None:
    # a proxy whose processing capacity (1 MB/s) is the only limit is a PS server once the
    # scans (one core each, in parallel) are done: jobs (0, 3), (1, 1), (2, 1) reach it at
    # SCAN, SCAN + 1, SCAN + 2 -> completions SCAN + (5, 3.5, 4.5)
    r = run(three_arrivals(threads=8, processing_rate=1 * MB))
    t = r.tasks.sort_values("ready")
    np.testing.assert_allclose(t["end"], SCAN + np.array([5, 3.5, 4.5]), rtol=0, atol=1e-9)
    assert (t["bottleneck"] == "proxy").all()


def test_processor_sharing_sizes_at_time_zero() -> None:
    # PS, sizes (1, 2, 3) at t = 0, scanned in parallel -> completions SCAN + (3, 5, 6)
    objects = fixed_objects(
        {"mailbox": (1, 1 * MB), "archive_mailbox": (1, 2 * MB), "shared_mailbox": (1, 3 * MB)}
    )
    proxy = {"name": "p1", "threads": 3, "processing_rate": 1 * MB}  # 8 cores
    r = run(one_pool(objects, [proxy], calibration=exact_calibration(bps_per_core=MB / 8)))
    end = SCAN + np.array([3, 5, 6])
    np.testing.assert_allclose(by_task(r.tasks, "end"), end, rtol=0, atol=1e-9)
    # the time series holds every byte, at most 1 MB per second of bucket
    ts = r.timeseries
    assert ts["bytes"].sum() == pytest.approx(6 * MB, rel=1e-12)
    assert (ts["rate_bps"] <= 1 * MB * (1 + 1e-9)).all()


# -- push policies --------------------------------------------------------------------------------


def test_round_robin_alternates_in_member_order() -> None:
    # proxies are declared a, b, c but the pool lists them b, a, c: rotation follows the pool
    objects = fixed_objects({"mailbox": (7, 1 * MB)})
    proxies = [{"name": n, "threads": 4} for n in ("a", "b", "c")]
    r = run(one_pool(objects, proxies, policy="round_robin", members=["b", "a", "c"]))
    assert by_task(r.tasks, "proxy") == ["b", "a", "c", "b", "a", "c", "b"]
    assert (r.tasks["status"] == "done").all()


def test_round_robin_ignores_load() -> None:
    # a has 1 thread, b has 8: rotation still alternates, so a queues 3 tasks of SCAN + 1 s
    objects = fixed_objects({"mailbox": (6, 1 * MB)})
    proxies = [{"name": "a", "threads": 1}, {"name": "b", "threads": 8}]
    r = run(one_pool(objects, proxies, policy="round_robin"))
    t = r.tasks.sort_values("task")
    assert t["proxy"].tolist() == ["a", "b"] * 3
    one = SCAN + 1
    np.testing.assert_allclose(t[t["proxy"] == "a"]["end"], [one, 2 * one, 3 * one], atol=1e-9)
    np.testing.assert_allclose(t[t["proxy"] == "b"]["end"], [one] * 3, rtol=0, atol=1e-9)


def test_least_active_threads_picks_the_least_busy() -> None:
    # a: 1 thread, b: 3 threads; six tasks of SCAN + 1 s submitted at once. (active, queued)
    # before each:
    # t0 a(0,0) b(0,0) -> a | t1 a(1,0) b(0,0) -> b | t2 a(1,0) b(1,0) -> a (tie: member order)
    # t3 a(1,1) b(1,0) -> b (tie on active, fewer queued) | t4 a(1,1) b(2,0) -> a (queued
    # tasks do not count) | t5 a(1,2) b(2,0) -> a
    objects = fixed_objects({"mailbox": (6, 1 * MB)})
    proxies = [{"name": "a", "threads": 1}, {"name": "b", "threads": 3}]
    r = run(one_pool(objects, proxies, policy="least_active_threads"))
    t = r.tasks.sort_values("task")
    assert t["proxy"].tolist() == ["a", "b", "a", "b", "a", "a"]
    one = SCAN + 1
    end_a = one * np.arange(1, 5)
    np.testing.assert_allclose(t[t["proxy"] == "a"]["end"], end_a, rtol=0, atol=1e-9)
    np.testing.assert_allclose(t[t["proxy"] == "b"]["end"], [one] * 2, rtol=0, atol=1e-9)


def test_least_active_threads_follows_completions() -> None:
    # job x at t = 0: one task of SCAN + 10 s (-> a) and one of SCAN + 1 s (-> b). Job y at
    # t = SCAN + 5: b is idle again and a is still busy, so both of y's tasks go to b, then the
    # tie goes to a.
    y_at = int(SCAN) + 5
    text = scenario_yaml(
        tenants=[
            tenant(
                "tx", objects=fixed_objects({"mailbox": (1, 10 * MB), "archive_mailbox": (1, MB)})
            ),
            tenant("ty", objects=fixed_objects({"mailbox": (3, 1 * MB)})),
        ],
        proxies=[{"name": "a", "threads": 4}, {"name": "b", "threads": 4}],
        pools=[{"name": "pool", "members": ["a", "b"], "policy": "least_active_threads"}],
        repositories=[repository("r", "pool")],
        jobs=[job("x", "r", tenant="tx"), job("y", "r", tenant="ty", daily=f"00:00:{y_at:02d}")],
    )
    r = run(text)
    t = r.tasks.sort_values("task")
    assert t["proxy"].tolist() == ["a", "b", "b", "a", "b"]


# -- repositories and owners ----------------------------------------------------------------------


def test_standalone_proxy_with_its_own_repository() -> None:
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (4, 2 * MB), "onedrive": (2, 4 * MB)}))],
        proxies=[
            {"name": "pooled", "threads": 4},
            {"name": "solo", "threads": 2},
        ],
        pools=[{"name": "pool", "members": ["pooled"]}],
        repositories=[
            repository("pool-repo", "pool"),
            repository("local-disk", "solo", kind="local"),
        ],
        jobs=[
            job("mail", "local-disk", workloads=["exchange"]),
            job("files", "pool-repo", workloads=["onedrive"]),
        ],
    )
    r = run(text)
    t = r.tasks
    assert (t["status"] == "done").all()
    assert set(t[t["job"] == "mail"]["proxy"]) == {"solo"}
    assert set(t[t["job"] == "files"]["proxy"]) == {"pooled"}
    # solo: 2 threads, four mailboxes of SCAN + 2 s -> two waves
    mail = t[t["job"] == "mail"].sort_values("task")
    wave = SCAN + 2
    np.testing.assert_allclose(mail["end"], [wave, wave, 2 * wave, 2 * wave], atol=1e-9)
    px = r.proxies.set_index("proxy")
    assert px.loc["solo", "pool"] == ""
    assert px.loc["solo", "tasks"] == 4 and px.loc["pooled", "tasks"] == 2


# -- sessions: full, incremental, window -----------------------------------------------------------


def test_first_session_full_then_incremental() -> None:
    size = 100 * MB
    n = 20
    objects = fixed_objects({"mailbox": (n, size)}, item=1 * MB, daily_change=0.01)
    r = run(one_pool(objects, [{"name": "p1", "threads": 4}], days=2))
    t = r.tasks
    day1 = t[t["session"] == 0].sort_values("task")
    day2 = t[t["session"] == 1].sort_values("task")
    assert len(day1) == len(day2) == n
    assert day1["full"].all() and not day2["full"].any()
    assert day1["changed"].all()  # a full reads every object
    np.testing.assert_allclose(day1["work_bytes"], size, rtol=1e-12)
    np.testing.assert_allclose(day1["items"], 100, rtol=0)
    # a mailbox changes on a day with probability p, so over the e days since its last good
    # backup started with q = 1 - (1 - p)^e; one that changed carries daily_change x e / q of
    # its size (the expected change stays the daily change), one that did not, nothing
    p = d.CHANGE_PROBABILITY_OF_TYPE["mailbox"]
    changed = day2["changed"].to_numpy()
    assert 0 < changed.sum() < n  # seed 0 draws both kinds
    elapsed = (day2["ready"].to_numpy() - day1["start"].to_numpy()) / DAY
    # the first wave (4 threads) started at t = 0; later waves started later, so less elapsed
    np.testing.assert_allclose(elapsed[:4], 1.0, rtol=1e-12)
    assert (elapsed[4:] < 1.0).all()
    q = 1.0 - (1.0 - p) ** elapsed
    expected = np.where(changed, size * 0.01 * elapsed / q, 0.0)
    np.testing.assert_allclose(day2["work_bytes"], expected, rtol=1e-12)
    np.testing.assert_allclose(day2["items"], np.where(changed, 1, 0))  # round(100 x 0.011)
    assert (day2["work_bytes"] < day1["work_bytes"].to_numpy()).all()
    s = r.sessions.sort_values("day")
    assert s["full_objects"].tolist() == [n, 0]
    np.testing.assert_allclose(s["bytes_read"], [n * size, expected.sum()], rtol=1e-9)
    np.testing.assert_allclose(s["scheduled"], [0, DAY], rtol=0)


def terminated_run(days: int = 1) -> Any:
    # one thread at 1 MB/s, three 1,000 MB mailboxes, 100 s window: the first is stopped after
    # 100 s (its scan, then 100 - SCAN MB moved), the other two never start
    objects = fixed_objects({"mailbox": (3, 1000 * MB)})
    return run(
        one_pool(
            objects,
            [{"name": "p1", "threads": 1}],
            jobs=[job("j", "r", window=100, terminate_on_window=True)],
            days=days,
        )
    )


def test_terminate_on_window_stops_the_session_and_keeps_bytes() -> None:
    r = terminated_run()
    t = r.tasks.sort_values("task")
    assert (t["status"] == "cancelled").all()
    moved = (100 - SCAN) * MB
    np.testing.assert_allclose(t["bytes_read"], [moved, 0, 0], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(t["bytes_written"], [0.55 * moved, 0, 0], rtol=1e-12, atol=1e-6)
    assert t["end"].iloc[0] == pytest.approx(100.0, abs=1e-9)
    s = r.sessions.iloc[0]
    assert bool(s["terminated"])
    assert s["objects_done"] == 0
    assert s["bytes_read"] == pytest.approx(moved, rel=1e-12)
    assert s["end"] == pytest.approx(100.0, abs=1e-9)
    assert r.metric("objects_failed_or_cancelled") == 3
    assert r.metric("bytes_read") == pytest.approx(moved / 1e9, rel=1e-12)  # GB


def test_bytes_of_a_stopped_transfer_count_for_its_proxy() -> None:
    # regression: stop_session once recorded the bytes in the task table only
    r = terminated_run()
    moved = (100 - SCAN) * MB
    assert r.tasks["bytes_read"].sum() == pytest.approx(moved, rel=1e-12)
    px = r.proxies.iloc[0]
    assert px["bytes_read"] == pytest.approx(moved, rel=1e-12)


def test_terminated_session_is_not_within_window() -> None:
    r = terminated_run()
    s = r.sessions.iloc[0]
    assert bool(s["terminated"])
    assert not bool(s["within_window"])
    assert r.metric("window_compliance") == 0.0


def test_objects_of_a_terminated_session_stay_due_as_fulls() -> None:
    # nothing completed on day 1, so day 2 must read every object in full again
    r = terminated_run(days=2)
    day2 = r.tasks[r.tasks["session"] == 1]
    assert len(day2) == 3
    assert day2["full"].all()
    np.testing.assert_allclose(day2["work_bytes"], 1000 * MB, rtol=1e-12)


def test_window_without_terminate_lets_the_session_finish() -> None:
    objects = fixed_objects({"mailbox": (2, 100 * MB)})
    r = run(
        one_pool(
            objects,
            [{"name": "p1", "threads": 1}],
            jobs=[job("j", "r", window=150)],
        )
    )
    s = r.sessions.iloc[0]
    assert (r.tasks["status"] == "done").all()
    assert s["makespan_s"] == pytest.approx(2 * (SCAN + 100), abs=1e-9)
    assert not bool(s["within_window"]) and not bool(s["terminated"])
    assert r.metric("window_compliance") == 0.0


# -- bottlenecks and caps -----------------------------------------------------------------------


def test_slow_repository_makes_target_the_bottleneck() -> None:
    # write bandwidth 100 kB/s, Exchange compression 0.55: each of two transfers gets
    # 1e5 / 0.55 / 2 B/s while both run (after their scans), far below the 1 MB/s ceiling
    objects = fixed_objects({"mailbox": (2, 1 * MB)})
    repo = repository("r", "pool", write_bandwidth=100_000)
    r = run(one_pool(objects, [{"name": "p1", "threads": 2}], repo=repo))
    t = r.tasks
    assert (t["bottleneck"] == "target").all()
    assert (t["target_s"] > 0).all()
    np.testing.assert_allclose(t["end"], SCAN + 2 * MB * 0.55 / 1e5, rtol=1e-9)
    assert r.metric("bottleneck_target") == pytest.approx(1.0)


def proxy_throughput(tasks: pd.DataFrame, proxy: str) -> float:
    t = tasks[tasks["proxy"] == proxy]
    return float(t["bytes_read"].sum() / (t["end"].max() - t["start"].min()))


def test_proxy_throttle_caps_its_throughput() -> None:
    # p1 is throttled to 16 Mbps = 2 MB/s; eight 1 MB/s threads would want 8 MB/s. No scan
    # CPU: the rate is measured over the busy span (module docstring)
    objects = fixed_objects({"mailbox": (40, 10 * MB)})
    proxies = [
        {"name": "p1", "threads": 8, "throttle": "16 Mbps"},
        {"name": "p2", "threads": 8},
    ]
    r = run(one_pool(objects, proxies, bucket=5, calibration=exact_calibration(**NO_SCAN_CPU)))
    assert proxy_throughput(r.tasks, "p1") == pytest.approx(2 * MB, rel=0.01)
    assert proxy_throughput(r.tasks, "p2") == pytest.approx(8 * MB, rel=0.01)
    ts = r.timeseries
    assert (ts[ts["proxy"] == "p1"]["rate_bps"] <= 2 * MB * (1 + 1e-9)).all()
    p1 = r.tasks[r.tasks["proxy"] == "p1"]
    assert (p1["bottleneck"] == "proxy").all()


@pytest.mark.parametrize("n_proxies", [1, 3])
def test_tenant_ru_budget_caps_onedrive(n_proxies: int) -> None:
    # 600 RU/min = 10 RU/s; a 10 MB OneDrive of 1 MB items read in full costs 16.01 RU (10
    # downloads, 1.01 delta pages, a 5 RU permission read: vb365 fact 26), so the tenant can read
    # at most 10 RU/s x 10 MB / 16.01 = 6.2 MB/s however many proxies and threads it has
    item = 10 * MB / (10 + 1 + 0.01 + 5)  # bytes per RU
    objects = fixed_objects({"onedrive": (40, 10 * MB)}, item=1 * MB)
    proxies = [{"name": f"p{i}", "threads": 8} for i in range(n_proxies)]
    text = one_pool(
        objects,
        proxies,
        jobs=[job("files", "r", workloads=["onedrive"])],
        tenant_kw={"sharepoint_ru_per_min": 600},
        calibration=exact_calibration(thread_rate=4 * MB, **NO_SCAN_CPU),  # a rate over the span
    )
    r = run(text)
    t = r.tasks
    rate = t["bytes_read"].sum() / (t["end"].max() - t["start"].min())
    assert rate == pytest.approx(600 / 60 * item, rel=0.01)
    assert rate <= 600 / 60 * item * (1 + 1e-9)
    assert (t["bottleneck"] == "source").all()
    assert r.metric("throttled_fraction") == pytest.approx(1.0)


def test_ru_budget_default_follows_the_licence_tier() -> None:
    # 1,500 users -> 2,400 RU/min (vb365 fact 26) = 40 RU/s; 10 MB OneDrives of 1 MB items at
    # 16.01 RU each -> 25 MB/s, below the 8 x 10 MB/s the threads could read (40 tasks = 5 full
    # waves of 8)
    objects = fixed_objects({"onedrive": (40, 10 * MB)}, item=1 * MB)
    text = one_pool(
        objects,
        [{"name": "p1", "threads": 8}],
        jobs=[job("files", "r", workloads=["onedrive"])],
        tenant_kw={"users": 1500},
        calibration=exact_calibration(thread_rate=10 * MB, **NO_SCAN_CPU),  # a rate over the span
    )
    t = run(text).tasks
    rate = t["bytes_read"].sum() / (t["end"].max() - t["start"].min())
    assert rate == pytest.approx(2400 / 60 * 10 * MB / (10 + 1 + 0.01 + 5), rel=0.01)


# -- proxy states -------------------------------------------------------------------------------


def _policies() -> list[str]:
    from sim.policies import PolicyError, available, make_policy

    out = []
    for name in available():
        try:
            make_policy(name, {})
        except PolicyError:
            continue
        out.append(name)
    return out


@pytest.mark.parametrize("policy", _policies())
def test_maintenance_member_takes_no_work(policy: str) -> None:
    # vb365 fact 6: only active members are given objects, whatever the policy
    objects = fixed_objects({"mailbox": (12, 1 * MB)})
    proxies = [
        {"name": "a", "threads": 4},
        {"name": "m", "threads": 4, "state": "maintenance"},
        {"name": "b", "threads": 2},
    ]
    r = run(one_pool(objects, proxies, policy=policy))
    t = r.tasks
    assert (t["status"] == "done").all()
    assert "m" not in set(t["proxy"].astype(str))
    assert r.proxies.set_index("proxy").loc["m", "bytes_read"] == 0


# -- a scan shares its proxy's processing with the transfers --------------------------------------


def _scan_beside_a_transfer(thread_rate: float) -> pd.DataFrame:
    """One proxy with one core of 1 MB/s and two threads: job a (one 100 MB mailbox) at 0 s,
    job b (one 1 MB archive) at 10 s, when a's transfer moves at ``thread_rate``."""
    objects = fixed_objects({"mailbox": (1, 100 * MB), "archive_mailbox": (1, 1 * MB)})
    text = one_pool(
        objects,
        [{"name": "p1", "threads": 2, "cores": 1}],
        jobs=[
            job("a", "r", daily="00:00:00", share=0.5, share_offset=0.0),
            job("b", "r", daily="00:00:10", share=0.5, share_offset=0.5),
        ],
        calibration=exact_calibration(thread_rate=thread_rate, bps_per_core=1 * MB),
    )
    return run(text).tasks.set_index("job")


def test_a_scan_gets_the_cores_the_transfers_leave() -> None:
    # a's transfer uses 0.25 of the core from SCAN; b's scan (SCAN MB of processing) starts at
    # 10 s on what is left, 0.75 MB/s -> ends 10 + SCAN / 0.75; its 1 MB then moves at 0.25
    t = _scan_beside_a_transfer(0.25 * MB)
    b_scan = 10 + SCAN / 0.75
    assert t.loc["b", "end"] == pytest.approx(b_scan + 4, abs=1e-9)
    assert t.loc["a", "end"] == pytest.approx(SCAN + 400, abs=1e-9)  # a is not slowed


def test_a_scan_gets_at_least_its_fair_share_of_a_busy_proxy() -> None:
    # a's transfer uses the whole core (1 MB/s): nothing is left, so b's scan gets the fair share
    # of the two runnable threads, 0.5 MB/s -> ends 10 + 2 SCAN; then both transfers share the
    # core (0.5 each): b's 1 MB takes 2 s; a moved 10 + 2 SCAN - SCAN + 1 MB by then
    t = _scan_beside_a_transfer(100 * MB)
    b_scan = 10 + 2 * SCAN
    assert t.loc["b", "end"] == pytest.approx(b_scan + 2, abs=1e-9)
    assert t.loc["a", "end"] == pytest.approx(SCAN + 100 + 1, abs=1e-9)
