"""The built-in policies: exact decisions on a fake view, tie-breaking, determinism, and small
end-to-end runs through ``sim.simulate``."""

from __future__ import annotations

import bisect
import functools
import hashlib
import inspect
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.policies import (
    PolicyError,
    PullPolicy,
    PushPolicy,
    available,
    make_policy,
    parameters,
)
from sim.policies.affinity import hash64
from sim.scenario.schema import with_units

ROOT = Path(__file__).resolve().parent.parent
PUSH = (
    "random",
    "round_robin",
    "weighted_round_robin",
    "weighted_random",
    "jsq",
    "jsq_waiting",
    "power_of_d",
    "jiq",
    "least_work_left",
    "least_active_threads",
    "least_loaded_capacity",
    "sticky_hash",
    "job_affinity",
)
PULL = ("pull_fifo", "pull_largest_first", "pull_smallest_first", "pull_fair_jobs")
ALL = PUSH + PULL


class FakeView:
    """A hand-set PoolView: members 0..n-1 (or the ids given), loads and tasks from dicts."""

    def __init__(
        self,
        members: Sequence[int] | None = None,
        *,
        names: Sequence[str] | None = None,
        busy: Sequence[int] | None = None,
        queue: Sequence[int] | None = None,
        threads: Sequence[int] | None = None,
        capacity: Sequence[float] | None = None,
        outstanding: Sequence[float] | None = None,
    ) -> None:
        if members is None:
            members = range(len(names)) if names is not None else (0, 1, 2)
        self.members = tuple(members)
        n = len(self.members)

        def per(values: Sequence[Any] | None, default: Any) -> dict[int, Any]:
            return dict(
                zip(self.members, values if values is not None else [default] * n, strict=True)
            )

        self._name = per(names or [f"px{p}" for p in self.members], "")
        self.busy = per(busy, 0)
        self.queue = per(queue, 0)
        self._threads = per(threads, 1)
        self._capacity = per(capacity, 1.0)
        self.outstanding = per(outstanding, 0.0)
        self.bytes: dict[int, float] = {}
        self.job: dict[int, int] = {}
        self.session: dict[int, int] = {}
        self.object: dict[int, int] = {}
        self.now = 0.0

    def name(self, p: int) -> str:
        return self._name[p]

    def queue_length(self, p: int) -> int:
        return self.queue[p]

    def active(self, p: int) -> int:
        return self.busy[p]

    def in_system(self, p: int) -> int:
        return self.busy[p] + self.queue[p]

    def in_system_of(self, ps: Sequence[int]) -> list[int]:
        return [self.in_system(p) for p in ps]

    def queue_length_of(self, ps: Sequence[int]) -> list[int]:
        return [self.queue[p] for p in ps]

    def threads(self, p: int) -> int:
        return self._threads[p]

    def free_threads(self, p: int) -> int:
        return self._threads[p] - self.busy[p]

    def capacity(self, p: int) -> float:
        return self._capacity[p]

    def state(self, p: int) -> str:
        return "active"

    def outstanding_bytes(self, p: int) -> float:
        return self.outstanding[p]

    def outstanding_bytes_of(self, ps: Sequence[int]) -> list[float]:
        return [self.outstanding[p] for p in ps]

    def task_bytes(self, t: int) -> float:
        return self.bytes.get(t, 1.0)

    def task_job(self, t: int) -> int:
        return self.job.get(t, 0)

    def task_session(self, t: int) -> int:
        return self.session.get(t, 0)

    def task_object(self, t: int) -> int:
        return self.object.get(t, t)


def bound(name: str, view: FakeView, seed: int = 0, **params: Any) -> Any:
    pol = make_policy(name, params)
    pol.bind(view, np.random.default_rng(seed))  # type: ignore[arg-type]
    return pol


def uniforms(seed: int, n: int) -> list[float]:
    """The draws a policy bound with ``seed`` makes (``Policy.uniform``: rng.random blocks)."""
    return np.random.default_rng(seed).random(max(n, 1024)).tolist()[:n]


def picks(pol: PushPolicy, view: FakeView, n: int, cands: Sequence[int] | None = None) -> list[int]:
    c = list(view.members if cands is None else cands)
    return [pol.select(t, c, view) for t in range(n)]  # type: ignore[arg-type]


# -- registry ---------------------------------------------------------------------------------


def test_all_seventeen_are_registered_with_definitions() -> None:
    reg = available()
    assert set(ALL) <= set(reg)
    for name in ALL:
        cls = reg[name]
        assert cls.name == name
        assert cls.kind == ("pull" if name in PULL else "push")
        assert issubclass(cls, PullPolicy if name in PULL else PushPolicy)
        assert cls.summary and "\n" not in cls.summary
        assert cls.__doc__ and len(cls.__doc__.split()) >= 15, name
        make_policy(name, {})  # every built-in works without parameters


