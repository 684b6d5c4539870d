"""Built-in pull policies: the pool keeps one shared queue and a member's free thread takes the
task the policy returns. Each docstring is the policy's exact definition.

Common to all of them (the world's side, ``World._serve_pull``): when tasks wait for threads,
the thread idle longest takes the next task; at the start, free threads are interleaved across
members so a burst spreads evenly. Which member asks does not change the task it gets.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from typing import Any

from sim.policies.base import Policy, PullPolicy
from sim.policies.registry import register
from sim.policies.view import PoolView

_BATCH = 1 << 32
"""Room for the tasks of one hand-off in the keyed queue's order numbers."""


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


class _KeyedPull(PullPolicy):
    """A shared queue kept as a heap of (key, arrival number, task): smallest key first, then
    first come, first served."""

    def __init__(self, **params: Any) -> None:
        Policy.__init__(self, **params)  # the heap replaces PullPolicy's deque
        self._heap: list[tuple[float, int, int]] = []
        self._seq = 0
        self._front = 0

    def key(self, task: int) -> float:
        """The task's priority key (smaller is served first)."""
        raise NotImplementedError

    def push(self, task: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self.key(task), self._seq, task))

    def push_front(self, tasks: Sequence[int]) -> None:
        """Handed-off tasks go before every queued one (key minus infinity); a later hand-off
        before an earlier one still waiting, each in the given order (``PullPolicy``)."""
        self._front -= 1
        for k, task in enumerate(tasks):
            heapq.heappush(self._heap, (-math.inf, self._front * _BATCH + k, task))

    def __len__(self) -> int:
        return len(self._heap)

    def next_task(self, proxy: int, view: PoolView) -> int | None:
        return heapq.heappop(self._heap)[2] if self._heap else None

    def drain(self) -> list[int]:
        out = [task for _, _, task in sorted(self._heap, key=lambda e: e[1])]  # arrival order
        self._heap.clear()
        return out


@register
class PullLargestFirst(_KeyedPull):
    """A shared pool queue served largest task first: the waiting task with the most bytes
    (``view.task_bytes``, read when the task is queued); ties first come, first served.

    Longest-processing-time-first: big objects start early, so they do not finish last and
    stretch the session.
    """

    name = "pull_largest_first"
    summary = "shared pool queue, most bytes first; ties oldest first"

    def key(self, task: int) -> float:
        return -self.view.task_bytes(task)


@register
class PullSmallestFirst(_KeyedPull):
    """A shared pool queue served smallest task first: the waiting task with the fewest bytes
    (``view.task_bytes``, read when the task is queued); ties first come, first served.

    Shortest-job-first: minimises the mean wait, at the risk of starving big objects while
    small ones keep arriving.
    """

    name = "pull_smallest_first"
    summary = "shared pool queue, fewest bytes first; ties oldest first"

    def key(self, task: int) -> float:
        return self.view.task_bytes(task)


@register
class PullFairJobs(PullPolicy):
    """A shared pool queue served round robin across jobs, first come, first served within a
    job.

    Each job (``view.task_job``) with waiting tasks has its own FIFO queue; the jobs with
    waiting tasks form a rotation. A free thread takes the oldest task of the job at the head
    of the rotation, and that job moves to the back (or leaves the rotation when it has no task
    left). A job that gets a task while it is out of the rotation joins at the back.
    ``drain`` returns the tasks job by job in rotation order, so pushing them again rebuilds
    the same queue.
    """

    name = "pull_fair_jobs"
    summary = "shared pool queue, round robin across jobs, oldest first within a job"

    def __init__(self, **params: Any) -> None:
        Policy.__init__(self, **params)  # the per-job queues replace PullPolicy's deque
        self._jobs: dict[int, deque[int]] = {}
        self._turn: deque[int] = deque()
        self._n = 0

    def push(self, task: int) -> None:
        job = self.view.task_job(task)
        q = self._jobs.get(job)
        if q is None:
            self._jobs[job] = q = deque()
            self._turn.append(job)
        q.append(task)
        self._n += 1

    def push_front(self, tasks: Sequence[int]) -> None:
        """Handed-off tasks go before every queued one: each at the head of its job's queue
        (in the given order), and those jobs to the head of the rotation (``PullPolicy``)."""
        by_job: dict[int, list[int]] = {}
        for task in tasks:
            by_job.setdefault(self.view.task_job(task), []).append(task)
        for job in reversed(list(by_job)):
            q = self._jobs.get(job)
            if q is None:
                self._jobs[job] = q = deque()
            else:
                self._turn.remove(job)
            q.extendleft(reversed(by_job[job]))
            self._turn.appendleft(job)
            self._n += len(by_job[job])

    def __len__(self) -> int:
        return self._n

    def next_task(self, proxy: int, view: PoolView) -> int | None:
        if not self._n:
            return None
        job = self._turn.popleft()
        q = self._jobs[job]
        task = q.popleft()
        if q:
            self._turn.append(job)
        else:
            del self._jobs[job]
        self._n -= 1
        return task

    def drain(self) -> list[int]:
        out = [task for job in self._turn for task in self._jobs[job]]
        self._jobs.clear()
        self._turn.clear()
        self._n = 0
        return out
