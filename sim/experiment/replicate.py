"""Replications: independent seeds, one compact record per run, means with t intervals.

Replication r of root seed s runs with seed ``SeedSequence(s).spawn(R)[r]`` reduced to one
63-bit integer; that integer is written next to every result, so ``poolsim run --seed N``
reproduces any single replication. Every stream of a run (workload, changes, arrivals, sizes,
failures, policy) is derived from it by kind (``sim.model.rng``) and none depends on the
policy, so policies compared with the same replication seeds see the same objects, the same
arrivals and the same random draws: common random numbers.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.defaults import GB, HOUR_S
from sim.experiment.cost import lpt_order, run_cost
from sim.experiment.executors import Executor
from sim.experiment.run import RunResult, simulate
from sim.experiment.stats import batch_means, bounded_interval, domain_of
from sim.scenario import LoadedScenario, load_scenario

STEADY = "steady_state"
"""Scope of the steady-state metrics of synthetic Poisson scenarios (MSER-5 + batch means)."""
BM_BATCHES = 20
"""Batches for the within-run batch-means interval (Schmeiser 1982: 10 to 30 batches)."""

RUN_COLUMNS = ["replication", "seed", "scope", "metric", "unit", "value"]
SUMMARY_COLUMNS = [
    "scope",
    "metric",
    "unit",
    "n",
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "half_width",
    "interval",
]


def replication_seeds(root: int, replications: int) -> list[int]:
    """Independent 63-bit seeds of ``replications`` runs from one root seed (SeedSequence)."""
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    if root < 0:
        raise ValueError(f"seed must be >= 0, got {root}")
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


@dataclass(frozen=True)
class RunSpec:
    """One run to execute somewhere: a validated scenario, a seed and a policy override."""

    scenario: LoadedScenario
    seed: int
    policy: str | None = None
    replication: int = 0
    keep_series: bool = True


@dataclass(frozen=True)
class RunJob:
    """A ``RunSpec`` without its scenario: what travels with every run while the scenario,
    shared by many runs, travels once (``Executor.run_with``)."""

    seed: int
    policy: str | None = None
    replication: int = 0
    keep_series: bool = True


def execute_on(scenario: LoadedScenario, job: RunJob) -> RunRecord:
    """``execute`` of one job on a (shared) scenario."""
    return execute(RunSpec(scenario, job.seed, job.policy, job.replication, job.keep_series))


@dataclass
class RunRecord:
    """What one run sends back: small tables only (no task table), or the error it raised."""

    replication: int
    seed: int
    policy: str | None
    summary: pd.DataFrame
    proxies: pd.DataFrame
    throughput: pd.DataFrame
    sessions: pd.DataFrame
    truncated: bool = False
    error: str | None = None
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """The run finished without raising."""
        return self.error is None


def _empty_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {"scope": pd.Series(dtype=str), "metric": pd.Series(dtype=str), "value": [], "unit": []}
    )


def steady_state_rows(result: RunResult) -> list[dict[str, object]]:
    """MSER-5 + batch means of the sojourn and wait series of a synthetic Poisson run.

    The series are the measured, finished tasks in arrival order. The metrics: ``sojourn_mean``
    and ``wait_mean`` after deleting the warm-up MSER-5 picks, their batch-means half-widths
    (``*_bm_half_width``, 20 batches, 95 %), and ``mser_truncated`` (tasks deleted).
    """
    syn = result.scenario.spec.synthetic
    if syn is None or syn.arrivals.process != "poisson":
        return []
    t = result.tasks
    t = t[(t["status"] == "done") & t["measured"]].sort_values("ready", kind="stable")
    rows: list[dict[str, object]] = []
    soj = batch_means(t["sojourn_s"].to_numpy(), BM_BATCHES)
    wait = t["wait_s"].to_numpy()[soj.truncated :]
    wbm = batch_means(wait, BM_BATCHES, truncate=False)
    for metric, value, unit in (
        ("sojourn_mean", soj.mean, "s"),
        ("sojourn_bm_half_width", soj.half_width, "s"),
        ("wait_mean", wbm.mean, "s"),
        ("wait_bm_half_width", wbm.half_width, "s"),
        ("mser_truncated", float(soj.truncated), "tasks"),
    ):
        rows.append({"scope": STEADY, "metric": metric, "value": float(value), "unit": unit})
    return rows


def execute(spec: RunSpec) -> RunRecord:
    """Run one spec; an exception becomes the record's ``error`` (a broken run is data)."""
    t0 = time.perf_counter()
    try:
        result = simulate(spec.scenario, seed=spec.seed, policy=spec.policy)
        summary = result.summary
        extra = steady_state_rows(result)
        if extra:
            summary = pd.concat([summary, pd.DataFrame(extra)], ignore_index=True)
        px = result.proxies
        proxies = pd.DataFrame(
            {
                "proxy": px["proxy"].astype(str),
                "pool": px["pool"].astype(str),
                "tasks": px["tasks"].astype(float),
                "gb_read": px["bytes_read"] / GB,
                "load_h": px["bytes_read"] / px["capacity_bps"] / HOUR_S,
            }
        )
        if spec.keep_series and not result.timeseries.empty:
            ts = result.timeseries.groupby("t_start", sort=True)["rate_bps"].sum()
            throughput = pd.DataFrame(
                {"t_h": ts.index.to_numpy() / HOUR_S, "gb_per_h": ts.to_numpy() * HOUR_S / GB}
            )
        else:
            throughput = pd.DataFrame({"t_h": [], "gb_per_h": []})
        s = result.sessions
        sessions = s[["job", "day", "makespan_s", "window_s", "within_window", "skipped"]].copy()
        return RunRecord(
            spec.replication,
            spec.seed,
            spec.policy,
            summary[["scope", "metric", "unit", "value"]].reset_index(drop=True),
            proxies,
            throughput,
            sessions.reset_index(drop=True),
            truncated=result.truncated,
            wall_s=time.perf_counter() - t0,
        )
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        return RunRecord(
            spec.replication,
            spec.seed,
            spec.policy,
            _empty_summary(),
            pd.DataFrame(),
            pd.DataFrame(),
            pd.DataFrame(),
            error=f"{type(exc).__name__}: {exc}{where}",
            wall_s=time.perf_counter() - t0,
        )


