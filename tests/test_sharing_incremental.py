"""The incremental allocation of FluidSharing (water-filling one tracked resource in O(log n))
must be the max-min allocation after every change.

After every start, end and capacity change, the rates the fluid runs at (bound rows at the
level, fixed rows at their rate) are compared with ``max_min_rates`` over the active transfers,
and the completions with a brute-force event loop. Instances are drawn so that one shared
resource is usually saturated (the regime the incremental path serves), with ceilings on both
sides of the water level, other resources close to saturation, and many simultaneous events.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sharing import instances, reference_completions

from sim.model.maxmin import (
    CLS_PROXY,
    CLS_SOURCE,
    CLS_TARGET,
    max_min_rates,
    pairs_of,
)
from sim.model.sharing import FluidSharing
from sim.model.trace import Timeseries

INF = np.inf


def fluid_rates(sh: FluidSharing) -> np.ndarray:
    """The rate each active row moves at now."""
    return sh.current_rates()


class Checked:
    """A FluidSharing run whose allocation is checked against max_min_rates after each change."""

    def __init__(self, inst: tuple[np.ndarray, ...], n_proxies: int = 3) -> None:
        self.cap, self.res, self.coef, self.capacity, self.res_class = inst
        self.env = simpy.Environment()
        self.done: dict[int, float] = {}
        self.moved: dict[int, float] = {}
        self.bott: dict[int, list[float]] = {}
        self.checks = 0
        self.sh = FluidSharing(
            self.env,
            self.capacity.copy(),
            self.res_class,
            max_active=self.cap.size,
            timeseries=Timeseries(n_proxies, 0.7),
            on_done=self.on_done,
        )
        self.n_proxies = n_proxies
        for name in ("_recompute", "_on_timer"):
            original = getattr(self.sh, name)
            setattr(self.sh, name, partial(self._checked, original))

    def _checked(self, original, *args):  # type: ignore[no-untyped-def]
        original(*args)
        self.check()

    def on_done(self, task: int) -> None:
        self.done[task] = self.env.now
        self.moved[task], self.bott[task] = self.sh.pop_finished(task)

    def check(self) -> None:
        sh = self.sh
        if sh._dirty:
            return  # a full solve is due at this instant
        ids = sh.task[sh.slots()]
        got = fluid_rates(sh)
        want, _ = max_min_rates(
            self.cap[ids], self.res[ids], self.coef[ids], sh.capacity, self.res_class
        )
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
        self.checks += 1

    def arrive(self, arrival: np.ndarray, size: np.ndarray) -> None:
        """Start transfer i at ``arrival[i]`` with ``size[i]`` bytes."""
        for i in range(size.size):
            self.env.timeout(float(arrival[i])).callbacks.append(
                partial(self.add, i, float(size[i]))
            )

    def add(self, i: int, size: float, _event: object = None) -> None:
        pairs = pairs_of(self.res[i], self.coef[i])
        self.sh.add(i, i % self.n_proxies, size, float(self.cap[i]), pairs)
        self.check()

    def set_capacity(self, r: int, value: float, _event: object = None) -> None:
        self.sh.set_capacity(r, value)

    def remove(self, i: int, _event: object = None) -> None:
        if i in self.sh.row_of:
            self.sh.remove(i)
            self.done[i] = -1.0
            self.check()


@st.composite
def saturated(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """One budget shared by most transfers (saturated), plus per-proxy links near saturation."""
    n = draw(st.integers(2, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    budget = float(rng.choice([5.0, 20.0, 40.0]))
    links = rng.choice([2.0, 8.0, 50.0], 3)
    capacity = np.concatenate(([INF, budget], links))
    res_class = np.array([CLS_PROXY, CLS_SOURCE, CLS_PROXY, CLS_PROXY, CLS_TARGET], np.int8)[
        : capacity.size
    ]
    uses_budget = rng.random(n) < 0.8
    res = np.zeros((n, 3), dtype=np.int64)
    coef = np.zeros((n, 3))
    res[:, 0] = np.where(uses_budget, 1, 0)
    coef[:, 0] = np.where(uses_budget, rng.choice([0.5, 1.0, 2.0], n), 0.0)
    res[:, 1] = 2 + rng.integers(0, 3, n)
    coef[:, 1] = 1.0
    res[:, 2] = np.where(rng.random(n) < 0.2, 1, 0)  # the budget named twice now and then
    coef[:, 2] = np.where(res[:, 2] > 0, 0.25, 0.0)
    cap = np.where(rng.random(n) < 0.3, INF, rng.choice([0.1, 0.5, 1.0, 3.0, 10.0], n))
    cap[~uses_budget] = np.minimum(cap[~uses_budget], 1.0)
    return cap, res, coef, capacity, res_class


@st.composite
def several_budgets(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two to four budgets (tenants), each used by its own transfers and usually saturated,
    all transfers on shared per-proxy links near saturation; now and then a transfer on two
    budgets (which the water levels cannot describe: a full solve, or general mode)."""
    n = draw(st.integers(2, 80))
    k = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    budgets = rng.choice([5.0, 20.0, 40.0], k)
    links = rng.choice([4.0, 16.0, 60.0], 3)
    capacity = np.concatenate(([INF], budgets, links))
    res_class = np.array(
        [CLS_PROXY] + [CLS_SOURCE] * k + [CLS_PROXY, CLS_PROXY, CLS_TARGET], np.int8
    )
    tenant = rng.integers(0, k, n)
    res = np.zeros((n, 3), dtype=np.int64)
    coef = np.zeros((n, 3))
    res[:, 0] = 1 + tenant
    coef[:, 0] = rng.choice([0.5, 1.0, 2.0], n)
    res[:, 1] = 1 + k + rng.integers(0, 3, n)
    coef[:, 1] = 1.0
    second = rng.random(n) < 0.05
    res[:, 2] = np.where(second, 1 + (tenant + 1) % k, 0)
    coef[:, 2] = np.where(second, 0.5, 0.0)
    cap = np.where(rng.random(n) < 0.3, INF, rng.choice([0.1, 0.5, 1.0, 3.0, 10.0], n))
    return cap, res, coef, capacity, res_class


