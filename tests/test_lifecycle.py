"""Pool lifecycle: maintenance modes, crashes, roles, membership, upgrades, refusals, metrics.

Sources: vb365 facts 2 (roles, MaintenanceModeState), 6 (maintenance), 7 (add/remove/delete),
8 (upgrade). Scenarios are exact (no overheads, equal objects at 1 MB/s per thread) so every
expected time and byte count below follows from the rules by hand. The lifecycle rules do not
depend on what a proxy's cores cost per object, so the scenarios leave out the per-object scan
CPU (``NO_SCAN_CPU``): a scan of several seconds before each object's first byte (again on the
proxy an object is handed to) would only shift every figure below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers.scenario import (
    NO_SCAN_CPU,
    exact_calibration,
    fixed_objects,
    job,
    repository,
    scenario_yaml,
    tenant,
)

import sim
from sim.model.world import World
from sim.report.folders import write_results
from sim.scenario.schema import with_units

MB = 1e6


def drill(
    *,
    n_proxies: int = 2,
    threads: int = 1,
    objects: int = 2,
    size: float = 100 * MB,
    policy: str = "pull_fifo",
    timeline: list[dict[str, Any]] | None = None,
    lifecycle: dict[str, Any] | None = None,
    standalone: int = 0,
    retry: dict[str, Any] | None = None,
    daily: str = "00:00",
    extra_pools: list[dict[str, Any]] | None = None,
) -> str:
    names = [f"p{i}" for i in range(n_proxies)]
    proxies = [{"name": n, "threads": threads} for n in names]
    proxies += [{"name": f"s{i}", "threads": threads} for i in range(standalone)]
    jkw: dict[str, Any] = {}
    if retry is not None:
        jkw["retry"] = retry
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (objects, size)}))],
        proxies=proxies,
        pools=[{"name": "pool", "members": names, "policy": policy}, *(extra_pools or [])],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", daily=daily, **jkw)],
        calibration=exact_calibration(1 * MB, **NO_SCAN_CPU),  # module docstring
    )
    data = yaml.safe_load(text)
    if timeline:
        data["timeline"] = timeline
    if lifecycle:
        data["lifecycle"] = lifecycle
    return yaml.safe_dump(with_units(data), sort_keys=False)


def world_of(text: str) -> World:
    w = World(sim.load_scenario_text(text))
    w.run()
    assert not w.truncated
    return w


def at(seconds: float) -> dict[str, Any]:
    return {"offset": seconds, "job": "j"}


def tasks_of(w: World) -> dict[str, np.ndarray]:
    n = w.tasks.n
    return {k: v[:n] for k, v in w.tasks.columns().items()}


# -- in-flight modes ----------------------------------------------------------------------------
# two members with one thread each, two 100 MB mailboxes at 1 MB/s: p0 takes task 0, p1 task 1;
# at t = 32 s p0 enters maintenance with 32 MB of task 0 moved (checkpoints every 5 MB: 30 MB)


@pytest.mark.parametrize(
    ("mode", "end0", "redone", "reassigned", "drain_s"),
    [
        ("drain", 100.0, 0.0, 0, 68.0),  # finishes where it is
        ("handoff", 170.0, 2 * MB, 1, 0.0),  # waits for p1 (free at 100 s), 70 MB left
        ("restart", 200.0, 32 * MB, 1, 0.0),  # starts over on p1 at 100 s
    ],
)
def test_in_flight_modes(
    mode: str, end0: float, redone: float, reassigned: int, drain_s: float
) -> None:
    w = world_of(
        drill(
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}],
            lifecycle={"in_flight": mode},
        )
    )
    t = tasks_of(w)
    assert (t["status"] == 1).all()
    assert t["end"][0] == pytest.approx(end0)
    assert t["redone_bytes"][0] == pytest.approx(redone)
    assert t["reassignments"][0] == reassigned
    # nothing lost, nothing counted twice: what was read less what was redone is the object
    assert t["bytes_read"] - t["redone_bytes"] == pytest.approx(t["work_bytes"])
    rec = w.lifecycle.records[0]
    assert rec["outcome"] == "done"
    assert rec["drain_s"] == pytest.approx(drain_s)
    assert rec["reassigned"] == reassigned
    states = [(round(tt, 6), w.proxies[p].name, s) for tt, p, s in w.lifecycle.state_log if tt > 0]
    if mode == "drain":
        assert states == [(32.0, "p0", "enabling"), (100.0, "p0", "maintenance")]
    else:
        assert states == [(32.0, "p0", "maintenance")]


def test_in_flight_modes_keep_their_order_and_bytes_with_the_scan_cpu() -> None:
    """The same drill with the shipped per-object scan CPU (a handed-off object scans again on
    its new proxy): drain still ends first, restart last; hand-off redoes less than a checkpoint
    interval, restart the whole part moved; nothing is lost or counted twice."""
    ends, redone = {}, {}
    for mode in ("drain", "handoff", "restart"):
        text = drill(
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}],
            lifecycle={"in_flight": mode},
        )
        data = yaml.safe_load(text)
        del data["calibration"]["cpu_per_object"]  # the shipped default
        t = tasks_of(world_of(yaml.safe_dump(data, sort_keys=False)))
        assert (t["status"] == 1).all()
        assert t["bytes_read"] - t["redone_bytes"] == pytest.approx(t["work_bytes"])
        ends[mode], redone[mode] = float(t["end"][0]), float(t["redone_bytes"][0])
    assert ends["drain"] < ends["handoff"] < ends["restart"]
    assert redone["drain"] == 0.0
    assert 0.0 <= redone["handoff"] < 5 * MB  # the default checkpoint interval
    assert redone["restart"] > redone["handoff"]


def test_checkpoint_is_a_parameter() -> None:
    w = world_of(
        drill(
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}],
            lifecycle={"in_flight": "handoff", "checkpoint": "16 MB"},
        )
    )
    assert tasks_of(w)["redone_bytes"][0] == 0.0  # 32 MB moved: all kept at the 32 MB mark
    w = world_of(
        drill(
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(40)}],
            lifecycle={"in_flight": "handoff", "checkpoint": "16 MB"},
        )
    )
    assert tasks_of(w)["redone_bytes"][0] == pytest.approx(8 * MB)  # 40 MB: kept 32


def test_queued_work_moves_at_once() -> None:
    # push pool, one thread each, four objects: each member has one running and one queued
    w = world_of(
        drill(
            objects=4,
            policy="round_robin",
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(10)}],
            lifecycle={"in_flight": "drain"},
        )
    )
    t = tasks_of(w)
    assert t["proxy"].tolist() == [0, 1, 1, 1]  # task 2 was queued on p0 and moved to p1
    assert t["reassignments"].tolist() == [0, 0, 1, 0]
    assert w.lifecycle.records[0]["reassigned"] == 1


def test_nothing_is_assigned_to_a_member_in_maintenance() -> None:
    w = world_of(
        drill(
            objects=12,
            n_proxies=3,
            timeline=[
                {"action": "maintenance_on", "proxy": "p1", **at(50)},
                {"action": "maintenance_off", "proxy": "p1", **at(450)},
            ],
        )
    )
    t = tasks_of(w)
    on_p1 = t["proxy"] == 1
    started_in_maintenance = on_p1 & (t["start"] > 50) & (t["start"] < 450)
    assert not started_in_maintenance.any()
    assert (on_p1 & (t["start"] >= 450)).any()  # back at work once maintenance is off


# -- crashes ------------------------------------------------------------------------------------


def test_crash_without_retry_fails_the_object_with_a_reason() -> None:
    w = world_of(drill(timeline=[{"action": "fail", "proxy": "p0", **at(32)}]))
    res = sim.simulate(
        sim.load_scenario_text(drill(timeline=[{"action": "fail", "proxy": "p0", **at(32)}]))
    )
    t = tasks_of(w)
    assert t["status"].tolist() == [2, 1]  # failed, done
    assert t["fail_reason"].tolist() == [2, 0]
    assert t["redone_bytes"][0] == pytest.approx(2 * MB)  # progress since the 30 MB checkpoint
    assert res.tasks["fail_reason"].astype(str).tolist() == ["proxy_crash", ""]
    assert res.sessions["objects_failed"].iloc[0] == 1
    assert w.lifecycle.records[0]["crashed"] == 1


def test_crash_with_retry_resumes_from_the_checkpoint() -> None:
    w = world_of(
        drill(
            timeline=[{"action": "fail", "proxy": "p0", **at(32)}],
            retry={"attempts": 3, "wait": "10min"},
        )
    )
    t = tasks_of(w)
    assert t["status"].tolist() == [1, 1]
    # round 2 starts at 100 s (end of the round) + 600 s on p1: 70 MB left from the checkpoint
    assert t["end"][0] == pytest.approx(700.0 + 70.0)
    assert t["bytes_read"][0] - t["redone_bytes"][0] == pytest.approx(100 * MB)


# -- roles --------------------------------------------------------------------------------------


def test_no_new_object_starts_while_the_orchestrator_fails_over() -> None:
    # p1 holds the Orchestrator; it crashes at 32 s; for 30 s nothing new starts anywhere
    w = world_of(
        drill(
            objects=4,
            threads=1,
            size=20 * MB,
            timeline=[{"action": "fail", "proxy": "p1", **at(10)}],
            lifecycle={"role_failover": "30s"},
        )
    )
    t = tasks_of(w)
    starts = np.sort(t["start"])
    # p0 finishes task 0 at 20 s but waits for the new Orchestrator at 40 s
    assert starts.tolist() == pytest.approx([0.0, 0.0, 40.0, 60.0])
    roles = [(tt, r, h) for tt, _p, r, h in w.lifecycle.role_log]
    assert (10.0, "orchestrator", -1) in roles
    assert (40.0, "orchestrator", 0) in roles


def test_no_session_starts_without_a_scheduler() -> None:
    # p0 (Scheduler) fails at 23:59:50 on day 1; the 00:00 session of day 2 waits for failover
    text = drill(
        daily="00:00",
        timeline=[{"action": "fail", "proxy": "p0", "at": "23:59:50", "day": 1}],
        lifecycle={"role_failover": "60s"},
    )
    data = yaml.safe_load(text)
    data["simulation"]["days"] = 2
    w = world_of(yaml.safe_dump(with_units(data)))
    day2 = [s for s in w.sessions if s.day >= 1]
    assert day2 and day2[0].start == pytest.approx(86_400.0 - 10.0 + 60.0)


def test_roles_are_held_by_active_members_after_the_failover_delay() -> None:
    w = world_of(
        drill(
            n_proxies=3,
            objects=9,
            timeline=[
                {"action": "maintenance_on", "proxy": "p0", **at(5)},
                {"action": "fail", "proxy": "p1", **at(15)},
            ],
            lifecycle={"role_failover": "30s"},
        )
    )
    final = {}
    for tt, _pool, role, holder in w.lifecycle.role_log:
        final[role] = (tt, holder)
    assert final["scheduler"] == (35.0, 2)
    assert final["orchestrator"] == (45.0, 2)


# -- membership, upgrades, deletion ------------------------------------------------------------


def test_added_proxy_takes_work_and_removed_proxy_hands_it_back() -> None:
    w = world_of(
        drill(
            n_proxies=1,
            standalone=1,
            objects=6,
            size=10 * MB,
            timeline=[
                {"action": "add", "proxy": "s0", "pool": "pool", **at(5)},
                {"action": "remove", "proxy": "s0", "pool": "pool", **at(22)},
            ],
        )
    )
    t = tasks_of(w)
    on_s0 = t["proxy"] == 1
    assert on_s0.any()
    assert (t["start"][on_s0] < 22).all()
    moved = t["reassignments"] > 0
    assert moved.sum() == 1  # the object running on s0 at 22 s went back to p0
    assert w.proxies[1].pool == -1
    assert (t["status"] == 1).all()


def test_upgraded_members_wait_until_the_whole_pool_is_upgraded() -> None:
    w = world_of(
        drill(
            n_proxies=2,
            objects=8,
            size=10 * MB,
            timeline=[
                {"action": "upgrade", "proxy": "p0", **at(5)},
                {"action": "upgrade", "proxy": "p1", **at(35)},
            ],
        )
    )
    states = [(tt, w.proxies[p].name, s) for tt, p, s in w.lifecycle.state_log if tt > 0]
    # p0 waits (inactive) from 5 s, its running object finishing there; active again at 35 s
    assert states == [(5.0, "p0", "inactive"), (35.0, "p0", "active")]
    t = tasks_of(w)
    assert not ((t["proxy"] == 0) & (t["start"] > 5) & (t["start"] < 35)).any()
    assert t["end"][0] == pytest.approx(10.0)  # not interrupted (fact 8)


def test_members_in_maintenance_are_ignored_by_the_upgrade_rule() -> None:
    w = world_of(
        drill(
            n_proxies=3,
            objects=6,
            timeline=[
                {"action": "maintenance_on", "proxy": "p2", **at(1)},
                {"action": "upgrade", "proxy": "p0", **at(2)},
                {"action": "upgrade", "proxy": "p1", **at(3)},
            ],
        )
    )
    states = [(tt, w.proxies[p].name, s) for tt, p, s in w.lifecycle.state_log if tt > 0]
    assert (2.0, "p0", "inactive") in states
    assert (3.0, "p0", "active") in states  # p2 in maintenance does not hold the pool back


def test_deleting_a_pool_keeps_its_proxies() -> None:
    spare = {"name": "spare", "members": ["p9"]}
    text = drill(
        timeline=[{"action": "delete_pool", "pool": "spare", **at(5)}],
        extra_pools=[spare],
    )
    data = yaml.safe_load(text)
    data["proxies"].append({"name": "p9"})
    w = world_of(yaml.safe_dump(with_units(data)))
    assert w.pools[1].deleted
    assert w.proxies[w.proxy_index["p9"]].pool == -1
    assert w.proxies[w.proxy_index["p9"]].state == "active"


# -- refusals -----------------------------------------------------------------------------------

REFUSALS = [
    # (requests before, the refused request, message)
    ([], ("maintenance_on", "s0", None), "is not a pool member; maintenance mode is for pool"),
    (
        [("maintenance_on", "p0", None)],
        ("maintenance_on", "p1", None),
        "is the last active member of pool 'pool'; at least one member must stay active",
    ),
    (
        [("maintenance_on", "p0", None)],
        ("maintenance_on", "p0", None),
        "is already in maintenance",
    ),
    ([], ("maintenance_off", "p0", None), "is not in maintenance"),
    ([("fail", "p0", None)], ("fail", "p0", None), "has already failed"),
    ([("maintenance_on", "p0", None)], ("fail", "p0", None), "is in maintenance"),
    ([], ("recover", "p0", None), "has not failed"),
    ([], ("add", "p0", "pool"), "is already a member of pool 'pool'; a proxy can belong to only"),
    ([], ("add", "local", "pool"), "is the default proxy, which cannot be added to a pool"),
    ([], ("add", "owner", "pool"), "owns repositories r2; a repository is owned by a pool or"),
    ([("fail", "s0", None)], ("add", "s0", "pool"), "has failed; recover it first"),
    ([("upgrade", "s0", None)], ("add", "s0", "pool"), "is at version 1 and pool 'pool' at 0"),
    (
        [("maintenance_on", "p0", None)],
        ("remove", "p0", None),
        "a proxy in maintenance cannot be removed",
    ),
    (
        [("fail", "p0", None)],
        ("remove", "p1", None),
        "is the last active member of pool 'pool' and cannot be removed",
    ),
    ([], ("remove", "s0", "pool"), "is not a member of pool 'pool'"),
    (
        [("remove", "p1", None), ("fail", "p0", None)],
        ("remove", "p0", None),
        "is the only member of pool 'pool'; a pool keeps at least one proxy",
    ),
    (
        [("upgrade", "p0", None)],
        ("upgrade", "p0", None),
        "is already upgraded; the pool waits for the others",
    ),
    (
        [("fail", "p1", None)],
        ("upgrade", "p0", None),
        "would leave pool 'pool' with no active member until the other members are upgraded",
    ),
    ([], ("delete_pool", None, "pool"), "owns repositories r; change their owner"),
]


def refusal_world() -> World:
    text = drill(objects=1, standalone=1)
    data = yaml.safe_load(text)
    data["proxies"] += [
        {"name": "local", "default": True},
        {"name": "owner"},
    ]
    data["repositories"].append({"name": "r2", "owner": "owner"})
    return World(sim.load_scenario_text(yaml.safe_dump(with_units(data))))


@pytest.mark.parametrize(("before", "request_", "message"), REFUSALS)
def test_refused_requests_are_refused_with_their_reason(
    before: list[tuple[str, str | None, str | None]],
    request_: tuple[str, str | None, str | None],
    message: str,
) -> None:
    w = refusal_world()
    for action, proxy, pool in before:
        assert w.lifecycle.request(action, proxy, pool) is None
    why = w.lifecycle.request(*request_)
    assert why is not None and message in why
    rec = w.lifecycle.records[-1]
    assert (rec["outcome"], rec["event"]) == ("refused", request_[0])
    assert message in rec["reason"]
    refused = [e for e in w.events if e.get("reason")]
    assert refused and message in refused[-1]["reason"]


def test_policy_that_cannot_serve_the_new_member_refuses_the_add() -> None:
    text = drill(standalone=1)
    data = yaml.safe_load(text)
    data["pools"][0]["policy"] = {
        "name": "weighted_round_robin",
        "params": {"weights": {"p0": 1, "p1": 2}},
    }
    w = World(sim.load_scenario_text(yaml.safe_dump(with_units(data))))
    why = w.lifecycle.request("add", "s0", "pool")
    assert why is not None and "pool 'pool' policy" in why and "s0" in why


def test_a_timeline_the_product_would_refuse_is_an_error_at_validation() -> None:
    text = drill(
        timeline=[
            {"action": "maintenance_on", "proxy": "p0", **at(10)},
            {"action": "remove", "proxy": "p0", **at(20)},
        ]
    )
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario_text(text, "drill.yaml")
    (problem,) = info.value.problems
    text_ = str(problem)
    assert "timeline[1].action" in text_
    assert "refused: proxy 'p0' is in maintenance; a proxy in maintenance cannot be removed" in (
        text_
    )


def test_timeline_replay_order_is_by_time_not_by_listing() -> None:
    # listed off first, on second: in time order it is on (10 s) then off (20 s): accepted
    text = drill(
        timeline=[
            {"action": "maintenance_off", "proxy": "p0", **at(20)},
            {"action": "maintenance_on", "proxy": "p0", **at(10)},
        ]
    )
    sim.load_scenario_text(text)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"action": "fail", **at(1)}, "'fail' needs a proxy"),
        ({"action": "fail", "proxy": "nope", **at(1)}, "unknown proxy 'nope'"),
        ({"action": "add", "proxy": "p0", **at(1)}, "'add' needs a pool"),
        ({"action": "fail", "proxy": "p0"}, "give exactly one of 'at'"),
        ({"action": "fail", "proxy": "p0", "offset": 5, "job": "zz"}, "needs a known job"),
        ({"action": "fail", "proxy": "p0", "offset": 5, "job": "j", "session": 9}, "no session 9"),
        ({"action": "fail", "proxy": "p0", "at": "01:00", "pool": "x"}, "unknown pool 'x'"),
    ],
)
def test_malformed_timeline_events_are_errors(event: dict[str, Any], message: str) -> None:
    with pytest.raises(sim.ScenarioError, match=message):
        sim.load_scenario_text(drill(timeline=[event]))


# -- metrics and results ------------------------------------------------------------------------


def test_lifecycle_metrics_and_files(tmp_path: Path) -> None:
    text = drill(
        n_proxies=4,
        objects=40,
        size=50 * MB,
        timeline=[
            {"action": "maintenance_on", "proxy": "p0", **at(60)},
            {"action": "maintenance_off", "proxy": "p0", **at(240)},
        ],
        lifecycle={"in_flight": "restart"},
    )
    data = yaml.safe_load(text)
    data["simulation"]["bucket"] = 10.0
    loaded = sim.load_scenario_text(yaml.safe_dump(with_units(data)))
    res = sim.simulate(loaded)
    lc = res.lifecycle
    assert lc["event"].tolist() == ["maintenance_on", "maintenance_off"]
    assert lc["outcome"].tolist() == ["done", "done"]
    first = lc.iloc[0]
    # 4 threads at 1 MB/s before, 3 after: the pool rate dips by a quarter
    assert first["throughput_before_bps"] == pytest.approx(4 * MB)
    assert first["throughput_min_after_bps"] == pytest.approx(3 * MB)
    assert first["dip"] == pytest.approx(0.25)
    assert first["redone_bytes"] == pytest.approx(10 * MB)  # 60 MB into a 50 MB object: 10 MB
    assert res.metric("reassigned_tasks") == 1
    assert res.metric("redone_bytes") == pytest.approx(0.01)
    assert res.metric("refused_requests") == 0
    assert res.metric("lifecycle_events") == 2
    assert res.metric("throughput_dip_max") == pytest.approx(0.25)
    states = res.states
    p0 = states[(states["kind"] == "state") & (states["proxy"] == "p0")]
    assert p0[["what", "t_start", "t_end"]].values.tolist()[:2] == [
        ["active", 0.0, 60.0],
        ["maintenance", 60.0, 240.0],
    ]
    folder = write_results(res, tmp_path, run_id="lc")
    for name in ("lifecycle.csv", "states.csv", "events.csv", "plots/lifecycle.png"):
        assert (folder / name).stat().st_size > 0, name


def test_maintenance_drill_scenario_shows_what_each_mode_costs() -> None:
    path = Path(__file__).resolve().parents[1] / "scenarios" / "maintenance-drill.yaml"
    out = {}
    for mode in ("drain", "handoff", "restart"):
        res = sim.simulate(path, overrides=[f"lifecycle.in_flight={mode}"])
        lc = res.lifecycle.set_index("event")
        assert (res.lifecycle["outcome"] == "done").all()
        assert (res.tasks["status"] == "done").all()  # the crash's objects were retried
        out[mode] = (
            float(lc.loc["maintenance_on", "redone_bytes"]),
            int(lc.loc["maintenance_on", "reassigned"]),
            int(lc.loc["fail", "crashed"]),
        )
    # drain: the Enabling phase ends at its 10-minute timeout and hands off what still runs
    assert 0 < out["drain"][1] < out["handoff"][1]
    assert 0.0 < out["handoff"][0] < out["restart"][0]
    assert out["handoff"][1] == out["restart"][1] > 0
    assert out["drain"][2] == out["handoff"][2] > 0


def test_maintenance_drill_hands_off_within_minutes() -> None:
    # "continued smoothly by another" (vb365 fact 6); before the head-of-queue
    # hand-off the 16 objects waited 3.9 h behind 713 queued ones
    path = Path(__file__).resolve().parents[1] / "scenarios" / "maintenance-drill.yaml"
    res = sim.simulate(path)
    on = res.lifecycle[res.lifecycle["event"] == "maintenance_on"].iloc[0]
    assert on["reassigned"] == 16
    assert on["resume_delay_max_s"] <= 600.0
    assert 0.0 <= on["resume_delay_p50_s"] <= on["resume_delay_max_s"]
    drained = sim.simulate(path, overrides=["lifecycle.in_flight=drain"])
    on = drained.lifecycle[drained.lifecycle["event"] == "maintenance_on"].iloc[0]
    assert on["drain_s"] == pytest.approx(600.0)  # the default Enabling bound
    assert on["resume_delay_max_s"] >= 600.0


# -- hand-off: before any queued object, resume delays ------------------------------------------


def test_handed_off_object_goes_before_the_queued_ones() -> None:
    # pull pool, two members with one thread, four 100 MB objects: p0 runs 0, p1 runs 1, 2 and 3
    # wait. At 32 s p0 enters maintenance: object 0 (30 MB kept) takes p1's thread when it frees
    # at 100 s, before 2 and 3 (it used to go behind them and end at 300 s)
    w = world_of(drill(objects=4, timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}]))
    t = tasks_of(w)
    assert t["start"].tolist() == pytest.approx([100.0, 0.0, 170.0, 270.0])
    assert t["end"][0] == pytest.approx(170.0)
    rec = w.lifecycle.records[0]
    assert rec["resume_delays"] == pytest.approx([68.0])


def test_handed_off_object_takes_a_free_thread_at_once() -> None:
    w = world_of(
        drill(
            n_proxies=3, objects=2, timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}]
        )
    )
    t = tasks_of(w)
    assert t["proxy"][0] == 2 and t["start"][0] == pytest.approx(32.0)
    assert t["end"][0] == pytest.approx(32.0 + 70.0)
    assert w.lifecycle.records[0]["resume_delays"] == [0.0]


def test_push_pool_puts_the_handed_off_object_at_the_head_of_the_chosen_queue() -> None:
    # round robin: p0 runs 0 with 2 queued, p1 runs 1 with 3 queued. At 10 s p0 leaves: object 0
    # goes to the head of p1's queue, then 2 (queued on p0) to its tail: p1 runs 0, 3, 2
    w = world_of(
        drill(
            objects=4,
            policy="round_robin",
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(10)}],
        )
    )
    t = tasks_of(w)
    assert t["proxy"].tolist() == [1, 1, 1, 1]
    assert t["start"].tolist() == pytest.approx([100.0, 0.0, 290.0, 190.0])
    assert w.lifecycle.records[0]["resume_delays"] == pytest.approx([90.0])


def test_drain_is_bounded_by_its_timeout_then_hands_off() -> None:
    # drain with a 20 s Enabling bound: at 52 s object 0 (52 MB, 50 MB kept) is handed off and
    # waits for p1's thread (free at 100 s)
    w = world_of(
        drill(
            timeline=[{"action": "maintenance_on", "proxy": "p0", **at(32)}],
            lifecycle={"in_flight": "drain", "drain_timeout": "20s"},
        )
    )
    t = tasks_of(w)
    assert t["end"][0] == pytest.approx(150.0)
    assert t["redone_bytes"][0] == pytest.approx(2 * MB)
    rec = w.lifecycle.records[0]
    assert rec["drain_s"] == pytest.approx(20.0)
    assert rec["reassigned"] == 1
    assert rec["resume_delays"] == pytest.approx([68.0])
    states = [(round(tt, 6), w.proxies[p].name, s) for tt, p, s in w.lifecycle.state_log if tt > 0]
    assert states == [(32.0, "p0", "enabling"), (52.0, "p0", "maintenance")]


def test_resume_delay_columns_in_lifecycle_csv(tmp_path: Path) -> None:
    # crash at 32 s with retries: object 0 is processed again in round 2, at 100 + 600 s;
    # recover moves nothing: empty cells
    text = drill(
        timeline=[
            {"action": "fail", "proxy": "p0", **at(32)},
            {"action": "recover", "proxy": "p0", **at(50)},
        ],
        retry={"attempts": 3, "wait": "10min"},
    )
    res = sim.simulate(sim.load_scenario_text(text))
    lc = res.lifecycle.set_index("event")
    assert lc.loc["fail", "resume_delay_p50_s"] == pytest.approx(700.0 - 32.0)
    assert lc.loc["fail", "resume_delay_max_s"] == pytest.approx(700.0 - 32.0)
    assert np.isnan(lc.loc["recover", "resume_delay_max_s"])
    folder = write_results(res, tmp_path, run_id="rd")
    csv = (folder / "lifecycle.csv").read_text().splitlines()
    header = csv[0].split(",")
    rec_row = dict(zip(header, csv[2].split(","), strict=True))
    assert rec_row["resume_delay_p50_s"] == "" and rec_row["resume_delay_max_s"] == ""


def test_timeline_acts_in_synthetic_mode() -> None:
    # M/M/2 pool; p0 in maintenance from 100 s to 300 s: nothing starts on it meanwhile
    doc = {
        "name": "syn",
        "proxies": [{"name": "p0", "threads": 1}, {"name": "p1", "threads": 1}],
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": "pull_fifo"}],
        "synthetic": {
            "arrivals": {"process": "poisson", "rate": 0.5},
            "sizes": {"distribution": "exponential", "mean": MB},
            "tasks": 400,
            "warmup_tasks": 0,
            "service": "threads",
            "thread_rate": MB,
            "target": "pool",
        },
        "timeline": [
            {"action": "maintenance_on", "proxy": "p0", "at": "00:01:40"},
            {"action": "maintenance_off", "proxy": "p0", "at": "00:05:00"},
        ],
    }
    res = sim.simulate(sim.load_scenario_text(yaml.safe_dump(with_units(doc))))
    t = res.tasks
    on_p0 = t["proxy"] == "p0"
    assert not (on_p0 & (t["start"] > 100) & (t["start"] < 300)).any()
    assert (on_p0 & (t["start"] >= 300)).any()
    assert (t["status"] == "done").all()
    assert res.lifecycle["outcome"].tolist() == ["done", "done"]


def test_push_pool_paused_keeps_the_hand_off_at_the_head_of_the_chosen_queue() -> None:
    # round robin over three one-thread members: p0 runs 0 (3 queued), p1 runs 1 (4 queued),
    # p2 runs 2 (5 queued); p1 holds the Orchestrator. At 10 s p1 crashes: the pool is paused
    # until the role fails over (30 s later, to p2). At 20 s p0 enters maintenance: object 0 is
    # handed off while the pool is paused. When the pool resumes it must still go to the head of
    # the chosen member's queue (issue: it used to join the tail, behind 5, 4 and 3)
    w = world_of(
        drill(
            n_proxies=3,
            objects=6,
            policy="round_robin",
            timeline=[
                {"action": "fail", "proxy": "p1", **at(10)},
                {"action": "maintenance_on", "proxy": "p0", **at(20)},
            ],
        )
    )
    orchestrator = [(t, p) for t, _pool, role, p in w.lifecycle.role_log if role == "orchestrator"]
    assert orchestrator == [(0.0, 1), (10.0, -1), (40.0, 2)]  # paused from 10 s to 40 s
    t = tasks_of(w)
    assert t["proxy"][0] == 2
    # object 0 (20 MB kept) starts when p2's thread frees at 100 s, before every queued object
    assert t["start"][0] == pytest.approx(100.0)
    assert min(t["start"][k] for k in (3, 4, 5)) >= t["end"][0] - 1e-9
    rec = next(r for r in w.lifecycle.records if r["event"] == "maintenance_on")
    assert rec["resume_delays"] == pytest.approx([80.0])
