"""What a task asks of the shared resources: its ceiling and its resource row, from the table of
limits (``limits.py``), plus the cache of resource maps and the never-binding analysis.

A task's row has one column per shared record of ``limits.SHARED`` (proxy records first, filled
when the task starts on a proxy): the resource of the record's owner for this task and the
coefficient (units per byte moved); 0 where the task does not use it. Per-object records
(``PerObjectRate``) cap the task's item rate, so its ceiling.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, Any

import numpy as np
from simpy.events import NORMAL

from sim import defaults as d
from sim.model.clock import Timer, call_timer
from sim.model.limits import PER_OBJECT, PROXY_COLUMNS, SHARED, Limit, Rows, cpu_costs
from sim.model.maxmin import pairs_from_lists
from sim.model.tasks import OVERHEAD, QUEUED
from sim.workload.table import WORKLOAD_INDEX

_new_timer = object.__new__

if TYPE_CHECKING:
    import simpy

    from sim.model.job import SessionState
    from sim.model.proxy import Proxy
    from sim.model.world import World

PAIRS_CACHE = 16384
"""Resource maps kept by ``Demand.pairs`` (transfers whose request coefficients are their own,
e.g. RU per byte of one object, each add one)."""
WIDTH = len(SHARED)
"""Columns of a task's resource row."""
_RESTORE_THREAD_BPS = np.asarray(
    [d.RESTORE_THREAD_BPS_OF_WORKLOAD[w] for w in d.WORKLOADS], dtype=float
)


def owner_of(world: World, rec: Limit, role: str, job: int) -> Any:
    """The owner whose ``rec`` a task of ``job`` uses in ``role`` (not for proxy records)."""
    if role == "tenant":
        return world.tenants[world.job_tenant[job]]
    if role == "target":
        return world.repositories[world.job_repo[job]]
    if role == "source":
        if job in world.restore_repo:
            return world.repositories[world.restore_repo[job]]
        return world.repositories[world.job_repo[world.copy_source[job]]]
    raise ValueError(f"limit {rec.name!r}: no owner for role {role!r}")


