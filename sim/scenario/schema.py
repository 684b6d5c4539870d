"""The scenario file schema (pydantic v2). Unknown keys are errors; human units become SI floats.

Every field's description is the scenario reference (docs/scenario-reference.md is generated from
this module). Units: durations in seconds, sizes in bytes, rates in bytes per second, request
rates per second.

Dimensional fields need a unit: a bare number (``window: 8``, ``write_bandwidth: 10``) is an
error, since 8 seconds or 10 bytes/s is almost never what was meant; only a bare 0 is accepted
(zero in every unit). Numbers are strict: ``true`` is not 1, and ``1e20`` is not an integer.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 4: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
vb365 fact 7: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_edit_proxy_pool.html
vb365 fact 8: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_upgrade_pool.html
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
vb365 fact 17: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
vb365 fact 22: https://community.veeam.com/blogs-and-podcasts-57
vb365 fact 25: https://learn.microsoft.com/graph/throttling-limits
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 28: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_osr.html
vb365 fact 30: https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html
vb365 fact 31: https://repost.aws/knowledge-center/http-5xx-errors-s3
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
vb365 fact 23: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_managing_organizations.html
vb365 fact 24: https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
vb365 fact 27: https://bp.veeam.com/vb365/guide/operate/orgconfig
vb365 fact 40: https://www.veeam.com/kb4820
vb365 fact 42: https://learn.microsoft.com/graph/api/mailbox-exportitems
vb365 fact 43: https://learn.microsoft.com/graph/throttling-limits
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic.fields import FieldInfo

from sim import defaults as d
from sim.units import (
    COUNT_RATE_FORMS,
    DURATION_FORMS,
    RATE_FORMS,
    SIZE_FORMS,
    UnitError,
    parse_clock,
    parse_count_rate,
    parse_duration,
    parse_rate,
    parse_size,
)

_BARE_NUMBER = re.compile(
    r"\s*[-+]?\s*(?:[0-9][0-9_,]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?\s*"
)


UNIT_FORMS = {
    "duration": "a number with a unit: ms, s, min, h, d, w (e.g. '90s', '8h', '1h30m')",
    "size": "a number with a unit: B, KB, MB, GB, TB, PB (powers of 1000) or KiB, MiB, GiB, "
    "TiB, PiB (powers of 1024) (e.g. '500 GB', '5TiB')",
    "rate": "a bit rate in bps, Kbps, Mbps, Gbps, Tbps, or a size per time with B for bytes and "
    "b for bits (e.g. '200 MB/s', '400 GB/h', '1 GiB/s', '10 Gbps', '50 MBps')",
    "count rate": "a number per time unit: /s, /sec, /min, /h, /hour, /day "
    "(e.g. '3500/s', '1200/min', '6000/h')",
}
"""What a dimensional field accepts (a bare 0 too); shown in every unit error."""


def _needs_unit(
    parse: Callable[[object], float], kind: str, what: str, forms: str
) -> Callable[..., float]:
    """Wrap a unit parser so that a bare number (other than 0) is refused with the forms."""
    allowed = UNIT_FORMS[kind]

    def check(v: object) -> float:
        bare = (isinstance(v, (int, float)) and not isinstance(v, bool)) or (
            isinstance(v, str) and _BARE_NUMBER.fullmatch(v) is not None
        )
        try:
            value = parse(v)
        except UnitError as exc:
            raise UnitError(str(exc).replace(forms, allowed)) from None
        if bare and value != 0.0:
            shown = repr(v) if isinstance(v, str) else str(v)
            raise UnitError(f"{shown} has no unit; {what} needs one: use {allowed}")
        return value

    check.unit_kind = kind  # type: ignore[attr-defined]
    return check


SI_UNIT = {"duration": " s", "size": " B", "rate": " B/s", "count rate": "/s"}
"""The SI unit each unit kind converts to (what the resolved scenario holds)."""


def unit_kind(annotation: object) -> str | None:
    """The unit kind ('duration', 'size', 'rate', 'count rate') of a field type, or None.

    Looks through Optional, lists and dict values to the Annotated type with a unit parser;
    takes a pydantic FieldInfo too.
    """
    if isinstance(annotation, FieldInfo):
        return _kind_in(annotation.metadata) or unit_kind(annotation.annotation)
    kind = _kind_in(getattr(annotation, "__metadata__", ()))
    if kind is not None:
        return kind
    for arg in getattr(annotation, "__args__", ()):
        kind = unit_kind(arg)
        if kind is not None:
            return kind
    return None


def _kind_in(metadata: object) -> str | None:
    for meta in metadata:  # type: ignore[attr-defined]
        kind = getattr(getattr(meta, "func", None), "unit_kind", None)
        if kind is not None:
            return str(kind)
    return None


def with_units(data: object, model: type[BaseModel] | None = None) -> object:
    """A copy of raw scenario data with every bare number of a dimensional field given its SI
    unit (``3600`` -> ``'3600 s'``): for scenarios built in Python from SI numbers."""
    model = Scenario if model is None else model
    if not isinstance(data, dict):
        return data
    out: dict[object, object] = {}
    for key, value in data.items():
        info = model.model_fields.get(key) if isinstance(key, str) else None
        out[key] = value if info is None else _with_units_of(info, value)
    return out


def _with_units_of(annotation: object, value: object) -> object:
    if isinstance(value, bool):
        return value
    kind = unit_kind(annotation)
    if kind is not None:
        if isinstance(value, (int, float)):
            return f"{value!r}{SI_UNIT[kind]}"
        if isinstance(value, list):
            return [_with_units_of(annotation, v) for v in value]
        if isinstance(value, dict):
            return {k: _with_units_of(annotation, v) for k, v in value.items()}
        return value
    if isinstance(annotation, FieldInfo):
        annotation = annotation.annotation
    for arg in [annotation, *getattr(annotation, "__args__", ())]:
        origin = get_origin(arg)
        if origin is dict and isinstance(value, dict):
            inner = get_args(arg)[1]
            return {k: _with_units_of(inner, v) for k, v in value.items()}
        if origin is list and isinstance(value, list):
            inner = get_args(arg)[0]
            return [_with_units_of(inner, v) for v in value]
    for cls in _models_in(annotation):
        if isinstance(value, dict):
            return with_units(value, cls)
    return value


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (dict, list):
        return []
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def _ci(word: str) -> str:
    """A case-insensitive ECMA-262 regex for word (JSON Schema patterns have no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _alt(words: list[str]) -> str:
    return "(?:" + "|".join(_ci(w) for w in sorted(set(words), key=lambda w: (-len(w), w))) + ")"


_EXP = r"(?:[eE][-+]?[0-9]+)?"
_PNUM = rf"(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+(?:_[0-9]+)*)(?:\.[0-9]+(?:_[0-9]+)*)?{_EXP}"
_PNUM = rf"(?:{_PNUM}|\.[0-9]+(?:_[0-9]+)*{_EXP})"
_TIME_WORDS = ["s", "sec", "second", "min", "minute", "h", "hr", "hour", "d", "day"]
_DUR_WORDS = [
    *("ms", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes"),
    *("h", "hr", "hrs", "hour", "hours", "d", "day", "days", "w", "week", "weeks"),
]
_SIZE_WORDS = ["b", *(p + "b" for p in "kmgtp"), *(p + "ib" for p in "kmgtp")]
PATTERNS: dict[str, str] = {
    "duration": rf"^\s*\+?\s*(?:{_PNUM}\s*{_alt(_DUR_WORDS)}\s*)+$",
    "size": rf"^\s*\+?\s*{_PNUM}\s*{_alt(_SIZE_WORDS)}\s*$",
    "rate": rf"^\s*\+?\s*{_PNUM}\s*(?:[kmgtpKMGTP]?(?:[bB]ps|b\s*/\s*{_alt(_TIME_WORDS)})"
    rf"|[kmgtpKMGTP]?i?B(?:ps|\s*/\s*{_alt(_TIME_WORDS)}))\s*$",
    "count rate": rf"^\s*\+?\s*{_PNUM}\s*/\s*{_alt([*_TIME_WORDS, 'sec', 'hour'])}\s*$",
}
"""The accepted unit forms per unit type as JSON Schema patterns, so editors catch '10GB' for a
rate. The parsers in sim/units.py are the authority; tests check both agree on examples."""


def _js(kind: str, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": PATTERNS[kind]}, {"const": 0}],
            "x-unit": kind,
            "description": f"{kind} with a unit, e.g. {example} (a bare number other than 0 is "
            f"an error): {UNIT_FORMS[kind]}",
        }
    )


Duration = Annotated[
    float,
    BeforeValidator(_needs_unit(parse_duration, "duration", "a duration", DURATION_FORMS)),
    _js("duration", "'90s', '8h'"),
]
Clock = Annotated[
    float,
    BeforeValidator(parse_clock),
    WithJsonSchema({"type": "string", "description": "clock time HH:MM[:SS], e.g. '22:00'"}),
]
Size = Annotated[
    float,
    BeforeValidator(_needs_unit(parse_size, "size", "a size", SIZE_FORMS)),
    _js("size", "'500 GB', '5 TiB'"),
]
Rate = Annotated[
    float,
    BeforeValidator(_needs_unit(parse_rate, "rate", "a data rate", RATE_FORMS)),
    _js("rate", "'1 Gbps', '200 MB/s'"),
]
CountRate = Annotated[
    float,
    BeforeValidator(
        _needs_unit(parse_count_rate, "count rate", "a request rate", COUNT_RATE_FORMS)
    ),
    _js("count rate", "'3500/s'"),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_COUNT = 10**9
"""Largest count of users, objects or tasks accepted: far beyond any Microsoft 365 tenant, and
small enough that no count overflows; validate's memory estimate refuses much less (INFERRED)."""
PositiveRate = Annotated[Rate, Field(gt=0)]
PositiveSize = Annotated[Size, Field(gt=0)]

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


def _enum_values(tp: Any) -> tuple[str, ...]:
    """The lowercase string values of a Literal type (through Annotated and Optional)."""
    origin = get_origin(tp)
    if origin is Literal:
        values = get_args(tp)
        if all(isinstance(v, str) and v == v.lower() for v in values):
            return values
        return ()
    if origin is Annotated:
        return _enum_values(get_args(tp)[0])
    for arg in get_args(tp) if origin is not None and origin not in (list, dict) else ():
        found = _enum_values(arg)
        if found:
            return found
    return ()


def _enum_fields(cls: type[BaseModel]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Fields holding enum values: how ('value', 'list' items or 'keys' of a mapping) and the
    values."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, info in cls.model_fields.items():
        tp = info.annotation
        for alt in (tp, *get_args(tp)):
            origin = get_origin(alt)
            if origin in (list, dict) and _enum_values(get_args(alt)[0]):
                how = "list" if origin is list else "keys"
                out[name] = (how, _enum_values(get_args(alt)[0]))
        if name not in out and _enum_values(tp):
            out[name] = ("value", _enum_values(tp))
    return out


def _lower(v: object, values: tuple[str, ...]) -> object:
    """``v`` in lowercase when that is one of ``values``; else as given (the error echoes it)."""
    return v.lower() if isinstance(v, str) and v.lower() in values else v


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are rejected. Enum values (``os: Linux``,
    ``workloads: [Exchange]``, ``in_flight: HandOff``, object types as keys) are matched
    case-insensitively and stored in lowercase; keys, names and policies are case-sensitive."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _enum_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = _ENUM_FIELDS.get(cls)
        if fields is None:
            fields = _ENUM_FIELDS[cls] = _enum_fields(cls)
        if not fields:
            return data
        data = dict(data)
        for name, (how, values) in fields.items():
            if name not in data:
                continue
            v = data[name]
            if how == "value":
                data[name] = _lower(v, values)
            elif how == "list" and isinstance(v, list):
                data[name] = [_lower(x, values) for x in v]
            elif how == "keys" and isinstance(v, dict):
                lowered = {_lower(k, values): x for k, x in v.items()}
                if len(lowered) == len(v):  # 'Mailbox' and 'mailbox' both: left to the errors
                    data[name] = lowered
        return data


_ENUM_FIELDS: dict[type[BaseModel], dict[str, tuple[str, tuple[str, ...]]]] = {}


class ObjectTypeMix(Strict):
    """How one object type is generated for a tenant; unset fields use the defaults."""

    per_user: float | None = Field(
        None, ge=0, le=1000, description="Objects of this type per user (vb365 fact 15)."
    )
    count: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Exact number of objects; wins over per_user."
    )
    mean_size: Size | None = Field(None, gt=0, description="Mean object size (> 0).")
    size_sigma: float | None = Field(
        None, ge=0, le=4, description="Lognormal sigma of sizes (0 = all equal)."
    )
    mean_item_size: Size | None = Field(
        None, gt=0, description="Mean item (mail, file) size (> 0)."
    )
    daily_change: Fraction | None = Field(None, description="Fraction of bytes changed per day.")


class TenantSpec(Strict):
    """A Microsoft 365 organisation: the source side of every job."""

    name: str = Field(description="Unique tenant name.")
    vb365_id: str | None = Field(
        None,
        max_length=200,
        description="The organization's ID in VB365 (REST `id`, PowerShell `Id`), kept by `poolsim "
        "import` so that exported sessions map back to it. Not used by the model.",
    )
    users: int = Field(
        ge=1,
        le=MAX_COUNT,
        description="Licensed users; drives object generation (at most 10^9).",
    )
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
        None, gt=0, description="Tenant-wide read cap across all workloads (none by default; > 0)."
    )
    workload_caps: dict[Workload, PositiveRate] = Field(
        default_factory=dict, description="Tenant-wide read cap per workload (> 0)."
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
        None,
        gt=0,
        description="Tenant-wide write cap (> 0) for restores, e.g. '400 GB/h' (vb365 fact 22).",
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
    exchange_api: Literal["ews", "graph"] = Field(
        d.EXCHANGE_API,
        description="How Exchange is read: 'ews' (VB365 8.x, vb365 fact 23: per-account "
        "concurrency and burst/recharge budgets, batched GetItem, ErrorServerBusy) or 'graph' "
        "(the mailbox export API, at most 20 items per request, 10,000 requests per 10 min and "
        "mailbox, the per-app global limit, 429 with Retry-After; facts 25, 42-43). A timeline "
        "event 'exchange_api' switches it on a date (EWS is retired from 1 October 2026, fact 40).",
    )
    ews_accounts: int = Field(
        d.EWS_ACCOUNTS,
        ge=1,
        le=1000,
        description="Backup accounts whose EWS budgets the tenant's Exchange backup spreads over "
        "(INFERRED default 3, calibrated, vb365 fact 27); each adds 27 connections and one "
        "burst/recharge budget.",
    )
    ews_max_concurrency: int = Field(
        d.EWS_MAX_CONCURRENCY,
        ge=1,
        description="EWSMaxConcurrency per account (Exchange Online default 27, vb365 fact 24).",
    )
    ews_recharge_ms_per_h: float = Field(
        d.EWS_RECHARGE_MS_PER_H,
        gt=0,
        description="EwsRechargeRate per account, ms of server time per hour (INFERRED: the "
        "on-premises default 900,000; Exchange Online's is not published).",
    )
    ews_max_burst_ms: float = Field(
        d.EWS_MAX_BURST_MS,
        gt=0,
        description="EwsMaxBurst per account, ms of server time (INFERRED: on-premises 300,000).",
    )
    ews_cutoff_balance_ms: float = Field(
        d.EWS_CUTOFF_BALANCE_MS,
        ge=0,
        description="EwsCutoffBalance, ms of server time the budget may owe before every request "
        "is refused (INFERRED: on-premises 3,000,000).",
    )
    ews_server_ms_per_request: float = Field(
        d.EWS_SERVER_MS_PER_REQUEST,
        gt=0,
        description="Server time one batched EWS request charges to its account's budget, ms "
        "(INFERRED).",
    )
    ews_items_per_request: int = Field(
        d.EWS_ITEMS_PER_REQUEST,
        ge=1,
        le=1000,
        description="Items per batched EWS GetItem request (INFERRED).",
    )
    ews_backoff: Duration = Field(
        d.EWS_BACKOFF_S,
        gt=0,
        description="Back-off hint of ErrorServerBusy (INFERRED, 5-60 s range).",
    )
    graph_items_per_request: int = Field(
        d.GRAPH_ITEMS_PER_REQUEST,
        ge=1,
        le=20,
        description="Items per exportItems request (at most 20, vb365 fact 42).",
    )
    graph_app_requests_per_10s: float = Field(
        d.GRAPH_APP_REQUESTS_PER_10S,
        gt=0,
        description="Microsoft Graph global limit per app, requests per 10 s (130,000, vb365 fact "
        "25), applied per tenant.",
    )
    retry_jitter: Fraction = Field(
        d.RETRY_JITTER,
        description="A throttled thread waits Retry-After x (1 + U(0, jitter)), so threads retry "
        "apart (INFERRED).",
    )
    ru_day_start: Clock = Field(
        d.RU_DAY_START_S,
        description="Start of the SharePoint/OneDrive daily RU budget window (INFERRED: "
        "midnight; Microsoft does not say whether the day is a calendar day).",
    )


class ProxySpec(Strict):
    """A backup proxy server."""

    name: str = Field(description="Unique proxy name.")
    vb365_id: str | None = Field(
        None,
        max_length=200,
        description="The proxy's ID in VB365 (REST `id`, PowerShell `Id`), kept by `poolsim "
        "import` so that exported sessions map back to it. Not used by the model.",
    )
    dns: str | None = Field(None, description="DNS name (default: the name); unique.")
    os: Literal["windows", "linux"] = Field("windows", description="Linux is ~20 % more efficient.")
    cores: int = Field(d.PROXY_CORES, ge=1, le=256, description="CPU cores.")
    ram: Size = Field(
        float(d.PROXY_RAM_BYTES),
        gt=0,
        description="Memory (> 0): the proxy runs at most (ram - calibration.ram_base) / "
        "calibration.ram_per_thread threads (at least one).",
    )
    threads: int = Field(
        d.PROXY_THREADS,
        ge=1,
        le=4096,
        description="Thread slots; one object per thread (fewer if ram cannot hold them).",
    )
    throttle: Rate | None = Field(
        None,
        gt=0,
        description="Network throttle on inbound traffic (> 0; leave it out for no throttle: "
        "0 is refused, not read as 'off').",
    )
    processing_rate: Rate | None = Field(
        None,
        gt=0,
        description="Processing capacity (> 0); default cores x bps_per_core x OS efficiency.",
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
    vb365_id: str | None = Field(
        None,
        max_length=200,
        description="The proxy pool's ID in VB365 (REST `id`, PowerShell `Id`), kept by `poolsim "
        "import` so that exported sessions map back to it. Not used by the model.",
    )
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
    vb365_id: str | None = Field(
        None,
        max_length=200,
        description="The repository's ID in VB365 (REST `id`, PowerShell `Id`), kept by `poolsim "
        "import` so that exported sessions map back to it. Not used by the model.",
    )
    kind: RepositoryKind = Field(
        "s3", description="Object-storage type, or 'local' disk (standalone proxies only)."
    )
    owner: str = Field(description="The pool or standalone proxy that owns it.")
    write_bandwidth: Rate = Field(
        d.REPOSITORY_WRITE_BPS, gt=0, description="Write bandwidth (default: a 10 Gbps link)."
    )
    put_rate: CountRate | None = Field(
        None,
        gt=0,
        description="PUT requests per second (default: 3,500 for S3, 20,000 for Azure).",
    )
    read_bandwidth: Rate = Field(
        d.REPOSITORY_WRITE_BPS, gt=0, description="Read bandwidth (backup copy source, restores)."
    )
    get_rate: CountRate | None = Field(
        None,
        gt=0,
        description="GET requests per second (default: 5,500 for S3, 20,000 for Azure).",
    )
    compression: dict[Workload, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=dict,
        description="Stored / source bytes per workload, in (0, 1] (vb365 fact 30).",
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
        None,
        min_length=1,
        description="Weekdays a daily schedule runs on (default: every day; not empty).",
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
    window: Duration | None = Field(
        None, gt=0, description="Backup window length from the start (> 0)."
    )
    allowed_hours: list[str] | None = Field(
        None,
        description="Allowed-hours grid (7x24): entries like 'mon-fri 20-06', 'sat-sun 00-24', "
        "'wed 22-23'. Sessions start only in allowed hours; with terminate_on_window they stop "
        "when the allowed block ends.",
    )
    terminate_on_window: bool = Field(
        False, description="Stop the session when it exceeds the window or the allowed hours."
    )


def _retry_wait(v: float) -> float:
    if not 60.0 <= v <= 999 * 60.0:
        raise ValueError(f"{v:g} s is outside 1-999 min, the retry waits the product allows")
    return v


class RetrySpec(Strict):
    """Retries of failed objects (vb365 fact 35: off by default; when on 3 attempts, 10 min)."""

    attempts: int = Field(3, ge=1, le=777, description="Retries after the first attempt.")
    wait: Annotated[Duration, AfterValidator(_retry_wait)] = Field(
        600.0,
        description="Wait before each retry round: 1-999 min, the range the product allows "
        "(vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/"
        "new-vbojobschedulepolicy.html).",
    )


class JobSpec(Strict):
    """A job: backup (tenant → repository), backup copy (repository → repository) or restore
    (repository → tenant)."""

    name: str = Field(description="Unique job name.")
    vb365_id: str | None = Field(
        None,
        max_length=200,
        description="The job's ID in VB365 (REST `id`, PowerShell `Id`), kept by `poolsim "
        "import` so that exported sessions map back to it. Not used by the model.",
    )
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

    thread_rate: dict[Workload, PositiveRate] = Field(
        default_factory=dict, description="Per-thread transfer ceiling (> 0)."
    )
    items_per_s: dict[Workload, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Per-thread item ceiling (> 0)."
    )
    object_overhead: dict[Workload, Duration] = Field(
        default_factory=dict, description="Fixed time per object on its thread."
    )
    bps_per_core: Rate = Field(
        d.PROXY_BPS_PER_CORE, gt=0, description="Processing per core (Windows; > 0)."
    )
    linux_efficiency: float = Field(
        d.OS_EFFICIENCY["linux"], ge=1.0, le=2.0, description="Linux / Windows throughput."
    )
    cpu_per_object: dict[Workload, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="CPU seconds (one Windows core) per object in scope, changed or not "
        "(>= 0; INFERRED default, calibrated to the sizing rule).",
    )
    ram_base: Size = Field(
        float(d.PROXY_RAM_BASE_BYTES), description="Proxy memory used besides its threads."
    )
    ram_per_thread: Size = Field(
        float(d.PROXY_RAM_PER_THREAD_BYTES),
        gt=0,
        description="Proxy memory per active thread (> 0; INFERRED).",
    )
    change_probability: dict[ObjectType, Fraction] = Field(
        default_factory=dict,
        description="Probability that an object changes on a day (INFERRED defaults); a "
        "changed object carries daily_change / probability of its bytes.",
    )
    resolve_cpu_per_object: Annotated[float, Field(ge=0)] = Field(
        d.RESOLVE_CPU_PER_OBJECT_S,
        description="CPU seconds (one Windows core) the pool's Scheduler, or the standalone "
        "proxy, spends resolving each object in scope; the work holds one of its cores, so its "
        "own objects wait meanwhile (>= 0; INFERRED, 0 turns it off).",
    )
    metadata_cpu_per_object: Annotated[float, Field(ge=0)] = Field(
        d.METADATA_CPU_PER_OBJECT_S,
        description="CPU seconds (one Windows core) the pool's Orchestrator, or the standalone "
        "proxy, spends on each processed object's metadata; the work holds one of its cores "
        "(>= 0; INFERRED, 0 turns it off).",
    )
    resolve_base: Duration = Field(d.RESOLVE_BASE_S, description="Resolve phase, fixed part.")
    resolve_per_object: Duration = Field(
        d.RESOLVE_PER_OBJECT_S,
        description="Resolve phase, wall time per object in scope besides its CPU (listing "
        "the objects in Microsoft 365).",
    )
    metadata_ios_per_object: Annotated[float, Field(ge=0)] = Field(
        d.METADATA_IOS_PER_OBJECT,
        description="Configuration-database I/O operations per processed object in a "
        "session's metadata phase (>= 0; INFERRED: 10 is 2 ms per object on a 5,000-IOPS "
        "database).",
    )
    db_iops: Annotated[float, Field(gt=0)] = Field(
        d.DB_IOPS,
        description="I/O operations per second of the PostgreSQL configuration database, "
        "shared equally by the sessions syncing metadata at once (> 0; vb365 fact 17: at "
        "least 5,000).",
    )
    db_connections: int = Field(
        d.DB_CONNECTIONS,
        ge=1,
        description="Connections the configuration database accepts; a session syncing "
        "metadata holds one, the others queue (vb365 fact 17: max_connections = 1000).",
    )
    restore_point: Duration = Field(d.RESTORE_POINT_S, description="Restore point creation.")
    change_sigma: float = Field(
        0.5, ge=0, le=3, description="Lognormal sigma of each day's change around its mean."
    )

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in _REMOVED_CALIBRATION.items():
                if old in data:
                    raise ValueError(f"calibration.{old} was removed: {new}")
        return data


_REMOVED_CALIBRATION = {
    "metadata_per_object": "the metadata phase now costs calibration.metadata_ios_per_object "
    "I/O operations per object on a database of calibration.db_iops (default 10 on 5,000 IOPS: "
    "2 ms per object when one session syncs); set those instead",
    "db_concurrent_sessions": "the configuration database is modelled from its IOPS "
    "(calibration.db_iops, shared by the sessions syncing at once) and its connections "
    "(calibration.db_connections, default 1000); set those instead",
}
"""Calibration fields that no longer exist -> what replaces them (a clear error, not 'extra')."""


DEFAULT_START_DATE = date(2024, 1, 1)
"""A Monday: the default ``simulation.start`` is midnight UTC of the first day on or after it
that falls on ``start_weekday``."""


def _start(v: object) -> str:
    """An ISO 8601 date-time with a zone, at midnight of its zone (the start of day 1)."""
    if isinstance(v, datetime):
        v = v.isoformat()
    if not isinstance(v, str):
        raise ValueError(f"{v!r} is not a date-time: use e.g. '2026-03-02T00:00:00+01:00'")
    try:
        dt = datetime.fromisoformat(v.strip())
    except ValueError:
        raise ValueError(
            f"{v!r} is not an ISO 8601 date-time: use e.g. '2026-03-02T00:00:00+01:00' or "
            "'2026-03-02T00:00:00Z'"
        ) from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"{v!r} has no time zone: add 'Z' (UTC) or the estate's offset, e.g. '+01:00'"
        )
    if dt.timetz().replace(tzinfo=None) != time(0):
        raise ValueError(
            f"{v!r} is not a midnight: simulated time 0 is the midnight (in the estate's own "
            "time zone) that starts day 1, e.g. '2026-03-02T00:00:00+01:00'"
        )
    return dt.isoformat()


StartTime = Annotated[
    str,
    BeforeValidator(_start),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 date-time with a zone at midnight, e.g. "
            "'2026-03-02T00:00:00+01:00'",
        }
    ),
]


class SimulationSpec(Strict):
    """How long to simulate and how to record it."""

    days: int = Field(1, ge=1, le=366, description="Days simulated; day 1 is the first full.")
    start_weekday: Weekday = Field(
        "mon", description="Weekday of day 1 (with `start`: the weekday of its date)."
    )
    start: StartTime | None = Field(
        None,
        description="The date-time of simulated time 0: the midnight, with the estate's time "
        "zone, that starts day 1 (e.g. '2026-03-02T00:00:00+01:00'); schedule clock times are "
        "in that zone. Only the timestamps of jobsessions.json use it (UTC). Default: "
        "midnight UTC of the first day on or after Monday 2024-01-01 that falls on "
        "`start_weekday`. Its weekday must be `start_weekday` when both are given.",
    )

    @model_validator(mode="before")
    @classmethod
    def _weekday_of_start(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("start") is None:
            return data
        try:
            day = WEEKDAYS[datetime.fromisoformat(_start(data["start"])).weekday()]
        except ValueError:
            return data  # the field's own validator says what is wrong
        given = data.get("start_weekday")
        if given is None:
            return {**data, "start_weekday": day}
        if given != day:
            raise ValueError(
                f"simulation.start {data['start']!r} is a {day}, but start_weekday is "
                f"{given!r}: leave start_weekday out or make them agree"
            )
        return data

    initial_state: Literal["empty", "protected"] = Field(
        "empty",
        description="'empty': day 1 is the initial full. 'protected': every object was backed up "
        "(and copied) the day before day 1, so the first sessions are incrementals — the "
        "steady-state nightly question.",
    )
    bucket: Duration = Field(300.0, gt=0, description="Time-series bucket width (> 0).")


class SizeDistribution(Strict):
    """Task sizes of a synthetic workload (bytes; the service time is size / rate)."""

    distribution: Literal[
        "exponential", "deterministic", "lognormal", "hyperexponential", "pareto", "empirical"
    ] = Field("exponential", description="Family.")
    mean: Size | None = Field(None, gt=0, description="Mean size (all but empirical; > 0).")
    scv: float | None = Field(
        None,
        gt=0,
        description="Squared coefficient of variation (lognormal, hyperexponential: balanced "
        "means H2, needs scv >= 1).",
    )
    alpha: float | None = Field(None, gt=1, description="Pareto shape (> 1).")
    values: list[PositiveSize] | None = Field(
        None,
        min_length=1,
        description="Empirical sizes (> 0), drawn uniformly with replacement.",
    )


class ArrivalSpec(Strict):
    """Arrivals of a synthetic workload."""

    process: Literal["poisson", "trace"] = Field("poisson", description="Arrival process.")
    rate: CountRate | None = Field(
        None, gt=0, description="Poisson arrival rate (tasks per second; > 0)."
    )
    trace: str | None = Field(
        None,
        description="CSV with columns time[,size] (seconds, bytes), relative to the scenario "
        "file; replaces rate and sizes.",
    )


class VacationSpec(Strict):
    """Multiple vacations: a proxy that finds nothing to do leaves for a vacation V, and for
    another if still nothing waits when it returns (Fuhrmann & Cooper, Oper. Res. 33(5), 1985)."""

    distribution: Literal["exponential", "deterministic"] = Field(
        "exponential", description="Law of V."
    )
    mean: Duration = Field(gt=0, description="Mean vacation length (> 0).")


class InterruptionSpec(Strict):
    """Service interruptions independent of load: each proxy alternates up periods exp(mean_up)
    and down periods exp(mean_down), during which it serves nothing (preemptive resume;
    Avi-Itzhak & Naor, Oper. Res. 11(3), 1963)."""

    mean_up: Duration = Field(gt=0, description="Mean up period (> 0).")
    mean_down: Duration = Field(gt=0, description="Mean down period (> 0).")


class SyntheticSpec(Strict):
    """Synthetic mode: Poisson or trace-driven tasks with no Microsoft 365 side, to check the
    engine and the policies against queueing theory (docs/model.md, 'Synthetic mode')."""

    target: str = Field(description="The pool or standalone proxy the tasks arrive at.")
    arrivals: ArrivalSpec = Field(description="Arrival process.")
    sizes: SizeDistribution = Field(
        default_factory=SizeDistribution, description="Task sizes (ignored with a trace)."
    )
    tasks: int = Field(1000, ge=1, le=MAX_COUNT, description="Number of arrivals (Poisson).")
    service: Literal["threads", "processor_sharing"] = Field(
        "threads",
        description="'threads': each thread serves one task at thread_rate (FCFS servers); "
        "'processor_sharing': a proxy's processing rate is shared equally by its tasks in "
        "service (at most 'threads' of them; the rest wait).",
    )
    thread_rate: Rate | None = Field(
        None,
        gt=0,
        description="'threads': the rate of one thread (default 1 MB/s). 'processor_sharing': an "
        "optional per-task ceiling, so k tasks on a proxy of rate C get min(thread_rate, C/k) "
        "each (Kelly's symmetric M/G/c-PS); unlimited when not given.",
    )
    warmup_tasks: int = Field(
        0,
        ge=0,
        le=MAX_COUNT,
        description="Arrivals before the measured ones (not counted in summaries).",
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
    "exchange_api",
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
    tenant: str | None = Field(None, description="The tenant (exchange_api).")
    api: Literal["ews", "graph"] | None = Field(
        None, description="The tenant's Exchange path from then on (exchange_api)."
    )


class LifecycleSpec(Strict):
    """How the pool lifecycle treats in-flight work and roles (vb365 facts 2, 6-8)."""

    in_flight: Literal["drain", "handoff", "restart"] = Field(
        "handoff",
        description="Running objects of a member entering maintenance. 'handoff' (default, the "
        "product's behaviour, vb365 fact 6: 'continued smoothly by another'): they continue "
        "from their last checkpoint on another active member, at once on a free thread, else "
        "on the next thread that frees, before any queued object. 'drain' (the product's "
        "Enabling phase): they may finish there for at most 'drain_timeout', then what still "
        "runs is handed off. 'restart' (a what-if, pessimistic, not product behaviour): they "
        "are handed off like 'handoff' but start over, all progress redone. Queued work always "
        "moves at once.",
    )
    drain_timeout: Duration = Field(
        d.DRAIN_TIMEOUT_S,
        gt=0,
        description="'drain' mode: how long the Enabling phase lets running objects finish "
        "before the rest is handed off (> 0; INFERRED default 10 min, the product publishes "
        "none).",
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


class DurationLaw(Strict):
    """A random duration: its law, mean and (lognormal) spread."""

    distribution: Literal["exponential", "lognormal", "deterministic"] = Field(
        "exponential",
        description="Law: 'exponential' (memoryless), 'lognormal' (needs sigma) or "
        "'deterministic' (always the mean).",
    )
    mean: Duration = Field(gt=0, description="Mean duration (> 0), e.g. '2000h', '4h'.")
    sigma: float | None = Field(
        None,
        gt=0,
        le=4,
        description="'lognormal' only (and needed there): standard deviation of the log of the "
        "duration, in (0, 4]; the law's mean stays 'mean'.",
    )


class FailureSpec(Strict):
    """Random crashes of proxies: each proxy named alternates an up time drawn from 'mtbf' and
    a repair time drawn from 'mttr' (an alternating renewal process from time 0). A failure
    is a 'fail' request (running objects lose the progress since their last checkpoint and
    fail with reason proxy_crash; the job's retry processes them again), the repair a
    'recover'. A failure that falls while the proxy is in maintenance or already failed does
    not happen (its service is stopped); the next up time counts from the end of that repair
    time. Draws come from the proxy's own random stream, so every policy compared on a seed
    sees the same failures (common random numbers)."""

    proxies: list[str] | None = Field(
        None, min_length=1, description="Proxies that fail (default: every proxy)."
    )
    mtbf: DurationLaw = Field(description="Time between failures: from a recovery (or the start).")
    mttr: DurationLaw = Field(description="Time to repair: from a failure to its recovery.")


class MaintenanceRotationSpec(Strict):
    """Rotating maintenance: each member of a pool in turn goes into maintenance for 'duration'
    (maintenance_on, then maintenance_off), the next one 'interval' after the previous one
    started, for 'cycles' passes over the members. The requests follow the same rules as
    timeline requests (refused ones are errors)."""

    pool: str = Field(description="The pool whose members rotate.")
    members: list[str] | None = Field(
        None, min_length=1, description="Members in rotation order (default: the pool's)."
    )
    at: Clock = Field(description="Clock time the first member goes into maintenance.")
    day: int = Field(1, ge=1, description="Day of the first one (1 = the first simulated day).")
    interval: Duration = Field(
        gt=0, description="From one member's maintenance start to the next one's (> 0)."
    )
    duration: Duration = Field(
        gt=0, description="Each member's maintenance length (> 0, at most 'interval')."
    )
    cycles: int = Field(1, ge=1, le=10_000, description="Passes over the members.")


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
    failures: list[FailureSpec] = Field(
        default_factory=list,
        description="Random proxy crashes and repairs (MTBF/MTTR laws), on top of the timeline.",
    )
    maintenance_rotations: list[MaintenanceRotationSpec] = Field(
        default_factory=list,
        description="Rotating maintenance: each member of a pool in turn, for a duration.",
    )
    simulation: SimulationSpec = Field(
        default_factory=SimulationSpec, description="Run length and recording."
    )


def start_instant(sim: SimulationSpec) -> datetime:
    """The aware date-time of simulated time 0 (``simulation.start`` or its default)."""
    if sim.start is not None:
        return datetime.fromisoformat(sim.start)
    offset = (WEEKDAYS.index(sim.start_weekday) - DEFAULT_START_DATE.weekday()) % 7
    day = DEFAULT_START_DATE + timedelta(days=offset)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
