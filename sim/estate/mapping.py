"""From the records of an export to a scenario: proxies, pools, repositories, tenants, jobs.

The mapping (docs/calibrate.md, "What import reads"):

- every proxy, pooled or standalone (no ``poolId``): host name, threads, OS when present; the
  network throttle when enabled and not 0; cores and RAM are not in exports and come from the
  ``--proxy-cores``/``--proxy-ram`` options;
- pools and their members (from the pool's ``proxies`` and from each proxy's ``poolId``);
- repositories: object-storage kind and owner (pool, or standalone proxy);
- organizations become tenants, users from ``--users`` (the exports have no user counts);
- backup jobs: schedule, backup window (``allowed_hours`` with ``terminate_on_window``),
  repository, workloads (an ``EntireOrganization`` job or one with no selected items covers
  every workload its organization has); disabled, unscheduled and other kinds of jobs are left
  out and counted;
- backup copy jobs (REST ``/CopyJobs``, PowerShell ``Get-VBOCopyJob``): ``type: backup_copy``,
  their backup job as ``source_job``, their target repository, schedule (``Immediate`` is
  ``after_source``) and window; a copy whose backup job or target is left out is left out too;
- the VB365 IDs in ``vb365_id``; ``simulation.initial_state: protected`` by default.

Every value the export does not give carries a comment saying where it came from.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
vb365 fact 33: https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_copy_works.html
Representations: https://helpcenter.veeam.com/docs/vbo365/powershell/vbobackupwindowsettings.html,
https://helpcenter.veeam.com/docs/vbo365/powershell/vbocopyjob.html,
https://helpcenter.veeam.com/docs/vbo365/powershell/vbocopyjobschedulepolicy.html,
https://helpcenter.veeam.com/archive/vbo365/60/rest/get_copyjobs_id.html
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sim import defaults as d
from sim.errors import Problem
from sim.estate.read import (
    Export,
    ExportError,
    Record,
    Resource,
    as_bool,
    as_int,
    enum_name,
    ident,
)
from sim.estate.yamltext import Note
from sim.scenario.calendar import allowed_hours_entries
from sim.units import parse_size

DEFAULT_USERS = 1000
"""Users per tenant when ``--users`` does not say (INFERRED placeholder: no export holds user
counts; set it from the licence report)."""

DEFAULT_DAYS = 7
"""Days simulated by an imported scenario: one week of nightly sessions."""

WORKLOADS = ("exchange", "onedrive", "sharepoint", "teams")

_THROTTLE_UNITS = {
    "kbs": "KB/s",
    "kbps": "KB/s",
    "mbs": "MB/s",
    "mbps": "MB/s",
    "gbs": "GB/s",
    "gbps": "GB/s",
    "mbitps": "Mbps",
    "mbit/s": "Mbps",
}
"""VB365 throttling units (REST ``KBs``; PowerShell ``VBOThrottlingUnit``) as poolsim rates;
VB365 names bytes per second (``KBs``, ``MBps``), so ``Mbps`` there is MB/s (INFERRED from the
REST example ``1250 KBs``)."""

_REPO_KINDS = {
    "amazons3": "s3",
    "amazons3compatible": "s3_compatible",
    "azureblob": "azure_blob",
    "wasabicloud": "wasabi",
    "wasabi": "wasabi",
    "ibmcloud": "ibm_cos",
    "localobjectstorage": "s3_compatible",
    "amazons3glacier": "s3_glacier",
    "azureblobarchive": "azure_archive",
    "azurearchive": "azure_archive",
}
"""VB365 object-storage types (``VBOObjectStorageRepositoryType``) as poolsim kinds."""

_DAYS = {
    "Everyday": None,
    "Workdays": ["mon", "tue", "wed", "thu", "fri"],
    "Weekends": ["sat", "sun"],
    "Monday": ["mon"],
    "Tuesday": ["tue"],
    "Wednesday": ["wed"],
    "Thursday": ["thu"],
    "Friday": ["fri"],
    "Saturday": ["sat"],
    "Sunday": ["sun"],
}
"""``VBODailyType`` (vb365 fact 35) as scenario weekdays; None = every day."""

_PERIODS = {
    "Minutes5": "5min",
    "Minutes10": "10min",
    "Minutes15": "15min",
    "Minutes30": "30min",
    "Hours1": "1h",
    "Hours2": "2h",
    "Hours4": "4h",
    "Hours8": "8h",
    "Hours12": "12h",
}
"""``VBOPeriodicInterval`` values as scenario durations."""

_ITEM_FLAGS = {
    "mailbox": "exchange",
    "archivemailbox": "exchange",
    "onedrive": "onedrive",
    "site": "sharepoint",
    "sites": "sharepoint",
    "personalsite": "sharepoint",
    "teams": "teams",
    "teamschats": "teams",
}
"""Selected-item flags (``VBOBackupUser``, ``VBOBackupOrganization``) -> workload."""

_ITEM_TYPES = {
    "site": ["sharepoint"],
    "team": ["teams"],
    "sharedmailbox": ["exchange"],
    "publicmailbox": ["exchange"],
    "personalsites": ["onedrive"],
}
"""Selected-item types without flags -> workloads (``VBOBackupItemType``); users, groups and
the organization without flags mean all the organization's workloads."""