def test_policies_command_lists_all_seventeen(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.cli

    monkeypatch.setattr(sim.cli.out, "width", 200)
    result = CliRunner().invoke(app, ["policies"])
    assert result.exit_code == 0, result.output
    listed = set(re.findall(r"^│ (\w+)\s+│ (push|pull)", result.output, re.M))
    assert {n for n, _ in listed} >= set(ALL)
    assert ("jsq", "push") in listed and ("pull_fair_jobs", "pull") in listed
    # each policy's parameters with their types and defaults
    for shown in ("d: int = 2", "replace: bool = False", "load_factor: float = 1.25"):
        assert shown in result.output, shown


def test_unknown_parameter_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"'jsq'.*params.d: unknown parameter") as info:
        make_policy("jsq", {"d": 2})
    assert info.value.problems[0][0] == ("params", "d")
    with pytest.raises(PolicyError, match=r"params.dd: unknown parameter; its parameters are: d"):
        make_policy("power_of_d", {"dd": 2})


@pytest.mark.parametrize(
    ("name", "params", "where", "message"),
    [
        ("power_of_d", {"d": 0}, ("params", "d"), r"greater than or equal to 1 \(got 0\)"),
        ("power_of_d", {"d": 2.5}, ("params", "d"), r"valid integer \(got 2.5\)"),
        ("power_of_d", {"d": True}, ("params", "d"), r"valid integer \(got True\)"),
        ("sticky_hash", {"vnodes": 10_001}, ("params", "vnodes"), r"less than or equal to 10000"),
        ("sticky_hash", {"load_factor": math.inf}, ("params", "load_factor"), r"finite"),
        ("weighted_random", {"weights": {"a": -1}}, ("params", "weights", "a"), r"greater than 0"),
    ],
)
def test_typed_parameters_name_the_parameter_and_the_value(
    name: str, params: dict[str, Any], where: tuple[str, ...], message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        make_policy(name, params)
    ((loc, text),) = info.value.problems
    assert loc == where and re.search(message, text) and f"'{name}'" in text


def test_parameters_and_defaults_come_from_the_params_model() -> None:
    reg = available()
    listed = {n: {p.name: p.default for p in parameters(c)} for n, c in reg.items()}
    assert listed["power_of_d"] == {"d": 2, "replace": False}
    assert listed["sticky_hash"] == {"load_factor": 1.25, "vnodes": 100}
    assert listed["weighted_random"] == {"weights": None} == listed["weighted_round_robin"]
    assert listed["jsq"] == {} and listed["pull_fifo"] == {}
    pol = make_policy("power_of_d", {"d": 3})
    assert pol.params == reg["power_of_d"].Params(d=3, replace=False)
    # every parameter is described (the reference and `poolsim policies` show it)
    for cls in reg.values():
        assert all(p.description and p.type for p in parameters(cls)), cls.name


def test_a_plugin_without_params_lists_its_init_arguments() -> None:
    class Legacy(PushPolicy):
        name = "legacy_kwargs"

        def __init__(self, threshold: int = 3) -> None:
            super().__init__()
            self.threshold = threshold

        def select(self, task: int, candidates: Sequence[int], view: Any) -> int:
            return candidates[0]

    assert [(p.name, p.type, p.default) for p in parameters(Legacy)] == [("threshold", "int", 3)]
    assert Legacy(threshold=5).threshold == 5


# -- random -----------------------------------------------------------------------------------


def test_random_uses_the_policy_stream_exactly() -> None:
    view = FakeView((4, 7, 9))
    got = picks(bound("random", view, seed=5), view, 50)
    assert got == [(4, 7, 9)[int(u * 3)] for u in uniforms(5, 50)]


def test_random_single_candidate_draws_nothing() -> None:
    view = FakeView()
    pol = bound("random", view, seed=1)
    assert pol.select(0, [2], view) == 2
    assert picks(pol, view, 20) == [int(u * 3) for u in uniforms(1, 20)]


def test_random_is_deterministic_per_seed_and_roughly_uniform() -> None:
    view = FakeView(range(4))
    a = picks(bound("random", view, seed=3), view, 4000)
    assert a == picks(bound("random", view, seed=3), view, 4000)
    assert a != picks(bound("random", view, seed=4), view, 4000)
    counts = Counter(a)
    assert all(900 < counts[p] < 1100 for p in range(4))


# -- round robin ------------------------------------------------------------------------------


def test_round_robin_rotates_in_member_order_and_skips_without_losing_turn() -> None:
    view = FakeView((5, 3, 9))
    pol = bound("round_robin", view)
    assert picks(pol, view, 4) == [5, 3, 9, 5]
    assert pol.select(0, [5, 9], view) == 9  # 3 cannot take work: skipped
    assert picks(pol, view, 3) == [5, 3, 9]


# -- weighted ---------------------------------------------------------------------------------


def test_smooth_weighted_round_robin_sequence() -> None:
    view = FakeView(names=["a", "b", "c"])
    pol = bound("weighted_round_robin", view, weights={"a": 5, "b": 1, "c": 1})
    assert picks(pol, view, 14) == [0, 0, 1, 0, 2, 0, 0] * 2


def test_weighted_round_robin_by_capacity() -> None:
    view = FakeView(capacity=[2e8, 1e8, 1e8])
    pol = bound("weighted_round_robin", view)
    assert picks(pol, view, 8) == [0, 1, 2, 0] * 2
    # equal capacities: plain rotation
    view2 = FakeView(capacity=[3.0, 3.0, 3.0])
    assert picks(bound("weighted_round_robin", view2), view2, 6) == [0, 1, 2] * 2


def test_weighted_round_robin_excluded_member_keeps_its_weight() -> None:
    view = FakeView(names=["a", "b", "c"])
    pol = bound("weighted_round_robin", view, weights={"a": 1, "b": 1, "c": 1})
    assert picks(pol, view, 4, cands=[0, 2]) == [0, 2, 0, 2]
    # b kept its current weight (0) while out; a and c are back to 0 too: plain order
    assert picks(pol, view, 3) == [0, 1, 2]


def test_weighted_random_exact_and_proportional() -> None:
    view = FakeView(names=["a", "b"])
    pol = bound("weighted_random", view, seed=2, weights={"a": 1, "b": 3})
    got = picks(pol, view, 2000)
    assert got[:200] == [0 if u * 4 < 1 else 1 for u in uniforms(2, 200)]
    assert 0.22 < got.count(0) / 2000 < 0.28
    cap_view = FakeView((0, 1), capacity=[1.0, 9.0])
    assert Counter(picks(bound("weighted_random", cap_view, 1), cap_view, 1000))[1] > 850


@pytest.mark.parametrize("name", ["weighted_round_robin", "weighted_random"])
def test_weights_are_checked(name: str) -> None:
    view = FakeView(names=["a", "b"])
    with pytest.raises(PolicyError, match="not members: z"):
        bound(name, view, weights={"a": 1, "b": 1, "z": 1})
    with pytest.raises(PolicyError, match="missing"):
        bound(name, view, weights={"a": 1})
    with pytest.raises(PolicyError, match=r"params.weights.a: .*greater than 0 \(got 0\)"):
        make_policy(name, {"weights": {"a": 0, "b": 1}})
    with pytest.raises(PolicyError, match=r"params.weights.a: .*valid number \(got 'x'\)"):
        make_policy(name, {"weights": {"a": "x"}})


# -- shortest queue family --------------------------------------------------------------------


def test_jsq_counts_tasks_in_service_jsq_waiting_does_not() -> None:
    # member 0: 3 in service, none waiting; member 1: 1 in service, 1 waiting
    view = FakeView((0, 1), busy=[3, 1], queue=[0, 1], threads=[4, 1])
    assert bound("jsq", view).select(0, [0, 1], view) == 1  # 3 vs 2 tasks in system
    assert bound("jsq_waiting", view).select(0, [0, 1], view) == 0  # 0 vs 1 waiting


def test_jsq_unique_minimum_draws_nothing_ties_at_random() -> None:
    view = FakeView(range(4), busy=[2, 0, 1, 0], queue=[0, 1, 0, 2])  # in system 2, 1, 1, 2
    pol = bound("jsq", view, seed=9)
    got = picks(pol, view, 30)
    assert got == [(1, 2)[int(u * 2)] for u in uniforms(9, 30)]
    view.queue[2] = 1  # in system 2, 1, 2, 2: a single shortest
    assert picks(pol, view, 5) == [1] * 5
    assert pol.select(0, [0, 2, 3], view) in (0, 2, 3)


def test_jsq_waiting_ties_at_random_among_empty_queues() -> None:
    view = FakeView(range(3), busy=[1, 0, 1], queue=[0, 0, 3])
    got = picks(bound("jsq_waiting", view, seed=4), view, 40)
    assert got == [(0, 1)[int(u * 2)] for u in uniforms(4, 40)]


def test_power_of_d_without_replacement_never_picks_the_longest() -> None:
    view = FakeView(range(4), busy=[3, 0, 2, 1])
    pol = bound("power_of_d", view, seed=1)
    got = picks(pol, view, 3000)
    assert 0 not in got  # the longest always loses to the other sampled member
    # exact: the first draw picks among 4, the second among the 3 others
    u = uniforms(1, 2000)
    exp = []
    for a, b in zip(u[0::2], u[1::2], strict=True):
        i = int(a * 4)
        j = int(b * 3)
        j += j >= i
        exp.append(min(i, j, key=lambda p: view.busy[p]))
    assert got[:1000] == exp
    # JSQ(2) picks the shortest of 4 when it is sampled: P = 1/2
    assert 0.45 < got.count(1) / 3000 < 0.55


def test_power_of_d_with_replacement_can_sample_one_member_twice() -> None:
    view = FakeView((0, 1), busy=[5, 0])
    got = picks(bound("power_of_d", view, seed=2, replace=True), view, 4000)
    assert 0.22 < got.count(0) / 4000 < 0.28  # both draws hit member 0: 1/4
    assert 0 not in picks(bound("power_of_d", view, seed=2), view, 200)


def test_power_of_d_with_d_at_least_candidates_is_jsq() -> None:
    view = FakeView(range(3), busy=[2, 0, 1])
    assert picks(bound("power_of_d", view, d=5), view, 10) == [1] * 10
    pol = bound("power_of_d", view, seed=3, d=1)  # d = 1: uniform random
    assert picks(pol, view, 20) == [int(u * 3) for u in uniforms(3, 20)]


@pytest.mark.parametrize(
    "params", [{"d": 0}, {"d": 2.5}, {"d": "2"}, {"d": True}, {"replace": "yes"}]
)
def test_power_of_d_bad_parameters(params: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="power_of_d"):
        make_policy("power_of_d", params)


def test_jiq_prefers_idle_members() -> None:
    # idle = a free thread and nothing waiting: members 1 and 3
    view = FakeView(range(4), busy=[1, 1, 0, 0], threads=[1, 2, 1, 1], queue=[0, 0, 1, 0])
    got = picks(bound("jiq", view, seed=6), view, 30)
    assert got == [(1, 3)[int(u * 2)] for u in uniforms(6, 30)]
    # nobody idle: uniformly random over the candidates
    full = FakeView(range(3), busy=[1, 1, 1])
    assert picks(bound("jiq", full, seed=6), full, 30) == [int(u * 3) for u in uniforms(6, 30)]


def test_least_work_left_ties_at_random() -> None:
    view = FakeView(range(4), outstanding=[5e6, 2e6, 9e6, 2e6])
    got = picks(bound("least_work_left", view, seed=8), view, 30)
    assert got == [(1, 3)[int(u * 2)] for u in uniforms(8, 30)]
    view.outstanding[3] = 2.5e6
    assert picks(bound("least_work_left", view), view, 3) == [1] * 3


def test_least_active_threads_ties_by_queue_then_member_order() -> None:
    view = FakeView(range(3), busy=[1, 0, 0], queue=[0, 2, 1])
    assert bound("least_active_threads", view).select(0, [0, 1, 2], view) == 2
    view.queue[1] = 1
    assert bound("least_active_threads", view).select(0, [0, 1, 2], view) == 1


def test_least_loaded_capacity_normalises_by_capacity() -> None:
    view = FakeView(range(3), outstanding=[10.0, 30.0, 20.0], capacity=[1.0, 4.0, 2.0])
    assert bound("least_loaded_capacity", view).select(0, [0, 1, 2], view) == 1  # 10, 7.5, 10
    view.outstanding[1] = 40.0  # 10, 10, 10: member order
    assert bound("least_loaded_capacity", view).select(0, [0, 1, 2], view) == 0
    assert bound("least_loaded_capacity", view).select(0, [1, 2], view) == 1


# -- sticky hash ------------------------------------------------------------------------------


@functools.cache
def ring(names: tuple[str, ...], vnodes: int = 100) -> tuple[list[int], list[str]]:
    """Independent recomputation of the ring: points by hash, then member order."""
    pts = sorted((hash64(f"{n}#{i}"), k, n) for k, n in enumerate(names) for i in range(vnodes))
    return [h for h, _, _ in pts], [n for _, _, n in pts]


def ring_home(names: Sequence[str], obj: int) -> str:
    """The member owning the first point after the object's key (no load bound)."""
    points, owners = ring(tuple(names))
    return owners[bisect.bisect_right(points, hash64(str(obj))) % len(owners)]


def test_hash64_is_stable() -> None:
    # BLAKE2b-64, little-endian: a fixed value on every machine and Python process
    assert hash64("0") == int.from_bytes(hashlib.blake2b(b"0", digest_size=8).digest(), "little")
    assert hash64("0") == 8493733112532773764
    assert hash64("proxy-01#0") == 14556872705546958506
    assert hash64("proxy-01#0") != hash64("proxy-01#1")


def test_sticky_hash_follows_the_ring_and_is_stable() -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    view = FakeView(range(4), names=names)
    a = bound("sticky_hash", view, seed=1)
    b = bound("sticky_hash", view, seed=99)  # no draws: the seed does not matter
    got = [a.select(t, [0, 1, 2, 3], view) for t in range(400)]
    assert got == [b.select(t, [0, 1, 2, 3], view) for t in range(400)]
    assert [names[p] for p in got] == [ring_home(names, t) for t in range(400)]
    assert all(40 < c < 160 for c in Counter(got).values())
    # member order does not matter, names do
    perm = FakeView((7, 5, 6, 4), names=["delta", "beta", "gamma", "alpha"])
    c = bound("sticky_hash", perm)
    again = [perm.name(c.select(t, [7, 5, 6, 4], perm)) for t in range(400)]
    assert again == [names[p] for p in got]


def test_sticky_hash_moves_only_the_removed_members_objects() -> None:
    four = ["a", "b", "c", "d"]
    three = ["a", "b", "c"]
    moved = [t for t in range(1000) if ring_home(four, t) != ring_home(three, t)]
    assert moved and all(ring_home(four, t) == "d" for t in moved)
    v4 = FakeView(range(4), names=four)
    p4 = bound("sticky_hash", v4)
    # a member that cannot take work: its objects go to the next member clockwise
    for t in range(300):
        assert four[p4.select(t, [0, 1, 2], v4)] == ring_home(three, t)


def test_sticky_hash_bounded_load() -> None:
    names = ["a", "b", "c"]
    home = ring_home(names, 42)
    h = names.index(home)
    view = FakeView(range(3), names=names)
    view.object[0] = 42
    pol = bound("sticky_hash", view)
    # others empty, home has k tasks: m = k + 1, bound = ceil(1.25 (k + 1) / 3)
    for k in range(12):
        view.busy[h] = k
        cap = math.ceil(1.25 * (k + 1) / 3)
        chosen = pol.select(0, [0, 1, 2], view)
        assert (chosen == h) == (k < cap), k
    # load_factor large: plain consistent hashing
    view.busy[h] = 50
    assert bound("sticky_hash", view, load_factor=1000.0).select(0, [0, 1, 2], view) == h


@pytest.mark.parametrize(
    "params", [{"load_factor": 0.9}, {"load_factor": "x"}, {"vnodes": 0}, {"vnodes": 1.5}]
)
def test_sticky_hash_bad_parameters(params: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="sticky_hash"):
        make_policy("sticky_hash", params)


# -- job affinity -----------------------------------------------------------------------------


def test_job_affinity_keeps_a_session_on_one_member() -> None:
    view = FakeView(range(3), outstanding=[5.0, 1.0, 1.0])
    view.session.update({0: 10, 1: 10, 2: 10, 3: 11, 4: 10, 5: 10})
    pol = bound("job_affinity", view)
    assert pol.select(0, [0, 1, 2], view) == 1  # least outstanding, ties by member order
    view.outstanding.update({1: 100.0})
    assert pol.select(1, [0, 1, 2], view) == 1  # follows the session's member
    assert pol.select(2, [0, 1, 2], view) == 1
    assert pol.select(3, [0, 1, 2], view) == 2  # another session picks afresh
    assert pol.select(4, [0, 2], view) == 2  # member 1 cannot take work: re-pick
    assert pol.select(5, [0, 1, 2], view) == 2  # and stay there


# -- pull policies ----------------------------------------------------------------------------


def pull_order(pol: PullPolicy, view: FakeView) -> list[int]:
    out = []
    while len(pol):
        t = pol.next_task(0, view)  # type: ignore[arg-type]
        assert t is not None
        out.append(t)
    assert pol.next_task(0, view) is None  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pull_fifo", [0, 1, 2, 3, 4]),
        ("pull_largest_first", [1, 2, 0, 4, 3]),
        ("pull_smallest_first", [3, 0, 4, 1, 2]),
        ("pull_fair_jobs", [0, 2, 1, 4, 3]),
    ],
)
def test_pull_order(name: str, expected: list[int]) -> None:
    view = FakeView()
    view.bytes.update({0: 3.0, 1: 5.0, 2: 5.0, 3: 1.0, 4: 3.0})
    view.job.update({0: 7, 1: 7, 2: 2, 3: 7, 4: 2})
    pol = bound(name, view)
    for t in range(5):
        pol.push(t)
    assert len(pol) == 5
    assert pull_order(pol, view) == expected


