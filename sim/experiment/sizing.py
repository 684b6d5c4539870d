"""Capacity search: the smallest pool that meets the backup window, decided on a confidence bound.

A replication *meets the window* when every session of the chosen jobs (all jobs with a window
by default) finished inside it; a skipped or stopped session misses. Compliance at pool size n is
the fraction of R replications that met it. A size *passes* when the one-sided lower confidence
bound of its compliance (Wilson score bound at ``confidence``) is at least the ``compliance``
asked for: 20 of 20 replications prove "at least 88 %" at 95 % confidence, not "100 %". The
answer is the smallest passing size. All sizes run the same replication seeds (common random
numbers), so the curve compares pool sizes on the same workloads.

The search assumes compliance does not fall when proxies are added: it starts at the pool's
current size, doubles up until a size passes (or the maximum is reached), then bisects between
the largest failing and the smallest passing size. Every evaluated size is kept as evidence, and
a size that passes below one that fails is reported as non-monotone.

It stops early when adding proxies cannot help: a missed session is *proxy-independent* when at
least ``PROXY_INDEPENDENT_SHARE`` of its transfer time was limited by capacity no proxy adds (the
tenant's Microsoft 365 budgets or the repository), or when one of its objects, held by its own
per-connection ceiling, ran longer than the window on its own (one thread processes one object
at a time). Replications with such a miss miss at every larger size too; when even all the
others meeting the window could not lift the lower bound to the target, the search ends with
the bottleneck named.

Pool size n keeps the pool's first n members in their order and, past the current size, adds
copies of a template proxy (default: the pool's first member; its size can be changed with
``--set proxies.NAME.cores=...``) named ``<template>-x<k>``.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import Problem, ScenarioError
from sim.experiment.executors import Executor
from sim.experiment.replicate import replication_seeds
from sim.experiment.run import simulate
from sim.experiment.stats import wilson_interval
from sim.scenario import LoadedScenario
from sim.scenario.loader import validate_data
from sim.scenario.overrides import apply_override
from sim.scenario.suggest import did_you_mean
from sim.scenario.yamlsource import load_yaml_file

TARGETS = ("window",)
MAX_POOL = 4096
PROXY_INDEPENDENT_SHARE = 0.95
"""A missed session limited by the tenant or the repository in at least this share of its
transfer time is one that more proxies cannot shorten."""
OBJECT_CEILING_SHARE = 0.95
"""An object limited by its own per-connection ceiling in at least this share of its transfer
time ran as fast as one thread lets it: its duration does not depend on the pool."""


def _err(path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem("size", None, None, path, message)])


def compliance_bounds(met: int, n: int, confidence: float) -> tuple[float, float]:
    """One-sided Wilson bounds (lower, upper) of a proportion at ``confidence`` each, clamped
    into [0, 1] and around the point estimate (so error bars are never negative)."""
    if n == 0:
        return math.nan, math.nan
    p = met / n
    low, high = wilson_interval(met, n, 2.0 * confidence - 1.0)
    return min(max(0.0, low), p), max(min(1.0, high), p)


def replications_needed(compliance: float, confidence: float, limit: int = 100_000) -> int:
    """The fewest replications whose lower bound can reach ``compliance`` (all of them met)."""
    n = 1
    while n < limit and compliance_bounds(n, n, confidence)[0] < compliance:
        n = n * 2 if compliance_bounds(2 * n, 2 * n, confidence)[0] < compliance else n + 1
    return n


@dataclass(frozen=True)
class SizeProblem:
    """What to size: the scenario (raw data), the pool, the template proxy, the jobs."""

    data: dict[str, Any]
    positions: dict[tuple[str | int, ...], tuple[int, int]]
    file: str
    path: Path
    pool: str
    template: str
    current: int
    jobs: tuple[str, ...]
    overrides: tuple[str, ...] = ()

    def scenario(self, n: int) -> LoadedScenario:
        """The scenario with pool size ``n``."""
        data = copy.deepcopy(self.data)
        pool = next(p for p in data["pools"] if p.get("name") == self.pool)
        members: list[str] = list(pool["members"])
        keep, drop = members[:n], members[n:]
        proxies: list[dict[str, Any]] = data["proxies"]
        template = next(p for p in proxies if p.get("name") == self.template)
        names = {p.get("name") for p in proxies}
        k = 1
        while len(keep) < n:
            name = f"{self.template}-x{k}"
            k += 1
            if name in names:
                continue
            clone = {key: v for key, v in template.items() if key not in ("dns", "default")}
            clone["name"] = name
            clone["state"] = "active"
            proxies.append(clone)
            names.add(name)
            keep.append(name)
        data["proxies"] = [p for p in proxies if p.get("name") not in set(drop)]
        pool["members"] = keep
        loaded = validate_data(data, self.positions, self.file, (), self.path)
        # the overrides are already in ``data``; recorded so the manifest names them
        return dataclasses.replace(loaded, overrides=self.overrides)


def size_problem(
    scenario: str | Path,
    overrides: Sequence[str] = (),
    pool: str | None = None,
    proxy: str | None = None,
    backup_jobs: Sequence[str] = (),
    target: str = "window",
) -> SizeProblem:
    """Check what is to be sized and return it; ScenarioError names the problem."""
    if target not in TARGETS:
        raise _err(
            "--target",
            f"unknown target '{target}'{did_you_mean(target, TARGETS)}; allowed: "
            f"{', '.join(TARGETS)}",
        )
    path = Path(scenario)
    data, positions = load_yaml_file(path)
    if not isinstance(data, dict):
        raise _err("", "a scenario is a mapping of sections")
    data = copy.deepcopy(data)
    for o in overrides:
        apply_override(data, o)
    loaded = validate_data(data, positions, str(path), (), path)  # every other check first
    sc = loaded.spec
    pools = [p.name for p in sc.pools]
    if not pools:
        raise _err("pools", "the scenario has no pool to size")
    if pool is None:
        if len(pools) > 1:
            raise _err(
                "--pool", f"the scenario has {len(pools)} pools; name one: {', '.join(pools)}"
            )
        pool = pools[0]
    if pool not in pools:
        raise _err(
            "--pool",
            f"unknown pool '{pool}'{did_you_mean(pool, pools)}; pools are: {', '.join(pools)}",
        )
    spec = next(p for p in sc.pools if p.name == pool)
    template = proxy or spec.members[0]
    if template not in {p.name for p in sc.proxies}:
        proxy_names = [p.name for p in sc.proxies]
        raise _err(
            "--proxy",
            f"unknown proxy '{template}'{did_you_mean(template, proxy_names)}; proxies are: "
            f"{', '.join(proxy_names)}",
        )
    owned = {r.name for r in sc.repositories if r.owner == pool}
    windowed = [j for j in sc.jobs if j.repository in owned and j.schedule.window is not None]
    if backup_jobs:
        known = [j.name for j in sc.jobs]
        bad = [j for j in backup_jobs if j not in known]
        if bad:
            raise _err(
                "--job",
                f"unknown job {', '.join(bad)}{did_you_mean(bad[0], known)}; jobs are: "
                f"{', '.join(known)}",
            )
        chosen = [j for j in sc.jobs if j.name in backup_jobs]
        no_window = [j.name for j in chosen if j.schedule.window is None]
        if no_window:
            raise _err("--job", f"job {', '.join(no_window)} has no window to meet")
        names = tuple(j.name for j in chosen)
    else:
        if not windowed:
            raise _err(
                "jobs",
                f"no job writing through pool '{pool}' has a backup window "
                "(schedule.window); --target window needs one",
            )
        names = tuple(j.name for j in windowed)
    return SizeProblem(
        data,
        positions,
        str(path),
        path,
        pool,
        template,
        len(spec.members),
        names,
        tuple(overrides),
    )


def met_window(sessions: pd.DataFrame, jobs: Sequence[str]) -> bool:
    """Every session of ``jobs`` in this run finished within its window."""
    s = sessions[sessions["job"].isin(list(jobs))]
    return bool(len(s) > 0 and s["within_window"].all())


@dataclass(frozen=True)
class Blocker:
    """A missed session that more proxies cannot bring inside its window, and why."""

    job: str
    day: int
    kind: str
    """``tenant`` or ``repository`` (shared capacity no proxy adds), or ``object`` (one object
    at its own per-connection ceiling outlasts the window)."""
    resource: str
    """The tenant, the repository, or the object's type."""
    share: float
    """Share of the session's transfer time limited by that kind (tenant + repository for the
    shared kinds; the object's own share for ``object``)."""
    hours: float
    """The object's duration (``object``) or the session's makespan, hours."""

    def describe(self) -> str:
        """One human line."""
        day = f"day {self.day}"  # the sessions table counts days from 1
        if self.kind == "object":
            return (
                f"{self.job} ({day}): one {self.resource} takes {self.hours:.1f} h on its own, "
                "held by its Microsoft 365 per-connection limit; no pool size splits an object"
            )
        what = (
            f"tenant '{self.resource}' (its Microsoft 365 limits, source)"
            if self.kind == "tenant"
            else f"repository '{self.resource}' (target)"
        )
        return (
            f"{self.job} ({day}) is bound by {what} in {self.share:.0%} of its transfer time; "
            "more proxies share the same capacity"
        )