@dataclass
class Options:
    """What the export cannot give, from the command line (with its documented defaults)."""

    name: str = "imported"
    users: dict[str, int] = field(default_factory=dict)
    """Users per organization name (any case); key ``*`` for every organization."""
    inventory: dict[str, str] = field(default_factory=dict)
    """Inventory CSV per organization name (``*``: every organization)."""
    proxy_cores: int = d.PROXY_CORES
    proxy_ram: str = "32 GiB"
    initial_state: str = "protected"
    days: int = DEFAULT_DAYS
    start: str | None = None


@dataclass
class Exclusion:
    """Something in the export the scenario leaves out, and why (always reported, counted)."""

    what: str
    where: str
    why: str


@dataclass
class Imported:
    """The scenario document (with comments) and what was left out."""

    doc: dict[str, Any]
    exclusions: list[Exclusion]
    counts: dict[str, int]
    sessions: int
    naming: str


_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
_LABEL_BAD = re.compile(r"[^A-Za-z0-9_ ()+-]+")


def _safe(name: str, fallback: str) -> str:
    """A host-like name: letters, digits, '_', '.', '-'."""
    out = _NAME_BAD.sub("-", name.strip()).strip("-.")
    return out or fallback


def _label(name: str, fallback: str) -> str:
    """A pool, repository or job name as VB365 shows it, without dots (``--set`` paths use
    them) or other punctuation."""
    out = " ".join(_LABEL_BAD.sub("-", name).split()).strip("-")
    return out or fallback


def _unique(name: str, used: set[str]) -> str:
    base, n = name, 2
    while name.lower() in used:
        name = f"{base}-{n}"
        n += 1
    used.add(name.lower())
    return name


def _os(rec: Record) -> tuple[str | None, str]:
    value = rec.get("operatingSystem", "OperatingSystemKind", "osType")
    if value is None:
        return None, ""
    if isinstance(value, str):
        low = value.lower()
        if "linux" in low:
            return "linux", f"from the export: {value}"
        if "windows" in low:
            return "windows", f"from the export: {value}"
    raise ExportError(
        [
            rec.problem(
                rec.field_name("operatingSystem", "OperatingSystemKind"),
                f"unknown operating system {value!r}; allowed: Windows, Linux (names, not "
                "enum numbers)",
            )
        ]
    )


def _throttle(rec: Record) -> tuple[str | None, str]:
    enabled = as_bool(rec, "enableNetworkThrottling", "enableNetworkthrottling")
    value = rec.get("throttlingValue")
    if value is None or enabled is False:
        return None, ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ExportError(
            [rec.problem(rec.field_name("throttlingValue"), f"{value!r} is not a number >= 0")]
        )
    if value == 0:
        return None, ""
    unit_raw = rec.get("throttlingUnit")
    if not isinstance(unit_raw, str) or unit_raw.strip().lower() not in _THROTTLE_UNITS:
        raise ExportError(
            [
                rec.problem(
                    rec.field_name("throttlingUnit"),
                    f"unknown throttling unit {unit_raw!r}; allowed: KBs, KBps, MBs, MBps, "
                    "Mbps (names, not enum numbers)",
                )
            ]
        )
    unit = _THROTTLE_UNITS[unit_raw.strip().lower()]
    number = int(value) if float(value).is_integer() else value
    return f"{number} {unit}", f"from the export: throttlingValue {value} {unit_raw}"


def _timespan(rec: Record, name: str) -> str | None:
    """``HH:MM`` of a REST ``"22:00:00"`` or a PowerShell TimeSpan object."""
    value = rec.get(name)
    if value is None:
        return None
    if isinstance(value, dict):
        sub = Record(rec.file, f"{rec.where}.{rec.field_name(name)}", value)
        total = sub.get("TotalSeconds")
        if isinstance(total, (int, float)) and not isinstance(total, bool):
            seconds = round(total)
        else:
            seconds = (as_int(sub, "Hours") or 0) * 3600 + (as_int(sub, "Minutes") or 0) * 60
        seconds %= 86400
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*", value)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return f"{int(m.group(1)):02d}:{m.group(2)}"
    raise ExportError(
        [rec.problem(rec.field_name(name), f"{value!r} is not a time of day (HH:MM[:SS])")]
    )


def _org_workloads(rec: Record) -> tuple[list[str], str]:
    flags = {
        "exchange": as_bool(rec, "isExchangeOnline"),
        "sharepoint": as_bool(rec, "isSharePointOnline"),
        "teams": as_bool(rec, "isTeamsOnline"),
    }
    if all(v is None for v in flags.values()):
        return list(WORKLOADS), "not in the export: every workload"
    out = []
    if flags["exchange"]:
        out.append("exchange")
    if flags["sharepoint"]:
        out += ["onedrive", "sharepoint"]
    if flags["teams"]:
        out.append("teams")
    return out, "from the export: isExchangeOnline/isSharePointOnline/isTeamsOnline"