def test_fifo_queue_only_for_the_plain_fifo() -> None:
    """The world's FIFO fast path: the queue itself for pull_fifo, None for any policy that
    overrides a queue method (a plug-in that only changes ``next_task`` included)."""

    class Picky(PullPolicy):
        def next_task(self, proxy: int, view: Any) -> int | None:
            return super().next_task(proxy, view) if proxy == 0 else None

    view = FakeView()
    fifo = bound("pull_fifo", view)
    q = fifo.fifo_queue()
    assert q is not None
    fifo.push(4)
    q.append(5)
    assert len(fifo) == 2 and q.popleft() == 4 and fifo.next_task(0, view) == 5  # type: ignore[arg-type]
    for name in sorted(set(PULL) - {"pull_fifo"}):
        assert bound(name, view).fifo_queue() is None
    assert Picky().fifo_queue() is None


def test_pull_fair_jobs_rotation() -> None:
    view = FakeView()
    jobs = {0: 1, 1: 1, 2: 2, 3: 1, 4: 3, 5: 2}  # A A B A C B
    view.job.update(jobs)
    pol = bound("pull_fair_jobs", view)
    for t in range(6):
        pol.push(t)
    assert pull_order(pol, view) == [0, 2, 4, 1, 5, 3]
    # a job that comes back after leaving the rotation joins at the back
    for t in (0, 2, 1):
        pol.push(t)
    assert pol.next_task(0, view) == 0  # type: ignore[arg-type]
    view.job[6] = 3
    pol.push(6)
    assert pull_order(pol, view) == [2, 1, 6]


