"""Capacity search: the smallest pool that meets the backup window with a given confidence.

A replication *meets the window* when every session of the chosen jobs (all jobs with a window
by default) finished inside it; a skipped or stopped session misses. Compliance at pool size n is
the fraction of R replications that met it. The answer is the smallest n whose compliance is at
least the confidence asked for. All sizes run the same replication seeds (common random
numbers), so the curve compares pool sizes on the same workloads.

The search assumes compliance does not fall when proxies are added: it starts at the pool's
current size, doubles up until a size passes (or the maximum is reached), then bisects between
the largest failing and the smallest passing size. Every evaluated size is kept as evidence, and
a size that passes below one that fails is reported as non-monotone.

Pool size n keeps the pool's first n members in their order and, past the current size, adds
copies of a template proxy (default: the pool's first member; its size can be changed with
``--set proxies.NAME.cores=...``) named ``<template>-x<k>``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import Problem, ScenarioError
from sim.experiment.executors import Executor
from sim.experiment.replicate import RunRecord, RunSpec, replication_seeds, run_all
from sim.experiment.stats import wilson_interval
from sim.scenario import LoadedScenario
from sim.scenario.loader import validate_data
from sim.scenario.overrides import apply_override
from sim.scenario.yamlsource import load_yaml_file

TARGETS = ("window",)
MAX_POOL = 4096


def _err(path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem("size", None, None, path, message)])


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
        return validate_data(data, self.positions, self.file, (), self.path)


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
        raise _err("--target", f"unknown target '{target}'; allowed: {', '.join(TARGETS)}")
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
        raise _err("--pool", f"unknown pool '{pool}'; pools are: {', '.join(pools)}")
    spec = next(p for p in sc.pools if p.name == pool)
    template = proxy or spec.members[0]
    if template not in {p.name for p in sc.proxies}:
        raise _err("--proxy", f"unknown proxy '{template}'")
    owned = {r.name for r in sc.repositories if r.owner == pool}
    windowed = [j for j in sc.jobs if j.repository in owned and j.schedule.window is not None]
    if backup_jobs:
        known = [j.name for j in sc.jobs]
        bad = [j for j in backup_jobs if j not in known]
        if bad:
            raise _err("--job", f"unknown job {', '.join(bad)}; jobs are: {', '.join(known)}")
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
    return SizeProblem(data, positions, str(path), path, pool, template, len(spec.members), names)


def met_window(record: RunRecord, jobs: Sequence[str]) -> bool:
    """Every session of ``jobs`` in this run finished within its window."""
    s = record.sessions
    s = s[s["job"].isin(list(jobs))]
    return bool(len(s) > 0 and s["within_window"].all())


@dataclass
class SizeResult:
    """The answer (None: not met up to the maximum) and the evidence."""

    answer: int | None
    pool: str
    template: str
    current: int
    confidence: float
    jobs: tuple[str, ...]
    seeds: list[int]
    curve: pd.DataFrame
    runs: pd.DataFrame
    monotone: bool
    scenario: LoadedScenario | None = None
    """The scenario at the answer's size (or the largest size tried)."""


def size(
    scenario: str | Path,
    confidence: float = 0.95,
    replications: int = 20,
    target: str = "window",
    pool: str | None = None,
    proxy: str | None = None,
    backup_jobs: Sequence[str] = (),
    min_size: int = 1,
    max_size: int = 64,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    on_size: Callable[[int, float], None] | None = None,
) -> SizeResult:
    """Search the smallest pool size that meets the window with at least ``confidence``.

    ``backup_jobs``: the jobs whose windows count (default: every job with a window that writes
    through the pool). Runs go to ``executor`` (in-process when None).
    """
    if not 0.0 < confidence <= 1.0:
        raise _err("--confidence", f"must be in (0, 1], got {confidence}")
    if not 1 <= min_size <= max_size <= MAX_POOL:
        raise _err("--min/--max", f"need 1 <= min <= max <= {MAX_POOL}, got {min_size}..{max_size}")
    prob = size_problem(scenario, overrides, pool, proxy, backup_jobs, target)
    root = int(prob.data.get("seed", 0) or 0) if seed is None else seed
    seeds = replication_seeds(root, replications)
    evaluated: dict[int, float] = {}
    rows: list[dict[str, Any]] = []
    scenarios: dict[int, LoadedScenario] = {}

    def evaluate(n: int) -> bool:
        if n not in evaluated:
            loaded = prob.scenario(n)
            scenarios[n] = loaded
            specs = [RunSpec(loaded, s, None, r, keep_series=False) for r, s in enumerate(seeds)]
            records = run_all(specs, executor)
            errors = [r.error for r in records if not r.ok]
            if errors:
                raise RuntimeError(f"pool size {n}: {errors[0]}")
            met = [met_window(r, prob.jobs) for r in records]
            for r, m in zip(records, met, strict=True):
                s = r.sessions[r.sessions["job"].isin(list(prob.jobs))]
                rows.append(
                    {
                        "pool_size": n,
                        "replication": r.replication,
                        "seed": r.seed,
                        "met": m,
                        "makespan_max_h": float(s["makespan_s"].max()) / 3600.0,
                        "sessions_missed": int((~s["within_window"]).sum()),
                    }
                )
            evaluated[n] = sum(met) / len(met)
            if on_size is not None:
                on_size(n, evaluated[n])
        return evaluated[n] >= confidence

    start = min(max(prob.current, min_size), max_size)
    if evaluate(start):
        lo, hi = min_size - 1, start  # lo fails (or is below the range), hi passes
    else:
        lo, hi = start, -1
        n = start
        while hi < 0 and n < max_size:
            n = min(max_size, n * 2)
            if evaluate(n):
                hi = n
            else:
                lo = n
    answer: int | None = None
    if hi >= 0:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if evaluate(mid):
                hi = mid
            else:
                lo = mid
        answer = hi
    curve_rows = []
    for n in sorted(evaluated):
        k = sum(1 for r in rows if r["pool_size"] == n and r["met"])
        low, high = wilson_interval(k, replications, 0.95)
        sub = [r["makespan_max_h"] for r in rows if r["pool_size"] == n]
        curve_rows.append(
            {
                "pool_size": n,
                "replications": replications,
                "met": k,
                "compliance": evaluated[n],
                "wilson_low": low,
                "wilson_high": high,
                "passes": evaluated[n] >= confidence,
                "makespan_max_h_mean": sum(sub) / len(sub),
            }
        )
    curve = pd.DataFrame(curve_rows)
    passes = curve["passes"].tolist()
    monotone = all(not (a and not b) for a, b in itertools.pairwise(passes))
    chosen = answer if answer is not None else max(evaluated)
    return SizeResult(
        answer,
        prob.pool,
        prob.template,
        prob.current,
        confidence,
        prob.jobs,
        seeds,
        curve,
        pd.DataFrame(rows),
        monotone,
        scenarios.get(chosen),
    )
