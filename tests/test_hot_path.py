"""The hot path's fast paths give exactly the results of the general ones (docs/performance.md).

- Synthetic arrivals merged into the run loop (``SyntheticMode._loop``) against the chain of
  SimPy timeouts (``merge_arrivals = False``): identical task tables and time series, with
  arrivals tied with each other and with completions (integer times and sizes).
- The loop serving fixed-rate tasks itself (``SyntheticMode.inline_service``) against the same
  loop through ``World._start`` and ``World._after_direct``, and against the chain; and not
  serving them when anything else may happen (a timeline, vacations, processor sharing).
- ``Timer`` (the fixed-rate transfer's end) is processed in the order of ``call_later``.
- ``Demand.set_sids`` numbers rows in order of first appearance, as a dict over their bytes did.
- ``TaskTable.reserve`` hands out rows with start and end NaN and proxy -1, however it grew.
- ``task_frame`` shares the world's columns when few of their rows are unused, else copies.
- ``bottleneck_codes`` labels tasks as the argmax over the stacked classes did.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from heapq import heappush
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simpy.events import NORMAL

import sim
from sim.model.clock import Timer, call_later
from sim.model.limits import PROXY_COLUMNS
from sim.model.synthetic import SyntheticMode
from sim.model.trace import TaskTable
from sim.scenario.schema import with_units


@contextmanager
def general_arrivals() -> Iterator[None]:
    """Run synthetic scenarios with the chain of timeouts instead of the merged loop."""
    SyntheticMode.merge_arrivals = False
    try:
        yield
    finally:
        SyntheticMode.merge_arrivals = True


@contextmanager
def world_service() -> Iterator[None]:
    """Run the merged loop with tasks served through World._start and World._after_direct."""
    SyntheticMode.inline_service = False
    try:
        yield
    finally:
        SyntheticMode.inline_service = True


def both_paths(path: Path) -> tuple[sim.RunResult, sim.RunResult]:
    fast = sim.simulate(sim.load_scenario(path), seed=3)
    with general_arrivals():
        general = sim.simulate(sim.load_scenario(path), seed=3)
    return fast, general


def assert_same(a: sim.RunResult, b: sim.RunResult) -> None:
    assert a.truncated == b.truncated
    pd.testing.assert_frame_equal(a.tasks, b.tasks, check_exact=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.proxies, b.proxies, check_exact=True)


def write(tmp_path: Path, doc: dict[str, Any], jobs: list[tuple[int, int]] | None) -> Path:
    if jobs is not None:
        trace = tmp_path / "trace.csv"
        trace.write_text("time,size\n" + "".join(f"{t},{s}\n" for t, s in jobs), "utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(with_units(doc), sort_keys=False), encoding="utf-8")
    return path


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gaps=st.lists(st.integers(0, 3), min_size=1, max_size=40),
    sizes=st.lists(st.integers(1, 4), min_size=40, max_size=40),
    threads=st.integers(1, 3),
    policy=st.sampled_from([None, "pull_fifo", "jsq", "least_active_threads", "round_robin"]),
)
def test_merged_arrivals_match_the_timeout_chain_with_ties(
    tmp_path: Path, gaps: list[int], sizes: list[int], threads: int, policy: str | None
) -> None:
    # integer arrival times and sizes at 1 B/s per thread: many arrivals share an instant,
    # and completions fall on arrival instants, so the (time, priority, id) order decides
    times = np.cumsum(gaps).tolist()
    jobs = list(zip(times, sizes, strict=False))
    doc: dict[str, Any] = {
        "name": "ties",
        "proxies": [{"name": "p0", "threads": threads}, {"name": "p1", "threads": 1}],
        "synthetic": {
            "target": "p0" if policy is None else "pool",
            "arrivals": {"process": "trace", "trace": "trace.csv"},
            "service": "threads",
            "thread_rate": 1,
            "sizes": {"distribution": "deterministic", "mean": 1},
        },
    }
    if policy is not None:  # a push policy sees the queues: the order of ties matters
        doc["pools"] = [{"name": "pool", "members": ["p0", "p1"], "policy": policy}]
    fast, general = both_paths(write(tmp_path, doc, jobs))
    assert_same(fast, general)


@pytest.mark.parametrize("extra", ["vacations", "interruptions", "processor_sharing", "jsq"])
def test_merged_arrivals_match_the_timeout_chain_poisson(tmp_path: Path, extra: str) -> None:
    syn: dict[str, Any] = {
        "target": "pool",
        "arrivals": {"process": "poisson", "rate": 6},
        "sizes": {"distribution": "exponential", "mean": 1_000_000},
        "tasks": 3000,
        "service": "threads",
        "thread_rate": 1_000_000,
    }
    policy = "pull_fifo"
    if extra == "vacations":
        syn["vacations"] = {"distribution": "exponential", "mean": 0.5}
    elif extra == "interruptions":
        syn["interruptions"] = {"mean_up": 50, "mean_down": 2}
        syn["service"] = "processor_sharing"
        syn.pop("thread_rate")
    elif extra == "processor_sharing":
        syn["service"] = "processor_sharing"
        syn.pop("thread_rate")
    else:
        policy = "jsq"
    proxies = [{"name": f"p{i}", "threads": 4, "processing_rate": 4_000_000} for i in range(2)]
    doc = {
        "name": extra,
        "proxies": proxies,
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": policy}],
        "synthetic": syn,
    }
    fast, general = both_paths(write(tmp_path, doc, None))
    assert_same(fast, general)
    assert (fast.tasks["status"] == "done").all()


class Calls:
    """Counts the calls of ``World._after_direct`` (the inline service makes none)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from sim.model.world import World

        self.n = 0
        plain = World._after_direct

        def counted(world: World, event: Any) -> None:
            self.n += 1
            plain(world, event)

        monkeypatch.setattr(World, "_after_direct", counted)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gaps=st.lists(st.integers(0, 2), min_size=8, max_size=40),
    sizes=st.lists(st.integers(1, 6), min_size=40, max_size=40),
    threads=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    bucket=st.sampled_from([1, 2, 3600]),
)
def test_inline_service_matches_the_world_path_with_ties(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gaps: list[int],
    sizes: list[int],
    threads: list[int],
    bucket: int,
) -> None:
    # a plain FIFO pull pool of fixed-rate threads, integer times and sizes at 1 B/s: arrivals
    # tie with each other and with completions, threads free at arrival instants, queues form
    # (at least 8 tasks, longer than their gaps), transfers span several time buckets (1-2 s)
    # or one (1 h)
    times = np.cumsum(gaps).tolist()
    jobs = list(zip(times, sizes, strict=False))
    names = [f"p{i}" for i in range(len(threads))]
    doc: dict[str, Any] = {
        "name": "inline",
        "simulation": {"bucket": bucket},
        "proxies": [{"name": nm, "threads": k} for nm, k in zip(names, threads, strict=True)],
        "pools": [{"name": "pool", "members": names, "policy": "pull_fifo"}],
        "synthetic": {
            "target": "pool",
            "arrivals": {"process": "trace", "trace": "trace.csv"},
            "service": "threads",
            "thread_rate": 1,
            "sizes": {"distribution": "deterministic", "mean": 1},
        },
    }
    path = write(tmp_path, doc, jobs)
    calls = Calls(monkeypatch)
    inline = sim.simulate(sim.load_scenario(path), seed=3)
    assert calls.n == 0  # every task was served by the loop itself
    with world_service():
        through_world = sim.simulate(sim.load_scenario(path), seed=3)
    assert calls.n == len(jobs)
    with general_arrivals():
        chain = sim.simulate(sim.load_scenario(path), seed=3)
    assert_same(inline, through_world)
    assert_same(inline, chain)
    assert (inline.tasks["status"] == "done").all()


