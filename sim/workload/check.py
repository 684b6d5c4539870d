"""What ``validate`` checks beyond the scenario file: every CSV the run would read, and whether
the run fits in this machine's memory.

The estimate counts objects (generated counts, or inventory rows, plus daily growth) and tasks
(one per object in scope per session) and prices them with per-row costs measured on the shipped
scenarios (INFERRED constants below; see docs/model.md, "Refused inputs").
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
from dataclasses import dataclass, field

from sim import defaults as d
from sim.defaults import DAY_S
from sim.errors import Problem, ScenarioError
from sim.scenario.calendar import Calendar, start_times
from sim.scenario.horizon import horizon_s
from sim.scenario.loader import LoadedScenario
from sim.units import format_bytes

BASE_BYTES = 150e6
"""Memory of the interpreter with numpy, pandas and SimPy loaded: peak RSS of
scenarios/maintenance-drill.yaml (1,306 tasks) was 134 MB (INFERRED, measured 2026-12-05)."""
BYTES_PER_OBJECT = 400.0
"""Memory per object of the inventory: its columns, generation temporaries and per-object state
(INFERRED: with BYTES_PER_TASK it gives the measured 1.57 KB per object-and-task of
scenarios/enterprise-100k.yaml, 261,000 of each, peak RSS 543 MB)."""
BYTES_PER_BUCKET_COLUMN = 8.0 * 4
"""Memory per time-series bucket and column (a float64, with growth and the DataFrame copies)."""
BYTES_PER_TASK = 1200.0
"""Memory per task (one object in one session): the task table with its doubling growth, the
working arrays of the sharing engine and the DataFrames built at the end (INFERRED, see
BYTES_PER_OBJECT)."""


@dataclass(frozen=True)
class InputCheck:
    """What validate found: counts, the memory estimate and the limit, the plug-ins imported."""

    objects: int
    tasks: int
    memory_bytes: float
    limit_bytes: float
    series_bytes: float = 0.0
    """The time-series part of memory_bytes (buckets x columns)."""
    csv_files: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.memory_bytes <= self.limit_bytes

    def summary(self) -> str:
        return (
            f"{self.objects:,} objects, {self.tasks:,} tasks; estimated memory "
            f"{format_bytes(self.memory_bytes)} of {format_bytes(self.limit_bytes)} available"
        )


def memory_limit() -> float:
    """The smaller of physical memory and the process's address-space limit (bytes)."""
    limit = math.inf
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limit = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, float(soft))
    return limit


def _generated_counts(loaded: LoadedScenario, i: int) -> dict[str, int]:
    spec = loaded.spec.tenants[i]
    out: dict[str, int] = {}
    for otype in d.OBJECT_TYPES:
        mix = spec.objects.get(otype)
        if mix is not None and mix.count is not None:
            out[otype] = int(mix.count)
        else:
            per_user = d.OBJECTS_PER_USER[otype]
            if mix is not None and mix.per_user is not None:
                per_user = mix.per_user
            out[otype] = round(spec.users * per_user)
    return out


