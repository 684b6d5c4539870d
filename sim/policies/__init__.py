"""Traffic-distribution policies: push (choose a proxy) and pull (choose a task)."""

from sim.policies.base import Policy, PullPolicy, PushPolicy
from sim.policies.registry import PolicyError, available, make_policy, register, resolve

__all__ = [
    "Policy",
    "PolicyError",
    "PullPolicy",
    "PushPolicy",
    "available",
    "make_policy",
    "register",
    "resolve",
]