@pytest.mark.parametrize("name", PULL)
def test_pull_drain_and_push_again_rebuilds_the_queue(name: str) -> None:
    rnd = random.Random(0)
    view = FakeView()
    for t in range(60):
        view.bytes[t] = float(rnd.choice([1, 2, 3]))
        view.job[t] = rnd.choice([0, 1, 2])
    a, b = bound(name, view), bound(name, view)
    for t in range(40):
        a.push(t)
        b.push(t)
    for _ in range(10):
        a.next_task(0, view)  # type: ignore[arg-type]
        b.next_task(0, view)  # type: ignore[arg-type]
    drained = a.drain()
    assert len(a) == 0 and a.next_task(0, view) is None  # type: ignore[arg-type]
    assert len(drained) == 30
    for t in drained:
        a.push(t)
    for t in range(40, 60):
        a.push(t)
        b.push(t)
    assert pull_order(a, view) == pull_order(b, view)


@pytest.mark.parametrize("name", PULL)
def test_pull_returns_every_task_once(name: str) -> None:
    rnd = random.Random(1)
    view = FakeView()
    pol = bound(name, view)
    pushed, got = 0, []
    for _ in range(500):
        if rnd.random() < 0.6:
            view.bytes[pushed] = float(rnd.randint(1, 5))
            view.job[pushed] = rnd.randint(0, 3)
            pol.push(pushed)
            pushed += 1
        elif rnd.random() < 0.95:
            t = pol.next_task(0, view)  # type: ignore[arg-type]
            if t is not None:
                got.append(t)
        else:
            got += pol.drain()
        assert len(pol) == pushed - len(got)
    got += pol.drain()
    assert sorted(got) == list(range(pushed))


