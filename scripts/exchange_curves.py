"""Exchange throughput of one tenant against the number of proxies, through EWS and through
Microsoft Graph, and the backup window of scenarios/enterprise-20k.yaml when
its tenant switches from EWS to Graph.

    .venv/bin/python scripts/exchange_curves.py            # writes docs/img/exchange_*.png
    .venv/bin/python scripts/exchange_curves.py --quick    # fewer points

Each point is one run of a generated tenant of 20,000 users holding only primary mailboxes (the
shipped defaults: ~3 GB per mailbox, 75 KB items, 1.5 MB/s and 20 items/s per thread), its
initial full on a pull_fifo pool of N Windows proxies (8 cores, 64 threads); the throughput is
the Exchange bytes moved per hour between minutes 10 and 40 (steady state: every thread busy,
before the first mailboxes finish). The dashed lines are the documented tenant budgets:
the lower of EWS connections x the thread ceiling and the accounts' budget recharge over the
server time per byte, and Graph's per-app limit over its requests per byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import yaml

import sim
from sim import defaults as d

GB = 1e9
ROOT = Path(__file__).resolve().parents[1]
OTHER = ("archive_mailbox", "shared_mailbox", "onedrive", "site", "team")


def tenant_text(n_proxies: int, api: str, users: int = 20_000) -> str:
    proxies = [{"name": f"px-{i:03d}", "cores": 8, "ram": "32 GB"} for i in range(n_proxies)]
    data = {
        "name": f"exchange-{api}-{n_proxies}",
        "seed": 2026,
        "tenants": [
            {
                "name": "t",
                "users": users,
                "exchange_api": api,
                "objects": {t: {"count": 0} for t in OTHER},
            }
        ],
        "proxies": proxies,
        "pools": [{"name": "pool", "members": [p["name"] for p in proxies], "policy": "pull_fifo"}],
        "repositories": [
            {"name": "r", "kind": "s3", "owner": "pool", "write_bandwidth": "1000 Gbps"}
        ],
        "jobs": [
            {
                "name": "ex",
                "tenant": "t",
                "workloads": ["exchange"],
                "repository": "r",
                "schedule": {"daily": "00:00"},
            }
        ],
        "simulation": {"days": 1, "bucket": "5min"},
    }
    return yaml.safe_dump(data, sort_keys=False)


def steady_rate(n_proxies: int, api: str) -> float:
    """Exchange GB/h between minutes 10 and 40 of the initial full."""
    loaded = sim.load_scenario_text(tenant_text(n_proxies, api), overrides=["simulation.days=1"])
    world = sim.World(loaded)
    world.start()
    world.env.run(until=45 * 60.0)
    if world.ts.sync is not None:  # the run loop's pending transfers into the cells
        world.ts.sync()
    cells = np.asarray(world.ts.cells)[2:8].sum()  # buckets [10 min, 40 min)
    return float(cells) / GB / 0.5


def bounds(users: int = 20_000) -> tuple[float, float]:
    """GB/h the documented tenant budgets allow: EWS connections at the thread ceiling; Graph's
    per-app limit over (1/20 + 1/1000) requests per 75 KB item."""
    item = d.MEAN_ITEM_BYTES_OF_TYPE["mailbox"]
    ceiling = min(
        d.THREAD_BPS_OF_WORKLOAD["exchange"], d.ITEMS_PER_S_OF_WORKLOAD["exchange"] * item
    )
    ews = d.EWS_MAX_CONCURRENCY * d.EWS_ACCOUNTS * ceiling
    ews_budget = (
        d.EWS_RECHARGE_MS_PER_H
        / 3600.0
        * d.EWS_ACCOUNTS
        / ((1 / d.EWS_ITEMS_PER_REQUEST + 1 / 1000) / item * d.EWS_SERVER_MS_PER_REQUEST)
    )
    graph = d.GRAPH_APP_REQUESTS_PER_10S / 10.0 / ((1 / 20 + 1 / 1000) / item)
    return min(ews, ews_budget) * 3600 / GB, graph * 3600 / GB


def window(api: str) -> dict[str, float]:
    """enterprise-20k, one incremental night and the initial full, through ``api``."""
    out: dict[str, float] = {}
    for state in ("protected", "empty"):
        r = sim.simulate(
            ROOT / "scenarios/enterprise-20k.yaml",
            overrides=[
                "simulation.days=1",
                f"simulation.initial_state={state}",
                f"tenants.fabrikam.exchange_api={api}",
            ],
        )
        s = r.sessions
        ex = s[s["job"].astype(str).str.startswith("exch")]
        out[f"{state}_exchange_makespan_h"] = float(ex["makespan_s"].max()) / 3600
        out[f"{state}_makespan_h"] = float(r.metric("makespan_max"))
        out[f"{state}_throttled_request_share"] = float(r.metric("throttled_request_share"))
        out[f"{state}_exchange_share"] = float(
            r.metric("throttled_request_share", "workload:exchange")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs/img")
    args = ap.parse_args(argv)
    xs = [1, 2, 4, 8] if args.quick else [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
    args.out.mkdir(parents=True, exist_ok=True)
    ews_bound, graph_bound = bounds()
    for api, bound in (("ews", ews_bound), ("graph", graph_bound)):
        ys = [steady_rate(n, api) for n in xs]
        print(api, " ".join(f"{n}:{y:.0f}" for n, y in zip(xs, ys, strict=True)), "GB/h")
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        ax.plot(xs, ys, "o-", label=f"simulated ({api.upper()})")
        ax.axhline(
            bound, ls="--", color="grey", label=f"documented tenant budget {bound:,.0f} GB/h"
        )
        ax.set_xlabel("proxies (8 cores, 64 threads each)")
        ax.set_ylabel("Exchange throughput, GB/h (initial full, steady state)")
        ews = f"EWS: {d.EWS_MAX_CONCURRENCY} connections x {d.EWS_ACCOUNTS} accounts"
        title = ews if api == "ews" else "Graph exportItems"
        ax.set_title(f"One 20,000-user tenant through {title}")
        ax.set_ylim(0, max(max(ys), min(bound, 3 * max(ys))) * 1.1)
        ax.legend(loc="lower right")
        fig.tight_layout()
        path = args.out / f"exchange_{api}_curve.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print("wrote", path)
    for api in ("ews", "graph"):
        print(api, {k: round(v, 4) for k, v in window(api).items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
