"""A proxy pool: members, their distribution policy and, for pull policies, idle threads."""

from __future__ import annotations

from collections import deque

from sim.policies.base import Policy, PullPolicy


class Pool:
    """A set of proxies sharing work under one policy."""

    __slots__ = (
        "deleted",
        "fifo",
        "handed_off",
        "idle",
        "idx",
        "members",
        "name",
        "parked",
        "paused",
        "policy",
        "pull",
        "role_pending",
        "roles",
        "scheduler_waiters",
    )

    def __init__(self, idx: int, name: str, members: list[int], policy: Policy) -> None:
        self.idx = idx
        self.name = name
        self.members = members
        self.policy = policy
        self.idle: deque[int] = deque()
        """Free threads of a pull pool, longest idle first (one entry per thread)."""
        self.pull: PullPolicy | None = policy if isinstance(policy, PullPolicy) else None
        """The pull policy, or None for push policies (looked up once: it is on the hot path)."""
        self.fifo: deque[int] | None = self.pull.fifo_queue() if self.pull is not None else None
        """The pull policy's queue when it is a plain FIFO (``PullPolicy.fifo_queue``): the
        world appends and pops it directly."""
        self.parked: deque[int] = deque()
        """Tasks of a push pool that found no active member (or no orchestrator); they are
        submitted again when one comes back."""
        self.handed_off: set[int] = set()
        """Parked tasks that were handed off by a member that left: when the pool resumes they
        go to the head of the chosen member's queue again (``World.unpark``), not its tail."""
        self.paused = False
        """No Orchestrator: no new object starts in the pool (running ones go on)."""
        self.roles: dict[str, int] = {}
        """Role -> holding proxy id, -1 while vacant (see sim/model/lifecycle.py)."""
        self.role_pending: set[str] = set()
        """Roles whose failover timer runs."""
        self.scheduler_waiters: list[object] = []
        """Events of sessions waiting for a Scheduler."""
        self.deleted = False
