"""The fluid clock late in a long run: a completion closer than a few units in the last place
of the clock is due now.

A year-long run hung at day 196 (t = 1.7e7 s, where one ulp is 3.7e-9 s, above the 1e-9 s
completion tolerance): a processor-sharing transfer's finish level stayed a rounding error
above the level's integral, the timer was re-armed at the same instant and fired for ever.
These runs start the clock there and bound the number of steps, so a regression fails at
once instead of hanging (the year-long run itself is tests/test_year_of_incidents.py, slow).
"""

from __future__ import annotations

import math
import random
from functools import partial

import numpy as np
import pytest
import simpy

from sim.model.maxmin import CLS_PROXY, pairs_of
from sim.model.sharing import FluidSharing
from sim.model.trace import Timeseries

DAY_196 = 196 * 86400.0
MAX_STEPS = 10_000
"""Far above what a handful of transfers need (two events per arrival and completion)."""


def run_late(
    jobs: list[tuple[float, float]], capacity: float, start: float = DAY_196
) -> tuple[list[float], list[float], int]:
    """Transfers (arrival after ``start``, bytes) sharing one resource of ``capacity`` bytes/s
    on a clock that starts at ``start``: completion times (from ``start``), bytes moved, and
    the SimPy steps taken. Fails after ``MAX_STEPS`` instead of hanging."""
    env = simpy.Environment(initial_time=start)
    done: dict[int, float] = {}
    moved: dict[int, float] = {}

    def on_done(task: int) -> None:
        done[task] = env.now - start
        moved[task] = sh.pop_finished(task)[0]

    sh = FluidSharing(
        env,
        np.array([math.inf, capacity]),
        np.array([CLS_PROXY, CLS_PROXY], dtype=np.int8),
        max_active=len(jobs),
        timeseries=Timeseries(1, 3600.0),
        on_done=on_done,
    )

    def arrive(i: int, size: float, _event: object) -> None:
        sh.add(i, 0, size, math.inf, pairs_of(np.array([1]), np.array([1.0])))

    for i, (arrival, size) in enumerate(jobs):
        env.timeout(arrival).callbacks.append(partial(arrive, i, size))
    steps = 0
    while env.peek() < math.inf:
        env.step()
        steps += 1
        assert steps <= MAX_STEPS, f"the clock stopped at {env.now - start:.9f} s: {done}"
    assert sh.n == 0
    return [done[i] for i in range(len(jobs))], [moved[i] for i in range(len(jobs))], steps


def test_two_transfers_finish_on_day_196() -> None:
    """Alone at 1e8 B/s from 7.197 s, then shared at 5e7 B/s each from 8.248 s (hand-computed
    processor sharing): without the ulp tolerance the first never finished."""
    a0, s0, a1, s1, cap = 7.1970468640395415, 132941180.7414229, 8.24844977148233, 2.2e8, 1e8
    left0 = s0 - (a1 - a0) * cap
    t0 = a1 + left0 / (cap / 2)
    t1 = t0 + (s1 - left0) / cap
    done, moved, _ = run_late([(a0, s0), (a1, s1)], cap)
    # one ulp of the clock is 3.7e-9 s here: the finishes are exact to a few of them
    np.testing.assert_allclose(done, [t0, t1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(moved, [s0, s1], rtol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_processor_sharing_late_in_a_long_run_ends(seed: int) -> None:
    """Random transfers at odd capacities: every one ends, its bytes all moved, and the same
    finishing order and times (to a few ulps) as on a clock started at 0."""
    rng = random.Random(seed)
    jobs = [(rng.random() * 10, rng.random() * 3e8) for _ in range(rng.randint(2, 6))]
    cap = rng.choice([7.3e7, 1e8, 1.25e8, 3e8])
    late, moved, _ = run_late(jobs, cap)
    early, _, _ = run_late(jobs, cap, start=0.0)
    np.testing.assert_allclose(moved, [s for _, s in jobs], rtol=1e-12)
    np.testing.assert_allclose(late, early, rtol=0, atol=1e-6)
