"""The parameters ``poolsim calibrate`` can fit: INFERRED fields of a scenario's ``calibration:``
section and the per-tenant Microsoft 365 budget rates and waits (docs/calibrate.md, "What is
fitted").

Every parameter is fitted as a multiplier ``m = exp(x)`` on its starting value (the scenario's
own value, else the default of ``sim/defaults.py``): ``x`` is the fit's coordinate, bounded to
``[-log BOUND, log BOUND]``. A per-workload field is one parameter for all its workloads
(``cpu_per_object``: one multiplier on every workload's value) or one per workload
(``cpu_per_object.exchange``). A per-tenant field (``tenants.ews_recharge_ms_per_h``) is one
parameter for every tenant: one multiplier on each tenant's own value (its default when unset),
written back into every tenant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim import defaults as d
from sim.errors import Problem, ScenarioError
from sim.scenario.schema import Scenario
from sim.scenario.suggest import did_you_mean

BOUND = 10.0
"""A fitted value lies within [start / BOUND, start x BOUND]."""

_PER_WORKLOAD: dict[str, tuple[str, str, str]] = {
    "cpu_per_object": (
        "CPU_PER_OBJECT_S_OF_WORKLOAD",
        "CPU s",
        "proxy CPU per object in scope, changed or not (the per-object scan cost)",
    ),
    "object_overhead": (
        "OBJECT_OVERHEAD_S_OF_WORKLOAD",
        "s",
        "fixed time per processed object on its thread",
    ),
    "thread_rate": ("THREAD_BPS_OF_WORKLOAD", "B/s", "per-thread transfer ceiling"),
    "items_per_s": ("ITEMS_PER_S_OF_WORKLOAD", "items/s", "per-thread item ceiling"),
}

_SCALAR: dict[str, tuple[str, str]] = {
    "bps_per_core": ("B/s", "proxy processing per core (1 / the CPU cost per byte)"),
    "resolve_base": ("s", "resolve phase, fixed part"),
    "resolve_per_object": ("s", "resolve phase, per object in scope"),
    "metadata_ios_per_object": ("I/O", "configuration-database I/O per processed object"),
    "db_iops": ("IOPS", "I/O operations per second of the configuration database"),
    "restore_point": ("s", "restore point creation at session end"),
    "resolve_cpu_per_object": ("CPU s", "role holder's CPU per object resolved"),
    "metadata_cpu_per_object": ("CPU s", "role holder's CPU per processed object's metadata"),
}

_PER_TENANT: dict[str, tuple[str, str]] = {
    "ews_recharge_ms_per_h": ("ms/h", "EWS budget recharge per backup account (EwsRechargeRate)"),
    "sharepoint_ru_per_min": ("RU/min", "SharePoint/OneDrive resource units per minute"),
    "retry_after": ("s", "Retry-After of a 429 answer under request-level throttling"),
    "ews_backoff": ("s", "back-off hint of EWS ErrorServerBusy"),
}
"""Per-tenant fields ``--fit`` accepts as ``tenants.<field>`` (schema: TenantSpec)."""

TENANT_PREFIX = "tenants."

DEFAULT_FIT: tuple[str, ...] = (
    "cpu_per_object",
    "bps_per_core",
    "object_overhead",
    "thread_rate",
    "items_per_s",
    "resolve_per_object",
    "resolve_cpu_per_object",
    "metadata_ios_per_object",
)
"""What ``--fit`` defaults to: the ``calibration:`` fields among the INFERRED defaults the
calibration suite names (sim/bench/calibration/targets.py, INFERRED_CHECKS and its sizing
notes): per-object CPU (scan) cost, CPU cost per byte, per-object thread overhead, per-thread
rate and item ceiling, resolve wall time and CPU per object, metadata I/O per object. The
default adds the per-tenant fields the suite names where they can matter (``default_fit``).
"""


def _backed_up(spec: Scenario) -> list[tuple[Any, set[str]]]:
    """(tenant spec, the workloads backup jobs read from it), for every tenant a job backs up."""
    used: dict[str, set[str]] = {}
    for j in spec.jobs:
        if j.type == "backup":
            used.setdefault(j.tenant, set()).update(j.workloads)
    return [(t, used[t.name]) for t in spec.tenants if t.name in used]


def _ews_path(spec: Scenario, tenant: Any) -> bool:
    """The tenant reads Exchange through EWS at some point of the run (its own setting or a
    timeline switch)."""
    return tenant.exchange_api == "ews" or any(
        e.action == "exchange_api" and e.tenant == tenant.name and e.api == "ews"
        for e in spec.timeline
    )


def tenant_field_matters(spec: Scenario, field: str) -> str | None:
    """None when a per-tenant ``field`` can change the sessions of ``spec``; else why not."""
    tenants = _backed_up(spec)
    if field in ("ews_recharge_ms_per_h", "ews_backoff"):
        if any("exchange" in w and _ews_path(spec, t) for t, w in tenants):
            return None
        return "no backup job reads Exchange through EWS"
    if field == "sharepoint_ru_per_min":
        if any(w & {"onedrive", "sharepoint"} for t, w in tenants):
            return None
        return "no backup job reads OneDrive or SharePoint"
    # retry_after: the 429 answers of request-level throttling (RU, Teams, Graph budgets)
    if any(
        t.throttling == "request"
        and (
            w & {"onedrive", "sharepoint", "teams"} or ("exchange" in w and t.exchange_api != "ews")
        )
        for t, w in tenants
    ):
        return None
    return (
        "no backed-up tenant has throttling: request on OneDrive, SharePoint, Teams or Exchange "
        "through Graph (the only 429 answers with Retry-After)"
    )


TENANT_DEFAULT_FIT: tuple[str, ...] = (
    "tenants.ews_recharge_ms_per_h",
    "tenants.sharepoint_ru_per_min",
    "tenants.retry_after",
)
"""Per-tenant fields the default adds, each only where ``tenant_field_matters``: the EWS and
SharePoint/OneDrive budget rates (the suite's throttling targets,
``throttling.incremental_request_share`` and ``throttling.sharepoint_ru_per_min_40k``) and the
Retry-After wait (RETRY_AFTER_S in INFERRED_CHECKS). ``tenants.ews_backoff`` is fitted only when
named: no target checks it."""


def default_fit(spec: Scenario) -> list[str]:
    """What ``--fit`` defaults to for ``spec``: ``DEFAULT_FIT``, then each of
    ``TENANT_DEFAULT_FIT`` whose field can change the scenario's sessions."""
    return list(DEFAULT_FIT) + [
        n for n in TENANT_DEFAULT_FIT if tenant_field_matters(spec, n[len(TENANT_PREFIX) :]) is None
    ]


