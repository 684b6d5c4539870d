"""Traffic-distribution policies: push (choose a proxy) and pull (choose a task).

The ground floor of poolsim: policies decide on a ``PoolView`` (a Protocol) and import nothing of
the model.
"""

from sim.policies.base import Policy, PolicyParams, PullPolicy, PushPolicy
from sim.policies.registry import (
    Parameter,
    PolicyError,
    available,
    make_policy,
    parameters,
    register,
    resolve,
)
from sim.policies.view import PoolView

__all__ = [
    "Parameter",
    "Policy",
    "PolicyError",
    "PolicyParams",
    "PoolView",
    "PullPolicy",
    "PushPolicy",
    "available",
    "make_policy",
    "parameters",
    "register",
    "resolve",
]
