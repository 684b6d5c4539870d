"""CPU the proxies of a scenario use beyond their cores, in one-minute buckets: the check of the
model's sharing of a proxy's processing between scans and transfers (sim/metrics/cpu.py,
docs/model.md "Proxies").

    .venv/bin/python scripts/cpu_over_cores.py                       # the shipped scenarios
    .venv/bin/python scripts/cpu_over_cores.py scenarios/quickstart.yaml --set seed=3

Prints, per scenario, the CPU used (core-hours of a Windows core) and the share of it above the
cores. The time series is recorded at one-minute buckets for this (``simulation.bucket=1min``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sim
from sim import defaults as d
from sim.metrics.cpu import cpu_use, record_scans

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("sizing-rule-night", "quickstart", "enterprise-20k", "enterprise-100k")


def measure(path: Path, sets: list[str]) -> tuple[float, float]:
    """(core-hours used, share above the cores) of one run."""
    worlds: list[sim.World] = []

    def setup(world: sim.World) -> None:
        record_scans(world)
        worlds.append(world)

    res = sim.simulate(path, overrides=[*sets, "simulation.bucket=1min"], on_world=setup)
    use = cpu_use(worlds[0], res.timeseries, step=60.0)
    return sum(use.used.values()) / d.PROXY_BPS_PER_CORE / 3600.0, use.excess_share


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args(argv)
    paths = args.scenarios or [ROOT / "scenarios" / f"{n}.yaml" for n in SHIPPED]
    for path in paths:
        core_h, share = measure(path, args.sets)
        print(f"{path.name}: {core_h:,.1f} core-h used, {100 * share:.2f} % above the cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