# -- end to end -------------------------------------------------------------------------------


def synthetic(
    policy: str | dict[str, Any],
    threads: Sequence[int] = (1, 1, 1),
    tasks: int = 300,
    rate: str = "2/s",
) -> str:
    names = [f"p{i}" for i in range(len(threads))]
    data = {
        "name": "syn",
        "seed": 1,
        "proxies": [{"name": n, "threads": t} for n, t in zip(names, threads, strict=True)],
        "pools": [{"name": "pool-a", "members": names, "policy": policy}],
        "synthetic": {
            "target": "pool-a",
            "arrivals": {"rate": rate},
            "sizes": {"distribution": "exponential", "mean": "1 MB"},
            "thread_rate": "1 MB/s",
            "tasks": tasks,
        },
    }
    return yaml.safe_dump(with_units(data), sort_keys=False)


def run(text: str, **kw: Any) -> sim.RunResult:
    result = sim.simulate(sim.load_scenario_text(text), **kw)
    assert not result.truncated
    return result


@pytest.mark.parametrize("name", ALL)
def test_every_policy_completes_every_task(name: str) -> None:
    r = run(synthetic(name, threads=(1, 2, 1)))
    t = r.tasks
    assert len(t) == 300 and (t["status"] == "done").all()
    assert t["proxy"].notna().all()
    np.testing.assert_allclose(t["bytes_read"], t["work_bytes"], rtol=1e-9)
    again = run(synthetic(name, threads=(1, 2, 1)))
    assert again.tasks["proxy"].tolist() == t["proxy"].tolist()  # same seed, same decisions


