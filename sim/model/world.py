"""The World: the task flow of one scenario and seed.

Dispatch and the per-task life cycle live here as plain methods driven by SimPy callbacks (no
process per task): submit -> queued -> start on a thread (per-object overhead) -> transfer
(fluid, ``sharing``; or fixed-rate, outside it) -> finish -> refill the thread; ``stop_task``
takes a task off its thread. Everything else has its own room: building (``build.py``), the
limits and tasks' rows (``limits.py``, ``demand.py``), the per-task columns (``tasks.py``),
jobs and sessions (``job.py``), synthetic mode (``synthetic.py``), lifecycle (``lifecycle.py``).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 36: https://helpcenter.veeam.com/docs/vbo365/guide/stopping_backup_job.html
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappush
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.defaults import DAY_S, RU_PER_DELTA
from sim.model import rng as streams
from sim.model.build import build
from sim.model.clock import Timer, call_timer, run_until
from sim.model.demand import Demand, never_binding
from sim.model.job import JobBook, SessionState
from sim.model.pool import Pool
from sim.model.proxy import ACTIVE, ENABLING, Proxy
from sim.model.repository import Repository
from sim.model.rolework import ConfigDatabase
from sim.model.sharing import FluidSharing
from sim.model.synthetic import SyntheticMode
from sim.model.tasks import DIRECT, FINISHED, OVERHEAD, QUEUED, TRANSFER, Bottleneck, TaskState
from sim.model.tenant import Tenant, daily_ru_budget
from sim.model.trace import (
    CANCELLED,
    DONE,
    FAILED,
    OBJECT_ERROR,
    TaskTable,
    Timeseries,
)
from sim.policies.base import PushPolicy
from sim.scenario.loader import LoadedScenario
from sim.scenario.schema import PolicySpec, Scenario, SyntheticSpec

if TYPE_CHECKING:
    from sim.model.lifecycle import Lifecycle
    from sim.model.throttle import EwsGate
    from sim.workload import Workload


_new_timer = object.__new__


class World:
    """A runnable model of one scenario with one seed: the task flow.

    ``build.build`` assembles it (``World(loaded, seed, policy)`` calls it); the attributes below
    are what a world holds.
    """

    scenario: Scenario
    seed: int
    env: simpy.Environment
    tasks: TaskTable
    """The trace: one row per task (``tasks.parquet``)."""
    state: TaskState
    """The engine's per-task working columns (``tasks.py``)."""
    demand: Demand
    """Tasks' ceilings and resource rows from the table of limits (``demand.py``)."""
    ews_gate: EwsGate
    """EWS connections per tenant: gates Exchange transfers on the EWS path."""
    _gated: bool
    """Whether tasks may need an EWS connection (never in synthetic mode)."""
    proxies: list[Proxy]
    proxy_index: dict[str, int]
    pools: list[Pool]
    tenants: list[Tenant]
    n_objects: int
    repositories: list[Repository]
    repo_owner: list[int]
    """Per repository: its owning pool (>= 0) or -1 - its standalone proxy."""
    capacity: np.ndarray
    """Capacity of every shared resource at the start (resource 0: the unlimited dummy)."""
    ts: Timeseries
    sharing: FluidSharing
    job_tenant: list[int]
    job_repo: list[int]
    job_owner: list[int]
    """Per job: the owning pool index (>= 0) or -1 - standalone proxy index."""
    restore_repo: dict[int, int]
    """Restore job -> the repository it reads from."""
    copy_source: dict[int, int]
    """Backup copy job -> its source backup job."""
    copy_thread_bps: float
    overhead_s: list[float]
    thread_bps: list[float]
    items_per_s: list[float]
    change_probability: list[float]
    """Per object type (``defaults.OBJECT_TYPES``): probability it changes on a day."""
    sessions: list[SessionState]
    book: JobBook
    """Jobs' book-keeping: sessions run, last successful backups, stored and copied bytes."""
    config_db: ConfigDatabase
    """The PostgreSQL configuration database: metadata phases of sessions share it."""
    events: list[dict[str, Any]]
    truncated: bool
    synthetic: SyntheticSpec | None
    synthetic_mode: SyntheticMode | None
    on_idle: Callable[[Proxy], None] | None
    """Called when a thread of a proxy finds no work (synthetic vacations)."""
    lifecycle: Lifecycle
    resume_watch: dict[int, Callable[[float], None]]
    """Moved tasks awaiting their next start -> called with the time their transfer begins
    (the thread start plus the per-object overhead): the lifecycle's resume delays."""
    _limited: np.ndarray
    """Resources with a finite capacity that may bind (never-binding ones excluded)."""
    _never_binding: np.ndarray
    _fail_p: list[float]
    _may_fail: bool
    _fail_rng: dict[int, np.random.Generator]
    _direct_used: np.ndarray
    """Capacity used so far by fixed-rate transfers (outside the fluid), per resource."""
    _v_direct_used: memoryview[float]
    _direct_marks: dict[int, float]
    """Running fixed-rate transfers credited up to a time (``_settle_direct``)."""
    _direct_cbs: tuple[Callable[[Timer], None]]
    _overhead_cbs: tuple[Callable[[Timer], None]]
    _charges_direct: bool
    """Whether fixed-rate transfers use resources whose consumption is reported (not in
    synthetic runs: there they use none)."""

    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int | None = None,
        policy: str | PolicySpec | None = None,
        workload: Workload | None = None,
    ) -> None:
        build(self, loaded, seed, policy, workload)
        self._direct_cbs = (self._after_direct,)
        """The callbacks of every fixed-rate transfer's end (a tuple: ``step`` only iterates
        it, and it is never appended to)."""
        self._overhead_cbs = (self._after_overhead,)

    # -- dispatch ------------------------------------------------------------------------------
    def submit(self, task: int) -> None:
        """A task is ready: hand it to its repository's owner."""
        self.state.v_phase[task] = QUEUED  # also a retried or re-assigned one
        owner = self.job_owner[self.tasks.v.job[task]]
        if owner < 0:
            self._enqueue_local(-1 - owner, task)
            return
        pool = self.pools[owner]
        pull = pool.pull
        if pull is not None:
            fifo = pool.fifo
            if fifo is not None:
                fifo.append(task)
            else:
                pull.push(task)
            if pool.idle:  # no free thread: nothing to serve
                self.serve_pull(pool)
            return
        candidates = [m for m in pool.members if self.proxies[m].can_take_work]
        if not candidates or pool.paused:
            pool.parked.append(task)  # no active member or no orchestrator: wait for one
            return
        assert isinstance(pool.policy, PushPolicy)
        proxy = pool.policy.select(task, candidates, pool.policy.view)
        self._enqueue_local(proxy, task)

    def submit_all(self, tasks: Sequence[int]) -> None:
        """``submit`` each of ``tasks`` (one job's, in order): for a pool that pulls from one
        FIFO queue, all queued at once and then served (the same starts in the same order as
        one by one: each would have taken the next idle thread)."""
        if not tasks:
            return
        owner = self.job_owner[self.tasks.v.job[tasks[0]]]
        pool = self.pools[owner] if owner >= 0 else None
        if pool is None or pool.pull is None or pool.fifo is None:
            for task in tasks:
                self.submit(task)
            return
        self.state.phase[np.asarray(tasks, dtype=np.int64)] = QUEUED
        pool.fifo.extend(tasks)
        if pool.idle:
            self.serve_pull(pool)

    def hand_off(self, tasks: Sequence[int]) -> None:
        """Tasks taken off a member that left continue before any queued task (vb365 fact 6,
        "continued smoothly by another"): at once on a free thread of an active member, else
        on the next thread that frees. A pull pool's policy puts them at the head of its queue
        (``PullPolicy.push_front``); in a push pool each goes, in order, to the member its
        policy selects, at the head of that member's local queue."""
        by_owner: dict[int, list[int]] = {}
        for task in tasks:
            self.state.v_phase[task] = QUEUED
            by_owner.setdefault(self.job_owner[self.tasks.v.job[task]], []).append(task)
        for owner, mine in by_owner.items():
            if owner < 0:
                self._enqueue_front(-1 - owner, mine)
                continue
            pool = self.pools[owner]
            if pool.pull is not None:
                pool.pull.push_front(mine)
                if pool.idle:
                    self.serve_pull(pool)
                continue
            candidates = [m for m in pool.members if self.proxies[m].can_take_work]
            if not candidates or pool.paused:
                pool.parked.extendleft(reversed(mine))
                pool.handed_off.update(mine)  # still ahead of the queued ones when it resumes
                continue
            assert isinstance(pool.policy, PushPolicy)
            chosen: dict[int, list[int]] = {}
            for task in mine:
                proxy = pool.policy.select(task, candidates, pool.policy.view)
                chosen.setdefault(proxy, []).append(task)
            for proxy, some in chosen.items():
                self._enqueue_front(proxy, some)

    def unpark(self, pool: Pool) -> None:
        """A push pool can dispatch again (a member came back, or the Orchestrator did): its
        parked tasks go out in order, the handed-off ones (``hand_off``) to the head of the
        chosen member's queue, the others to the tail."""
        parked = list(pool.parked)
        pool.parked.clear()
        handed = pool.handed_off
        pool.handed_off = set()
        if handed:
            self.hand_off([task for task in parked if task in handed])
        for task in parked:
            if task not in handed:
                self.submit(task)

    def _enqueue_front(self, proxy: int, tasks: list[int]) -> None:
        px = self.proxies[proxy]
        px.queue.extendleft(reversed(tasks))
        px.queued_bytes += sum(self.state.left_bytes(task) for task in tasks)
        while px.queue and px.busy < px.threads and px.can_take_work and not self._paused(px):
            self.start_from_local(px)

    def _enqueue_local(self, proxy: int, task: int) -> None:
        px = self.proxies[proxy]
        px.queue.append(task)
        px.queued_bytes += self.state.left_bytes(task)
        if px.busy < px.threads and px.can_take_work and not self._paused(px):
            self.start_from_local(px)

    def _paused(self, px: Proxy) -> bool:
        return px.pool >= 0 and self.pools[px.pool].paused

    def start_from_local(self, px: Proxy) -> None:
        task = px.queue.popleft()
        px.queued_bytes -= self.state.left_bytes(task)
        self._start(px, task)

    def serve_pull(self, pool: Pool) -> None:
        pull = pool.pull
        assert pull is not None
        if pool.paused:
            return
        idle = pool.idle
        proxies = self.proxies
        fifo = pool.fifo
        if fifo is not None:  # the same loop with the FIFO's methods inlined
            while idle and fifo:
                p = idle.popleft()
                px = proxies[p]
                if px.state != ACTIVE or px.busy >= px.threads or px.pool != pool.idx:
                    continue
                self._start(px, fifo.popleft())
            return
        view = pool.policy.view
        while idle and len(pull):
            p = idle.popleft()
            px = proxies[p]
            if px.state != ACTIVE or px.busy >= px.threads or px.pool != pool.idx:
                continue  # a stale token: the thread is gone or no longer takes work
            task = pull.next_task(p, view)
            if task is None:
                idle.append(p)
                break
            self._start(px, task)

    def _start(self, px: Proxy, task: int) -> None:
        if px.state != ACTIVE:
            raise AssertionError(f"task {task} assigned to {px.name} in state {px.state}")
        px.busy += 1
        s = self.state
        t = self.tasks.v
        env = self.env
        now = env._now
        if self.resume_watch and task in self.resume_watch:
            self.resume_watch.pop(task)(now + s.v_overhead[task])
        t.proxy[task] = px.idx
        t.start[task] = now
        attempt = t.attempts[task] + 1
        t.attempts[task] = attempt
        frac = -1.0
        if self._may_fail and self._fail_p[job := t.job[task]] > 0.0:
            p_fail = self._fail_p[job]
            sid = t.session[task]
            rng = self._fail_rng.get(sid)
            if rng is None:
                rng = self._fail_rng[sid] = streams.stream(self.seed, streams.FAILURE, job, sid)
            # this attempt fails after a uniformly random share of its bytes
            frac = rng.random() if rng.random() < p_fail else -1.0
        s.v_fail_frac[task] = frac
        overhead = s.v_overhead[task]
        if overhead > 0.0 or s.v_scan[task] > 0.0:
            s.v_phase[task] = OVERHEAD
            px.overhead_bytes += t.work_bytes[task] - s.v_resume[task]
            if s.v_scan[task] > 0.0:  # the object's scan costs CPU on px's cores
                self.demand.start_scan(task, px, attempt)
                return
            call_timer(env, overhead, (task, attempt), self._overhead_cbs)
            return
        if (
            frac < 0.0
            and s.v_fixed_rate[task]
            and not px.limited
            and not (self._gated and self.state.v_ews[task])
        ):
            work = t.work_bytes[task] - s.v_resume[task]
            if work > 0.0:
                # no overhead, a fixed-rate server: _begin_transfer's DIRECT case, fused; its
                # end is a Timer with call_later's heap entry (nothing else ever sees it)
                s.v_phase[task] = DIRECT
                s.v_xfer_start[task] = now
                px.direct.add(task)
                px.direct_bps += s.v_cap[task]
                ev = _new_timer(Timer)
                ev._value = (task, attempt)
                ev.callbacks = self._direct_cbs
                entry = (now + work / s.v_cap[task], NORMAL, next(env._eid), ev)
                heappush(env._queue, entry)  # type: ignore[misc]  # a Timer, not an Event
                return
        s.v_phase[task] = OVERHEAD
        px.overhead_bytes += t.work_bytes[task] - s.v_resume[task]
        self._begin_transfer(task)

    def _after_overhead(self, event: simpy.Event | Timer) -> None:
        task, attempt = event._value
        if self.state.v_phase[task] != OVERHEAD or self.tasks.v.attempts[task] != attempt:
            return  # the task was stopped or moved meanwhile
        self._begin_transfer(task)

    def _begin_transfer(self, task: int, admitted: bool = False) -> None:
        """The transfer phase of ``task`` begins (``admitted``: it already holds its EWS
        connection, handed to it by ``EwsGate.release``)."""
        if (
            self._gated
            and not admitted
            and self.state.v_ews[task]
            and not self.ews_gate.admit(task)
        ):
            return  # every EWS connection is taken: ErrorServerBusy, it asks again later
        t = self.tasks.v
        s = self.state
        px = self.proxies[t.proxy[task]]
        work = t.work_bytes[task] - s.v_resume[task]
        px.overhead_bytes -= work
        frac = s.v_fail_frac[task]
        if frac >= 0.0:
            work *= frac  # this attempt fails after that share of its bytes
        if work <= 0.0:
            if s.v_delta[task]:
                self.charge_delta(task)
            self._finish(task, 0.0, None)
            return
        phase = s.v_phase
        phase[task] = TRANSFER
        cap = s.v_cap[task]
        if s.v_fixed_rate[task] and not px.limited:
            # nothing it uses is shared with a finite capacity: a fixed-rate server, whose
            # completion time is known now and never changes
            phase[task] = DIRECT
            s.v_xfer_start[task] = self.env._now
            px.direct.add(task)
            px.direct_bps += cap
            call_timer(self.env, work / cap, (task, t.attempts[task]), self._direct_cbs)
            return
        self.sharing.add(task, px.idx, work, cap, self.demand.pairs(task, px))

    def charge_delta(self, task: int) -> None:
        """An unchanged OneDrive/SharePoint object asked for its delta and found nothing to
        move: one request of ``RU_PER_DELTA`` on its tenant's RU budget (vb365 fact 26), counted
        in the RU used (the daily budget, ``limits.csv``) and taken from the request-level
        bucket where the tenant has one; it moves no bytes, so the fluid's RU rate does not see
        it."""
        ru = RU_PER_DELTA
        self.sharing.charge(self.state.v_delta[task], ru)
        budget = self.tenants[self.tasks.v.tenant[task]].ru_budget
        if budget is not None:
            budget.charge(ru)

    def _after_direct(self, event: simpy.Event | Timer) -> None:
        task, attempt = event._value
        t = self.tasks.v
        s = self.state
        if s.v_phase[task] != DIRECT or t.attempts[task] != attempt:
            return
        if s.v_fail_frac[task] >= 0.0 or self._direct_marks:
            moved, bott = self._direct_progress(task)
            self._finish(task, moved, bott)
            return
        # the common case, fused: _direct_progress + _finish + _record_bytes for a transfer
        # that succeeds (the same arithmetic in the same order, so the same numbers)
        now = self.env._now
        p = t.proxy[task]
        px = self.proxies[p]
        start = s.v_xfer_start[task]
        cap = s.v_cap[task]
        elapsed = now - start
        moved = cap * elapsed
        work = t.work_bytes[task] - s.v_resume[task]
        if work < moved:
            moved = work
        px.direct.discard(task)
        px.direct_bps = px.direct_bps - cap if px.direct else 0.0
        if self._gated and self.state.v_ews[task]:
            self.ews_gate.release(task)
        ts = self.ts
        bucket_s = ts.bucket_s
        first = int(start // bucket_s)
        # add_bytes_one's one-bucket case (ceil(now / b) - 1 <= first, without the call)
        if now / bucket_s <= first + 1 and first < ts.rows:
            ts.cells[first, p] += cap * elapsed
        else:
            ts.add_bytes_one(start, now, p, cap)
        if self._charges_direct:
            self._charge_direct(task, px, moved)
        s.v_phase[task] = FINISHED
        t.end[task] = now
        t.status[task] = DONE
        t.bytes_read[task] += moved
        t.bytes_written[task] += moved * s.v_comp[task]
        if elapsed:
            t.thread_s[task] += elapsed
        px.busy -= 1
        px.busy_thread_s += now - t.start[task]
        px.tasks_done += 1
        px.bytes_read += moved
        sess = self.sessions[t.session[task]]
        sess.remaining -= 1
        if sess.remaining == 0 and sess.done is not None and not sess.done.triggered:
            sess.done.succeed()
        # _refill, its common case inlined: an active member of an unpaused plain-FIFO pull pool
        if px.state == ACTIVE and px.pool >= 0:
            pool = self.pools[px.pool]
            fifo = pool.fifo
            if fifo is not None and not pool.paused:
                if fifo:
                    self._start(px, fifo.popleft())
                else:
                    pool.idle.append(p)
                    if self.on_idle is not None:
                        self.on_idle(px)
                return
        self._refill(px)

    def _direct_progress(self, task: int) -> tuple[float, tuple[float, float, float, float]]:
        """Bytes moved so far by a fixed-rate transfer, and its bottleneck seconds."""
        s = self.state
        start = s.v_xfer_start[task]
        now = self.env.now
        elapsed = now - start
        cap = s.v_cap[task]
        moved = min(cap * elapsed, s.attempt_work(task))
        p = self.tasks.v.proxy[task]
        px = self.proxies[p]
        px.direct.discard(task)
        px.direct_bps = px.direct_bps - cap if px.direct else 0.0
        mark = self._direct_marks.pop(task, start) if self._direct_marks else start
        self.ts.add_bytes_one(mark, now, p, cap)
        if self._charges_direct:
            self._charge_direct(task, px, moved - cap * (mark - start))
        return moved, (elapsed, 0.0, 0.0, 0.0)

    def _settle_direct(self) -> None:
        """Credit the running fixed-rate transfers' bytes up to now to the time series and
        their resources' consumption (otherwise counted when they end): before either is read
        mid-run or at the end of a run cut at the horizon."""
        s = self.state
        now = self.env._now
        marks = self._direct_marks
        for px in self.proxies:
            for task in px.direct:
                mark = marks.get(task, s.v_xfer_start[task])
                if now > mark:
                    cap = s.v_cap[task]
                    self.ts.add_bytes_one(mark, now, px.idx, cap)
                    if self._charges_direct:
                        self._charge_direct(task, px, cap * (now - mark))
                    marks[task] = now

    def _sync_series(self) -> None:
        self.sharing.flush()
        self._settle_direct()

    def _charge_direct(self, task: int, px: Proxy, moved: float) -> None:
        """Count what a fixed-rate transfer used of its (never-binding) resources."""
        used = self._v_direct_used
        for r, a in self.demand.pairs(task, px).items():
            used[r] += moved * a

    def mark_limited(self) -> None:
        """Per proxy: whether any of its resources may bind (``Proxy.limited``), after
        ``_limited`` changed."""
        limited = self._limited
        for px in self.proxies:
            px.limited = bool(limited[list(px.res_row)].any())

    def members_grew(self) -> None:
        """A proxy joined a pool: resources its threads can now reach may saturate. They go
        back to the fluid, with the fixed-rate transfers running on them."""
        if not self._never_binding.any():
            return
        nb = self._never_binding & never_binding(self)
        lost = self._never_binding & ~nb
        if not lost.any():
            return
        self._never_binding = nb
        self._limited = np.isfinite(self.capacity) & ~nb
        n = self.tasks.n
        self.state.fixed_rate[:n] = self.demand.fixed_rate_of(slice(0, n))
        self.mark_limited()
        for px in self.proxies:
            for task in sorted(px.direct):
                if any(lost[r] for r in self.demand.pairs(task, px)):
                    self._to_fluid(task, px)

    def _to_fluid(self, task: int, px: Proxy) -> None:
        """Move a running fixed-rate transfer into the fluid: what it moved so far counts as
        moved (and as progress, like a checkpoint: ``_resume``), the rest of its attempt
        shares from now."""
        s = self.state
        attempt = s.attempt_work(task)
        if attempt - s.v_cap[task] * (self.env._now - s.v_xfer_start[task]) <= 0.0:
            return  # it ends at this instant anyway
        moved, bott = self._direct_progress(task)
        s.record_bytes(task, moved, bott)
        px.bytes_read += moved
        s.v_resume[task] += moved
        s.v_phase[task] = TRANSFER
        cap = s.v_cap[task]
        self.sharing.add(task, px.idx, attempt - moved, cap, self.demand.pairs(task, px))

    def consumed(self) -> np.ndarray:
        """Capacity used so far per resource (e.g. PUT requests), up to now."""
        self._settle_direct()
        out: np.ndarray = self.sharing.consumed + self._direct_used
        return out

    def _on_transfer_done(self, task: int) -> None:
        moved, bott = self.sharing.pop_finished(task)
        self._finish(task, moved, bott)

    def _finish(self, task: int, moved: float, bott: Bottleneck | None) -> None:
        t = self.tasks.v
        s = self.state
        now = self.env._now
        px = self.proxies[t.proxy[task]]
        s.v_phase[task] = FINISHED
        t.end[task] = now
        if self._gated and self.state.v_ews[task]:
            self.ews_gate.release(task)
        if s.v_fail_frac[task] >= 0.0:
            t.status[task] = FAILED
            t.fail_reason[task] = OBJECT_ERROR
            t.redone_bytes[task] += moved + s.v_resume[task]
            s.v_resume[task] = 0.0  # a failed object is processed again from the start
        else:
            t.status[task] = DONE
        if moved or bott is not None:  # adding nothing leaves the columns as they are
            s.record_bytes(task, moved, bott)
        px.busy -= 1
        px.busy_thread_s += now - t.start[task]
        px.tasks_done += 1
        px.bytes_read += moved
        sess = self.sessions[t.session[task]]  # task_left_session, inlined (hot path)
        sess.remaining -= 1
        if sess.remaining == 0 and sess.done is not None and not sess.done.triggered:
            sess.done.succeed()
        if px.state == ACTIVE and px.pool >= 0:  # _refill's usual case, inlined (hot path)
            pool = self.pools[px.pool]
            fifo = pool.fifo
            if fifo is not None and pool.pull is not None and not pool.paused:
                if fifo:
                    self._start(px, fifo.popleft())
                else:
                    pool.idle.append(px.idx)
                    if self.on_idle is not None:
                        self.on_idle(px)
                return
        self._refill(px)

    def task_left_session(self, task: int) -> None:
        """A task of the current round finished (done, failed or crashed)."""
        sess = self.sessions[self.tasks.v.session[task]]
        sess.remaining -= 1
        if sess.remaining == 0 and sess.done is not None and not sess.done.triggered:
            sess.done.succeed()

    def _refill(self, px: Proxy) -> None:
        """A thread of ``px`` came free: give it the next task, or mark it idle."""
        if px.state != ACTIVE:
            if px.busy == 0 and px.state == ENABLING:
                self.lifecycle.drained(px)
            return
        if px.pool >= 0:
            pool = self.pools[px.pool]
            pull = pool.pull
            if pull is not None:
                if pool.paused:
                    task = None
                elif (fifo := pool.fifo) is not None:
                    task = fifo.popleft() if fifo else None
                else:
                    task = pull.next_task(px.idx, pool.policy.view)
                if task is None:
                    pool.idle.append(px.idx)
                    if self.on_idle is not None:
                        self.on_idle(px)
                else:
                    self._start(px, task)
                return
            if pool.paused:
                return
        if px.queue:
            self.start_from_local(px)
        elif self.on_idle is not None:
            self.on_idle(px)

    def resume_work(self, px: Proxy) -> None:
        """``px`` can take work again: give its free threads work (its pool's or its own)."""
        if px.state != ACTIVE:
            return
        if px.pool >= 0:
            pool = self.pools[px.pool]
            if pool.pull is not None:
                pool.idle.extend([px.idx] * (px.threads - px.busy))
                self.serve_pull(pool)
                return
            if pool.paused:
                return
            self.unpark(pool)
        while px.queue and px.busy < px.threads and px.state == ACTIVE:
            self.start_from_local(px)

    def stop_task(self, task: int) -> float:
        """Take a task on a thread (overhead, transfer or fixed-rate) off it now: its bytes so
        far are recorded and its thread is freed (not refilled: the caller decides). Returns
        the bytes this attempt moved. Its phase and status are the caller's to set."""
        s = self.state
        t = self.tasks
        px = self.proxies[int(t.proxy[task])]
        phase = s.phase[task]
        moved = 0.0
        if phase == TRANSFER:
            moved, _rem, bott = self.sharing.remove(task)
            s.record_bytes(task, moved, bott)
        elif phase == DIRECT:
            moved, bott_direct = self._direct_progress(task)
            s.record_bytes(task, moved, bott_direct)
        elif phase == OVERHEAD:
            px.overhead_bytes -= s.left_bytes(task)
            if px.scanning:  # its scan may hold one of px's cores
                self.demand.stop_scan(task, px)
        else:
            raise AssertionError(f"task {task} is not on a thread (phase {phase})")
        if self._gated and self.state.v_ews[task]:
            self.ews_gate.release(task, now=False)
        px.bytes_read += moved
        px.busy -= 1
        px.busy_thread_s += self.env.now - float(t.start[task])
        return moved

    def stop_session(self, sess: SessionState) -> None:
        """Terminate a session that exceeded its window: queued tasks are dropped, in-flight
        ones stopped; what they moved is kept (vb365 fact 36)."""
        sess.terminated = True
        s = self.state
        ids = range(sess.first_task, sess.first_task + sess.n_tasks)
        lo, hi = ids.start, ids.stop
        in_sess = set(range(lo, hi))
        for pool in self.pools:
            pull = pool.pull
            if pull is not None:
                kept = [x for x in pull.drain() if x not in in_sess]
                for x in kept:
                    pull.push(x)
        for px in self.proxies:
            if px.queue:
                kept_local = [x for x in px.queue if x not in in_sess]
                dropped = [x for x in px.queue if x in in_sess]
                px.queue.clear()
                px.queue.extend(kept_local)
                px.queued_bytes -= sum(s.left_bytes(x) for x in dropped)
        for pool in self.pools:
            if pool.parked:
                kept_parked = [x for x in pool.parked if x not in in_sess]
                pool.parked.clear()
                pool.parked.extend(kept_parked)
                pool.handed_off.difference_update(in_sess)
        t = self.tasks
        phase = self.state.phase
        freed: list[Proxy] = []
        for task in ids:
            if phase[task] == FINISHED:
                continue
            if phase[task] != QUEUED:  # on a thread
                self.stop_task(task)
                freed.append(self.proxies[int(t.proxy[task])])
                t.end[task] = self.env.now
            phase[task] = FINISHED
            t.status[task] = CANCELLED
        sess.remaining = 0
        if sess.done is not None and not sess.done.triggered:
            sess.done.succeed()
        for px in freed:
            self._refill(px)

    def capacity_of(self, resource: int) -> float:
        """Current capacity of a resource."""
        return float(self.sharing.capacity[resource])

    # -- queries -------------------------------------------------------------------------------
    def outstanding_bytes(self, proxy: int) -> float:
        """Remaining bytes of a proxy's queued and in-service tasks (progress subtracted)."""
        return self.outstanding_bytes_of((proxy,))[0]

    def outstanding_bytes_of(self, proxies: Sequence[int]) -> list[float]:
        """``outstanding_bytes`` of several proxies with one pass over the shared transfers."""
        fluid = self.sharing.remaining_by_proxy(len(self.proxies))
        s = self.state
        now = self.env.now
        out = []
        for p in proxies:
            px = self.proxies[p]
            # tasks on a thread still in their overhead phase have not started moving bytes
            total = px.queued_bytes + px.overhead_bytes + float(fluid[p])
            for task in px.direct:  # the attempt's bytes, as the fluid counts them
                left = s.attempt_work(task) - s.cap[task] * (now - s.xfer_start[task])
                total += max(float(left), 0.0)
            out.append(total)
        return out

    # -- running -------------------------------------------------------------------------------
    def start(self) -> list[simpy.Process]:
        """Start the job processes, the daily budgets and the timeline without running the
        clock (``run`` does both; a test may step ``env.run(until=...)`` itself)."""
        from sim.model.job import job_process

        self.lifecycle.schedule_timeline()
        procs = [self.env.process(job_process(self, j)) for j in range(len(self.scenario.jobs))]
        for tn in self.tenants:
            if np.isfinite(tn.ru_per_day):
                self.env.process(daily_ru_budget(self.env, self.sharing, self.events, tn))
        return procs

    def run(self) -> None:
        """Run every job's sessions to the end (or to the safety horizon)."""

        if self.synthetic_mode is not None:
            self.synthetic_mode.run()
            return
        procs = self.start()
        horizon = (self.scenario.simulation.days + 7) * DAY_S
        limit = self.env.timeout(horizon)
        run_until(self.env, self.env.any_of([self.env.all_of(procs), limit]))
        self.truncated = not all(p.triggered for p in procs)