def _item_workloads(item: Record, org: list[str]) -> list[str]:
    flagged = [w for k, w in _ITEM_FLAGS.items() if item.get(k) is True]
    if flagged:
        return flagged
    t = item.get("type")
    if isinstance(t, str) and t.lower() in _ITEM_TYPES:
        return _ITEM_TYPES[t.lower()]
    return list(org)


def _lookup(
    value: Any, by_id: dict[str, str], by_name: dict[str, str]
) -> tuple[str | None, str | None]:
    """(scenario name, the id or name looked up) of an ID or a nested PowerShell object."""
    key = ident(value)
    if isinstance(value, dict):
        for k, v in value.items():
            if k.lower() == "name" and isinstance(v, str) and v.lower() in by_name:
                return by_name[v.lower()], v
    if key is not None and key in by_id:
        return by_id[key], key
    return None, key


def build(export: Export, opts: Options) -> Imported:
    """The scenario document of an export (raises ExportError on input it cannot use)."""
    excl: list[Exclusion] = []
    used: set[str] = set()

    # --- proxies -------------------------------------------------------------------------
    proxy_recs = export.records("proxy")
    if not proxy_recs:
        raise ExportError(
            [
                _folder_problem(
                    export,
                    "no proxies in the export: add GET /v8/Proxies or Get-VBOProxy",
                )
            ]
        )
    hosts = [str(r.require("hostName", "Hostname", "fqdn")).strip() for r in proxy_recs]
    shorts = [h.split(".")[0] for h in hosts]
    short_ok = len({s.lower() for s in shorts}) == len(shorts)
    proxies: list[dict[str, Any]] = []
    proxy_by_id: dict[str, str] = {}
    proxy_by_name: dict[str, str] = {}
    proxy_pool: dict[str, str | None] = {}
    for rec, host, short in zip(proxy_recs, hosts, shorts, strict=True):
        name = _unique(_safe(short if short_ok else host, "proxy"), used)
        pid = ident(rec.get("id", "Id"))
        if pid is not None:
            if pid in proxy_by_id:
                raise ExportError([rec.problem("id", f"proxy ID {pid} appears twice")])
            proxy_by_id[pid] = name
        proxy_by_name[host.lower()] = name
        proxy_by_name[short.lower()] = name
        pool_ref = rec.get("poolId", "PoolId", "proxyPoolId")
        proxy_pool[name] = ident(pool_ref)
        spec: dict[str, Any] = {"name": name}
        if pid is not None:
            spec["vb365_id"] = rec.get("id", "Id")
        if host != name:
            spec["dns"] = host
        os_name, os_note = _os(rec)
        if os_name is not None:
            spec["os"] = Note(os_name, os_note)
        spec["cores"] = Note(
            opts.proxy_cores, f"not in the export: --proxy-cores (default {d.PROXY_CORES})"
        )
        spec["ram"] = Note(opts.proxy_ram, "not in the export: --proxy-ram (default 32 GiB)")
        threads = as_int(rec, "threadsNumber", low=1)
        spec["threads"] = (
            Note(threads, "from the export")
            if threads is not None
            else Note(d.PROXY_THREADS, "not in the export: the VB365 default")
        )
        throttle, note = _throttle(rec)
        if throttle is not None:
            spec["throttle"] = Note(throttle, note)
        maint = rec.get("maintenanceModeState", "MaintenanceModeState")
        if isinstance(maint, str) and maint.lower() in ("enabled", "enabling"):
            spec["state"] = Note("maintenance", f"from the export: maintenance mode {maint}")
        proxies.append(spec)

    # --- pools ---------------------------------------------------------------------------
    pools: list[dict[str, Any]] = []
    pool_by_id: dict[str, str] = {}
    pool_by_name: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for rec in export.records("pool"):
        raw_name = str(rec.require("name", "Name"))
        name = _unique(_label(raw_name, "pool"), used)
        pid = ident(rec.get("id", "Id"))
        if pid is not None:
            pool_by_id[pid] = name
        pool_by_name[raw_name.lower()] = name
        members[name] = []
        listed = rec.get("proxies", "proxyIds") or []
        if not isinstance(listed, list):
            listed = [listed]
        for i, ref in enumerate(listed):
            member, key = _lookup(ref, proxy_by_id, proxy_by_name)
            if member is None and isinstance(ref, dict):
                sub = Record(rec.file, f"{rec.where}.proxies[{i}]", ref)
                host = sub.get("hostName", "Hostname")
                member = proxy_by_name.get(str(host).lower()) if host else None
            if member is None:
                raise ExportError(
                    [
                        rec.problem(
                            f"proxies[{i}]",
                            f"proxy {key!r} is not among the exported proxies: export every "
                            "proxy (GET /v8/Proxies or Get-VBOProxy)",
                        )
                    ]
                )
            if member not in members[name]:
                members[name].append(member)
        pools.append({"name": name, **({"vb365_id": rec.get("id", "Id")} if pid else {})})
    for proxy_name, pool_key in proxy_pool.items():
        if pool_key is None or pool_key == "00000000-0000-0000-0000-000000000000":
            continue
        pool_name = pool_by_id.get(pool_key)
        if pool_name is None:  # a pool known only from its members' poolId
            pool_name = _unique(f"pool-{pool_key[:8]}", used)
            pool_by_id[pool_key] = pool_name
            members[pool_name] = []
            pools.append(
                {
                    "name": Note(pool_name, "not in the export: no pool file; named from its ID"),
                    "vb365_id": pool_key,
                }
            )
        if proxy_name not in members[pool_name]:
            members[pool_name].append(proxy_name)
    kept_pools = []
    for pool in pools:
        name = pool["name"].value if isinstance(pool["name"], Note) else pool["name"]
        if not members[name]:
            excl.append(Exclusion(f"pool {name}", "pools", "it has no members"))
            continue
        pool["members"] = members[name]
        pool["policy"] = Note(
            "pull_fifo",
            "not in the export (VB365 does not publish how a pool distributes work): "
            "poolsim's default, a shared FIFO queue",
        )
        kept_pools.append(pool)
    pools = kept_pools
    pool_names = {p["name"].value if isinstance(p["name"], Note) else p["name"] for p in pools}
    pool_of_proxy = {m: p for p, ms in members.items() if p in pool_names for m in ms}

    # --- repositories --------------------------------------------------------------------
    repos: list[dict[str, Any]] = []
    repo_by_id: dict[str, str] = {}
    repo_by_name: dict[str, str] = {}
    for rec in export.records("repository"):
        raw_name = str(rec.require("name", "Name"))
        name = _unique(_label(raw_name, "repository"), used)
        rid = ident(rec.get("id", "Id"))
        owner, why = _repo_owner(rec, proxy_by_id, proxy_by_name, pool_by_id, pool_by_name)
        if owner is None:
            excl.append(Exclusion(f"repository {raw_name}", f"{rec.file}: {rec.where}", why))
            continue
        if owner in pool_of_proxy:  # a pooled proxy's repository belongs to its pool
            owner = pool_of_proxy[owner]
        kind, kind_note = _repo_kind(rec)
        if kind == "local" and owner in pool_names:
            excl.append(
                Exclusion(
                    f"repository {raw_name}",
                    f"{rec.file}: {rec.where}",
                    "a JET (local disk) repository of a pool: VB365 pools use object storage",
                )
            )
            continue
        if rid is not None:
            repo_by_id[rid] = name
        repo_by_name[raw_name.lower()] = name
        spec = {"name": name}
        if rid is not None:
            spec["vb365_id"] = rec.get("id", "Id")
        spec["kind"] = Note(kind, kind_note)
        spec["owner"] = Note(owner, "from the export")
        spec["write_bandwidth"] = Note(
            "10 Gbps", "not in the export: poolsim's default link (INFERRED)"
        )
        repos.append(spec)

    # --- organizations -> tenants ---------------------------------------------------------
    tenants: list[dict[str, Any]] = []
    org_by_id: dict[str, str] = {}
    org_by_name: dict[str, str] = {}
    org_workloads: dict[str, list[str]] = {}
    for rec in export.records("organization"):
        raw_name = str(rec.require("name", "Name", "officeName"))
        name = _unique(_safe(raw_name.split(".")[0], "tenant"), used)
        oid = ident(rec.get("id", "Id"))
        if oid is not None:
            org_by_id[oid] = name
        org_by_name[raw_name.lower()] = name
        org_by_name[name.lower()] = name
        workloads, _ = _org_workloads(rec)
        org_workloads[name] = workloads
        users, users_note = _users(opts, raw_name, name)
        inv = _pick(opts.inventory, raw_name, name)
        spec = {
            "name": name
            if inv is not None
            else Note(
                name,
                "objects not in the export: poolsim's generated mix (sizes, items, change "
                "rates of sim/defaults.py); --inventory ORG=FILE for real ones",
            )
        }
        if oid is not None:
            spec["vb365_id"] = rec.get("id", "Id")
        spec["users"] = Note(users, users_note)
        if inv is not None:
            spec["inventory"] = Note(inv, "not in the export: --inventory")
        tenants.append(spec)

    # --- jobs ----------------------------------------------------------------------------
    jobs: list[dict[str, Any]] = []
    job_by_id: dict[str, str] = {}
    job_by_name: dict[str, str] = {}
    copies: list[Record] = []
    for rec in export.records("job"):
        if _is_copy(rec):  # after every backup job: a copy names its source
            copies.append(rec)
            continue
        raw_name = str(rec.require("name", "Name"))
        where = f"{rec.file}: {rec.where}"
        what = f"job {raw_name}"
        jtype = rec.get("jobType", "JobType")
        if isinstance(jtype, str) and jtype.lower() not in ("backup", "backupjob"):
            excl.append(Exclusion(what, where, f"a {jtype} job, not a backup job"))
            continue
        if as_bool(rec, "isEnabled", "IsEnabled") is False:
            excl.append(Exclusion(what, where, "the job is disabled"))
            continue
        org_ref = rec.get("organizationId", "Organization")
        tenant, key = _lookup(org_ref, org_by_id, org_by_name)
        if tenant is None:
            if org_ref is None and len(tenants) == 1:
                tenant = plain(tenants[0]["name"])
            else:
                raise ExportError(
                    [
                        rec.problem(
                            rec.field_name("organizationId", "Organization"),
                            f"organization {key!r} is not among the exported organizations: "
                            "export them (GET /v8/Organizations or Get-VBOOrganization)",
                        )
                    ]
                )
        repo_ref = rec.get("repositoryId", "Repository")
        repo, key = _lookup(repo_ref, repo_by_id, repo_by_name)
        if repo is None:
            if key is not None and any(e.what.startswith("repository") for e in excl):
                excl.append(Exclusion(what, where, f"its repository {key} was left out"))
                continue
            raise ExportError(
                [
                    rec.problem(
                        rec.field_name("repositoryId", "Repository"),
                        f"repository {key!r} is not among the exported repositories: export "
                        "them (GET /v8/BackupRepositories or Get-VBORepository)",
                    )
                ]
            )
        schedule, sched_why = _schedule(rec)
        if schedule is None:
            excl.append(Exclusion(what, where, sched_why))
            continue
        workloads, wl_note = _job_workloads(rec, org_workloads[tenant])
        if not workloads:
            excl.append(
                Exclusion(what, where, "none of its selected workloads is in the organization")
            )
            continue
        name = _unique(_label(raw_name, "job"), used)
        spec = {"name": name}
        if rec.get("id", "Id") is not None:
            spec["vb365_id"] = rec.get("id", "Id")
        spec["tenant"] = tenant
        spec["workloads"] = Note(workloads, wl_note)
        spec["repository"] = repo
        retry = _retry(rec)
        if retry is not None:
            spec["retry"] = retry
        spec["schedule"] = schedule
        jobs.append(spec)
        if ident(rec.get("id", "Id")) is not None:
            job_by_id[str(ident(rec.get("id", "Id")))] = name
        job_by_name[raw_name.lower()] = name
    jobs_of = {plain(j["name"]): j for j in jobs}
    for rec in copies:
        copy = _copy_job(rec, (job_by_id, job_by_name), (repo_by_id, repo_by_name), export, excl)
        if copy is None:
            continue
        source = jobs_of[copy["source_job"]]
        raw_name = str(rec.get("name", "Name") or f"{copy['source_job']} copy")
        spec = {"name": _unique(_label(raw_name, "copy"), used)}
        if rec.get("name", "Name") is None:
            spec["name"] = Note(spec["name"], "not in the export: named after its source job")
        if rec.get("id", "Id") is not None:
            spec["vb365_id"] = rec.get("id", "Id")
        spec["type"] = "backup_copy"
        spec["source_job"] = copy["source_job"]
        spec["tenant"] = source["tenant"]
        spec["workloads"] = Note(
            plain(source["workloads"]), "its source job's (a copy moves what the source stored)"
        )
        spec["repository"] = copy["repository"]
        spec["schedule"] = copy["schedule"]
        jobs.append(spec)

    if not tenants:
        raise ExportError(
            [
                _folder_problem(
                    export,
                    "no organizations in the export: add GET /v8/Organizations or "
                    "Get-VBOOrganization",
                )
            ]
        )
    if not repos:
        raise ExportError(
            [
                _folder_problem(
                    export,
                    "no usable repositories in the export: add GET /v8/BackupRepositories or "
                    "Get-VBORepository" + _excluded_text(excl, "repository"),
                )
            ]
        )
    if not jobs:
        raise ExportError(
            [
                _folder_problem(
                    export,
                    "no backup job to simulate: add GET /v8/Jobs or Get-VBOJob"
                    + _excluded_text(excl, "job"),
                )
            ]
        )

    simulation: dict[str, Any] = {
        "days": Note(opts.days, f"--days (default {DEFAULT_DAYS})"),
        "initial_state": Note(
            opts.initial_state,
            "--initial-state (default protected: an existing estate is already backed up, "
            "so the first sessions are incrementals)",
        ),
    }
    if opts.start is not None:
        simulation["start"] = Note(opts.start, "--start")
    doc: dict[str, Any] = {
        "name": opts.name,
        "description": "Imported from a VB365 export by poolsim import (see the comments)",
        "tenants": tenants,
        "proxies": proxies,
        "pools": pools,
        "repositories": repos,
        "jobs": jobs,
        "simulation": simulation,
    }
    if not pools:
        del doc["pools"]
    counts = Counter({"proxies": len(proxies), "pools": len(pools), "repositories": len(repos)})
    counts.update({"tenants": len(tenants), "jobs": len(jobs)})
    return Imported(doc, excl, dict(counts), len(export.records("session")), export.naming)


