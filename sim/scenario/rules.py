"""VB365 rules a scenario must obey, beyond field types (vb365 facts 4, 6, 28).

Each rule returns problems as (path, message); the loader attaches file positions.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 4: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
vb365 fact 11: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_backup_copy.html
vb365 fact 28: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_osr.html
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sim.scenario.calendar import parse_allowed_hours
from sim.scenario.schema import ARCHIVE_KINDS, BLOCK_KINDS, PERIODS_S, RepositorySpec, Scenario
from sim.scenario.suggest import did_you_mean

Loc = tuple[str | int, ...]


def check_rules(sc: Scenario) -> list[tuple[Loc, str]]:
    """All rule violations of a structurally valid scenario."""
    out: list[tuple[Loc, str]] = []
    out += _unique_names(sc)
    out += _mode(sc)
    out += _incidents(sc)
    proxies = {p.name: p for p in sc.proxies}
    pools = {p.name: p for p in sc.pools}
    tenants = {t.name for t in sc.tenants}
    repos = {r.name: r for r in sc.repositories}

    pool_of: dict[str, str] = {}
    for i, pool in enumerate(sc.pools):
        seen: set[str] = set()
        for j, member in enumerate(pool.members):
            loc: Loc = ("pools", i, "members", j)
            if member not in proxies:
                out.append(
                    (
                        loc,
                        f"unknown proxy '{member}'"
                        f"{did_you_mean(member, proxies, kind='proxy', elsewhere={'pool': pools})}"
                        f"; proxies are: "
                        f"{_names(proxies)}",
                    )
                )
                continue
            if member in seen:
                out.append((loc, f"proxy '{member}' is listed twice in pool '{pool.name}'"))
                continue
            seen.add(member)
            if proxies[member].default:
                out.append(
                    (loc, f"'{member}' is the default proxy, which cannot be added to a pool")
                )
            if member in pool_of:
                out.append(
                    (
                        loc,
                        f"proxy '{member}' is already a member of pool '{pool_of[member]}'; "
                        "a proxy can belong to only one pool at a time",
                    )
                )
            else:
                pool_of[member] = pool.name
        dns = Counter(_dns(proxies[m].dns or m) for m in seen)
        for name, count in dns.items():
            if count > 1:
                out.append(
                    (
                        ("pools", i, "members"),
                        f"pool '{pool.name}' has {count} members with DNS name '{name}'; "
                        "members must be reachable by distinct DNS names",
                    )
                )
        active = [m for m in seen if proxies[m].state == "active"]
        if seen and not active:
            out.append(
                (
                    ("pools", i, "members"),
                    f"pool '{pool.name}' has no active member at the start; "
                    "at least one member must be active",
                )
            )

    for i, repo in enumerate(sc.repositories):
        loc = ("repositories", i, "owner")
        sd = repo.slow_down
        if sd is not None:
            if repo.kind in BLOCK_KINDS:
                out.append(
                    (
                        ("repositories", i, "slow_down"),
                        f"repository '{repo.name}' is a '{repo.kind}' disk; 503 Slow Down is an "
                        "object-storage answer",
                    )
                )
            if sd.max_partitions < sd.partitions:
                out.append(
                    (
                        ("repositories", i, "slow_down", "max_partitions"),
                        f"max_partitions ({sd.max_partitions}) must be at least partitions "
                        f"({sd.partitions})",
                    )
                )
        if repo.owner in pools:
            if repo.kind in BLOCK_KINDS:
                out.append(
                    (
                        ("repositories", i, "kind"),
                        f"repository '{repo.name}' is owned by pool '{repo.owner}' but is "
                        f"'{repo.kind}'; pools work only with object-storage repositories",
                    )
                )
        elif repo.owner in proxies:
            if repo.owner in pool_of:
                out.append(
                    (
                        loc,
                        f"proxy '{repo.owner}' is a member of pool '{pool_of[repo.owner]}'; "
                        "a repository is owned by a pool or by a standalone proxy",
                    )
                )
        else:
            owners = [*pools, *(p for p in proxies if p not in pool_of)]  # pooled ones cannot
            out.append(
                (
                    loc,
                    f"unknown owner '{repo.owner}'{did_you_mean(repo.owner, owners)}"
                    "; a repository is owned by one pool "
                    f"({_names(pools)}) or one standalone proxy",
                )
            )

    for i, job in enumerate(sc.jobs):
        if job.tenant not in tenants:
            out.append(
                (
                    ("jobs", i, "tenant"),
                    f"unknown tenant '{job.tenant}'{did_you_mean(job.tenant, tenants)}; "
                    f"tenants are: {', '.join(sorted(tenants))}",
                )
            )
        target = repos.get(job.repository)
        if target is None:
            out.append(
                (
                    ("jobs", i, "repository"),
                    f"unknown repository '{job.repository}'{did_you_mean(job.repository, repos)}"
                    f"; repositories are: {_names(repos)}",
                )
            )
            continue
        if target.kind in ARCHIVE_KINDS and job.type != "backup_copy":
            out.append(
                (
                    ("jobs", i, "repository"),
                    f"repository '{target.name}' is {target.kind}, an archive tier allowed only "
                    "as a backup-copy target",
                )
            )
        if len(set(job.workloads)) != len(job.workloads):
            out.append((("jobs", i, "workloads"), "a workload is listed twice"))
        if job.share_offset + job.share > 1.0 + 1e-9:
            out.append((("jobs", i, "share"), "share_offset + share must not exceed 1"))
        out += _job_kind(sc, i, repos)
        out += _schedule(sc, i)
    return out


def _job_kind(sc: Scenario, i: int, repos: Mapping[str, RepositorySpec]) -> list[tuple[Loc, str]]:
    """Backup copies copy a backup job into a repository of the same owner (vb365 fact 11)."""
    job = sc.jobs[i]
    out: list[tuple[Loc, str]] = []
    jobs = {j.name: j for j in sc.jobs}
    if job.type == "backup_copy":
        src = jobs.get(job.source_job) if job.source_job is not None else None
        if job.source_job is None:
            out.append((("jobs", i, "type"), "a backup_copy job needs 'source_job'"))
        elif src is None or src.type != "backup":
            out.append(
                (
                    ("jobs", i, "source_job"),
                    f"'{job.source_job}' is not a backup job of this scenario",
                )
            )
        elif src.repository in repos and job.repository in repos:
            a, b = repos[src.repository], repos[job.repository]
            if a.owner != b.owner:
                out.append(
                    (
                        ("jobs", i, "repository"),
                        f"copy target '{b.name}' is owned by '{b.owner}' but the source "
                        f"repository '{a.name}' by '{a.owner}'; source and target must belong "
                        "to the same proxy or pool",
                    )
                )
            if a.name == b.name:
                out.append((("jobs", i, "repository"), "a copy cannot target its own source"))
            if src.tenant != job.tenant:
                out.append((("jobs", i, "tenant"), "a copy's tenant must be its source's"))
    elif job.source_job is not None:
        out.append((("jobs", i, "source_job"), "only backup_copy jobs have a source_job"))
    if job.source_repository is not None:
        if job.type != "restore":
            out.append(
                (("jobs", i, "source_repository"), "only restore jobs have a source_repository")
            )
        elif job.source_repository not in repos:
            out.append(
                (
                    ("jobs", i, "source_repository"),
                    f"unknown repository '{job.source_repository}'"
                    f"{did_you_mean(job.source_repository, repos)}; repositories are: "
                    f"{_names(repos)}",
                )
            )
    return out


def _schedule(sc: Scenario, i: int) -> list[tuple[Loc, str]]:
    """Exactly one kind of schedule, with the values VB365 offers (vb365 fact 35)."""
    job = sc.jobs[i]
    s = job.schedule
    loc: Loc = ("jobs", i, "schedule")
    out: list[tuple[Loc, str]] = []
    kinds = [
        k
        for k, v in (
            ("daily", s.daily),
            ("periodic", s.periodic),
            ("once", s.once),
            ("after_source", s.after_source or None),
        )
        if v is not None
    ]
    if len(kinds) != 1:
        out.append(
            (
                loc,
                "give exactly one of daily, periodic, once or after_source"
                + (f" (got {', '.join(kinds)})" if kinds else ""),
            )
        )
    if s.after_source and job.type != "backup_copy":
        out.append(((*loc, "after_source"), "after_source is for backup_copy jobs only"))
    if s.periodic is not None and int(s.periodic) not in PERIODS_S:
        out.append(
            (
                (*loc, "periodic"),
                "allowed periods: 5min, 10min, 15min, 30min, 1h, 2h, 4h, 8h, 12h",
            )
        )
    if not 0 <= s.offset <= 59 * 60:
        out.append(((*loc, "offset"), "the offset is 0-59 minutes"))
    if s.days is not None and s.daily is None:
        out.append(((*loc, "days"), "days apply to daily schedules only"))
    if s.allowed_hours is not None:
        try:
            grid = parse_allowed_hours(s.allowed_hours)
        except ValueError as exc:
            out.append(((*loc, "allowed_hours"), str(exc)))
        else:
            if not grid.any():
                out.append(((*loc, "allowed_hours"), "the grid allows no hour at all"))
    if s.terminate_on_window and s.window is None and s.allowed_hours is None:
        out.append(
            ((*loc, "terminate_on_window"), "terminate_on_window needs a window or allowed_hours")
        )
    return out


def _dns(name: str) -> str:
    """DNS names compare case-insensitively and without a trailing root dot (RFC 4343)."""
    return name.lower().rstrip(".")


def _names(d: Mapping[str, object]) -> str:
    return ", ".join(sorted(d)) or "(none)"


def _unique_names(sc: Scenario) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    for section in ("tenants", "proxies", "pools", "repositories", "jobs"):
        first: dict[str, int] = {}
        for i, item in enumerate(getattr(sc, section)):
            if item.name in first:
                out.append(
                    (
                        (section, i, "name"),
                        f"duplicate name '{item.name}' (also {section}[{first[item.name]}])",
                    )
                )
            else:
                first[item.name] = i
    proxy_names = {p.name for p in sc.proxies}
    for i, pool in enumerate(sc.pools):
        if pool.name in proxy_names:
            out.append((("pools", i, "name"), f"pool name '{pool.name}' is also a proxy name"))
    dns_first: dict[str, int] = {}
    for i, p in enumerate(sc.proxies):
        dns = _dns(p.dns or p.name)
        if dns in dns_first:
            out.append(
                (
                    ("proxies", i, "dns"),
                    f"DNS name '{dns}' is also used by proxies[{dns_first[dns]}]",
                )
            )
        else:
            dns_first[dns] = i
    defaults = [i for i, p in enumerate(sc.proxies) if p.default]
    for i in defaults[1:]:
        out.append((("proxies", i, "default"), "only one proxy can be the default proxy"))
    return out


def _mode(sc: Scenario) -> list[tuple[Loc, str]]:
    """A scenario is either a backup estate (tenants, repositories, jobs) or synthetic."""
    out: list[tuple[Loc, str]] = []
    syn = sc.synthetic
    if syn is None:
        for section in ("tenants", "repositories", "jobs"):
            if not getattr(sc, section):
                out.append(
                    (
                        (section,),
                        f"'{section}' needs at least one entry (or give a 'synthetic' section "
                        "for synthetic mode)",
                    )
                )
        return out
    for section in ("tenants", "repositories", "jobs"):
        if getattr(sc, section):
            out.append(
                (
                    (section,),
                    f"synthetic mode has no '{section}'; remove them or the 'synthetic' section",
                )
            )
    names = {p.name for p in sc.proxies} | {p.name for p in sc.pools}
    pooled = {m for p in sc.pools for m in p.members}
    if syn.target not in names:
        targets = sorted(names - pooled)  # a pooled proxy is no target: its pool is
        out.append(
            (
                ("synthetic", "target"),
                f"unknown target '{syn.target}'{did_you_mean(syn.target, targets)}; give a pool "
                "or a proxy",
            )
        )
    elif syn.target in pooled:
        out.append(
            (
                ("synthetic", "target"),
                f"proxy '{syn.target}' is a pool member; target its pool or a standalone proxy",
            )
        )
    arr = syn.arrivals
    if arr.process == "poisson" and arr.rate is None:
        out.append((("synthetic", "arrivals", "rate"), "Poisson arrivals need a rate"))
    if arr.process == "poisson" and arr.rate is not None and arr.rate <= 0:
        out.append((("synthetic", "arrivals", "rate"), "the arrival rate must be > 0"))
    if arr.process == "trace" and arr.trace is None:
        out.append((("synthetic", "arrivals", "trace"), "trace arrivals need a trace file"))
    if syn.warmup_tasks >= syn.tasks and arr.process == "poisson":
        out.append((("synthetic", "warmup_tasks"), "warmup_tasks must be below tasks"))
    sz = syn.sizes
    loc: Loc = ("synthetic", "sizes")
    if sz.distribution == "empirical":
        if not sz.values:
            out.append((loc, "an empirical distribution needs 'values'"))
    elif sz.mean is None or sz.mean <= 0:
        out.append((loc, f"a {sz.distribution} distribution needs a 'mean' > 0"))
    if sz.distribution in ("lognormal", "hyperexponential") and sz.scv is None:
        out.append((loc, f"a {sz.distribution} distribution needs 'scv'"))
    if sz.distribution == "hyperexponential" and sz.scv is not None and sz.scv < 1:
        out.append((loc, "a balanced hyperexponential needs scv >= 1"))
    if sz.distribution == "pareto" and sz.alpha is None:
        out.append((loc, "a pareto distribution needs 'alpha' > 1"))
    if syn.interruptions is not None and syn.service != "processor_sharing":
        out.append(
            (
                ("synthetic", "interruptions"),
                "interruptions need service: processor_sharing (threads: 1 gives FCFS)",
            )
        )
    if syn.vacations is not None and syn.vacations.mean <= 0:
        out.append((("synthetic", "vacations", "mean"), "the mean vacation must be > 0"))
    if (
        syn.interruptions is not None
        and min(syn.interruptions.mean_up, syn.interruptions.mean_down) <= 0
    ):
        out.append((("synthetic", "interruptions"), "mean_up and mean_down must be > 0"))
    if syn.thread_rate is not None and syn.thread_rate <= 0:
        out.append((("synthetic", "thread_rate"), "thread_rate must be > 0"))
    return out


def _incidents(sc: Scenario) -> list[tuple[Loc, str]]:
    """Random failures and rotating maintenance: names that exist, laws with the parameters
    they need, rotations that fit in their interval and in the run."""
    from sim.scenario.horizon import horizon_s
    from sim.scenario.lifecycle_rules import rotation_requests
    from sim.units import format_duration

    out: list[tuple[Loc, str]] = []
    proxies = {p.name for p in sc.proxies}
    pools = {p.name: p.members for p in sc.pools}
    for i, f in enumerate(sc.failures):
        for j, name in enumerate(f.proxies or []):
            if name not in proxies:
                out.append(
                    (
                        ("failures", i, "proxies", j),
                        f"unknown proxy '{name}'"
                        f"{did_you_mean(name, proxies, kind='proxy', elsewhere={'pool': pools})}"
                        f"; proxies are: {_names(dict.fromkeys(proxies))}",
                    )
                )
        for which in ("mtbf", "mttr"):
            law = getattr(f, which)
            if law.distribution == "lognormal" and law.sigma is None:
                out.append(
                    (
                        ("failures", i, which, "distribution"),
                        "a lognormal law needs 'sigma' (standard deviation of the log), e.g. 0.5",
                    )
                )
            if law.distribution != "lognormal" and law.sigma is not None:
                out.append(
                    (
                        ("failures", i, which, "sigma"),
                        f"'sigma' is for the lognormal law only; this law is '{law.distribution}'",
                    )
                )
    for i, rot in enumerate(sc.maintenance_rotations):
        loc: Loc = ("maintenance_rotations", i)
        if rot.pool not in pools:
            hint = did_you_mean(rot.pool, pools, kind="pool", elsewhere={"proxy": proxies})
            out.append(
                ((*loc, "pool"), f"unknown pool '{rot.pool}'{hint}; pools are: {_names(pools)}")
            )
            continue
        for j, name in enumerate(rot.members or []):
            if name not in pools[rot.pool]:
                out.append(
                    (
                        (*loc, "members", j),
                        f"'{name}' is not a member of pool '{rot.pool}'; "
                        f"its members are: {', '.join(pools[rot.pool])}",
                    )
                )
        if rot.duration > rot.interval:
            out.append(
                (
                    (*loc, "duration"),
                    f"{format_duration(rot.duration)} is longer than the interval "
                    f"({format_duration(rot.interval)}); a rotation takes one member at a time",
                )
            )
    if out:
        return out
    h = horizon_s(sc)
    late: dict[Loc, float] = {}
    for req in rotation_requests(sc):
        if req.t >= h and req.loc not in late:
            late[req.loc] = req.t
    for loc, t in late.items():
        out.append(
            (
                loc,
                f"its request at {format_duration(t)} falls after the simulation horizon "
                f"({format_duration(h)}: {sc.simulation.days} simulated day(s) + safety margin); "
                "fewer cycles or a longer run",
            )
        )
    return out