class Demand:
    """Creates tasks' rows and serves their resource maps for one World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.core_bps, self.scan_bytes = cpu_costs(world.scenario.calibration)
        """Bytes of processing per Windows core-second, and per object by workload (its
        scan's CPU, ``limits.CpuCost``)."""
        self._sid_next = 0
        self._claims: dict[int, simpy.Event] = {}
        """Waiting claims of a core by a role's work (``claim_core``), by claim number."""
        self._claim_next = 0
        self._cpu_cbs = (self._cpu_done,)
        """The callbacks of every scan's end (``call_timer``)."""
        self._pairs_by: dict[tuple[int, int], dict[int, float]] = {}
        """Resource maps by (``sid``, proxy)."""
        self.scan_log: list[tuple[int, float, float, float]] | None = None
        """When a list, every scan's and role work's (proxy, start, seconds on its core as
        planned at its start, bytes of processing per second) is appended: a diagnostic
        (``sim.metrics.cpu``), off by default."""

    def new_tasks(
        self,
        session: SessionState,
        objects: np.ndarray,
        work: np.ndarray,
        items: np.ndarray,
        full: np.ndarray,
        changed: np.ndarray | None = None,
    ) -> range:
        """Create the tasks of a session (vectorised): one per object given.

        ``work`` is source bytes for backups and restores and stored bytes for backup copies;
        ``changed`` (default: all) marks the objects with something to move: the others are
        only scanned (their per-object CPU and overhead, no transfer).
        """
        w = self.world
        job = session.job
        s = w.state
        spec = w.scenario.jobs[job]
        tn = w.tenants[w.job_tenant[job]]
        n = int(objects.shape[0])
        ids = w.tasks.reserve(n)
        sl = slice(ids.start, ids.stop)
        local = objects - tn.first_object
        wl = tn.objects.workload[local]
        otype = tn.objects.otype[local]
        t = w.tasks
        t.job[sl] = job
        t.session[sl] = session.id
        t.object[sl] = objects
        t.tenant[sl] = tn.idx
        t.workload[sl] = wl
        t.otype[sl] = otype
        t.work_bytes[sl] = work
        t.items[sl] = items
        t.full[sl] = full
        t.changed[sl] = 1 if changed is None else changed
        t.ready[sl] = w.env.now
        s.grow(ids.stop)
        s.phase[sl] = QUEUED
        s.resume[sl] = 0.0
        s.overhead[sl] = np.asarray(w.overhead_s)[wl]
        s.scan[sl] = self.scan_bytes[wl]
        rows = Rows(spec.type, wl, otype, work, items, full)
        res = s.res[sl]
        coef = s.coef[sl]
        res[:] = 0
        coef[:] = 0.0
        for col, rec in enumerate(SHARED):
            use = rec.use_for(spec.type)
            if use is None:
                continue
            if rec.owner == "proxy":  # the proxy's resources: filled when the task starts
                coef[:, col] = use.coefficient(rows, None)
                continue
            owner = owner_of(w, rec, use.role, job)
            a = use.coefficient(rows, owner)
            rid = getattr(owner, rec.attr)
            if rec.per_workload:
                rid = np.asarray(rid)[wl]
            res[:, col] = np.where(a > 0, rid, 0)
            coef[:, col] = a
        if spec.type == "backup_copy":
            s.cap[sl] = w.copy_thread_bps
            s.comp[sl] = 1.0
        else:
            item_rate = np.asarray(w.items_per_s)[wl]
            cal = w.scenario.calibration
            for rec in PER_OBJECT:  # a per-object request rate caps the item rate
                use = rec.use_for(spec.type)
                if use is not None:
                    limit = rec.capacity(None, cal)
                    assert isinstance(limit, float)
                    a = use.coefficient(rows, tn)  # requests per byte
                    with np.errstate(divide="ignore", invalid="ignore"):
                        per_item = np.where(items > 0, a * work / items, 0.0)
                        item_rate = np.where(
                            per_item > 0,
                            np.minimum(item_rate, limit / rec.window_s / per_item),
                            item_rate,
                        )
            with np.errstate(divide="ignore", invalid="ignore"):
                item_bps = item_rate * np.where(items > 0, work / items, np.inf)
            if spec.type == "restore":
                s.cap[sl] = np.minimum(_RESTORE_THREAD_BPS[wl], item_bps)
                s.comp[sl] = 1.0
            else:
                repo = w.repositories[w.job_repo[job]]
                s.cap[sl] = np.minimum(np.asarray(w.thread_bps)[wl], item_bps)
                s.comp[sl] = np.asarray(repo.compression)[wl]
        s.fixed_rate[sl] = self.fixed_rate_of(sl)
        self.set_sids(sl)
        s.graph[sl] = tn.exchange_api == "graph"
        # EWS connections gate the transfer of Exchange backups on the EWS path
        s.ews[sl] = (tn.exchange_api == "ews") & (spec.type == "backup") & (wl == 0)
        files = (wl == WORKLOAD_INDEX["onedrive"]) | (wl == WORKLOAD_INDEX["sharepoint"])
        on_ru = spec.type == "backup" and tn.res_ru > 0
        s.delta[sl] = np.where(files & (t.changed[sl] == 0), tn.res_ru, 0) if on_ru else 0
        return ids

    def fixed_rate_of(self, sl: slice) -> np.ndarray:
        """``TaskState.fixed_rate`` of the tasks in ``sl`` (the proxy's columns are checked at
        start)."""
        s = self.world.state
        res = s.res[sl, PROXY_COLUMNS:]
        uses_limited = (self.world._limited[res] & (s.coef[sl, PROXY_COLUMNS:] > 0)).any(axis=1)
        cap = s.cap[sl]
        fixed: np.ndarray = ~uses_limited & np.isfinite(cap) & (cap > 0.0)
        return fixed

    def set_sids(self, sl: slice) -> None:
        """Number the distinct (non-proxy columns, coefficients) rows of new tasks."""
        s = self.world.state
        res = s.res[sl, PROXY_COLUMNS:]
        coef = s.coef[sl, PROXY_COLUMNS:].view(np.int64)  # the bytes: -0.0 is not 0.0
        if res.shape[0] == 0:
            return
        # numbered in order of first appearance; columns equal on every row tell no row apart
        rows = np.concatenate(
            [res[:, (res != res[0]).any(axis=0)], coef[:, (coef != coef[0]).any(axis=0)]], axis=1
        )
        if rows.shape[1] == 0:
            s.sid[sl] = self._sid_next
            self._sid_next += 1
            return
        if rows.shape[1] > 1:  # one key per row (np.unique sorts them: rank the first indices)
            rows = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1] * 8)))
        _, first, inverse = np.unique(rows.ravel(), return_index=True, return_inverse=True)
        rank = np.empty(first.shape[0], dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
        s.sid[sl] = self._sid_next + rank[inverse.ravel()]
        self._sid_next += int(first.shape[0])

    def start_scan(self, task: int, px: Proxy, attempt: int) -> None:
        """Start the scan of a task that just took a thread on ``px`` (phase OVERHEAD): its
        per-object CPU (``TaskState.scan``) holds one of ``px``'s cores for scan / speed
        seconds (``scan_speed``: a full core on an idle proxy), first come first served (a
        thread runs on one core at a time; a scan finding every core held waits, its wait
        counts as ``proxy_s``); the rest of its overhead, if longer, follows without a core.
        Then ``World._begin_transfer`` moves its bytes."""
        if px.cores_free > 0:
            px.cores_free -= 1
            self._hold(task, px, attempt)
        else:
            px.scan_wait.append((task, attempt))

    def _hold(self, task: int, px: Proxy, attempt: int) -> None:
        w = self.world
        t = w.tasks.v
        env = w.env
        now = env._now
        waited = now - t.start[task]
        if waited > 0.0:
            t.proxy_s[task] += waited
        px.scanning[task] = attempt
        speed = self.scan_speed(px)
        held_s = w.state.v_scan[task] / speed if speed > 0.0 else 0.0
        if self.scan_log is not None:
            self.scan_log.append((px.idx, now, held_s, speed))
        # call_timer, inlined (hot path): the same heap entry
        ev = _new_timer(Timer)
        ev._value = (task, attempt, px, held_s)
        ev.callbacks = self._cpu_cbs
        heappush(env._queue, (now + held_s, NORMAL, next(env._eid), ev))  # type: ignore[misc]

    def scan_speed(self, px: Proxy) -> float:
        """Bytes of processing per second a scan starting now on ``px`` gets on its core:
        processor sharing of the proxy's processing between the transfers on it and the work
        holding its cores (scans, roles' work), seen at the scan's start. The transfers use
        ``u`` of the capacity ``C``; the cores' holders share what is left, each at most one
        core, and at least the fair share of every thread on the proxy's processing,
        ``C / (transfers + holders)`` (a transfer stalled at a rate of 0 counts too).
        INFERRED simplification (docs/model.md "Proxies"): the speed is fixed at the scan's
        start, and the transfers are not slowed by the scans."""
        b = px.core_bps
        r = px.res_processing
        if not r:
            return b
        u, k = self.world.sharing.proxy_load(r, px.idx)
        u += px.direct_bps  # the fixed-rate transfers outside the fluid use it too
        k += len(px.direct)
        holders = px.cores - px.cores_free  # >= 1: the caller's core is already taken
        c = px.capacity_bps
        # min(b, max(what is left per holder, the fair share)), without the two builtin calls
        speed = (c - u) / holders
        fair = c / (k + holders)
        if fair > speed:
            speed = fair
        return b if b < speed else speed

    def _cpu_done(self, event: Any) -> None:
        task, attempt, px, held_s = event._value
        w = self.world
        if px.scanning.get(task) != attempt:
            return  # stopped meanwhile (its core was released then)
        del px.scanning[task]
        if px.scan_wait:
            self._release(px)
        else:  # _release's case of nobody waiting
            px.cores_free += 1
        rest = w.state.v_overhead[task] - held_s
        if rest > 0.0:
            call_timer(w.env, rest, (task, attempt), w._overhead_cbs)
        else:
            w._begin_transfer(task)

    def _release(self, px: Proxy) -> None:
        """A core of ``px`` came free: the next waiting scan still on its thread takes it."""
        w = self.world
        s = w.state
        t = w.tasks.v
        while px.scan_wait:
            task, attempt = px.scan_wait.popleft()
            if task < 0:  # a role's work (``claim_core``), unless it gave up meanwhile
                claim = self._claims.pop(attempt, None)
                if claim is not None:
                    claim.succeed()
                    return
                continue
            if (
                s.v_phase[task] == OVERHEAD
                and t.attempts[task] == attempt
                and t.proxy[task] == px.idx
            ):
                self._hold(task, px, attempt)
                return
        px.cores_free += 1

    def claim_core(self, px: Proxy) -> simpy.Event:
        """One core of ``px`` for a role's work (``rolework.role_work``): an event that fires
        when the core is its, first come first served with the scans. Give it back with
        ``release_core``, or ``cancel_claim`` if it is no longer wanted."""
        ev = self.world.env.event()
        if px.cores_free > 0:
            px.cores_free -= 1
            ev.succeed()
        else:
            self._claim_next += 1
            self._claims[self._claim_next] = ev
            px.scan_wait.append((-1, self._claim_next))
        return ev

    def cancel_claim(self, px: Proxy, ev: simpy.Event) -> None:
        """A claim still waiting is withdrawn (its turn is skipped); one granted meanwhile
        gives its core back."""
        for k, claim in list(self._claims.items()):
            if claim is ev:
                del self._claims[k]
                return
        if ev.triggered:
            self._release(px)

    def release_core(self, px: Proxy) -> None:
        """A role's work gives back the core it claimed."""
        self._release(px)

    def stop_scan(self, task: int, px: Proxy) -> None:
        """A task leaves its thread during its overhead: the core its scan holds is freed (a
        waiting scan is skipped when its turn comes: its attempt is over)."""
        if task in px.scanning:
            del px.scanning[task]
            self._release(px)

    def pairs(self, task: int, px: Proxy) -> dict[int, float]:
        """The resource map of ``task`` on ``px`` (cached: one per distinct row and proxy)."""
        s = self.world.state
        key = (s.v_sid[task], px.idx)
        pairs = self._pairs_by.get(key)
        if pairs is None:
            res = s.res[task].tolist()
            res[:PROXY_COLUMNS] = px.res_row
            pairs = pairs_from_lists(res, s.coef[task].tolist())
            if len(self._pairs_by) >= PAIRS_CACHE:
                self._pairs_by.clear()
            self._pairs_by[key] = pairs
        return pairs


def thread_bound(world: World, job_type: str, workloads: list[int]) -> float:
    """The highest ceiling a task of this job type and these workloads can have."""
    if job_type == "backup_copy":
        return float(world.copy_thread_bps)
    if job_type == "restore":
        return float(max(_RESTORE_THREAD_BPS[w] for w in workloads))
    return max(world.thread_bps[w] for w in workloads)


def never_binding(world: World) -> np.ndarray:
    """Resources that cannot saturate in this run, so a transfer whose finite resources are all
    of them runs at its ceiling: a fixed-rate server, outside the fluid.

    A resource of a ``skippable`` record (a proxy's processing or throttle, a repository's
    bandwidth or request rate) qualifies when its capacity never changes (no request budget or
    throttle watches it) and exceeds the most that could ever use it at once: every thread of
    every proxy that may serve a job using it (its owner's members; every proxy if the timeline
    can move proxies) at the highest ceiling of that job's kind, times the highest coefficient.
    Tenant records are not skippable (they are what throttling is about), except the Exchange
    API records (EWS connections and budget, Graph's app limit): their coefficients are one
    number per tenant, so a thread's most use is bounded, and a tenant with too few Exchange
    threads to reach them keeps its Exchange tasks out of the fluid.
    """
    sc = world.scenario
    n_res = len(world.capacity)
    n_px = len(world.proxies)
    most = np.zeros((n_px, n_res))  # per proxy: the most one of its threads can use
    every = list(range(n_px))
    all_wl = list(range(len(d.WORKLOADS)))
    for j, spec in enumerate(sc.jobs):
        owner = world.job_owner[j]
        if sc.timeline:
            serve = every
        elif owner >= 0:
            serve = list(world.pools[owner].members)
        else:
            serve = [-1 - owner]
        if spec.type == "backup_copy":
            wl = all_wl  # a copy moves whatever its source job stored
        else:
            wl = [WORKLOAD_INDEX[w] for w in spec.workloads] or all_wl
        rows = Rows.per_workload(spec.type, wl)
        top = thread_bound(world, spec.type, wl)
        on_proxy: list[tuple[str, float]] = []
        uses: list[tuple[int, float]] = []
        for rec in SHARED:
            use = rec.use_for(spec.type)
            if use is None or not rec.skippable:
                continue
            if rec.owner == "proxy":
                on_proxy.append((rec.attr, float(np.max(use.coefficient(rows, None)))))
            else:
                res_owner = owner_of(world, rec, use.role, j)
                a = float(np.max(use.coefficient(rows, res_owner)))
                uses.append((getattr(res_owner, rec.attr), a))
        for p in serve:
            px = world.proxies[p]
            for r, a in [*((getattr(px, attr), a) for attr, a in on_proxy), *uses]:
                most[p, r] = max(most[p, r], top * a)

    threads = np.asarray([px.threads for px in world.proxies], dtype=float)
    bound = threads @ most
    # at most the EWS connections of a tenant transfer on its EWS path at once (the gate):
    # its budget's load is bounded by them too
    for tn, ts in zip(world.tenants, sc.tenants, strict=True):
        r = tn.res_ews_budget
        if r:
            conns = float(ts.ews_max_concurrency * ts.ews_accounts)
            bound[r] = min(bound[r], conns * float(most[:, r].max(initial=0.0)))
    candidates = np.zeros(n_res, dtype=bool)
    owners: dict[str, list[Any]] = {
        "proxy": world.proxies,
        "repository": world.repositories,
        "tenant": world.tenants,
    }
    for rec in SHARED:
        if rec.skippable:
            for own in owners[rec.owner]:
                candidates[getattr(own, rec.attr)] = True
    candidates[0] = False
    candidates[world.sharing.watched] = False
    cap = world.capacity
    out: np.ndarray = candidates & np.isfinite(cap) & (cap > 0.0) & (bound < cap * (1.0 - 1e-6))
    return out
