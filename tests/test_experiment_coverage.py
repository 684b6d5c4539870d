"""Intervals cover the true mean at the stated rate (slow: ~1,000 simulated M/M/1 runs).

M/M/1 with lambda = 0.5, mu = 1: the steady-state mean sojourn is 1/(mu - lambda) = 2 s
(Kleinrock, Queueing Systems Vol. 1, 1975, Ch. 3). Each experiment is R = 5 replications of
1,000 tasks started empty; the replication value is the MSER-5-truncated mean sojourn and the
interval is Student t with 4
degrees of freedom. Over K independent experiments the number that cover 2 s is Binomial(K, p);
the check is that p = 0.95 is not rejected at the 0.1 % level (|covered - 0.95 K| <= 3.29 sd),
so a correct method fails it once in a thousand seeds, and an interval that is too narrow by a
quarter (p ~ 0.87) fails it almost surely. The same for the batch-means interval of single
long runs.

Measured while writing this (300 runs of 1,000 tasks): the plain mean sojourn averaged
1.999 ± 0.011 s, the MSER-5-truncated one 1.942 ± 0.011 s. MSER-5 on a run that starts near
steady state sometimes deletes an early high excursion, which biases short runs low (docs/
experiments.md); the bias is well inside these intervals' half-width (~0.25 s), so coverage holds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from validation.oracle import synthetic_scenario

import sim
from sim.experiment.executors import make_executor
from sim.experiment.replicate import RunRecord, RunSpec, replication_seeds, run_all
from sim.experiment.stats import mean_interval

TRUE_SOJOURN = 1.0 / (1.0 - 0.5)


def _binomial_ok(covered: int, k: int, p: float = 0.95) -> bool:
    return abs(covered - p * k) <= 3.29 * math.sqrt(k * p * (1 - p))


def _values(records: list[RunRecord], scope: str, metric: str) -> np.ndarray:
    out = []
    for r in records:
        assert r.ok, r.error
        s = r.summary
        out.append(float(s[(s["scope"] == scope) & (s["metric"] == metric)]["value"].iloc[0]))
    return np.asarray(out)


@pytest.mark.slow
def test_replication_intervals_cover_the_mm1_mean() -> None:
    k, r = 200, 5
    loaded = sim.load_scenario_text(synthetic_scenario(rate=0.5, tasks=1000, warmup_tasks=0))
    specs = [
        RunSpec(loaded, s, None, i, keep_series=False)
        for e in range(k)
        for i, s in enumerate(replication_seeds(10_000 + e, r))
    ]
    with make_executor("local", 2) as ex:
        records = run_all(specs, ex)
    for scope in ("steady_state", "overall"):  # MSER-5 truncated, and the plain mean
        values = _values(records, scope, "sojourn_mean").reshape(k, r)
        covered = 0
        for row in values:
            iv = mean_interval(row, 0.95)
            covered += iv.low <= TRUE_SOJOURN <= iv.high
        assert _binomial_ok(covered, k), f"{scope}: coverage {covered}/{k}"


@pytest.mark.slow
def test_batch_means_intervals_cover_the_mm1_mean() -> None:
    k = 120
    loaded = sim.load_scenario_text(synthetic_scenario(rate=0.5, tasks=8000, warmup_tasks=0))
    specs = [
        RunSpec(loaded, s, None, i, keep_series=False)
        for i, s in enumerate(replication_seeds(77, k))
    ]
    with make_executor("local", 2) as ex:
        records = run_all(specs, ex)
    mean = _values(records, "steady_state", "sojourn_mean")
    hw = _values(records, "steady_state", "sojourn_bm_half_width")
    covered = int(np.sum(np.abs(mean - TRUE_SOJOURN) <= hw))
    assert _binomial_ok(covered, k), f"coverage {covered}/{k}"
