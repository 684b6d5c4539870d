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
# # Bring your own inventory
#
# Instead of generated objects, give poolsim your tenant's real objects as a CSV (columns `type`,
# `size`, `items`, optionally `daily_change`), for example from a Microsoft 365 usage report. Here
# we make one up and back it up with a pool of three proxies.

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
import tempfile

import numpy as np

rng = np.random.default_rng(5)
n_mail, n_od = 300, 250
inventory = pd.DataFrame({
    "type": ["mailbox"] * n_mail + ["onedrive"] * n_od + ["site"] * 20,
    "size": np.r_[rng.lognormal(np.log(4e9), 1.0, n_mail), rng.lognormal(np.log(2e9), 1.2, n_od),
                  rng.lognormal(np.log(20e9), 1.0, 20)].round(),
    "items": np.r_[rng.integers(2_000, 80_000, n_mail), rng.integers(100, 20_000, n_od),
                   rng.integers(1_000, 200_000, 20)],
})
work = Path(tempfile.mkdtemp())
inventory.to_csv(work / "inventory.csv", index=False)
inventory.groupby("type")["size"].describe()

# %%
scenario = '''
name: byo-inventory
tenants:
  - {name: northwind, users: 300, inventory: inventory.csv}
proxies:
  - {name: px-1, os: linux}
  - {name: px-2, os: linux}
  - {name: px-3, os: linux}
pools:
  - {name: pool, members: [px-1, px-2, px-3]}
repositories:
  - {name: s3, owner: pool}
jobs:
  - {name: all, tenant: northwind, repository: s3, schedule: {daily: "20:00", window: 10h}}
simulation: {days: 2}
'''
(work / "byo.yaml").write_text(scenario)
result = sim.simulate(work / "byo.yaml")
result.sessions[["job", "day", "objects", "bytes_read", "makespan_s", "within_window"]]

# %% [markdown]
# The full takes days, not hours. Why? Split the transfer time by workload: how much of it was
# spent held below the per-thread ceiling by the tenant (`throttled_s`)?

# %%
t = result.tasks[result.tasks["full"]]
by = t.groupby("workload", observed=True).agg(
    objects=("task", "size"),
    TB=("bytes_read", lambda b: b.sum() / 1e12),
    throttled_h=("throttled_s", lambda x: x.sum() / 3600),
    last_end_h=("end", lambda e: e.max() / 3600),
)
by

# %% [markdown]
# Exchange finishes in hours. The OneDrives and sites wait on the tenant's SharePoint resource
# units: with 300 licences the tenant gets 1,200 RU per minute (and 1.2 M per day), shared by every
# proxy, so a bigger pool would not help; only a smaller first scope (or a tenant with more
# licences) would. The slowest objects:

# %%
t.nlargest(8, "sojourn_s")[["otype", "work_bytes", "sojourn_s", "throttled_s", "bottleneck"]]
