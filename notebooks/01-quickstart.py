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
# # Quickstart: one pool, one tenant, three nights
#
# A 2,000-user tenant is backed up by a pool of four Linux proxies to S3. Day 1 is the initial
# full, days 2 and 3 are incrementals. What limits it, and does the pool keep its window?

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim
from sim.report.plots import day_axis

# the notebooks run from notebooks/ (Jupyter, nbmake); scenarios are one level up
ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
SCENARIOS = ROOT / "scenarios"
pd.set_option("display.width", 120)

# %%
result = sim.simulate(SCENARIOS / "quickstart.yaml")
result.summary.query("scope == 'overall'")[["metric", "value", "unit"]]

# %% [markdown]
# Each job session: how long it took against its window, and what bound it. The OneDrive and
# SharePoint full is held by the tenant's SharePoint resource-unit budget (the *source*); adding
# proxies would not help it.

# %%
result.sessions[
    ["job", "day", "makespan_s", "within_window", "bytes_read", "bottleneck_source",
     "bottleneck_proxy", "bottleneck_target"]
].assign(makespan_h=lambda s: s["makespan_s"] / 3600).round(3)

# %%
ts = result.timeseries.pivot_table(index="t_start", columns="proxy", values="rate_bps")
ts.index = ts.index / 3600
ax = (ts * 3600 / 1e9).plot.area(figsize=(10, 3.5), linewidth=0)
day_axis(ax, ts.index.min(), ts.index.max())  # ticks "day D HH:MM", as on the console
ax.set_ylabel("GB/h")
ax.set_title("Throughput per proxy")
plt.show()

# %% [markdown]
# The jobs start at day 1 20:00, and both initial fulls overrun their 8-hour window: the
# sessions table above has Exchange's full ending after 23 h (day 2 19:07) and the files' after
# 50 h (day 3 22:03), source-bound (Microsoft 365) for all of its transfer time. The files job skips
# its day 2 and day 3 sessions (its full is still running); the Exchange incrementals fit.

# %% [markdown]
# Every object is a row in `result.tasks`: which proxy processed it, when, how many bytes, and
# how long it was held by the source, the proxy or the target.

# %%
t = result.tasks
t.groupby("workload", observed=True)[["bytes_read", "throttled_s", "sojourn_s"]].agg(
    {"bytes_read": "sum", "throttled_s": "sum", "sojourn_s": "median"}
)