def tenant_value(tenant: Any, field: str) -> float:
    """A tenant's value of a per-tenant field, its default when unset (SharePoint/OneDrive RU:
    by licence tier)."""
    if field == "sharepoint_ru_per_min":
        from sim.model.tenant import sharepoint_ru_per_min

        return sharepoint_ru_per_min(tenant)
    return float(getattr(tenant, field))


@dataclass(frozen=True)
class FitParam:
    """One fitted parameter: a ``calibration:`` field, for all or one of its workloads, or a
    per-tenant field for every tenant."""

    name: str
    field: str
    workloads: tuple[str, ...]
    """The workloads it multiplies (empty for a scalar field)."""
    unit: str
    what: str
    tenants: tuple[str, ...] = ()
    """The tenants it multiplies (a per-tenant field; ``workloads`` is then empty)."""

    def start(self, spec: Scenario) -> dict[str, float]:
        """The starting values: ``{workload: value}``, ``{tenant: value}`` for a per-tenant
        field, or ``{"": value}`` for a scalar."""
        if self.tenants:
            return {
                t.name: tenant_value(t, self.field) for t in spec.tenants if t.name in self.tenants
            }
        cal = spec.calibration
        if not self.workloads:
            return {"": float(getattr(cal, self.field))}
        own: dict[str, float] = getattr(cal, self.field)
        table: dict[str, float] = getattr(d, _PER_WORKLOAD[self.field][0])  # read now
        return {w: float(own.get(w, table[w])) for w in self.workloads}

    def values(self, spec: Scenario, x: float) -> dict[str, float]:
        """The values at coordinate ``x`` (multiplier ``exp(x)``)."""
        m = math.exp(x)
        return {k: v * m for k, v in self.start(spec).items()}

    def where(self, key: str) -> str:
        """The scenario field a start key is written to (``tenants[contoso].retry_after``,
        ``calibration.cpu_per_object.exchange``)."""
        if self.tenants:
            return f"tenants[{key}].{self.field}"
        return f"calibration.{self.field}" + (f".{key}" if key else "")


def names() -> list[str]:
    """Every name ``--fit`` accepts."""
    out = list(_SCALAR)
    for f in _PER_WORKLOAD:
        out += [f, *(f"{f}.{w}" for w in d.WORKLOADS)]
    out += [TENANT_PREFIX + f for f in _PER_TENANT]
    return sorted(out)


def workloads_of(spec: Scenario) -> tuple[str, ...]:
    """The workloads the scenario's jobs back up, in the defaults' order."""
    used = {w for j in spec.jobs for w in j.workloads}
    return tuple(w for w in d.WORKLOADS if w in used)


