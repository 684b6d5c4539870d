"""The idiomatic SimPy model of an M/M/c queue: the yardstick of ``poolsim bench speed``.

Written the way the SimPy documentation and most SimPy users write a queue: one process per
customer that requests a ``simpy.Resource`` of ``c`` servers, holds it for its service time and
records its arrival, start and end times. Inter-arrival and service times are drawn up front
(numpy), which only favours the reference.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy


@dataclass(frozen=True)
class QueueRun:
    """What the reference model recorded: per customer arrival, start and end times."""

    arrival: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def mean_sojourn(self) -> float:
        return float((self.end - self.arrival).mean())

    @property
    def mean_wait(self) -> float:
        return float((self.start - self.arrival).mean())


def mmc_simpy(
    customers: int, servers: int, arrival_rate: float, service_rate: float, seed: int
) -> QueueRun:
    """Simulate ``customers`` customers of an M/M/c FCFS queue, one SimPy process each."""
    rng = np.random.default_rng(seed)
    gaps: list[float] = rng.exponential(1.0 / arrival_rate, customers).tolist()
    services: list[float] = rng.exponential(1.0 / service_rate, customers).tolist()
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=servers)
    arrival = [0.0] * customers
    start = [0.0] * customers
    end = [0.0] * customers

    def customer(i: int) -> Generator[simpy.Event, Any, None]:
        arrival[i] = env.now
        with server.request() as req:
            yield req
            start[i] = env.now
            yield env.timeout(services[i])
        end[i] = env.now

    def source() -> Generator[simpy.Event, Any, None]:
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return QueueRun(np.asarray(arrival), np.asarray(start), np.asarray(end))


def erlang_c_sojourn(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean sojourn time of M/M/c (Erlang C): the check that both models run the same queue."""
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1.0:
        return math.inf
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    last = a**servers / math.factorial(servers) / (1.0 - rho)
    p_wait = last / (terms + last)
    return p_wait / (servers * service_rate - arrival_rate) + 1.0 / service_rate
