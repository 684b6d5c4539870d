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
# # Rehearsing a maintenance night
#
# A pool of six proxies runs a nightly full. At 01:00 one member goes into maintenance (back at
# 03:00); at 02:00 the member holding the Orchestrator role crashes (back at 02:45). What does each
# way of treating the objects running on the member entering maintenance cost?

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
drill = SCENARIOS / "maintenance-drill.yaml"
runs = {
    mode: sim.simulate(drill, overrides=[f"lifecycle.in_flight={mode}"])
    for mode in ("drain", "handoff", "restart")
}
rows = []
for mode, r in runs.items():
    lc = r.lifecycle.set_index("event")
    rows.append({
        "mode": mode,
        "reassigned": int(lc["reassigned"].sum()),
        "redone GB": lc["redone_bytes"].sum() / 1e9,
        "crashed": int(lc["crashed"].sum()),
        "drain (min)": lc.loc["maintenance_on", "drain_s"] / 60,
        "resume delay max (min)": lc.loc["maintenance_on", "resume_delay_max_s"] / 60,
        "dip at maintenance": lc.loc["maintenance_on", "dip"],
        "dip at crash": lc.loc["fail", "dip"],
    })
pd.DataFrame(rows).set_index("mode").round(3)

# %% [markdown]
# `handoff` (the product's behaviour) loses only the bytes since each object's last checkpoint,
# and the objects resume within minutes, ahead of the queue; `drain` lets them run for the
# Enabling phase (10 min by default, `lifecycle.drain_timeout`), then hands off what still runs;
# `restart`, a pessimistic what-if and not product behaviour, redoes every byte its objects had
# read. Below: states and roles of each proxy over the pool's throughput, in `handoff` mode.

# %%
r = runs["handoff"]
st = r.states
fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
colours = {"active": "tab:green", "maintenance": "tab:orange", "enabling": "gold",
           "failed": "tab:red", "inactive": "grey"}
names = sorted(st["proxy"].unique())
for _, row in st[st["kind"] == "state"].iterrows():
    y = names.index(row["proxy"])
    ax.broken_barh([(row["t_start"] / 3600, (row["t_end"] - row["t_start"]) / 3600)],
                   (y - 0.3, 0.6), color=colours[row["what"]])
ax.set_yticks(range(len(names)), names)
total = r.timeseries.groupby("t_start")["rate_bps"].sum()
ax2.step(total.index / 3600, total * 3600 / 1e9, where="post")
ax2.set_ylabel("GB/h")
for t in r.lifecycle["t"]:
    ax.axvline(t / 3600, ls="--", c="k", lw=0.7)
    ax2.axvline(t / 3600, ls="--", c="k", lw=0.7)
ax2.set_xlim(23, 30)
day_axis(ax2, 23, 30)  # ticks "day D HH:MM", as on the console
plt.show()

# %% [markdown]
# A request the product would refuse is refused in the simulation too, with its reason. From
# Python, requests can be made while a run is in progress:

# %%
w = sim.World(sim.load_scenario(drill))
w.lifecycle.request("maintenance_on", "proxy-01")
for p in ("proxy-02", "proxy-03", "proxy-04", "proxy-05"):
    w.lifecycle.request("maintenance_on", p)
print(w.lifecycle.request("maintenance_on", "proxy-06"))
