"""Wall time of the bench-speed sweeps through ``sim.sweep`` in a fresh interpreter, for
before/after comparisons of the executors on one machine in one sitting.

    python benchmarks/sweep_timing.py tiny 1      # -j 1 (serial)
    python benchmarks/sweep_timing.py long 2      # -j 2
    python benchmarks/sweep_timing.py tiny auto   # no -j: make_executor('local')

Run it with ``PYTHONPATH=<an older checkout>`` to time older code (the sweep grids are the ones
of ``sim.bench.speed`` on this branch, repeated here so that older code can run them). Prints
one JSON line: kind, jobs, points, wall_s, the executor's description when it has one.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import sim
from sim.experiment.executors import make_executor
from sim.experiment.sweep import sweep

USERS = {"tiny": 500, "long": 30_000}
POLICIES = {
    "tiny": "pull_fifo,pull_largest_first,round_robin,least_active_threads,jsq,power_of_d,"
    "least_work_left,random",
    "long": "pull_fifo,pull_largest_first,round_robin,least_active_threads",
}


def main() -> None:
    kind, jobs_text = sys.argv[1], sys.argv[2]
    jobs = None if jobs_text == "auto" else int(jobs_text)
    sets = [
        "simulation.days=1",
        "simulation.initial_state=protected",
        f"tenants.contoso.users={USERS[kind]}",
    ]
    grid = ["proxies.proxy-01.threads=16,32,48,64", f"pools.pool-a.policy={POLICIES[kind]}"]
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up in this process (lazy imports), not timed
        small = [*sets[:2], "tenants.contoso.users=100"]
        sweep("scenarios/quickstart.yaml", grid[:1], 1, overrides=small, folder=f"{tmp}/w")
        w0 = time.perf_counter()
        with make_executor("local", jobs) as ex:
            res = sweep(
                "scenarios/quickstart.yaml", grid, 1, overrides=sets, executor=ex, folder=f"{tmp}/s"
            )
        wall = time.perf_counter() - w0
    describe = getattr(ex, "describe", None)
    print(
        json.dumps(
            {
                "kind": kind,
                "jobs": jobs_text,
                "points": len(res.points),
                "wall_s": wall,
                "executor": describe() if describe else type(ex).__name__,
                "sim": sim.__file__,
            }
        )
    )


if __name__ == "__main__":
    main()
