"""Veeam's job-design advice as a lint: warnings for scenarios a planner should not copy.

Each rule is a public best-practice statement, cited by URL. A finding is a warning from
``poolsim validate`` and ``poolsim run`` (an error under ``--strict``); it never changes what the
model does. A scenario file may acknowledge a rule on purpose with a comment naming it and why,
``# lint-ok: workloads-per-job: <reason>`` (indented comment lines right below continue the
reason): the finding is then shown as acknowledged and does
not fail ``--strict``.

Object counts are the scenario's own (``count``, or ``users`` x ``per_user`` with the defaults
of ``sim.defaults``; an inventory CSV's rows), before daily growth, with a team counting as two
objects (vb365 fact 15). Objects per proxy assume a pool spreads its jobs' objects evenly over
its members that start active (INFERRED: Veeam does not publish the distribution algorithm).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sim import defaults as d
from sim.scenario.loader import LoadedScenario
from sim.scenario.schema import JobSpec, Scenario, TenantSpec
from sim.scenario.yamlsource import Positions, format_path, load_yaml_file, position_of

SIZING_URL: Final = "https://bp.veeam.com/vb365/guide/design/sizing"
JOB_DESIGN_URL: Final = "https://bp.veeam.com/vb365/guide/design/jobdesign.html"
PROXY_SIZING_URL: Final = "https://bp.veeam.com/vb365/guide/design/sizing/proxy.html"

MAX_USERS_PER_JOB: Final = 4_000
"""'Do not exceed the 4,000 users per job' (Veeam best practice, SIZING_URL)."""
MAX_OBJECTS_PER_PROXY: Final = 20_000
"""A proxy with 8 cores and 32 GB 'should be able to handle 20.000 objects' (PROXY_SIZING_URL)."""
WORKLOAD_GROUP: Final = {
    "exchange": "Exchange",
    "onedrive": "OneDrive",
    "sharepoint": "SharePoint + Teams",
    "teams": "SharePoint + Teams",
}
"""Veeam advises separate jobs for Exchange, OneDrive and SharePoint + Teams (JOB_DESIGN_URL)."""
USER_WORKLOADS: Final = ("exchange", "onedrive")
"""Workloads whose objects belong to users (the 4,000-users rule is about these)."""

RULES: Final = {
    "users-per-job": SIZING_URL,
    "workloads-per-job": JOB_DESIGN_URL,
    "objects-per-proxy": PROXY_SIZING_URL,
}
"""Rule id -> the public source it enforces."""

_ACK = re.compile(r"^\s*#\s*lint-ok:\s*([a-z-]+)\s*:?\s*(.*)$")
_MORE = re.compile(r"^\s*#\s{2,}(\S.*)$")


@dataclass(frozen=True)
class Finding:
    """One piece of Veeam advice a scenario does not follow."""

    rule: str
    loc: tuple[str | int, ...]
    message: str
    acknowledged: str | None = None
    """The reason given in the file's ``# lint-ok: <rule>`` comment, if any."""

    @property
    def url(self) -> str:
        """The public source of the rule."""
        return RULES[self.rule]


def _slice(share_offset: float, share: float, n: int) -> tuple[int, int]:
    """The [lo, hi) slice of n objects a job takes, exactly as the model cuts it."""
    lo = math.floor(share_offset * n + 1e-9)
    hi = math.floor((share_offset + share) * n + 1e-9)
    return lo, hi


