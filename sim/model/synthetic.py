"""Synthetic mode: Poisson or trace-driven arrivals, vacations and interruptions.

Installed on a World by the builder when the scenario has a ``synthetic`` block: every task is
created up front with its arrival time as ready time (one pseudo-job, index 0, and one session
hold them all), then submitted when its time comes: merged into the run loop (``_loop``), which
also serves plain-FIFO fixed-rate tasks itself when nothing else can happen, or by a chain of
timeouts (``merge_arrivals`` False, the general path the tests compare it with). Vacations
hook into the world's ``on_idle`` (a proxy with nothing in service and nothing to take leaves
for a while); interruptions take a proxy's processing capacity to 0 and back. It exists so the
engine and the policies can be checked against queueing theory (docs/validation.md).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Generator
from heapq import heappop, heappush
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.model import rng as streams
from sim.model.clock import Timer, call_later
from sim.model.job import SessionState
from sim.model.limits import PROXY_COLUMNS
from sim.model.proxy import ACTIVE, VACATION, Proxy
from sim.model.tasks import DIRECT, FINISHED, QUEUED
from sim.model.trace import DONE
from sim.workload.synthetic import arrivals as synthetic_arrivals

if TYPE_CHECKING:
    from sim.model.world import World


class SyntheticMode:
    """The synthetic workload of one World: its tasks, arrivals, vacations, interruptions."""

    merge_arrivals = True
    """Arrivals merged into the run loop (``_loop``); False: a chain of SimPy timeouts, the
    general path that ``tests/test_hot_path.py`` compares it with."""

    inline_service = True
    """With ``merge_arrivals``: the loop serves fixed-rate tasks itself when nothing else can
    happen (``_inline_ok``); False: through ``World._start`` and ``World._after_direct``."""

    def __init__(self, world: World, base_dir: Path, pool_index: dict[str, int]) -> None:
        spec = world.synthetic
        assert spec is not None
        self.world = world
        self.spec = spec
        self.vacation = spec.vacations
        self._vac_rng = streams.stream(world.seed, streams.VACATION)
        if self.vacation is not None:
            world.on_idle = self.on_idle
        s = world.state
        times, sizes = synthetic_arrivals(
            spec,
            base_dir,
            streams.stream(world.seed, streams.ARRIVALS),
            streams.stream(world.seed, streams.SIZES),
        )
        owner = pool_index.get(spec.target)
        world.job_owner = [owner if owner is not None else -1 - world.proxy_index[spec.target]]
        if spec.service == "threads":
            thread_rate = spec.thread_rate if spec.thread_rate is not None else 1e6
            for px in world.proxies:
                world.capacity[px.res_processing] = np.inf
                px.capacity_bps = px.threads * thread_rate
            world._limited = np.isfinite(world.capacity)
        else:
            thread_rate = spec.thread_rate if spec.thread_rate is not None else np.inf
        n = times.shape[0]
        sess = SessionState(job=0, index=0, day=0, id=0, scheduled=0.0, start=0.0)
        world.sessions.append(sess)
        ids = world.tasks.reserve(n)
        s.grow(ids.stop)
        t = world.tasks
        # the world's first tasks: their rows are fresh zeros (job 0, session 0, no resource
        # columns), left unwritten so that their memory is not mapped for nothing
        assert ids.start == 0
        t.object[:n] = np.arange(n)
        t.tenant[:n] = -1
        t.workload[:n] = -1
        t.otype[:n] = -1
        t.work_bytes[:n] = sizes
        t.items[:n] = 1.0
        t.full[:n] = 1
        t.ready[:n] = times
        s.cap[:n] = thread_rate
        s.coef[:n, :PROXY_COLUMNS] = 1.0  # only the proxy's resources
        s.comp[:n] = 1.0
        s.fixed_rate[:n] = world.demand.fixed_rate_of(slice(0, n))
        world.demand.set_sids(slice(0, n))
        sess.first_task = 0
        sess.n_tasks = n
        sess.remaining = n
        sess.done = world.env.event()

    def run(self) -> None:
        """Run until every synthetic task has finished (or nothing can happen any more)."""
        world = self.world
        done = world.sessions[0].done
        assert done is not None
        # quiet: nothing scheduled but what this run schedules below (no timeline, maintenance
        # or failures from the lifecycle, no event a caller scheduled on the world before it)
        world.lifecycle.schedule_timeline()
        quiet = not world.env._queue
        start = self._arrivals() if self.merge_arrivals else self._arrival_chain()
        if self.spec.interruptions is not None:
            for px in world.proxies:
                world.env.process(self._interruptions(px))
        if self.vacation is not None:
            for px in world.proxies:
                self.on_idle(px)
        if self.merge_arrivals:
            world.truncated = not self._loop(start, done, quiet)
        else:
            try:
                world.env.run(until=done)
            except RuntimeError as exc:  # no events left: some task can never finish
                if not str(exc).startswith("No scheduled events left"):
                    raise  # anything else (a policy plug-in that raised) is not a result
                world.truncated = True
        world.sessions[0].end = world.env.now

    def _arrival_chain(self) -> simpy.Event:
        """The general path of the arrivals (``merge_arrivals`` False): a chain of timeouts,
        each submitting the tasks due at its time and scheduling the next; the first is an
        urgent event at time 0, like a process's start. ``_loop`` gives the same order."""
        env = self.world.env
        times: list[float] = self.world.tasks.ready[: self.world.tasks.n].tolist()
        n = len(times)
        pos = 0
        submit = self.world.submit

        def submit_due(_event: object = None) -> None:
            nonlocal pos
            now = env._now  # the clock does not move while callbacks run
            while pos < n:
                at = times[pos]
                if at > now:
                    call_later(env, at - now, None, arrive)
                    return
                pos += 1
                submit(pos - 1)

        def arrive(_event: object) -> None:
            """The next task is due (its timeout's time is ``now + (at - now)``, which may
            round below ``at``): submit it, then every other task due."""
            nonlocal pos
            pos += 1
            submit(pos - 1)
            submit_due()

        start = simpy.Event(env)
        start._ok = True  # what simpy.events.Initialize does for a process
        start._value = None
        start.callbacks.append(submit_due)
        env.schedule(start, simpy.events.URGENT)
        return start

    def _arrivals(self) -> simpy.Event:
        """Schedule the first submissions; ``_loop`` makes the later ones.

        Like a process's start, an urgent event at time 0 submits every task due then; each
        later arrival is an entry of a sorted stream that ``_loop`` merges with SimPy's event
        queue (``_due``), in the order a chain of timeouts would have had.
        """
        env = self.world.env
        self._times: list[float] = self.world.tasks.ready[: self.world.tasks.n].tolist()
        self._pos = 0
        self._due: tuple[float, int, int] | None = None

        def submit_due(_event: object) -> None:
            self._submit_due(env._now)

        start = simpy.Event(env)
        start._ok = True  # what simpy.events.Initialize does for a process
        start._value = None
        start.callbacks.append(submit_due)
        env.schedule(start, simpy.events.URGENT)
        return start

    def _submit_due(self, now: float) -> None:
        """Submit every task due by ``now`` from ``_pos`` on; ``_due`` is then the next one's
        queue entry (or None): the entry ``call_later(env, at - now, ...)`` would push now."""
        times = self._times
        n = len(times)
        pos = self._pos
        submit = self.world.submit
        due = None
        while pos < n:
            at = times[pos]
            if at > now:
                due = (now + (at - now), NORMAL, next(self.world.env._eid))
                break
            pos += 1
            submit(pos - 1)
        self._pos = pos
        self._due = due

    def _inline_ok(self, quiet: bool) -> bool:
        """Whether ``_loop`` may serve tasks itself (``inline_service``): nothing but arrivals
        and fixed-rate completions can happen, so every task is started once, on a thread of
        one plain-FIFO pull pool whose members never change, and ends at its fixed-rate time.

        ``quiet``: nothing was scheduled before the run (no timeline, maintenance or failures,
        no event of a caller's)."""
        world = self.world
        if not (self.inline_service and quiet) or world.on_idle is not None:
            return False
        if self.spec.interruptions is not None or len(world.sessions) != 1:
            return False
        if world._may_fail or world._gated or world._charges_direct or world.resume_watch:
            return False
        owner = world.job_owner[0]
        if owner < 0:
            return False
        pool = world.pools[owner]
        if pool.fifo is None or pool.paused:
            return False
        for m in pool.members:
            px = world.proxies[m]
            if px.limited or px.state != ACTIVE or px.pool != owner:
                return False
        n = len(self._times)
        s, t = world.state, world.tasks
        return bool(
            (s.overhead[:n] == 0.0).all()
            and (s.scan[:n] == 0.0).all()
            and s.fixed_rate[:n].all()
            and (t.work_bytes[:n] - s.resume[:n] > 0.0).all()
            and (t.session[:n] == 0).all()
        )

    def _loop(self, start: simpy.Event, done: simpy.Event, quiet: bool = False) -> bool:
        """``env.run(until=done)`` with the arrivals merged in; False if the events ran out
        before ``done`` (a task that can never finish).

        Every event of SimPy's queue is processed by ``env.step``; an arrival is a queue entry
        ``(time, NORMAL, event id)`` that is never pushed: when it is the smallest, the loop
        sets the clock and submits the task itself. The ids are drawn when a chain of timeouts
        would have drawn them, so the order of everything is that of the chain, without an
        event, a heap push and a pop per arrival.

        When ``_inline_ok``, the loop also serves the tasks itself: a fixed-rate transfer's
        end (``World._after_direct``'s fused case, the refill from the FIFO) and the start of
        the next task (``World._start``'s fixed-rate case), the same writes in the same order,
        with the same timers and event ids, without the calls and attribute lookups.
        """
        world = self.world
        env = world.env
        queue = env._queue
        step = env.step
        while start.callbacks is not None:  # up to the submissions at time 0
            step()
        times = self._times
        n = len(times)
        pos = self._pos
        # the next arrival's queue entry (time, NORMAL, id) as two numbers (none: inf, max)
        due_t, due_id = self._due[0::2] if self._due is not None else (math.inf, sys.maxsize)
        eid = env._eid
        submit = world.submit
        # World.submit's plain-FIFO pull pool case, inlined below (the one job's owner)
        owner = world.job_owner[0]
        pool = world.pools[owner] if owner >= 0 else None
        fifo = pool.fifo if pool is not None else None
        idle = pool.idle if pool is not None else None
        serve_pull = world.serve_pull
        state = world.state
        phase = state.v_phase
        # inline service: the columns and objects World._after_direct and _start use (every
        # synthetic task exists before the run: the columns and their views never move)
        inline = self._inline_ok(quiet)
        direct_cbs = world._direct_cbs
        marks = world._direct_marks
        proxies = world.proxies
        sess = world.sessions[0]
        t = world.tasks.v
        proxy_col, start_col, end_col, status = t.proxy, t.start, t.end, t.status
        attempts, work_bytes = t.attempts, t.work_bytes
        bytes_read, bytes_written, thread_s = t.bytes_read, t.bytes_written, t.thread_s
        resume, v_cap, comp = state.v_resume, state.v_cap, state.v_comp
        xfer_start, fail_frac = state.v_xfer_start, state.v_fail_frac
        ts = world.ts
        bucket_s = ts.bucket_s
        new_timer = object.__new__
        now = env._now
        due_next = False  # the next arrival's entry is to be drawn (after its starts)
        while done.callbacks is not None:  # done not processed yet
            if due_next:  # _submit_due, inlined: the tasks due at the same time, the next one
                due_next = False
                due_t, due_id = math.inf, sys.maxsize
                while pos < n:
                    at = times[pos]
                    if at > now:
                        due_t, due_id = now + (at - now), next(eid)
                        break
                    submit(pos)
                    pos += 1
            if queue:
                head = queue[0]
                head_t = head[0]
                # the entries' order: time, then priority and id (only on a tie)
                arrival = due_t < head_t or (
                    due_t == head_t and (NORMAL, due_id) < (head[1], head[2])
                )
            elif due_id == sys.maxsize:
                return False  # nothing can happen any more
            else:
                arrival = True
            if arrival:
                now = due_t
                env._now = now
                due_next = True
                if fifo is None:
                    submit(pos)
                    pos += 1
                    continue
                phase[pos] = QUEUED
                if not inline:
                    fifo.append(pos)
                    pos += 1
                    if idle:
                        serve_pull(pool)
                    continue
                if not idle:
                    fifo.append(pos)
                    pos += 1
                    continue
                # a free thread (so the FIFO is empty: serve_pull's case): start it below
                task = pos
                pos += 1
                p = idle.popleft()  # inline: a pull pool
                px = proxies[p]
            else:
                # Environment.step (SimPy 4.1), inlined: pop, process the callbacks, crash on
                # a failed event nobody defused
                now, _, _, event = heappop(queue)
                env._now = now
                callbacks = event.callbacks
                if callbacks is not direct_cbs or not inline or marks:
                    event.callbacks = None
                    for callback in callbacks:
                        callback(event)
                    if not event._ok and not hasattr(event, "_defused"):
                        exc = type(event._value)(*event._value.args)
                        exc.__cause__ = event._value
                        raise exc
                    continue
                # World._after_direct, the fused case (the Timer is dropped: nobody sees it)
                task = event._value[0]
                p = proxy_col[task]
                px = proxies[p]
                begun = xfer_start[task]
                cap = v_cap[task]
                elapsed = now - begun
                moved = cap * elapsed
                work = work_bytes[task] - resume[task]
                if work < moved:
                    moved = work
                px.direct.discard(task)
                px.direct_bps = px.direct_bps - cap if px.direct else 0.0
                first = int(begun // bucket_s)
                if now / bucket_s <= first + 1 and first < ts.rows:
                    ts.cells[first, p] += cap * elapsed
                else:
                    ts.add_bytes_one(begun, now, p, cap)
                phase[task] = FINISHED
                end_col[task] = now
                status[task] = DONE
                bytes_read[task] += moved
                bytes_written[task] += moved * comp[task]
                if elapsed:
                    thread_s[task] += elapsed
                px.busy -= 1
                px.busy_thread_s += now - start_col[task]
                px.tasks_done += 1
                px.bytes_read += moved
                sess.remaining -= 1
                if sess.remaining == 0 and sess.done is not None and not sess.done.triggered:
                    sess.done.succeed()
                if not fifo:
                    idle.append(p)  # inline: a pull pool
                    continue
                task = fifo.popleft()  # the refill: the FIFO's head on this thread
            # World._start's fixed-rate case: ``task`` on a thread of proxy ``p``
            px.busy += 1
            proxy_col[task] = p
            start_col[task] = now
            attempt = attempts[task] + 1
            attempts[task] = attempt
            fail_frac[task] = -1.0
            phase[task] = DIRECT
            xfer_start[task] = now
            px.direct.add(task)
            px.direct_bps += v_cap[task]
            ev = new_timer(Timer)
            ev._value = (task, attempt)
            ev.callbacks = direct_cbs
            end = now + (work_bytes[task] - resume[task]) / v_cap[task]
            heappush(queue, (end, NORMAL, next(eid), ev))
        return True

    def on_idle(self, px: Proxy) -> None:
        """Vacations: a proxy with nothing in service and nothing to take leaves."""
        if px.busy > 0 or px.state != ACTIVE:
            return
        spec = self.vacation
        assert spec is not None
        px.state = VACATION
        mean = float(spec.mean)
        length = self._vac_rng.exponential(mean) if spec.distribution == "exponential" else mean
        ev = self.world.env.timeout(length, value=px.idx)
        ev.callbacks.append(self._vacation_over)

    def _vacation_over(self, event: simpy.Event) -> None:
        world = self.world
        px = world.proxies[int(event.value)]  # type: ignore[arg-type]
        px.state = ACTIVE
        if px.pool >= 0 and world.pools[px.pool].pull is not None:
            pool = world.pools[px.pool]
            pool.idle.extend([px.idx] * (px.threads - px.busy))
            world.serve_pull(pool)
        else:
            while px.queue and px.busy < px.threads:
                world.start_from_local(px)
        self.on_idle(px)  # nothing arrived meanwhile: another vacation

    def _interruptions(self, px: Proxy) -> Generator[simpy.Event, Any, None]:
        """Interruptions: up exp(mean_up), down exp(mean_down), independent of load."""
        spec = self.spec.interruptions
        assert spec is not None
        world = self.world
        rng = streams.stream(world.seed, streams.INTERRUPTION, px.idx)
        full = world.capacity_of(px.res_processing)
        while True:
            yield world.env.timeout(rng.exponential(float(spec.mean_up)))
            world.sharing.set_capacity(px.res_processing, 0.0)
            yield world.env.timeout(rng.exponential(float(spec.mean_down)))
            world.sharing.set_capacity(px.res_processing, full)
