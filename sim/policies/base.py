"""The policy interface: push policies choose a proxy, pull policies choose a task.

A policy is a small class with one decision method. Push policies implement ``select`` and the
chosen member keeps a FIFO queue of its own. Pull policies own the pool's shared queue: ``push``
adds a ready task, and ``next_task`` hands a task to a member whose thread just came free.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from sim.model.view import PoolView


class Policy:
    """Base of every policy. ``name`` is the registry key; ``kind`` is push or pull."""

    name: ClassVar[str] = ""
    kind: ClassVar[Literal["push", "pull"]] = "push"
    summary: ClassVar[str] = ""

    def bind(self, view: PoolView, rng: np.random.Generator) -> None:
        """Called once when the pool is built; keeps the view and the policy's random stream."""
        self.view = view
        self.rng = rng


class PushPolicy(Policy):
    """Chooses the member a ready task is sent to."""

    kind: ClassVar[Literal["push", "pull"]] = "push"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        """Return one of ``candidates`` (proxy ids of members that can take work, in member
        order) for ``task``."""
        raise NotImplementedError


class PullPolicy(Policy):
    """Owns the pool's shared work queue; FIFO unless a subclass says otherwise."""

    kind: ClassVar[Literal["push", "pull"]] = "pull"

    def __init__(self) -> None:
        self._queue: deque[int] = deque()

    def push(self, task: int) -> None:
        """A task became ready (or was handed back to the pool)."""
        self._queue.append(task)

    def __len__(self) -> int:
        return len(self._queue)

    def next_task(self, proxy: int, view: PoolView) -> int | None:
        """The task ``proxy`` takes on its free thread, or None if it should stay idle."""
        return self._queue.popleft() if self._queue else None

    def drain(self) -> list[int]:
        """Remove and return every queued task (used when a session is stopped)."""
        out = list(self._queue)
        self._queue.clear()
        return out