def test_round_robin_strict_rotation_in_the_task_table() -> None:
    t = run(synthetic("round_robin")).tasks.sort_values("ready")
    assert t["proxy"].astype(str).tolist() == ["p0", "p1", "p2"] * 100


def test_weighted_round_robin_with_weights_in_the_scenario() -> None:
    policy = {"name": "weighted_round_robin", "params": {"weights": {"p0": 2, "p1": 1}}}
    t = run(synthetic(policy, threads=(2, 1))).tasks.sort_values("ready")
    assert t["proxy"].astype(str).tolist() == ["p0", "p1", "p0"] * 100


def test_policy_override_reaches_every_pool() -> None:
    r = run(synthetic("pull_fifo"), policy="round_robin")
    assert r.tasks.sort_values("ready")["proxy"].astype(str).tolist()[:6] == ["p0", "p1", "p2"] * 2


def backup(policy: str, days: int = 2, jobs: int = 1, threads: int = 2) -> str:
    """Exact, overhead-free backups of 30 mailboxes per job, every day at 00:00."""
    workloads = ("exchange", "onedrive", "sharepoint", "teams")
    types = ("mailbox", "archive_mailbox", "shared_mailbox", "onedrive", "site", "team")
    objects: dict[str, Any] = {t: {"count": 0} for t in types}
    objects["mailbox"] = {"count": 30, "mean_size": 2e6, "size_sigma": 1.0, "daily_change": 0.2}
    data = {
        "name": "bk",
        "seed": 5,
        "tenants": [{"name": f"t{j}", "users": 30, "objects": objects} for j in range(jobs)],
        "proxies": [{"name": f"p{i}", "threads": threads} for i in range(3)],
        "pools": [{"name": "pool", "members": ["p0", "p1", "p2"], "policy": policy}],
        "repositories": [{"name": "r", "owner": "pool", "write_bandwidth": 1e15, "put_rate": 1e15}],
        "jobs": [
            {
                "name": f"j{j}",
                "tenant": f"t{j}",
                "workloads": ["exchange"],
                "repository": "r",
                "schedule": {"daily": "00:00"},
            }
            for j in range(jobs)
        ],
        "calibration": {
            "thread_rate": dict.fromkeys(workloads, 1e6),
            "items_per_s": dict.fromkeys(workloads, 1e15),
            "object_overhead": dict.fromkeys(workloads, 0),
            "bps_per_core": 1e15,
            "resolve_base": 0,
            "resolve_per_object": 0,
            "resolve_cpu_per_object": 0,
            "metadata_cpu_per_object": 0,
            "metadata_ios_per_object": 0,
            "restore_point": 0,
        },
        "simulation": {"days": days},
    }
    return yaml.safe_dump(with_units(data), sort_keys=False)


