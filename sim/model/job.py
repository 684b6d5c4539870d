"""Backup jobs and their sessions (vb365 fact 34).

A session: resolve objects -> process objects (one task per object in scope, one object per
thread) -> metadata -> restore point. An object's first successful backup is a full; later
sessions read only the bytes changed since its last successful backup (an incremental). Sessions of
one job never overlap: a session that starts late because the previous one ran long starts as soon
as that one ends.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import rng as streams
from sim.model.trace import DONE

if TYPE_CHECKING:
    from sim.model.world import SessionState, World

DAY_S = 86_400.0


def job_scope(world: World, job: int) -> np.ndarray:
    """Global object ids in the job's scope: its workloads, then its share slice."""
    spec = world.scenario.jobs[job]
    tn = world.tenants[world.job_tenant[job]]
    from sim.workload.objects import WORKLOAD_INDEX

    wanted = np.asarray([WORKLOAD_INDEX[w] for w in spec.workloads])
    local = np.flatnonzero(np.isin(tn.objects.workload, wanted))
    n = local.shape[0]
    lo = int(np.floor(spec.share_offset * n + 1e-9))
    hi = int(np.floor((spec.share_offset + spec.share) * n + 1e-9))
    return local[lo:hi] + tn.first_object


def job_process(world: World, job: int) -> Generator[Any, Any, None]:
    """The SimPy process of one job: its daily sessions for the simulated days."""
    from sim.model.world import SessionState

    env = world.env
    spec = world.scenario.jobs[job]
    cal = world.scenario.calibration
    tn = world.tenants[world.job_tenant[job]]
    scope = job_scope(world, job)
    local = scope - tn.first_object
    size = tn.objects.size_bytes[local]
    items = tn.objects.items[local]
    change = tn.objects.daily_change[local]
    last_ok = np.full(scope.shape[0], np.nan)
    for day in range(world.scenario.simulation.days):
        scheduled = day * DAY_S + spec.schedule.daily
        if env.now < scheduled:
            yield env.timeout(scheduled - env.now)
        sess = SessionState(
            job=job, index=day, day=day, id=len(world.sessions), scheduled=scheduled, start=env.now
        )
        world.sessions.append(sess)
        window = spec.schedule.window
        if window is not None and spec.schedule.terminate_on_window:
            stopper = env.timeout(max(scheduled + window - env.now, 0.0))
            stopper.callbacks.append(partial(_window_expired, world, sess))
        yield env.timeout(cal.resolve_base + cal.resolve_per_object * scope.shape[0])
        if sess.terminated:
            sess.end = env.now
            continue
        full = np.isnan(last_ok)
        rng = streams.stream(world.seed, streams.CHANGE, job, day)
        elapsed_days = np.where(full, 0.0, (env.now - np.nan_to_num(last_ok)) / DAY_S)
        sigma = cal.change_sigma
        noise = rng.lognormal(-(sigma**2) / 2, sigma, scope.shape[0]) if sigma > 0 else 1.0
        frac = np.minimum(1.0, change * elapsed_days * noise)
        work = np.where(full, size, size * frac)
        task_items = np.where(full, items, np.maximum(1.0, np.round(items * frac)))
        ids = world.new_tasks(sess, scope, work, task_items, full.astype(np.int64))
        sess.first_task = ids.start
        sess.n_tasks = len(ids)
        sess.remaining = len(ids)
        sess.done = env.event()
        if len(ids):
            for task in ids:
                world.submit(task)
            yield sess.done
        ok = world.tasks.status[ids.start : ids.stop] == DONE
        last_ok[ok] = world.tasks.start[ids.start : ids.stop][ok]
        processed = int(ok.sum())
        if not sess.terminated:
            yield env.timeout(cal.metadata_per_object * processed + cal.restore_point)
        sess.end = env.now


def _window_expired(world: World, sess: SessionState, _event: object) -> None:
    if np.isnan(sess.end) and not sess.terminated:
        if sess.done is not None and sess.done.triggered:
            return  # processing finished; metadata and restore point are allowed to complete
        world.stop_session(sess)
