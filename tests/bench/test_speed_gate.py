"""Speed gate: fixed small workloads timed in CPU seconds against committed references.

A gate fails only when the best of three rounds takes more than ``SLACK`` times the committed
reference CPU time, so a busy machine does not make it flake while a real slow-down (an
accidental O(n²), numpy in the per-task loop) does. References live in
``speed_reference.json`` beside this file, with the machine they were measured on; refresh them
with ``python tests/bench/test_speed_gate.py`` after an intended change.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.bench.speed import mm8_scenario_text
from sim.scenario.schema import with_units

REFERENCE = Path(__file__).with_name("speed_reference.json")
SLACK = 3.0
MB = 1e6


def ps_scenario_text(tasks: int) -> str:
    """Two processor-sharing proxies behind join-shortest-queue: every transfer goes through
    the shared fluid (max-min rates, recomputed on each arrival and departure)."""
    doc: dict[str, Any] = {
        "name": "gate-ps",
        "proxies": [{"name": f"p{i}", "threads": 50, "processing_rate": MB} for i in range(2)],
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": "jsq"}],
        "synthetic": {
            "arrivals": {"process": "poisson", "rate": 1.6},
            "sizes": {"distribution": "exponential", "mean": MB},
            "tasks": tasks,
            "warmup_tasks": 0,
            "service": "processor_sharing",
            "target": "pool",
        },
    }
    return yaml.safe_dump(with_units(doc), sort_keys=False)


def tenants_scenario_text(tenants: int, users: int) -> str:
    """OneDrive backups of several tenants by one pool of six proxies: each tenant's
    SharePoint budget saturates, two of them at once for much of the night, so the shared fluid
    keeps one water level per saturated budget (the multi-tenant path)."""
    names = [f"p{i}" for i in range(6)]
    doc: dict[str, Any] = {
        "name": "gate-tenants",
        "seed": 7,
        "tenants": [{"name": f"t{k}", "users": users} for k in range(tenants)],
        "proxies": [{"name": n, "os": "linux", "cores": 8, "ram": "32 GB"} for n in names],
        "pools": [{"name": "pool", "members": names, "policy": "pull_fifo"}],
        "repositories": [
            {"name": "s3", "kind": "s3", "owner": "pool", "write_bandwidth": "10 Gbps"}
        ],
        "jobs": [
            {
                "name": f"od-{k}",
                "tenant": f"t{k}",
                "workloads": ["onedrive"],
                "repository": "s3",
                "schedule": {"daily": "22:00", "window": "8h"},
            }
            for k in range(tenants)
        ],
        "simulation": {"days": 1, "initial_state": "protected", "bucket": "30min"},
    }
    return yaml.safe_dump(with_units(doc), sort_keys=False)


WORKLOADS: dict[str, Callable[[], str]] = {
    "mm8_fcfs_20k": lambda: mm8_scenario_text(20_000),
    "ps_jsq_5k": lambda: ps_scenario_text(5_000),
    "three_tenants_6k": lambda: tenants_scenario_text(3, 2_000),
}


def references() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", sorted(WORKLOADS))
@pytest.mark.benchmark(group="speed-gate", timer=time.process_time, disable_gc=False)
def test_speed_gate(benchmark: Any, name: str) -> None:
    loaded = sim.load_scenario_text(WORKLOADS[name]())
    times: list[float] = []

    def run() -> sim.RunResult:
        # timed here too, so the gate holds with --benchmark-disable (one round then)
        c0 = time.process_time()
        out = sim.simulate(loaded, seed=1)
        times.append(time.process_time() - c0)
        return out

    result = benchmark.pedantic(run, rounds=3)
    assert not result.truncated
    best = min(times)
    ref = float(references()["cpu_s"][name])
    assert best <= SLACK * ref, (
        f"{name}: best of {len(times)} round(s) took {best:.3f} CPU-s, more than {SLACK:g}x "
        f"the committed reference {ref:.3f} CPU-s ({REFERENCE.name})"
    )


def _measure() -> None:
    """Re-measure the references (best of five rounds) and write the JSON file."""
    out: dict[str, Any] = {"cpu_s": {}, "note": "best of 5 rounds, time.process_time"}
    for name, make in sorted(WORKLOADS.items()):
        loaded = sim.load_scenario_text(make())
        best = float("inf")
        for _ in range(5):
            c0 = time.process_time()
            sim.simulate(loaded, seed=1)
            best = min(best, time.process_time() - c0)
        out["cpu_s"][name] = round(best, 4)
        print(f"{name}: {best:.3f} CPU-s")
    import os
    import platform

    out["machine"] = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    REFERENCE.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(_measure())
