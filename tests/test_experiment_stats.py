"""Output analysis: t quantiles, intervals, MSER-5 and batch means (numpy only, fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.experiment.replicate import replication_seeds
from sim.experiment.stats import (
    batch_means,
    mean_interval,
    mser5,
    normal_quantile,
    t_quantile,
    wilson_interval,
)

# two-sided Student t critical values from published tables (NIST/SEMATECH e-Handbook 1.3.6.7.2)
T_TABLE = {
    (0.95, 1): 12.706,
    (0.95, 2): 4.303,
    (0.95, 4): 2.776,
    (0.95, 9): 2.262,
    (0.95, 19): 2.093,
    (0.95, 29): 2.045,
    (0.95, 100): 1.984,
    (0.99, 5): 4.032,
    (0.99, 10): 3.169,
    (0.999, 4): 8.610,
    (0.999, 9): 4.781,
    (0.90, 7): 1.895,
}


@pytest.mark.parametrize(("conf", "df"), sorted(T_TABLE))
def test_t_quantile_matches_tables(conf: float, df: int) -> None:
    assert t_quantile(conf, df) == pytest.approx(T_TABLE[(conf, df)], abs=6e-4)


def test_normal_quantile_and_wilson() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    low, high = wilson_interval(20, 20, 0.95)
    # Wilson with p̂ = 1: lower bound n / (n + z²)
    assert low == pytest.approx(20 / (20 + 1.959964**2), abs=1e-6)
    assert high == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_mean_interval_small_samples() -> None:
    iv = mean_interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.std == 1.0
    assert iv.half_width == pytest.approx(4.303 / math.sqrt(3), abs=1e-3)
    assert math.isnan(mean_interval([5.0]).half_width)
    assert mean_interval([5.0]).mean == 5.0
    assert mean_interval([]).n == 0


def test_t_interval_coverage_on_normal_data() -> None:
    """K = 4000 intervals of n = 5 normal values: coverage within a 99.9 % binomial band."""
    rng = np.random.default_rng(7)
    k, n = 4000, 5
    x = rng.normal(10.0, 3.0, size=(k, n))
    covered = 0
    for row in x:
        iv = mean_interval(row)
        covered += iv.low <= 10.0 <= iv.high
    sd = math.sqrt(k * 0.95 * 0.05)
    assert abs(covered - 0.95 * k) <= 3.29 * sd, covered / k


def test_mser5_removes_an_initial_transient() -> None:
    rng = np.random.default_rng(3)
    transient = np.linspace(20.0, 0.0, 300) + rng.normal(0, 1, 300)
    series = np.concatenate([transient, rng.normal(0, 1, 5000)])
    d = mser5(series)
    assert d % 5 == 0
    assert 150 <= d <= 400
    # a stationary series loses (almost) nothing
    assert mser5(rng.normal(0, 1, 5000)) <= 250
    assert mser5([1.0, 2.0]) == 0


def test_batch_means_coverage_on_ar1() -> None:
    """AR(1) with phi = 0.8 (true mean 0), 2000 observations, 20 batches: the batch-means
    interval covers 0 at ~95 %; checked over 600 series against a 99.9 % binomial band."""
    rng = np.random.default_rng(11)
    k, n, phi = 600, 2000, 0.8
    covered = 0
    for _ in range(k):
        e = rng.normal(0, 1, n)
        x = np.empty(n)
        x[0] = e[0] / math.sqrt(1 - phi * phi)  # start in the stationary law
        for i in range(1, n):
            x[i] = phi * x[i - 1] + e[i]
        ss = batch_means(x, 20, truncate=False)
        covered += abs(ss.mean) <= ss.half_width
    sd = math.sqrt(k * 0.95 * 0.05)
    assert abs(covered - 0.95 * k) <= 3.29 * sd, covered / k


def test_replication_seeds_are_independent_and_reproducible() -> None:
    a = replication_seeds(42, 5)
    assert a == replication_seeds(42, 5)
    assert replication_seeds(42, 8)[:5] == a  # adding replications keeps the first ones
    assert len(set(a)) == 5
    assert all(0 <= s < 2**63 for s in a)
    assert replication_seeds(43, 5) != a
    with pytest.raises(ValueError):
        replication_seeds(1, 0)