def plain(value: Any) -> Any:
    """A document value without its comment."""
    return value.value if isinstance(value, Note) else value


def _folder_problem(export: Export, message: str) -> Problem:
    return Problem(str(export.folder), None, None, "", message)


def _excluded_text(excl: list[Exclusion], kind: str) -> str:
    left = [e for e in excl if e.what.startswith(kind)]
    if not left:
        return ""
    return " (left out: " + "; ".join(f"{e.what}: {e.why}" for e in left) + ")"


def _pick(table: dict[str, Any], raw: str, name: str) -> Any:
    for key in (raw.lower(), name.lower()):
        for k, v in table.items():
            if k.lower() == key:
                return v
    return table.get("*")


def _users(opts: Options, raw: str, name: str) -> tuple[int, str]:
    users = _pick(opts.users, raw, name)
    if users is not None:
        return int(users), "not in the export: --users"
    return (
        DEFAULT_USERS,
        f"not in the export: poolsim import's placeholder {DEFAULT_USERS} (INFERRED); set "
        "--users from your licence report",
    )


def _repo_owner(
    rec: Record,
    proxy_by_id: dict[str, str],
    proxy_by_name: dict[str, str],
    pool_by_id: dict[str, str],
    pool_by_name: dict[str, str],
) -> tuple[str | None, str]:
    pool_ref = rec.get("proxyPoolId", "ProxyPool", "poolId")
    if pool_ref is not None:
        name, key = _lookup(pool_ref, pool_by_id, pool_by_name)
        if name is not None:
            return name, ""
        if key is not None:
            return None, f"its proxy pool {key} is not in the export or has no members"
    proxy_ref = rec.get("proxyId", "Proxy")
    if proxy_ref is not None:
        name, key = _lookup(proxy_ref, proxy_by_id, proxy_by_name)
        if name is not None:
            return name, ""
        if isinstance(proxy_ref, dict):
            sub = Record(rec.file, rec.where, proxy_ref)
            host = sub.get("hostName", "Hostname")
            if isinstance(host, str) and host.lower() in proxy_by_name:
                return proxy_by_name[host.lower()], ""
        return None, f"its proxy {key} is not among the exported proxies"
    return None, "it names no proxy or proxy pool (proxyId, proxyPoolId, Proxy, ProxyPool)"


