"""Jobs and their sessions (vb365 facts 33-36).

A session: resolve objects -> process objects (one task per object, one object per thread) ->
retry failed objects -> metadata -> restore point.

- **backup**: an object's first successful backup is a full; later sessions read only the bytes
  changed since its last successful backup. Objects that joined the tenant since are fulls.
- **backup copy**: copies the latest restore point of its source backup job: per object, the
  stored bytes not yet copied; written as 256 MB blobs to the copy target (vb365 fact 33).
- **restore**: reads objects from the repository and writes them back to Microsoft 365.

A job's sessions never overlap: a run whose start time passes while the previous session is
still running is skipped and recorded as skipped, as the product does not start a job that is
already running.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import rng as streams
from sim.model.trace import DONE, FAILED, PENDING
from sim.scenario.calendar import Calendar, parse_allowed_hours, start_times
from sim.workload.objects import WORKLOAD_INDEX

if TYPE_CHECKING:
    from sim.model.world import SessionState, World

DAY_S = 86_400.0


def job_scope(world: World, job: int, day: int | None = None) -> np.ndarray:
    """Global object ids in the job's scope: its workloads, then its share slice; with ``day``,
    only the objects that exist on that day."""
    spec = world.scenario.jobs[job]
    tn = world.tenants[world.job_tenant[job]]
    wanted = np.asarray([WORKLOAD_INDEX[w] for w in spec.workloads])
    local = np.flatnonzero(np.isin(tn.objects.workload, wanted) & (tn.appear_day == 0))
    n = local.shape[0]
    lo = int(np.floor(spec.share_offset * n + 1e-9))
    hi = int(np.floor((spec.share_offset + spec.share) * n + 1e-9))
    scope = local[lo:hi]
    if day is not None and day > 0:
        # objects that joined on one day are sliced among the jobs like the initial ones, ranked
        # within that day only, so an object stays in the same job on every later day
        parts = [scope]
        for joined in range(1, day + 1):
            grown = np.flatnonzero(np.isin(tn.objects.workload, wanted) & (tn.appear_day == joined))
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
            ev = world.source_session_event(source, k)
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
            world.record_skipped(job, t)
            continue
        if start > env.now:
            yield env.timeout(start - env.now)
        yield from run_session(world, job, t, cal, grid)
    if spec.type == "backup":
        world.source_session_event(job, -1)  # no more restore points: copies may stop


def run_session(
    world: World,
    job: int,
    scheduled: float,
    cal: Calendar,
    grid: np.ndarray | None,
) -> Generator[Any, Any, None]:
    """One session of a job, from resolve to restore point."""
    from sim.model.world import SessionState

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
        index=world.job_runs(job),
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
        scope = np.flatnonzero(world.stored[source] > world.copied(job))
    else:
        scope = job_scope(world, job, day)
    yield env.timeout(cal_spec.resolve_base + cal_spec.resolve_per_object * scope.shape[0])
    if sess.terminated:
        sess.end = env.now
        world.end_session(sess)
        return

    tn = world.tenants[world.job_tenant[job]]
    local = scope - tn.first_object
    size = tn.objects.size_bytes[local]
    items = tn.objects.items[local]
    if spec.type == "backup":
        last_ok = world.last_ok(job)[scope]
        full = np.isnan(last_ok)
        rng = streams.stream(world.seed, streams.CHANGE, job, sess.index)
        elapsed_days = np.where(full, 0.0, (env.now - np.nan_to_num(last_ok)) / DAY_S)
        sigma = cal_spec.change_sigma
        noise = rng.lognormal(-(sigma**2) / 2, sigma, scope.shape[0]) if sigma > 0 else 1.0
        frac = np.minimum(1.0, tn.objects.daily_change[local] * elapsed_days * noise)
        work = np.where(full, size, size * frac)
        task_items = np.where(full, items, np.maximum(1.0, np.round(items * frac)))
    elif spec.type == "backup_copy":
        source = world.copy_source[job]
        copied = world.copied(job)[scope]
        work = world.stored[source][scope] - copied
        full = copied == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(size > 0, np.minimum(1.0, work / size), 1.0)
        task_items = np.maximum(1.0, np.round(items * share))
    else:  # restore: the latest state of each object
        work = size
        full = np.ones(scope.shape[0], dtype=bool)
        task_items = items
    ids = world.new_tasks(sess, scope, work, task_items, full.astype(np.int64))
    sess.first_task = ids.start
    sess.n_tasks = len(ids)
    rounds = 0
    pending = list(ids)
    while pending:
        sess.remaining = len(pending)
        sess.done = env.event()
        for task in pending:
            world.submit(task)
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
        world.last_ok(job)[objs] = world.tasks.start[ok]
        np.add.at(world.stored[job], objs, world.tasks.bytes_written[ok])
    elif spec.type == "backup_copy":
        world.copied(job)[objs] += world.tasks.work_bytes[ok]
    if not sess.terminated and spec.type != "restore":
        # metadata goes through the shared configuration database (fact 17): sessions queue
        with world.config_db.request() as slot:
            yield slot
            yield env.timeout(cal_spec.metadata_per_object * ok.shape[0])
        yield env.timeout(cal_spec.restore_point)
    sess.end = env.now
    world.end_session(sess)


def _window_expired(world: World, sess: SessionState, _event: object) -> None:
    if np.isnan(sess.end) and not sess.terminated:
        if sess.processing_done:
            return  # processing finished; metadata and restore point are allowed to complete
        world.stop_session(sess)
