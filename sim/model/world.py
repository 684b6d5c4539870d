"""The SimPy world assembled from a scenario: proxies, pools, repositories, tenants and jobs.

Dispatch and the per-task life cycle live here as plain methods driven by SimPy callbacks (no
process per task): ready -> queued -> on a thread (per-object overhead) -> transfer (fluid, see
``sharing``) -> done. Jobs are SimPy processes (``job.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import simpy

from sim import defaults as d
from sim.defaults import DAY_S
from sim.model import rng as streams
from sim.model.clock import call_later
from sim.model.job import JobBook, SessionState
from sim.model.maxmin import CLS_PROXY, CLS_SOURCE, CLS_TARGET, pairs_of
from sim.model.pool import Pool
from sim.model.proxy import ACTIVE, ENABLING, Proxy
from sim.model.repository import Repository, get_rate_per_s, put_rate_per_s
from sim.model.sharing import FluidSharing
from sim.model.synthetic import SyntheticMode
from sim.model.tasks import DIRECT, FINISHED, OVERHEAD, QUEUED, TRANSFER, Bottleneck, TaskState
from sim.model.tenant import Tenant, daily_ru_budget, sharepoint_ru_per_day, sharepoint_ru_per_min
from sim.model.throttle import RequestBudget
from sim.model.trace import (
    CANCELLED,
    DONE,
    FAILED,
    OBJECT_ERROR,
    TaskTable,
    Timeseries,
    bool_view,
    float_view,
)
from sim.model.view import PoolView
from sim.policies.base import PushPolicy
from sim.policies.registry import make_policy
from sim.scenario.loader import LoadedScenario
from sim.scenario.schema import PolicySpec, Scenario, SlowDownSpec
from sim.workload.objects import WORKLOAD_INDEX, tenant_objects, with_growth

#: resource slots per task: proxy processing, proxy throttle, then up to three tenant and four
#: repository resources depending on the job type (see ``new_tasks``)
K_SLOTS = 9
PAIRS_CACHE = 16384
"""Resource maps kept by ``World._pairs_of_task`` (transfers whose request coefficients are
their own, e.g. RU per byte of one object, each add one)."""


class World:
    """A runnable model of one scenario with one seed."""

    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int | None = None,
        policy: str | PolicySpec | None = None,
    ) -> None:
        sc = loaded.spec
        self.scenario = sc
        self.seed = sc.seed if seed is None else seed
        self.env = simpy.Environment()
        self.tasks = TaskTable(1024)
        self.state = TaskState(self.tasks, K_SLOTS)
        cal = sc.calibration

        caps: list[float] = [np.inf]
        classes: list[int] = [CLS_PROXY]

        def resource(capacity: float, cls: int) -> int:
            caps.append(capacity)
            classes.append(cls)
            return len(caps) - 1

        # proxies
        self.proxies: list[Proxy] = []
        self.proxy_index: dict[str, int] = {}
        for i, ps in enumerate(sc.proxies):
            eff = cal.linux_efficiency if ps.os == "linux" else 1.0
            cap = (
                ps.processing_rate
                if ps.processing_rate is not None
                else (ps.cores * cal.bps_per_core * eff)
            )
            px = Proxy(i, ps.name, ps.threads, cap)
            px.res_processing = resource(cap, CLS_PROXY)
            if ps.throttle is not None:
                px.res_throttle = resource(ps.throttle, CLS_PROXY)
            px.state = ps.state
            self.proxies.append(px)
            self.proxy_index[ps.name] = i

        # pools
        self.pools: list[Pool] = []
        pool_index: dict[str, int] = {}
        for i, pl in enumerate(sc.pools):
            spec = policy if policy is not None else pl.policy
            if isinstance(spec, str):
                spec = PolicySpec(name=spec)
            members = [self.proxy_index[m] for m in pl.members]
            pol = make_policy(spec.name, dict(spec.params))
            pool = Pool(i, pl.name, members, pol)
            pol.bind(PoolView(self, members), streams.stream(self.seed, streams.POLICY, i))
            for m in members:
                self.proxies[m].pool = i
            # interleave free threads across members so a burst spreads evenly
            most = max(self.proxies[m].threads for m in members)
            for k in range(most):
                for m in members:
                    if k < self.proxies[m].threads:
                        pool.idle.append(m)
            self.pools.append(pool)
            pool_index[pl.name] = i

        # tenants and their objects
        self.tenants: list[Tenant] = []
        tenant_index: dict[str, int] = {}
        first = 0
        for i, ts in enumerate(sc.tenants):
            wrng = streams.stream(self.seed, streams.WORKLOAD, i)
            objs = tenant_objects(ts, loaded.base_dir, wrng)
            objs, appear = with_growth(objs, ts.growth_per_day, sc.simulation.days, wrng)
            tn = Tenant(i, ts.name, objs, first)
            tn.appear_day = appear
            first += len(objs)
            if ts.egress_cap is not None:
                tn.res_egress = resource(ts.egress_cap, CLS_SOURCE)
            for w, cap in ts.workload_caps.items():
                tn.res_workload[WORKLOAD_INDEX[w]] = resource(cap, CLS_SOURCE)
            tn.res_ru = resource(sharepoint_ru_per_min(ts) / 60.0, CLS_SOURCE)
            tn.ru_per_min = sharepoint_ru_per_min(ts)
            tn.ru_per_day = sharepoint_ru_per_day(ts)
            tn.res_teams = resource(ts.teams_requests_per_s, CLS_SOURCE)
            if ts.ingress_cap is not None:
                tn.res_ingress = resource(ts.ingress_cap, CLS_SOURCE)
            self.tenants.append(tn)
            tenant_index[ts.name] = i
        self.n_objects = first

        # repositories: owner is a pool (>= 0) or a standalone proxy (encoded as -1 - proxy)
        self.repositories: list[Repository] = []
        self.repo_owner: list[int] = []
        repo_index: dict[str, int] = {}
        for i, rs in enumerate(sc.repositories):
            repo = Repository(i, rs)
            repo.res_write = resource(rs.write_bandwidth, CLS_TARGET)
            repo.res_put = resource(put_rate_per_s(rs), CLS_TARGET)
            repo.res_read = resource(rs.read_bandwidth, CLS_TARGET)
            repo.res_get = resource(get_rate_per_s(rs), CLS_TARGET)
            self.repositories.append(repo)
            owner = pool_index.get(rs.owner)
            self.repo_owner.append(owner if owner is not None else -1 - self.proxy_index[rs.owner])
            repo_index[rs.name] = i

        self.capacity = np.asarray(caps, dtype=float)
        self._limited = np.isfinite(self.capacity)
        """Resources with a finite capacity (the dummy resource 0 has none)."""
        self.ts = Timeseries(len(self.proxies), sc.simulation.bucket)
        self.sharing = FluidSharing(
            self.env,
            self.capacity,
            np.asarray(classes, dtype=np.int8),
            max_active=sum(p.threads for p in self.proxies),
            timeseries=self.ts,
            on_done=self._on_transfer_done,
        )
        self._request_budgets(sc)
        self.job_tenant = [tenant_index[j.tenant] for j in sc.jobs]
        self.job_repo = [repo_index[j.repository] for j in sc.jobs]
        self.job_owner = [self.repo_owner[r] for r in self.job_repo]
        job_index = {j.name: i for i, j in enumerate(sc.jobs)}
        self.restore_repo = {
            i: repo_index[j.source_repository or j.repository]
            for i, j in enumerate(sc.jobs)
            if j.type == "restore"
        }
        """Restore job -> the repository it reads from."""
        self.copy_source = {
            i: job_index[j.source_job] for i, j in enumerate(sc.jobs) if j.source_job is not None
        }
        """Backup copy job -> its source backup job."""
        self.copy_thread_bps = d.COPY_THREAD_BPS
        self._fail_p = [j.failure_probability for j in sc.jobs] or [0.0]
        self._may_fail = any(p > 0.0 for p in self._fail_p)
        self._fail_rng: dict[int, np.random.Generator] = {}
        self.sessions: list[SessionState] = []
        self.book = JobBook(self)
        """Jobs' book-keeping: sessions run, last successful backups, stored and copied bytes."""
        self._sid_next = 0
        self._pairs_by: dict[tuple[int, int, int], dict[int, float]] = {}
        """Resource maps by (``_sid``, processing resource, throttle resource)."""
        self.overhead_s = [
            float(cal.object_overhead.get(w, d.OBJECT_OVERHEAD_S_OF_WORKLOAD[w]))
            for w in d.WORKLOADS
        ]
        self.thread_bps = [
            float(cal.thread_rate.get(w, d.THREAD_BPS_OF_WORKLOAD[w])) for w in d.WORKLOADS
        ]
        self.items_per_s = [
            float(cal.items_per_s.get(w, d.ITEMS_PER_S_OF_WORKLOAD[w])) for w in d.WORKLOADS
        ]
        self.truncated = False
        self.events: list[dict[str, Any]] = []
        self.config_db = simpy.Resource(self.env, capacity=cal.db_concurrent_sessions)
        """The PostgreSQL configuration database: metadata phases of sessions share it."""
        self.synthetic = sc.synthetic
        self.on_idle: Callable[[Proxy], None] | None = None
        """Called when a thread of a proxy finds no work (synthetic vacations)."""
        self.synthetic_mode: SyntheticMode | None = None
        if self.synthetic is not None:
            self.synthetic_mode = SyntheticMode(self, loaded.base_dir, pool_index)
        self._never_binding = np.zeros(len(self.capacity), dtype=bool)
        if self.synthetic is None:
            self._never_binding = self._find_never_binding(sc)
            self._limited = np.isfinite(self.capacity) & ~self._never_binding
        self._direct_used = np.zeros(len(self.capacity))
        """Capacity used so far by fixed-rate transfers (outside the fluid), per resource."""
        self._direct_marks: dict[int, float] = {}
        """Running fixed-rate transfers credited up to a time (``_settle_direct``)."""
        self.ts.sync = self._sync_series
        self._v_direct_used = float_view(self._direct_used)
        self._charges_direct = self.synthetic is None
        """Whether fixed-rate transfers use resources whose consumption is reported (not in
        synthetic runs: there they use none)."""
        self._v_limited = bool_view(self._limited)
        from sim.model.lifecycle import Lifecycle

        self.lifecycle = Lifecycle(self)

    def _find_never_binding(self, sc: Scenario) -> np.ndarray:
        """Resources that cannot saturate in this run, so a transfer whose finite resources are
        all of them runs at its ceiling: a fixed-rate server, outside the fluid.

        A proxy's processing or throughput cap, or a repository's bandwidth or request rate,
        qualifies when its capacity never changes (no request budget or throttle watches it)
        and exceeds the most that could ever use it at once: every thread of every proxy that
        may serve a job using it (its owner's members; every proxy if the timeline can move
        proxies) at the highest ceiling of that job's kind, times the highest coefficient.
        Tenant resources (budgets, caps) are never taken: they are what throttling is about.
        """
        n_res = len(self.capacity)
        n_px = len(self.proxies)
        most = np.zeros((n_px, n_res))  # per proxy: the most one of its threads can use
        every = list(range(n_px))
        all_wl = list(range(len(d.WORKLOADS)))
        blob = np.asarray([d.BLOB_BYTES_OF_WORKLOAD[w] for w in d.WORKLOADS])
        meta = 1.0 + d.METADATA_OBJECTS_PER_BLOB
        for j, spec in enumerate(sc.jobs):
            owner = self.job_owner[j]
            if sc.timeline:
                serve = every
            elif owner >= 0:
                serve = list(self.pools[owner].members)
            else:
                serve = [-1 - owner]
            wl = [WORKLOAD_INDEX[w] for w in spec.workloads] or all_wl
            uses: list[tuple[int, float]] = []
            if spec.type == "backup_copy":
                src = self.repositories[self.job_repo[self.copy_source[j]]]
                dst = self.repositories[self.job_repo[j]]
                top = self.copy_thread_bps
                src_comp = np.asarray(src.compression)
                uses += [(src.res_read, 1.0), (dst.res_write, 1.0)]
                uses.append((src.res_get, float(np.max(1.0 / (blob * src_comp)))))
                uses.append((dst.res_put, meta / d.BACKUP_COPY_BLOB_BYTES))
            elif spec.type == "restore":
                repo = self.repositories[self.restore_repo[j]]
                top = max(d.RESTORE_THREAD_BPS_OF_WORKLOAD[d.WORKLOADS[w]] for w in wl)
                uses.append((repo.res_read, max(repo.compression[w] for w in wl)))
                uses.append((repo.res_get, max(1.0 / blob[w] for w in wl)))
            else:
                repo = self.repositories[self.job_repo[j]]
                top = max(self.thread_bps[w] for w in wl)
                uses.append((repo.res_write, max(repo.compression[w] for w in wl)))
                uses.append((repo.res_put, max(meta / blob[w] for w in wl)))
            for p in serve:
                px = self.proxies[p]
                for r, a in [(px.res_processing, 1.0), (px.res_throttle, 1.0), *uses]:
                    most[p, r] = max(most[p, r], top * a)
        threads = np.asarray([px.threads for px in self.proxies], dtype=float)
        bound = threads @ most
        candidates = np.zeros(n_res, dtype=bool)
        for px in self.proxies:
            candidates[[px.res_processing, px.res_throttle]] = True
        for repo in self.repositories:
            candidates[[repo.res_write, repo.res_put, repo.res_read, repo.res_get]] = True
        candidates[0] = False
        candidates[self.sharing.watched] = False
        cap = self.capacity
        out: np.ndarray = candidates & np.isfinite(cap) & (cap > 0.0) & (bound < cap * (1.0 - 1e-6))
        return out

    def _request_budgets(self, sc: Scenario) -> None:
        """Request-level limits (429 / 503 Slow Down) where the scenario asks for them."""
        t = self.tasks

        def count(column: str) -> Callable[[np.ndarray], None]:
            def add(tasks: np.ndarray) -> None:
                np.add.at(t.cols[column], tasks, 1)

            return add

        for tn, ts in zip(self.tenants, sc.tenants, strict=True):
            if ts.throttling != "request":
                continue
            tn.ru_budget = RequestBudget(
                self.env,
                self.sharing,
                tn.res_ru,
                refill=tn.ru_per_min / 60.0,
                burst=tn.ru_per_min * d.REQUEST_BUDGET_BURST_S / 60.0,
                reject_cost=d.RU_PER_REJECTED_REQUEST,
                retry_after=float(ts.retry_after),
                on_rejected=count("throttled_requests"),
            )
            tn.teams_budget = RequestBudget(
                self.env,
                self.sharing,
                tn.res_teams,
                refill=float(ts.teams_requests_per_s),
                burst=float(ts.teams_requests_per_s),  # a per-second limit
                reject_cost=1.0,
                retry_after=float(ts.retry_after),
                on_rejected=count("throttled_requests"),
            )
        for repo, rs in zip(self.repositories, sc.repositories, strict=True):
            sd = rs.slow_down
            if sd is None:
                continue
            per_partition = put_rate_per_s(rs)
            budget = RequestBudget(
                self.env,
                self.sharing,
                repo.res_put,
                refill=per_partition * repo.partitions,
                burst=per_partition * repo.partitions,  # a per-second limit
                reject_cost=d.S3_REJECTED_REQUEST_COST,
                retry_after=float(sd.backoff),
                on_rejected=count("slowdown_requests"),
            )
            repo.put_budget = budget
            budget.on_empty = self._repartition_hook(repo, per_partition, sd)

    def _repartition_hook(
        self, repo: Repository, per_partition: float, sd: SlowDownSpec
    ) -> Callable[[], None]:
        """S3 doubles a prefix's partitions some time after it starts answering 503."""
        pending = [False]

        def done(_e: simpy.Event) -> None:
            pending[0] = False
            repo.partitions = min(repo.partitions * 2, sd.max_partitions)
            rate = per_partition * repo.partitions
            assert repo.put_budget is not None
            repo.put_budget.set_refill(rate, rate)
            self.events.append(
                {
                    "t": self.env.now,
                    "event": "repartitioned",
                    "repository": repo.name,
                    "partitions": repo.partitions,
                }
            )

        def on_empty() -> None:
            if pending[0] or repo.partitions >= sd.max_partitions:
                return
            pending[0] = True
            self.env.timeout(float(sd.repartition_after)).callbacks.append(done)

        return on_empty

    # -- task creation -------------------------------------------------------------------------
    def new_tasks(
        self,
        session: SessionState,
        objects: np.ndarray,
        work: np.ndarray,
        items: np.ndarray,
        full: np.ndarray,
    ) -> range:
        """Create the tasks of a session (vectorised): one per object given.

        ``work`` is source bytes for backups and restores and stored bytes for backup copies.
        """
        job = session.job
        s = self.state
        spec = self.scenario.jobs[job]
        tn = self.tenants[self.job_tenant[job]]
        n = int(objects.shape[0])
        ids = self.tasks.reserve(n)
        sl = slice(ids.start, ids.stop)
        local = objects - tn.first_object
        wl = tn.objects.workload[local]
        t = self.tasks
        t.job[sl] = job
        t.session[sl] = session.id
        t.object[sl] = objects
        t.tenant[sl] = tn.idx
        t.workload[sl] = wl
        t.otype[sl] = tn.objects.otype[local]
        t.work_bytes[sl] = work
        t.items[sl] = items
        t.full[sl] = full
        t.ready[sl] = self.env.now
        s.grow(ids.stop)
        s.phase[sl] = QUEUED
        s.resume[sl] = 0.0
        s.overhead[sl] = np.asarray(self.overhead_s)[wl]
        res = s.res[sl]
        coef = s.coef[sl]
        res[:] = 0
        coef[:] = 0.0
        coef[:, 0] = 1.0  # proxy processing and throttle: filled per proxy at start
        coef[:, 1] = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            per_byte_items = np.where(work > 0, items / work, 0.0)
        is_sp = (wl == WORKLOAD_INDEX["onedrive"]) | (wl == WORKLOAD_INDEX["sharepoint"])
        is_teams = wl == WORKLOAD_INDEX["teams"]
        is_exch = wl == WORKLOAD_INDEX["exchange"]
        blob = np.asarray([d.BLOB_BYTES_OF_WORKLOAD[w] for w in d.WORKLOADS])[wl]
        item_rate = np.asarray(self.items_per_s)[wl]
        # per-mailbox and per-team request limits (vb365 fact 25): one item per request
        item_rate = np.where(is_exch, np.minimum(item_rate, d.MAILBOX_REQUESTS_PER_S), item_rate)
        item_rate = np.where(
            is_teams, np.minimum(item_rate, d.TEAMS_PER_TEAM_REQUESTS_PER_S), item_rate
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            item_bps = item_rate * np.where(items > 0, work / items, np.inf)
        if spec.type == "backup_copy":
            src = self.repositories[self.job_repo[self.copy_source[job]]]
            dst = self.repositories[self.job_repo[job]]
            src_comp = np.asarray(src.compression)[wl]
            s.cap[sl] = self.copy_thread_bps
            s.comp[sl] = 1.0
            res[:, 5] = src.res_read
            coef[:, 5] = 1.0
            res[:, 6] = src.res_get
            coef[:, 6] = 1.0 / (blob * src_comp)
            res[:, 7] = dst.res_write
            coef[:, 7] = 1.0
            res[:, 8] = dst.res_put
            coef[:, 8] = (1.0 + d.METADATA_OBJECTS_PER_BLOB) / d.BACKUP_COPY_BLOB_BYTES
        elif spec.type == "restore":
            repo = self.repositories[self.restore_repo[job]]
            comp = np.asarray(repo.compression)[wl]
            thread = np.asarray(
                [d.RESTORE_THREAD_BPS_OF_WORKLOAD[w] for w in d.WORKLOADS], dtype=float
            )[wl]
            s.cap[sl] = np.minimum(thread, item_bps)
            s.comp[sl] = 1.0
            res[:, 2] = tn.res_ingress
            coef[:, 2] = 1.0
            res[:, 4] = np.where(is_sp, tn.res_ru, np.where(is_teams, tn.res_teams, 0))
            coef[:, 4] = np.where(is_sp, d.RU_PER_WRITE * per_byte_items, 0.0) + np.where(
                is_teams, per_byte_items, 0.0
            )
            res[:, 5] = repo.res_read
            coef[:, 5] = comp
            res[:, 6] = repo.res_get
            coef[:, 6] = 1.0 / blob
        else:
            repo = self.repositories[self.job_repo[job]]
            comp = np.asarray(repo.compression)[wl]
            s.cap[sl] = np.minimum(np.asarray(self.thread_bps)[wl], item_bps)
            s.comp[sl] = comp
            res[:, 2] = tn.res_egress
            coef[:, 2] = 1.0
            res[:, 3] = np.asarray(tn.res_workload)[wl]
            coef[:, 3] = 1.0
            res[:, 4] = np.where(is_sp, tn.res_ru, np.where(is_teams, tn.res_teams, 0))
            coef[:, 4] = np.where(is_sp, d.RU_PER_FILE_DOWNLOAD * per_byte_items, 0.0) + np.where(
                is_teams, per_byte_items, 0.0
            )
            res[:, 5] = repo.res_write
            coef[:, 5] = comp
            res[:, 6] = repo.res_put
            # blobs are cut at 5/8 MB of source data, before compression (vb365 fact 30)
            coef[:, 6] = (1.0 + d.METADATA_OBJECTS_PER_BLOB) / blob
        s.fixed_rate[sl] = self._fixed_rate_of(sl)
        self._set_sids(sl)
        return ids

    def _fixed_rate_of(self, sl: slice) -> np.ndarray:
        """``_fixed_rate`` of the tasks in ``sl`` (slots 0 and 1 are the proxy's, checked at
        start)."""
        s = self.state
        res = s.res[sl, 2:]
        uses_limited = (self._limited[res] & (s.coef[sl, 2:] > 0)).any(axis=1)
        cap = s.cap[sl]
        fixed: np.ndarray = ~uses_limited & np.isfinite(cap) & (cap > 0.0)
        return fixed

    def _set_sids(self, sl: slice) -> None:
        """Number the distinct (resource slots 2+, coefficients) rows of new tasks."""
        s = self.state
        rows = np.concatenate([s.res[sl, 2:], s.coef[sl, 2:].view(np.int64)], axis=1)
        keys = rows.view(np.dtype((np.void, rows.shape[1] * 8))).ravel().tolist()
        seen: dict[object, int] = {}  # the rows as bytes
        base = self._sid_next
        s.sid[sl] = [seen.setdefault(k, base + len(seen)) for k in keys]
        self._sid_next += len(seen)

    def _pairs_of_task(self, task: int, px: Proxy) -> dict[int, float]:
        """The resource map of ``task`` on ``px`` (cached: one per distinct row and proxy)."""
        s = self.state
        key = (s.v_sid[task], px.res_processing, px.res_throttle)
        pairs = self._pairs_by.get(key)
        if pairs is None:
            res = s.res[task].copy()
            res[0] = px.res_processing
            res[1] = px.res_throttle
            pairs = pairs_of(res, s.coef[task])
            if len(self._pairs_by) >= PAIRS_CACHE:
                self._pairs_by.clear()
            self._pairs_by[key] = pairs
        return pairs

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
        now = self.env._now
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
        if overhead > 0.0:
            s.v_phase[task] = OVERHEAD
            px.overhead_bytes += t.work_bytes[task] - s.v_resume[task]
            call_later(self.env, overhead, (task, attempt), self._after_overhead)
            return
        limited = self._v_limited
        if (
            frac < 0.0
            and s.v_fixed_rate[task]
            and not limited[px.res_processing]
            and not limited[px.res_throttle]
        ):
            work = t.work_bytes[task] - s.v_resume[task]
            if work > 0.0:
                # no overhead, a fixed-rate server: _begin_transfer's DIRECT case, fused
                s.v_phase[task] = DIRECT
                s.v_xfer_start[task] = now
                px.direct.add(task)
                call_later(self.env, work / s.v_cap[task], (task, attempt), self._after_direct)
                return
        s.v_phase[task] = OVERHEAD
        px.overhead_bytes += t.work_bytes[task] - s.v_resume[task]
        self._begin_transfer(task)

    def _after_overhead(self, event: simpy.Event) -> None:
        task, attempt = event._value
        if self.state.v_phase[task] != OVERHEAD or self.tasks.v.attempts[task] != attempt:
            return  # the task was stopped or moved meanwhile
        self._begin_transfer(task)

    def _begin_transfer(self, task: int) -> None:
        t = self.tasks.v
        s = self.state
        px = self.proxies[t.proxy[task]]
        work = t.work_bytes[task] - s.v_resume[task]
        px.overhead_bytes -= work
        frac = s.v_fail_frac[task]
        if frac >= 0.0:
            work *= frac  # this attempt fails after that share of its bytes
        if work <= 0.0:
            self._finish(task, 0.0, None)
            return
        phase = s.v_phase
        phase[task] = TRANSFER
        cap = s.v_cap[task]
        limited = self._v_limited
        if s.v_fixed_rate[task] and not limited[px.res_processing] and not limited[px.res_throttle]:
            # nothing it uses is shared with a finite capacity: a fixed-rate server, whose
            # completion time is known now and never changes
            phase[task] = DIRECT
            s.v_xfer_start[task] = self.env._now
            px.direct.add(task)
            call_later(self.env, work / cap, (task, t.attempts[task]), self._after_direct)
            return
        self.sharing.add(task, px.idx, work, cap, self._pairs_of_task(task, px))

    def _after_direct(self, event: simpy.Event) -> None:
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
        ts = self.ts
        first = int(start // ts.bucket_s)
        if first < ts.rows and math.ceil(now / ts.bucket_s) - 1 <= first:
            ts.cells[first, p] += cap * elapsed  # add_bytes_one's one-bucket case
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
        for r, a in self._pairs_of_task(task, px).items():
            used[r] += moved * a

    def members_grew(self) -> None:
        """A proxy joined a pool: resources its threads can now reach may saturate. They go
        back to the fluid, with the fixed-rate transfers running on them."""
        if not self._never_binding.any():
            return
        nb = self._never_binding & self._find_never_binding(self.scenario)
        lost = self._never_binding & ~nb
        if not lost.any():
            return
        self._never_binding = nb
        self._limited = np.isfinite(self.capacity) & ~nb
        n = self.tasks.n
        self.state.fixed_rate[:n] = self._fixed_rate_of(slice(0, n))
        self._v_limited = bool_view(self._limited)
        for px in self.proxies:
            for task in sorted(px.direct):
                if any(lost[r] for r in self._pairs_of_task(task, px)):
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
        self.sharing.add(task, px.idx, attempt - moved, cap, self._pairs_of_task(task, px))

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
        if s.v_fail_frac[task] >= 0.0:
            t.status[task] = FAILED
            t.fail_reason[task] = OBJECT_ERROR
            t.redone_bytes[task] += moved + s.v_resume[task]
            s.v_resume[task] = 0.0  # a failed object is processed again from the start
        else:
            t.status[task] = DONE
        s.record_bytes(task, moved, bott)
        px.busy -= 1
        px.busy_thread_s += now - t.start[task]
        px.tasks_done += 1
        px.bytes_read += moved
        sess = self.sessions[t.session[task]]  # task_left_session, inlined (hot path)
        sess.remaining -= 1
        if sess.remaining == 0 and sess.done is not None and not sess.done.triggered:
            sess.done.succeed()
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
            parked = list(pool.parked)
            pool.parked.clear()
            for task in parked:
                self.submit(task)
        while px.queue and px.busy < px.threads and px.state == ACTIVE:
            self.start_from_local(px)

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
        t = self.tasks
        freed: list[Proxy] = []
        for task in ids:
            phase = s.phase[task]
            if phase == FINISHED:
                continue
            moved = 0.0
            if phase == TRANSFER:
                moved, _rem, bott = self.sharing.remove(task)
                s.record_bytes(task, moved, bott)
            elif phase == DIRECT:
                moved, bott_direct = self._direct_progress(task)
                s.record_bytes(task, moved, bott_direct)
            if phase in (OVERHEAD, TRANSFER, DIRECT):
                px = self.proxies[int(t.proxy[task])]
                px.bytes_read += moved
                if phase == OVERHEAD:
                    px.overhead_bytes -= s.left_bytes(task)
                px.busy -= 1
                px.busy_thread_s += self.env.now - float(t.start[task])
                freed.append(px)
                t.end[task] = self.env.now
            s.phase[task] = FINISHED
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
        self.env.run(until=self.env.any_of([self.env.all_of(procs), limit]))
        self.truncated = not all(p.triggered for p in procs)