def _repo_kind(rec: Record) -> tuple[str, str]:
    obj = rec.sub("objectStorage", "ObjectStorageRepository")
    if obj is None:
        return "local", "from the export: a JET repository on the proxy's disk (no object storage)"
    t = obj.get("type", "Type")
    if isinstance(t, str) and re.sub(r"[^a-z0-9]", "", t.lower()) in _REPO_KINDS:
        kind = _REPO_KINDS[re.sub(r"[^a-z0-9]", "", t.lower())]
        if obj.get("isLongTerm", "IsLongTerm") is True and kind == "s3":
            kind = "s3_glacier"
        elif obj.get("isLongTerm", "IsLongTerm") is True and kind == "azure_blob":
            kind = "azure_archive"
        note = f"from the export: {t}"
        if t.lower() == "localobjectstorage":
            note += " (an S3-compatible store on premises)"
        return kind, note
    raise ExportError(
        [
            obj.problem(
                obj.field_name("type", "Type"),
                f"unknown object storage type {t!r}; allowed: AmazonS3, AmazonS3Compatible, "
                "AzureBlob, WasabiCloud, IBMCloud, LocalObjectStorage, AmazonS3Glacier, "
                "AzureBlobArchive",
            )
        ]
    )


def _schedule(rec: Record) -> tuple[dict[str, Any] | None, str]:
    pol = rec.sub("schedulePolicy", "SchedulePolicy")
    if pol is None:
        return None, "no schedule policy: it runs only when started by hand"
    enabled = as_bool(pol, "scheduleEnabled", "EnableSchedule", "enabled")
    if enabled is False:
        return None, "its schedule is disabled: it runs only when started by hand"
    kind = enum_name(
        pol, "type", "Type", allowed=("Daily", "Periodically", "Periodic", "NotScheduled")
    )
    if kind == "NotScheduled":
        return None, "not scheduled: it runs only when started by hand"
    sched: dict[str, Any] = {}
    if kind in ("Periodically", "Periodic"):
        sched.update(_periodic(pol))
    else:
        sched.update(_daily(pol))
    window, why = _window(pol)
    if why:
        return None, why
    sched.update(window)
    return sched, ""


