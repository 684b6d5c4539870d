"""The pure max-min functions (``sim.model.maxmin``) against allocations computed by hand.

Every expected vector below is worked out in the comment above it (progressive filling: raise
the common level L, each transfer at ``min(cap_i, w_i * L)``, until a resource saturates).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from sim.model.maxmin import (
    CLS_PROXY,
    CLS_SOURCE,
    CLS_TARGET,
    CLS_THREAD,
    SMALL_N,
    max_min_rates,
    one_resource_rates,
)

INF = math.inf


def instance(
    uses: Sequence[Sequence[tuple[int, float]]], capacities: Sequence[float], classes: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(res, coef, capacity, res_class) with resources numbered from 1 (0: unlimited dummy)."""
    k = max(1, max(len(u) for u in uses))
    res = np.zeros((len(uses), k), dtype=np.int64)
    coef = np.zeros((len(uses), k))
    for i, u in enumerate(uses):
        for j, (r, a) in enumerate(u):
            res[i, j] = r
            coef[i, j] = a
    capacity = np.asarray([INF, *capacities], dtype=float)
    res_class = np.asarray([CLS_PROXY, *classes], dtype=np.int8)
    return res, coef, capacity, res_class


def solve(
    ceilings: Sequence[float],
    uses: Sequence[Sequence[tuple[int, float]]],
    capacities: Sequence[float],
    classes: Sequence[int],
    weight: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    res, coef, capacity, res_class = instance(uses, capacities, classes)
    w = None if weight is None else np.asarray(weight, dtype=float)
    return max_min_rates(np.asarray(ceilings, dtype=float), res, coef, capacity, res_class, w)


def test_weighted_one_link_splits_in_the_ratio_of_the_weights() -> None:
    # C = 12, weights 1, 2, 3, no ceilings: L + 2L + 3L = 12 -> L = 2 -> rates 2, 4, 6
    rate, cls = solve([INF] * 3, [[(1, 1.0)]] * 3, [12.0], [CLS_SOURCE], [1, 2, 3])
    np.testing.assert_allclose(rate, [2.0, 4.0, 6.0], rtol=1e-12)
    assert (cls == CLS_SOURCE).all()


def test_weighted_one_link_with_a_ceiling() -> None:
    # C = 12, weights 1, 1, 2, ceilings 1, inf, inf: flow 0 stops at 1 (L > 1), then
    # 1 + L + 2L = 12 -> L = 11/3 -> rates 1, 11/3, 22/3
    rate, cls = solve([1.0, INF, INF], [[(1, 1.0)]] * 3, [12.0], [CLS_PROXY], [1, 1, 2])
    np.testing.assert_allclose(rate, [1.0, 11 / 3, 22 / 3], rtol=1e-12)
    assert cls.tolist() == [CLS_THREAD, CLS_PROXY, CLS_PROXY]


def test_weight_scales_a_ceiling_free_flow_not_its_ceiling() -> None:
    # C = 10, weights 1, 4, ceilings inf, 6: 4L reaches 6 at L = 1.5 (used 1.5 + 6 = 7.5 < 10),
    # so flow 1 sits at its ceiling 6 and flow 0 takes the rest: 4
    rate, cls = solve([INF, 6.0], [[(1, 1.0)]] * 2, [10.0], [CLS_TARGET], [1, 4])
    np.testing.assert_allclose(rate, [4.0, 6.0], rtol=1e-12)
    assert cls.tolist() == [CLS_TARGET, CLS_THREAD]


def test_coefficients_weigh_on_the_resource() -> None:
    # C = 10; flow 0 uses 2 units per byte/s, flow 1 one unit.
    # unweighted: 2L + L = 10 -> L = 10/3 each
    rate, _ = solve([INF, INF], [[(1, 2.0)], [(1, 1.0)]], [10.0], [CLS_SOURCE])
    np.testing.assert_allclose(rate, [10 / 3, 10 / 3], rtol=1e-12)
    # weights 1, 2: 2L + 2L = 10 -> L = 2.5 -> rates 2.5, 5
    rate, _ = solve([INF, INF], [[(1, 2.0)], [(1, 1.0)]], [10.0], [CLS_SOURCE], [1, 2])
    np.testing.assert_allclose(rate, [2.5, 5.0], rtol=1e-12)


def test_network_two_links_unweighted() -> None:
    # links A (r1, C 1) and B (r2, C 2); flow 0 uses A and B, flow 1 only A, flow 2 only B.
    # A saturates first: 2L = 1 -> L = 0.5 (flows 0, 1); B then gives flow 2 the rest: 1.5
    uses = [[(1, 1.0), (2, 1.0)], [(1, 1.0)], [(2, 1.0)]]
    rate, cls = solve([INF] * 3, uses, [1.0, 2.0], [CLS_SOURCE, CLS_TARGET])
    np.testing.assert_allclose(rate, [0.5, 0.5, 1.5], rtol=1e-12)
    assert cls.tolist() == [CLS_SOURCE, CLS_SOURCE, CLS_TARGET]


def test_network_two_links_weighted_moves_the_bottleneck() -> None:
    # the same network, weights 1, 1, 4: A would saturate at 2L = 1 (L = 0.5), B at
    # L + 4L = 2 (L = 0.4), so B binds first: flow 0 = 0.4, flow 2 = 1.6; then A gives
    # flow 1 the rest of its capacity: 1 - 0.4 = 0.6
    uses = [[(1, 1.0), (2, 1.0)], [(1, 1.0)], [(2, 1.0)]]
    rate, cls = solve([INF] * 3, uses, [1.0, 2.0], [CLS_SOURCE, CLS_TARGET], [1, 1, 4])
    np.testing.assert_allclose(rate, [0.4, 0.6, 1.6], rtol=1e-12)
    assert cls.tolist() == [CLS_TARGET, CLS_SOURCE, CLS_TARGET]


def test_parking_lot_weighted() -> None:
    # two links of capacity 1 in a row; the long flow (weight 2) crosses both, one short flow
    # per link (weight 1): on each link 2L + L = 1 -> L = 1/3 -> long 2/3, shorts 1/3
    uses = [[(1, 1.0), (2, 1.0)], [(1, 1.0)], [(2, 1.0)]]
    rate, _ = solve([INF] * 3, uses, [1.0, 1.0], [CLS_PROXY, CLS_PROXY], [2, 1, 1])
    np.testing.assert_allclose(rate, [2 / 3, 1 / 3, 1 / 3], rtol=1e-12)


def test_weighted_vectorised_path_matches_hand_values() -> None:
    # more transfers than SMALL_N (the numpy path): 10 of weight 1 and 10 of weight 2 on one
    # link of 30: 10L + 20L = 30 -> L = 1 -> rates 1 and 2
    n = 20
    assert n > SMALL_N
    weight = [1.0] * 10 + [2.0] * 10
    rate, cls = solve([INF] * n, [[(1, 1.0)]] * n, [30.0], [CLS_SOURCE], weight)
    np.testing.assert_allclose(rate, weight, rtol=1e-12)
    assert (cls == CLS_SOURCE).all()


def test_unit_weights_are_the_unweighted_allocation() -> None:
    rng = np.random.default_rng(7)
    for n in (5, 40):
        uses = [[(int(rng.integers(1, 4)), float(rng.uniform(0.5, 2.0)))] for _ in range(n)]
        ceilings = rng.uniform(0.1, 3.0, n).tolist()
        plain, c0 = solve(ceilings, uses, [5.0, 7.0, 9.0], [CLS_SOURCE] * 3)
        ones, c1 = solve(ceilings, uses, [5.0, 7.0, 9.0], [CLS_SOURCE] * 3, [1.0] * n)
        np.testing.assert_allclose(ones, plain, rtol=1e-12)
        assert c0.tolist() == c1.tolist()


def test_one_resource_rates_weighted() -> None:
    # the ceiling case above through the one-resource water-filling: 1, 11/3, 22/3
    res, coef, capacity, res_class = instance([[(1, 1.0)]] * 3, [12.0], [CLS_PROXY])
    solved = one_resource_rates(
        np.asarray([1.0, INF, INF]), res, coef, capacity, res_class, 1, np.asarray([1, 1, 2.0])
    )
    assert solved is not None
    rate, cls, usage = solved
    np.testing.assert_allclose(rate, [1.0, 11 / 3, 22 / 3], rtol=1e-12)
    assert cls.tolist() == [CLS_THREAD, CLS_PROXY, CLS_PROXY]
    assert usage[1] == pytest.approx(12.0, rel=1e-12)


@pytest.mark.parametrize("bad", [[1.0, 0.0], [1.0, -2.0], [1.0, math.nan], [1.0]])
def test_bad_weights_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="weight must be 2 finite positive numbers"):
        solve([INF, INF], [[(1, 1.0)]] * 2, [1.0], [CLS_PROXY], bad)
