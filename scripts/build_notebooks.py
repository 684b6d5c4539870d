"""Write the notebooks in notebooks/ from the cell sources below (outputs stripped).

    .venv/bin/python scripts/build_notebooks.py

The notebooks use only the public API (``import sim``) and are executed in CI (nbmake). Edit
the cells here, not in Jupyter, so the committed notebooks stay stripped and reviewable.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """\
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim

# the notebooks run from notebooks/ (Jupyter, nbmake); scenarios are one level up
ROOT = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent
SCENARIOS = ROOT / "scenarios"
pd.set_option("display.width", 120)"""


def md(text: str) -> dict[str, object]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n").splitlines(True)}


def code(text: str) -> dict[str, object]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": text.strip("\n").splitlines(True),
    }


NOTEBOOKS: dict[str, list[dict[str, object]]] = {
    "01-quickstart.ipynb": [
        md("""
# Quickstart: one pool, one tenant, three nights

A 2,000-user tenant is backed up by a pool of four Linux proxies to S3. Day 1 is the initial
full, days 2 and 3 are incrementals. What limits it, and does the pool keep its window?
"""),
        code(SETUP),
        code("""
result = sim.simulate(SCENARIOS / "quickstart.yaml")
result.summary.query("scope == 'overall'")[["metric", "value", "unit"]]
"""),
        md("""
Each job session: how long it took against its window, and what bound it. The OneDrive and
SharePoint full is held by the tenant's SharePoint resource-unit budget (the *source*); adding
proxies would not help it.
"""),
        code("""
result.sessions[
    ["job", "day", "makespan_s", "within_window", "bytes_read", "bottleneck_source",
     "bottleneck_proxy", "bottleneck_target"]
].assign(makespan_h=lambda s: s["makespan_s"] / 3600).round(3)
"""),
        code("""
ts = result.timeseries.pivot_table(index="t_start", columns="proxy", values="rate_bps")
ts.index = ts.index / 3600
ax = (ts * 3600 / 1e9).plot.area(figsize=(10, 3.5), linewidth=0)
ax.set_xlabel("simulated time (h)")
ax.set_ylabel("GB/h")
ax.set_title("Throughput per proxy")
plt.show()
"""),
        md("""
The jobs start at 20:00 (hour 20). Exchange moves fast; the file full then runs for a day and a
half at the pace of the SharePoint budget, and stops entirely around hour 43: the tenant's
**daily** budget (2.4 M RU for 2,000 licences) is spent, so nothing moves until midnight.
"""),
        md("""
Every object is a row in `result.tasks`: which proxy processed it, when, how many bytes, and
how long it was held by the source, the proxy or the target.
"""),
        code("""
t = result.tasks
t.groupby("workload", observed=True)[["bytes_read", "throttled_s", "sojourn_s"]].agg(
    {"bytes_read": "sum", "throttled_s": "sum", "sojourn_s": "median"}
)
"""),
    ],
    "02-policy-comparison.ipynb": [
        md("""
# Which distribution policy? A comparison with confidence intervals

Three ways to spread objects over a pool, on the same workloads (common random numbers) and
three replications each. A difference only counts if its interval excludes zero.
"""),
        code(SETUP),
        code("""
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
"""),
        md("""
Paired differences to the first policy (`pull_fifo`): the mean difference per replication and
its 95 % interval. With common random numbers they are much tighter than the separate intervals.
"""),
        code("""
d = cmp.differences
d[(d["scope"] == "overall") & d["metric"].isin(["makespan_max", "load_cv", "wait_p95"])]
"""),
        code("""
m = overall[overall["metric"] == "load_max_over_mean"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(m["policy"], m["mean"], yerr=[m["mean"] - m["ci_low"], m["ci_high"] - m["mean"]],
       capsize=6, color="C0")
ax.set_ylabel("max / mean proxy load")
ax.set_title("Load balance (95 % intervals)")
plt.show()
"""),
        md("""
What it says: `least_work_left` spreads the load more evenly (its `load_cv` difference to
`pull_fifo` is the significant one), but no policy shortens the night: the tenant's SharePoint
budget, not the pool, is the bottleneck, so the longest session is the same within its interval.
Pick the policy for balance and predictability, and size the pool for the source.
"""),
    ],
    "03-maintenance-drill.ipynb": [
        md("""
# Rehearsing a maintenance night

A pool of six proxies runs a nightly full. At 01:00 one member goes into maintenance (back at
03:00); at 02:00 the member holding the Orchestrator role crashes (back at 02:45). What does each
way of treating the objects running on the member entering maintenance cost?
"""),
        code(SETUP),
        code("""
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
        "dip at maintenance": lc.loc["maintenance_on", "dip"],
        "dip at crash": lc.loc["fail", "dip"],
    })
