"""Summary metrics. Their definitions are part of the product (docs/model.md, 'Metrics')."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.defaults import GB, HOUR_S


def jain_index(x: Sequence[float] | np.ndarray) -> float:
    """Jain's fairness index J = (sum x)^2 / (n * sum x^2); 1 = equal, 1/n = one gets all.

    Jain, Chiu & Hawe, DEC TR-301 (1984). All-zero input is perfectly fair (J = 1).
    """
    a = np.asarray(x, dtype=float)
    if a.size == 0:
        return float("nan")
    sq = float(np.dot(a, a))
    if sq == 0.0:
        return 1.0
    return float(a.sum() ** 2 / (a.size * sq))


def _ends(sessions: pd.DataFrame, end_s: float | None) -> pd.Series:
    """Each session's end; a started session unfinished at the run's end ends there."""
    end = sessions["end"].astype(float)
    if end_s is not None:
        open_ = sessions["start"].notna() & ~np.isfinite(end)
        end = end.where(~open_, float(end_s))
    return end


def busy_hours(sessions: pd.DataFrame, end_s: float | None = None) -> float:
    """Length of the union of session intervals [start, end], in hours; a session still
    running at ``end_s`` (the run's end) counts up to it."""
    if sessions.empty:
        return 0.0
    iv = pd.DataFrame({"start": sessions["start"], "end": _ends(sessions, end_s)})
    iv = iv[np.isfinite(iv["end"]) & iv["start"].notna()].sort_values("start").to_numpy()
    total = 0.0
    cur_s, cur_e = None, None
    for s, e in iv:
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total / HOUR_S


@dataclass(frozen=True)
class Metric:
    """One summary number."""

    scope: str
    metric: str
    value: float
    unit: str


def summarize(
    tasks: pd.DataFrame,
    sessions: pd.DataFrame,
    proxies: pd.DataFrame,
    limits: pd.DataFrame | None = None,
    lifecycle: pd.DataFrame | None = None,
    end_s: float | None = None,
) -> pd.DataFrame:
    """The run's summary table: columns scope, metric, value, unit.

    ``end_s`` is when the run stopped (the simulation horizon when work was left unfinished):
    sessions still running then count as busy up to it, so bytes and time match. Without it,
    unfinished sessions' time is not counted.
    """
    out: list[Metric] = []

    def add(scope: str, metric: str, value: float, unit: str) -> None:
        out.append(Metric(scope, metric, float(value), unit))

    hours = busy_hours(sessions, end_s)
    if sessions.empty and len(tasks):
        # synthetic mode: no sessions; busy time is first arrival to last completion (or to
        # the run's end when tasks were left unfinished)
        last = float(tasks["end"].max())
        if end_s is not None and (tasks["status"] != "done").any():
            last = max(last, float(end_s)) if np.isfinite(last) else float(end_s)
        hours = (last - float(tasks["ready"].min())) / HOUR_S
    # the finished tasks as a mask (a filtered copy of the whole table costs more)
    is_done = (tasks["status"] == "done").to_numpy()
    n_done = int(is_done.sum())
    total_bytes = float(tasks["bytes_read"].sum())
    redone = float(tasks["redone_bytes"].sum()) if "redone_bytes" in tasks else 0.0
    kept_bytes = total_bytes - redone
    add("overall", "objects", len(tasks), "tasks")
    add("overall", "objects_done", n_done, "tasks")
    add("overall", "objects_failed_or_cancelled", len(tasks) - n_done, "tasks")
    add("overall", "bytes_read", total_bytes / GB, "GB")
    add("overall", "bytes_written", float(tasks["bytes_written"].sum()) / GB, "GB")
    add("overall", "busy_time", hours, "h")
    # kept bytes (redone work excluded) over busy time: what the pool achieved
    add("overall", "throughput", kept_bytes / GB / hours if hours > 0 else 0.0, "GB/h")
    # every byte moved, redone work included: how hard the pool worked
    add("overall", "transfer_rate", total_bytes / GB / hours if hours > 0 else 0.0, "GB/h")
    add("overall", "object_rate", n_done / hours if hours > 0 else 0.0, "objects/h")
    if not sessions.empty:
        # an unfinished session's makespan is at least the time from its schedule to the end
        ends = _ends(sessions, end_s)
        unfinished = sessions["start"].notna() & ~np.isfinite(sessions["end"].astype(float))
        makespan = (
            sessions["makespan_s"]
            .astype(float)
            .where(~unfinished, ends - sessions.get("scheduled", sessions["start"]))
        )
        longest = float(makespan.max())
        add("overall", "sessions", len(sessions), "sessions")
        add("overall", "sessions_unfinished", float(unfinished.sum()), "sessions")
        add("overall", "window_compliance", float(sessions["within_window"].mean()), "fraction")
        add("overall", "makespan_max", longest / HOUR_S, "h")
        # 1 when the longest session is one still running at the run's end: a lower bound
        lower = bool(unfinished.any()) and bool((makespan[unfinished] >= longest).any())
        add("overall", "makespan_max_unfinished", float(lower), "flag")
        add("overall", "makespan_mean", float(sessions["makespan_s"].mean()) / HOUR_S, "h")
    if "measured" in tasks:
        is_done = is_done & tasks["measured"].to_numpy(dtype=bool)
    wait = tasks["wait_s"].to_numpy()[is_done]
    if wait.size:
        for q in (50, 95, 99):
            add("overall", f"wait_p{q}", float(np.percentile(wait, q)), "s")
        soj = tasks["sojourn_s"].to_numpy()[is_done]
        add("overall", "sojourn_mean", float(soj.mean()), "s")
        for q in (50, 95, 99):
            add("overall", f"sojourn_p{q}", float(np.percentile(soj, q)), "s")
    xfer = tasks[["thread_s", "source_s", "proxy_s", "target_s"]].to_numpy().sum(axis=0)
    xfer_total = float(xfer.sum())
    if xfer_total > 0:
        add("overall", "throttled_fraction", xfer[1] / xfer_total, "fraction")
        add("overall", "bottleneck_source", (xfer[0] + xfer[1]) / xfer_total, "fraction")
        add("overall", "bottleneck_proxy", xfer[2] / xfer_total, "fraction")
        add("overall", "bottleneck_target", xfer[3] / xfer_total, "fraction")

    if "throttled_requests" in tasks:
        add("overall", "throttled_requests", float(tasks["throttled_requests"].sum()), "requests")
        add("overall", "slowdown_requests", float(tasks["slowdown_requests"].sum()), "requests")
    if "requests" in tasks and float(tasks["requests"].sum()) > 0:
        # throttled requests / all Microsoft 365 requests issued, retries included (429 and
        # ErrorServerBusy), overall and per workload, beside throttled_fraction (of time)
        req = tasks["requests"].to_numpy(dtype=float)
        thr = tasks["throttled_requests"].to_numpy(dtype=float)
        add("overall", "requests", float(req.sum()), "requests")
        add("overall", "throttled_request_share", float(thr.sum() / req.sum()), "fraction")
        workload = tasks["workload"]
        if isinstance(workload.dtype, pd.CategoricalDtype):  # by code: no array of strings
            codes = workload.cat.codes.to_numpy()
            names = workload.cat.categories
            wl_of = [(names[c], codes == c) for c in pd.unique(codes) if c >= 0]
        else:
            wl = workload.to_numpy()
            wl_of = [(w, wl == w) for w in pd.unique(wl)]
        for w, mine in wl_of:
            asked = float(req[mine].sum())
            if asked > 0:
                add(f"workload:{w}", "requests", asked, "requests")
                add(
                    f"workload:{w}",
                    "throttled_request_share",
                    float(thr[mine].sum()) / asked,
                    "fraction",
                )
    if "reassignments" in tasks:
        add("overall", "reassigned_tasks", float((tasks["reassignments"] > 0).sum()), "tasks")
        add("overall", "reassignments", float(tasks["reassignments"].sum()), "moves")
        add("overall", "redone_bytes", float(tasks["redone_bytes"].sum()) / GB, "GB")
    if lifecycle is not None and len(lifecycle):
        done_ev = lifecycle[lifecycle["outcome"] == "done"]
        add("overall", "lifecycle_events", len(done_ev), "events")
        add("overall", "refused_requests", len(lifecycle) - len(done_ev), "requests")
        add("overall", "crashed_tasks", float(done_ev["crashed"].sum()), "tasks")
        drains = done_ev["drain_s"].dropna()
        if len(drains):
            add("overall", "drain_time_max", float(drains.max()), "s")
        if "resume_delay_max_s" in done_ev:
            resumes = done_ev["resume_delay_max_s"].dropna()
            if len(resumes):
                add("overall", "resume_delay_max", float(resumes.max()), "s")
        dips = done_ev["dip"].dropna()
        if len(dips):
            add("overall", "throughput_dip_max", float(dips.max()), "fraction")
        recs = done_ev["recovery_s"].dropna()
        if len(recs):
            add("overall", "recovery_time_max", float(recs.max()), "s")
    if limits is not None:
        for (owner, name), rows in limits.groupby(["owner", "name"], sort=False):
            if (rows["semantics"] != "request").all():
                continue
            scope = f"{owner}:{name}"
            rejected = float(rows["rejected"].sum())
            # requests: RU are counted at 1 RU per rejected request and per download
            asked = float(rows["consumed"].sum()) + rejected
            metric = "throttled_requests" if owner == "tenant" else "slowdown_requests"
            add(scope, metric, rejected, "requests")
            add(
                scope,
                f"{metric[:-9]}_request_share",
                rejected / asked if asked else 0.0,
                "fraction",
            )
            add(scope, f"{metric[:-9]}_time", float(rows["closed_s"].max()) / HOUR_S, "h")

    groups: list[tuple[str, pd.DataFrame]] = [("overall", proxies[proxies["tasks"] > 0])]
    for pool, members in proxies[proxies["pool"] != ""].groupby("pool", sort=True):
        groups.append((f"pool:{pool}", members))
    for scope, members in groups:
        if members.empty:
            continue
        load = (members["bytes_read"] / members["capacity_bps"]).to_numpy()
        add(scope, "proxies", len(members), "proxies")
        add(scope, "jain_fairness", jain_index(load), "index")
        mean = float(load.mean())
        add(scope, "load_max_over_mean", float(load.max()) / mean if mean > 0 else 1.0, "ratio")
        add(scope, "load_cv", float(load.std()) / mean if mean > 0 else 0.0, "ratio")
        if scope != "overall":
            add(
                scope,
                "throughput",
                float(members["bytes_read"].sum()) / GB / hours if hours > 0 else 0.0,
                "GB/h",
            )
    for name, row in proxies.set_index("proxy").iterrows():
        add(
            f"proxy:{name}",
            "throughput",
            row["bytes_read"] / GB / hours if hours > 0 else 0.0,
            "GB/h",
        )
        add(f"proxy:{name}", "objects", row["tasks"], "tasks")
        thread_h = row["threads"] * hours * HOUR_S
        add(
            f"proxy:{name}",
            "thread_utilisation",
            row["busy_thread_s"] / thread_h if thread_h > 0 else 0.0,
            "fraction",
        )
    for job, js in sessions.groupby("job", sort=False) if not sessions.empty else []:
        add(f"job:{job}", "makespan_max", float(js["makespan_s"].max()) / HOUR_S, "h")
        add(f"job:{job}", "window_compliance", float(js["within_window"].mean()), "fraction")
    return pd.DataFrame([m.__dict__ for m in out])
