"""Tests for sim.model.sharing: max-min fair rates and the fluid transfer engine.

Oracles: max-min fairness (Bertsekas & Gallager, Data Networks, 2nd ed., 1992, section 6.5.2)
and deterministic processor-sharing traces (docs/validation.md, Cases, T24).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.maxmin import (
    CLS_PROXY,
    CLS_SOURCE,
    CLS_TARGET,
    CLS_THREAD,
    max_min_rates,
    pairs_of,
)
from sim.model.sharing import FluidSharing
from sim.model.trace import Timeseries

INF = math.inf


def rates(
    ceilings: Sequence[float],
    uses: Sequence[Sequence[tuple[int, float]]],
    capacities: Sequence[float],
    classes: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """max_min_rates on a readable instance.

    ``uses[i]`` lists (resource, coefficient) pairs of transfer i with resources numbered from 1
    (0 is the unlimited dummy, added here); ``capacities[r - 1]`` is resource r's capacity.
    """
    k = max(1, max(len(u) for u in uses))
    n = len(ceilings)
    res = np.zeros((n, k), dtype=np.int64)
    coef = np.zeros((n, k))
    for i, u in enumerate(uses):
        for j, (r, a) in enumerate(u):
            res[i, j] = r
            coef[i, j] = a
    capacity = np.asarray([INF, *capacities], dtype=float)
    cls = [CLS_PROXY] * len(capacities) if classes is None else list(classes)
    res_class = np.asarray([CLS_PROXY, *cls], dtype=np.int8)
    return max_min_rates(np.asarray(ceilings, dtype=float), res, coef, capacity, res_class)


# -- worked examples --------------------------------------------------------------------------


def test_textbook_one_link_example() -> None:
    # Bertsekas & Gallager §6.5.2 (Keshav 1997's example):
    # C = 10, demands (2, 2.6, 4, 5) -> (2, 2.6, 2.7, 2.7)
    rate, cls = rates([2, 2.6, 4, 5], [[(1, 1.0)]] * 4, [10.0])
    np.testing.assert_allclose(rate, [2, 2.6, 2.7, 2.7], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_THREAD, CLS_THREAD, CLS_PROXY, CLS_PROXY]


def test_textbook_example_in_any_order() -> None:
    rate, _ = rates([5, 2.6, 2, 4], [[(1, 1.0)]] * 4, [10.0])
    np.testing.assert_allclose(rate, [2.7, 2.6, 2, 2.7], rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 40])
def test_k_greedy_transfers_share_equally(k: int) -> None:
    # max-min (Bertsekas & Gallager §6.5.2): one PS proxy with bandwidth B and k greedy
    # transfers -> B / k each
    capacity = 100.0
    rate, cls = rates([INF] * k, [[(1, 1.0)]] * k, [capacity], [CLS_TARGET])
    np.testing.assert_allclose(rate, capacity / k, rtol=1e-12)
    assert (cls == CLS_TARGET).all()


def test_two_resources_network() -> None:
    # A (cap 10, proxy) is used by t0 and t1; B (cap 6, target) by t1, t2 and t3.
    # Progressive filling: B saturates first at level 6/3 = 2, freezing t1, t2, t3 at 2;
    # then t0 alone rises on A to 10 - 2 = 8.
    rate, cls = rates(
        [INF] * 4,
        [[(1, 1.0)], [(1, 1.0), (2, 1.0)], [(2, 1.0)], [(2, 1.0)]],
        [10.0, 6.0],
        [CLS_PROXY, CLS_TARGET],
    )
    np.testing.assert_allclose(rate, [8, 2, 2, 2], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_PROXY, CLS_TARGET, CLS_TARGET, CLS_TARGET]


def test_two_resources_network_with_a_ceiling() -> None:
    # as above, but t2 is capped at 1: B leaves (6 - 1) / 2 = 2.5 to t1 and t3; t0 gets 7.5
    rate, cls = rates(
        [INF, INF, 1.0, INF],
        [[(1, 1.0)], [(1, 1.0), (2, 1.0)], [(2, 1.0)], [(2, 1.0)]],
        [10.0, 6.0],
        [CLS_PROXY, CLS_TARGET],
    )
    np.testing.assert_allclose(rate, [7.5, 2.5, 1.0, 2.5], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_PROXY, CLS_TARGET, CLS_THREAD, CLS_TARGET]


def test_three_resource_chain() -> None:
    # Bertsekas-Gallager style chain: links L1 (cap 1), L2 (cap 2), L3 (cap 3).
    # t0 uses L1, L2, L3; t1 uses L1; t2 uses L2; t3 uses L3.
    # L1 saturates at 1/2 -> t0 = t1 = 0.5; then L2 leaves 1.5 for t2; L3 leaves 2.5 for t3.
    rate, cls = rates(
        [INF] * 4,
        [[(1, 1.0), (2, 1.0), (3, 1.0)], [(1, 1.0)], [(2, 1.0)], [(3, 1.0)]],
        [1.0, 2.0, 3.0],
        [CLS_SOURCE, CLS_PROXY, CLS_TARGET],
    )
    np.testing.assert_allclose(rate, [0.5, 0.5, 1.5, 2.5], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_SOURCE, CLS_SOURCE, CLS_PROXY, CLS_TARGET]


def test_coefficients_scale_consumption() -> None:
    # consumption a_i * x_i: (1 + 2 + 3) x = 12 -> x = 2 for each
    rate, _ = rates([INF] * 3, [[(1, 1.0)], [(1, 2.0)], [(1, 3.0)]], [12.0])
    np.testing.assert_allclose(rate, [2, 2, 2], rtol=0, atol=1e-12)


def test_coefficients_with_a_ceiling() -> None:
    # t0 (a = 1) is capped at 1; t1 (a = 2) takes the rest: 1 + 2 x = 12 -> x = 5.5
    rate, cls = rates([1.0, INF], [[(1, 1.0)], [(1, 2.0)]], [12.0], [CLS_SOURCE])
    np.testing.assert_allclose(rate, [1.0, 5.5], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_THREAD, CLS_SOURCE]


def test_coefficients_on_two_resources() -> None:
    # R1 (cap 10): t0 a=1, t1 a=4 -> saturates at x = 2.
    # R2 (cap 9): t1 a=0.5, t2 a=1 -> would saturate at x = 6.
    # Level 2 freezes t0 and t1 (on R1); t2 then takes 9 - 0.5 * 2 = 8.
    rate, cls = rates(
        [INF] * 3,
        [[(1, 1.0)], [(1, 4.0), (2, 0.5)], [(2, 1.0)]],
        [10.0, 9.0],
        [CLS_SOURCE, CLS_TARGET],
    )
    np.testing.assert_allclose(rate, [2, 2, 8], rtol=0, atol=1e-12)
    assert cls.tolist() == [CLS_SOURCE, CLS_SOURCE, CLS_TARGET]


def test_zero_coefficient_means_not_using() -> None:
    rate, _ = rates([INF, 3.0], [[(1, 1.0)], [(1, 0.0)]], [1.0])
    np.testing.assert_allclose(rate, [1.0, 3.0], rtol=0, atol=1e-12)


def test_ceilings_only_are_fixed_rate_servers() -> None:
    rate, cls = rates([1.0, 2.5, 0.25], [[(0, 1.0)], [(0, 1.0)], [(0, 1.0)]], [])
    np.testing.assert_allclose(rate, [1.0, 2.5, 0.25], rtol=0, atol=0)
    assert (cls == CLS_THREAD).all()


def test_no_transfers() -> None:
    rate, cls = max_min_rates(
        np.zeros(0),
        np.zeros((0, 3), dtype=np.int64),
        np.zeros((0, 3)),
        np.array([INF, 1.0]),
        np.array([CLS_PROXY, CLS_PROXY], dtype=np.int8),
    )
    assert rate.shape == (0,) and cls.shape == (0,)


def test_unlimited_transfer_is_an_error() -> None:
    with pytest.raises(ValueError, match="neither a ceiling nor a limiting resource"):
        rates([INF], [[(0, 1.0)]], [])


# -- property: feasibility and max-min optimality -------------------------------------------

RTOL = 1e-9
NICE = np.array([0.5, 1.0, 2.0, 3.0, 10.0])


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Random instances: sizes from Hypothesis, values from a seeded numpy generator (fast).

    About a third of capacities, ceilings and coefficients come from a few round values, so
    ties between saturation levels and ceilings are common.
    """
    n_res = draw(st.integers(1, 6))
    k = draw(st.integers(1, 4))
    n = draw(st.integers(1, 40))
    p_zero = draw(st.sampled_from([0.0, 0.2, 0.5]))
    p_inf = draw(st.sampled_from([0.0, 0.5, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def values(size: int | tuple[int, int], lo: float, hi: float) -> np.ndarray:
        smooth = np.exp(rng.uniform(np.log(lo), np.log(hi), size))
        nice = rng.choice(NICE, size)
        return np.where(rng.random(size) < 0.35, nice, smooth)

    capacity = np.concatenate(([INF], values(n_res, 0.01, 1000.0)))
    res_class = np.concatenate(
        ([CLS_PROXY], rng.choice([CLS_SOURCE, CLS_PROXY, CLS_TARGET], n_res))
    ).astype(np.int8)
    res = rng.integers(0, n_res + 1, (n, k))
    coef = np.where(rng.random((n, k)) < p_zero, 0.0, values((n, k), 0.01, 5.0))
    cap = values(n, 0.01, 1000.0)
    limited = ((res > 0) & (coef > 0)).any(axis=1)
    cap[limited & (rng.random(n) < p_inf)] = INF
    return cap, res.astype(np.int64), coef, capacity, res_class


def check_max_min(
    cap: np.ndarray,
    res: np.ndarray,
    coef: np.ndarray,
    capacity: np.ndarray,
    res_class: np.ndarray,
    rate: np.ndarray,
    cls: np.ndarray,
) -> None:
    n, _ = res.shape
    assert rate.shape == (n,)
    assert np.all(np.isfinite(rate)) and np.all(rate >= 0)
    # feasibility
    assert np.all(rate <= cap * (1 + RTOL))
    used_by = res * (coef > 0)  # resource 0 = not used
    usage = np.bincount(res.ravel(), (coef * rate[:, None]).ravel(), minlength=capacity.size)
    assert np.all(usage[1:] <= capacity[1:] * (1 + RTOL)), (usage, capacity)
    saturated = usage >= capacity * (1 - RTOL)
    saturated[0] = False
    # optimality: every transfer is at its ceiling or has a bottleneck resource, i.e. a
    # saturated resource on which its rate is the largest among that resource's users
    for i in range(n):
        at_ceiling = rate[i] >= cap[i] * (1 - RTOL)
        bottlenecks = []
        for r in set(used_by[i].tolist()) - {0}:
            if not saturated[r]:
                continue
            users = np.flatnonzero((used_by == r).any(axis=1))
            if rate[i] >= rate[users].max() * (1 - RTOL):
                bottlenecks.append(r)
        assert at_ceiling or bottlenecks, f"transfer {i} (rate {rate[i]}) could still rise"
        # the class names the constraint that froze it
        if cls[i] == CLS_THREAD:
            assert at_ceiling, f"transfer {i} is labelled thread-bound below its ceiling"
        else:
            assert cls[i] in {int(res_class[r]) for r in bottlenecks}, (i, cls[i], bottlenecks)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(instances())
def test_max_min_feasible_and_optimal(inst: tuple[np.ndarray, ...]) -> None:
    cap, res, coef, capacity, res_class = inst
    rate, cls = max_min_rates(cap, res, coef, capacity, res_class)
    check_max_min(cap, res, coef, capacity, res_class, rate, cls)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(instances(), st.floats(0.01, 100.0))
def test_max_min_scales_with_capacities(inst: tuple[np.ndarray, ...], c: float) -> None:
    # scaling every capacity and ceiling by c scales the allocation by c
    cap, res, coef, capacity, res_class = inst
    rate, _ = max_min_rates(cap, res, coef, capacity, res_class)
    scaled, _ = max_min_rates(cap * c, res, coef, capacity * c, res_class)
    np.testing.assert_allclose(scaled, rate * c, rtol=1e-8, atol=1e-12)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(instances(), st.randoms(use_true_random=False))
def test_max_min_is_permutation_invariant(inst: tuple[np.ndarray, ...], rnd: object) -> None:
    cap, res, coef, capacity, res_class = inst
    perm = np.arange(cap.size)
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    rate, _ = max_min_rates(cap, res, coef, capacity, res_class)
    prate, _ = max_min_rates(cap[perm], res[perm], coef[perm], capacity, res_class)
    np.testing.assert_allclose(prate, rate[perm], rtol=1e-9, atol=1e-12)


# -- FluidSharing on a bare SimPy environment --------------------------------------------------


def run_fluid(
    jobs: Sequence[tuple[float, float]],
    capacity: float = 1.0,
    ceilings: Sequence[float] | None = None,
    shared: bool = True,
    bucket: float = 1.0,
    changes: Sequence[tuple[float, float]] = (),
) -> tuple[list[float], list[float], Timeseries]:
    """Jobs (arrival, size) on one resource of ``capacity`` (or none if not ``shared``).

    Returns completion times, bytes moved per job and the time series. ``changes`` are
    (time, new capacity) events.
    """
    env = simpy.Environment()
    ts = Timeseries(1, bucket)
    done: dict[int, float] = {}
    moved: dict[int, float] = {}
    caps = list(ceilings) if ceilings is not None else [INF] * len(jobs)

    def on_done(task: int) -> None:
        done[task] = env.now
        moved[task] = sh.pop_finished(task)[0]

    sh = FluidSharing(
        env,
        np.array([INF, capacity]),
        np.array([CLS_PROXY, CLS_PROXY], dtype=np.int8),
        max_active=len(jobs),
        timeseries=ts,
        on_done=on_done,
    )
    slot = np.array([1 if shared else 0])

    def arrive(i: int, size: float, _event: object) -> None:
        sh.add(i, 0, size, caps[i], pairs_of(slot, np.array([1.0])))

    def change(value: float, _event: object) -> None:
        sh.set_capacity(1, value)

    for i, (arrival, size) in enumerate(jobs):
        env.timeout(arrival).callbacks.append(partial(arrive, i, size))
    for when, value in changes:
        env.timeout(when).callbacks.append(partial(change, value))
    env.run()
    assert sh.n == 0
    return [done[i] for i in range(len(jobs))], [moved[i] for i in range(len(jobs))], ts


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        ([(0, 1), (0, 2), (0, 3)], [3, 5, 6]),
        ([(0, 2), (1, 1)], [3, 3]),
        ([(0, 3), (1, 1), (2, 1)], [5, 3.5, 4.5]),
    ],
)
def test_processor_sharing_traces(jobs: list[tuple[float, float]], expected: list[float]) -> None:
    # hand-computed PS traces (docs/validation.md, T24): capacity 1, exact completions
    done, moved, ts = run_fluid(jobs)
    np.testing.assert_allclose(done, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved, [s for _, s in jobs], rtol=0, atol=1e-9)
    data = ts.buckets()
    assert data.sum() == pytest.approx(sum(s for _, s in jobs), abs=1e-9)
    assert np.all(data <= 1.0 * ts.bucket_s + 1e-9)


def test_processor_sharing_timeseries_buckets() -> None:
    # capacity 1, busy on [0, 6): every 1 s bucket holds exactly 1 byte
    _, _, ts = run_fluid([(0, 1), (0, 2), (0, 3)], bucket=1.0)
    np.testing.assert_allclose(ts.buckets()[:, 0], [1.0] * 6, rtol=0, atol=1e-12)
    # half-bucket aligned: 2.5 s buckets -> 2.5, 2.5, 1
    _, _, ts = run_fluid([(0, 1), (0, 2), (0, 3)], bucket=2.5)
    np.testing.assert_allclose(ts.buckets()[:, 0], [2.5, 2.5, 1.0], rtol=0, atol=1e-12)


def test_fixed_rate_ceilings_are_independent_servers() -> None:
    # no shared resource: each transfer runs at its ceiling regardless of the others
    jobs = [(0, 3), (0, 3), (1, 3), (2, 1)]
    ceilings = [1.0, 2.0, 0.5, 4.0]
    done, moved, ts = run_fluid(jobs, ceilings=ceilings, shared=False)
    np.testing.assert_allclose(done, [3, 1.5, 7, 2.25], rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved, [3, 3, 3, 1], rtol=0, atol=1e-9)
    assert ts.buckets().sum() == pytest.approx(10.0, abs=1e-9)


def test_ceiling_below_fair_share_leaves_the_rest() -> None:
    # capacity 1: job 0 is capped at 0.25, job 1 gets 0.75 until job 0 ends at t = 4
    done, _, _ = run_fluid([(0, 1), (0, 3)], ceilings=[0.25, INF])
    np.testing.assert_allclose(done, [4, 4], rtol=0, atol=1e-9)
    done, _, _ = run_fluid([(0, 1), (0, 6)], ceilings=[0.25, INF])
    # job 1: 3 bytes by t = 4, then alone at rate 1 -> t = 7
    np.testing.assert_allclose(done, [4, 7], rtol=0, atol=1e-9)


def test_capacity_change_mid_transfer() -> None:
    # two unit jobs on capacity 1; at t = 0.5 capacity doubles: 0.75 left each at rate 1
    done, moved, _ = run_fluid([(0, 1), (0, 1)], changes=[(0.5, 2.0)])
    np.testing.assert_allclose(done, [1.25, 1.25], rtol=0, atol=1e-9)
    np.testing.assert_allclose(moved, [1, 1], rtol=0, atol=1e-9)


def test_remove_returns_progress_and_frees_capacity() -> None:
    env = simpy.Environment()
    ts = Timeseries(1, 1.0)
    done: dict[int, float] = {}
    sh = FluidSharing(
        env,
        np.array([INF, 1.0]),
        np.array([CLS_PROXY, CLS_TARGET], dtype=np.int8),
        max_active=2,
        timeseries=ts,
        on_done=lambda t: done.__setitem__(t, env.now),
    )
    one = np.array([1])
    sh.add(0, 0, 10.0, INF, pairs_of(one, np.array([1.0])))
    sh.add(1, 0, 2.0, INF, pairs_of(one, np.array([1.0])))
    out: dict[str, tuple[float, float, np.ndarray]] = {}

    def stop(_e: object) -> None:
        out["removed"] = sh.remove(0)

    env.timeout(1.0).callbacks.append(stop)
    env.run()
    moved, remaining, bott = out["removed"]
    assert moved == pytest.approx(0.5, abs=1e-12)
    assert remaining == pytest.approx(9.5, abs=1e-12)
    assert bott[CLS_TARGET] == pytest.approx(1.0, abs=1e-12)  # the target class limited it
    # job 1 had 1.5 left at t = 1 and then ran alone at rate 1
    assert done == {1: pytest.approx(2.5, abs=1e-9)}


# -- FluidSharing against a reference event loop ------------------------------------------------


def reference_completions(
    arrival: np.ndarray,
    size: np.ndarray,
    inst: tuple[np.ndarray, ...],
) -> np.ndarray:
    """Completion times by brute force: recompute max_min_rates over all active transfers at
    every arrival and completion (no local updates, no SimPy)."""
    cap, res, coef, capacity, res_class = inst
    n = size.size
    done = np.full(n, np.nan)
    rem = size.astype(float).copy()
    order = list(np.argsort(arrival, kind="stable"))
    active: list[int] = []
    t = 0.0
    while order or active:
        while order and arrival[order[0]] <= t:
            active.append(int(order.pop(0)))
        if not active:
            t = float(arrival[order[0]])
            continue
        ids = np.asarray(active)
        rate, _ = max_min_rates(cap[ids], res[ids], coef[ids], capacity, res_class)
        with np.errstate(divide="ignore"):
            ttf = np.where(rate > 0, rem[ids] / rate, INF)
        dt = float(ttf.min())
        if order:
            dt = min(dt, float(arrival[order[0]]) - t)
        rem[ids] -= rate * dt
        t += dt
        finished = ids[(ttf - dt <= 1e-9) | (rem[ids] <= 0)]
        done[finished] = t
        active = [i for i in active if i not in set(finished.tolist())]
    return done


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(instances(), st.integers(0, 2**32 - 1))
def test_fluid_sharing_matches_reference(inst: tuple[np.ndarray, ...], seed: int) -> None:
    """Local updates (a new transfer at its ceiling, a leaving one freeing only slack) must give
    the same completions as recomputing the max-min allocation at every change."""
    cap, res, coef, capacity, res_class = inst
    n = min(cap.size, 15)
    inst = (cap[:n], res[:n], coef[:n], capacity, res_class)
    rng = np.random.default_rng(seed)
    # arrival times on a coarse grid so several transfers often arrive together
    arrival = rng.integers(0, 6, n) * rng.choice([0.5, 1.0, 2.0])
    size = np.where(rng.random(n) < 0.3, 1.0, np.exp(rng.uniform(-3, 3, n)))
    expected = reference_completions(arrival, size, inst)

    env = simpy.Environment()
    got: dict[int, float] = {}
    moved: dict[int, float] = {}

    def on_done(task: int) -> None:
        got[task] = env.now
        moved[task] = sh.pop_finished(task)[0]

    sh = FluidSharing(
        env,
        capacity.copy(),
        res_class,
        max_active=n,
        timeseries=Timeseries(1, 1.0),
        on_done=on_done,
    )

    def arrive(i: int, _event: object) -> None:
        sh.add(i, 0, float(size[i]), float(inst[0][i]), pairs_of(inst[1][i], inst[2][i]))

    for i in range(n):
        env.timeout(float(arrival[i])).callbacks.append(partial(arrive, i))
    env.run()
    assert sorted(got) == list(range(n))
    np.testing.assert_allclose([got[i] for i in range(n)], expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose([moved[i] for i in range(n)], size, rtol=1e-9)


# -- known defects ------------------------------------------------------------------------------

PRECISION_BUG = (
    "max_min_rates gets the sums behind a water level as differences of larger sums: the "
    "numpy path (n > SMALL_N) takes every resource's prefix/suffix sums from ONE cumulative sum "
    "over all (transfer, resource) pairs (cum_a, cum_ac; suffix_a = total_a - before_a) and the "
    "small path keeps weight[r] by subtracting frozen coefficients. When capacity-normalised "
    "coefficients a/C differ by ~1e9 (within one resource, or from a resource sorted before), "
    "~8 digits cancel: the level is off by up to ~1e-7 relative, so the resource is over-filled "
    "(infeasible) or under-filled (not max-min) beyond 1e-9"
)
PRECISION_XFAIL = pytest.mark.xfail(strict=True, reason=PRECISION_BUG)


@pytest.mark.parametrize(
    "pad", [0, pytest.param(20, marks=PRECISION_XFAIL)], ids=["small_n", "numpy_path"]
)
@pytest.mark.parametrize("a", [1e-9, 5e-9])
def test_tiny_coefficient_next_to_a_large_one(pad: int, a: float) -> None:
    # t0 uses R1 (C = 1, a = 1) capped at 0.5; t1 uses R2 (C = 1) with a tiny coefficient a,
    # so R2 saturates at exactly 1 / a. ``pad`` transfers that use no resource (ceiling 1)
    # only change the number of transfers.
    ceilings = [0.5, INF] + [1.0] * pad
    uses = [[(1, 1.0)], [(2, a)]] + [[(0, 1.0)]] * pad
    rate, cls = rates(ceilings, uses, [1.0, 1.0], [CLS_PROXY, CLS_TARGET])
    assert rate[0] == 0.5
    assert rate[1] * a == pytest.approx(1.0, rel=1e-9, abs=0)
    assert cls[1] == CLS_TARGET


@PRECISION_XFAIL
@pytest.mark.parametrize("pad", [0, 20], ids=["small_n", "numpy_path"])
@pytest.mark.parametrize("a", [1e-9, 5e-9])
def test_tiny_coefficient_sharing_a_resource_with_a_large_one(pad: int, a: float) -> None:
    # R1 (C = 1): t0 (a = 1) capped at 0.5, t1 (a tiny) takes the other half: x1 = 0.5 / a
    ceilings = [0.5, INF] + [1.0] * pad
    uses = [[(1, 1.0)], [(1, a)]] + [[(0, 1.0)]] * pad
    rate, _ = rates(ceilings, uses, [1.0])
    assert rate[0] == 0.5
    assert 0.5 + rate[1] * a == pytest.approx(1.0, rel=1e-9, abs=0)


def test_fluid_sharing_resource_named_twice() -> None:
    # regression: the local update once checked and stored usage slot by slot, admitting a
    # transfer that names one resource twice at its ceiling although the slots' sum exceeds C
    # one transfer, R1 (C = 1) listed twice with a = 1: 2 x <= 1, so x = 0.5 and a unit of
    # work takes 2 s (not 1 / 0.8 = 1.25 s at its ceiling)
    env = simpy.Environment()
    done: dict[int, float] = {}
    sh = FluidSharing(
        env,
        np.array([INF, 1.0]),
        np.array([CLS_PROXY, CLS_PROXY], dtype=np.int8),
        max_active=1,
        timeseries=Timeseries(1, 1.0),
        on_done=lambda t: done.__setitem__(t, env.now),
    )
    rate, _ = max_min_rates(
        np.array([0.8]), np.array([[1, 1]]), np.array([[1.0, 1.0]]), sh.capacity, sh.res_class
    )
    assert rate[0] == pytest.approx(0.5)
    sh.add(0, 0, 1.0, 0.8, pairs_of(np.array([1, 1]), np.array([1.0, 1.0])))
    env.run()
    assert done[0] == pytest.approx(2.0, abs=1e-9)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(instances(), st.integers(1, 24))
def test_unrelated_transfers_do_not_change_rates(inst: tuple[np.ndarray, ...], pad: int) -> None:
    """Transfers that use no finite resource run at their ceilings and leave every other rate
    as it was (this also crosses any size threshold between implementations)."""
    cap, res, coef, capacity, res_class = inst
    rate, _ = max_min_rates(cap, res, coef, capacity, res_class)
    pad_cap = np.linspace(0.5, 5.0, pad)
    rate2, cls2 = max_min_rates(
        np.concatenate((cap, pad_cap)),
        np.concatenate((res, np.zeros((pad, res.shape[1]), dtype=np.int64))),
        np.concatenate((coef, np.ones((pad, res.shape[1])))),
        capacity,
        res_class,
    )
    np.testing.assert_allclose(rate2[: cap.size], rate, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(rate2[cap.size :], pad_cap)
    assert (cls2[cap.size :] == CLS_THREAD).all()
