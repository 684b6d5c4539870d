"""Oracle harness: replicated steady-state runs of synthetic scenarios against queueing theory.

The method is docs/validation.md "Method" (after Whitt, Management Science 35(11), 1989), applied
literally:

* R independent replications (seeds 1..R). Each starts empty, discards its own warm-up (the first
  ``warmup_tasks`` arrivals, ``measured == False``) and measures the next m arrivals. The run goes
  on until every task has finished, so no measured task is censored.
* The metric is computed per replication; x̄ is the mean of the R replication values.
* Tolerance: h = 4·κ_d/√(R·m) with κ_d = 1.2·κ; the check passes when |x̄ − oracle| ≤ h·oracle.
  h is never set by hand: a smaller m (quick tier) gives a larger h by the formula.
* Power: a case's "closest bug" value must lie outside 2h (|bug − oracle| > 2h·oracle), so a
  quick tier that is too short to tell the bug from the oracle fails loudly instead of passing
  vacuously.
* Diagnostic: the 99.9 % t-interval of the R replication means (t quantile hard-coded; scipy is
  not a dependency). Its half-width should be close to h·oracle.

Replications run in parallel worker processes (fork; ``POOLSIM_VALIDATION_WORKERS``, default
min(2, CPUs)). Policies registered in the parent before a check are inherited by the workers.
Results of identical (scenario, R) runs are cached for the session, so two metrics of one
configuration (E[T] and P(wait)) share one set of replications.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import yaml

import sim
from sim.scenario.schema import with_units

MB = 1_000_000.0
"""Mean size and thread rate of the μ = 1 mapping: 1 MB at 1 MB/s is one second."""

#: two-sided 99.9 % t quantiles t_{0.9995, R-1} (Student t tables; scipy is not installed)
T_QUANTILE_9995: dict[int, float] = {
    5: 8.610,  # df 4
    10: 4.781,  # df 9
    20: 3.883,  # df 19
}

WAIT_EPS_S = 1e-12
"""A task waited when its start is later than its ready time by more than this."""

METRICS = ("mean_sojourn", "p_wait", "small_slowdown")
"""mean_sojourn: E[T] of measured tasks; p_wait: fraction of measured tasks with
start > ready + 1e-12; small_slowdown: E[T/S] over measured tasks with service time S < 1 s."""

DEFAULT_R = 10


# -- scenario building ----------------------------------------------------------------------------
def synthetic_scenario(
    *,
    n_proxies: int = 1,
    threads: int = 1,
    rate: float,
    tasks: int,
    warmup_tasks: int,
    service: str = "threads",
    thread_rate: float | None = MB,
    processing_rate: float | None = None,
    sizes: dict[str, Any] | None = None,
    policy: str | None = None,
    policy_params: dict[str, Any] | None = None,
    maintenance: Sequence[int] = (),
    name: str = "oracle",
) -> str:
    """YAML text of a synthetic scenario: ``n_proxies`` identical proxies, in one pool when a
    ``policy`` is given (else the single proxy is the target)."""
    proxies: list[dict[str, Any]] = []
    for i in range(n_proxies):
        px: dict[str, Any] = {"name": f"p{i}", "threads": threads}
        if processing_rate is not None:
            px["processing_rate"] = processing_rate
        if i in maintenance:
            px["state"] = "maintenance"
        proxies.append(px)
    syn: dict[str, Any] = {
        "arrivals": {"process": "poisson", "rate": rate},
        "sizes": sizes if sizes is not None else {"distribution": "exponential", "mean": MB},
        "tasks": tasks,
        "warmup_tasks": warmup_tasks,
        "service": service,
    }
    if thread_rate is not None:
        syn["thread_rate"] = thread_rate
    doc: dict[str, Any] = {"name": name, "proxies": proxies}
    if policy is not None:
        doc["pools"] = [
            {
                "name": "pool",
                "members": [p["name"] for p in proxies],
                "policy": {"name": policy, "params": dict(policy_params or {})},
            }
        ]
        syn["target"] = "pool"
    else:
        if n_proxies != 1:
            raise ValueError("several proxies need a pool policy")
        syn["target"] = "p0"
    doc["synthetic"] = syn
    return yaml.safe_dump(with_units(doc), sort_keys=False)


# -- cases ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One oracle check: a configuration, a metric and its published value."""

    id: str
    title: str
    metric: str
    oracle: float
    kappa: float
    warmup_time: float
    """Warm-up in time units (seconds); the warm-up in tasks is ceil(λ·warmup_time)."""
    arrival_rate: float
    build: Callable[[int, int], str]
    """(tasks, warmup_tasks) -> scenario YAML."""
    m_quick: int | None
    m_full: int
    source: str
    bug: float | None = None
    bug_label: str = ""
    kappa_note: str = "measured in advance (docs/validation.md, Cases)"
    warmup_time_quick: float | None = None
    """A shorter warm-up for the quick tier (still ≥ 20 relaxation times), if any."""

    def warmup_tasks(self, tier: str = "full") -> int:
        wt = self.warmup_time
        if tier == "quick" and self.warmup_time_quick is not None:
            wt = self.warmup_time_quick
        return math.ceil(self.arrival_rate * wt - 1e-9)

    def m(self, tier: str) -> int:
        if tier == "quick":
            if self.m_quick is None:
                raise ValueError(f"{self.id} has no quick tier")
            return self.m_quick
        if tier == "full":
            return self.m_full
        raise ValueError(f"unknown tier {tier!r}")


