"""The built-in policies: importing this module registers all of them.

Each lives in the module of its family; each docstring is the policy's exact definition
(``poolsim policies`` lists them, docs/policies.md collects them).
"""

from sim.policies.affinity import JobAffinity, StickyHash
from sim.policies.pull import PullFairJobs, PullFifo, PullLargestFirst, PullSmallestFirst
from sim.policies.push import (
    JoinIdleQueue,
    JoinShortestQueue,
    JoinShortestWaitingQueue,
    LeastActiveThreads,
    LeastLoadedCapacity,
    LeastWorkLeft,
    PowerOfD,
    Random,
    RoundRobin,
    WeightedRandom,
    WeightedRoundRobin,
)

__all__ = [
    "JobAffinity",
    "JoinIdleQueue",
    "JoinShortestQueue",
    "JoinShortestWaitingQueue",
    "LeastActiveThreads",
    "LeastLoadedCapacity",
    "LeastWorkLeft",
    "PowerOfD",
    "PullFairJobs",
    "PullFifo",
    "PullLargestFirst",
    "PullSmallestFirst",
    "Random",
    "RoundRobin",
    "StickyHash",
    "WeightedRandom",
    "WeightedRoundRobin",
]
