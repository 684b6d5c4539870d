"""Comparing policies on one scenario with common random numbers.

Every policy runs the same replication seeds, so replication r of policy a and of policy b see
the same objects, arrivals and random draws. Differences to the first policy are therefore
paired: the interval of the per-replication difference is usually much narrower than the two
separate intervals suggest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from sim.experiment.executors import Executor
from sim.experiment.replicate import (
    RunRecord,
    RunSpec,
    as_loaded,
    replication_seeds,
    run_all,
    runs_table,
    summarise,
)
from sim.experiment.stats import mean_interval
from sim.policies.registry import PolicyError, make_policy
from sim.scenario import LoadedScenario


def check_policies(loaded: LoadedScenario, policies: Sequence[str]) -> list[str]:
    """The policy names, each checked against every pool as a run would use it."""
    names = [p.strip() for p in policies if p.strip()]
    if not names:
        raise PolicyError("no policies given; e.g. --policies round_robin,least_loaded")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise PolicyError(f"policy named twice: {', '.join(dup)}")
    if not loaded.spec.pools:
        raise PolicyError("the scenario has no pools, so there is no policy to compare")
    for name in names:
        for pool in loaded.spec.pools:
            make_policy(name, {}).check_members(pool.members)
    return names


@dataclass
class Comparison:
    """Policies compared over the same replications."""

    scenario: LoadedScenario
    policies: list[str]
    seeds: list[int]
    records: dict[str, list[RunRecord]]
    confidence: float = 0.95

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Tidy: policy, replication, seed, scope, metric, unit, value."""
        parts = []
        for p in self.policies:
            df = runs_table(self.records[p])
            df.insert(0, "policy", p)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per policy and metric: n, mean, std and the t interval."""
        parts = []
        for p in self.policies:
            df = summarise(runs_table(self.records[p]), self.confidence)
            df.insert(0, "policy", p)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    @cached_property
    def differences(self) -> pd.DataFrame:
        """Paired differences (policy − first policy) per metric over common replications."""
        runs = self.runs
        base = self.policies[0]
        key = ["replication", "scope", "metric"]
        ref = runs[runs["policy"] == base].set_index(key)["value"]
        rows = []
        for p in self.policies[1:]:
            cur = runs[runs["policy"] == p].set_index(key)
            joined = cur.join(ref.rename("base"), how="inner")
            joined["diff"] = joined["value"] - joined["base"]
            for (scope, metric), g in joined.groupby(level=["scope", "metric"], sort=False):
                iv = mean_interval(g["diff"].to_numpy(), self.confidence)
                rows.append(
                    {
                        "policy": p,
                        "baseline": base,
                        "scope": scope,
                        "metric": metric,
                        "unit": g["unit"].iloc[0],
                        "n": iv.n,
                        "mean_diff": iv.mean,
                        "ci_low": iv.low,
                        "ci_high": iv.high,
                        "significant": bool(iv.low > 0 or iv.high < 0),
                    }
                )
        return pd.DataFrame(rows)

    @cached_property
    def proxies(self) -> pd.DataFrame:
        """Per policy, replication and proxy: tasks, GB read, capacity-normalised load (h)."""
        parts = []
        for p in self.policies:
            for r in self.records[p]:
                if r.ok:
                    df = r.proxies.copy()
                    df.insert(0, "replication", r.replication)
                    df.insert(0, "policy", p)
                    parts.append(df)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @cached_property
    def throughput(self) -> pd.DataFrame:
        """Per policy and time bucket: throughput (GB/h) averaged over replications."""
        parts = []
        for p in self.policies:
            for r in self.records[p]:
                if r.ok and not r.throughput.empty:
                    df = r.throughput.copy()
                    df.insert(0, "replication", r.replication)
                    df.insert(0, "policy", p)
                    parts.append(df)
        if not parts:
            return pd.DataFrame(columns=["policy", "t_h", "gb_per_h", "replications"])
        tp = pd.concat(parts, ignore_index=True)
        # a replication that ended early read nothing in later buckets: count it as zero
        wide = tp.pivot_table(
            index=["policy", "t_h"], columns="replication", values="gb_per_h", fill_value=0.0
        )
        n = {p: sum(r.ok for r in self.records[p]) for p in self.policies}
        out = wide.sum(axis=1).reset_index(name="total")
        out["replications"] = out["policy"].map(n)
        out["gb_per_h"] = out["total"] / out["replications"]
        return out[["policy", "t_h", "gb_per_h", "replications"]]

    @property
    def incomplete(self) -> list[str]:
        """Every run that left work unfinished at the simulation horizon, as 'policy,
        replication r'."""
        return [
            f"{p}, replication {r.replication}"
            for p in self.policies
            for r in self.records[p]
            if r.ok and r.truncated
        ]

    @property
    def errors(self) -> list[str]:
        """Every failed run, as 'policy, replication r: error'."""
        return [
            f"{p}, replication {r.replication}: {r.error}"
            for p in self.policies
            for r in self.records[p]
            if not r.ok
        ]


def compare(
    scenario: LoadedScenario | str | Path,
    policies: Sequence[str],
    replications: int = 10,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    confidence: float = 0.95,
    on_done: Callable[[int, RunRecord], None] | None = None,
) -> Comparison:
    """Run every policy on the same ``replications`` seeds (common random numbers)."""
    loaded = as_loaded(scenario, overrides)
    names = check_policies(loaded, policies)
    seeds = replication_seeds(loaded.spec.seed if seed is None else seed, replications)
    specs = [RunSpec(loaded, s, p, r) for p in names for r, s in enumerate(seeds)]
    records = run_all(specs, executor, on_done)
    by_policy = {p: records[i * len(seeds) : (i + 1) * len(seeds)] for i, p in enumerate(names)}
    return Comparison(loaded, names, seeds, by_policy, confidence)
