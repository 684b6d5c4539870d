"""The pool lifecycle at run time: maintenance, faults, membership, upgrades and roles.

The rules (what is refused, what each request changes) are
:class:`sim.scenario.lifecycle_rules.LifecycleRules`; this module carries their effects out on a
running :class:`~sim.model.world.World` (vb365 facts 2, 6-8):

- a member leaving the active set (maintenance, failure, upgrade wait, removal) takes no new
  object at once; the objects queued for it move to the other members at once (counted as
  reassignments);
- its running objects: entering maintenance, by the scenario's ``lifecycle.in_flight`` mode,
  ``handoff`` (stop, continue on another member from the last checkpoint, before any queued
  object: ``World.hand_off``; the progress since the checkpoint is redone), ``drain`` (finish
  there; the member is *enabling* until its last one ends or ``lifecycle.drain_timeout`` has
  passed, when the rest is handed off; then *enabled*) or ``restart`` (a pessimistic what-if:
  handed off but started over; all progress is redone); upgraded
  members waiting for their pool drain ("running operations are not interrupted", fact 8); a
  removed member's work is re-assigned first (fact 7: handoff, or restart in ``restart`` mode);
  a crash loses the progress since the last checkpoint and the object fails with reason
  ``proxy_crash``, so the job's retry policy (if any) processes it again from that checkpoint;
- roles: each pool has a Scheduler and an Orchestrator, held by active members (the Processor
  role is every active member's). When a holder leaves, the role is vacant for
  ``lifecycle.role_failover`` seconds, then goes to the active member holding the fewest roles.
  No session of the pool's jobs starts without a Scheduler; no new object starts in the pool
  without an Orchestrator (running ones go on);
- the resume delay of each moved object (event -> start of its next transfer) is kept per
  event (``resume_delays``; the lifecycle frame's ``resume_delay_p50_s``/``_max_s``);
- requests come from the timeline and the maintenance rotations (one order:
  ``lifecycle_rules.planned_requests``) and from each proxy's random failures (``failures``:
  up and repair times drawn from the proxy's own stream).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
(and https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboproxymaintenance.html)
vb365 fact 7: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_edit_proxy_pool.html
vb365 fact 8: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_upgrade_pool.html
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim import defaults as d
from sim.model import rng as streams
from sim.model.proxy import ACTIVE, ENABLING, FAILED, INACTIVE, MAINTENANCE, Proxy
from sim.model.tasks import DIRECT, FINISHED, OVERHEAD, QUEUED, TRANSFER
from sim.model.trace import FAILED as TASK_FAILED
from sim.model.trace import PROXY_CRASH
from sim.scenario import lifecycle_rules as lr
from sim.scenario.calendar import timeline_times
from sim.scenario.loader import policy_checker
from sim.scenario.schema import DurationLaw, FailureSpec

if TYPE_CHECKING:
    from sim.model.pool import Pool
    from sim.model.world import World

ROLES = ("scheduler", "orchestrator")
"""Single-holder pool roles (vb365 fact 2: VBOProxy.ProxyRoles). How many of each a pool has
and where they start is not published: poolsim gives each pool one of each, the Scheduler on
its first active member and the Orchestrator on its second (INFERRED)."""

_MODE_TO_STATE = {
    lr.ACTIVE: ACTIVE,
    lr.MAINTENANCE: MAINTENANCE,
    lr.FAILED: FAILED,
    lr.INACTIVE: INACTIVE,
}


def draw_duration(law: DurationLaw, rng: np.random.Generator) -> float:
    """One duration of ``law`` (seconds): exponential or lognormal with the law's mean (the
    lognormal's log has standard deviation ``sigma`` and mean ln(mean) - sigma^2 / 2), or
    the mean itself."""
    if law.distribution == "exponential":
        return float(rng.exponential(law.mean))
    if law.distribution == "lognormal":
        sigma = float(law.sigma or 0.0)
        return float(rng.lognormal(math.log(law.mean) - sigma * sigma / 2.0, sigma))
    return float(law.mean)


class Lifecycle:
    """Lifecycle requests against one world; see the module docstring."""

    def __init__(self, world: World) -> None:
        self.world = world
        sc = world.scenario
        self.rules = lr.LifecycleRules.from_scenario(sc, policy_checker(sc))
        self.in_flight = sc.lifecycle.in_flight
        self.checkpoint = sc.lifecycle.checkpoint
        self.failover_s = float(sc.lifecycle.role_failover)
        self.records: list[dict[str, Any]] = []
        """One row per request or fault: what, when, outcome and what it cost."""
        self.state_log: list[tuple[float, int, str]] = [
            (0.0, px.idx, px.state) for px in world.proxies
        ]
        """(time, proxy, state) at every state change, from time 0."""
        self.role_log: list[tuple[float, int, str, int]] = []
        """(time, pool, role, holder proxy or -1) at every role change."""
        self._drains: dict[int, dict[str, Any]] = {}
        """Enabling member -> the maintenance request it drains for."""
        self.drain_timeout_s = float(sc.lifecycle.drain_timeout)
        self._awaiting: dict[int, list[dict[str, Any]]] = {}
        """Moved task -> the records of the events that moved it, until it transfers again."""
        self._role_filled: dict[tuple[int, str], simpy.Event] = {}
        """(pool, role) -> event fired when the vacant role gets a holder (``role_ready``)."""
        self._role_left: dict[tuple[int, str], simpy.Event] = {}
        """(pool, role) -> event fired when its holder leaves the role (``role_gone``)."""
        world.resume_watch = {}
        self._ckpt = np.asarray([d.BLOB_BYTES_OF_WORKLOAD[w] for w in d.WORKLOADS], dtype=float)
        for pool in world.pools:
            active = [m for m in pool.members if world.proxies[m].state == ACTIVE]
            for k, role in enumerate(ROLES):
                holder = active[min(k, len(active) - 1)] if active else -1
                pool.roles[role] = holder
                self.role_log.append((0.0, pool.idx, role, holder))

    # -- the timeline --------------------------------------------------------------------------
    def schedule_timeline(self) -> None:
        """Turn the scenario's timeline and maintenance rotations into SimPy timers (validated
        by the loader) and start each proxy's random failures."""
        world = self.world
        env = world.env
        sc = world.scenario
        times = timeline_times(sc)
        for req in lr.planned_requests(sc, times, list(range(len(times)))):
            timer = env.timeout(max(req.t - env.now, 0.0))
            timer.callbacks.append(partial(self._fire, req))
        for k, spec in enumerate(sc.failures):
            names = spec.proxies or [p.name for p in sc.proxies]
            for name in names:
                p = world.proxy_index[name]
                rng = streams.stream(world.seed, streams.PROXY_FAULTS, k, p)
                env.process(self._failures(spec, name, rng))

    def _fire(self, req: lr.Planned, _event: object) -> None:
        if req.action == "exchange_api":
            from sim.model.tenant import switch_exchange_api

            ev = self.world.scenario.timeline[int(req.loc[1])]
            assert ev.tenant is not None and ev.api is not None
            switch_exchange_api(self.world, ev.tenant, ev.api)
            return
        self.request(req.action, req.proxy, req.pool, source=req.source)

    def _failures(
        self, spec: FailureSpec, proxy: str, rng: np.random.Generator
    ) -> Generator[simpy.Event, None, None]:
        """One proxy's failures: up time, fail, repair time, recover, again. The two draws of
        a cycle are made whatever happens, so the times do not depend on the policy."""
        env = self.world.env
        while True:
            up = draw_duration(spec.mtbf, rng)
            repair = draw_duration(spec.mttr, rng)
            yield env.timeout(up)
            failed = self.rules.refusal("fail", proxy, None) is None
            if failed:  # not when in maintenance (its service is stopped) or already failed
                self.request("fail", proxy, source="failures")
            yield env.timeout(repair)
            if failed and self.rules.refusal("recover", proxy, None) is None:
                self.request("recover", proxy, source="failures")

    # -- requests ------------------------------------------------------------------------------
    def request(
        self,
        action: str,
        proxy: str | None = None,
        pool: str | None = None,
        source: str = "api",
    ) -> str | None:
        """Ask for a lifecycle change now. Returns None if done, else why it was refused (the
        refusal is recorded, as the product would log it)."""
        world = self.world
        rec: dict[str, Any] = {
            "t": world.env.now,
            "event": action,
            "proxy": proxy or "",
            "pool": pool or "",
            "source": source,
            "outcome": "done",
            "reason": "",
            "reassigned": 0,
            "redone_bytes": 0.0,
            "crashed": 0,
            "drain_s": math.nan,
            "resume_delays": [],
        }
        why = self.rules.refusal(action, proxy, pool)
        if why is not None:
            rec["outcome"] = "refused"
            rec["reason"] = why
            self.records.append(rec)
            world.events.append({k: rec[k] for k in ("t", "event", "proxy", "pool", "reason")})
            return why
        self.records.append(rec)
        world.events.append({"t": rec["t"], "event": action, "proxy": proxy or "", "pool": pool})
        for ch in self.rules.apply(action, proxy, pool):
            self._carry_out(ch, rec)
        return None

    def _carry_out(self, ch: lr.Change, rec: dict[str, Any]) -> None:
        world = self.world
        if ch.kind == "delete":
            assert ch.pool is not None
            pool = self._pool(ch.pool)
            pool.deleted = True
            for role in ROLES:
                pool.roles[role] = -1
                self.role_log.append((world.env.now, pool.idx, role, -1))
                self._trigger(self._role_left, pool.idx, role)
            return
        assert ch.proxy is not None
        px = world.proxies[world.proxy_index[ch.proxy]]
        if ch.kind == "join":
            pool = self._pool(ch.pool)
            pool.members.append(px.idx)
            self._members_changed(pool)
            px.pool = pool.idx
            world.members_grew()
            if px.state == ACTIVE:
                world.resume_work(px)
                self._staff_roles(pool)
            return
        if ch.kind == "leave":
            pool = self._pool(ch.pool)
            how = "restart" if self.in_flight == "restart" else "handoff"
            # detach first, so nothing re-assigned can land on it again
            queued = self._take_queue(px)
            pool.members.remove(px.idx)
            self._members_changed(pool)
            px.pool = -1
            self._vacate_roles(px, pool)
            self._resubmit(queued, rec)
            self._evict(self._running(px), how, rec)
            return
        # a mode change
        new = _MODE_TO_STATE[ch.new]
        if new == ACTIVE:
            if ch.old == lr.MAINTENANCE and px.state == ENABLING:
                self._drains.pop(px.idx, None)  # back before it drained: drain_s stays NaN
            self._set_state(px, ACTIVE)
            world.resume_work(px)
            if px.pool >= 0:
                self._staff_roles(world.pools[px.pool])
            return
        if new == FAILED:
            self._set_state(px, FAILED)
            rec["crashed"] += self._crash(px, rec)
        elif new == MAINTENANCE:
            running = self._running(px)
            if self.in_flight == "drain" and running.size:
                self._set_state(px, ENABLING)
                self._drains[px.idx] = rec
                timer = world.env.timeout(self.drain_timeout_s)
                timer.callbacks.append(partial(self._drain_timed_out, px, rec))
            else:
                self._set_state(px, MAINTENANCE)
                self._evict(running, self.in_flight, rec)
                rec["drain_s"] = 0.0
        else:  # INACTIVE: an upgraded member waits; its running objects finish there
            self._set_state(px, INACTIVE)
        if px.pool >= 0:  # a standalone proxy keeps its own queue until it is back
            self._resubmit(self._take_queue(px), rec)
            self._vacate_roles(px, world.pools[px.pool])

    # -- helpers -------------------------------------------------------------------------------
    def drained(self, px: Proxy) -> None:
        """An enabling member's last running object ended: maintenance is enabled."""
        self._close_drain(px)
        self._set_state(px, MAINTENANCE)

    def _drain_timed_out(self, px: Proxy, rec: dict[str, Any], _event: object) -> None:
        """The Enabling phase's bound: what still runs on the member is handed off."""
        if self._drains.get(px.idx) is not rec or px.state != ENABLING:
            return  # drained, or back in service, before the timeout
        self._close_drain(px)
        self._evict(self._running(px), "handoff", rec)
        self._set_state(px, MAINTENANCE)

    def _close_drain(self, px: Proxy) -> None:
        rec = self._drains.pop(px.idx, None)
        if rec is not None:
            rec["drain_s"] = self.world.env.now - rec["t"]

    def _pool(self, name: str | None) -> Pool:
        for pool in self.world.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def _members_changed(self, pool: Pool) -> None:
        view = pool.policy.view
        view.members = tuple(pool.members)
        pool.policy.members_changed()

    def _set_state(self, px: Proxy, state: str) -> None:
        if px.state != state:
            px.state = state
            self.state_log.append((self.world.env.now, px.idx, state))

    def _running(self, px: Proxy) -> np.ndarray:
        """Tasks on a thread of ``px`` now (overhead or transfer phase)."""
        world = self.world
        n = world.tasks.n
        phase = world.state.phase[:n]
        on = (world.tasks.proxy[:n] == px.idx) & (
            (phase == OVERHEAD) | (phase == TRANSFER) | (phase == DIRECT)
        )
        return np.flatnonzero(on)

    @staticmethod
    def _take_queue(px: Proxy) -> list[int]:
        tasks = list(px.queue)
        px.queue.clear()
        px.queued_bytes = 0.0
        return tasks

    def _resubmit(self, tasks: list[int], rec: dict[str, Any]) -> None:
        """Objects queued for a member that left go to the other members at once."""
        world = self.world
        for task in tasks:
            world.tasks.reassignments[task] += 1
            rec["reassigned"] += 1
            world.submit(task)

    def _checkpoint_of(self, task: int) -> float:
        if self.checkpoint is not None:
            return float(self.checkpoint)
        world = self.world
        if world.scenario.jobs and world.scenario.jobs[int(world.tasks.job[task])].type == (
            "backup_copy"
        ):
            return float(d.BACKUP_COPY_BLOB_BYTES)
        return float(self._ckpt[int(world.tasks.workload[task])])

    def _stop_at_checkpoint(self, task: int, keep: bool, rec: dict[str, Any]) -> None:
        """Take a running task off its thread; it keeps the bytes up to its last checkpoint
        (``keep``) or none, and the rest is counted as redone."""
        world = self.world
        progress = float(world.state.resume[task]) + world.stop_task(task)
        kept = 0.0
        if keep:
            ckpt = self._checkpoint_of(task)
            kept = min(math.floor(progress / ckpt) * ckpt, progress)
        world.state.resume[task] = kept
        world.tasks.redone_bytes[task] += progress - kept
        rec["redone_bytes"] += progress - kept

    def _evict(self, tasks: np.ndarray, how: str, rec: dict[str, Any]) -> None:
        """Stop running tasks and hand them to the other members before any queued task
        (``World.hand_off``): from their last checkpoint, or from the start in ``restart``."""
        world = self.world
        moved = [int(task) for task in tasks]
        for task in moved:
            self._stop_at_checkpoint(task, how != "restart", rec)
            world.tasks.reassignments[task] += 1
            world.state.phase[task] = QUEUED
            rec["reassigned"] += 1
            self._await_resume(task, rec)
        if moved:
            world.hand_off(moved)

    def _await_resume(self, task: int, rec: dict[str, Any]) -> None:
        """Measure the resume delay of ``task``, moved by the event of ``rec``: from the event
        to the start of its next transfer (``World.resume_watch``)."""
        recs = self._awaiting.setdefault(task, [])
        recs.append(rec)
        if len(recs) == 1:
            self.world.resume_watch[task] = partial(self._resumed, task)

    def _resumed(self, task: int, t_transfer: float) -> None:
        for rec in self._awaiting.pop(task, []):
            rec["resume_delays"].append(t_transfer - float(rec["t"]))

    def _crash(self, px: Proxy, rec: dict[str, Any]) -> int:
        """A crash: running objects lose the progress since their last checkpoint and fail."""
        world = self.world
        tasks = self._running(px)
        for task in tasks:
            self._stop_at_checkpoint(task, True, rec)
            world.state.phase[task] = FINISHED
            world.tasks.status[task] = TASK_FAILED
            world.tasks.fail_reason[task] = PROXY_CRASH
            world.tasks.end[task] = world.env.now
            world.task_left_session(task)
            self._await_resume(int(task), rec)  # a retry round may process it again
        return int(tasks.size)

    # -- roles ---------------------------------------------------------------------------------
    def _vacate_roles(self, px: Proxy, pool: Pool) -> None:
        for role in ROLES:
            if pool.roles.get(role) == px.idx:
                pool.roles[role] = -1
                self.role_log.append((self.world.env.now, pool.idx, role, -1))
                self._trigger(self._role_left, pool.idx, role)
                if role == "orchestrator":
                    pool.paused = True
        self._staff_roles(pool)

    def _staff_roles(self, pool: Pool) -> None:
        """Start the failover timer of every vacant role that has none running."""
        if pool.deleted:
            return
        for role in ROLES:
            if pool.roles.get(role, -1) < 0 and role not in pool.role_pending:
                pool.role_pending.add(role)
                timer = self.world.env.timeout(self.failover_s)
                timer.callbacks.append(partial(self._failover, pool, role))

    def _failover(self, pool: Pool, role: str, _event: object = None) -> None:
        pool.role_pending.discard(role)
        if pool.deleted or pool.roles.get(role, -1) >= 0:
            return
        world = self.world
        active = [m for m in pool.members if world.proxies[m].state == ACTIVE]
        if not active:
            return  # held again when a member becomes active (after another failover delay)
        held = {m: sum(1 for r in ROLES if pool.roles.get(r) == m) for m in active}
        holder = min(active, key=lambda m: (held[m], pool.members.index(m)))
        pool.roles[role] = holder
        self.role_log.append((world.env.now, pool.idx, role, holder))
        self._trigger(self._role_filled, pool.idx, role)
        if role == "scheduler":
            waiters = list(pool.scheduler_waiters)
            pool.scheduler_waiters.clear()
            for ev in waiters:
                assert isinstance(ev, simpy.Event)
                if not ev.triggered:
                    ev.succeed()
        elif role == "orchestrator" and pool.paused:
            pool.paused = False
            if pool.pull is not None:
                world.serve_pull(pool)
            else:
                world.unpark(pool)
                for m in pool.members:
                    world.resume_work(world.proxies[m])

    def scheduler_ready(self, pool_idx: int) -> simpy.Event | None:
        """None if the pool has a Scheduler now, else an event that fires when it has one."""
        pool = self.world.pools[pool_idx]
        if pool.deleted or pool.roles.get("scheduler", -1) >= 0:
            return None
        ev = self.world.env.event()
        pool.scheduler_waiters.append(ev)
        self._staff_roles(pool)
        return ev

    def role_ready(self, pool_idx: int, role: str) -> simpy.Event | None:
        """None if ``role`` of the pool has a holder now, else an event that fires when it has
        one (after the failover delay; ``rolework.role_work`` waits on it)."""
        pool = self.world.pools[pool_idx]
        if pool.roles.get(role, -1) >= 0:
            return None
        self._staff_roles(pool)
        return self._event(self._role_filled, pool_idx, role)

    def role_gone(self, pool_idx: int, role: str, holder: int) -> simpy.Event:
        """An event that fires when ``holder`` stops holding ``role`` of the pool (at once if
        it does not hold it now)."""
        if self.world.pools[pool_idx].roles.get(role, -1) != holder:
            return self.world.env.event().succeed()
        return self._event(self._role_left, pool_idx, role)

    def _event(
        self, table: dict[tuple[int, str], simpy.Event], pool_idx: int, role: str
    ) -> simpy.Event:
        ev = table.get((pool_idx, role))
        if ev is None:
            ev = table[(pool_idx, role)] = self.world.env.event()
        return ev

    @staticmethod
    def _trigger(table: dict[tuple[int, str], simpy.Event], pool_idx: int, role: str) -> None:
        ev = table.pop((pool_idx, role), None)
        if ev is not None and not ev.triggered:
            ev.succeed()