def resolve(spec: Scenario, wanted: Sequence[str] | None) -> list[FitParam]:
    """The parameters named by ``--fit`` (None: ``default_fit``); ScenarioError (exit 2) for an
    unknown name (with did-you-mean), a duplicate, a workload no job backs up, a per-tenant
    field that cannot change the sessions, or a starting value of 0 (a multiplier cannot move
    it)."""
    chosen = list(wanted) if wanted else default_fit(spec)
    present = workloads_of(spec)
    out: list[FitParam] = []
    problems: list[Problem] = []

    def refuse(name: str, why: str) -> None:
        problems.append(Problem("--fit", None, None, name, why))

    for raw in chosen:
        name = raw.strip()
        field, _, workload = name.partition(".")
        if name not in names():
            refuse(
                name,
                "not a parameter calibrate can fit"
                + (
                    f" (did you mean '{TENANT_PREFIX}{name}'? a per-tenant field)"
                    if name in _PER_TENANT
                    else did_you_mean(name, names())
                )
                + f"; allowed: {', '.join(names())}",
            )
            continue
        if any(p.name == name for p in out):
            refuse(name, "named twice")
            continue
        if field == TENANT_PREFIX.rstrip("."):
            field = workload
            why = tenant_field_matters(spec, field)
            if why is not None:
                refuse(name, f"{why}: the sessions cannot say anything")
                continue
            unit, what = _PER_TENANT[field]
            p = FitParam(name, field, (), unit, what, tuple(t.name for t in spec.tenants))
        elif field in _SCALAR:
            unit, what = _SCALAR[field]
            p = FitParam(name, field, (), unit, what)
        else:
            _, unit, what = _PER_WORKLOAD[field]
            if workload and workload not in present:
                refuse(
                    name,
                    f"no job of the scenario backs up {workload} (its workloads: "
                    f"{', '.join(present)}): the sessions cannot say anything about it",
                )
                continue
            p = FitParam(name, field, (workload,) if workload else present, unit, what)
        if any(v <= 0 for v in p.start(spec).values()):
            refuse(
                name,
                f"its starting value is 0 (calibration.{p.field}): the fit multiplies the "
                "starting value, so set a positive one first",
            )
            continue
        out.append(p)
    cal_params = [p for p in out if not p.tenants]
    overlap = {p.field for p in cal_params if not p.workloads or len(p.workloads) > 1} & {
        p.field for p in cal_params if p.name != p.field
    }
    for field in sorted(overlap):
        refuse(
            field,
            f"'{field}' (all workloads) and a '{field}.<workload>' are both named: fit one "
            "or the other",
        )
    if problems:
        raise ScenarioError(problems)
    return out


def apply(spec: Scenario, params: Sequence[FitParam], x: Sequence[float]) -> Scenario:
    """The scenario with the calibration values at coordinates ``x`` (no revalidation: the
    values stay positive and finite by construction)."""
    cal = spec.calibration
    update: dict[str, Any] = {}
    per_tenant: dict[str, dict[str, float]] = {}
    for p, xi in zip(params, x, strict=True):
        vals = p.values(spec, float(xi))
        if p.tenants:
            for t, v in vals.items():
                per_tenant.setdefault(t, {})[p.field] = v
        elif not p.workloads:
            update[p.field] = vals[""]
        else:
            merged = dict(update.get(p.field, getattr(cal, p.field)))
            merged.update(vals)
            update[p.field] = merged
    tenants = [
        t.model_copy(update=per_tenant[t.name]) if t.name in per_tenant else t for t in spec.tenants
    ]
    return spec.model_copy(
        update={"calibration": cal.model_copy(update=update), "tenants": tenants}
    )


def yaml_value(unit: str, value: float) -> str | float:
    """A value as the scenario writes it: a duration or rate with its unit (``7.25s``,
    ``1.31e+07 B/s``), a plain number otherwise (CPU seconds, items/s)."""
    if unit == "s":
        return f"{value:.6g}s"
    if unit == "B/s":
        return f"{value:.6g} B/s"
    return float(f"{value:.6g}")


def calibration_data(
    spec: Scenario, raw: dict[str, Any], params: Sequence[FitParam], x: Sequence[float]
) -> dict[str, Any]:
    """The scenario's raw ``calibration:`` mapping with the values at ``x`` set (YAML-ready)."""
    data: dict[str, Any] = dict(raw.get("calibration") or {})
    for p, xi in zip(params, x, strict=True):
        if p.tenants:
            continue  # written into the tenants (tenant_data)
        vals = p.values(spec, float(xi))
        if not p.workloads:
            data[p.field] = yaml_value(p.unit, vals[""])
        else:
            sub = dict(data.get(p.field) or {})
            for w, v in vals.items():
                sub[w] = yaml_value(p.unit, v)
            data[p.field] = sub
    return data


def tenant_data(
    spec: Scenario, params: Sequence[FitParam], x: Sequence[float]
) -> dict[str, dict[str, str | float]]:
    """``{tenant: {field: YAML value}}`` of the per-tenant parameters at ``x`` (every tenant
    gets an explicit value, also where it used the default)."""
    out: dict[str, dict[str, str | float]] = {}
    for p, xi in zip(params, x, strict=True):
        if p.tenants:
            for t, v in p.values(spec, float(xi)).items():
                out.setdefault(t, {})[p.field] = yaml_value(p.unit, v)
    return out
