"""Tests for sim.metrics: Jain's index, busy time and the summary table.

Jain's index: Jain, Chiu & Hawe, DEC TR-301 (1984).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics import busy_hours, jain_index, summarize

# -- Jain's fairness index --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ((1, 1, 1, 1), 1.0),
        ((1, 0, 0, 0), 0.25),
        ((1, 1, 0, 0), 0.5),
        ((1, 2, 3, 4), 100 / 120),
        ((10, 10, 10, 1), 961 / 1204),
    ],
)
def test_jain_worked_values(x: tuple[float, ...], expected: float) -> None:
    assert jain_index(x) == pytest.approx(expected, rel=1e-12)


def test_jain_printed_decimals() -> None:
    assert round(jain_index((1, 2, 3, 4)), 6) == 0.833333
    assert round(jain_index((10, 10, 10, 1)), 6) == 0.798173


@pytest.mark.parametrize(("k", "n"), [(1, 1), (1, 5), (3, 7), (5, 5)])
def test_jain_k_equal_shares_of_n(k: int, n: int) -> None:
    assert jain_index([2.5] * k + [0.0] * (n - k)) == pytest.approx(k / n, rel=1e-12)


def test_jain_edge_cases() -> None:
    assert math.isnan(jain_index([]))
    assert jain_index([0.0, 0.0]) == 1.0  # nobody got anything: perfectly fair
    assert jain_index(np.array([3.0])) == 1.0


shares = st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=30).filter(
    lambda x: sum(x) > 0
)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(shares, st.floats(1e-6, 1e6))
def test_jain_scale_invariant_and_bounded(x: list[float], c: float) -> None:
    j = jain_index(x)
    assert 1 / len(x) - 1e-12 <= j <= 1 + 1e-12
    assert jain_index([c * v for v in x]) == pytest.approx(j, rel=1e-9)
    # permutation does not matter
    assert jain_index(list(reversed(x))) == pytest.approx(j, rel=1e-12)


# -- busy time ---------------------------------------------------------------------------------


def sessions(*intervals: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame(intervals, columns=["start", "end"])


H = 3600.0


def test_busy_hours_union_of_intervals() -> None:
    # [0, 1h] and [0.5h, 2h] overlap -> 2 h; [3h, 4h] -> 1 h
    assert busy_hours(sessions((0, H), (0.5 * H, 2 * H), (3 * H, 4 * H))) == pytest.approx(3.0)


def test_busy_hours_unsorted_nested_and_touching() -> None:
    s = sessions((5 * H, 6 * H), (0, 4 * H), (1 * H, 2 * H), (4 * H, 5 * H), (0.5 * H, 3 * H))
    assert busy_hours(s) == pytest.approx(6.0)


def test_busy_hours_skips_unfinished_and_empty() -> None:
    assert busy_hours(sessions((0, H), (2 * H, float("nan")))) == pytest.approx(1.0)
    assert busy_hours(pd.DataFrame(columns=["start", "end"])) == 0.0


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), min_size=1, max_size=20))
def test_busy_hours_matches_a_time_grid(spans: list[tuple[int, int]]) -> None:
    # integer hours: count the covered unit cells directly
    covered: set[int] = set()
    for s, length in spans:
        covered.update(range(s, s + length))
    got = busy_hours(sessions(*[(s * H, (s + length) * H) for s, length in spans]))
    assert got == pytest.approx(len(covered), abs=1e-9)


# -- summary -----------------------------------------------------------------------------------

GB = 1e9


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    tasks = pd.DataFrame(
        {
            "status": ["done", "done", "done", "done", "cancelled"],
            "bytes_read": [1 * GB, 2 * GB, 3 * GB, 4 * GB, 0.5 * GB],
            "bytes_written": [0.5 * GB, 1 * GB, 1.5 * GB, 2 * GB, 0.25 * GB],
            "wait_s": [0.0, 10.0, 20.0, 30.0, 1000.0],
            "sojourn_s": [100.0, 200.0, 300.0, 400.0, 5000.0],
            "thread_s": [10.0, 0, 0, 0, 0],
            "source_s": [0, 10.0, 0, 0, 0],
            "proxy_s": [0, 0, 20.0, 0, 0],
            "target_s": [0, 0, 0, 0, 40.0],
        }
    )
    sess = pd.DataFrame(
        {
            "job": ["a", "a", "b"],
            "start": [0.0, 1800.0, 10800.0],
            "end": [3600.0, 7200.0, 14400.0],
            "makespan_s": [3600.0, 5400.0, 3600.0],
            "within_window": [True, False, True],
        }
    )
    proxies = pd.DataFrame(
        {
            "proxy": ["p1", "p2", "p3"],
            "pool": ["A", "A", ""],
            "threads": [4, 4, 2],
            "capacity_bps": [1e8, 2e8, 1e8],
            "tasks": [2, 2, 1],
            "bytes_read": [3 * GB, 6 * GB, 1.5 * GB],
            "busy_thread_s": [7200.0, 3600.0, 0.0],
        }
    )
    return tasks, sess, proxies


def metric(summary: pd.DataFrame, name: str, scope: str = "overall") -> float:
    row = summary[(summary["scope"] == scope) & (summary["metric"] == name)]
    assert len(row) == 1, f"{scope}/{name}: {len(row)} rows"
    return float(row["value"].iloc[0])


def test_summary_volume_and_throughput() -> None:
    s = summarize(*frames())
    assert list(s.columns) == ["scope", "metric", "value", "unit"]
    assert metric(s, "objects") == 5
    assert metric(s, "objects_done") == 4
    assert metric(s, "objects_failed_or_cancelled") == 1
    assert metric(s, "bytes_read") == pytest.approx(10.5)
    assert metric(s, "bytes_written") == pytest.approx(5.25)
    # busy time: union of [0, 1h], [0.5h, 2h], [3h, 4h] = 3 h
    assert metric(s, "busy_time") == pytest.approx(3.0)
    assert metric(s, "throughput") == pytest.approx(10.5 / 3)
    assert metric(s, "object_rate") == pytest.approx(4 / 3)


def test_summary_windows_and_makespan() -> None:
    s = summarize(*frames())
    assert metric(s, "sessions") == 3
    assert metric(s, "window_compliance") == pytest.approx(2 / 3)
    assert metric(s, "makespan_max") == pytest.approx(1.5)
    assert metric(s, "makespan_mean") == pytest.approx(12600 / 3 / 3600)
    assert metric(s, "window_compliance", "job:a") == pytest.approx(0.5)
    assert metric(s, "window_compliance", "job:b") == pytest.approx(1.0)
    assert metric(s, "makespan_max", "job:a") == pytest.approx(1.5)


def test_summary_percentiles_over_completed_tasks() -> None:
    # wait of done tasks (0, 10, 20, 30), linear interpolation; the cancelled task is left out
    s = summarize(*frames())
    assert metric(s, "wait_p50") == pytest.approx(15.0)
    assert metric(s, "wait_p95") == pytest.approx(28.5)
    assert metric(s, "wait_p99") == pytest.approx(29.7)
    assert metric(s, "sojourn_mean") == pytest.approx(250.0)
    assert metric(s, "sojourn_p50") == pytest.approx(250.0)
    assert metric(s, "sojourn_p95") == pytest.approx(385.0)
    assert metric(s, "sojourn_p99") == pytest.approx(397.0)


def test_summary_bottleneck_shares() -> None:
    # transfer seconds: thread 10, source 10, proxy 20, target 40 (of 80)
    s = summarize(*frames())
    assert metric(s, "throttled_fraction") == pytest.approx(10 / 80)
    assert metric(s, "bottleneck_source") == pytest.approx(20 / 80)
    assert metric(s, "bottleneck_proxy") == pytest.approx(20 / 80)
    assert metric(s, "bottleneck_target") == pytest.approx(40 / 80)


def test_summary_fairness_and_per_proxy() -> None:
    # capacity-normalised loads: p1 3e9/1e8 = 30, p2 6e9/2e8 = 30, p3 1.5e9/1e8 = 15
    s = summarize(*frames())
    assert metric(s, "proxies") == 3
    assert metric(s, "jain_fairness") == pytest.approx(75**2 / (3 * (900 + 900 + 225)))
    assert metric(s, "load_max_over_mean") == pytest.approx(30 / 25)
    assert metric(s, "load_cv") == pytest.approx(math.sqrt(50) / 25)
    assert metric(s, "proxies", "pool:A") == 2
    assert metric(s, "jain_fairness", "pool:A") == pytest.approx(1.0)
    assert metric(s, "load_cv", "pool:A") == pytest.approx(0.0)
    assert metric(s, "throughput", "pool:A") == pytest.approx(9 / 3)
    assert metric(s, "throughput", "proxy:p1") == pytest.approx(1.0)
    assert metric(s, "throughput", "proxy:p3") == pytest.approx(0.5)
    assert metric(s, "objects", "proxy:p2") == 2
    # busy thread-seconds / (threads x busy time)
    assert metric(s, "thread_utilisation", "proxy:p1") == pytest.approx(7200 / (4 * 3 * 3600))
    assert metric(s, "thread_utilisation", "proxy:p3") == 0.0
    assert not (s["scope"] == "pool:").any()  # the standalone proxy is in no pool


def test_summary_idle_proxy_is_left_out_of_overall_fairness() -> None:
    tasks, sess, proxies = frames()
    idle = pd.DataFrame(
        {
            "proxy": ["p4"],
            "pool": [""],
            "threads": [1],
            "capacity_bps": [1e8],
            "tasks": [0],
            "bytes_read": [0.0],
            "busy_thread_s": [0.0],
        }
    )
    s = summarize(tasks, sess, pd.concat([proxies, idle], ignore_index=True))
    assert metric(s, "proxies") == 3
    assert metric(s, "jain_fairness") == pytest.approx(75**2 / (3 * (900 + 900 + 225)))
    assert metric(s, "throughput", "proxy:p4") == 0.0
