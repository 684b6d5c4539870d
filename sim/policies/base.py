"""The policy interface: push policies choose a proxy, pull policies choose a task.

A policy is a small class with one decision method. Push policies implement ``select`` and the
chosen member keeps a FIFO queue of its own. Pull policies own the pool's shared queue: ``push``
adds a ready task, and ``next_task`` hands a task to a member whose thread just came free.

Parameters of a policy (the scenario's ``policy: {name: ..., params: {...}}``) are declared as
a pydantic model, the class's ``Params``: typed, with defaults and descriptions, unknown names
refused. ``Policy.__init__`` validates the keyword arguments into ``self.params``; the JSON Schema
and ``poolsim policies`` list each policy's ``Params``. ``bind`` is called once when the pool is
built.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from sim.policies.view import PoolView

if TYPE_CHECKING:
    import numpy as np  # only the Generator type: validating a scenario does not load numpy

T = TypeVar("T")

_UNIFORM_BLOCK = 1024
"""Uniforms drawn from the policy's stream at a time (one numpy call per block, not per task)."""


class PolicyParams(BaseModel):
    """Base of a policy's ``Params``: no parameters. Values are strict (an integer parameter
    refuses 2.5, "2" and true), unknown names are refused, and a validated set is frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Policy:
    """Base of every policy. ``name`` is the registry key; ``kind`` is push or pull.

    ``Params`` is the model of the policy's parameters (none by default); a subclass that keeps
    state of its own extends ``__init__(self, **params)`` and calls ``super().__init__(**params)``
    first. A plug-in written without a ``Params`` may take keyword arguments in its own
    ``__init__`` instead, which then checks them itself.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[Literal["push", "pull"]] = "push"
    summary: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams

    params: PolicyParams
    view: PoolView
    rng: np.random.Generator

    def __init__(self, **params: Any) -> None:
        """Validate ``params`` into ``self.params`` (a pydantic ValidationError if they do not
        fit ``Params``; ``make_policy`` turns it into a PolicyError at ``params.<name>``)."""
        self.params = self.Params(**params)

    def bind(self, view: PoolView, rng: np.random.Generator) -> None:
        """Called once when the pool is built; keeps the view and the policy's random stream."""
        self.view = view
        self.rng = rng
        self._ubuf: list[float] = []
        self._upos = 0
        self.members_changed()

    def members_changed(self) -> None:
        """Called at bind and whenever the pool's membership changes (a proxy added or removed,
        ``view.members`` already updated). Policies that precompute per-member state rebuild it
        here; the default checks the members."""
        self.check_members([self.view.name(p) for p in self.view.members])

    def check_members(self, members: Sequence[str]) -> None:
        """Raise PolicyError if the policy cannot serve a pool with these member names.

        Called at scenario validation and when the pool is built; the default accepts any pool.
        """

    def uniform(self) -> float:
        """The next uniform draw in [0, 1) from ``rng``, taken in blocks of 1024.

        The sequence is exactly ``rng.random(1024)``, then the next 1024, and so on, so a policy
        is deterministic for a seed however its draws are interleaved.
        """
        pos = self._upos
        if pos >= len(self._ubuf):
            self._ubuf = self.rng.random(_UNIFORM_BLOCK).tolist()
            pos = 0
        self._upos = pos + 1
        return self._ubuf[pos]

    def pick(self, items: Sequence[T]) -> T:
        """One of ``items`` uniformly at random (one draw; none when there is only one)."""
        n = len(items)
        if n == 1:
            return items[0]
        return items[int(self.uniform() * n)]


class PushPolicy(Policy):
    """Chooses the member a ready task is sent to."""

    kind: ClassVar[Literal["push", "pull"]] = "push"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        """Return one of ``candidates`` (proxy ids of members that can take work, in member
        order; never empty) for ``task``."""
        raise NotImplementedError


class PullPolicy(Policy):
    """Owns the pool's shared work queue; FIFO unless a subclass says otherwise.

    A subclass keeps ``push``, ``next_task``, ``__len__`` and ``drain`` consistent: every task
    pushed is returned exactly once, by ``next_task`` or by ``drain``. ``drain`` returns tasks
    in an order that, pushed again, rebuilds the same queue (the world re-pushes the tasks it
    keeps when it stops a session).
    """

    kind: ClassVar[Literal["push", "pull"]] = "pull"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._queue: deque[int] = deque()

    def push(self, task: int) -> None:
        """A task became ready (or was handed back to the pool)."""
        self._queue.append(task)

    def push_front(self, tasks: Sequence[int]) -> None:
        """Tasks handed off by a member that left (``lifecycle.in_flight: handoff``): they are
        served before every task already queued, in the given order (a later hand-off goes
        ahead of an earlier one still waiting).

        The plain FIFO puts them at the head of its queue; the built-in keyed and fair-jobs
        queues override this. A plug-in that changes ``push`` or ``next_task`` without
        overriding ``push_front`` gets them through ``push``, in its own order.
        """
        if self.fifo_queue() is not None:
            self._queue.extendleft(reversed(tasks))
            return
        for task in tasks:
            self.push(task)

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

    def fifo_queue(self) -> deque[int] | None:
        """The queue itself if this policy is this class's plain FIFO (none of ``push``,
        ``next_task``, ``__len__`` and ``drain`` overridden), else None.

        ``append`` on it is ``push``, ``popleft`` is ``next_task`` for any member, and its
        length is ``len(policy)``: the world's hot path uses it without the method calls.
        """
        cls = type(self)
        plain = all(
            getattr(cls, name) is getattr(PullPolicy, name)
            for name in ("push", "next_task", "__len__", "drain")
        )
        return self._queue if plain else None
