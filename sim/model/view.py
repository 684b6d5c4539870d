"""The read-only view of a pool that policies decide on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.world import World


class PoolView:
    """What a policy may look at, read at the instant of the decision.

    Definitions (exact): ``queue_length`` counts tasks assigned to the member and waiting for a
    thread, NOT those in service; ``active`` counts tasks in service (busy threads, including the
    per-object overhead); ``outstanding_bytes`` is the remaining work of queued and in-service
    tasks, with the progress of in-service transfers subtracted.
    """

    __slots__ = ("_world", "members")

    def __init__(self, world: World, members: list[int]) -> None:
        self._world = world
        self.members: tuple[int, ...] = tuple(members)

    def queue_length(self, proxy: int) -> int:
        """Tasks waiting in the member's own queue (push policies only)."""
        return len(self._world.proxies[proxy].queue)

    def active(self, proxy: int) -> int:
        """Tasks in service on the member (busy threads)."""
        return self._world.proxies[proxy].busy

    def threads(self, proxy: int) -> int:
        """Thread slots of the member."""
        return self._world.proxies[proxy].threads

    def capacity(self, proxy: int) -> float:
        """Nominal processing rate of the member, bytes/s."""
        return self._world.proxies[proxy].capacity_bps

    def state(self, proxy: int) -> str:
        """Lifecycle state of the member."""
        return self._world.proxies[proxy].state

    def outstanding_bytes(self, proxy: int) -> float:
        """Remaining bytes of the member's queued and in-service tasks."""
        return self._world.outstanding_bytes(proxy)

    def task_bytes(self, task: int) -> float:
        """Bytes the task has to read."""
        return float(self._world.tasks.work_bytes[task])

    def task_job(self, task: int) -> int:
        """Index of the task's job."""
        return int(self._world.tasks.job[task])

    def task_object(self, task: int) -> int:
        """Global index of the task's object (stable across sessions)."""
        return int(self._world.tasks.object[task])

    @property
    def now(self) -> float:
        """Simulated time, seconds."""
        return float(self._world.env.now)
