"""The one-saturated-resource shortcut of FluidSharing must give the max-min allocation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sharing import RTOL, check_max_min, instances

from sim.model.maxmin import CLS_SOURCE, CLS_THREAD, max_min_rates, one_resource_rates


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(instances(), st.integers(1, 6))
def test_one_resource_answer_is_the_max_min_allocation(
    inst: tuple[np.ndarray, ...], r_sat: int
) -> None:
    """Whatever resource is tried, an answer (not None) is feasible, max-min optimal and equal
    to progressive filling; None is always allowed."""
    cap, res, coef, capacity, res_class = inst
    if r_sat >= capacity.size:
        return
    got = one_resource_rates(cap, res, coef, capacity, res_class, r_sat)
    if got is None:
        return
    rate, cls, usage = got
    check_max_min(cap, res, coef, capacity, res_class, rate, cls)
    full, full_cls = max_min_rates(cap, res, coef, capacity, res_class)
    np.testing.assert_allclose(rate, full, rtol=RTOL)
    assert np.array_equal(cls, full_cls)
    expected = np.bincount(res.ravel(), (coef * rate[:, None]).ravel(), minlength=capacity.size)
    np.testing.assert_allclose(usage, expected, rtol=1e-12)


def test_a_saturated_budget_is_solved_by_the_shortcut() -> None:
    """40 transfers share a budget (resource 2) and each has a slack proxy (resource 1)."""
    n = 40
    cap = np.linspace(1.0, 8.0, n)
    res = np.zeros((n, 2), dtype=np.int64)
    res[:, 0] = 1
    res[:, 1] = 2
    coef = np.ones((n, 2))
    capacity = np.array([np.inf, 1e6, 100.0])
    res_class = np.array([CLS_THREAD, CLS_THREAD, CLS_SOURCE], dtype=np.int8)
    got = one_resource_rates(cap, res, coef, capacity, res_class, 2)
    assert got is not None
    rate, cls, usage = got
    assert usage[2] == np.float64(100.0) or abs(usage[2] - 100.0) < 1e-9
    full, full_cls = max_min_rates(cap, res, coef, capacity, res_class)
    np.testing.assert_allclose(rate, full, rtol=1e-12)
    assert np.array_equal(cls, full_cls)
    # a second binding resource (the proxy at 50) makes the shortcut decline
    capacity[1] = 50.0
    assert one_resource_rates(cap, res, coef, capacity, res_class, 2) is None
