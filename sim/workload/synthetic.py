"""Synthetic workloads: arrival times and sizes for checking the engine against queueing theory.

Inter-arrival times and sizes come from separate random streams (oracles.md §1: independent
streams for arrivals, sizes and dispatch).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.errors import Problem, ScenarioError
from sim.scenario.schema import SizeDistribution, SyntheticSpec
from sim.workload.inventory import MAX_OBJECT_BYTES, read_csv


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


def read_trace(path: Path, horizon: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Arrival times (and sizes, if given) from a CSV with columns ``time[,size]`` (seconds,
    bytes). Times must be finite, >= 0, non-decreasing and (given ``horizon``) inside it; sizes
    finite, >= 0 and at most MAX_OBJECT_BYTES. Raises ScenarioError with the line."""
    file = str(path)
    header, rows = read_csv(path, "trace")
    if "time" not in header:
        raise ScenarioError([Problem(file, 1, None, "header", "a trace needs a 'time' column")])
    has_size = "size" in header
    times: list[float] = []
    sizes: list[float] = []
    last = -math.inf

    def bad(line: int, column: str, message: str) -> ScenarioError:
        return ScenarioError([Problem(file, line, None, column, message)])

    for line, row in rows:
        raw_t = (row.get("time") or "").strip()
        t = _number(raw_t)
        if t is None or t < 0:
            raise bad(line, "time", f"{raw_t[:40]!r} is not a finite number of seconds >= 0")
        if t < last:
            raise bad(line, "time", f"{raw_t!r} is before the previous time: times never decrease")
        if horizon is not None and t > horizon:
            raise bad(
                line,
                "time",
                f"{raw_t!r} is after the simulation horizon ({horizon:.0f} s: the simulated days "
                "plus the safety margin)",
            )
        s = 0.0
        if has_size:
            raw_s = (row.get("size") or "").strip()
            size = _number(raw_s)
            if size is None or not 0 <= size <= MAX_OBJECT_BYTES:
                raise bad(
                    line,
                    "size",
                    f"{raw_s[:40]!r} is not a size in bytes from 0 to {MAX_OBJECT_BYTES:.0e}",
                )
            s = size
        last = t
        times.append(t)
        sizes.append(s)
    if not times:
        raise ScenarioError([Problem(file, None, None, "", "the trace has no rows")])
    return np.asarray(times), (np.asarray(sizes) if has_size else None)


def _number(text: str) -> float | None:
    """A finite float from text, or None ('inf', 'nan', '1e400' and junk are None)."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


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