@pytest.mark.parametrize(
    "extra", ["none", "timeline", "vacations", "processor_sharing", "caller_event"]
)
def test_inline_service_only_when_nothing_else_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    syn: dict[str, Any] = {
        "target": "pool",
        "arrivals": {"process": "poisson", "rate": 1.5},
        "sizes": {"distribution": "exponential", "mean": 1_000_000},
        "tasks": 1500,
        "service": "threads",
        "thread_rate": 1_000_000,
    }
    doc: dict[str, Any] = {
        "name": extra,
        "proxies": [{"name": f"p{i}", "threads": 1} for i in range(2)],
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": "pull_fifo"}],
        "synthetic": syn,
    }
    if extra == "timeline":  # p0 in maintenance for a while: it takes nothing meanwhile
        doc["timeline"] = [
            {"action": "maintenance_on", "proxy": "p0", "at": "00:01:40"},
            {"action": "maintenance_off", "proxy": "p0", "at": "00:05:00"},
        ]
    elif extra == "vacations":
        syn["vacations"] = {"distribution": "exponential", "mean": 0.5}
    elif extra == "processor_sharing":
        syn["service"] = "processor_sharing"
        syn.pop("thread_rate")
        for px in doc["proxies"]:
            px["processing_rate"] = 1_000_000
    path = write(tmp_path, doc, None)
    decided: list[bool] = []
    plain = SyntheticMode._inline_ok

    def recorded(mode: SyntheticMode, quiet: bool) -> bool:
        decided.append(plain(mode, quiet))
        return decided[-1]

    monkeypatch.setattr(SyntheticMode, "_inline_ok", recorded)
    calls = Calls(monkeypatch)

    def on_world(world: Any) -> None:
        if extra == "caller_event":  # an event of the caller's, scheduled before the run
            world.env.timeout(100.0)

    fast = sim.simulate(sim.load_scenario(path), seed=5, on_world=on_world)
    with general_arrivals():
        general = sim.simulate(sim.load_scenario(path), seed=5, on_world=on_world)
    assert_same(fast, general)
    assert (fast.tasks["status"] == "done").all()
    # the loop serves tasks itself only when nothing but arrivals and completions happen
    assert decided == [extra == "none"]
    if extra == "none":
        assert calls.n == len(fast.tasks)  # the chain's run only
    elif extra != "processor_sharing":  # (there transfers share: no fixed-rate end at all)
        assert calls.n == 2 * len(fast.tasks)  # both runs through World._after_direct


