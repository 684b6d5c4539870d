"""A World from a scenario: proxies, pools, tenants and their objects, repositories, the shared
resources of every capacity limit, request budgets, jobs' indices, synthetic mode.

``World.__init__`` calls ``build``; nothing here runs during a simulation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim import defaults as d
from sim.model import limits
from sim.model import rng as streams
from sim.model.demand import WIDTH, Demand, never_binding
from sim.model.job import JobBook
from sim.model.lifecycle import Lifecycle
from sim.model.limits import OwnerKind
from sim.model.maxmin import CLS_PROXY
from sim.model.pool import Pool
from sim.model.proxy import Proxy
from sim.model.repository import Repository
from sim.model.rolework import ConfigDatabase
from sim.model.sharing import FluidSharing
from sim.model.synthetic import SyntheticMode
from sim.model.tasks import TaskState
from sim.model.tenant import Tenant, sharepoint_ru_per_day, sharepoint_ru_per_min
from sim.model.throttle import THROTTLE_STREAM, EwsGate, RequestBudget
from sim.model.trace import TaskTable, Timeseries, float_view
from sim.model.view import PoolView
from sim.policies.registry import make_policy
from sim.scenario.loader import LoadedScenario, ram_threads
from sim.scenario.schema import PolicySpec, Scenario, SlowDownSpec
from sim.workload import Workload, build_workload
from sim.workload.table import WORKLOAD_INDEX

if TYPE_CHECKING:
    from sim.model.world import World


def build(
    world: World,
    loaded: LoadedScenario,
    seed: int | None = None,
    policy: str | PolicySpec | None = None,
    workload: Workload | None = None,
) -> None:
    """Fill ``world`` from ``loaded`` and its ``workload`` (built here if not given); ``seed``
    and ``policy`` override the scenario's."""
    sc = loaded.spec
    world.scenario = sc
    world.seed = sc.seed if seed is None else seed
    world.env = simpy.Environment()
    world.tasks = TaskTable(1024)
    world.state = TaskState(world.tasks, WIDTH)
    cal = sc.calibration

    caps: list[float] = [np.inf]
    classes: list[int] = [CLS_PROXY]

    def resources(kind: OwnerKind, owner: Any, spec: Any) -> None:
        """One shared resource per record of this owner kind (table order), where it applies."""
        for rec in limits.of_owner(kind):
            value = rec.capacity(spec, cal)
            if value is None:
                continue
            if isinstance(value, Mapping):  # one resource per workload
                by_workload = getattr(owner, rec.attr)
                for w, cap in value.items():
                    by_workload[WORKLOAD_INDEX[w]] = len(caps)
                    caps.append(cap / rec.window_s)
                    classes.append(rec.bottleneck)
                continue
            setattr(owner, rec.attr, len(caps))
            caps.append(value / rec.window_s)
            classes.append(rec.bottleneck)

    # proxies
    world.proxies = []
    world.proxy_index = {}
    for i, ps in enumerate(sc.proxies):
        # memory holds a limited number of threads (not in synthetic mode)
        threads = ps.threads if sc.synthetic is not None else ram_threads(ps, cal)
        px = Proxy(i, ps.name, threads, 0.0)
        resources("proxy", px, ps)
        px.capacity_bps = caps[px.res_processing]
        px.core_bps = px.capacity_bps / ps.cores
        px.cores = ps.cores
        px.cores_free = ps.cores
        px.res_row = tuple(getattr(px, rec.attr) for rec in limits.SHARED[: limits.PROXY_COLUMNS])
        px.state = ps.state
        world.proxies.append(px)
        world.proxy_index[ps.name] = i

    # pools
    world.pools = []
    pool_index: dict[str, int] = {}
    for i, pl in enumerate(sc.pools):
        spec = policy if policy is not None else pl.policy
        if isinstance(spec, str):
            spec = PolicySpec(name=spec)
        members = [world.proxy_index[m] for m in pl.members]
        pol = make_policy(spec.name, dict(spec.params))
        pool = Pool(i, pl.name, members, pol)
        pol.bind(PoolView(world, members), streams.stream(world.seed, streams.POLICY, i))
        for m in members:
            world.proxies[m].pool = i
        # interleave free threads across members so a burst spreads evenly
        most = max(world.proxies[m].threads for m in members)
        for k in range(most):
            for m in members:
                if k < world.proxies[m].threads:
                    pool.idle.append(m)
        world.pools.append(pool)
        pool_index[pl.name] = i

    # tenants and their objects (the workload stage, unless the caller ran it)
    if workload is None:
        workload = build_workload(loaded, world.seed)
    world.tenants = []
    tenant_index: dict[str, int] = {}
    first = 0
    for i, ts in enumerate(sc.tenants):
        objs = workload.tenants[i].objects
        tn = Tenant(i, ts.name, objs, first, ts)
        tn.exchange_thread_bps = float(
            cal.thread_rate.get("exchange", d.THREAD_BPS_OF_WORKLOAD["exchange"])
        )
        tn.exchange_items_per_s = float(
            cal.items_per_s.get("exchange", d.ITEMS_PER_S_OF_WORKLOAD["exchange"])
        )
        tn.appear_day = workload.tenants[i].appear_day
        first += len(objs)
        resources("tenant", tn, ts)
        tn.ru_per_min = sharepoint_ru_per_min(ts)
        tn.ru_per_day = sharepoint_ru_per_day(ts)
        world.tenants.append(tn)
        tenant_index[ts.name] = i
    world.n_objects = first
    # room for a night's tasks up front (one per object): no copies while the columns double
    world.tasks.ensure(first)
    world.state.grow(first)

    # repositories: owner is a pool (>= 0) or a standalone proxy (encoded as -1 - proxy)
    world.repositories = []
    world.repo_owner = []
    repo_index: dict[str, int] = {}
    for i, rs in enumerate(sc.repositories):
        repo = Repository(i, rs)
        resources("repository", repo, rs)
        world.repositories.append(repo)
        owner = pool_index.get(rs.owner)
        world.repo_owner.append(owner if owner is not None else -1 - world.proxy_index[rs.owner])
        repo_index[rs.name] = i

    world.capacity = np.asarray(caps, dtype=float)
    world._limited = np.isfinite(world.capacity)
    world.ts = Timeseries(len(world.proxies), sc.simulation.bucket)
    world.sharing = FluidSharing(
        world.env,
        world.capacity,
        np.asarray(classes, dtype=np.int8),
        max_active=sum(p.threads for p in world.proxies),
        timeseries=world.ts,
        on_done=world._on_transfer_done,
    )
    world.sharing.on_finished = world._finish  # _on_transfer_done without its look-up
    _request_budgets(world, sc)
    world.job_tenant = [tenant_index[j.tenant] for j in sc.jobs]
    world.job_repo = [repo_index[j.repository] for j in sc.jobs]
    world.job_owner = [world.repo_owner[r] for r in world.job_repo]
    job_index = {j.name: i for i, j in enumerate(sc.jobs)}
    world.restore_repo = {
        i: repo_index[j.source_repository or j.repository]
        for i, j in enumerate(sc.jobs)
        if j.type == "restore"
    }
    world.copy_source = {
        i: job_index[j.source_job] for i, j in enumerate(sc.jobs) if j.source_job is not None
    }
    world.copy_thread_bps = d.COPY_THREAD_BPS
    world._fail_p = [j.failure_probability for j in sc.jobs] or [0.0]
    world._may_fail = any(p > 0.0 for p in world._fail_p)
    world._fail_rng = {}
    world.sessions = []
    world.book = JobBook(world)
    world.demand = Demand(world)
    world._gated = sc.synthetic is None
    world.ews_gate = EwsGate(
        world,
        [int(ts.ews_max_concurrency * ts.ews_accounts) for ts in sc.tenants],
        [float(ts.ews_backoff) for ts in sc.tenants],
        [float(ts.retry_jitter) for ts in sc.tenants],
    )
    world.overhead_s = [
        float(cal.object_overhead.get(w, d.OBJECT_OVERHEAD_S_OF_WORKLOAD[w])) for w in d.WORKLOADS
    ]
    world.thread_bps = [
        float(cal.thread_rate.get(w, d.THREAD_BPS_OF_WORKLOAD[w])) for w in d.WORKLOADS
    ]
    world.change_probability = [
        float(cal.change_probability.get(t, d.CHANGE_PROBABILITY_OF_TYPE[t]))
        for t in d.OBJECT_TYPES
    ]
    world.items_per_s = [
        float(cal.items_per_s.get(w, d.ITEMS_PER_S_OF_WORKLOAD[w])) for w in d.WORKLOADS
    ]
    world.truncated = False
    world.events = []
    world.config_db = ConfigDatabase(world.env, float(cal.db_iops), cal.db_connections)
    world.synthetic = sc.synthetic
    world.on_idle = None
    world.synthetic_mode = None
    if world.synthetic is not None:
        world.synthetic_mode = SyntheticMode(world, loaded.base_dir, pool_index)
    world._never_binding = np.zeros(len(world.capacity), dtype=bool)
    if world.synthetic is None:
        world._never_binding = never_binding(world)
        world._limited = np.isfinite(world.capacity) & ~world._never_binding
    world._direct_used = np.zeros(len(world.capacity))
    world._direct_marks = {}
    world.ts.sync = world._sync_series
    world._v_direct_used = float_view(world._direct_used)
    world._charges_direct = world.synthetic is None
    world.mark_limited()
    world.lifecycle = Lifecycle(world)


