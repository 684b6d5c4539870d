"""The scenario file schema (pydantic v2). Unknown keys are errors; human units become SI floats.

Every field's description is the scenario reference (docs/scenario-reference.md is generated from
this module). Units: durations in seconds, sizes in bytes, rates in bytes per second, request
rates per second.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from sim import defaults as d
from sim.units import (
    parse_clock,
    parse_count_rate,
    parse_duration,
    parse_rate,
    parse_size,
)


def _js(kind: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": ["number", "string"], "description": f"{kind}, e.g. {example}"})


Duration = Annotated[
    float, BeforeValidator(parse_duration), _js("duration (number = seconds)", "'90s', '8h'")
]
Clock = Annotated[float, BeforeValidator(parse_clock), _js("clock time HH:MM[:SS]", "'22:00'")]
Size = Annotated[
    float, BeforeValidator(parse_size), _js("size (number = bytes)", "'500 GB', '5 TiB'")
]
Rate = Annotated[
    float, BeforeValidator(parse_rate), _js("rate (number = bytes/s)", "'1 Gbps', '200 MB/s'")
]
CountRate = Annotated[
    float,
    BeforeValidator(parse_count_rate),
    _js("request rate (number = per second)", "'3500/s'"),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]

Workload = Literal["exchange", "onedrive", "sharepoint", "teams"]
_ALL_WORKLOADS: tuple[Workload, ...] = ("exchange", "onedrive", "sharepoint", "teams")
ObjectType = Literal["mailbox", "archive_mailbox", "shared_mailbox", "onedrive", "site", "team"]
RepositoryKind = Literal[
    "s3", "s3_compatible", "azure_blob", "wasabi", "ibm_cos", "s3_glacier", "azure_archive", "local"
]
ARCHIVE_KINDS = ("s3_glacier", "azure_archive")
"""Archive tiers: backup-copy targets only (vb365 fact 28)."""
BLOCK_KINDS = ("local",)
"""Not object storage: a local disk of a standalone proxy; pools cannot own one (vb365 fact 4)."""


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectTypeMix(Strict):
    """How one object type is generated for a tenant; unset fields use the defaults."""

    per_user: float | None = Field(
        None, ge=0, description="Objects of this type per user (vb365 fact 15)."
    )
    count: int | None = Field(
        None, ge=0, description="Exact number of objects; wins over per_user."
    )
    mean_size: Size | None = Field(None, description="Mean object size.")
    size_sigma: float | None = Field(
        None, ge=0, le=4, description="Lognormal sigma of sizes (0 = all equal)."
    )
    mean_item_size: Size | None = Field(None, description="Mean item (mail, file) size.")
    daily_change: Fraction | None = Field(None, description="Fraction of bytes changed per day.")


class TenantSpec(Strict):
    """A Microsoft 365 organisation: the source side of every job."""

    name: str = Field(description="Unique tenant name.")
    users: int = Field(ge=1, description="Licensed users; drives object generation.")
    licences: int | None = Field(
        None, ge=1, description="Licence count for the SharePoint RU tier (default: users)."
    )
    objects: dict[ObjectType, ObjectTypeMix] = Field(
        default_factory=dict, description="Per-type overrides of the generated object mix."
    )
    inventory: str | None = Field(
        None,
        description="CSV of real objects (columns type,size,items[,daily_change]), relative to "
        "the scenario file; replaces generation.",
    )
    egress_cap: Rate | None = Field(
        None, description="Tenant-wide read cap across all workloads (none by default)."
    )
    workload_caps: dict[Workload, Rate] = Field(
        default_factory=dict, description="Tenant-wide read cap per workload."
    )
    sharepoint_ru_per_min: float | None = Field(
        None,
        gt=0,
        description="SharePoint/OneDrive resource units per minute (default: by licence tier, "
        "vb365 fact 26). Each file download costs 1 RU, each write 2 RU.",
    )
    sharepoint_ru_per_day: float | None = Field(
        None,
        gt=0,
        description="SharePoint/OneDrive resource units per day (default: by licence tier, "
        "1.2M-6M, vb365 fact 26). When spent, SharePoint/OneDrive transfers stop until midnight.",
    )
    teams_requests_per_s: float = Field(
        d.TEAMS_TENANT_REQUESTS_PER_S,
        gt=0,
        description="Teams message requests per second per app per tenant (vb365 fact 25).",
    )
    ingress_cap: Rate | None = Field(
        None, description="Tenant-wide write cap for restores, e.g. '400 GB/h' (vb365 fact 22)."
    )
    growth_per_day: Fraction = Field(
        0.0, description="New objects per day as a fraction of the inventory (each is a full)."
    )
    throttling: Literal["fluid", "request"] = Field(
        "fluid",
        description="How the SharePoint/OneDrive RU budget and the Teams request cap act: "
        "'fluid' caps the rate at the budget; 'request' lets requests run until a token bucket "
        "holding one minute's budget is empty, then answers 429 with Retry-After, charging "
        "rejected requests against the budget (vb365 fact 26). Throttled requests are counted "
        "per task and per tenant.",
    )
    retry_after: Duration = Field(
        d.RETRY_AFTER_S,
        gt=0,
        description="Retry-After of a 429 answer under 'request' throttling (observed 5-60 s).",
    )


class ProxySpec(Strict):
    """A backup proxy server."""

    name: str = Field(description="Unique proxy name.")
    dns: str | None = Field(None, description="DNS name (default: the name); unique.")
    os: Literal["windows", "linux"] = Field("windows", description="Linux is ~20 % more efficient.")
    cores: int = Field(d.PROXY_CORES, ge=1, le=256, description="CPU cores.")
    ram: Size = Field(float(d.PROXY_RAM_BYTES), description="Memory.")
    threads: int = Field(
        d.PROXY_THREADS, ge=1, le=4096, description="Thread slots; one object per thread."
    )
    throttle: Rate | None = Field(None, description="Network throttle on inbound traffic.")
    processing_rate: Rate | None = Field(
        None,
        description="Processing capacity; default cores x bps_per_core x OS efficiency.",
    )
    default: bool = Field(False, description="This is the default (local) proxy.")
    state: Literal["active", "maintenance"] = Field("active", description="State at time 0.")


class PolicySpec(Strict):
    """A traffic-distribution policy with parameters."""

    name: str = Field(description="Registered policy name or 'module.path:ClassName'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments.")


class PoolSpec(Strict):
    """A proxy pool: members and the policy that spreads work over them."""

    name: str = Field(description="Unique pool name.")
    members: list[str] = Field(min_length=1, description="Proxy names.")
    policy: str | PolicySpec = Field("pull_fifo", description="Distribution policy.")


class SlowDownSpec(Strict):
    """Request-level PUT limit of an object store: 503 Slow Down and re-partitioning."""

    partitions: int = Field(
        1, ge=1, description="Prefix partitions at the start; each carries put_rate."
    )
    max_partitions: int = Field(
        d.S3_MAX_PARTITIONS, ge=1, description="Most partitions re-partitioning reaches."
    )
    repartition_after: Duration = Field(
        d.S3_REPARTITION_S,
        gt=0,
        description="Time from the first 503 of an overload until the partitions double "
        "(30-60 min, vb365 fact 31).",
    )
    backoff: Duration = Field(
        d.S3_SLOW_DOWN_BACKOFF_S, gt=0, description="Wait before retrying a rejected request."
    )


class RepositorySpec(Strict):
    """An object-storage repository owned by one pool or one standalone proxy."""

    name: str = Field(description="Unique repository name.")
    kind: RepositoryKind = Field(
        "s3", description="Object-storage type, or 'local' disk (standalone proxies only)."
    )
    owner: str = Field(description="The pool or standalone proxy that owns it.")
    write_bandwidth: Rate = Field(
        d.REPOSITORY_WRITE_BPS, description="Write bandwidth (default: a 10 Gbps link)."
    )
    put_rate: CountRate | None = Field(
        None, description="PUT requests per second (default: 3,500 for S3, 20,000 for Azure)."
    )
    read_bandwidth: Rate = Field(
        d.REPOSITORY_WRITE_BPS, description="Read bandwidth (backup copy source, restores)."
    )
    get_rate: CountRate | None = Field(
        None, description="GET requests per second (default: 5,500 for S3, 20,000 for Azure)."
    )
    compression: dict[Workload, Fraction] = Field(
        default_factory=dict, description="Stored / source bytes per workload (vb365 fact 30)."
    )
    slow_down: SlowDownSpec | None = Field(
        None,
        description="Request-level PUT limit: above partitions x put_rate, requests get "
        "503 Slow Down and are retried after a backoff; sustained overload re-partitions "
        "(vb365 fact 31). Off: the PUT rate is a fluid cap.",
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS_S = (300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200)
"""Periodic schedules VB365 offers: 5, 10, 15, 30 min, 1, 2, 4, 8, 12 h (vb365 fact 35)."""


class ScheduleSpec(Strict):
    """When a job's sessions start (vb365 fact 35). Give exactly one of daily, periodic,
    after_source (backup copy) or once."""

    daily: Clock | None = Field(None, description="Start time every (selected) day.")
    days: list[Weekday] | None = Field(
        None, description="Weekdays a daily schedule runs on (default: every day)."
    )
    periodic: Duration | None = Field(
        None, description="Run every 5/10/15/30 min or 1/2/4/8/12 h, from midnight + offset."
    )
    offset: Duration = Field(0.0, description="Offset of a periodic schedule (0-59 min).")
    once: Clock | None = Field(
        None, description="Run once, on day 'on_day' at this time (restores)."
    )
    on_day: int = Field(1, ge=1, description="Day of a 'once' schedule (1 = first day).")
    after_source: bool = Field(
        False, description="Backup copy: run immediately after each session of the source job."
    )
    window: Duration | None = Field(None, description="Backup window length from the start.")
    allowed_hours: list[str] | None = Field(
        None,
        description="Allowed-hours grid (7x24): entries like 'mon-fri 20-06', 'sat-sun 00-24', "
        "'wed 22-23'. Sessions start only in allowed hours; with terminate_on_window they stop "
        "when the allowed block ends.",
    )
    terminate_on_window: bool = Field(
        False, description="Stop the session when it exceeds the window or the allowed hours."
    )


class RetrySpec(Strict):
    """Retries of failed objects (vb365 fact 35: off by default; when on 3 attempts, 10 min)."""

    attempts: int = Field(3, ge=1, le=777, description="Retries after the first attempt.")
    wait: Duration = Field(600.0, description="Wait before each retry round (1-999 min).")


class JobSpec(Strict):
    """A job: backup (tenant → repository), backup copy (repository → repository) or restore
    (repository → tenant)."""

    name: str = Field(description="Unique job name.")
    type: Literal["backup", "backup_copy", "restore"] = Field("backup", description="Job type.")
    source_job: str | None = Field(
        None, description="Backup copy: the backup job whose latest restore point is copied."
    )
    source_repository: str | None = Field(
        None, description="Restore: the repository restored from (default: the job's)."
    )
    retry: RetrySpec | None = Field(None, description="Retry failed objects (off by default).")
    failure_probability: Fraction = Field(
        0.0, description="Probability that one attempt at an object fails (at a random point)."
    )
    tenant: str = Field(description="Tenant name.")
    workloads: list[Workload] = Field(
        default_factory=lambda: list(_ALL_WORKLOADS),
        min_length=1,
        description="Workloads in scope.",
    )
    share: Fraction = Field(
        1.0, description="Fraction of the tenant's objects of those workloads in scope."
    )
    share_offset: Fraction = Field(
        0.0, description="Where this job's slice of the objects starts (0..1)."
    )
    repository: str = Field(
        description="Target repository (backup copy: the copy target; restore: the source)."
    )
    schedule: ScheduleSpec = Field(description="Schedule and window.")


class CalibrationSpec(Strict):
    """Per-workload and per-proxy rates (INFERRED defaults; calibrate to your estate)."""

    thread_rate: dict[Workload, Rate] = Field(
        default_factory=dict, description="Per-thread transfer ceiling."
    )
    items_per_s: dict[Workload, float] = Field(
        default_factory=dict, description="Per-thread item ceiling."
    )
    object_overhead: dict[Workload, Duration] = Field(
        default_factory=dict, description="Fixed time per object on its thread."
    )
    bps_per_core: Rate = Field(d.PROXY_BPS_PER_CORE, description="Processing per core (Windows).")
    linux_efficiency: float = Field(
        d.OS_EFFICIENCY["linux"], ge=1.0, le=2.0, description="Linux / Windows throughput."
    )
    resolve_base: Duration = Field(d.RESOLVE_BASE_S, description="Resolve phase, fixed part.")
    resolve_per_object: Duration = Field(
        d.RESOLVE_PER_OBJECT_S, description="Resolve phase, per object in scope."
    )
    metadata_per_object: Duration = Field(
        d.METADATA_PER_OBJECT_S,
        description="Metadata phase: configuration-database time per processed object.",
    )
    db_concurrent_sessions: int = Field(
        d.DB_CONCURRENT_SESSIONS,
        ge=1,
        description="Sessions the configuration database serves at once in their metadata "
        "phase; the others queue (INFERRED; vb365 fact 17 calls the database highly loaded).",
    )
    restore_point: Duration = Field(d.RESTORE_POINT_S, description="Restore point creation.")
    change_sigma: float = Field(
        0.5, ge=0, le=3, description="Lognormal sigma of each day's change around its mean."
    )


class SimulationSpec(Strict):
    """How long to simulate and how to record it."""

    days: int = Field(1, ge=1, le=366, description="Days simulated; day 1 is the first full.")
    start_weekday: Weekday = Field("mon", description="Weekday of day 1.")
    initial_state: Literal["empty", "protected"] = Field(
        "empty",
        description="'empty': day 1 is the initial full. 'protected': every object was backed up "
        "(and copied) the day before day 1, so the first sessions are incrementals — the "
        "steady-state nightly question.",
    )
    bucket: Duration = Field(300.0, description="Time-series bucket width.")


class SizeDistribution(Strict):
    """Task sizes of a synthetic workload (bytes; the service time is size / rate)."""

    distribution: Literal[
        "exponential", "deterministic", "lognormal", "hyperexponential", "pareto", "empirical"
    ] = Field("exponential", description="Family.")
    mean: Size | None = Field(None, description="Mean size (all but empirical).")
    scv: float | None = Field(
        None,
        gt=0,
        description="Squared coefficient of variation (lognormal, hyperexponential: balanced "
        "means H2, needs scv >= 1).",
    )
    alpha: float | None = Field(None, gt=1, description="Pareto shape (> 1).")
    values: list[Size] | None = Field(
        None, min_length=1, description="Empirical sizes, drawn uniformly with replacement."
    )


class ArrivalSpec(Strict):
    """Arrivals of a synthetic workload."""

    process: Literal["poisson", "trace"] = Field("poisson", description="Arrival process.")
    rate: CountRate | None = Field(None, description="Poisson arrival rate (tasks per second).")
    trace: str | None = Field(
        None,
        description="CSV with columns time[,size] (seconds, bytes), relative to the scenario "
        "file; replaces rate and sizes.",
    )


class VacationSpec(Strict):
    """Multiple vacations: a proxy that finds nothing to do leaves for a vacation V, and for
    another if still nothing waits when it returns (oracles.md §9 8b)."""

    distribution: Literal["exponential", "deterministic"] = Field(
        "exponential", description="Law of V."
    )
    mean: Duration = Field(description="Mean vacation length.")


class InterruptionSpec(Strict):
    """Service interruptions independent of load: each proxy alternates up periods exp(mean_up)
    and down periods exp(mean_down), during which it serves nothing (preemptive resume;
    oracles.md §9 8c)."""

    mean_up: Duration = Field(description="Mean up period.")
    mean_down: Duration = Field(description="Mean down period.")


class SyntheticSpec(Strict):
    """Synthetic mode: Poisson or trace-driven tasks with no Microsoft 365 side, to check the
    engine and the policies against queueing theory (docs/model.md, 'Synthetic mode')."""

    target: str = Field(description="The pool or standalone proxy the tasks arrive at.")
    arrivals: ArrivalSpec = Field(description="Arrival process.")
    sizes: SizeDistribution = Field(
        default_factory=SizeDistribution, description="Task sizes (ignored with a trace)."
    )
    tasks: int = Field(1000, ge=1, description="Number of arrivals (Poisson).")
    service: Literal["threads", "processor_sharing"] = Field(
        "threads",
        description="'threads': each thread serves one task at thread_rate (FCFS servers); "
        "'processor_sharing': a proxy's processing rate is shared equally by its tasks in "
        "service (at most 'threads' of them; the rest wait).",
    )
    thread_rate: Rate | None = Field(
        None,
        description="'threads': the rate of one thread (default 1 MB/s). 'processor_sharing': an "
        "optional per-task ceiling, so k tasks on a proxy of rate C get min(thread_rate, C/k) "
        "each (Kelly's symmetric M/G/c-PS); unlimited when not given.",
    )
    warmup_tasks: int = Field(
        0, ge=0, description="Arrivals before the measured ones (not counted in summaries)."
    )
    vacations: VacationSpec | None = Field(
        None, description="Proxies take vacations whenever idle (checks against 8b)."
    )
    interruptions: InterruptionSpec | None = Field(
        None,
        description="Proxies fail and recover independently of load (checks against 8c); needs "
        "service: processor_sharing (set threads: 1 for FCFS).",
    )


LifecycleAction = Literal[
    "maintenance_on",
    "maintenance_off",
    "fail",
    "recover",
    "add",
    "remove",
    "upgrade",
    "delete_pool",
]
ACTIONS_ON_PROXY = ("maintenance_on", "maintenance_off", "fail", "recover", "upgrade")
ACTIONS_ON_MEMBER = ("add", "remove")


class TimelineEvent(Strict):
    """One lifecycle request or fault, at a clock time of a day or at an offset into a session."""

    action: LifecycleAction = Field(description="What happens.")
    proxy: str | None = Field(None, description="The proxy (every action but delete_pool).")
    pool: str | None = Field(
        None, description="The pool (add, remove, delete_pool; default for remove: the proxy's)."
    )
    at: Clock | None = Field(None, description="Clock time on day ``day``.")
    day: int = Field(1, ge=1, description="Day of ``at`` (1 = the first simulated day).")
    offset: Duration | None = Field(
        None, ge=0, description="Time after the scheduled start of a session of ``job``."
    )
    job: str | None = Field(None, description="The job whose session ``offset`` counts from.")
    session: int = Field(1, ge=1, description="Which session of ``job`` (1 = its first).")


class LifecycleSpec(Strict):
    """How the pool lifecycle treats in-flight work and roles (vb365 facts 2, 6-8)."""

    in_flight: Literal["drain", "handoff", "restart"] = Field(
        "handoff",
        description="Running objects of a member entering maintenance: 'drain' (finish there, "
        "no new ones), 'handoff' (continue on another active member from the last checkpoint), "
        "'restart' (start over elsewhere). Queued work always moves at once.",
    )
    checkpoint: Size | None = Field(
        None,
        gt=0,
        description="Progress is saved every this many source bytes (default: the workload's "
        "blob size, 5 MB Exchange, 8 MB OneDrive/SharePoint, 256 MB backup copy).",
    )
    role_failover: Duration = Field(
        d.ROLE_FAILOVER_S,
        ge=0,
        description="Delay before a role whose holder left is held by another active member.",
    )


class Scenario(Strict):
    """A poolsim scenario: the estate, its jobs and how long to simulate."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$",
        max_length=100,
        description="Scenario name (results folder): letters, digits, '_', '-', '.', not "
        "starting with '.' (so never '..', a path or a hidden folder).",
    )
    description: str = Field("", description="Free text.")
    seed: int = Field(0, ge=0, description="Root seed of every random stream.")
    tenants: list[TenantSpec] = Field(
        default_factory=list, description="Microsoft 365 organisations (one or more)."
    )
    proxies: list[ProxySpec] = Field(min_length=1, description="Backup proxies.")
    pools: list[PoolSpec] = Field(default_factory=list, description="Proxy pools.")
    repositories: list[RepositorySpec] = Field(
        default_factory=list, description="Repositories (one or more)."
    )
    jobs: list[JobSpec] = Field(default_factory=list, description="Backup jobs (one or more).")
    synthetic: SyntheticSpec | None = Field(
        None, description="Synthetic mode instead of tenants, repositories and jobs."
    )
    calibration: CalibrationSpec = Field(
        default_factory=CalibrationSpec, description="Rates and phase costs."
    )
    lifecycle: LifecycleSpec = Field(
        default_factory=LifecycleSpec, description="In-flight work and roles (see timeline)."
    )
    timeline: list[TimelineEvent] = Field(
        default_factory=list,
        description="Lifecycle requests and faults: maintenance on/off, fail/recover, add/remove "
        "a member, upgrade, delete a pool. A request the product refuses is an error here.",
    )
    simulation: SimulationSpec = Field(
        default_factory=SimulationSpec, description="Run length and recording."
    )