def session_blockers(
    sessions: pd.DataFrame,
    tasks: pd.DataFrame,
    jobs: Sequence[str],
    tenants: dict[str, str],
    repositories: dict[str, str],
) -> list[Blocker]:
    """The proxy-independent misses among the sessions of ``jobs`` (see the module docstring).

    Tasks are matched to sessions per job in time order (the k-th distinct task session of a
    job is its k-th session that ran), so the numbering of either table does not matter.
    """
    out: list[Blocker] = []
    cols = ["thread_s", "source_s", "proxy_s", "target_s"]
    for job in jobs:
        s = sessions[sessions["job"] == job]
        ran = s[~s["skipped"].astype(bool) & (s["objects"] > 0)]
        t = tasks[tasks["job"] == job]
        ids = sorted(t["session"].unique())
        if len(ids) != len(ran):
            continue  # cannot pair them; claim nothing
        for sid, row in zip(ids, ran.itertuples(), strict=True):
            if bool(row.within_window):
                continue
            ts = t[t["session"] == sid]
            xfer = ts[cols].to_numpy(dtype=float)
            total = float(xfer.sum())
            if total <= 0:
                continue
            per = xfer.sum(axis=0) / total
            shared = float(per[1] + per[3])
            if shared >= PROXY_INDEPENDENT_SHARE:
                tenant_side = per[1] >= per[3]
                out.append(
                    Blocker(
                        job,
                        int(row.day),
                        "tenant" if tenant_side else "repository",
                        tenants.get(job, "?") if tenant_side else repositories.get(job, "?"),
                        shared,
                        float(row.makespan_s) / 3600.0,
                    )
                )
                continue
            own = xfer.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ceiling = np.where(own > 0, xfer[:, 0] / own, 0.0)
            dur = (ts["end"] - ts["start"]).to_numpy(dtype=float)
            cand = np.isfinite(dur) & (ceiling >= OBJECT_CEILING_SHARE)
            if cand.any() and np.isfinite(row.window_s):
                i = int(np.argmax(np.where(cand, dur, -np.inf)))
                if dur[i] > float(row.window_s):
                    out.append(
                        Blocker(
                            job,
                            int(row.day),
                            "object",
                            str(ts["otype"].iloc[i]),
                            float(ceiling[i]),
                            float(dur[i]) / 3600.0,
                        )
                    )
    return out