def tolerance(kappa: float, r: int, m: int) -> float:
    """h = 4·κ_d/√(R·m), κ_d = 1.2·κ (relative)."""
    return 4.0 * 1.2 * kappa / math.sqrt(r * m)


# -- running --------------------------------------------------------------------------------------
def replication_metrics(scenario_text: str, seed: int) -> dict[str, float]:
    """Run one replication and return every metric of its measured tasks."""
    loaded = sim.load_scenario_text(scenario_text)
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = sim.simulate(loaded, seed=seed)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    df = res.tasks
    if res.truncated:
        raise AssertionError(f"seed {seed}: the run was truncated (some task never finished)")
    meas = df[df["measured"].to_numpy()]
    if len(meas) == 0:
        raise AssertionError("no measured tasks")
    if not (meas["status"] == "done").all() or not np.isfinite(meas["end"].to_numpy()).all():
        raise AssertionError(f"seed {seed}: a measured task did not finish (censoring)")
    ready = meas["ready"].to_numpy()
    start = meas["start"].to_numpy()
    sojourn = meas["sojourn_s"].to_numpy()
    service = meas["work_bytes"].to_numpy() / MB
    small = service < 1.0
    return {
        "mean_sojourn": float(sojourn.mean()),
        "p_wait": float((start > ready + WAIT_EPS_S).mean()),
        "small_slowdown": (
            float((sojourn[small] / service[small]).mean()) if small.any() else math.nan
        ),
        "n_measured": float(len(meas)),
        "n_tasks": float(len(df)),
        "wall_s": wall,
        "cpu_s": cpu,
    }


def workers() -> int:
    env = os.environ.get("POOLSIM_VALIDATION_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(2, os.cpu_count() or 1))


_CACHE: dict[tuple[str, tuple[int, ...]], list[dict[str, float]]] = {}


def run_replications(scenario_text: str, seeds: Sequence[int]) -> list[dict[str, float]]:
    """Metrics of each replication (cached per scenario text and seeds)."""
    key = (scenario_text, tuple(seeds))
    if key in _CACHE:
        return _CACHE[key]
    n_workers = min(workers(), len(seeds))
    if n_workers == 1:
        out = [replication_metrics(scenario_text, s) for s in seeds]
    else:
        ctx = mp.get_context("fork")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as ex:
            out = list(ex.map(replication_metrics, [scenario_text] * len(seeds), seeds))
    _CACHE[key] = out
    return out


# -- checking -------------------------------------------------------------------------------------
@dataclass
class OracleResult:
    """The outcome of one oracle check (everything the report table needs)."""

    case: str
    metric: str
    tier: str
    oracle: float
    kappa: float
    r: int
    m: int
    warmup_tasks: int
    h: float
    xbar: float
    rel_err: float
    ci_low: float
    ci_high: float
    ci_half_rel: float
    passed: bool
    bug: float | None
    power_ok: bool | None
    reps: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    """CPU seconds of the replications (summed over workers; 0 when reused from the cache)."""
    tasks_simulated: int = 0
    label: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"[oracle] {self.case}{self.label} {self.metric} "
            f"({self.tier}, R={self.r}, m={self.m}): "
            f"x̄={self.xbar:.6g} oracle={self.oracle:.6g} rel.err={self.rel_err:+.3%} "
            f"h={self.h:.3%} | 99.9% t-CI [{self.ci_low:.6g}, {self.ci_high:.6g}] "
            f"half-width={self.ci_half_rel:.3%} of oracle (h·oracle={self.h * self.oracle:.4g}) "
            f"| {verdict} | {self.tasks_simulated} tasks, {self.wall_s:.1f}s wall, "
            f"{self.cpu_s:.1f} CPU-s"
        )