def check_inputs(loaded: LoadedScenario) -> InputCheck:
    """Read every inventory and trace CSV as the run would and estimate the run's size.

    Raises ScenarioError for a CSV that run would refuse (with the CSV's file and line).
    """
    sc = loaded.spec
    problems: list[Problem] = []
    files: list[str] = []
    per_tenant: list[dict[str, int]] = []
    for i, t in enumerate(sc.tenants):
        if t.inventory is None:
            per_tenant.append(_generated_counts(loaded, i))
            continue
        path = loaded.base_dir / t.inventory
        files.append(str(path))
        from sim.workload.inventory import read_inventory_csv  # numpy: only for a CSV

        try:
            table = read_inventory_csv(path)
        except ScenarioError as exc:
            problems += [loaded.problem(("tenants", i, "inventory"), f"in {path}:"), *exc.problems]
            per_tenant.append({})
            continue
        counts: dict[str, int] = {}
        for k, otype in enumerate(d.OBJECT_TYPES):
            counts[otype] = int((table.otype == k).sum())
        per_tenant.append(counts)
    trace_rows = 0
    syn = sc.synthetic
    if syn is not None and syn.arrivals.process == "trace" and syn.arrivals.trace is not None:
        path = loaded.base_dir / syn.arrivals.trace
        files.append(str(path))
        from sim.workload.synthetic import read_trace  # numpy: only for a trace

        try:
            times, _ = read_trace(path, horizon_s(sc))
            trace_rows = len(times)
        except ScenarioError as exc:
            problems += [loaded.problem(("synthetic", "arrivals", "trace"), f"in {path}:")]
            problems += exc.problems
    if problems:
        raise ScenarioError(problems, str(loaded.path) if loaded.path else None)
    objects, tasks = _counts(loaded, per_tenant, trace_rows)
    buckets = sc.simulation.days * DAY_S / sc.simulation.bucket
    columns = len(sc.proxies) + len(sc.tenants) + len(sc.repositories) + 8
    series = BYTES_PER_BUCKET_COLUMN * buckets * columns
    memory = BASE_BYTES + BYTES_PER_OBJECT * objects + BYTES_PER_TASK * tasks + series
    plugins = sorted(
        {
            (p.policy if isinstance(p.policy, str) else p.policy.name)
            for p in sc.pools
            if ":" in (p.policy if isinstance(p.policy, str) else p.policy.name)
        }
    )
    return InputCheck(objects, tasks, memory, memory_limit(), series, files, plugins)


def _counts(
    loaded: LoadedScenario, per_tenant: list[dict[str, int]], trace_rows: int
) -> tuple[int, int]:
    sc = loaded.spec
    if sc.synthetic is not None:
        n = trace_rows if sc.synthetic.arrivals.process == "trace" else sc.synthetic.tasks
        return n, n + sc.synthetic.warmup_tasks
    days = sc.simulation.days
    totals: dict[str, int] = {}
    objects = 0
    for t, counts in zip(sc.tenants, per_tenant, strict=True):
        n0 = sum(counts.values())
        grown = n0 + round(t.growth_per_day * n0) * max(days - 1, 0)
        totals[t.name] = grown
        objects += grown
    cal = Calendar(sc.simulation.start_weekday)
    sessions: dict[str, int] = {}
    for j in sc.jobs:
        if not j.schedule.after_source:
            sessions[j.name] = len(start_times(j.schedule, days, cal))
    tasks = 0
    index = {t.name: i for i, t in enumerate(sc.tenants)}
    for j in sc.jobs:
        n_sessions = sessions.get(j.name, sessions.get(j.source_job or "", days))
        i = index.get(j.tenant)
        if i is None:
            continue
        counts = per_tenant[i]
        scoped = sum(n for otype, n in counts.items() if d.WORKLOAD_OF_TYPE[otype] in j.workloads)
        n0 = max(sum(counts.values()), 1)
        scoped = math.ceil(scoped * j.share * totals[j.tenant] / n0)
        tasks += n_sessions * scoped
    return objects, tasks


def too_big(loaded: LoadedScenario, check: InputCheck) -> ScenarioError:
    """The refusal of a scenario that would not fit in memory (``--force`` goes on anyway)."""
    sc = loaded.spec
    loc: tuple[str | int, ...] = ("simulation", "days")
    what = f"{check.objects:,} objects, {check.tasks:,} tasks"
    if check.series_bytes > check.memory_bytes / 2:
        loc = ("simulation", "bucket")
        what = f"a time series of {format_bytes(check.series_bytes)}: the bucket is too small"
    elif sc.synthetic is not None:
        loc = ("synthetic", "tasks")
    elif sc.tenants:
        big = max(range(len(sc.tenants)), key=lambda i: sc.tenants[i].users)
        loc = ("tenants", big, "users")
    return ScenarioError(
        [
            loaded.problem(
                loc,
                f"the run would need about {format_bytes(check.memory_bytes)} of memory "
                f"({what}) but at most "
                f"{format_bytes(check.limit_bytes)} is available (the smaller of physical "
                "memory and the address-space limit); make the scenario smaller, or give "
                "--force to run anyway",
            )
        ],
        str(loaded.path) if loaded.path else None,
    )


__all__ = ["InputCheck", "check_inputs", "memory_limit", "too_big"]
