"""Turn a finished world's columnar traces into DataFrames (after the run, never during).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 20: https://helpcenter.veeam.com/docs/vbo365/guide/backup_metrics.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim import defaults as d
from sim.model.limits import OwnerKind, of_owner
from sim.model.throttle import requests_of_tasks
from sim.model.trace import FAIL_REASONS, STATUS_NAMES
from sim.model.world import World

BOTTLENECK_NAMES = ("source", "source", "proxy", "target")
"""VB365 reports Source / Proxy / Target (vb365 fact 20); a per-thread ceiling is the Microsoft 365
side of one connection, so it counts as source."""


def bottleneck_codes(
    thread_s: np.ndarray, source_s: np.ndarray, proxy_s: np.ndarray, target_s: np.ndarray
) -> np.ndarray:
    """Per task, a code into ``["source", "proxy", "target", "n/a"]``: the class it spent the
    most seconds bound by (thread and source seconds count as source; the first of equal ones,
    as ``argmax``), n/a when none (seconds are never negative). Column by column, without
    stacking the columns into temporary (n, 3) arrays."""
    source = thread_s + source_s
    label = np.where(proxy_s > source, 1, 0)
    label = np.where(target_s > np.maximum(source, proxy_s), 2, label)
    return np.where((source > 0) | (proxy_s > 0) | (target_s > 0), label, 3)


def task_frame(world: World) -> pd.DataFrame:
    """One row per task: who, where, when, how much, and what limited it."""
    cols = world.tasks.columns()
    n = world.tasks.n
    job_names = [j.name for j in world.scenario.jobs] or ["synthetic"]
    # code columns become categoricals straight from their codes (no temporary copies)
    categories: dict[str, list[str]] = {
        "job": job_names,
        "tenant": [t.name for t in world.tenants],
        "workload": list(d.WORKLOADS),
        "otype": list(d.OBJECT_TYPES),
        "proxy": [p.name for p in world.proxies],
        "status": list(STATUS_NAMES),
        "fail_reason": list(FAIL_REASONS),
    }
    data: dict[str, object] = {"task": np.arange(n)}
    for name, col in cols.items():
        if name == "changed" and world.synthetic is not None:
            continue  # synthetic tasks are not objects: no change to speak of
        if name in categories:
            data[name] = pd.Categorical.from_codes(col, categories=categories[name])
        elif name in ("full", "changed"):
            data[name] = col.astype(bool)
        else:
            data[name] = col
    # the frame shares the world's columns (no copy of ~30 columns: tens of MB for 200,000
    # tasks, and their page faults) unless more than a quarter of their rows are unused
    # (then a copy keeps the result from holding them)
    spare = world.tasks.capacity - n
    df = pd.DataFrame(data, copy=4 * spare > n)
    warmup = world.synthetic.warmup_tasks if world.synthetic is not None else 0
    df["measured"] = df["task"] >= warmup
    df["wait_s"] = df["start"] - df["ready"]
    df["sojourn_s"] = df["end"] - df["ready"]
    label = bottleneck_codes(cols["thread_s"], cols["source_s"], cols["proxy_s"], cols["target_s"])
    df["bottleneck"] = pd.Categorical.from_codes(
        label, categories=["source", "proxy", "target", "n/a"]
    )
    df["throttled_s"] = cols["source_s"]
    if world.synthetic is None:  # synthetic tasks issue no Microsoft 365 requests
        # Microsoft 365 requests issued and throttled, accounted in aggregate (model/throttle.py)
        df["requests"], df["throttled_requests"] = requests_of_tasks(world)
    return df


SESSION_COLUMNS = [
    "job",
    "type",
    "session",
    "run",
    "day",
    "scheduled",
    "start",
    "end",
    "makespan_s",
    "window_s",
    "within_window",
    "terminated",
    "skipped",
    "retries",
    "objects",
    "objects_done",
    "objects_failed",
    "full_objects",
    "bytes_read",
    "bytes_written",
    "redone_bytes",
    "throttled_s",
    "bottleneck_source",
    "bottleneck_proxy",
    "bottleneck_target",
]


def session_frame(world: World, tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per job session: timing, window compliance, volume."""
    rows = []
    jobs = world.scenario.jobs
    if world.synthetic is not None:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    # the columns once, each session a slice of them (its tasks are consecutive rows)
    status = tasks["status"]
    is_done = (status == "done").to_numpy()
    is_failed = (status == "failed").to_numpy()
    botts = tasks[["thread_s", "source_s", "proxy_s", "target_s"]].to_numpy()
    col = {
        name: tasks[name].to_numpy()
        for name in ("full", "bytes_read", "bytes_written", "redone_bytes", "source_s")
    }
    for s in world.sessions:
        sl = slice(s.first_task, s.first_task + s.n_tasks)
        spec = jobs[s.job].schedule
        window = spec.window
        makespan = s.end - s.scheduled if np.isfinite(s.end) else np.nan
        done = int(is_done[sl].sum())
        bott = botts[sl].sum(axis=0)
        total = float(bott.sum())
        shares = (
            ((bott[0] + bott[1]) / total, bott[2] / total, bott[3] / total)
            if total > 0
            else (np.nan, np.nan, np.nan)
        )
        in_window = (
            not s.skipped
            and np.isfinite(makespan)
            and not s.terminated
            and (window is None or makespan <= window)
            and (not np.isfinite(s.deadline) or s.end <= s.deadline)
        )
        rows.append(
            {
                "job": jobs[s.job].name,
                "type": jobs[s.job].type,
                # the task table's session id; the job's run counted from 1 as a scenario's
                # timeline counts it ({job: ..., session: N}); days from 1 (docs/model.md)
                "session": s.id,
                "run": s.index + 1,
                "day": s.day + 1,
                "scheduled": s.scheduled,
                "start": s.start,
                "end": s.end,
                "makespan_s": makespan,
                "window_s": window if window is not None else np.nan,
                "within_window": bool(in_window),
                "terminated": s.terminated,
                "skipped": s.skipped,
                "retries": s.retries,
                "objects": s.n_tasks,
                "objects_done": done,
                "objects_failed": int(is_failed[sl].sum()),
                "full_objects": int(col["full"][sl].sum()),
                "bytes_read": float(col["bytes_read"][sl].sum()),
                "bytes_written": float(col["bytes_written"][sl].sum()),
                "redone_bytes": float(col["redone_bytes"][sl].sum()),
                "throttled_s": float(col["source_s"][sl].sum()),
                "bottleneck_source": shares[0],
                "bottleneck_proxy": shares[1],
                "bottleneck_target": shares[2],
            }
        )
    return pd.DataFrame(rows, columns=SESSION_COLUMNS)


