"""Exchange through EWS and through Microsoft Graph and throttling as Veeam sees
it: a tenant's Exchange throughput saturates as proxies are added, bounded by the
documented budgets; a timeline event switches a tenant's path; request budgets reject only the
threads over the recharge; ``throttled_request_share`` is a fraction of all requests.

Scenarios are exact (``exact_calibration``: no overheads, unlimited proxies and repositories;
``NO_SCAN_CPU``: no per-object scan CPU, which would hold each thread on a core for seconds
before its mailbox's first request) with equal mailboxes of 75 KB items, so the bounds are
arithmetic:

- EWS: at most ``ews_max_concurrency x ews_accounts`` transfers at once (vb365 fact 24), each at
  the thread's ceiling; and the burst/recharge budget: recharge / (server ms per byte).
- Graph: the per-app limit (vb365 fact 25) over the requests per byte of exportItems (20 items
  per request, fact 42) and item discovery.
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
)

from sim import defaults as d
from sim import load_scenario_text
from sim.scenario import ScenarioError

MB = 1e6
ITEM = 75_000.0
CEILING = 1.5 * MB  # bytes/s per thread
MAILBOX = 15 * MB  # 200 items: 10 s at the ceiling
THREADS = 8
BUDGET_MS = 4.0
"""Server time per EWS request here unless a test sets it: one account's recharge then pays
250 ms/s / (0.101 requests per 75 KB item x 4 ms) = 46 MB/s, above its 27 connections at the
ceiling (40.5 MB/s), so the connections bind (at the default, 5.7 ms, the budget would)."""


def text(n_proxies: int, count: int = 540, **tenant_kw: Any) -> str:
    tenant_kw.setdefault("ews_server_ms_per_request", BUDGET_MS)
    objects = fixed_objects({"mailbox": (count, MAILBOX)}, item=ITEM)
    members = [{"name": f"p{i}", "threads": THREADS} for i in range(n_proxies)]
    return scenario_yaml(
        tenants=[{"name": "t", "users": 1, "objects": objects, **tenant_kw}],
        proxies=members,
        pools=[{"name": "pool", "members": [m["name"] for m in members]}],
        repositories=[repository("r", "pool")],
        jobs=[job("ex", "r")],
        calibration=exact_calibration(CEILING, **NO_SCAN_CPU),
    )


def rate(tasks: pd.DataFrame) -> float:
    """Bytes over the busy span of the transfers."""
    return float(tasks["bytes_read"].sum()) / float(tasks["end"].max() - tasks["start"].min())


def curve(proxies: list[int], **tenant_kw: Any) -> list[float]:
    return [rate(run(text(n, **tenant_kw)).tasks) for n in proxies]


def assert_saturating(rates: list[float], bound: float) -> None:
    """Non-decreasing, increments non-increasing (concave), the last ones at the bound."""
    steps = np.diff(rates)
    assert (steps >= -1e-6 * bound).all(), rates
    assert (np.diff(steps) <= 0.02 * bound).all(), rates  # concave up to the tail noise
    assert max(rates) <= bound * 1.001
    assert rates[-1] == pytest.approx(bound, rel=0.03)
    assert rates[-1] - rates[-2] <= 0.01 * bound  # saturated: a proxy more adds nothing


PROXIES = [1, 2, 3, 4, 6, 8]


def test_ews_throughput_saturates_at_the_accounts_connections() -> None:
    # one account: 27 connections x 1.5 MB/s = 40.5 MB/s, whatever the proxies (8 threads each)
    rates = curve(PROXIES, ews_accounts=1)
    assert rates[0] == pytest.approx(THREADS * CEILING, rel=0.02)  # 8 threads: below the cap
    assert_saturating(rates, d.EWS_MAX_CONCURRENCY * CEILING)


def test_ews_connections_scale_with_accounts() -> None:
    one = rate(run(text(8, ews_accounts=1)).tasks)
    two = rate(run(text(8, ews_accounts=2)).tasks)
    assert two == pytest.approx(min(2 * one, 8 * THREADS * CEILING), rel=0.03)


def test_ews_recharge_budget_bounds_the_tenant() -> None:
    # 20 ms per request: 250 ms/s of recharge per account pays (0.1 + 0.001) requests per
    # item of 75 KB at 20 ms each: 250 / (0.101 / 75,000 x 20) = 9.28 MB/s (fluid: no burst)
    ms = 20.0
    bound = d.EWS_RECHARGE_MS_PER_H / 3600.0 / ((0.1 + 0.001) / ITEM * ms)
    rates = curve([1, 2, 4], ews_accounts=1, ews_server_ms_per_request=ms)
    assert rates[0] == pytest.approx(bound, rel=0.01)  # 8 threads ask 12 MB/s: bound at once
    assert_saturating(rates, bound)
    t = run(text(2, ews_accounts=1, ews_server_ms_per_request=ms)).tasks
    assert t["source_s"].sum() > 0  # held by the tenant (the source), not by the thread


def test_ews_refusals_are_counted_and_waits_are_not_transfer_time() -> None:
    r = run(text(8, ews_accounts=1))
    t = r.tasks
    # 64 threads for 27 connections: threads wait, refused (ErrorServerBusy) while they do
    assert t["throttled_requests"].sum() > 0
    # a wait is on the thread but not transfer time: every transfer ran at its ceiling
    assert t["source_s"].sum() == 0.0
    np.testing.assert_allclose(t["thread_s"], MAILBOX / CEILING, rtol=1e-9)
    # never more than 27 transfers at once: sweep the [start + wait, end] intervals
    start = (t["end"] - t["thread_s"]).to_numpy()
    ev = np.concatenate([np.c_[start, np.ones(len(t))], np.c_[t["end"], -np.ones(len(t))]])
    ev = ev[np.lexsort((ev[:, 1], ev[:, 0]))]
    assert np.cumsum(ev[:, 1]).max() <= d.EWS_MAX_CONCURRENCY


def test_graph_throughput_saturates_at_the_app_limit() -> None:
    # 100 requests per 10 s (a lowered parameter, to see the bound): 10 requests/s over
    # (1/20 + 1/1000) requests per item of 75 KB = 14.7 MB/s
    per_10s = 100.0
    bound = per_10s / 10.0 / ((1 / 20 + 1 / 1000) / ITEM)
    rates = curve([1, 2, 3, 4], exchange_api="graph", graph_app_requests_per_10s=per_10s)
    assert rates[0] == pytest.approx(THREADS * CEILING, rel=0.02)  # 12 MB/s: below it
    assert_saturating(rates, bound)


def test_graph_is_not_held_by_ews_connections() -> None:
    ews = rate(run(text(8, ews_accounts=1)).tasks)
    graph = rate(run(text(8, count=640, ews_accounts=1, exchange_api="graph")).tasks)
    assert ews == pytest.approx(27 * CEILING, rel=0.03)
    assert graph == pytest.approx(8 * THREADS * CEILING, rel=0.03)


def switched(day: int = 2) -> str:
    base = text(1, count=8)
    lines = base.splitlines()
    extra = [
        "timeline:",
        f"- {{action: exchange_api, tenant: t, api: graph, day: {day}, at: '12:00'}}",
    ]
    out = "\n".join(lines).replace("days: 1", "days: 3") + "\n" + "\n".join(extra) + "\n"
    return out


def test_timeline_switches_a_tenants_exchange_path_on_a_date() -> None:
    r = run(switched())
    ev = r.events[r.events["event"] == "exchange_api"]
    assert len(ev) == 1 and ev.iloc[0]["api"] == "graph" and ev.iloc[0]["before"] == "ews"
    assert float(ev.iloc[0]["t"]) == pytest.approx(86_400 + 12 * 3600)
    t = r.tasks
    # sessions before the switch read through EWS (10 items per GetItem), after it through
    # Graph (20 per exportItems), both with one discovery request per object and 1,000 items
    assert set(t["session"]) == {0, 1, 2}
    t = t[t["items"] > 0]
    base = (t["requests"] - t["throttled_requests"]).to_numpy()
    items = t["items"].to_numpy()
    batch = np.where(t["session"].to_numpy() < 2, 10, 20)
    np.testing.assert_allclose(base, np.ceil(items / batch) + 1 + items / 1000, rtol=1e-9)


def test_exchange_api_event_needs_a_known_tenant_and_an_api() -> None:
    bad = switched().replace("tenant: t,", "tenant: nobody,")
    with pytest.raises(ScenarioError, match="known tenant"):
        load_scenario_text(bad)
    bad = switched().replace("api: graph, ", "")
    with pytest.raises(ScenarioError, match="needs api"):
        load_scenario_text(bad)


def test_throttled_request_share_is_a_fraction_per_workload() -> None:
    r = run(text(8, ews_accounts=1))
    s = r.summary
    row = s[(s["scope"] == "overall") & (s["metric"] == "throttled_request_share")]
    assert row["unit"].item() == "fraction"
    share = float(row["value"].item())
    t = r.tasks
    assert share == pytest.approx(t["throttled_requests"].sum() / t["requests"].sum())
    assert 0.0 < share < 1.0
    per = s[(s["scope"] == "workload:exchange") & (s["metric"] == "throttled_request_share")]
    assert float(per["value"].item()) == pytest.approx(share)


# -- calibration: throttling as Veeam sees it (vb365 facts 21 and 27) ----------------------------


def enterprise_20k(initial_state: str) -> Any:
    import sim

    return sim.simulate(
        "scenarios/enterprise-20k.yaml",
        overrides=["simulation.days=1", f"simulation.initial_state={initial_state}"],
    )


def metric(r: Any, name: str, scope: str = "overall") -> float:
    return float(r.metric(name, scope))


def test_throttled_request_share_on_an_incremental_night_is_in_veeams_band() -> None:
    # Veeam's log example shows ~1.2-1.4 % of requests throttled (fact 27); the band of issue
    # 17 is 0.2-5 % on an incremental night of enterprise-20k (fixed seed 2026)
    r = enterprise_20k("protected")
    share = metric(r, "throttled_request_share")
    assert 0.002 <= share <= 0.05
    # Exchange, through EWS, is throttled far less than that on an incremental
    assert metric(r, "throttled_request_share", "workload:exchange") < 0.02


def test_throttled_fraction_on_an_incremental_night_is_under_15_percent() -> None:
    assert metric(enterprise_20k("protected"), "throttled_fraction") < 0.15


def test_initial_full_is_throttled_more_than_an_incremental() -> None:
    # "most throttling happens on the initial full, rarely on incrementals" (fact 21)
    inc = metric(enterprise_20k("protected"), "throttled_request_share")
    full = metric(enterprise_20k("empty"), "throttled_request_share")
    assert full > inc