def proxy_by_object(r: sim.RunResult) -> dict[int, list[str]]:
    t = r.tasks.sort_values(["session", "task"])
    out: dict[int, list[str]] = {}
    for obj, proxy in zip(t["object"], t["proxy"].astype(str), strict=True):
        out.setdefault(int(obj), []).append(proxy)
    return out


def test_sticky_hash_sends_an_object_to_the_same_proxy_every_session() -> None:
    r = run(backup("sticky_hash", days=3))
    assert (r.tasks["status"] == "done").all()
    assert r.tasks["full"].sum() == 30 and (~r.tasks["full"]).sum() == 60
    homes = proxy_by_object(r)
    assert len(homes) == 30
    assert all(len(v) == 3 and len(set(v)) == 1 for v in homes.values())
    assert len({v[0] for v in homes.values()}) == 3  # and the objects are spread
    # contrast: random dispatch moves objects between sessions
    moved = proxy_by_object(run(backup("random", days=3)))
    assert any(len(set(v)) > 1 for v in moved.values())


def test_job_affinity_puts_each_session_on_one_proxy() -> None:
    r = run(backup("job_affinity", days=2, jobs=2))
    t = r.tasks
    assert (t["status"] == "done").all()
    per_session = t.groupby("session", observed=True)["proxy"].nunique()
    assert (per_session == 1).all() and len(per_session) == 4
    first_day = t[t["session"].isin(t.groupby("job", observed=True)["session"].min())]
    assert first_day.groupby("job", observed=True)["proxy"].first().nunique() == 2


