"""Jobs and their sessions (vb365 facts 33-36).

A session: resolve objects (the pool's Scheduler's CPU) -> process objects (one task per object,
one object per thread) -> retry failed objects -> metadata (the Orchestrator's CPU, then the
configuration database's IOPS; ``rolework.py``) -> restore point.

- **backup**: an object's first successful backup is a full; later sessions read only the bytes
  changed since its last successful backup. Objects that joined the tenant since are fulls.
- **backup copy**: copies the latest restore point of its source backup job: per object, the
  stored bytes not yet copied; written as 256 MB blobs to the copy target (vb365 fact 33).
- **restore**: reads objects from the repository and writes them back to Microsoft 365.

A job's sessions never overlap: a run whose start time passes while the previous session is
still running is skipped and recorded as skipped, as the product does not start a job that is
already running.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 17: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
vb365 fact 21: https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html
vb365 fact 33: https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_copy_works.html
vb365 fact 34: https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_works.html
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
vb365 fact 36: https://helpcenter.veeam.com/docs/vbo365/guide/stopping_backup_job.html
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.defaults import DAY_S
from sim.model import rng as streams
from sim.model.rolework import METADATA_ROLE, RESOLVE_ROLE, role_work
from sim.model.trace import DONE, FAILED, PENDING
from sim.scenario.calendar import Calendar, parse_allowed_hours, start_times
from sim.workload.table import WORKLOAD_INDEX

if TYPE_CHECKING:
    from sim.model.world import World


@dataclass
class SessionState:
    """One run of one job."""

    job: int
    index: int
    day: int
    id: int
    """Position in ``World.sessions`` (the ``session`` column of the task table)."""
    scheduled: float
    start: float = float("nan")
    end: float = float("nan")
    first_task: int = 0
    n_tasks: int = 0
    remaining: int = 0
    terminated: bool = False
    done: simpy.Event | None = None
    deadline: float = float("inf")
    retries: int = 0
    skipped: bool = False
    processing_done: bool = False


class JobBook:
    """Jobs' book-keeping across sessions: runs so far, each object's last successful backup,
    bytes stored per backup job and copied per backup-copy job, finished restore points."""

    def __init__(self, world: World) -> None:
        self.world = world
        sc = world.scenario
        self.session_done: dict[int, list[simpy.Event]] = {}
        """Per backup job: events a backup copy waits on (one per finished session)."""
        self._runs: dict[int, int] = {}
        self._finished: dict[int, int] = {}
        self._source_over: set[int] = set()
        self._last_ok: dict[int, tuple[int, np.ndarray]] = {}
        """Per job: (the first object id of its window, last successful backup starts)."""
        self._copied: dict[int, np.ndarray] = {}
        self.stored = {
            j: np.zeros(world.n_objects) for j, spec in enumerate(sc.jobs) if spec.type == "backup"
        }
        """Per backup job: bytes stored per object (sum of bytes written)."""
        if sc.simulation.initial_state == "protected":
            for j in self.stored:
                scope = job_scope(world, j)
                tn = world.tenants[world.job_tenant[j]]
                comp = np.asarray(world.repositories[world.job_repo[j]].compression)
                local = scope - tn.first_object
                self.stored[j][scope] = (
                    tn.objects.size_bytes[local] * comp[tn.objects.workload[local]]
                )
            for j, src in world.copy_source.items():  # copied before the run: the initial state
                self._copied[j] = self.stored[src].copy()

    def job_runs(self, job: int) -> int:
        """Sessions of ``job`` so far (its next session's index)."""
        return self._runs.get(job, 0)

    def last_ok(self, job: int, objs: np.ndarray) -> np.ndarray:
        """Start time of the last successful backup by ``job`` of each of ``objs`` (global
        object ids; NaN: never)."""
        lo, values = self._last_ok_window(job, objs)
        out: np.ndarray = values[objs - lo]
        return out

    def set_last_ok(self, job: int, objs: np.ndarray, start: np.ndarray) -> None:
        """``job`` backed ``objs`` up successfully in runs that started at ``start``."""
        lo, values = self._last_ok_window(job, objs)
        values[objs - lo] = start

    def _last_ok_window(self, job: int, objs: np.ndarray) -> tuple[int, np.ndarray]:
        """A job's last successful backups over the window of object ids ``[lo, lo + n)`` it
        has used, grown to hold ``objs`` (a job's scope is a slice of its tenant's objects: an
        array over every object of the run, per job, would write every page of it)."""
        w = self.world
        if objs.size == 0:
            return self._last_ok.get(job, (0, np.empty(0)))
        need_lo, need_hi = int(objs.min()), int(objs.max()) + 1
        have = self._last_ok.get(job)
        if have is None:
            initial = None
            if w.scenario.simulation.initial_state == "protected":
                initial = job_scope(w, job)
                if initial.size:
                    need_lo = min(need_lo, int(initial.min()))
                    need_hi = max(need_hi, int(initial.max()) + 1)
            values = np.full(need_hi - need_lo, np.nan)
            if initial is not None:
                values[initial - need_lo] = (w.scenario.jobs[job].schedule.daily or 0.0) - DAY_S
            have = self._last_ok[job] = (need_lo, values)
        lo, values = have
        if need_lo < lo or need_hi > lo + values.shape[0]:
            new_lo = min(lo, need_lo)
            grown = np.full(max(lo + values.shape[0], need_hi) - new_lo, np.nan)
            grown[lo - new_lo : lo - new_lo + values.shape[0]] = values
            have = self._last_ok[job] = (new_lo, grown)
        return have

    def copied(self, job: int) -> np.ndarray:
        """Per object: stored bytes a backup-copy job has copied so far."""
        w = self.world
        if job not in self._copied:
            copied = np.zeros(w.n_objects)
            if w.scenario.simulation.initial_state == "protected":
                copied[:] = self.stored[w.copy_source[job]]
            self._copied[job] = copied
        return self._copied[job]

    def source_session_event(self, job: int, k: int) -> simpy.Event:
        """The event of backup ``job``'s k-th finished session (value: the session id);
        ``k = -1`` marks the job as finished (value None for every later k)."""
        w = self.world
        events = self.session_done.setdefault(job, [])
        if k < 0:
            self._source_over.add(job)
            for ev in events:
                if not ev.triggered:
                    ev.succeed(None)
            return w.env.event().succeed(None)
        while len(events) <= k:
            ev = w.env.event()
            if job in self._source_over:
                ev.succeed(None)
            events.append(ev)
        return events[k]

    def end_session(self, sess: SessionState) -> None:
        """Book-keeping when a session ends: count it and wake waiting backup copies."""
        w = self.world
        self._runs[sess.job] = self._runs.get(sess.job, 0) + 1
        if w.scenario.jobs[sess.job].type == "backup":
            k = self._finished.get(sess.job, 0)
            self._finished[sess.job] = k + 1
            ev = self.source_session_event(sess.job, k)
            if not ev.triggered:
                ev.succeed(sess.id)

    def record_skipped(self, job: int, scheduled: float) -> None:
        """A run that could not start because the job's previous session was still running."""
        w = self.world
        sess = SessionState(
            job=job,
            index=self.job_runs(job),
            day=int(scheduled // DAY_S),
            id=len(w.sessions),
            scheduled=scheduled,
            skipped=True,
        )
        w.sessions.append(sess)
        self._runs[job] = self._runs.get(job, 0) + 1


def job_scope(world: World, job: int, day: int | None = None) -> np.ndarray:
    """Global object ids in the job's scope: its workloads, then its share slice; with ``day``,
    only the objects that exist on that day."""
    spec = world.scenario.jobs[job]
    tn = world.tenants[world.job_tenant[job]]
    wls = tuple(sorted({WORKLOAD_INDEX[w] for w in spec.workloads}))
    in_jobs: np.ndarray | None = None

    def joined_on(d: int) -> np.ndarray:
        nonlocal in_jobs
        rows = tn.scope_rows.get((wls, d))
        if rows is None:
            if in_jobs is None:
                chosen = np.zeros(len(WORKLOAD_INDEX), dtype=bool)  # np.isin, as a lookup
                chosen[list(wls)] = True
                in_jobs = chosen[tn.objects.workload]
            rows = tn.scope_rows[(wls, d)] = np.flatnonzero(in_jobs & (tn.appear_day == d))
        return rows

    local = joined_on(0)
    n = local.shape[0]
    lo = int(np.floor(spec.share_offset * n + 1e-9))
    hi = int(np.floor((spec.share_offset + spec.share) * n + 1e-9))
    scope = local[lo:hi]
    if day is not None and day > 0:
        # objects that joined on one day are sliced among the jobs like the initial ones, ranked
        # within that day only, so an object stays in the same job on every later day
        parts = [scope]
        for joined in range(1, day + 1):
            grown = joined_on(joined)
            m = grown.shape[0]
            lo_g = int(np.floor(spec.share_offset * m + 1e-9))
            hi_g = int(np.floor((spec.share_offset + spec.share) * m + 1e-9))
            parts.append(grown[lo_g:hi_g])
        scope = np.concatenate(parts)
    return scope + tn.first_object


def job_process(world: World, job: int) -> Generator[Any, Any, None]:
    """The SimPy process of one job: its sessions over the simulated days."""
    env = world.env
    spec = world.scenario.jobs[job]
    sched = spec.schedule
    sim_spec = world.scenario.simulation
    cal = Calendar(sim_spec.start_weekday)
    grid = parse_allowed_hours(sched.allowed_hours) if sched.allowed_hours else None
    if spec.type == "backup_copy" and sched.after_source:
        source = world.copy_source[job]
        k = 0
        while True:
            ev = world.book.source_session_event(source, k)
            yield ev
            if ev.value is None:
                return
            yield from run_session(world, job, env.now, cal, grid)
            k += 1
    for t in start_times(sched, sim_spec.days, cal):
        start = t
        if grid is not None:
            shifted = cal.next_allowed(grid, t)
            if shifted is None:
                continue
            start = shifted
        if env.now > start:
            world.book.record_skipped(job, t)
            continue
        if start > env.now:
            yield env.timeout(start - env.now)
        yield from run_session(world, job, t, cal, grid)
    if spec.type == "backup":
        world.book.source_session_event(job, -1)  # no more restore points: copies may stop


def run_session(
    world: World,
    job: int,
    scheduled: float,
    cal: Calendar,
    grid: np.ndarray | None,
) -> Generator[Any, Any, None]:
    """One session of a job, from resolve to restore point."""
    env = world.env
    spec = world.scenario.jobs[job]
    sched = spec.schedule
    cal_spec = world.scenario.calibration
    owner = world.job_owner[job]
    if owner >= 0:
        # sessions are created by the pool's Scheduler (vb365 fact 2): none while it fails over
        wait = world.lifecycle.scheduler_ready(owner)
        if wait is not None:
            yield wait
    day = int(env.now // DAY_S)
    sess = SessionState(
        job=job,
        index=world.book.job_runs(job),
        day=day,
        id=len(world.sessions),
        scheduled=scheduled,
        start=env.now,
    )
    world.sessions.append(sess)
    deadline = math.inf
    if sched.window is not None:
        deadline = scheduled + sched.window
    if grid is not None:
        deadline = min(deadline, cal.block_end(grid, env.now))
    sess.deadline = deadline
    if sched.terminate_on_window and math.isfinite(deadline):
        stopper = env.timeout(max(deadline - env.now, 0.0))
        stopper.callbacks.append(partial(_window_expired, world, sess))

    if spec.type == "backup_copy":
        source = world.copy_source[job]
        scope = np.flatnonzero(world.book.stored[source] > world.book.copied(job))
    else:
        scope = job_scope(world, job, day)
    # resolve: the fixed part and the listing's wall time, then the Scheduler's CPU (vb365
    # fact 2; sim/model/rolework.py)
    yield env.timeout(cal_spec.resolve_base + cal_spec.resolve_per_object * scope.shape[0])
    yield from role_work(world, job, RESOLVE_ROLE, cal_spec.resolve_cpu_per_object * scope.shape[0])
    if sess.terminated:
        sess.end = env.now
        world.book.end_session(sess)
        return

    tn = world.tenants[world.job_tenant[job]]
    local = scope - tn.first_object
    size = tn.objects.size_bytes[local]
    items = tn.objects.items[local]
    if spec.type == "backup":
        last_ok = world.book.last_ok(job, scope)
        full = np.isnan(last_ok)
        rng = streams.stream(world.seed, streams.CHANGE, job, sess.index)
        elapsed_days = np.where(full, 0.0, (env.now - np.nan_to_num(last_ok)) / DAY_S)
        sigma = cal_spec.change_sigma
        noise = rng.lognormal(-(sigma**2) / 2, sigma, scope.shape[0]) if sigma > 0 else 1.0
        # an object changed since its last backup with probability 1 - (1 - p)^days (p: per
        # day, INFERRED); one that changed carries rate / p of its bytes per day, so the
        # expected change stays the daily change rate (vb365 fact 21)
        p_day = np.asarray(world.change_probability)[tn.objects.otype[local]]
        p_changed = 1.0 - (1.0 - p_day) ** elapsed_days
        draw = streams.stream(world.seed, streams.CHANGE, job, sess.index, 1).random(scope.shape[0])
        changed = full | (draw < p_changed)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_change = np.where(p_changed > 0, elapsed_days / p_changed, 0.0)
        frac = np.minimum(1.0, tn.objects.daily_change[local] * per_change * noise)
        frac = np.where(changed, frac, 0.0)
        work = np.where(full, size, size * frac)
        task_items = np.where(
            full, items, np.where(changed, np.maximum(1.0, np.round(items * frac)), 0.0)
        )
    elif spec.type == "backup_copy":
        source = world.copy_source[job]
        copied = world.book.copied(job)[scope]
        work = world.book.stored[source][scope] - copied
        full = copied == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(size > 0, np.minimum(1.0, work / size), 1.0)
        task_items = np.maximum(1.0, np.round(items * share))
        changed = work > 0
    else:  # restore: the latest state of each object
        work = size
        full = np.ones(scope.shape[0], dtype=bool)
        task_items = items
        changed = full
    ids = world.demand.new_tasks(
        sess, scope, work, task_items, full.astype(np.int64), changed.astype(np.int64)
    )
    sess.first_task = ids.start
    sess.n_tasks = len(ids)
    rounds = 0
    pending = list(ids)
    while pending:
        sess.remaining = len(pending)
        sess.done = env.event()
        world.submit_all(pending)
        yield sess.done
        if sess.terminated:
            break
        status = world.tasks.status[ids.start : ids.stop]
        failed = ids.start + np.flatnonzero(status == FAILED)
        if spec.retry is None or rounds >= spec.retry.attempts or failed.size == 0:
            break
        yield env.timeout(spec.retry.wait)
        if sess.terminated:
            break
        rounds += 1
        world.tasks.status[failed] = PENDING
        world.tasks.ready[failed] = env.now
        pending = failed.tolist()
    sess.retries = rounds
    sess.processing_done = True
    ok = ids.start + np.flatnonzero(world.tasks.status[ids.start : ids.stop] == DONE)
    objs = world.tasks.object[ok]
    if spec.type == "backup":
        world.book.set_last_ok(job, objs, world.tasks.start[ok])
        np.add.at(world.book.stored[job], objs, world.tasks.bytes_written[ok])
    elif spec.type == "backup_copy":
        world.book.copied(job)[objs] += world.tasks.work_bytes[ok]
    if not sess.terminated and spec.type != "restore":
        # metadata: the Orchestrator's CPU (vb365 fact 2), then the writes to the shared
        # configuration database (fact 17): its IOPS shared by the sessions syncing at once
        yield from role_work(
            world, job, METADATA_ROLE, cal_spec.metadata_cpu_per_object * ok.shape[0]
        )
        yield from world.config_db.sync(cal_spec.metadata_ios_per_object * ok.shape[0])
        yield env.timeout(cal_spec.restore_point)
    sess.end = env.now
    world.book.end_session(sess)


def _window_expired(world: World, sess: SessionState, _event: object) -> None:
    if np.isnan(sess.end) and not sess.terminated:
        if sess.processing_done:
            return  # processing finished; metadata and restore point are allowed to complete
        world.stop_session(sess)
