"""The parameters ``poolsim calibrate`` can fit: INFERRED fields of a scenario's ``calibration:``
section (docs/calibrate.md, "What is fitted").

Every parameter is fitted as a multiplier ``m = exp(x)`` on its starting value (the scenario's
own value, else the default of ``sim/defaults.py``): ``x`` is the fit's coordinate, bounded to
``[-log BOUND, log BOUND]``. A per-workload field is one parameter for all its workloads
(``cpu_per_object``: one multiplier on every workload's value) or one per workload
(``cpu_per_object.exchange``).
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
Microsoft 365 budget rates and Retry-After waits are per-tenant fields, not in ``calibration:``;
they are not fitted (docs/calibrate.md)."""


@dataclass(frozen=True)
class FitParam:
    """One fitted parameter: a ``calibration:`` field, for all or one of its workloads."""

    name: str
    field: str
    workloads: tuple[str, ...]
    """The workloads it multiplies (empty for a scalar field)."""
    unit: str
    what: str

    def start(self, spec: Scenario) -> dict[str, float]:
        """The starting values: ``{workload: value}``, or ``{"": value}`` for a scalar."""
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


def names() -> list[str]:
    """Every name ``--fit`` accepts."""
    out = list(_SCALAR)
    for f in _PER_WORKLOAD:
        out += [f, *(f"{f}.{w}" for w in d.WORKLOADS)]
    return sorted(out)


def workloads_of(spec: Scenario) -> tuple[str, ...]:
    """The workloads the scenario's jobs back up, in the defaults' order."""
    used = {w for j in spec.jobs for w in j.workloads}
    return tuple(w for w in d.WORKLOADS if w in used)


def resolve(spec: Scenario, wanted: Sequence[str] | None) -> list[FitParam]:
    """The parameters named by ``--fit`` (None: ``DEFAULT_FIT``); ScenarioError (exit 2) for an
    unknown name (with did-you-mean), a duplicate, a workload no job backs up, or a starting
    value of 0 (a multiplier cannot move it)."""
    chosen = list(wanted) if wanted else list(DEFAULT_FIT)
    present = workloads_of(spec)
    out: list[FitParam] = []
    problems: list[Problem] = []
    for raw in chosen:
        name = raw.strip()
        field, _, workload = name.partition(".")
        if name not in names():
            problems.append(
                Problem(
                    "--fit",
                    None,
                    None,
                    name,
                    "not a parameter calibrate can fit"
                    + did_you_mean(name, names())
                    + f"; allowed: {', '.join(names())}",
                )
            )
            continue
        if any(p.name == name for p in out):
            problems.append(Problem("--fit", None, None, name, "named twice"))
            continue
        if field in _SCALAR:
            unit, what = _SCALAR[field]
            p = FitParam(name, field, (), unit, what)
        else:
            _, unit, what = _PER_WORKLOAD[field]
            if workload and workload not in present:
                problems.append(
                    Problem(
                        "--fit",
                        None,
                        None,
                        name,
                        f"no job of the scenario backs up {workload} (its workloads: "
                        f"{', '.join(present)}): the sessions cannot say anything about it",
                    )
                )
                continue
            p = FitParam(name, field, (workload,) if workload else present, unit, what)
        if any(v <= 0 for v in p.start(spec).values()):
            problems.append(
                Problem(
                    "--fit",
                    None,
                    None,
                    name,
                    f"its starting value is 0 (calibration.{field}): the fit multiplies the "
                    "starting value, so set a positive one first",
                )
            )
            continue
        out.append(p)
    overlap = {p.field for p in out if not p.workloads or len(p.workloads) > 1} & {
        p.field for p in out if p.name != p.field
    }
    for field in sorted(overlap):
        problems.append(
            Problem(
                "--fit",
                None,
                None,
                field,
                f"'{field}' (all workloads) and a '{field}.<workload>' are both named: fit one "
                "or the other",
            )
        )
    if problems:
        raise ScenarioError(problems)
    return out


def apply(spec: Scenario, params: Sequence[FitParam], x: Sequence[float]) -> Scenario:
    """The scenario with the calibration values at coordinates ``x`` (no revalidation: the
    values stay positive and finite by construction)."""
    cal = spec.calibration
    update: dict[str, Any] = {}
    for p, xi in zip(params, x, strict=True):
        vals = p.values(spec, float(xi))
        if not p.workloads:
            update[p.field] = vals[""]
        else:
            merged = dict(update.get(p.field, getattr(cal, p.field)))
            merged.update(vals)
            update[p.field] = merged
    return spec.model_copy(update={"calibration": cal.model_copy(update=update)})


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
        vals = p.values(spec, float(xi))
        if not p.workloads:
            data[p.field] = yaml_value(p.unit, vals[""])
        else:
            sub = dict(data.get(p.field) or {})
            for w, v in vals.items():
                sub[w] = yaml_value(p.unit, v)
            data[p.field] = sub
    return data