def _window(pol: Record) -> tuple[dict[str, Any], str]:
    """A schedule's backup window as ``allowed_hours`` with ``terminate_on_window`` (the
    product's "terminate the job if it exceeds the allowed backup window", vb365 fact 35), or
    nothing when it is off; (fields, why the job is left out).

    The window is on when ``backupWindowEnabled`` (a backup job; REST and PowerShell) or
    ``backupCopyWindowEnabled`` (a REST copy job) is true, or, without either, when the
    settings are there (a PowerShell copy job's policy carries only ``BackupWindowSettings``).
    The settings' ``backupWindow`` is 168 booleans, one per hour of the week, true = allowed.
    Their order is not documented: INFERRED Sunday 00:00 first (.NET's DayOfWeek, the type of
    New-VBOBackupWindowSettings' -FromDay), in the server's local time like ``dailyTime``.
    """
    enabled = as_bool(pol, "backupWindowEnabled", "backupCopyWindowEnabled")
    settings = pol.sub("backupWindowSettings", "backupCopyWindowSettings")
    if enabled is None:
        enabled = settings is not None
    if not enabled:
        return {}, ""
    if settings is None:
        raise ExportError(
            [
                pol.problem(
                    pol.field_name("backupWindowSettings", "backupCopyWindowSettings"),
                    "the backup window is enabled but its settings (backupWindow: 168 hours) "
                    "are missing",
                )
            ]
        )
    cells = settings.get("backupWindow")
    if (
        not isinstance(cells, list)
        or len(cells) != 168
        or not all(isinstance(c, bool) for c in cells)
    ):
        shown = f"{len(cells)} values" if isinstance(cells, list) else repr(cells)
        raise ExportError(
            [
                settings.problem(
                    settings.field_name("backupWindow"),
                    f"{shown}: expected 168 true/false values, one per hour of the week "
                    "from Sunday 00:00",
                )
            ]
        )
    grid = cells[24:] + cells[:24]  # Sunday first -> Monday first
    if not any(grid):
        return {}, "its backup window allows no hour: it never runs"
    offset = as_int(settings, "minuteOffset", low=-24 * 60)
    zone = f", minuteOffset {offset}" if offset is not None else ""
    return {
        "allowed_hours": Note(
            allowed_hours_entries(grid),
            "from the export: the backup window's allowed hours (168 hours from Sunday 00:00, "
            f"INFERRED order; the server's local time{zone})",
        ),
        "terminate_on_window": Note(
            True, "from the export: the window is enabled, so a session exceeding it stops"
        ),
    }, ""


