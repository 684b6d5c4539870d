"""The read-only view of a pool that policies decide on, over a World (the definitions are
the ``PoolView`` Protocol in ``sim.policies.view``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.world import World


class WorldView:
    """The pool view over a running World: implements ``sim.policies.view.PoolView``, whose
    docstrings are the exact definitions of every number read here."""

    __slots__ = ("_world", "members")

    def __init__(self, world: World, members: list[int]) -> None:
        self._world = world
        self.members: tuple[int, ...] = tuple(members)
        """Proxy ids of the pool's members, in the order of the pool's ``members`` list."""

    def name(self, proxy: int) -> str:
        """The member's proxy name (as in the scenario; stable across runs)."""
        return self._world.proxies[proxy].name

    def queue_length(self, proxy: int) -> int:
        """Tasks waiting in the member's own queue (push pools; not those in service)."""
        return len(self._world.proxies[proxy].queue)

    def active(self, proxy: int) -> int:
        """Tasks in service on the member (busy threads)."""
        return self._world.proxies[proxy].busy

    def in_system(self, proxy: int) -> int:
        """Tasks in service plus tasks waiting in the member's own queue."""
        px = self._world.proxies[proxy]
        return px.busy + len(px.queue)

    def in_system_of(self, proxies: Sequence[int]) -> list[int]:
        """``in_system`` of each of ``proxies``, in their order (one call for a whole list)."""
        px = self._world.proxies
        return [(x := px[p]).busy + len(x.queue) for p in proxies]

    def queue_length_of(self, proxies: Sequence[int]) -> list[int]:
        """``queue_length`` of each of ``proxies``, in their order."""
        px = self._world.proxies
        return [len(px[p].queue) for p in proxies]

    def threads(self, proxy: int) -> int:
        """Thread slots of the member."""
        return self._world.proxies[proxy].threads

    def free_threads(self, proxy: int) -> int:
        """Thread slots of the member not serving a task."""
        px = self._world.proxies[proxy]
        return px.threads - px.busy

    def capacity(self, proxy: int) -> float:
        """Nominal processing rate of the member, bytes/s."""
        return self._world.proxies[proxy].capacity_bps

    def state(self, proxy: int) -> str:
        """Lifecycle state of the member."""
        return self._world.proxies[proxy].state

    def outstanding_bytes(self, proxy: int) -> float:
        """Remaining bytes of the member's queued and in-service tasks (progress subtracted)."""
        return self._world.outstanding_bytes(proxy)

    def outstanding_bytes_of(self, proxies: Sequence[int]) -> list[float]:
        """``outstanding_bytes`` of each of ``proxies``, in their order."""
        return self._world.outstanding_bytes_of(proxies)

    def task_bytes(self, task: int) -> float:
        """Bytes the task has to read."""
        return float(self._world.tasks.work_bytes[task])

    def task_job(self, task: int) -> int:
        """Index of the task's job (0 in synthetic mode)."""
        return int(self._world.tasks.job[task])

    def task_session(self, task: int) -> int:
        """Index of the task's job session (unique over the run)."""
        return int(self._world.tasks.session[task])

    def task_object(self, task: int) -> int:
        """Global index of the task's object (stable across sessions)."""
        return int(self._world.tasks.object[task])

    @property
    def now(self) -> float:
        """Simulated time, seconds."""
        return float(self._world.env.now)


PoolView = WorldView
"""The name world.py builds views by, and plug-ins written before the Protocol moved import
(``from sim.model.view import PoolView``); new code annotates with ``sim.policies.PoolView``."""