def _request_budgets(world: World, sc: Scenario) -> None:
    """Request-level limits (429 / 503 Slow Down) where the scenario switches a record's
    request semantics on for an owner."""
    t = world.tasks
    cal = sc.calibration

    def count(column: str) -> Callable[[np.ndarray], None]:
        def add(tasks: np.ndarray) -> None:
            np.add.at(t.cols[column], tasks, 1)

        return add

    kinds: tuple[tuple[OwnerKind, Sequence[Any], Sequence[Any]], ...] = (
        ("tenant", world.tenants, sc.tenants),
        ("repository", world.repositories, sc.repositories),
    )
    for kind, owners, specs in kinds:
        for owner, spec in zip(owners, specs, strict=True):
            for rec in limits.of_owner(kind):
                req = rec.request
                if req is None or not req.enabled(spec):
                    continue
                value = rec.capacity(spec, cal)
                assert isinstance(value, float | int)
                partitions = getattr(owner, "partitions", 1)
                burst_s = req.burst_s(spec) if callable(req.burst_s) else req.burst_s
                budget = RequestBudget(
                    world.env,
                    world.sharing,
                    getattr(owner, rec.attr),
                    refill=value / rec.window_s * partitions,
                    burst=value * burst_s / rec.window_s * partitions,
                    reject_cost=req.reject_cost,
                    retry_after=req.retry_after(spec),
                    on_rejected=count(req.counter),
                    jitter=float(getattr(spec, "retry_jitter", 0.0)),
                    rng=streams.stream(world.seed, THROTTLE_STREAM, getattr(owner, rec.attr)),
                )
                setattr(owner, req.budget_attr, budget)
                if req.repartition:
                    budget.on_empty = _repartition_hook(
                        world, owner, value / rec.window_s, spec.slow_down
                    )


def _repartition_hook(
    world: World, repo: Repository, per_partition: float, sd: SlowDownSpec
) -> Callable[[], None]:
    """S3 doubles a prefix's partitions some time after it starts answering 503."""
    pending = [False]

    def done(_e: simpy.Event) -> None:
        pending[0] = False
        repo.partitions = min(repo.partitions * 2, sd.max_partitions)
        rate = per_partition * repo.partitions
        assert repo.put_budget is not None
        repo.put_budget.set_refill(rate, rate)
        world.events.append(
            {
                "t": world.env.now,
                "event": "repartitioned",
                "repository": repo.name,
                "partitions": repo.partitions,
            }
        )

    def on_empty() -> None:
        if pending[0] or repo.partitions >= sd.max_partitions:
            return
        pending[0] = True
        world.env.timeout(float(sd.repartition_after)).callbacks.append(done)

    return on_empty