def run_all(
    specs: Sequence[RunSpec],
    executor: Executor | None = None,
    on_done: Callable[[int, RunRecord], None] | None = None,
) -> list[RunRecord]:
    """Execute specs on ``executor`` (in-process when None); records come back in spec order.
    Specs that share a scenario object send it to the workers once (``Executor.run_with``).

    The runs go to the executor most costly first (``sim.experiment.cost``: estimated from each
    scenario, longest processing time first), so that on a few workers no long run is left to
    run alone at the end; ``on_done`` and the returned list still see every run under its
    index in ``specs``, and each run's numbers depend only on its spec."""
    ex = executor or Executor()
    out: list[RunRecord | None] = [None] * len(specs)
    scenarios: list[LoadedScenario] = []
    keys: dict[int, int] = {}
    costs: list[float] = []
    for spec in specs:
        key = keys.setdefault(id(spec.scenario), len(scenarios))
        if key == len(scenarios):
            scenarios.append(spec.scenario)
            costs.append(run_cost(spec.scenario))
    order = lpt_order([costs[keys[id(s.scenario)]] for s in specs])
    items = [
        (keys[id(s.scenario)], RunJob(s.seed, s.policy, s.replication, s.keep_series))
        for s in (specs[j] for j in order)
    ]
    ex.expect([costs[key] for key, _ in items])
    for k, rec in ex.run_with(execute_on, scenarios, items):
        i = order[k]
        out[i] = rec
        if on_done is not None:
            on_done(i, rec)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