def test_timer_is_processed_in_call_later_order() -> None:
    def order(use_timer: bool) -> list[tuple[float, int]]:
        env = simpy.Environment()
        seen: list[tuple[float, int]] = []

        def record(event: Any) -> None:
            seen.append((env.now, event._value))

        for k, delay in enumerate((1.0, 0.5, 1.0, 0.0, 1.0, 2.0)):
            if use_timer and k % 2:
                ev = object.__new__(Timer)
                ev._value = k
                ev.callbacks = (record,)
                heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))  # type: ignore[misc]
            else:
                call_later(env, delay, k, record)
        env.run()
        return seen

    assert (
        order(True) == order(False) == [(0.0, 3), (0.5, 1), (1.0, 0), (1.0, 2), (1.0, 4), (2.0, 5)]
    )


def dict_sids(res: np.ndarray, coef: np.ndarray, base: int) -> list[int]:
    """The former numbering: a dict over each row's bytes, in order of first appearance."""
    rows = np.concatenate([res, coef.view(np.int64)], axis=1)
    keys = rows.view(np.dtype((np.void, rows.shape[1] * 8))).ravel().tolist()
    seen: dict[object, int] = {}
    return [seen.setdefault(k, base + len(seen)) for k in keys]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1), st.sampled_from([0.0, -0.0, 1.0, 0.5])),
        min_size=1,
        max_size=30,
    ),
    base=st.integers(0, 5),
    batches=st.integers(1, 3),
)
def test_set_sids_numbers_rows_like_a_dict(
    rows: list[tuple[int, int, float]], base: int, batches: int
) -> None:
    from sim.model.world import World

    world = World(sim.load_scenario_text(_tiny_synthetic()), seed=1)
    s, demand = world.state, world.demand
    n = len(rows)
    s.grow(n)
    s.res[:n, PROXY_COLUMNS:] = 0
    s.coef[:n, PROXY_COLUMNS:] = 0.0
    for i, (r0, r1, c) in enumerate(rows):
        s.res[i, PROXY_COLUMNS] = r0
        s.res[i, PROXY_COLUMNS + 1] = r1
        s.coef[i, PROXY_COLUMNS] = c
    demand._sid_next = base
    expected: list[int] = []
    cuts = np.linspace(0, n, batches + 1).astype(int)
    for lo, hi in itertools.pairwise(cuts):
        if hi > lo:
            expected += dict_sids(
                s.res[lo:hi, PROXY_COLUMNS:], s.coef[lo:hi, PROXY_COLUMNS:], base + 0
            )
            base = max(expected) + 1
            demand.set_sids(slice(int(lo), int(hi)))
    assert s.sid[:n].tolist() == expected
    assert demand._sid_next == max(expected) + 1