def test_pull_fair_jobs_alternates_between_jobs() -> None:
    text = backup("pull_fair_jobs", days=1, jobs=2, threads=1)
    t = run(text).tasks.sort_values(["start", "task"])
    jobs = t["job"].astype(str).tolist()
    # three threads take j0's first three tasks as they are submitted; then the rotation
    assert jobs[:3] == ["j0"] * 3
    assert jobs[3:] == ["j0", "j1"] * 27 + ["j1"] * 3
    fifo = run(backup("pull_fifo", days=1, jobs=2, threads=1)).tasks.sort_values(["start", "task"])
    assert fifo["job"].astype(str).tolist() == ["j0"] * 30 + ["j1"] * 30


@pytest.mark.parametrize("name", ["pull_largest_first", "pull_smallest_first"])
def test_pull_by_size_through_the_model(name: str) -> None:
    t = run(synthetic(name, threads=(1,), tasks=40, rate="100000/s")).tasks
    # all 40 arrive within a fraction of the first task's service: the first one starts at
    # once, the others wait and then start in size order
    t = t.sort_values("start")
    assert t["start"].is_unique
    rest = t["work_bytes"].to_numpy()[1:]
    order = np.diff(rest)
    assert (order <= 0).all() if name == "pull_largest_first" else (order >= 0).all()


# -- documentation ----------------------------------------------------------------------------


def _words(text: str) -> str:
    return " ".join(text.replace("``", "`").split())


def test_docs_hold_every_definition() -> None:
    text = _words((ROOT / "docs" / "policies.md").read_text(encoding="utf-8"))
    reg = available()
    for name in ALL:
        assert f"### `{name}`" in text
        assert _words(inspect.getdoc(reg[name]) or "") in text, f"{name}: docstring != docs"


def test_json_schema_ties_each_policy_to_its_params() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from sim.scenario.reference import json_schema, markdown_reference

    schema = json_schema()
    defs = schema["$defs"]
    assert defs["params.power_of_d"]["properties"]["d"]["minimum"] == 1
    assert defs["params.power_of_d"]["properties"]["d"]["default"] == 2
    named = {r["if"]["properties"]["name"]["const"] for r in defs["PolicySpec"]["allOf"]}
    assert named == set(available()) - {
        n for n, c in available().items() if "sim." not in c.__module__
    }
    md = markdown_reference()
    assert "## params.sticky_hash" in md and "| `vnodes` |" in md

    def check(policy: Any) -> list[str]:
        data = yaml.safe_load(
            "name: t\npools: [{name: a, members: [p], policy: x}]\nproxies: [{name: p}]\n"
        )
        data["pools"][0]["policy"] = policy
        validator = jsonschema.Draft202012Validator(schema)
        return [e.message for e in validator.iter_errors(data)]

    assert check({"name": "power_of_d", "params": {"d": 3}}) == []
    assert check({"name": "power_of_d", "params": {"d": 0}})
    assert check({"name": "power_of_d", "params": {"dd": 3}})
    assert check({"name": "jsq", "params": {"d": 3}})
    assert check({"name": "mypkg.mod:Mine", "params": {"anything": 1}}) == []


# -- hand-off: tasks taken off a member that left go before every queued task -------------------


@pytest.mark.parametrize("name", PULL)
def test_pull_push_front_serves_handed_off_tasks_first(name: str) -> None:
    # tasks 0-3 queued (jobs 0, 1, 0, 1; sizes 1-4); 10, 11 handed off, then 20 handed off
    view = FakeView()
    view.bytes = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0, 10: 0.5, 11: 9.0, 20: 5.0}
    view.job = {0: 0, 1: 1, 2: 0, 3: 1, 10: 1, 11: 0, 20: 0}
    pol = bound(name, view)
    for task in range(4):
        pol.push(task)
    pol.push_front([10, 11])
    pol.push_front([20])
    assert len(pol) == 7
    served = [pol.next_task(0, view) for _ in range(7)]
    # the later hand-off first, then the earlier one in its order, then the queue by the rule
    assert served[:3] == [20, 10, 11], served
    assert sorted(served[3:]) == [0, 1, 2, 3]
    assert pol.next_task(0, view) is None


def test_a_plug_in_pull_policy_without_push_front_gets_hand_offs_through_push() -> None:
    class Lifo(PullPolicy):
        def next_task(self, proxy: int, view: Any) -> int | None:
            return self._queue.pop() if self._queue else None

    pol = Lifo()
    pol.bind(FakeView(), np.random.default_rng(0))  # type: ignore[arg-type]
    pol.push(1)
    pol.push_front([7])
    assert [pol.next_task(0, FakeView()), pol.next_task(0, FakeView())] == [7, 1]
