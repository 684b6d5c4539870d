"""Random lifecycle sequences against a running pool (hypothesis RuleBasedStateMachine).

After every step: every unfinished object of the session is in exactly one place (a queue, a
parked list, or on one thread whose busy count includes it), so none is lost or processed twice;
a finished object's bytes read less its redone bytes equal its work (redone work is counted,
not hidden); no member that is not active has work queued for it, and the model refuses to start
an object on one (``World._start`` raises); a role holder is an active member, and a vacant role
has its failover timer running whenever the pool has an active member; an accepted request
(a crash is not a request) never leaves a pool without an active member. At the end every
member is brought back and the session runs out: every object is done exactly once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    scenario_yaml,
    tenant,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import sim
from sim.model.proxy import ACTIVE
from sim.model.tasks import DIRECT, FINISHED, OVERHEAD, QUEUED, TRANSFER
from sim.model.trace import DONE, FAILED, PENDING
from sim.model.world import World
from sim.scenario.schema import with_units

MB = 1e6
MEMBERS = ("p0", "p1", "p2", "p3")
SPARE = ("s0", "s1")
ACTIONS = (
    "maintenance_on",
    "maintenance_off",
    "fail",
    "recover",
    "add",
    "remove",
    "upgrade",
)
FAILOVER_S = 20.0


def build(policy: str, in_flight: str, checkpoint: float, seed: int) -> World:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 60, size=30) * MB
    objects = fixed_objects({"mailbox": (30, 1.0)})
    text = scenario_yaml(
        tenants=[tenant(objects=objects)],
        proxies=[{"name": n, "threads": 2} for n in (*MEMBERS, *SPARE)],
        pools=[{"name": "pool", "members": list(MEMBERS), "policy": policy}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", retry={"attempts": 50, "wait": "1min"})],
        calibration=exact_calibration(1 * MB),
    )
    data = yaml.safe_load(text)
    data["lifecycle"] = {
        "in_flight": in_flight,
        "checkpoint": checkpoint,
        "role_failover": FAILOVER_S,
    }
    world = World(sim.load_scenario_text(yaml.safe_dump(with_units(data))))
    # unequal objects: sizes set before the session creates its tasks
    world.tenants[0].objects.size_bytes[:] = sizes
    world.tenants[0].objects.items[:] = np.maximum(1.0, sizes / MB)
    return world


class PoolLifecycle(RuleBasedStateMachine):
    world: World
    procs: list[Any]

    @initialize(
        policy=st.sampled_from(["pull_fifo", "round_robin", "jsq", "least_work_left"]),
        in_flight=st.sampled_from(["drain", "handoff", "restart"]),
        checkpoint=st.sampled_from([1 * MB, 5 * MB, 16 * MB]),
        seed=st.integers(0, 3),
    )
    def setup(self, policy: str, in_flight: str, checkpoint: float, seed: int) -> None:
        self.world = build(policy, in_flight, checkpoint, seed)
        self.procs = self.world.start()
        self.world.env.run(until=1.0)  # the session has started and dispatched

    # -- rules ---------------------------------------------------------------------------------
    @rule(dt=st.floats(0.5, 90.0))
    def advance(self, dt: float) -> None:
        env = self.world.env
        if env.peek() == float("inf"):
            return
        env.run(until=env.now + dt)

    @rule(action=st.sampled_from(ACTIONS), proxy=st.sampled_from(MEMBERS + SPARE))
    def request(self, action: str, proxy: str) -> None:
        w = self.world
        pool = "pool" if action in ("add", "remove") else None
        before = self._active()
        why = w.lifecycle.request(action, proxy, pool)
        rec = w.lifecycle.records[-1]
        assert rec["outcome"] == ("done" if why is None else "refused")
        if why is None and action != "fail" and before:
            assert self._active(), f"{action} {proxy} left the pool with no active member"
        assert w.pools[0].members, f"{action} {proxy} left the pool with no member"

    # -- invariants ----------------------------------------------------------------------------
    def _active(self) -> list[int]:
        w = self.world
        return [m for m in w.pools[0].members if w.proxies[m].state == ACTIVE]

    @invariant()
    def every_object_is_in_exactly_one_place(self) -> None:
        w = self.world
        if not hasattr(self, "world") or not w.sessions:
            return
        t = w.tasks
        n = t.n
        phase = w.state.phase[:n]
        seen: dict[int, str] = {}

        def put(task: int, where: str) -> None:
            assert task not in seen, f"task {task} both {seen[task]} and {where}"
            seen[task] = where

        pool = w.pools[0]
        if pool.pull is not None:
            queued = pool.pull.drain()
            for x in queued:
                pool.pull.push(x)
                put(x, "pool queue")
        for x in pool.parked:
            put(x, "parked")
        for px in w.proxies:
            for x in px.queue:
                put(x, f"queue of {px.name}")
            if px.queue and px.pool >= 0:
                assert px.state == ACTIVE, f"work queued for {px.name} in state {px.state}"
        running = np.flatnonzero((phase == OVERHEAD) | (phase == TRANSFER) | (phase == DIRECT))
        for x in running.tolist():
            put(x, "on a thread")
        for px in w.proxies:
            assert px.busy == int((t.proxy[running] == px.idx).sum()), px.name
        for x in range(n):
            if phase[x] == QUEUED and t.status[x] == PENDING:
                assert x in seen or self._between_rounds(x), f"task {x} is lost"
            if phase[x] == FINISHED:
                assert x not in seen, f"finished task {x} is still {seen.get(x)}"

    def _between_rounds(self, task: int) -> bool:
        """A failed object waits for the job's next retry round (not in any queue yet)."""
        return bool(self.world.tasks.status[task] == FAILED)

    @invariant()
    def done_objects_are_counted_once(self) -> None:
        if not hasattr(self, "world"):
            return
        t = self.world.tasks
        n = t.n
        done = t.status[:n] == DONE
        useful = t.bytes_read[:n][done] - t.redone_bytes[:n][done]
        assert np.allclose(useful, t.work_bytes[:n][done], rtol=1e-9, atol=1.0)

    @invariant()
    def roles_are_held_by_active_members(self) -> None:
        if not hasattr(self, "world"):
            return
        w = self.world
        pool = w.pools[0]
        active = self._active()
        for role, holder in pool.roles.items():
            if holder >= 0:
                assert w.proxies[holder].state == ACTIVE, f"{role} on {w.proxies[holder].name}"
                assert holder in pool.members
            elif active:
                assert role in pool.role_pending, f"{role} vacant with no failover running"
        # every vacancy that had an active member to go to lasted exactly the failover delay
        vacant_since: dict[str, float] = {}
        for t, _p, role, holder in w.lifecycle.role_log:
            if holder < 0:
                vacant_since.setdefault(role, t)
            elif role in vacant_since:
                assert t - vacant_since.pop(role) >= FAILOVER_S - 1e-9

    def teardown(self) -> None:
        if not hasattr(self, "world"):
            return
        w = self.world
        for px in w.proxies:
            if px.state == "failed":
                w.lifecycle.request("recover", px.name)
            if px.state in ("maintenance", "enabling"):
                w.lifecycle.request("maintenance_off", px.name)
        w.env.run(until=w.env.any_of([w.env.all_of(self.procs), w.env.timeout(30 * 86_400)]))
        assert all(p.triggered for p in self.procs), "the session never ended"
        t = w.tasks
        n = t.n
        # 50 retry rounds a minute apart: every object ends done, exactly once
        assert (t.status[:n] == DONE).all(), np.bincount(t.status[:n])
        useful = t.bytes_read[:n] - t.redone_bytes[:n]
        assert np.allclose(useful, t.work_bytes[:n], rtol=1e-9, atol=1.0)


PoolLifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPoolLifecycle = PoolLifecycle.TestCase


@pytest.mark.slow
def test_long_lifecycle_sequences() -> None:
    """CI tier: more and longer sequences (derandomized: the same sequences on every run)."""
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        PoolLifecycle,
        settings=settings(
            max_examples=300,
            stateful_step_count=50,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
