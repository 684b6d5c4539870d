"""The table of capacity limits: one declarative record per limit.

A record (``Limit``) says who owns the limit (a proxy, a tenant, a repository, one object), its
unit, where its capacity comes from (a scenario field or a default, with the public source of the
fact), how it binds (its semantics) and which tasks use it with what coefficient (units of the
limit per byte moved, computed vectorised from the tasks' job type, workload, object type, bytes,
items and whether the object changed). Everything else reads this table:

- ``build.py`` creates one shared resource per record and owner (``Limit.attr`` on the owner),
  and a request budget where the scenario switches a record's request semantics on;
- ``demand.py`` fills each task's resource row: one column per record that tasks share;
- ``never_binding`` takes out of the fluid the resources that can never saturate;
- ``metrics.tables.limits_frame`` lists the records that can reject requests.

**Semantics.** ``FluidRate`` (max-min shared rate) and ``RequestLimit`` (a token bucket that
answers 429 or 503 with Retry-After, ``throttle.RequestBudget``) run; ``PerObjectRate``
runs as the task's ceiling (one object is on one thread at a time, so a per-object rate is that
object's own bound). ``CpuCost`` (proxy CPU per byte and per object) runs as the
processing resource: per byte in the transfers, per object in each object's scan.
``BurstBudget`` (EWS burst/recharge) runs as a fluid cap at its recharge rate, or, under
request-level throttling, as a ``RequestBudget`` whose bucket holds the burst and answers
ErrorServerBusy with its back-off hint. ``ConcurrencyCap`` (EWS 27 connections per account) runs
as a gate in front of the transfer (``throttle.EwsGate``): a task holds one connection while it
transfers, and a thread that finds none free is refused and asks again after the back-off; its
record has no use in the task rows. Every semantics runs now; ``Semantics.executed`` stays so
that a new kind of limit cannot be added to the table before the engine runs it (``validate``
refuses it). Threads limited by RAM are not a record: a proxy's thread slots are fewer when its
memory cannot hold them (``scenario.loader.ram_threads``).

Adding a limit: docs/architecture.md, "How to add a limit".

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 10: https://bp.veeam.com/vb365/guide/buildconfig/proxy
vb365 fact 13: https://bp.veeam.com/vb365/guide/design/sizing/proxy.html
vb365 fact 22: https://community.veeam.com/blogs-and-podcasts-57
vb365 fact 24: https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
vb365 fact 25: https://learn.microsoft.com/graph/throttling-limits
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 27: https://bp.veeam.com/vb365/guide/operate/orgconfig
vb365 fact 30: https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html
vb365 fact 31: https://repost.aws/knowledge-center/http-5xx-errors-s3
vb365 fact 32: https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account
vb365 fact 33: https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_copy_works.html
vb365 fact 37: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_threads_and_limit.html
vb365 fact 42: https://learn.microsoft.com/graph/api/mailbox-exportitems
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from sim import defaults as d
from sim.model.maxmin import CLS_PROXY, CLS_SOURCE, CLS_TARGET, CLS_THREAD
from sim.model.repository import get_rate_per_s, put_rate_per_s
from sim.model.tenant import sharepoint_ru_per_min
from sim.model.throttle import exchange_requests
from sim.workload.table import WORKLOAD_INDEX

OwnerKind = Literal["proxy", "tenant", "repository", "object"]
OWNER_KINDS: tuple[OwnerKind, ...] = ("proxy", "tenant", "repository", "object")
JobType = Literal["backup", "backup_copy", "restore"]
JOB_TYPES: tuple[JobType, ...] = ("backup", "backup_copy", "restore")
Role = Literal["proxy", "tenant", "target", "source", "object"]
"""Which owner a task uses: the proxy it runs on, its job's tenant, its job's repository
(``target``), the repository it reads (``source``: a restore's, or a copy's source job's), or the
object itself."""
ROLES_OF: dict[str, tuple[str, ...]] = {
    "proxy": ("proxy",),
    "tenant": ("tenant",),
    "repository": ("target", "source"),
    "object": ("object",),
}

_BLOB = np.asarray([d.BLOB_BYTES_OF_WORKLOAD[w] for w in d.WORKLOADS])
_EXCHANGE = WORKLOAD_INDEX["exchange"]
_TEAMS = WORKLOAD_INDEX["teams"]
_ONEDRIVE = WORKLOAD_INDEX["onedrive"]
_SHAREPOINT = WORKLOAD_INDEX["sharepoint"]


# -- task attributes a coefficient reads ---------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    """The tasks of one session, column by column (what a coefficient may depend on)."""

    job_type: JobType
    workload: np.ndarray
    """Workload index per task (``defaults.WORKLOADS``)."""
    otype: np.ndarray
    """Object type index per task (``defaults.OBJECT_TYPES``)."""
    work: np.ndarray
    """Bytes to move: source bytes (backup, restore) or stored bytes (backup copy)."""
    items: np.ndarray
    full: np.ndarray
    """1 where the object is read in full (first backup, new object), 0 for changed data only."""

    @property
    def items_per_byte(self) -> np.ndarray:
        """Items per byte moved (0 for an empty task)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = np.where(self.work > 0, self.items / self.work, 0.0)
        return out

    @staticmethod
    def per_workload(job_type: JobType, workloads: Sequence[int]) -> Rows:
        """One row per workload (unit bytes and items): for bounds that only vary by workload."""
        wl = np.asarray(workloads, dtype=np.int64)
        one = np.ones(wl.shape[0])
        return Rows(job_type, wl, np.zeros_like(wl), one, one, one.astype(np.int64))


Coefficient = Callable[[Rows, Any], np.ndarray]
"""(tasks, owner object) -> units of the limit per byte moved, one per task (0: not used)."""


# -- semantics -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Semantics:
    """How a limit binds. ``executed``: whether the engine runs it today."""

    executed: ClassVar[bool] = False


@dataclass(frozen=True)
class FluidRate(Semantics):
    """A rate shared max-min fair by the transfers using it (``sharing.FluidSharing``)."""

    executed: ClassVar[bool] = True


@dataclass(frozen=True)
class PerObjectRate(Semantics):
    """A request rate on one object, one request per item: it caps the task's item rate, so
    its ceiling (one object is processed by one thread at a time, so nothing else shares it)."""

    executed: ClassVar[bool] = True


@dataclass(frozen=True)
class RequestLimit(Semantics):
    """Request-level limit: a token bucket refilled at the capacity; a request finding it empty
    is rejected (``status``: 429 Too Many Requests or 503 Slow Down) and retried after
    Retry-After; rejected requests cost ``reject_cost`` units. Switched on per owner by the
    scenario (``enabled``); otherwise the limit is a ``FluidRate``. Runs as
    ``throttle.RequestBudget``."""

    executed: ClassVar[bool] = True
    status: int
    burst_s: float | Callable[[Any], float]
    """The bucket holds this many seconds of capacity (or owner spec -> seconds)."""
    reject_cost: float
    enabled: Callable[[Any], bool]
    """Owner spec -> whether this owner's limit is request-level."""
    retry_after: Callable[[Any], float]
    """Owner spec -> Retry-After, seconds."""
    counter: str
    """Task column counting a task's rejected requests."""
    budget_attr: str
    """Owner attribute that holds the built ``RequestBudget`` (None when fluid)."""
    repartition: bool = False
    """S3: the prefix's partitions double some time after it starts answering 503."""

    def __post_init__(self) -> None:
        if self.status not in (429, 503):
            raise ValueError(f"RequestLimit.status must be 429 or 503, got {self.status}")
        if not callable(self.burst_s) and not self.burst_s > 0:
            raise ValueError(f"RequestLimit.burst_s must be > 0, got {self.burst_s}")
        if not self.reject_cost >= 0:
            raise ValueError(f"RequestLimit.reject_cost must be >= 0, got {self.reject_cost}")


@dataclass(frozen=True)
class BurstBudget(Semantics):
    """A burst/recharge budget (EWS): a balance of at most ``max_burst`` units spent by
    requests and recharged at ``recharge_per_s``; below ``cutoff`` (negative) requests are
    refused until it recharges. Runs as a fluid cap at the recharge rate, or as the record's
    ``RequestLimit`` (bucket = the burst) under request-level throttling."""

    executed: ClassVar[bool] = True
    max_burst: float
    recharge_per_s: float
    cutoff: float = 0.0

    def __post_init__(self) -> None:
        if not (self.max_burst > 0 and self.recharge_per_s > 0):
            raise ValueError("BurstBudget needs max_burst > 0 and recharge_per_s > 0")
        if self.cutoff > 0:
            raise ValueError(f"BurstBudget.cutoff must be <= 0, got {self.cutoff}")


@dataclass(frozen=True)
class ConcurrencyCap(Semantics):
    """At most ``limit`` tasks at once per ``per`` (an account, a mailbox, a proxy's RAM):
    the next one waits. Runs as a gate in front of the transfer (``throttle.EwsGate``)."""

    executed: ClassVar[bool] = True
    per: Literal["account", "mailbox", "proxy", "tenant"]
    limit: int

    def __post_init__(self) -> None:
        if self.per not in ("account", "mailbox", "proxy", "tenant"):
            raise ValueError(f"ConcurrencyCap.per: unknown owner {self.per!r}")
        if not (isinstance(self.limit, int) and self.limit >= 1):
            raise ValueError(f"ConcurrencyCap.limit must be an integer >= 1, got {self.limit!r}")


@dataclass(frozen=True)
class CpuCost(Semantics):
    """CPU a task costs on its proxy's cores: ``per_byte_s`` CPU seconds per byte moved, and
    ``per_object_s`` (by workload, in ``defaults.WORKLOADS`` order) per object in scope,
    changed or not. The capacity is bytes of processing per second (cores x bytes per
    core-second x OS efficiency), so a byte moved costs 1 and an object ``per_object_s /
    per_byte_s`` bytes of processing, spent in the object's scan: the scan holds one of the
    proxy's cores, first come first served (``demand.Demand.start_scan``), and runs on it at
    the speed the transfers leave (``demand.Demand.scan_speed``: processor sharing seen at the
    scan's start); the transfers share the processing capacity max-min (an INFERRED
    simplification, docs/model.md "Proxies"). These are the defaults; a scenario's
    ``calibration.bps_per_core`` and ``calibration.cpu_per_object`` override them
    (``cpu_costs``)."""

    executed: ClassVar[bool] = True
    per_byte_s: float
    per_object_s: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (self.per_byte_s >= 0 and all(c >= 0 for c in self.per_object_s)):
            raise ValueError("CpuCost needs per_byte_s >= 0 and per_object_s >= 0")
        if len(self.per_object_s) != len(d.WORKLOADS):
            raise ValueError(f"CpuCost.per_object_s needs one value per {d.WORKLOADS}")
        if self.per_byte_s == 0 and not any(self.per_object_s):
            raise ValueError("CpuCost with no cost per byte nor per object limits nothing")


# -- the record ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where a capacity comes from: a scenario field, else a default of ``sim.defaults``, and
    the public source of the fact (``None`` only for an INFERRED assumption, a parameter)."""

    field: str | None
    """Scenario field, e.g. ``repositories[].write_bandwidth`` (None: not settable)."""
    default: str | None
    """Name in ``sim.defaults`` (None: unlimited unless the scenario sets it)."""
    url: str | None
    inferred: bool = False


@dataclass(frozen=True)
class Use:
    """Tasks of these job types use the limit of their ``role`` owner with this coefficient."""

    jobs: tuple[JobType, ...]
    role: Role
    coefficient: Coefficient


@dataclass(frozen=True)
class Limit:
    """One capacity limit."""

    name: str
    owner: OwnerKind
    unit: str
    """Unit of the capacity, per ``window_s`` (e.g. 'RU/min', 'B/s', 'requests/s')."""
    source: Source
    capacity: Callable[[Any, Any], float | Mapping[str, float] | None]
    """(owner spec, calibration) -> capacity per ``window_s``; None: no limit for this owner;
    a mapping: one resource per workload key (``per_workload``)."""
    semantics: Semantics
    bottleneck: int
    """Bottleneck class reported when it binds (``maxmin.CLS_*``)."""
    uses: tuple[Use, ...]
    attr: str
    """Owner attribute holding the resource index (a list by workload if ``per_workload``)."""
    window_s: float = 1.0
    """The capacity is per this many seconds (the shared resource runs at capacity / window)."""
    per_workload: bool = False
    request: RequestLimit | None = None
    """Request semantics the scenario may switch on instead of ``semantics``."""
    skippable: bool = False
    """The never-binding analysis may take it out of the fluid (not tenant limits: they are
    what throttling is about)."""
    doc: str = field(default="", compare=False)

    def use_for(self, job_type: str) -> Use | None:
        """The use of this limit by tasks of ``job_type``, if any."""
        for use in self.uses:
            if job_type in use.jobs:
                return use
        return None


# -- coefficients --------------------------------------------------------------------------------
def _one(rows: Rows, _owner: Any) -> np.ndarray:
    return np.ones(rows.workload.shape[0])


def _compression(rows: Rows, repo: Any) -> np.ndarray:
    """Bytes written (or read back) per source byte: the repository's compression."""
    out: np.ndarray = np.asarray(repo.compression)[rows.workload]
    return out


def _put_per_byte(rows: Rows, _repo: Any) -> np.ndarray:
    """PUTs per source byte: a data blob of 5 / 8 MB of source data (before compression) and
    its metadata objects (vb365 fact 30)."""
    out: np.ndarray = (1.0 + d.METADATA_OBJECTS_PER_BLOB) / _BLOB[rows.workload]
    return out


def _copy_put_per_byte(rows: Rows, _repo: Any) -> np.ndarray:
    """Backup copies are repacked into 256 MB blobs (vb365 facts 30, 33)."""
    return np.full(
        rows.workload.shape[0], (1.0 + d.METADATA_OBJECTS_PER_BLOB) / d.BACKUP_COPY_BLOB_BYTES
    )


def _get_per_byte(rows: Rows, _repo: Any) -> np.ndarray:
    """Restore: one GET per blob of source data."""
    out: np.ndarray = 1.0 / _BLOB[rows.workload]
    return out


def _copy_get_per_byte(rows: Rows, repo: Any) -> np.ndarray:
    """Backup copy: one GET per stored (compressed) blob of the source repository."""
    comp = np.asarray(repo.compression)[rows.workload]
    out: np.ndarray = 1.0 / (_BLOB[rows.workload] * comp)
    return out


def _ru_per_byte(ru_per_call: float) -> Coefficient:
    """SharePoint/OneDrive: RU per byte, one call per item (vb365 fact 26)."""

    def coef(rows: Rows, _tenant: Any) -> np.ndarray:
        wl = rows.workload
        is_sp = (wl == _ONEDRIVE) | (wl == _SHAREPOINT)
        out: np.ndarray = np.where(is_sp, ru_per_call * rows.items_per_byte, 0.0)
        return out

    return coef


def _requests_per_byte_of(workload: int) -> Coefficient:
    """One request per item, for tasks of one workload."""

    def coef(rows: Rows, _owner: Any) -> np.ndarray:
        out: np.ndarray = np.where(rows.workload == workload, rows.items_per_byte, 0.0)
        return out

    return coef


def _ru_backup(rows: Rows, _tenant: Any) -> np.ndarray:
    """SharePoint/OneDrive backup RU per byte by request kind (vb365 fact 26): 1 RU per file
    download, 1 RU per delta page (one per object and per 1,000 items), 5 RU per permission read
    on a full (``PERMISSION_REQUESTS_PER_OBJECT``, INFERRED). The object's RU are spread over its
    bytes, so they are charged at the pace it moves them; an object that moves nothing (unchanged)
    pays its one delta request when its scan ends instead (``World.charge_delta``)."""
    wl = rows.workload
    is_sp = (wl == _ONEDRIVE) | (wl == _SHAREPOINT)
    ru = (
        d.RU_PER_FILE_DOWNLOAD * rows.items
        + d.RU_PER_DELTA * (1.0 + rows.items / d.DISCOVERY_ITEMS_PER_REQUEST)
        + d.RU_PER_PERMISSION * d.PERMISSION_REQUESTS_PER_OBJECT * rows.full
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(is_sp & (rows.work > 0), ru / rows.work, 0.0)
    return out


def _on_path(rows: Rows, tenant: Any, api: str) -> np.ndarray:
    """Exchange tasks that go through ``api`` (the tenant's path when the tasks were made)."""
    if tenant is None or tenant.exchange_api != api:
        return np.zeros(rows.workload.shape[0], dtype=bool)
    out: np.ndarray = rows.workload == _EXCHANGE
    return out


# The tenant-wide Exchange coefficients are one number per tenant (its mean Exchange item size,
# ``Tenant.exchange_item_bytes``), not per task: requests are accounted in aggregate, every
# Exchange task of a tenant shares one resource row (fast), and a thread's most use is bounded
# (the never-binding analysis can take the resource out when it cannot saturate). Per-object
# discovery requests are counted by ``throttle.requests_of_tasks``, not charged here.
def ews_requests_per_byte(tn: Any) -> float:
    """Batched GetItem requests and FindItem pages per byte read through EWS."""
    per_item = 1.0 / tn.spec.ews_items_per_request + 1.0 / d.DISCOVERY_ITEMS_PER_REQUEST
    return float(per_item / tn.exchange_item_bytes)


def graph_requests_per_byte(tn: Any, job_type: str) -> float:
    """exportItems requests (at most 20 items, backups) or one item per request (restores), and
    delta pages, per byte read through Graph."""
    batch = tn.spec.graph_items_per_request if job_type == "backup" else 1
    per_item = 1.0 / batch + 1.0 / d.DISCOVERY_ITEMS_PER_REQUEST
    return float(per_item / tn.exchange_item_bytes)


def _ews_server_ms(rows: Rows, tn: Any) -> np.ndarray:
    """EWS server time charged per byte: requests per byte x ms per request."""
    per_byte = ews_requests_per_byte(tn) * tn.spec.ews_server_ms_per_request
    out: np.ndarray = np.where(_on_path(rows, tn, "ews"), per_byte, 0.0)
    return out


def _graph_requests(rows: Rows, tn: Any) -> np.ndarray:
    """Graph requests per byte (tenant-wide app limit)."""
    per_byte = graph_requests_per_byte(tn, rows.job_type)
    out: np.ndarray = np.where(_on_path(rows, tn, "graph"), per_byte, 0.0)
    return out


def _graph_mailbox_requests(rows: Rows, tn: Any) -> np.ndarray:
    """Graph requests per byte of each mailbox (its own item count: the per-mailbox cap is the
    task's ceiling, not a shared resource)."""
    on = _on_path(rows, tn, "graph") & (rows.work > 0)
    if not on.any():
        return np.zeros(rows.workload.shape[0])
    per = tn.spec.graph_items_per_request if rows.job_type == "backup" else 1
    req = exchange_requests(rows.items, per)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(on, req / rows.work, 0.0)
    return out


def _ews_burst_s(ts: Any) -> float:
    """Seconds of recharge the EWS bucket holds: EwsMaxBurst / EwsRechargeRate."""
    return float(ts.ews_max_burst_ms / (ts.ews_recharge_ms_per_h / 3600.0))


def _proxy_processing(ps: Any, cal: Any) -> float:
    """Cores x per-core rate x OS efficiency, or the scenario's processing rate."""
    if ps.processing_rate is not None:
        return float(ps.processing_rate)
    eff = cal.linux_efficiency if ps.os == "linux" else 1.0
    return float(ps.cores * cal.bps_per_core * eff)


_HC = "https://helpcenter.veeam.com/docs/vbo365/guide/"
_GRAPH = "https://learn.microsoft.com/graph/throttling-limits"
_SPO = (
    "https://learn.microsoft.com/sharepoint/dev/general-development/"
    "how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online"
)
_S3 = "https://repost.aws/knowledge-center/http-5xx-errors-s3"
_EWS = (
    "https://learn.microsoft.com/exchange/client-developer/exchange-web-services/"
    "ews-throttling-in-exchange"
)
_ALL_JOBS: tuple[JobType, ...] = JOB_TYPES

#: The table. Order matters twice: resources are created per owner in this order, and a task's
#: resource row has one column per shared (non-object) record in this order.
LIMITS: tuple[Limit, ...] = (
    Limit(
        name="processing",
        owner="proxy",
        unit="B/s",
        source=Source(
            "proxies[].processing_rate (else cores x calibration.bps_per_core)",
            "PROXY_BPS_PER_CORE",
            "https://bp.veeam.com/vb365/guide/design/sizing/proxy.html",
        ),
        capacity=_proxy_processing,
        semantics=CpuCost(
            per_byte_s=1.0 / d.PROXY_BPS_PER_CORE,
            per_object_s=tuple(d.CPU_PER_OBJECT_S_OF_WORKLOAD[w] for w in d.WORKLOADS),
        ),
        bottleneck=CLS_PROXY,
        uses=(Use(_ALL_JOBS, "proxy", _one),),
        attr="res_processing",
        skippable=True,
        doc="What a proxy's cores can process: bytes moved and, per object in scope, its "
        "scan's CPU (vb365 facts 10, 13; per-object cost INFERRED, calibrated to fact 13).",
    ),
    Limit(
        name="throttle",
        owner="proxy",
        unit="B/s",
        source=Source("proxies[].throttle", None, _HC + "vbo_threads_and_limit.html"),
        capacity=lambda ps, _cal: ps.throttle,
        semantics=FluidRate(),
        bottleneck=CLS_PROXY,
        uses=(Use(_ALL_JOBS, "proxy", _one),),
        attr="res_throttle",
        skippable=True,
        doc="Network throttling on a proxy's inbound traffic, off by default (vb365 fact 37).",
    ),
    Limit(
        name="egress",
        owner="tenant",
        unit="B/s",
        source=Source("tenants[].egress_cap", None, None, inferred=True),
        capacity=lambda ts, _cal: ts.egress_cap,
        semantics=FluidRate(),
        bottleneck=CLS_SOURCE,
        uses=(Use(("backup",), "tenant", _one),),
        attr="res_egress",
        doc="A tenant-wide read cap across workloads (a scenario parameter, INFERRED).",
    ),
    Limit(
        name="workload_cap",
        owner="tenant",
        unit="B/s",
        source=Source("tenants[].workload_caps", None, None, inferred=True),
        capacity=lambda ts, _cal: ts.workload_caps,
        semantics=FluidRate(),
        bottleneck=CLS_SOURCE,
        uses=(Use(("backup",), "tenant", _one),),
        attr="res_workload",
        per_workload=True,
        doc="A tenant-wide read cap per workload (a scenario parameter, INFERRED).",
    ),
    Limit(
        name="ingress",
        owner="tenant",
        unit="B/s",
        source=Source("tenants[].ingress_cap", None, None, inferred=True),
        capacity=lambda ts, _cal: ts.ingress_cap,
        semantics=FluidRate(),
        bottleneck=CLS_SOURCE,
        uses=(Use(("restore",), "tenant", _one),),
        attr="res_ingress",
        doc="A tenant-wide write cap for restores (a scenario parameter; vb365 fact 22 reports "
        "400 GB/h from an unverified community post, so INFERRED).",
    ),
    Limit(
        name="sharepoint_ru",
        owner="tenant",
        unit="RU/min",
        source=Source(
            "tenants[].sharepoint_ru_per_min (else by licence tier)",
            "SP_RU_PER_MIN_BY_LICENCES",
            _SPO,
        ),
        capacity=lambda ts, _cal: sharepoint_ru_per_min(ts),
        window_s=60.0,
        semantics=FluidRate(),
        request=RequestLimit(
            status=429,
            burst_s=d.REQUEST_BUDGET_BURST_S,
            reject_cost=d.RU_PER_REJECTED_REQUEST,
            enabled=lambda ts: ts.throttling == "request",
            retry_after=lambda ts: float(ts.retry_after),
            counter="throttled_requests",
            budget_attr="ru_budget",
        ),
        bottleneck=CLS_SOURCE,
        uses=(
            Use(("backup",), "tenant", _ru_backup),
            Use(("restore",), "tenant", _ru_per_byte(d.RU_PER_WRITE)),
        ),
        attr="res_ru",
        doc="SharePoint/OneDrive resource units per tenant by request kind (vb365 fact 26); "
        "the daily budget is the tenant's daily_ru_budget process (window start INFERRED).",
    ),
    Limit(
        name="ews_connections",
        owner="tenant",
        unit="connections",
        source=Source(
            "tenants[].ews_max_concurrency x tenants[].ews_accounts", "EWS_MAX_CONCURRENCY", _EWS
        ),
        capacity=lambda ts, _cal: float(ts.ews_max_concurrency * ts.ews_accounts),
        semantics=ConcurrencyCap(per="account", limit=d.EWS_MAX_CONCURRENCY),
        bottleneck=CLS_SOURCE,
        # not a fluid share: it runs as a gate (``throttle.EwsGate``) in front of the transfer
        # of every Exchange backup task on the EWS path, so no task row uses it
        uses=(),
        attr="res_ews_conn",
        doc="EWSMaxConcurrency: 27 connections per backup account (vb365 fact 24), times the "
        "tenant's accounts (INFERRED 12, fact 27); a mailbox finding them all taken is answered "
        "ErrorServerBusy and retries after the back-off hint with per-thread jitter.",
    ),
    Limit(
        name="ews_budget",
        owner="tenant",
        unit="ms/h",
        source=Source(
            "tenants[].ews_recharge_ms_per_h x tenants[].ews_accounts",
            "EWS_RECHARGE_MS_PER_H",
            _EWS,
            inferred=True,
        ),
        capacity=lambda ts, _cal: float(ts.ews_recharge_ms_per_h * ts.ews_accounts),
        window_s=3600.0,
        semantics=BurstBudget(
            max_burst=d.EWS_MAX_BURST_MS,
            recharge_per_s=d.EWS_RECHARGE_MS_PER_H / 3600.0,
            cutoff=-d.EWS_CUTOFF_BALANCE_MS,
        ),
        request=RequestLimit(
            status=503,
            burst_s=_ews_burst_s,
            reject_cost=0.0,
            enabled=lambda ts: ts.throttling == "request",
            retry_after=lambda ts: float(ts.ews_backoff),
            counter="throttled_requests",
            budget_attr="ews_budget",
        ),
        bottleneck=CLS_SOURCE,
        uses=(Use(("backup",), "tenant", _ews_server_ms),),
        attr="res_ews_budget",
        skippable=True,
        doc="EWS burst/recharge budget of server time per account (EwsMaxBurst, "
        "EwsRechargeRate, EwsCutoffBalance; on-premises defaults, INFERRED for Exchange "
        "Online, vb365 fact 24); ErrorServerBusy with its back-off hint when spent.",
    ),
    Limit(
        name="graph_app_requests",
        owner="tenant",
        unit="requests/10s",
        source=Source("tenants[].graph_app_requests_per_10s", "GRAPH_APP_REQUESTS_PER_10S", _GRAPH),
        capacity=lambda ts, _cal: float(ts.graph_app_requests_per_10s),
        window_s=10.0,
        semantics=FluidRate(),
        request=RequestLimit(
            status=429,
            burst_s=10.0,
            reject_cost=1.0,
            enabled=lambda ts: ts.throttling == "request",
            retry_after=lambda ts: float(ts.retry_after),
            counter="throttled_requests",
            budget_attr="graph_budget",
        ),
        bottleneck=CLS_SOURCE,
        uses=(Use(("backup", "restore"), "tenant", _graph_requests),),
        attr="res_graph",
        skippable=True,
        doc="Microsoft Graph global limit per app, 130,000 requests per 10 s (vb365 fact 25), "
        "per tenant; Exchange tasks on the Graph path (exportItems, fact 42).",
    ),
    Limit(
        name="teams_requests",
        owner="tenant",
        unit="requests/s",
        source=Source("tenants[].teams_requests_per_s", "TEAMS_TENANT_REQUESTS_PER_S", _GRAPH),
        capacity=lambda ts, _cal: ts.teams_requests_per_s,
        semantics=FluidRate(),
        request=RequestLimit(
            status=429,
            burst_s=1.0,
            reject_cost=1.0,
            enabled=lambda ts: ts.throttling == "request",
            retry_after=lambda ts: float(ts.retry_after),
            counter="throttled_requests",
            budget_attr="teams_budget",
        ),
        bottleneck=CLS_SOURCE,
        uses=(Use(("backup", "restore"), "tenant", _requests_per_byte_of(_TEAMS)),),
        attr="res_teams",
        doc="Teams message requests per app per tenant, one message per request (vb365 fact 25).",
    ),
    Limit(
        name="read_bandwidth",
        owner="repository",
        unit="B/s",
        source=Source("repositories[].read_bandwidth", "REPOSITORY_WRITE_BPS", None, True),
        capacity=lambda rs, _cal: rs.read_bandwidth,
        semantics=FluidRate(),
        bottleneck=CLS_TARGET,
        uses=(
            Use(("restore",), "source", _compression),
            Use(("backup_copy",), "source", _one),
        ),
        attr="res_read",
        skippable=True,
        doc="Reads of restores and backup copies (default a 10 Gbps link, INFERRED).",
    ),
    Limit(
        name="get_requests",
        owner="repository",
        unit="requests/s",
        source=Source("repositories[].get_rate", "S3_GET_PER_S", _S3),
        capacity=lambda rs, _cal: get_rate_per_s(rs),
        semantics=FluidRate(),
        bottleneck=CLS_TARGET,
        uses=(
            Use(("restore",), "source", _get_per_byte),
            Use(("backup_copy",), "source", _copy_get_per_byte),
        ),
        attr="res_get",
        skippable=True,
        doc="GET requests per prefix (S3 5,500/s) or per account (Azure 20,000/s; vb365 "
        "facts 31-32).",
    ),
    Limit(
        name="write_bandwidth",
        owner="repository",
        unit="B/s",
        source=Source("repositories[].write_bandwidth", "REPOSITORY_WRITE_BPS", None, True),
        capacity=lambda rs, _cal: rs.write_bandwidth,
        semantics=FluidRate(),
        bottleneck=CLS_TARGET,
        uses=(
            Use(("backup",), "target", _compression),
            Use(("backup_copy",), "target", _one),
        ),
        attr="res_write",
        skippable=True,
        doc="Writes of backups (compressed) and backup copies (default a 10 Gbps link, INFERRED).",
    ),
    Limit(
        name="put_requests",
        owner="repository",
        unit="requests/s",
        source=Source("repositories[].put_rate", "S3_PUT_PER_S", _S3),
        capacity=lambda rs, _cal: put_rate_per_s(rs),
        semantics=FluidRate(),
        request=RequestLimit(
            status=503,
            burst_s=1.0,
            reject_cost=d.S3_REJECTED_REQUEST_COST,
            enabled=lambda rs: rs.slow_down is not None,
            retry_after=lambda rs: float(rs.slow_down.backoff),
            counter="slowdown_requests",
            budget_attr="put_budget",
            repartition=True,
        ),
        bottleneck=CLS_TARGET,
        uses=(
            Use(("backup",), "target", _put_per_byte),
            Use(("backup_copy",), "target", _copy_put_per_byte),
        ),
        attr="res_put",
        skippable=True,
        doc="PUT requests per prefix (S3 3,500/s, 503 Slow Down while re-partitioning) or per "
        "account (Azure 20,000/s; vb365 facts 31-32).",
    ),
    Limit(
        name="mailbox_requests",
        owner="object",
        unit="requests/s",
        source=Source(None, "MAILBOX_REQUESTS_PER_S", _GRAPH),
        capacity=lambda _spec, _cal: d.MAILBOX_REQUESTS_PER_S,
        semantics=PerObjectRate(),
        bottleneck=CLS_THREAD,
        uses=(Use(("backup", "restore"), "object", _graph_mailbox_requests),),
        attr="",
        doc="Graph/Outlook: 10,000 requests per 10 min per app per mailbox (vb365 fact 25), "
        "Exchange tasks on the Graph path: exportItems reads up to 20 items per request "
        "(fact 42, about 333 items/s), restores one item per request.",
    ),
    Limit(
        name="team_requests",
        owner="object",
        unit="requests/s",
        source=Source(None, "TEAMS_PER_TEAM_REQUESTS_PER_S", _GRAPH),
        capacity=lambda _spec, _cal: d.TEAMS_PER_TEAM_REQUESTS_PER_S,
        semantics=PerObjectRate(),
        bottleneck=CLS_THREAD,
        uses=(Use(("backup", "restore"), "object", _requests_per_byte_of(_TEAMS)),),
        attr="",
        doc="At most 4 requests/s per app per team or channel, one message per request "
        "(vb365 fact 25).",
    ),
)


def cpu_costs(cal: Any) -> tuple[float, np.ndarray]:
    """The processing record's CPU costs under a scenario's calibration: (bytes of processing
    per Windows core-second, bytes of processing per object by workload index)."""
    bps = float(cal.bps_per_core)
    # the defaults are read now, not from the record frozen at import
    per_object = np.asarray(
        [float(cal.cpu_per_object.get(w, d.CPU_PER_OBJECT_S_OF_WORKLOAD[w])) for w in d.WORKLOADS]
    )
    return bps, per_object * bps


def validate(table: Sequence[Limit]) -> None:
    """Refuse a malformed table (ValueError naming the record and what is wrong): duplicate
    names, an owner kind or role that does not exist, a use for an unknown job type or two uses
    for one job type, a capacity without a public source that is not marked INFERRED, a
    default ``sim.defaults`` does not define, a semantics the engine does not run yet."""
    seen: set[str] = set()
    for rec in table:
        where = f"limit {rec.name!r}"
        if rec.name in seen:
            raise ValueError(f"{where}: the name is used twice")
        seen.add(rec.name)
        if rec.owner not in OWNER_KINDS:
            raise ValueError(f"{where}: owner {rec.owner!r} is not one of {OWNER_KINDS}")
        if not rec.semantics.executed:
            raise ValueError(
                f"{where}: semantics {type(rec.semantics).__name__} is defined but the engine "
                "does not run it yet (it does from the fidelity issue on)"
            )
        src = rec.source
        if src.url is None and not src.inferred:
            raise ValueError(f"{where}: its capacity needs a public source URL or INFERRED")
        if src.url is not None and not src.url.startswith("https://"):
            raise ValueError(f"{where}: source {src.url!r} is not an https:// URL")
        if src.default is not None and not hasattr(d, src.default):
            raise ValueError(f"{where}: sim.defaults has no {src.default!r}")
        if not rec.window_s > 0:
            raise ValueError(f"{where}: window_s must be > 0")
        if rec.owner != "object" and not rec.attr:
            raise ValueError(f"{where}: a shared limit needs the owner attribute of its resource")
        if rec.request is not None and rec.owner == "object":
            raise ValueError(f"{where}: a per-object limit cannot be request-level")
        jobs: set[str] = set()
        for use in rec.uses:
            if use.role not in ROLES_OF[rec.owner]:
                raise ValueError(
                    f"{where}: role {use.role!r} is not one of {ROLES_OF[rec.owner]} "
                    f"for a {rec.owner} limit"
                )
            for job in use.jobs:
                if job not in JOB_TYPES:
                    raise ValueError(f"{where}: unknown job type {job!r}")
                if job in jobs:
                    raise ValueError(f"{where}: two uses for job type {job!r}")
                jobs.add(job)


validate(LIMITS)

SHARED: tuple[Limit, ...] = tuple(rec for rec in LIMITS if rec.owner != "object")
"""Records with a shared resource: one column each in a task's resource row, in this order."""
PROXY_COLUMNS = sum(1 for rec in SHARED if rec.owner == "proxy")
"""The proxy's records come first in the row: filled when the task starts on a proxy."""
assert all(rec.owner == "proxy" for rec in SHARED[:PROXY_COLUMNS])
PER_OBJECT: tuple[Limit, ...] = tuple(rec for rec in LIMITS if rec.owner == "object")
PROCESSING: Limit = next(rec for rec in LIMITS if rec.name == "processing")
"""The proxy's cores (``CpuCost``): transfers use it per byte, scans per object."""


def of_owner(kind: OwnerKind) -> tuple[Limit, ...]:
    """The records an owner kind holds, in table order."""
    return tuple(rec for rec in LIMITS if rec.owner == kind)
