"""The built-in policies. Each docstring is the policy's exact definition."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.policies.base import PullPolicy, PushPolicy
from sim.policies.registry import register

if TYPE_CHECKING:
    from sim.model.view import PoolView


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

    def __init__(self) -> None:
        self._last = -1

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        members = view.members
        n = len(members)
        allowed = set(candidates)
        for step in range(1, n + 1):
            k = (self._last + step) % n
            if members[k] in allowed:
                self._last = k
                return members[k]
        raise RuntimeError("no candidate")


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
class PullFifo(PullPolicy):
    """A shared pool work queue served first come, first served.

    Ready tasks wait in one queue per pool. A member whose thread comes free takes the oldest
    task. When tasks wait for threads, the thread that has been idle longest gets the next task
    (the way pull consumers of a message broker are served in request order); at the start, free
    threads are interleaved across members so a burst spreads evenly.
    """

    name = "pull_fifo"
    summary = "shared pool queue, oldest task first, longest-idle thread first"
