"""Invariants of whole runs over small random scenarios (Hypothesis, derandomized).

Each example draws an estate (users, proxies, pools or a standalone proxy, policy, jobs that split
workloads and shares, repositories with their own compression, 1-3 days) and checks what must
hold for any run: every object in scope is processed exactly once per session, threads are never
oversubscribed, no proxy moves more than its capacity, bytes written follow compression, and the
seed alone fixes the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.scenario import WORKLOADS, run, scenario_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import defaults as d
from sim.experiment.run import RunResult
from sim.policies import PolicyError, available, make_policy


def _usable_policies() -> list[str]:
    """Registered policies that need no parameters (plug-ins may require some)."""
    out = []
    for name in available():
        try:
            make_policy(name, {})
        except PolicyError:
            continue
        out.append(name)
    return out


POLICIES = _usable_policies()
TYPES_OF = {w: [t for t in d.OBJECT_TYPES if d.WORKLOAD_OF_TYPE[t] == w] for w in WORKLOADS}


@dataclass
class Drawn:
    """A random scenario and what the test needs to know about it."""

    text: str
    data: dict[str, Any]
    counts: dict[str, int]
    """Objects per type, from the documented generation rule."""


@st.composite
def scenarios(draw: st.DrawFn) -> Drawn:
    users = draw(st.integers(20, 200))
    team_per_user = draw(st.sampled_from([0.0, 0.02, 0.05]))
    objects: dict[str, Any] = {
        t: {"mean_size": draw(st.sampled_from([2e6, 10e6, 40e6]))} for t in d.OBJECT_TYPES
    }
    objects["team"]["per_user"] = team_per_user
    counts = {
        t: round(users * (team_per_user if t == "team" else d.OBJECTS_PER_USER[t]))
        for t in d.OBJECT_TYPES
    }

    n_proxies = draw(st.integers(1, 4))
    proxies = []
    for i in range(n_proxies):
        p: dict[str, Any] = {
            "name": f"px{i}",
            "threads": draw(st.integers(1, 8)),
            "cores": draw(st.integers(1, 8)),
            "os": draw(st.sampled_from(["windows", "linux"])),
        }
        if draw(st.booleans()):
            p["throttle"] = draw(st.sampled_from([5e6, 20e6, 50e6]))
        proxies.append(p)
    names = [p["name"] for p in proxies]
    layout = draw(st.sampled_from(["one", "two", "standalone"])) if n_proxies > 1 else "one"
    policy = draw(st.sampled_from(POLICIES))
    if layout == "one":
        pools = [{"name": "pool-a", "members": names, "policy": policy}]
        owners = ["pool-a"]
    elif layout == "two":
        cut = draw(st.integers(1, n_proxies - 1))
        pools = [
            {"name": "pool-a", "members": names[:cut], "policy": policy},
            {"name": "pool-b", "members": names[cut:], "policy": draw(st.sampled_from(POLICIES))},
        ]
        owners = ["pool-a", "pool-b"]
    else:
        pools = [{"name": "pool-a", "members": names[:-1], "policy": policy}]
        owners = ["pool-a", names[-1]]
    repositories = [
        {
            "name": f"repo-{owner}",
            "owner": owner,
            "kind": "s3",
            "compression": {w: draw(st.sampled_from([0.3, 0.55, 0.8, 1.0])) for w in WORKLOADS},
        }
        for owner in owners
    ]

    # jobs: the workloads split into groups, each group's objects split into 1-2 share slices
    order = draw(st.permutations(list(WORKLOADS)))
    n_groups = draw(st.integers(1, 3))
    cuts = sorted(draw(st.sets(st.integers(1, 3), min_size=n_groups - 1, max_size=n_groups - 1)))
    groups = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, 4], strict=True)]
    jobs = []
    for g, wls in enumerate(groups):
        slices = draw(st.sampled_from([[(0.0, 1.0)], [(0.0, 0.5), (0.5, 0.5)], [(0.0, 0.3)]]))
        for s, (offset, share) in enumerate(slices):
            hour = draw(st.integers(0, 23))
            jobs.append(
                {
                    "name": f"job{g}-{s}",
                    "tenant": "t",
                    "workloads": wls,
                    "share": share,
                    "share_offset": offset,
                    "repository": draw(st.sampled_from(repositories))["name"],
                    "schedule": {"daily": f"{hour:02d}:{draw(st.sampled_from([0, 30])):02d}"},
                }
            )
    data: dict[str, Any] = {
        "tenants": [{"name": "t", "users": users, "objects": objects}],
        "proxies": proxies,
        "pools": pools,
        "repositories": repositories,
        "jobs": jobs,
        "calibration": {},
        "days": draw(st.integers(1, 3)),
        "bucket": draw(st.sampled_from([60.0, 300.0, 1800.0])),
        "seed": draw(st.integers(0, 10_000)),
    }
    return Drawn(scenario_yaml(**data), data, counts)


def scope_size(drawn: Drawn, jobspec: dict[str, Any]) -> int:
    n = sum(drawn.counts[t] for w in jobspec["workloads"] for t in TYPES_OF[w])
    lo = int(np.floor(jobspec["share_offset"] * n + 1e-9))
    hi = int(np.floor((jobspec["share_offset"] + jobspec["share"]) * n + 1e-9))
    return hi - lo


def max_concurrency(start: np.ndarray, end: np.ndarray) -> int:
    """Most intervals [start, end) open at once; an end at t frees its slot for a start at t."""
    ev = np.concatenate(
        (np.stack([end, np.zeros_like(end)], 1), np.stack([start, np.ones_like(start)], 1))
    )
    ev = ev[np.lexsort((ev[:, 1], ev[:, 0]))]
    level = np.cumsum(np.where(ev[:, 1] == 1, 1, -1))
    return int(level.max()) if level.size else 0


def check_invariants(drawn: Drawn, r: RunResult) -> None:
    data = drawn.data
    t = r.tasks
    assert not r.truncated

    # every object in scope exactly once per session
    assert len(r.sessions) == len(data["jobs"]) * data["days"]
    for jobspec in data["jobs"]:
        expected = scope_size(drawn, jobspec)
        mine = t[t["job"] == jobspec["name"]]
        sessions = r.sessions[r.sessions["job"] == jobspec["name"]]
        assert sessions["objects"].tolist() == [expected] * data["days"]
        if expected == 0:
            assert mine.empty
            continue
        per_session = mine.groupby("session", observed=True)
        assert per_session.ngroups == data["days"]
        for _, rows in per_session:
            assert len(rows) == expected
            assert rows["object"].is_unique
        # the same objects every day
        objs = [frozenset(rows["object"]) for _, rows in per_session]
        assert all(o == objs[0] for o in objs)
    # a job's sessions never overlap and start no earlier than scheduled; only day 1 has fulls
    for _, js in r.sessions.groupby("job", observed=True):
        js = js.sort_values("day")
        assert (js["start"] >= js["scheduled"] - 1e-9).all()
        assert (js["start"].to_numpy()[1:] >= js["end"].to_numpy()[:-1] - 1e-9).all()
        assert (js["full_objects"].to_numpy()[1:] == 0).all()
        assert js["full_objects"].iloc[0] == js["objects"].iloc[0]

    # jobs split workloads and shares: on any day no object is in two jobs
    day = r.sessions["day"].to_numpy()[t["session"].to_numpy()]
    for _, rows in t.groupby(day):
        assert rows["object"].is_unique

    # every task completes and reads its whole work
    assert (t["status"] == "done").all()
    np.testing.assert_allclose(t["bytes_read"], t["work_bytes"], rtol=1e-9, atol=1e-3)
    assert (t["end"] >= t["start"]).all() and (t["start"] >= t["ready"]).all()

    # compression: written = read x the repository's ratio for the workload
    comp = {
        (job["name"], w): next(
            rp["compression"][w] for rp in data["repositories"] if rp["name"] == job["repository"]
        )
        for job in data["jobs"]
        for w in WORKLOADS
    }
    ratio = np.array(
        [comp[(j, w)] for j, w in zip(t["job"].astype(str), t["workload"].astype(str), strict=True)]
    )
    np.testing.assert_allclose(t["bytes_written"], t["bytes_read"] * ratio, rtol=1e-12, atol=0)

    # threads and capacity per proxy
    threads = {p["name"]: p["threads"] for p in data["proxies"]}
    px = r.proxies.set_index("proxy")
    ts = r.timeseries
    bucket = data["bucket"]
    for p in data["proxies"]:
        name = p["name"]
        mine = t[t["proxy"] == name]
        assert max_concurrency(mine["start"].to_numpy(), mine["end"].to_numpy()) <= threads[name]
        limit = float(px.loc[name, "capacity_bps"])
        if "throttle" in p:
            limit = min(limit, p["throttle"])
        moved = ts[ts["proxy"] == name]["bytes"].to_numpy()
        assert np.all(moved <= limit * bucket * (1 + 1e-9)), (name, moved.max(), limit * bucket)
        assert px.loc[name, "bytes_read"] == pytest.approx(mine["bytes_read"].sum(), rel=1e-9)
    # the time series holds every byte read
    assert ts["bytes"].sum() == pytest.approx(t["bytes_read"].sum(), rel=1e-9)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(scenarios())
def test_run_invariants(drawn: Drawn) -> None:
    check_invariants(drawn, run(drawn.text))


TASK_KEYS = ["job", "session", "object", "proxy", "ready", "start", "end", "work_bytes"]


@settings(max_examples=4, deadline=None, derandomize=True, database=None)
@given(scenarios())
def test_seed_determines_the_run(drawn: Drawn) -> None:
    loaded = sim.load_scenario_text(drawn.text)
    seed = drawn.data["seed"]
    a = sim.simulate(loaded, seed=seed)
    b = sim.simulate(loaded, seed=seed)
    pd.testing.assert_frame_equal(a.tasks, b.tasks)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    c = sim.simulate(loaded, seed=seed + 1)
    assert not a.tasks[TASK_KEYS].equals(c.tasks[TASK_KEYS])
    assert not np.allclose(
        a.tasks.sort_values("task")["work_bytes"], c.tasks.sort_values("task")["work_bytes"]
    )


@st.composite
def windowed(draw: st.DrawFn) -> Drawn:
    """A random scenario whose jobs have short windows that stop their sessions."""
    drawn = draw(scenarios())
    for jobspec in drawn.data["jobs"]:
        jobspec["schedule"]["window"] = draw(st.sampled_from([60.0, 600.0, 3600.0]))
        jobspec["schedule"]["terminate_on_window"] = True
    return Drawn(scenario_yaml(**drawn.data), drawn.data, drawn.counts)


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(windowed())
def test_terminated_sessions_release_everything(drawn: Drawn) -> None:
    r = run(drawn.text)
    t = r.tasks
    s = r.sessions
    assert set(t["status"].astype(str)) <= {"done", "cancelled"}
    assert (t["bytes_read"] <= t["work_bytes"] * (1 + 1e-9) + 1e-3).all()
    # nothing of a session runs past its end, and a stopped session ends at its window
    ends = s["end"].to_numpy()[t["session"].to_numpy()]
    assert (t["end"].fillna(0) <= ends + 1e-6).all()
    stopped = s[s["terminated"]]
    np.testing.assert_allclose(
        stopped["end"], np.maximum(stopped["scheduled"] + stopped["window_s"], stopped["start"])
    )
    assert not stopped["within_window"].any()
    # cancelled tasks that never started read nothing
    never = t[(t["status"] == "cancelled") & t["start"].isna()]
    assert (never["bytes_read"] == 0).all()
    # threads are never oversubscribed and freed threads are reused: no run is truncated
    for p in drawn.data["proxies"]:
        mine = t[(t["proxy"] == p["name"]) & t["start"].notna()]
        assert max_concurrency(mine["start"].to_numpy(), mine["end"].to_numpy()) <= p["threads"]
    assert r.timeseries["bytes"].sum() == pytest.approx(t["bytes_read"].sum(), rel=1e-9)