def proxy_frame(world: World, tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per proxy: capacity, work done, busy thread-seconds."""
    rows = []
    for px in world.proxies:
        rows.append(
            {
                "proxy": px.name,
                "pool": world.pools[px.pool].name if px.pool >= 0 else "",
                "threads": px.threads,
                "capacity_bps": px.capacity_bps,
                "tasks": px.tasks_done,
                "bytes_read": px.bytes_read,
                "busy_thread_s": px.busy_thread_s,
                "final_state": px.state,
            }
        )
    return pd.DataFrame(rows)


def timeseries_frame(world: World) -> pd.DataFrame:
    """Bytes read per proxy per bucket (long format: t_start, proxy, bytes, rate_bps)."""
    data = world.ts.buckets()
    b = world.ts.bucket_s
    names = [p.name for p in world.proxies]
    if data.shape[0] == 0:
        return pd.DataFrame({"t_start": [], "proxy": [], "bytes": [], "rate_bps": []})
    t = np.repeat(np.arange(data.shape[0]) * b, len(names))
    df = pd.DataFrame(
        {
            "t_start": t,
            "proxy": np.tile(np.asarray(names, dtype=object), data.shape[0]),
            "bytes": data[:, : len(names)].ravel(),
        }
    )
    df["rate_bps"] = df["bytes"] / b
    return df


LIMIT_COLUMNS = [
    "owner",
    "name",
    "limit",
    "semantics",
    "capacity_per_s",
    "consumed",
    "rejected",
    "episodes",
    "closed_s",
    "partitions",
]


def limits_frame(world: World) -> pd.DataFrame:
    """One row per owner of a record of ``model/limits.py`` that can reject requests: what was
    used, rejected and how long it was shut.

    ``consumed`` is in the limit's own unit (RU, Teams requests, PUTs), rejected requests
    excluded; ``rejected`` counts 429 (Microsoft 365) or 503 Slow Down (object storage) answers.
    Fluid limits are listed too (no rejections by construction) so tables line up.
    """
    consumed = world.consumed()
    rows = []
    kinds: tuple[tuple[OwnerKind, Sequence[Any]], ...] = (
        ("tenant", world.tenants),
        ("repository", world.repositories),
    )
    for kind, owners in kinds:
        records = [rec for rec in of_owner(kind) if rec.request is not None]
        for owner in owners:
            for rec in records:
                assert rec.request is not None
                res = getattr(owner, rec.attr)
                budget = getattr(owner, rec.request.budget_attr)
                rows.append(
                    {
                        "owner": kind,
                        "name": owner.name,
                        "limit": rec.name,
                        "semantics": "request" if budget else "fluid",
                        "capacity_per_s": budget.refill if budget else float(world.capacity[res]),
                        "consumed": float(consumed[res]),
                        "rejected": budget.rejected if budget else 0,
                        "episodes": budget.episodes if budget else 0,
                        "closed_s": budget.closed_seconds() if budget else 0.0,
                        "partitions": getattr(owner, "partitions", 1),
                    }
                )
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


def events_frame(world: World) -> pd.DataFrame:
    """Model events in time order (budget spent/reset, re-partitioning, lifecycle): t, event,
    and the event's own fields (empty where they do not apply)."""
    if not world.events:
        return pd.DataFrame({"t": pd.Series([], dtype=float), "event": pd.Series([], dtype=str)})
    df = pd.DataFrame(world.events)
    front = ["t", "event"]
    return df[front + [c for c in df.columns if c not in front]].sort_values(
        "t", kind="stable", ignore_index=True
    )


LIFECYCLE_COLUMNS = [
    "t",
    "event",
    "proxy",
    "pool",
    "source",
    "outcome",
    "reason",
    "reassigned",
    "redone_bytes",
    "crashed",
    "drain_s",
    "resume_delay_p50_s",
    "resume_delay_max_s",
    "throughput_before_bps",
    "throughput_min_after_bps",
    "dip",
    "recovery_s",
]

DIP_BEFORE_S = 900.0
"""Baseline of the throughput dip: the mean rate over this long before the event."""
DIP_AFTER_S = 1800.0
"""The dip is the lowest bucket rate in this long after the event."""
RECOVERED = 0.95
"""Recovered: the first bucket from the lowest one on whose rate is >= 95 % of the baseline."""


def lifecycle_frame(world: World) -> pd.DataFrame:
    """One row per lifecycle request or fault: outcome, reason, what it cost, and the pool-wide
    throughput dip and recovery time around it (see docs/model.md, "Pool lifecycle")."""
    recs = world.lifecycle.records
    if not recs:
        return pd.DataFrame(columns=LIFECYCLE_COLUMNS)
    data = world.ts.buckets()
    b = world.ts.bucket_s
    rate = data[:, : len(world.proxies)].sum(axis=1) / b if data.shape[0] else np.zeros(0)
    rows = []
    for rec in recs:
        row = dict(rec)
        delays = np.asarray(row.pop("resume_delays", ()), dtype=float)
        # moved objects (handed off, or crashed and retried): event -> next transfer start
        row["resume_delay_p50_s"] = float(np.median(delays)) if delays.size else np.nan
        row["resume_delay_max_s"] = float(delays.max()) if delays.size else np.nan
        t = float(rec["t"])
        k = int(t // b)  # the bucket holding the event
        nb = max(1, round(DIP_BEFORE_S / b))
        na = max(1, round(DIP_AFTER_S / b))
        before = rate[max(0, k - nb) : k]
        after = rate[k + 1 : k + 1 + na] if k + 1 < rate.size else np.zeros(0)
        base = float(before.mean()) if before.size else np.nan
        low = float(after.min()) if after.size else np.nan
        row["throughput_before_bps"] = base
        row["throughput_min_after_bps"] = low
        row["dip"] = max(0.0, 1.0 - low / base) if base > 0 and np.isfinite(low) else np.nan
        rec_s = np.nan
        if base > 0 and after.size:
            lowest = k + 1 + int(after.argmin())
            ok = np.flatnonzero(rate[lowest:] >= RECOVERED * base)
            if low >= RECOVERED * base:
                rec_s = 0.0
            elif ok.size:
                rec_s = (lowest + int(ok[0])) * b - t
        row["recovery_s"] = rec_s
        rows.append(row)
    return pd.DataFrame(rows, columns=LIFECYCLE_COLUMNS)


def states_frame(world: World) -> pd.DataFrame:
    """Proxy states and pool roles as intervals (the Gantt chart's data): kind ('state' or
    'role'), proxy, pool, what (state or role name), t_start, t_end (end of the run if open)."""
    end = float(world.env.now)
    rows: list[dict[str, object]] = []
    last: dict[int, tuple[float, str]] = {}
    for t, p, state in world.lifecycle.state_log:
        if p in last and last[p][1] != state:
            t0, s0 = last[p]
            rows.append(_interval("state", world.proxies[p].name, "", s0, t0, t))
        if p not in last or last[p][1] != state:
            last[p] = (t, state)
    for p, (t0, s0) in last.items():
        rows.append(_interval("state", world.proxies[p].name, "", s0, t0, end))
    held: dict[tuple[int, str], tuple[float, int]] = {}
    for t, pool, role, holder in world.lifecycle.role_log:
        key = (pool, role)
        if key in held:
            t0, h0 = held[key]
            if h0 >= 0:
                rows.append(
                    _interval("role", world.proxies[h0].name, world.pools[pool].name, role, t0, t)
                )
        held[key] = (t, holder)
    for (pool, role), (t0, h0) in held.items():
        if h0 >= 0:
            rows.append(
                _interval("role", world.proxies[h0].name, world.pools[pool].name, role, t0, end)
            )
    cols = ["kind", "proxy", "pool", "what", "t_start", "t_end"]
    return pd.DataFrame(rows, columns=cols)


def _interval(
    kind: str, proxy: str, pool: str, what: str, t0: float, t1: float
) -> dict[str, object]:
    return {"kind": kind, "proxy": proxy, "pool": pool, "what": what, "t_start": t0, "t_end": t1}