def tenant_counts(tenant: TenantSpec, base_dir: Path | None = None) -> dict[str, int] | None:
    """Objects per type in the tenant's inventory, in generation order (None: unreadable CSV)."""
    if tenant.inventory is not None:
        path = (base_dir or Path.cwd()) / tenant.inventory
        counts = dict.fromkeys(d.OBJECT_TYPES, 0)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None  # a FIFO or /dev/zero is never opened (the input check refuses it)
            with open(path, encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    otype = (row.get("type") or "").strip()
                    if otype in counts:
                        counts[otype] += 1
        except (OSError, UnicodeDecodeError, csv.Error):
            return None  # the run reports the file itself
        return counts
    out: dict[str, int] = {}
    for otype in d.OBJECT_TYPES:
        mix = tenant.objects.get(otype)  # type: ignore[call-overload]
        if mix is not None and mix.count is not None:
            out[otype] = int(mix.count)
        else:
            per_user = mix.per_user if mix is not None and mix.per_user is not None else None
            ratio = d.OBJECTS_PER_USER[otype] if per_user is None else per_user
            out[otype] = round(tenant.users * ratio)
    return out


def job_objects(job: JobSpec, counts: dict[str, int], weighted: bool = True) -> int:
    """Objects in a backup job's scope, a team counting twice (vb365 fact 15) when
    ``weighted``."""
    types = [t for t in d.OBJECT_TYPES if d.WORKLOAD_OF_TYPE[t] in job.workloads]
    n = sum(counts[t] for t in types)
    lo, hi = _slice(job.share_offset, job.share, n)
    total, start = 0, 0
    for t in types:  # objects are laid out in type order; count each type's part of the slice
        end = start + counts[t]
        weight = d.LICENCE_WEIGHT_OF_TYPE[t] if weighted else 1
        total += max(0, min(hi, end) - max(lo, start)) * weight
        start = end
    return total


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def lint(spec: Scenario, base_dir: Path | None = None) -> list[Finding]:
    """Every finding of the three rules, in file order (no acknowledgements)."""
    out: list[Finding] = []
    tenants = {t.name: t for t in spec.tenants}
    counts = {t.name: tenant_counts(t, base_dir) for t in spec.tenants}
    for i, job in enumerate(spec.jobs):
        if job.type != "backup":
            continue
        tenant = tenants.get(job.tenant)
        if tenant is not None and any(w in USER_WORKLOADS for w in job.workloads):
            lo, hi = _slice(job.share_offset, job.share, tenant.users)
            users = hi - lo
            if users > MAX_USERS_PER_JOB:
                out.append(
                    Finding(
                        "users-per-job",
                        ("jobs", i),
                        f"job '{job.name}' protects {users:,} users; Veeam advises not to exceed "
                        f"{MAX_USERS_PER_JOB:,} users per job (split it with share and "
                        f"share_offset) — {SIZING_URL}",
                    )
                )
        groups = sorted({WORKLOAD_GROUP[w] for w in job.workloads})
        if len(groups) > 1:
            out.append(
                Finding(
                    "workloads-per-job",
                    ("jobs", i, "workloads"),
                    f"job '{job.name}' backs up {_and(groups)} together; Veeam advises "
                    "one job per workload (Exchange, OneDrive, SharePoint + Teams) — "
                    f"{JOB_DESIGN_URL}",
                )
            )
    owner = {r.name: r.owner for r in spec.repositories}
    load: dict[str, int] = {}
    for job in spec.jobs:
        c = counts.get(job.tenant)
        if job.type != "backup" or c is None or job.repository not in owner:
            continue
        load[owner[job.repository]] = load.get(owner[job.repository], 0) + job_objects(job, c)
    pools = {p.name: (i, p) for i, p in enumerate(spec.pools)}
    proxies = {p.name: i for i, p in enumerate(spec.proxies)}
    starts_active = {p.name for p in spec.proxies if p.state == "active"}
    for name, objects in load.items():
        if name in pools:
            i, pool = pools[name]
            # members that start in maintenance take no work until they leave it
            members = max(1, sum(m in starts_active for m in pool.members))
            per = objects / members if members else float(objects)
            if per > MAX_OBJECTS_PER_PROXY:
                need = math.ceil(objects / MAX_OBJECTS_PER_PROXY)
                out.append(
                    Finding(
                        "objects-per-proxy",
                        ("pools", i, "members"),
                        f"pool '{name}' gives each of its {members} "
                        f"{'proxy' if members == 1 else 'proxies'} about {per:,.0f} objects "
                        f"({objects:,} in its jobs, spread evenly); Veeam sizes a proxy of 8 "
                        f"cores and 32 GB for about {MAX_OBJECTS_PER_PROXY:,} objects, so the "
                        f"pool needs {need} members or more — {PROXY_SIZING_URL}",
                    )
                )
        elif name in proxies and objects > MAX_OBJECTS_PER_PROXY:
            out.append(
                Finding(
                    "objects-per-proxy",
                    ("proxies", proxies[name]),
                    f"proxy '{name}' is given {objects:,} objects by its jobs; Veeam sizes a "
                    f"proxy of 8 cores and 32 GB for about {MAX_OBJECTS_PER_PROXY:,} objects — "
                    f"{PROXY_SIZING_URL}",
                )
            )
    return out


def acknowledgements(text: str) -> dict[str, str]:
    """``rule -> reason`` from the ``# lint-ok: <rule>: <reason>`` comments of a file."""
    out: dict[str, str] = {}
    rule: str | None = None
    for line in text.splitlines():
        m = _ACK.match(line)
        if m is not None:
            rule = m.group(1) if m.group(1) in RULES else None
            if rule is not None:
                out[rule] = m.group(2).strip()
            continue
        more = _MORE.match(line) if rule is not None else None
        if rule is not None and more is not None:  # an indented comment line continues it
            out[rule] = f"{out[rule]} {more.group(1).strip()}".strip()
        else:
            rule = None
    return out


def lint_scenario(loaded: LoadedScenario) -> list[Finding]:
    """The findings of a loaded scenario, with the file's acknowledgements applied."""
    found = lint(loaded.spec, loaded.base_dir)
    if not found or loaded.path is None:
        return found
    try:
        acks = acknowledgements(loaded.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return found
    return [Finding(f.rule, f.loc, f.message, acks[f.rule]) if f.rule in acks else f for f in found]


def where(loaded: LoadedScenario, finding: Finding, positions: Positions | None = None) -> str:
    """``file:line: path`` of a finding (the file's own line when it can be found)."""
    file = str(loaded.path) if loaded.path is not None else "<string>"
    if positions is None:
        positions = getattr(loaded, "positions", None) or None
    if positions is None and loaded.path is not None:
        try:
            _, positions = load_yaml_file(loaded.path)
        except Exception:  # the scenario loaded; positions are a nicety
            positions = None
    pos = position_of(positions, finding.loc) if positions else None
    line = f":{pos[0]}" if pos is not None else ""
    return f"{file}{line}: {format_path(finding.loc)}"
