"""One simulation run of one scenario with one seed, as DataFrames."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.metrics import (
    events_frame,
    lifecycle_frame,
    limits_frame,
    proxy_frame,
    session_frame,
    states_frame,
    summarize,
    task_frame,
    timeseries_frame,
)
from sim.model.world import World
from sim.scenario import LoadedScenario, load_scenario
from sim.scenario.schema import PolicySpec


@dataclass
class RunResult:
    """Everything one run produced. Tables are pandas DataFrames."""

    scenario: LoadedScenario
    seed: int
    policy: str | None
    tasks: pd.DataFrame
    sessions: pd.DataFrame
    proxies: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    wall_s: float
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Request-limited resources: consumed, rejected (429 / 503), closed time."""
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Model events in time order (budgets, re-partitioning, lifecycle)."""
    lifecycle: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Lifecycle requests and faults: outcome, reason, cost, throughput dip and recovery."""
    states: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Proxy states and pool roles as intervals (the Gantt chart)."""
    truncated: bool = False
    stats: dict[str, float] = field(default_factory=dict)

    def metric(self, name: str, scope: str = "overall") -> float:
        """One summary value: ``metric('throughput')``, ``metric('jain_fairness', 'pool:a')``."""
        row = self.summary[(self.summary["scope"] == scope) & (self.summary["metric"] == name)]
        if row.empty:
            raise KeyError(f"no metric '{name}' in scope '{scope}'")
        return float(row["value"].iloc[0])


def simulate(
    scenario: LoadedScenario | str | Path,
    seed: int | None = None,
    policy: str | PolicySpec | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    on_world: Callable[[World], None] | None = None,
) -> RunResult:
    """Run a scenario once. ``policy`` replaces every pool's policy; ``seed`` the scenario's.
    ``on_world`` sees the world before it runs (the CLI's progress reads its clock).
    ``overrides`` (``--set`` strings) need a path: with an already loaded scenario they are
    refused, never ignored."""
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(scenario, LoadedScenario) and overrides:
        raise ValueError(
            "overrides apply when a scenario is loaded: pass its path, or load it with "
            "load_scenario(path, overrides); a loaded scenario is run as it is"
        )
    loaded = (
        scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario, overrides)
    )
    t0 = time.perf_counter()
    world = World(loaded, seed=seed, policy=policy)
    if on_world is not None:
        on_world(world)
    world.run()
    tasks = task_frame(world)
    sessions = session_frame(world, tasks)
    proxies = proxy_frame(world, tasks)
    ts = timeseries_frame(world)
    limits = limits_frame(world)
    events = events_frame(world)
    lifecycle = lifecycle_frame(world)
    states = states_frame(world)
    summary = summarize(tasks, sessions, proxies, limits, lifecycle, end_s=world.env.now)
    wall = time.perf_counter() - t0
    pol = policy.name if isinstance(policy, PolicySpec) else policy
    return RunResult(
        scenario=loaded,
        seed=world.seed,
        policy=pol,
        tasks=tasks,
        sessions=sessions,
        proxies=proxies,
        timeseries=ts,
        summary=summary,
        wall_s=wall,
        limits=limits,
        events=events,
        lifecycle=lifecycle,
        states=states,
        truncated=world.truncated,
        stats={
            "rate_recomputes": float(world.sharing.recomputes),
            "one_resource_solves": float(world.sharing.one_resource_solves),
            "sim_end_s": world.env.now,
        },
    )