@dataclass(frozen=True)
class SizeRunSpec:
    """One replication at one pool size (picklable: goes to worker processes)."""

    scenario: LoadedScenario
    seed: int
    replication: int
    jobs: tuple[str, ...]


@dataclass
class SizeRun:
    """What one replication sends back: met or not, and the proxy-independent misses."""

    replication: int
    seed: int
    met: bool = False
    makespan_max_h: float = math.nan
    sessions_missed: int = 0
    blockers: list[Blocker] = field(default_factory=list)
    error: str | None = None


def execute_size(spec: SizeRunSpec) -> SizeRun:
    """Run one replication and reduce it to what the search needs (an error is data)."""
    try:
        result = simulate(spec.scenario, seed=spec.seed)
        sessions = result.sessions
        s = sessions[sessions["job"].isin(list(spec.jobs))]
        sc = spec.scenario.spec
        blockers = session_blockers(
            sessions,
            result.tasks,
            spec.jobs,
            {j.name: j.tenant for j in sc.jobs},
            {j.name: j.repository for j in sc.jobs},
        )
        return SizeRun(
            spec.replication,
            spec.seed,
            met_window(sessions, spec.jobs),
            float(s["makespan_s"].max()) / 3600.0 if len(s) else math.nan,
            int((~s["within_window"].astype(bool)).sum()),
            blockers,
        )
    except Exception as exc:
        return SizeRun(spec.replication, spec.seed, error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class SizeProgress:
    """Where the search is: runs finished, an upper bound of all runs, the size running."""

    runs_done: int
    runs_bound: int
    pool_size: int


@dataclass(frozen=True)
class SizeStep:
    """One evaluated size, as the search saw it."""

    pool_size: int
    met: int
    replications: int
    compliance: float
    lower: float
    passes: bool


@dataclass
class SizeResult:
    """The answer (None: not met) and the evidence."""

    answer: int | None
    pool: str
    template: str
    current: int
    compliance: float
    """The compliance asked for: the share of replications that must meet the window."""
    confidence: float
    """The confidence of the lower bound the decision is made on."""
    jobs: tuple[str, ...]
    seeds: list[int]
    curve: pd.DataFrame
    runs: pd.DataFrame
    monotone: bool
    scenario: LoadedScenario | None = None
    """The scenario at the answer's size (or the largest size tried)."""
    seed: int = 0
    """The root seed the replication seeds come from."""
    stop_reason: str | None = None
    """Why the search ended without an answer before ``max_size`` (None: it did not)."""
    blockers: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The proxy-independent misses behind ``stop_reason``: one row per replication and
    session."""
    max_size: int = 0
    error: str | None = None
    """Runs raised at some size; the search stopped there (the evidence so far is kept)."""


def _search_bound(a: int, b: int, up: bool) -> int:
    """At most how many more sizes the search evaluates after the one running.

    Doubling from ``a`` towards the maximum ``b`` (then bisecting the last doubling), or
    bisecting when the size running splits the interval into ``a`` and ``b`` sizes.
    """
    if not up:
        return max(0, math.ceil(math.log2(max(1, max(a, b)))))
    steps, prev, n = 0, a, a
    while n < b:
        prev, n = n, min(b, n * 2)
        steps += 1
    return steps + max(0, math.ceil(math.log2(max(1, n - prev))) - 1)


def check_size_options(
    compliance: float, confidence: float, replications: int, min_size: int, max_size: int
) -> None:
    """The search's options are usable (ScenarioError names the one that is not), including
    enough replications for the lower bound to reach ``compliance`` at all."""
    if not 0.0 < compliance <= 1.0:
        raise _err("--compliance", f"must be in (0, 1], got {compliance}")
    if not 0.5 <= confidence < 1.0:
        raise _err(
            "--confidence", f"must be in [0.5, 1) (0.5: the point estimate), got {confidence}"
        )
    if not 1 <= min_size <= max_size <= MAX_POOL:
        raise _err("--min/--max", f"need 1 <= min <= max <= {MAX_POOL}, got {min_size}..{max_size}")
    if replications < 1:
        raise _err("--replications", f"must be >= 1, got {replications}")
    best = compliance_bounds(replications, replications, confidence)[0]
    if best < compliance:
        need = replications_needed(compliance, confidence)
        raise _err(
            "--replications",
            f"{replications} replications cannot show compliance >= {compliance:.0%} at "
            f"{confidence:.0%} confidence even if every one meets the window (best lower bound "
            f"{best:.1%}); use --replications {need} or more, or a lower --compliance",
        )


def size(
    scenario: str | Path,
    compliance: float = 0.9,
    replications: int = 30,
    target: str = "window",
    pool: str | None = None,
    proxy: str | None = None,
    backup_jobs: Sequence[str] = (),
    min_size: int = 1,
    max_size: int = 64,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    on_size: Callable[[SizeStep], None] | None = None,
    confidence: float = 0.95,
    on_progress: Callable[[SizeProgress], None] | None = None,
) -> SizeResult:
    """Search the smallest pool whose compliance is at least ``compliance`` at ``confidence``.

    ``backup_jobs``: the jobs whose windows count (default: every job with a window that writes
    through the pool). Runs go to ``executor`` (in-process when None). ``on_size`` hears each
    evaluated size, ``on_progress`` each finished run.
    """
    check_size_options(compliance, confidence, replications, min_size, max_size)
    prob = size_problem(scenario, overrides, pool, proxy, backup_jobs, target)
    root = int(prob.data.get("seed", 0) or 0) if seed is None else seed
    seeds = replication_seeds(root, replications)
    ex = executor or Executor()
    evaluated: dict[int, SizeStep] = {}
    rows: list[dict[str, Any]] = []
    blocker_rows: list[dict[str, Any]] = []
    scenarios: dict[int, LoadedScenario] = {}
    runs_done = 0
    bound = 0  # sizes still to come after the one running, at most
    stop: list[str] = []
    error: list[str] = []

    def evaluate(n: int, upward: bool) -> bool:
        nonlocal runs_done
        if n in evaluated:
            return evaluated[n].passes
        loaded = prob.scenario(n)
        scenarios[n] = loaded
        specs = [SizeRunSpec(loaded, s, r, prob.jobs) for r, s in enumerate(seeds)]
        runs: list[SizeRun | None] = [None] * len(specs)
        for i, run in ex.run(execute_size, specs):
            runs[i] = run
            runs_done += 1
            if on_progress is not None:
                total = runs_done + (len(specs) - sum(r is not None for r in runs))
                on_progress(SizeProgress(runs_done, total + bound * replications, n))
        done = [r for r in runs if r is not None]
        errors = [r for r in done if r.error is not None]
        if errors:
            error.append(
                f"pool size {n}: {len(errors)} of {len(done)} runs failed "
                f"(replication {errors[0].replication}, seed {errors[0].seed}): "
                f"{errors[0].error}"
            )
            return False
        for r in done:
            rows.append(
                {
                    "pool_size": n,
                    "replication": r.replication,
                    "seed": r.seed,
                    "met": r.met,
                    "makespan_max_h": r.makespan_max_h,
                    "sessions_missed": r.sessions_missed,
                    "blocked": bool(r.blockers),
                }
            )
            for b in r.blockers:
                blocker_rows.append(
                    {"pool_size": n, "replication": r.replication, **dataclasses.asdict(b)}
                )
        k = sum(r.met for r in done)
        low = compliance_bounds(k, replications, confidence)[0]
        step = SizeStep(n, k, replications, k / replications, low, low >= compliance)
        evaluated[n] = step
        if on_size is not None:
            on_size(step)
        if upward and not step.passes:
            blocked = [r for r in done if r.blockers]
            ceiling = compliance_bounds(replications - len(blocked), replications, confidence)[0]
            if blocked and ceiling < compliance:
                stop.append(_blocked_message(n, blocked, replications, compliance, ceiling))
        return step.passes

    start = min(max(prob.current, min_size), max_size)
    answer: int | None = None
    bound = _search_bound(start, max_size, up=True)
    if evaluate(start, upward=True):
        lo, hi = min_size - 1, start  # lo fails (or is below the range), hi passes
    else:
        lo, hi = start, -1
        n = start
        while hi < 0 and n < max_size and not (stop or error):
            n = min(max_size, n * 2)
            bound = _search_bound(n, max_size, up=True)
            if evaluate(n, upward=True):
                hi = n
            else:
                lo = n
    if hi >= 0 and not (stop or error):
        while hi - lo > 1 and not error:
            mid = (lo + hi) // 2
            bound = _search_bound(mid - lo, hi - mid, up=False)
            if evaluate(mid, upward=False):
                hi = mid
            else:
                lo = mid
        answer = None if error else hi
    curve_rows = []
    for n in sorted(evaluated):
        st = evaluated[n]
        low, high = compliance_bounds(st.met, replications, confidence)
        sub = [r["makespan_max_h"] for r in rows if r["pool_size"] == n]
        curve_rows.append(
            {
                "pool_size": n,
                "replications": replications,
                "met": st.met,
                "compliance": st.compliance,
                "wilson_low": low,
                "wilson_high": high,
                "passes": st.passes,
                "makespan_max_h_mean": sum(sub) / len(sub),
                "blocked": sum(1 for r in rows if r["pool_size"] == n and r["blocked"]),
            }
        )
    curve = pd.DataFrame(curve_rows)
    passes = curve["passes"].tolist() if len(curve) else []
    monotone = all(not (a and not b) for a, b in itertools.pairwise(passes))
    chosen = answer if answer is not None else max(scenarios)
    return SizeResult(
        answer,
        prob.pool,
        prob.template,
        prob.current,
        compliance,
        confidence,
        prob.jobs,
        seeds,
        curve,
        pd.DataFrame(rows),
        monotone,
        scenarios.get(chosen),
        root,
        stop[0] if stop else None,
        pd.DataFrame(blocker_rows),
        max_size,
        error[0] if error else None,
    )


def _blocked_message(
    n: int, blocked: list[SizeRun], replications: int, compliance: float, ceiling: float
) -> str:
    """Why no larger pool can pass: the proxy-independent misses at size ``n``, grouped."""
    groups: dict[tuple[str, str, str], list[Blocker]] = {}
    for r in blocked:
        seen: set[tuple[str, str, str]] = set()
        for b in r.blockers:
            key = (b.job, b.kind, b.resource)
            if key not in seen:  # count replications, not sessions
                groups.setdefault(key, []).append(b)
                seen.add(key)
    lines = []
    for bs in sorted(groups.values(), key=lambda v: -len(v)):
        first = max(bs, key=lambda b: b.share if b.kind != "object" else b.hours)
        lines.append(f"{first.describe()} (in {len(bs)} of {replications} replications)")
    head = (
        f"adding proxies cannot meet the window: at pool size {n}, {len(blocked)} of "
        f"{replications} replications miss it for reasons no proxy removes (even if every other "
        f"one met it, the lower bound would be {ceiling:.0%} < {compliance:.0%}):"
    )
    return "\n".join([head, *(f"  - {line}" for line in lines)])