@st.composite
def own_links(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Two to four budgets (tenants), each used by its own transfers on its own links, near
    saturation (the levels share no resource: a rise within a level's room needs no exact
    check); now and then a transfer on another tenant's link (then those levels share it)."""
    n = draw(st.integers(2, 80))
    k = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    budgets = rng.choice([5.0, 20.0, 40.0], k)
    links = rng.choice([4.0, 16.0, 60.0], k)
    capacity = np.concatenate(([INF], budgets, links))
    res_class = np.array([CLS_PROXY] + [CLS_SOURCE] * k + [CLS_PROXY] * k, np.int8)
    tenant = rng.integers(0, k, n)
    crossing = rng.random(n) < draw(st.sampled_from([0.0, 0.05]))
    link = np.where(crossing, rng.integers(0, k, n), tenant)
    res = np.stack([1 + tenant, 1 + k + link], axis=1).astype(np.int64)
    coef = np.stack([rng.choice([0.5, 1.0, 2.0], n), np.ones(n)], axis=1)
    cap = np.where(rng.random(n) < 0.3, INF, rng.choice([0.1, 0.5, 1.0, 3.0, 10.0], n))
    return cap, res, coef, capacity, res_class


def run_checked(
    inst: tuple[np.ndarray, ...],
    seed: int,
    removals: bool,
    capacity_changes: bool,
) -> tuple[Checked, np.ndarray, np.ndarray]:
    run = Checked(inst)
    n = inst[0].size
    rng = np.random.default_rng(seed)
    arrival = rng.integers(0, 12, n) * rng.choice([0.25, 1.0])
    size = np.where(rng.random(n) < 0.3, 1.0, np.exp(rng.uniform(-2, 2, n)))
    run.arrive(arrival, size)
    if removals:
        for i in rng.choice(n, size=n // 5, replace=False).tolist():
            run.env.timeout(float(arrival[i]) + float(rng.uniform(0, 3))).callbacks.append(
                partial(run.remove, i)
            )
    if capacity_changes:
        for when in (2.0, 5.0, 7.5):
            value = float(run.capacity[1] * rng.choice([0.5, 2.0]))
            run.env.timeout(when).callbacks.append(partial(run.set_capacity, 1, value))
    run.env.run()
    assert run.sh.n == 0
    return run, arrival, size


def assert_all_accounted(run: Checked, arrival: np.ndarray, size: np.ndarray) -> None:
    """Checked after changes; every transfer ended or was removed; a finished one moved its
    bytes, and every second of it is charged to exactly one bottleneck class."""
    assert run.checks > 0
    n = size.size
    assert sorted(run.done) == list(range(n))
    for i in range(n):
        if run.done[i] >= 0:
            assert abs(run.moved[i] - size[i]) <= 1e-9 * size[i]
            assert abs(sum(run.bott[i]) - (run.done[i] - arrival[i])) <= 1e-6


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(saturated(), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_allocation_is_max_min_after_every_change(
    inst: tuple[np.ndarray, ...], seed: int, removals: bool, capacity_changes: bool
) -> None:
    run, arrival, size = run_checked(inst, seed, removals, capacity_changes)
    assert_all_accounted(run, arrival, size)


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(instances(), st.integers(0, 2**32 - 1))
def test_any_instance_matches_the_brute_force_loop(inst: tuple[np.ndarray, ...], seed: int) -> None:
    """Random instances (several saturated resources, ties, dead resources) with up to 40
    transfers: same completions as re-solving at every event, checked after every change."""
    cap = inst[0]
    if not np.isfinite(cap).any() and not (inst[1] > 0).any():
        return
    run, arrival, size = run_checked(inst, seed, removals=False, capacity_changes=False)
    expected = reference_completions(arrival, size, inst)
    got = np.array([run.done[i] for i in range(cap.size)])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(several_budgets(), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_several_water_levels_stay_max_min(
    inst: tuple[np.ndarray, ...], seed: int, removals: bool, capacity_changes: bool
) -> None:
    """One water level per saturated budget: the rates are max-min after every change, every
    byte arrives, and each budget's consumption is its transfers' bytes times coefficients."""
    run, arrival, size = run_checked(inst, seed, removals, capacity_changes)
    assert_all_accounted(run, arrival, size)
    if not removals:
        _, res, coef, capacity, _ = inst
        want = np.bincount(res.ravel(), (coef * size[:, None]).ravel(), minlength=capacity.size)
        np.testing.assert_allclose(run.sh.consumed[1:], want[1:], rtol=1e-9, atol=1e-9)
        assert abs(run.sh.ts.buckets().sum() - size.sum()) <= 1e-9 * size.sum()


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(own_links(), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_levels_on_their_own_links_stay_max_min(
    inst: tuple[np.ndarray, ...], seed: int, removals: bool, capacity_changes: bool
) -> None:
    """Budgets whose transfers use links of their own (each level's rises are checked
    against its own room only), sometimes crossing to another's link: max-min after every
    change, every byte arrives."""
    run, arrival, size = run_checked(inst, seed, removals, capacity_changes)
    assert_all_accounted(run, arrival, size)


def test_a_level_whose_link_becomes_shared_is_checked_exactly() -> None:
    """Budgets A and B (capacity 4); a1 uses link 3 (capacity 5.5), a2, a3 and b1 links of
    their own. a3 leaves: A's level rises (checked exactly: A is link 3's only level, its room
    is what the link leaves it). Then b2 joins B on link 3, so both levels use it. When a2
    leaves, A's level would rise to 4 for a1 (link 3: 4 + b2's 2 > 5.5), though within the
    room A had while it was the link's only level: a1 gets the link's remainder, 3.5."""
    cap = np.full(5, INF)
    res = np.array([[1, 3], [1, 5], [2, 4], [2, 3], [1, 5]], dtype=np.int64)
    coef = np.ones((5, 2))
    capacity = np.array([INF, 4.0, 4.0, 5.5, 100.0, 100.0])
    res_class = np.array([CLS_PROXY, CLS_SOURCE, CLS_SOURCE] + [CLS_PROXY] * 3, np.int8)
    run = Checked((cap, res, coef, capacity, res_class))
    for i in (0, 1, 2, 4):
        run.env.timeout(0.0).callbacks.append(partial(run.add, i, 1000.0))
    run.env.timeout(0.5).callbacks.append(partial(run.remove, 4))
    run.env.timeout(1.0).callbacks.append(partial(run.add, 3, 1000.0))
    rates: list[np.ndarray] = []
    run.env.timeout(1.5).callbacks.append(lambda _e: rates.append(run.sh.current_rates()))
    run.env.timeout(2.0).callbacks.append(partial(run.remove, 1))
    run.env.timeout(3.0).callbacks.append(lambda _e: rates.append(run.sh.current_rates()))
    run.env.run()
    np.testing.assert_allclose(rates[0], [2.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(rates[1], [3.5, 2.0, 2.0])


def test_several_saturated_budgets_are_served_incrementally() -> None:
    """Three tenants' budgets saturated at once, 300 transfers on shared proxies: the levels
    are kept one per budget without full solves."""
    n, k = 300, 3
    rng = np.random.default_rng(5)
    cap = rng.choice([0.5, 2.0, 8.0], n)
    res = np.stack([1 + np.arange(n) % k, np.full(n, 1 + k + 0)], axis=1).astype(np.int64)
    res[:, 1] += rng.integers(0, 2, n)  # two shared links, far from saturation
    coef = np.ones((n, 2))
    capacity = np.array([INF, 10.0, 6.0, 3.0, 1e3, 1e3])
    res_class = np.array([CLS_PROXY, CLS_SOURCE, CLS_SOURCE, CLS_SOURCE, CLS_PROXY, CLS_PROXY])
    run = Checked((cap, res, coef, capacity, res_class.astype(np.int8)))
    run.arrive(np.arange(n) * 0.05, np.full(n, 3.0))
    run.env.run()
    assert len(run.done) == n
    assert run.sh.recomputes <= 6
    assert run.sh.local_updates >= 2 * n - 12
    np.testing.assert_allclose(run.sh.consumed[1:4], [3.0 * n / k] * k, rtol=1e-9)


def test_a_rising_level_that_saturates_a_shared_link_is_re_solved() -> None:
    """Budgets A and B (capacity 4) are both saturated and share a link (12). When b1 leaves,
    B's level would rise to 16 for b2 (coefficient 0.25), which the link cannot carry: b2 gets
    the link's remainder, 8, and a1 keeps 4."""
    cap = np.array([INF, INF, INF])
    res = np.array([[1, 3], [2, 3], [2, 3]], dtype=np.int64)
    coef = np.array([[1.0, 1.0], [1.0, 1.0], [0.25, 1.0]])
    capacity = np.array([INF, 4.0, 4.0, 12.0])
    res_class = np.array([CLS_PROXY, CLS_SOURCE, CLS_SOURCE, CLS_PROXY], np.int8)
    run = Checked((cap, res, coef, capacity, res_class))
    for i in range(3):
        run.env.timeout(0.0).callbacks.append(partial(run.add, i, 1000.0))
    rates: list[np.ndarray] = []
    run.env.timeout(1.0).callbacks.append(lambda _e: rates.append(run.sh.current_rates()))
    run.env.timeout(2.0).callbacks.append(partial(run.remove, 1))
    run.env.timeout(3.0).callbacks.append(lambda _e: rates.append(run.sh.current_rates()))
    run.env.run()
    np.testing.assert_allclose(rates[0], [4.0, 3.2, 3.2])
    np.testing.assert_allclose(rates[1], [4.0, 8.0])
    assert run.checks >= 4


def test_a_resource_that_saturates_is_tracked_without_a_full_solve() -> None:
    """Two processor-sharing links (uncapped transfers, join-shortest-queue style): each link
    becomes a tracked level when its first transfer arrives, and drops out when idle, with no
    full solve at all; the rates are max-min after every change."""
    n = 120
    rng = np.random.default_rng(11)
    cap = np.where(rng.random(n) < 0.3, 1.5, INF)
    res = np.stack([1 + np.arange(n) % 2, np.full(n, 3)], axis=1).astype(np.int64)
    coef = np.ones((n, 2))
    capacity = np.array([INF, 4.0, 2.0, 1e3])
    res_class = np.array([CLS_PROXY, CLS_PROXY, CLS_PROXY, CLS_TARGET], np.int8)
    run = Checked((cap, res, coef, capacity, res_class))
    arrival = np.cumsum(rng.exponential(0.8, n))
    size = rng.exponential(1.0, n)
    run.arrive(arrival, size)
    run.env.run()
    assert len(run.done) == n
    assert run.sh.recomputes == 0
    assert run.sh.promotions >= 4  # each link went idle and came back
    for i in range(n):
        assert abs(run.moved[i] - size[i]) <= 1e-9 * size[i]


@pytest.mark.parametrize("ratio", [3.0, 1e3, 2e4])
def test_a_ceiling_at_the_level_does_not_flap(ratio: float) -> None:
    """A transfer with a large coefficient whose ceiling is the level (within rounding): bound,
    it would lift the level above its ceiling and be freed, freed it would fall below its
    ceiling and be bound again. It must settle (it hung once), at the max-min rates. (A ceiling
    taken as the level within 1e-12 moves the others' rates by up to the coefficient ratio
    times 1e-12: 1e-7 relative, the check's tolerance, at a ratio of 1e5.)"""
    rng = np.random.default_rng(int(ratio))
    for _ in range(40):
        c = float(rng.choice([40.0, 100.0, 1000.0 / 60]))
        a = float(rng.uniform(ratio, 2 * ratio))
        cap = np.array([INF, c / (a + 1.0) * (1 + float(rng.uniform(-2e-12, 2e-12)))])
        res = np.ones((2, 1), dtype=np.int64)
        coef = np.array([[1.0], [a]])
        run = Checked((cap, res, coef, np.array([INF, c]), np.array([CLS_PROXY, CLS_SOURCE])))
        run.add(0, 1e9)
        run.add(1, 1e9)  # checked against max_min_rates


def test_the_incremental_path_serves_a_saturated_budget() -> None:
    """200 transfers on one saturated budget: one full solve, everything else incremental."""
    n = 200
    rng = np.random.default_rng(3)
    cap = rng.choice([0.5, 2.0, 8.0], n)
    res = np.ones((n, 1), dtype=np.int64)
    coef = np.ones((n, 1))
    inst = (cap, res, coef, np.array([INF, 10.0]), np.array([CLS_PROXY, CLS_SOURCE], np.int8))
    run = Checked(inst)
    run.arrive(np.arange(n) * 0.05, np.full(n, 3.0))
    run.env.run()
    assert len(run.done) == n
    assert run.sh.recomputes <= 2
    assert run.sh.local_updates >= 2 * n - 4
    # the time series holds every byte, per proxy
    ts = run.sh.ts.buckets()
    assert abs(ts.sum() - 3.0 * n) <= 1e-9 * 3.0 * n


def test_the_timer_fires_only_when_a_transfer_is_due() -> None:
    """Processor sharing of one budget, arrivals while the armed transfer is running (each
    lowers the level, so it finishes later): the timer is moved then, so every firing
    finishes a transfer (none fires early for nothing), with the completions of the
    brute-force loop."""
    n = 150
    rng = np.random.default_rng(8)
    cap = np.full(n, INF)
    res = np.ones((n, 1), dtype=np.int64)
    coef = np.ones((n, 1))
    inst = (cap, res, coef, np.array([INF, 4.0]), np.array([CLS_PROXY, CLS_SOURCE], np.int8))
    run = Checked(inst)
    arrival = np.cumsum(rng.exponential(0.3, n))
    size = rng.exponential(1.0, n)
    fired: list[int] = []
    on_timer = run.sh._on_timer

    def counted(event: object) -> None:
        before = len(run.done)
        if event._value == run.sh._version:  # type: ignore[attr-defined]
            on_timer(event)  # type: ignore[arg-type]
            fired.append(len(run.done) - before)

    run.sh._on_timer = counted  # type: ignore[method-assign]
    run.arrive(arrival, size)
    run.env.run()
    np.testing.assert_allclose(
        [run.done[i] for i in range(n)], reference_completions(arrival, size, inst), rtol=1e-7
    )
    assert run.sh.recomputes == 0
    assert len(fired) > 0
    assert min(fired) >= 1
