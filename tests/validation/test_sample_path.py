"""Sample-path checks: the engine's completion times equal a reference recursion fed the same
arrivals and sizes (exact, no statistics; cheap companions of the oracle tests).

* FCFS with c threads: Kiefer–Wolfowitz recursion (each arrival takes the earliest-free thread).
* Round robin over single-thread proxies: task k goes to proxy k mod n, Lindley per proxy.
* Least work left over single-thread proxies: sample-path equal to one central FCFS queue with n
  servers (Harchol-Balter 2013, Ch. 24), i.e. the same Kiefer–Wolfowitz recursion.
* Single-server processor sharing: an exact event-driven egalitarian PS reference.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim

from .oracle import MB, synthetic_scenario

N_TASKS = 4_000
SEEDS = (1, 2)


def run(seed: int, **kw: Any) -> pd.DataFrame:
    text = synthetic_scenario(tasks=N_TASKS, warmup_tasks=0, **kw)
    res = sim.simulate(sim.load_scenario_text(text), seed=seed)
    assert not res.truncated
    df = res.tasks.sort_values("task")
    assert (df["status"] == "done").all()
    return df


def inputs(df: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Arrival times (s) and service times (s at 1 MB/s) in arrival order."""
    ready = df["ready"].to_numpy()
    assert np.all(np.diff(ready) >= 0)
    return ready.tolist(), (df["work_bytes"].to_numpy() / MB).tolist()


def fcfs_c(ready: list[float], service: list[float], c: int) -> np.ndarray:
    """Kiefer–Wolfowitz: completion times of a c-server FCFS queue."""
    free = [0.0] * c
    end = np.empty(len(ready))
    for i, (t, s) in enumerate(zip(ready, service, strict=True)):
        f = heapq.heappop(free)
        e = max(f, t) + s
        heapq.heappush(free, e)
        end[i] = e
    return end


def round_robin(ready: list[float], service: list[float], n: int) -> np.ndarray:
    last = [0.0] * n
    end = np.empty(len(ready))
    for i, (t, s) in enumerate(zip(ready, service, strict=True)):
        k = i % n
        last[k] = max(last[k], t) + s
        end[i] = last[k]
    return end


def processor_sharing(ready: list[float], service: list[float]) -> np.ndarray:
    """Egalitarian PS at rate 1: k jobs present each progress at 1/k (event by event)."""
    n = len(ready)
    end = np.full(n, np.nan)
    rem: dict[int, float] = {}
    now = 0.0
    i = 0
    while i < n or rem:
        next_arrival = ready[i] if i < n else np.inf
        if rem:
            j_min = min(rem, key=rem.__getitem__)
            t_done = now + rem[j_min] * len(rem)
        else:
            t_done = np.inf
        if next_arrival <= t_done:
            if rem:
                dec = (next_arrival - now) / len(rem)
                for j in rem:
                    rem[j] -= dec
            now = next_arrival
            rem[i] = service[i]
            i += 1
        else:
            dec = rem[j_min]
            now = t_done
            for j in list(rem):
                rem[j] -= dec
                if rem[j] <= 1e-12 * max(1.0, service[j]):
                    end[j] = now
                    del rem[j]
    return end


@pytest.mark.parametrize("seed", SEEDS)
def test_fcfs_four_threads_is_kiefer_wolfowitz(seed: int) -> None:
    """One proxy with 4 FCFS threads, ρ=0.8: completions equal the M/M/4 recursion."""
    df = run(seed, threads=4, rate=3.2)
    ready, service = inputs(df)
    np.testing.assert_allclose(df["end"].to_numpy(), fcfs_c(ready, service, 4), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_round_robin_is_lindley_per_proxy(seed: int) -> None:
    """Round robin over 4 single-thread proxies: task k on proxy k mod 4, FCFS there."""
    df = run(seed, n_proxies=4, rate=3.2, policy="round_robin")
    ready, service = inputs(df)
    codes = df["proxy"].cat.codes.to_numpy()
    np.testing.assert_array_equal(codes, np.arange(len(df)) % 4)
    np.testing.assert_allclose(df["end"].to_numpy(), round_robin(ready, service, 4), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_least_work_left_is_central_fcfs(seed: int) -> None:
    """LWL over 4 single-thread proxies, ρ=0.8: completions equal a central 4-server FCFS queue
    fed the same input (Harchol-Balter 2013, Ch. 24)."""
    df = run(seed, n_proxies=4, rate=3.2, policy="least_work_left")
    ready, service = inputs(df)
    np.testing.assert_allclose(
        df["end"].to_numpy(), fcfs_c(ready, service, 4), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_processor_sharing_matches_event_driven_reference(seed: int) -> None:
    """One PS proxy of 1 MB/s, H₂ sizes (SCV 4), ρ=0.8: completions equal an exact event-driven
    egalitarian PS."""
    df = run(
        seed,
        threads=1000,
        rate=0.8,
        service="processor_sharing",
        thread_rate=None,
        processing_rate=MB,
        sizes={"distribution": "hyperexponential", "mean": MB, "scv": 4},
    )
    ready, service = inputs(df)
    np.testing.assert_allclose(
        df["end"].to_numpy(), processor_sharing(ready, service), rtol=1e-9, atol=1e-9
    )