pd.DataFrame(rows).set_index("mode").round(3)
"""),
        md("""
`drain` redoes nothing but the member never empties in two hours (drain is NaN: maintenance ended
first); `handoff` loses only the bytes since each object's last checkpoint; `restart` redoes
every byte its objects had read. Below: states and roles of each proxy over the pool's
throughput, in `handoff` mode.
"""),
        code("""
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
ax2.set_xlabel("simulated time (h)")
for t in r.lifecycle["t"]:
    ax.axvline(t / 3600, ls="--", c="k", lw=0.7)
    ax2.axvline(t / 3600, ls="--", c="k", lw=0.7)
ax2.set_xlim(23, 30)
plt.show()
"""),
        md("""
A request the product would refuse is refused in the simulation too, with its reason. From
Python, requests can be made while a run is in progress:
"""),
        code("""
w = sim.World(sim.load_scenario(drill))
w.lifecycle.request("maintenance_on", "proxy-01")
for p in ("proxy-02", "proxy-03", "proxy-04", "proxy-05"):
    w.lifecycle.request("maintenance_on", p)
print(w.lifecycle.request("maintenance_on", "proxy-06"))
"""),
    ],
    "04-capacity-planning.ipynb": [
        md("""
# Capacity planning: how many proxies meet the window?

The quickstart tenant's nightly Exchange incremental (2,000 users, a night after a protected
state) must finish within 20 minutes, on proxies limited to 8 threads each. How many proxies does
the pool need so that at least 80 % of nights make it, shown at 95 % confidence? `sim.size`
searches pool sizes with replications (common random numbers across sizes) and returns the
smallest size whose lower 95 % confidence bound of compliance reaches 80 %, with the evidence:
the compliance curve.
"""),
        code(SETUP),
        code("""
threads = [f"proxies.proxy-0{i}.threads=8" for i in range(1, 5)]
res = sim.size(
    SCENARIOS / "quickstart.yaml",
    compliance=0.8,
    confidence=0.95,
    replications=25,
    backup_jobs=["exchange"],
    min_size=2,
    max_size=16,
    overrides=[
        "simulation.days=1",
        "simulation.initial_state=protected",
        "jobs.exchange.schedule.window=20min",
        *threads,
    ],
)
print("smallest pool meeting the window:", res.answer, "proxies")
res.curve
"""),
        code("""
c = res.curve
fig, ax = plt.subplots(figsize=(6, 3))
ax.errorbar(c["pool_size"], c["compliance"],
            yerr=[c["compliance"] - c["wilson_low"], c["wilson_high"] - c["compliance"]],
            marker="o", capsize=4)
ax.axhline(0.8, ls="--", c="grey")
ax.set_xlabel("proxies in the pool")
ax.set_ylabel("nights within the window")
ax.set_title("Sizing curve (one-sided 95 % Wilson bounds)")
plt.show()
"""),
        md("""
The decision is on `wilson_low`, the lower confidence bound, not on the point estimate: 24 of
25 nights is 96 %, but 25 nights only prove about 83 %. Fewer replications than the target
needs are refused (20 of 20 cannot prove 90 % at 95 % confidence). `makespan_max_h_mean` shows
how much room each size leaves.
"""),
    ],
    "05-bring-your-own-inventory.ipynb": [
        md("""
# Bring your own inventory

Instead of generated objects, give poolsim your tenant's real objects as a CSV (columns `type`,
`size`, `items`, optionally `daily_change`), for example from a Microsoft 365 usage report. Here
we make one up and back it up with a pool of three proxies.
"""),
        code(SETUP),
        code("""
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
"""),
        code("""
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
"""),
        md("""
The full takes days, not hours. Why? Split the transfer time by workload: how much of it was
spent held below the per-thread ceiling by the tenant (`throttled_s`)?
"""),
        code("""
t = result.tasks[result.tasks["full"]]
by = t.groupby("workload", observed=True).agg(
    objects=("task", "size"),
    TB=("bytes_read", lambda b: b.sum() / 1e12),
    throttled_h=("throttled_s", lambda x: x.sum() / 3600),
    last_end_h=("end", lambda e: e.max() / 3600),
)
by
"""),
        md("""
Exchange finishes in hours. The OneDrives and sites wait on the tenant's SharePoint resource
units: with 300 licences the tenant gets 1,200 RU per minute (and 1.2 M per day), shared by every
proxy, so a bigger pool would not help; only a smaller first scope (or a tenant with more
licences) would. The slowest objects:
"""),
        code("""
t.nlargest(8, "sojourn_s")[["otype", "work_bytes", "sojourn_s", "throttled_s", "bottleneck"]]
"""),
    ],
}


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = {
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        for i, cell in enumerate(cells):
            cell["id"] = f"c{i:02d}"
        (ROOT / name).write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main()