def _tiny_synthetic() -> str:
    doc = {
        "name": "tiny",
        "proxies": [{"name": "p0", "threads": 1}],
        "synthetic": {
            "target": "p0",
            "arrivals": {"process": "poisson", "rate": 1},
            "sizes": {"distribution": "deterministic", "mean": 1},
            "tasks": 1,
            "service": "threads",
        },
    }
    return yaml.safe_dump(with_units(doc), sort_keys=False)


def test_reserve_hands_out_initialised_rows() -> None:
    table = TaskTable(4)
    table.reserve(3)
    table.start[:3] = 1.0
    table.proxy[:3] = 2
    table.ensure(10)  # grown ahead: rows not handed out are not initialised yet
    ids = table.reserve(9)  # grows again, by doubling
    assert ids == range(3, 12)
    assert table.start[:3].tolist() == [1.0] * 3 and table.proxy[:3].tolist() == [2] * 3
    assert np.isnan(table.start[3:12]).all() and np.isnan(table.end[:12]).all()
    assert (table.proxy[3:12] == -1).all() and (table.attempts[:12] == 0).all()


def test_task_frame_shares_full_columns_and_copies_sparse_ones() -> None:
    from sim.metrics import task_frame
    from sim.model.world import World

    def frame_of(text: str, spare: int) -> tuple[World, pd.DataFrame]:
        world = World(sim.load_scenario_text(text), seed=1)
        world.run()
        n = world.tasks.n
        world.tasks.ensure(n + spare)  # rows allocated beyond the run's
        return world, task_frame(world)

    from sim.bench.speed import mm8_scenario_text

    text = mm8_scenario_text(3000)  # more than twice the table's first 1,024 rows: no spare
    for spare, shared in ((0, True), (750, True), (751, False), (4000, False)):
        world, df = frame_of(text, spare)
        n = world.tasks.n
        assert n == 3000 and world.tasks.capacity == n + spare and len(df) == n
        col = world.tasks.cols["end"]
        # shared while at most a quarter of the rows are unused, else copied
        assert np.shares_memory(df["end"].to_numpy(), col) == shared
        for name in ("start", "end", "bytes_read", "thread_s", "attempts"):
            assert np.array_equal(df[name].to_numpy(), world.tasks.cols[name][:n], equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]) for _ in range(4)]),
        min_size=1,
        max_size=30,
    )
)
def test_bottleneck_codes_are_the_argmax_of_the_stacked_classes(
    rows: list[tuple[float, float, float, float]],
) -> None:
    from sim.metrics.tables import bottleneck_codes

    thread, source, proxy, target = (np.array(c) for c in zip(*rows, strict=True))
    # the former computation: the classes stacked, argmax, n/a where all are zero
    by = np.stack([thread + source, proxy, target], axis=1)
    expected = np.where(by.sum(axis=1) > 0, by.argmax(axis=1), 3)
    assert bottleneck_codes(thread, source, proxy, target).tolist() == expected.tolist()
