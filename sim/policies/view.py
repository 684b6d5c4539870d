"""The read-only view of a pool that policies decide on: a ``typing.Protocol``.

Policies depend on this definition only; the model implements it (``sim.model.view``), and a test
or a notebook can hand a policy any object with these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class PoolView(Protocol):
    """What a policy may look at, read at the instant of the decision.

    Definitions (exact), for a member ``p``:

    - ``queue_length(p)``: tasks assigned to ``p`` and waiting for one of its threads, NOT those
      in service. Only push pools have member queues; in a pull pool it is always 0 (waiting
      tasks are in the pool's shared queue, which the pull policy owns).
    - ``active(p)``: tasks in service on ``p`` (busy threads, including tasks still in their
      per-object overhead).
    - ``in_system(p)`` = ``active(p) + queue_length(p)``: every task at the member.
    - ``free_threads(p)`` = ``threads(p) - active(p)``.
    - ``outstanding_bytes(p)``: the remaining work of the member's queued and in-service tasks,
      with the progress of in-service transfers subtracted.
    - ``capacity(p)``: nominal processing rate, bytes/s (cores x per-core rate x OS efficiency,
      or ``processing_rate``; threads x thread rate in synthetic 'threads' mode).
    - ``state(p)``: lifecycle state; candidates passed to a policy are always ``active``.

    ``in_system_of``, ``queue_length_of`` and ``outstanding_bytes_of`` give the same numbers
    for a list of members in one call (the fast path of policies that scan every candidate).
    """

    members: tuple[int, ...]
    """Proxy ids of the pool's members, in the order of the pool's ``members`` list (the model
    replaces it when a lifecycle request adds or removes a member, then calls the policy's
    ``members_changed``)."""

    def name(self, proxy: int) -> str:
        """The member's proxy name (as in the scenario; stable across runs)."""
        ...

    def queue_length(self, proxy: int) -> int:
        """Tasks waiting in the member's own queue (push pools; not those in service)."""
        ...

    def active(self, proxy: int) -> int:
        """Tasks in service on the member (busy threads)."""
        ...

    def in_system(self, proxy: int) -> int:
        """Tasks in service plus tasks waiting in the member's own queue."""
        ...

    def in_system_of(self, proxies: Sequence[int]) -> list[int]:
        """``in_system`` of each of ``proxies``, in their order (one call for a whole list)."""
        ...

    def queue_length_of(self, proxies: Sequence[int]) -> list[int]:
        """``queue_length`` of each of ``proxies``, in their order."""
        ...

    def threads(self, proxy: int) -> int:
        """Thread slots of the member."""
        ...

    def free_threads(self, proxy: int) -> int:
        """Thread slots of the member not serving a task."""
        ...

    def capacity(self, proxy: int) -> float:
        """Nominal processing rate of the member, bytes/s."""
        ...

    def state(self, proxy: int) -> str:
        """Lifecycle state of the member."""
        ...

    def outstanding_bytes(self, proxy: int) -> float:
        """Remaining bytes of the member's queued and in-service tasks (progress subtracted)."""
        ...

    def outstanding_bytes_of(self, proxies: Sequence[int]) -> list[float]:
        """``outstanding_bytes`` of each of ``proxies``, in their order."""
        ...

    def task_bytes(self, task: int) -> float:
        """Bytes the task has to read."""
        ...

    def task_job(self, task: int) -> int:
        """Index of the task's job (0 in synthetic mode)."""
        ...

    def task_session(self, task: int) -> int:
        """Index of the task's job session (unique over the run)."""
        ...

    def task_object(self, task: int) -> int:
        """Global index of the task's object (stable across sessions)."""
        ...

    @property
    def now(self) -> float:
        """Simulated time, seconds."""
        ...