def _is_copy(rec: Record) -> bool:
    """A backup copy job (REST ``/CopyJobs``: ``backupJobId``; PowerShell ``Get-VBOCopyJob``:
    ``BackupJob``, ``JobType`` Copy)."""
    jtype = rec.get("jobType", "JobType")
    return rec.has("backupJobId", "BackupJob") or (
        isinstance(jtype, str) and jtype.lower() == "copy"
    )


_COPY_KINDS = ("Immediate", "DailyAtTime", "Daily", "Periodically", "Periodic")
"""Backup copy schedule types: REST ``Immediate``/``DailyAtTime``/``Periodically``,
PowerShell ``VBOCopyJobFrequencyType`` ``Immediate``/``Periodically``/``Daily``."""


def _exported(export: Export, resource: Resource, exclude: Any = None) -> set[str]:
    """IDs (lower case) and names (lower case) of every record of a resource in the export."""
    out: set[str] = set()
    for r in export.records(resource):
        if exclude is not None and exclude(r):
            continue
        for value in (ident(r.get("id", "Id")), r.get("name", "Name")):
            if isinstance(value, str) and value:
                out.add(value.lower())
    return out


def _copy_job(
    rec: Record,
    jobs: tuple[dict[str, str], dict[str, str]],
    repos: tuple[dict[str, str], dict[str, str]],
    export: Export,
    excl: list[Exclusion],
) -> dict[str, Any] | None:
    """A backup copy job's source job, target repository and schedule (vb365 fact 33), or None
    when it is left out (the exclusion appended). ``jobs`` and ``repos`` map the imported
    backup jobs and repositories by VB365 ID and by name (lower case). A source or target in
    the export but left out leaves the copy out; one not in the export is an error."""
    job_by_id, job_by_name = jobs
    repo_by_id, repo_by_name = repos
    raw_name = rec.get("name", "Name")
    where = f"{rec.file}: {rec.where}"
    src_ref = rec.get("backupJobId", "BackupJob")
    source, key = _lookup(src_ref, job_by_id, job_by_name)
    shown = raw_name or f"copy of {key}"
    what = f"backup copy job {shown}"
    if as_bool(rec, "isEnabled", "IsEnabled") is False:
        excl.append(Exclusion(what, where, "the job is disabled"))
        return None
    if source is None:
        field = rec.field_name("backupJobId", "BackupJob")
        if key is None:
            raise ExportError([rec.problem(field, "a backup copy job without its backup job")])
        if key not in _exported(export, "job", exclude=_is_copy):
            raise ExportError(
                [
                    rec.problem(
                        field,
                        f"backup job {key!r} is not among the exported jobs: export them "
                        "(GET /v8/Jobs or Get-VBOJob)",
                    )
                ]
            )
        excl.append(Exclusion(what, where, f"its backup job {key} was left out"))
        return None
    repo_ref = rec.get("repositoryId", "Repository")
    repo, rkey = _lookup(repo_ref, repo_by_id, repo_by_name)
    if repo is None:
        field = rec.field_name("repositoryId", "Repository")
        if rkey is None:
            raise ExportError([rec.problem(field, "a backup copy job without its target")])
        if rkey not in _exported(export, "repository"):
            raise ExportError(
                [
                    rec.problem(
                        field,
                        f"repository {rkey!r} is not among the exported repositories: export "
                        "them (GET /v8/BackupRepositories or Get-VBORepository)",
                    )
                ]
            )
        excl.append(Exclusion(what, where, f"its target repository {rkey} was left out"))
        return None
    pol = rec.sub("schedulePolicy", "SchedulePolicy")
    if pol is None:
        raise ExportError([rec.problem("schedulePolicy", "a backup copy job without a schedule")])
    kind = enum_name(pol, "type", "Type", allowed=_COPY_KINDS)
    if kind is None:
        raise ExportError(
            [
                pol.problem(
                    "type", "missing field 'type'; allowed: Immediate, DailyAtTime, Periodically"
                )
            ]
        )
    sched: dict[str, Any] = {}
    if kind == "Immediate":
        sched["after_source"] = Note(
            True, "from the export: Immediate, right after each session of its backup job"
        )
    elif kind in ("Periodically", "Periodic"):
        sched.update(_periodic(pol))
    else:
        sched.update(_daily(pol))
    window, why = _window(pol)
    if why:
        excl.append(Exclusion(what, where, why))
        return None
    sched.update(window)
    return {"source_job": source, "repository": repo, "schedule": sched}