RESULTS: list[OracleResult] = []
"""Every check of this session (printed by conftest; written to POOLSIM_VALIDATION_LOG)."""


def power_ok(case: Case, m: int, r: int = DEFAULT_R) -> bool:
    """The closest bug lies outside 2h: |bug − oracle| > 2h·oracle."""
    if case.bug is None:
        return True
    h = tolerance(case.kappa, r, m)
    return abs(case.bug - case.oracle) > 2.0 * h * case.oracle


def evaluate(
    case: Case,
    tier: str = "quick",
    r: int = DEFAULT_R,
    m: int | None = None,
    label: str = "",
) -> OracleResult:
    """Run (or reuse) the R replications of ``case`` and compare x̄ with the oracle."""
    m = case.m(tier) if m is None else m
    if r not in T_QUANTILE_9995:
        raise ValueError(f"no t quantile for R={r}")
    w = case.warmup_tasks(tier)
    text = case.build(w + m, w)
    cached = (text, tuple(range(1, r + 1))) in _CACHE
    t0 = time.perf_counter()
    reps = run_replications(text, range(1, r + 1))
    wall = time.perf_counter() - t0
    for rep in reps:
        assert rep["n_measured"] == m, rep
    values = np.array([rep[case.metric] for rep in reps])
    xbar = float(values.mean())
    sd = float(values.std(ddof=1))
    half = T_QUANTILE_9995[r] * sd / math.sqrt(r)
    h = tolerance(case.kappa, r, m)
    result = OracleResult(
        case=case.id,
        metric=case.metric,
        tier=tier,
        oracle=case.oracle,
        kappa=case.kappa,
        r=r,
        m=m,
        warmup_tasks=w,
        h=h,
        xbar=xbar,
        rel_err=(xbar - case.oracle) / case.oracle,
        ci_low=xbar - half,
        ci_high=xbar + half,
        ci_half_rel=half / case.oracle,
        passed=abs(xbar - case.oracle) <= h * case.oracle,
        bug=case.bug,
        power_ok=power_ok(case, m, r) if case.bug is not None else None,
        reps=values.tolist(),
        wall_s=wall,
        cpu_s=0.0 if cached else float(sum(rep["cpu_s"] for rep in reps)),
        tasks_simulated=int(sum(rep["n_tasks"] for rep in reps)),
        label=label,
    )
    RESULTS.append(result)
    print(result.line())
    log = os.environ.get("POOLSIM_VALIDATION_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(result)) + "\n")
    return result


def check(case: Case, tier: str = "quick", r: int = DEFAULT_R) -> OracleResult:
    """The oracle test: assert power first (cheap), then |x̄ − oracle| ≤ h·oracle."""
    m = case.m(tier)
    h = tolerance(case.kappa, r, m)
    if case.bug is not None:
        assert power_ok(case, m, r), (
            f"{case.id} ({tier}): m={m} is too small to separate the closest bug "
            f"({case.bug_label} → {case.bug}): |bug − oracle| = {abs(case.bug - case.oracle):.4g}"
            f" ≤ 2h·oracle = {2 * h * case.oracle:.4g}"
        )
    res = evaluate(case, tier, r)
    assert res.passed, res.line()
    return res
