"""Built-in push policies with affinity: an object, or a job session, keeps going to the same
member. Each docstring is the policy's exact definition."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from hashlib import blake2b
from typing import Any

from pydantic import Field

from sim.policies.base import PolicyParams, PushPolicy
from sim.policies.registry import register
from sim.policies.view import PoolView


def hash64(text: str) -> int:
    """A deterministic 64-bit hash: BLAKE2b with an 8-byte digest, read little-endian.

    (Python's ``hash()`` of a str is salted per process, so it is never used.)
    """
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little")


@register
class StickyHash(PushPolicy):
    """Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, "Consistent
    Hashing with Bounded Loads", SODA 2018) of objects onto members.

    The ring: every member has ``vnodes`` points (default 100) at ``hash64(f"{name}#{i}")``,
    i = 0..vnodes-1, of its proxy name. A task's key is ``hash64(str(view.task_object(task)))``,
    the global object index (the same in every session of a run and in every run of the same
    scenario), so an object goes to the same member in every session while loads allow
    (incrementals return to the proxy that did the full). The task goes to the
    first point clockwise from its key (the first point > key, wrapping around) whose member is
    a candidate and not full. Bound: with m = 1 + the tasks in system (in service + waiting) of
    all candidates, and n candidates, a member is full when its tasks in system are >=
    ceil(``load_factor`` x m / n) (default 1.25, must be >= 1), i.e. when taking the task would
    put it above the bound. Some candidate is always below the bound. Points are ordered by
    hash, then member order. Names rather than positions are hashed, so adding or removing a
    member moves only the objects whose points change. No random draws.
    """

    name = "sticky_hash"
    summary = "consistent hash of the object onto a ring of members, bounded load (x1.25)"

    class Params(PolicyParams):
        load_factor: float = Field(
            1.25,
            ge=1.0,
            allow_inf_nan=False,
            description="Bound on a member's tasks in system, as a multiple of the mean (>= 1).",
        )
        vnodes: int = Field(100, ge=1, le=10_000, description="Points per member on the ring.")

    params: Params

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.load_factor = float(self.params.load_factor)
        self.vnodes = self.params.vnodes
        self._points: list[int] = []
        self._owners: list[int] = []

    def members_changed(self) -> None:
        super().members_changed()
        view = self.view
        ring = sorted(
            (hash64(f"{view.name(p)}#{i}"), k, p)
            for k, p in enumerate(view.members)
            for i in range(self.vnodes)
        )
        self._points = [h for h, _, _ in ring]
        self._owners = [p for _, _, p in ring]

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        load = view.in_system
        n = len(candidates)
        total = sum(view.in_system_of(candidates))
        bound = math.ceil(self.load_factor * (total + 1) / n)
        allowed = None if n == len(view.members) else set(candidates)
        owners = self._owners
        size = len(owners)
        start = bisect_right(self._points, hash64(str(view.task_object(task))))
        rejected: set[int] | None = None
        for step in range(size):
            p = owners[(start + step) % size]
            if rejected is not None and p in rejected:
                continue
            if (allowed is None or p in allowed) and load(p) < bound:
                return p
            if rejected is None:
                rejected = {p}
            else:
                rejected.add(p)
        raise RuntimeError("no member below the load bound")  # impossible for load_factor >= 1


@register
class JobAffinity(PushPolicy):
    """Whole-job affinity: every task of a job session goes to one member.

    The first task of a session (``view.task_session``) goes to the candidate with the least
    outstanding bytes (``view.outstanding_bytes``; ties by member order), which becomes the
    session's member. Later tasks of the session go to that member while it is a candidate;
    when it is not, the task picks again by the same rule and the new member becomes the
    session's member. Sessions of a job pick afresh. No random draws.
    """

    name = "job_affinity"
    summary = "all tasks of a job session to one member (least outstanding bytes at start)"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._home: dict[int, int] = {}

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        session = view.task_session(task)
        home = self._home.get(session)
        if home is not None and home in candidates:
            return home
        home = min(candidates, key=view.outstanding_bytes)
        self._home[session] = home
        return home
