"""Synthetic workloads: arrival times and sizes for checking the engine against queueing theory.

Inter-arrival times and sizes come from separate random streams (oracles.md §1: independent
streams for arrivals, sizes and dispatch).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from sim.errors import Problem, ScenarioError
from sim.scenario.schema import SizeDistribution, SyntheticSpec


def sample_sizes(spec: SizeDistribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` sizes from the distribution (bytes)."""
    dist = spec.distribution
    if dist == "empirical":
        assert spec.values is not None
        return rng.choice(np.asarray(spec.values, dtype=float), size=n, replace=True)
    assert spec.mean is not None
    mean = float(spec.mean)
    if dist == "exponential":
        return rng.exponential(mean, n)
    if dist == "deterministic":
        return np.full(n, mean)
    if dist == "lognormal":
        assert spec.scv is not None
        sigma2 = math.log1p(spec.scv)
        return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)
    if dist == "hyperexponential":
        # balanced means H2 (oracles.md §2, 1b): branch 1 with p = (1 + sqrt((c-1)/(c+1))) / 2
        assert spec.scv is not None
        c = float(spec.scv)
        p = 0.5 * (1.0 + math.sqrt((c - 1.0) / (c + 1.0)))
        branch = rng.random(n) < p
        m1 = mean / (2.0 * p)
        m2 = mean / (2.0 * (1.0 - p))
        return np.where(branch, rng.exponential(m1, n), rng.exponential(m2, n))
    if dist == "pareto":
        # Lomax shifted to a classical Pareto with minimum xm: mean = alpha xm / (alpha - 1)
        assert spec.alpha is not None
        a = float(spec.alpha)
        xm = mean * (a - 1.0) / a
        return xm * (1.0 + rng.pareto(a, n))
    raise ValueError(f"unknown distribution {dist}")


def read_trace(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Arrival times (and sizes, if given) from a CSV with columns ``time[,size]``."""
    file = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError(
            [Problem(file, None, None, "", f"cannot read trace: {exc.strerror}")]
        ) from None
    times: list[float] = []
    sizes: list[float] = []
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        if "time" not in header:
            raise ScenarioError([Problem(file, 1, None, "header", "a trace needs a 'time' column")])
        has_size = "size" in header
        last = -math.inf
        for row in reader:
            line = reader.line_num
            try:
                t = float(row["time"])
                s = float(row["size"]) if has_size else 0.0
            except (TypeError, ValueError):
                raise ScenarioError(
                    [Problem(file, line, None, "time/size", "not a number")]
                ) from None
            if not (math.isfinite(t) and t >= last and t >= 0 and s >= 0):
                raise ScenarioError(
                    [
                        Problem(
                            file,
                            line,
                            None,
                            "time",
                            "times must be finite, >= 0 and non-decreasing; sizes >= 0",
                        )
                    ]
                )
            last = t
            times.append(t)
            sizes.append(s)
    if not times:
        raise ScenarioError([Problem(file, None, None, "", "the trace has no rows")])
    return np.asarray(times), (np.asarray(sizes) if has_size else None)


def arrivals(
    spec: SyntheticSpec,
    base_dir: Path,
    arrival_rng: np.random.Generator,
    size_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (s) and sizes (bytes) of every synthetic task."""
    if spec.arrivals.process == "trace":
        assert spec.arrivals.trace is not None
        times, sizes = read_trace(base_dir / spec.arrivals.trace)
        if sizes is None:
            sizes = sample_sizes(spec.sizes, times.shape[0], size_rng)
        return times, sizes
    assert spec.arrivals.rate is not None
    gaps = arrival_rng.exponential(1.0 / float(spec.arrivals.rate), spec.tasks)
    return np.cumsum(gaps), sample_sizes(spec.sizes, spec.tasks, size_rng)
