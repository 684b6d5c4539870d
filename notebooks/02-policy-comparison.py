# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Which distribution policy? A comparison with confidence intervals
#
# Three ways to spread objects over a pool, on the same workloads (common random numbers) and
# three replications each. A difference only counts if its interval excludes zero.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim

# the notebooks run from notebooks/ (Jupyter, nbmake); scenarios are one level up
ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
SCENARIOS = ROOT / "scenarios"
pd.set_option("display.width", 120)

# %%
with sim.make_executor("local", jobs=2) as ex:
    cmp = sim.compare(
        SCENARIOS / "quickstart.yaml",
        ["pull_fifo", "round_robin", "least_work_left"],
        replications=3,
        overrides=["simulation.days=1", "tenants.contoso.users=400"],
        executor=ex,
    )
overall = cmp.summary[cmp.summary["scope"] == "overall"]
overall.pivot_table(index="metric", columns="policy", values="mean").loc[
    ["throughput", "makespan_max", "jain_fairness", "load_max_over_mean", "wait_p95"]
]

# %% [markdown]
# Paired differences to the first policy (`pull_fifo`): the mean difference per replication and
# its 95 % interval. With common random numbers they are much tighter than the separate intervals.

# %%
d = cmp.differences
d[(d["scope"] == "overall") & d["metric"].isin(["makespan_max", "load_cv", "wait_p95"])]

# %%
m = overall[overall["metric"] == "load_max_over_mean"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(m["policy"], m["mean"], yerr=[m["mean"] - m["ci_low"], m["ci_high"] - m["mean"]],
       capsize=6, color="C0")
ax.set_ylabel("max / mean proxy load")
ax.set_title("Load balance (95 % intervals)")
plt.show()

# %% [markdown]
# What it says: `least_work_left` spreads the load more evenly (its `load_cv` difference to
# `pull_fifo` is the significant one), but no policy shortens the night: the tenant's SharePoint
# budget, not the pool, is the bottleneck, so the longest session is the same within its interval.
# Pick the policy for balance and predictability, and size the pool for the source.
