"""How much CPU a run's proxies used beyond their cores: a check of the model's processor
sharing between scans and transfers (docs/model.md "Proxies", "Scans share the cores with the
bytes").

A proxy's processing capacity ``C`` (bytes of processing per second, ``Proxy.capacity_bps``) is
used by the bytes its transfers move (one unit each) and by its scans (at the speed each ran,
``Demand.scan_speed``; the roles' work the same). In every bucket of ``step`` seconds the use
above ``C x step`` is the excess; the share reported is the excess over all use. An exact sharing
would give 0; the model's INFERRED simplification (a scan's speed is fixed at its start, the
transfers are not slowed by the scans) leaves a residue that this measures. A scan is counted
for the time planned at its start, up to the end of the run (one stopped early, by a failure or
a maintenance, is counted whole: a slight over-count). Needs the scans recorded
(``record_scans`` before the run) and a time-series bucket that divides ``step``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.world import World


def record_scans(world: World) -> None:
    """Have ``world`` record every scan (pass as ``simulate(..., on_world=record_scans)``)."""
    world.demand.scan_log = []


@dataclass(frozen=True)
class CpuUse:
    """CPU used per proxy, in bytes of processing: in all, and beyond its cores."""

    used: dict[str, float]
    excess: dict[str, float]

    @property
    def excess_share(self) -> float:
        """Excess over all use, every proxy together (0 when nothing was used)."""
        total = sum(self.used.values())
        return sum(self.excess.values()) / total if total > 0.0 else 0.0


def cpu_use(world: World, timeseries: pd.DataFrame, step: float = 60.0) -> CpuUse:
    """The CPU ``world``'s proxies used, per ``step`` seconds, from its time series (bytes per
    proxy and bucket) and its recorded scans."""
    log = world.demand.scan_log
    if log is None:
        raise ValueError("the scans were not recorded: run with on_world=record_scans")
    bucket = float(world.ts.bucket_s)
    if step <= 0.0 or step % bucket:
        raise ValueError(f"step {step:g} s must be a multiple of the bucket, {bucket:g} s")
    end = float(world.env.now)
    n = int(end // step) + 2
    used: dict[str, float] = {}
    excess: dict[str, float] = {}
    scans = np.asarray(log, dtype=float).reshape(-1, 4)
    for px in world.proxies:
        per = np.zeros(n)
        mine = timeseries[timeseries["proxy"] == px.name]
        k = (mine["t_start"].to_numpy() // step).astype(int)
        np.add.at(per, k, mine["bytes"].to_numpy())
        for _, t0, held, speed in scans[scans[:, 0] == px.idx]:
            t1, j = min(t0 + held, end), int(t0 // step)
            while j * step < t1:
                per[j] += (min(t1, (j + 1) * step) - max(t0, j * step)) * speed
                j += 1
        used[px.name] = float(per.sum())
        excess[px.name] = float(np.maximum(per - px.capacity_bps * step, 0.0).sum())
    return CpuUse(used, excess)
