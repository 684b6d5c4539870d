"""Output analysis: Student t intervals, MSER-5 warm-up deletion and batch means.

No scipy: the t quantile comes from the exact closed form of the t distribution function for
integer degrees of freedom (Abramowitz & Stegun 26.7.3-4) inverted by bisection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np


def t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| <= t) for Student's T with ``df`` >= 1 degrees of freedom (A&S 26.7.3-4)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if t <= 0.0:
        return 0.0
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if df % 2 == 1:
        # (2/pi) [theta + sin (cos + 2/3 cos^3 + ... + (2*4..(df-3))/(1*3..(df-2)) cos^(df-2))]
        total = 0.0
        if df > 1:
            term = math.cos(theta)
            total = term
            for k in range(3, df - 1, 2):
                term *= c2 * (k - 1) / k
                total += term
        return min(1.0, 2.0 / math.pi * (theta + s * total))
    # sin(theta) [1 + 1/2 cos^2 + (1*3)/(2*4) cos^4 + ... + (1*3..(df-3))/(2*4..(df-2)) cos^(df-2)]
    term = 1.0
    total = 1.0
    for k in range(2, df - 1, 2):
        term *= c2 * (k - 1) / k
        total += term
    return min(1.0, s * total)


@lru_cache(maxsize=4096)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided critical value t with P(|T| <= t) = ``confidence`` (e.g. 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    lo, hi = 0.0, 1.0
    while t_two_sided_mass(hi, df) < confidence:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_two_sided_mass(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Interval:
    """A sample mean with its Student t confidence interval."""

    n: int
    mean: float
    std: float
    half_width: float
    confidence: float

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width


def mean_interval(values: np.ndarray | list[float], confidence: float = 0.95) -> Interval:
    """Mean and t interval of independent values (NaNs dropped). With fewer than two values the
    half-width is NaN: one number says nothing about its spread."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, confidence)
    mean = float(x.mean())
    if n == 1:
        return Interval(1, mean, math.nan, math.nan, confidence)
    std = float(x.std(ddof=1))
    return Interval(n, mean, std, t_quantile(confidence, n - 1) * std / math.sqrt(n), confidence)


def mser5(series: np.ndarray | list[float], batch: int = 5) -> int:
    """MSER-5 truncation point: how many leading observations to delete.

    The series is cut into batches of ``batch`` (5) observations; for each candidate d (in
    batches, at most half of them) MSER(d) = sum((Z_i - mean(Z_d:))^2) / (k - d)^2 over the
    remaining batch means Z. The d that minimises it, times ``batch``, is returned (White 1997;
    White, Cobb & Spratt 2000). A minimum in the first half only: later minima signal a run too
    short to tell, and the rule then keeps half the run.
    """
    x = np.asarray(series, dtype=float)
    k = x.size // batch
    if k < 2:
        return 0
    z = x[: k * batch].reshape(k, batch).mean(axis=1)
    # suffix sums give every candidate's mean and sum of squares in O(k)
    rev = z[::-1]
    n_rem = np.arange(1, k + 1, dtype=float)
    s1 = np.cumsum(rev)[::-1]
    s2 = np.cumsum(rev * rev)[::-1]
    n_rem = n_rem[::-1]
    sse = np.maximum(s2 - s1 * s1 / n_rem, 0.0)
    score = sse / (n_rem * n_rem)
    half = k // 2
    return int(np.argmin(score[: half + 1])) * batch


@dataclass(frozen=True)
class SteadyState:
    """A steady-state estimate from one run: warm-up deleted by MSER-5, then batch means."""

    observations: int
    truncated: int
    mean: float
    batches: int
    half_width: float
    confidence: float