def runs_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Tidy long table of successful runs: replication, seed, scope, metric, unit, value."""
    parts = []
    for r in records:
        if not r.ok:
            continue
        df = r.summary.copy()
        df.insert(0, "seed", r.seed)
        df.insert(0, "replication", r.replication)
        parts.append(df[RUN_COLUMNS])
    if not parts:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def summarise(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and Student t interval over replications of every (scope, metric).

    With a single replication, a steady-state mean gets its batch-means interval from that run
    (``interval == 'batch means'``); other metrics then have no interval (NaN).
    """
    rows = []
    if runs.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    for (scope, metric), g in runs.groupby(["scope", "metric"], sort=False):
        unit = g["unit"].iloc[0]
        # an interval never leaves the metric's domain (fractions in [0, 1], times >= 0)
        iv = bounded_interval(g["value"].to_numpy(), confidence, domain_of(unit))
        low, high, hw = iv.low, iv.high, iv.half_width
        kind = {"t": "t", "wilson": "Wilson", "bootstrap": "bootstrap"}[iv.method]
        kind += " over replications"
        if iv.n == 1 and scope == STEADY and metric in ("sojourn_mean", "wait_mean"):
            bm_name = metric.replace("_mean", "_bm_half_width")
            bm = runs[(runs["scope"] == STEADY) & (runs["metric"] == bm_name)]
            if not bm.empty and confidence == 0.95:
                hw, kind = float(bm["value"].iloc[0]), "batch means"
                low, high = max(0.0, iv.mean - hw), iv.mean + hw
        rows.append(
            {
                "scope": scope,
                "metric": metric,
                "unit": unit,
                "n": iv.n,
                "mean": iv.mean,
                "std": iv.std,
                "ci_low": low,
                "ci_high": high,
                "half_width": hw,
                "interval": kind if iv.n > 1 or kind == "batch means" else "none (1 run)",
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


@dataclass
class Replications:
    """R replications of one scenario and policy."""

    scenario: LoadedScenario
    policy: str | None
    seeds: list[int]
    records: list[RunRecord]
    confidence: float = 0.95
    runs: pd.DataFrame = field(init=False)
    summary: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.runs = runs_table(self.records)
        self.summary = summarise(self.runs, self.confidence)

    @property
    def errors(self) -> list[str]:
        """The error of every failed replication."""
        return [f"replication {r.replication}: {r.error}" for r in self.records if not r.ok]

    def metric(self, name: str, scope: str = "overall") -> tuple[float, float, float]:
        """(mean, ci_low, ci_high) of one metric."""
        s = self.summary
        row = s[(s["scope"] == scope) & (s["metric"] == name)]
        if row.empty:
            raise KeyError(f"no metric '{name}' in scope '{scope}'")
        r = row.iloc[0]
        return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def as_loaded(
    scenario: LoadedScenario | str | Path, overrides: Sequence[str] = ()
) -> LoadedScenario:
    """A LoadedScenario from a path (with overrides) or as given."""
    if isinstance(scenario, LoadedScenario):
        if overrides:
            raise ValueError("overrides apply to a scenario path, not to a loaded scenario")
        return scenario
    return load_scenario(scenario, list(overrides))


def replicate(
    scenario: LoadedScenario | str | Path,
    replications: int = 10,
    seed: int | None = None,
    policy: str | None = None,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    confidence: float = 0.95,
) -> Replications:
    """Run a scenario ``replications`` times with independent seeds (root: ``seed`` or the
    scenario's) and summarise every metric with a mean and a t interval."""
    loaded = as_loaded(scenario, overrides)
    seeds = replication_seeds(loaded.spec.seed if seed is None else seed, replications)
    specs = [RunSpec(loaded, s, policy, r) for r, s in enumerate(seeds)]
    return Replications(loaded, policy, seeds, run_all(specs, executor), confidence)
