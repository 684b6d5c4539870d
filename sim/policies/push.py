"""Built-in push policies that look at the members only: rotations, random choices and
shortest-queue / least-loaded rules. Each docstring is the policy's exact definition.

Terms used in the definitions (see ``sim.policies.view.PoolView``): *candidates* are the members
that can take work (state ``active``), passed in member order and never empty; a member's
*tasks in system* are its tasks in service plus the tasks waiting in its own queue; *waiting*
tasks are only the latter. "At random" means one uniform draw from the pool's policy stream
(``Policy.uniform``), made only when there is more than one choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from sim.policies.base import PolicyParams, PushPolicy
from sim.policies.registry import PolicyError, register
from sim.policies.view import PoolView


def least_at_random(policy: PushPolicy, candidates: Sequence[int], values: list[Any]) -> int:
    """The candidate with the smallest value (``values[i]`` is that of ``candidates[i]``); ties
    uniformly at random: one draw picks among the tied candidates in the given order."""
    best = min(values)
    ties = values.count(best)
    i = values.index(best)
    if ties > 1:
        for _ in range(int(policy.uniform() * ties)):
            i = values.index(best, i + 1)
    return candidates[i]


@register
class Random(PushPolicy):
    """A candidate chosen uniformly at random.

    Load is not looked at. One draw per task (none when there is a single candidate).
    """

    name = "random"
    summary = "uniformly random candidate"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return self.pick(candidates)


@register
class RoundRobin(PushPolicy):
    """Strict rotation over the pool's members in member order.

    A pointer remembers the last member chosen; each task goes to the next member after it (in
    the order of the pool's ``members`` list, wrapping around) that can take work. Members that
    cannot take work (maintenance, failed, inactive) are skipped without losing their turn order.
    The load of members is not looked at.
    """

    name = "round_robin"
    summary = "strict rotation over the members that can take work"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._last = -1

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        members = view.members
        n = len(members)
        if len(candidates) == n:  # every member can take work: the next one
            self._last = k = (self._last + 1) % n
            return members[k]
        allowed = set(candidates)
        for step in range(1, n + 1):
            k = (self._last + step) % n
            if members[k] in allowed:
                self._last = k
                return members[k]
        raise RuntimeError("no candidate")


Weight = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class WeightsParams(PolicyParams):
    """Parameters of the weighted policies."""

    weights: dict[str, Weight] | None = Field(
        None,
        description="Weight of every member by proxy name (each > 0); default: the member's"
        " capacity (view.capacity).",
    )


class _Weighted(PushPolicy):
    """Weights: member capacity (``view.capacity``), or ``weights: {proxy name: weight}``."""

    Params = WeightsParams
    params: WeightsParams

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.weights = self.params.weights
        self._fixed: dict[int, float] | None = None

    def check_members(self, members: Sequence[str]) -> None:
        if self.weights is None:
            return
        unknown = sorted(set(self.weights) - set(members))
        missing = [m for m in members if m not in self.weights]
        if unknown:
            raise PolicyError(f"weights name proxies that are not members: {', '.join(unknown)}")
        if missing:
            raise PolicyError(f"weights must give every member a weight; missing: {missing}")

    def members_changed(self) -> None:
        super().members_changed()
        view = self.view
        if self.weights is not None:
            self._fixed = {p: float(self.weights[view.name(p)]) for p in view.members}

    def weight(self, proxy: int, view: PoolView) -> float:
        """The member's weight now (capacity can change during a run)."""
        fixed = self._fixed
        return fixed[proxy] if fixed is not None else view.capacity(proxy)


@register
class WeightedRoundRobin(_Weighted):
    """Smooth weighted round robin (the nginx algorithm) over the candidates.

    Each member keeps a current weight, 0 at the start. For each task, every candidate's
    current weight grows by its weight; the candidate with the largest current weight is chosen
    (ties: first in member order) and its current weight drops by the sum of the candidates'
    weights. Members that cannot take work keep their current weight unchanged. Over any
    stretch where the candidates stay the same, each gets tasks in proportion to its weight,
    spread out rather than in bursts (weights 5, 1, 1 give a a b a c a a). Weight = the member's
    capacity (``view.capacity``), or the ``weights`` parameter ``{proxy name: weight > 0}``,
    which must name every member. Load is not looked at.
    """

    name = "weighted_round_robin"
    summary = "smooth weighted rotation; weight = capacity or the 'weights' parameter"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._current: dict[int, float] = {}

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        current = self._current
        fixed = self._fixed
        capacity = view.capacity
        total = 0.0
        best = candidates[0]
        best_cw = -math.inf
        for p in candidates:
            w = fixed[p] if fixed is not None else capacity(p)
            cw = current.get(p, 0.0) + w
            current[p] = cw
            total += w
            if cw > best_cw:
                best, best_cw = p, cw
        current[best] = best_cw - total
        return best


@register
class WeightedRandom(_Weighted):
    """A candidate chosen at random with probability weight / (sum of the candidates' weights).

    One draw u per task (none for a single candidate): the first candidate in member order whose
    cumulative weight exceeds u x total. Weight = the member's capacity (``view.capacity``), or
    the ``weights`` parameter ``{proxy name: weight > 0}``, which must name every member. Load
    is not looked at.
    """

    name = "weighted_random"
    summary = "random candidate, probability proportional to capacity or 'weights'"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        if len(candidates) == 1:
            return candidates[0]
        weights = [self.weight(p, view) for p in candidates]
        target = self.uniform() * sum(weights)
        acc = 0.0
        for p, w in zip(candidates, weights, strict=True):
            acc += w
            if acc > target:
                return p
        return candidates[-1]  # u x total rounded up to the total


@register
class JoinShortestQueue(PushPolicy):
    """Join the shortest queue, where a member's queue counts its tasks in system: tasks in
    service (busy threads) PLUS tasks waiting in its own queue (``view.in_system``).

    The candidate with the fewest tasks in system; ties uniformly at random. Compare
    ``jsq_waiting``, which counts waiting tasks only: while members have free threads their
    waiting queues are all empty, so ``jsq_waiting`` then chooses at random among them, whereas
    ``jsq`` fills the least busy member first; ``jsq_waiting`` treats a busy member with
    nothing waiting like an idle one.
    """

    name = "jsq"
    summary = "fewest tasks in service + waiting; ties at random"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return least_at_random(self, candidates, view.in_system_of(candidates))


@register
class JoinShortestWaitingQueue(PushPolicy):
    """Join the shortest waiting queue: the candidate with the fewest tasks waiting in its own
    queue (``view.queue_length``), tasks in service NOT counted; ties uniformly at random.

    A member with a free thread starts a task at once, so its waiting queue is empty; as long
    as any member has a free thread this picks at random among the members with empty queues,
    busy or not. See ``jsq`` for the count that includes tasks in service.
    """

    name = "jsq_waiting"
    summary = "fewest tasks waiting (in service not counted); ties at random"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return least_at_random(self, candidates, view.queue_length_of(candidates))


@register
class PowerOfD(PushPolicy):
    """Power of d choices, JSQ(d): sample ``d`` candidates uniformly at random (parameter
    ``d``, default 2) and send the task to the sampled one with the fewest tasks in system
    (in service + waiting, ``view.in_system``); ties uniformly at random among the distinct
    tied members, in sampling order.

    ``replace: false`` (default) samples without replacement: d distinct candidates (all of
    them, with no draw, when d >= the number of candidates: then this is ``jsq``).
    ``replace: true`` samples d times with replacement, so a member can be sampled twice and
    fewer than d distinct members compared. Draws per task: d (fewer without replacement when
    candidates are few), plus one on a tie.
    """

    name = "power_of_d"
    summary = "sample d candidates (d=2), fewest tasks in service + waiting; ties at random"

    class Params(PolicyParams):
        d: int = Field(2, ge=1, description="Candidates sampled per task.")
        replace: bool = Field(
            False, description="Sample with replacement (a member can be sampled twice)."
        )

    params: Params

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.d = self.params.d
        self.replace = self.params.replace

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        k = len(candidates)
        d = self.d
        uniform = self.uniform
        if self.replace:
            sample = list(dict.fromkeys(candidates[int(uniform() * k)] for _ in range(d)))
        elif d >= k:
            sample = list(candidates)
        else:
            # sequential sampling without replacement: draw among the k - t unchosen positions
            # and map the draw past the positions already chosen
            chosen: list[int] = []
            for t in range(d):
                r = int(uniform() * (k - t))
                for c in sorted(chosen):
                    if r >= c:
                        r += 1
                chosen.append(r)
            sample = [candidates[i] for i in chosen]
        return least_at_random(self, sample, view.in_system_of(sample))


@register
class JoinIdleQueue(PushPolicy):
    """Join the idle queue: a candidate chosen uniformly at random among the idle ones, a
    member being idle when it has a free thread and nothing waiting in its own queue; when no
    candidate is idle, a candidate chosen uniformly at random.

    (Lu et al., "Join-Idle-Queue", Performance Evaluation 68, 2011; here the dispatcher sees
    the idle members directly instead of through idle reports.)
    """

    name = "jiq"
    summary = "random idle member (free thread, none waiting), else random candidate"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        free, waiting = view.free_threads, view.queue_length
        idle = [p for p in candidates if free(p) > 0 and waiting(p) == 0]
        return self.pick(idle if idle else candidates)


@register
class LeastWorkLeft(PushPolicy):
    """The candidate with the least outstanding work: ``view.outstanding_bytes``, the bytes of
    its waiting and in-service tasks with the progress of running transfers subtracted (a task
    in its per-object overhead counts in full). Ties uniformly at random.
    """

    name = "least_work_left"
    summary = "fewest outstanding bytes (progress subtracted); ties at random"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return least_at_random(self, candidates, view.outstanding_bytes_of(candidates))


@register
class LeastActiveThreads(PushPolicy):
    """The member with the fewest busy threads (tasks in service, queued tasks not counted).

    Ties go to the member with the fewest queued tasks, then to the earliest in member order.
    Once every thread of every member is busy this is join-the-shortest-queue.
    """

    name = "least_active_threads"
    summary = "fewest busy threads; ties by fewest queued, then member order"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return min(candidates, key=lambda p: (view.active(p), view.queue_length(p)))


@register
class LeastLoadedCapacity(PushPolicy):
    """The candidate with the least outstanding work per unit of capacity:
    ``view.outstanding_bytes(p) / view.capacity(p)`` (seconds of work at its nominal rate).
    Ties go to the earliest in member order.
    """

    name = "least_loaded_capacity"
    summary = "fewest outstanding bytes / capacity; ties by member order"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        work, cap = view.outstanding_bytes, view.capacity
        return min(candidates, key=lambda p: work(p) / cap(p))