def batch_means(
    series: np.ndarray | list[float],
    batches: int = 20,
    confidence: float = 0.95,
    truncate: bool = True,
) -> SteadyState:
    """Mean of a correlated steady-state series with a batch-means t interval.

    The leading observations chosen by MSER-5 are deleted first (``truncate``); the rest is cut
    into ``batches`` equal batches (a remainder is dropped from the front, next to the warm-up)
    whose means are treated as independent: mean ± t_{b-1} s_b / sqrt(b).
    """
    x = np.asarray(series, dtype=float)
    d = mser5(x) if truncate else 0
    rest = x[d:]
    b = batches
    size = rest.size // b if b > 0 else 0
    if size < 1:
        iv = mean_interval(rest, confidence)
        return SteadyState(x.size, d, iv.mean, iv.n, iv.half_width, confidence)
    kept = rest[rest.size - size * b :]
    means = kept.reshape(b, size).mean(axis=1)
    iv = mean_interval(means, confidence)
    return SteadyState(x.size, d, iv.mean, b, iv.half_width, confidence)


def normal_quantile(p: float) -> float:
    """The standard normal quantile z with Phi(z) = p (``statistics.NormalDist().inv_cdf``)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return NormalDist().inv_cdf(p)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927); (nan, nan) when n == 0."""
    if n == 0:
        return math.nan, math.nan
    z = normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class BoundedInterval:
    """A mean with an interval that stays inside the quantity's domain; ``method`` says which:
    ``t`` (Student t), ``wilson`` (replications that are each 0 or 1) or ``bootstrap``
    (percentile bootstrap, when the t interval would leave the domain)."""

    n: int
    mean: float
    std: float
    low: float
    high: float
    confidence: float
    method: str

    @property
    def half_width(self) -> float:
        """Half the interval's length (it need not be centred on the mean)."""
        return 0.5 * (self.high - self.low)


BOOTSTRAP_RESAMPLES = 4000
"""Resamples of the percentile bootstrap (seeded, so intervals are reproducible)."""

UNIT_DOMAINS: dict[str, tuple[float, float]] = {
    "fraction": (0.0, 1.0),
    "index": (0.0, 1.0),
    "flag": (0.0, 1.0),
}
"""Domains by unit; a unit not listed is a non-negative quantity (times, sizes, rates, counts)."""


def domain_of(unit: str) -> tuple[float, float]:
    """The values a metric of ``unit`` can take."""
    return UNIT_DOMAINS.get(unit, (0.0, math.inf))


def bounded_interval(
    values: np.ndarray | list[float],
    confidence: float = 0.95,
    domain: tuple[float, float] = (-math.inf, math.inf),
) -> BoundedInterval:
    """Mean and a confidence interval kept inside ``domain`` (compliance in [0, 1], waits
    >= 0, Jain <= 1).

    - values that are all 0 or 1 in a [0, 1] domain (e.g. a single session's window met or
      not per replication): the Wilson score interval of the count (Wilson 1927), which is
      never degenerate, even at 5 of 5;
    - otherwise the Student t interval when it lies inside the domain;
    - otherwise a percentile bootstrap of the mean (Efron & Tibshirani 1993, ch. 13), which
      lies inside the data's range and so inside the domain.

    Values outside the domain (a unit used loosely) get the plain t interval.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    iv = mean_interval(x, confidence)
    lo_d, hi_d = domain

    def t_interval() -> BoundedInterval:
        return BoundedInterval(iv.n, iv.mean, iv.std, iv.low, iv.high, confidence, "t")

    if iv.n < 2 or bool(np.any(x < lo_d)) or bool(np.any(x > hi_d)):
        return t_interval()
    if (lo_d, hi_d) == (0.0, 1.0) and bool(np.all((x == 0.0) | (x == 1.0))):
        low, high = wilson_interval(int(x.sum()), iv.n, confidence)
        return BoundedInterval(iv.n, iv.mean, iv.std, low, high, confidence, "wilson")
    if lo_d <= iv.low and iv.high <= hi_d:
        return t_interval()
    rng = np.random.default_rng(20_250_101)
    means = rng.choice(x, size=(BOOTSTRAP_RESAMPLES, iv.n), replace=True).mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return BoundedInterval(iv.n, iv.mean, iv.std, float(low), float(high), confidence, "bootstrap")
