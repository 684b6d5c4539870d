"""A proxy pool: members, their distribution policy and, for pull policies, idle threads."""

from __future__ import annotations

from collections import deque

from sim.policies.base import Policy, PullPolicy


class Pool:
    """A set of proxies sharing work under one policy."""

    __slots__ = ("idle", "idx", "members", "name", "policy", "pull")

    def __init__(self, idx: int, name: str, members: list[int], policy: Policy) -> None:
        self.idx = idx
        self.name = name
        self.members = members
        self.policy = policy
        self.idle: deque[int] = deque()
        """Free threads of a pull pool, longest idle first (one entry per thread)."""
        self.pull: PullPolicy | None = policy if isinstance(policy, PullPolicy) else None
        """The pull policy, or None for push policies (looked up once: it is on the hot path)."""
