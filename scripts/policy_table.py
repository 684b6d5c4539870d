"""Compare every registered policy on one scenario and print a Markdown table.

Usage: .venv/bin/python scripts/policy_table.py SCENARIO [--set key=value ...]

Each policy replaces the policy of every pool; the seed, the workload and the daily changes are
the same for all (common random numbers). One run per policy: the numbers carry no confidence
interval (replications are `poolsim compare`'s job once it exists).
"""

from __future__ import annotations

import sys

import sim
from sim.policies import available


def main(argv: list[str]) -> None:
    path = argv[0]
    overrides = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    loaded = sim.load_scenario(path, overrides)
    rows = []
    for name in available():
        r = sim.simulate(loaded, policy=name)
        s = r.sessions
        rows.append(
            (
                name,
                r.metric("throughput"),
                float(s["makespan_s"].max()) / 3600,
                r.metric("window_compliance"),
                min(r.metric("jain_fairness", f"pool:{p.name}") for p in loaded.spec.pools),
                max(r.metric("load_max_over_mean", f"pool:{p.name}") for p in loaded.spec.pools),
                r.metric("wait_p95") / 60,
            )
        )
        print(f"{name}: done in {r.wall_s:.0f} s", file=sys.stderr)
    print(
        "| policy | throughput (GB/h) | longest session (h) | window compliance "
        "| worst pool Jain | worst pool max/mean | wait p95 (min) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, tp, mk, wc, j, mm, w in rows:
        print(f"| `{name}` | {tp:,.1f} | {mk:.2f} | {wc:.0%} | {j:.4f} | {mm:.3f} | {w:,.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