def _periodic(pol: Record) -> dict[str, Any]:
    every = enum_name(pol, "periodicallyEvery", "PeriodicallyEvery", allowed=_PERIODS)
    if every is None:
        raise ExportError(
            [pol.problem("periodicallyEvery", "a periodic schedule without its interval")]
        )
    return {"periodic": Note(_PERIODS[every], f"from the export: {every}")}


def _daily(pol: Record) -> dict[str, Any]:
    time = _timespan(pol, "dailyTime") or "15:00"
    days_name = enum_name(pol, "dailyType", "DailyType", allowed=_DAYS) or "Everyday"
    sched: dict[str, Any] = {
        "daily": Note(
            time,
            "from the export"
            if pol.has("dailyTime")
            else "not in the export: VB365's default 15:00 (vb365 fact 35)",
        )
    }
    days = _DAYS[days_name]
    if days is not None:
        sched["days"] = Note(days, f"from the export: {days_name}")
    return sched


def _retry(rec: Record) -> dict[str, Any] | None:
    pol = rec.sub("schedulePolicy", "SchedulePolicy")
    if pol is None or as_bool(pol, "retryEnabled", "RetryEnabled") is not True:
        return None
    attempts = as_int(pol, "retryNumber", "RetryNumber", low=1) or 3
    wait = as_int(pol, "retryWaitInterval", "RetryWaitInterval", low=1) or 10
    return {
        "attempts": Note(attempts, "from the export"),
        "wait": Note(f"{wait}min", "from the export (minutes)"),
    }


def _job_workloads(rec: Record, org: list[str]) -> tuple[list[str], str]:
    btype = enum_name(
        rec,
        "backupType",
        "JobBackupType",
        allowed=("EntireOrganization", "SelectedItems", "PartialOrganization"),
    )
    items = rec.get("selectedItems", "SelectedItems")
    if btype == "EntireOrganization" or not items:
        why = "EntireOrganization" if btype == "EntireOrganization" else "no selected items"
        return list(org), f"from the export: {why}, so every workload of the organization"
    if not isinstance(items, list):
        items = [items]
    found: set[str] = set()
    for i, item in enumerate(items):
        if isinstance(item, dict):
            sub = Record(rec.file, f"{rec.where}.selectedItems[{i}]", item)
            found.update(_item_workloads(sub, org))
    chosen = [w for w in WORKLOADS if w in found and w in org]
    return chosen, (
        f"from the export: the workloads of its {len(items)} selected items; it covers all "
        "the tenant's objects of these workloads (the export has no sizes: set share)"
    )


def parse_ram(text: str) -> str:
    """Check a ``--proxy-ram`` value (a size with a unit) and return it as given."""
    if re.fullmatch(r"\s*[0-9][0-9_.,]*\s*", text):
        raise ValueError("a size needs a unit, e.g. '32 GiB' or '64 GB'")
    value = parse_size(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r} is not a positive size")
    return text
