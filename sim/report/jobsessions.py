"""A run's sessions as VB365's ``GET /v8/JobSessions`` represents them (``jobsessions.json``).

The file is one page of the REST collection, ``{"offset": 0, "limit": n, "results": [...]}``
(paginated since v5: https://helpcenter.veeam.com/archive/vbo365/50/rest/get_job_sessions.html),
each session with ``id``, ``jobId``, ``creationTime``, ``endTime``, ``status``, ``progress`` and
``statistics`` holding the seven numbers of the v3+ representation
(https://helpcenter.veeam.com/archive/vbo365/30/rest/job_sessions.html): so simulated and real
nights compare side by side with the same tools. Definitions (docs/calibrate.md, "Sessions
out"; Veeam does not define the rates precisely, so these are poolsim's, INFERRED):

- ``creationTime``: the session's start; ``endTime``: its end, null while it runs. UTC ISO 8601
  from ``simulation.start`` (or its documented default).
- ``status``: ``Running`` (unfinished at the horizon), ``Stopped`` (terminated at the end of its
  window), ``Failed`` (every object failed), ``Warning`` (some failed), else ``Success``.
- ``progress`` and ``processedObjects``: objects backed up.
- ``transferredDataBytes``: bytes read from Microsoft 365 (redone bytes included).
- ``processingRateBytesPS``/``processingRateItemsPS``: bytes read and items of the processed
  objects over the session's duration (start to end).
- ``readRateBytesPS``/``writeRateBytesPS``: bytes read / written over the time at least one of
  the session's objects was in process.
- ``bottleneck``: the product's values: ``Source`` or ``Target`` when that class limited the
  session's tasks longest, ``NA`` when nothing was measured or the proxy did (the REST enum has
  no proxy value). poolsim's own attribution, proxy included, is in the extra ``poolsim`` field.
- ``jobId``: the job's ``vb365_id`` or a UUID derived from its name (``job_uuid``).

Sessions the model skipped (the previous session of the job still ran at the scheduled time)
never ran, and VB365 records no session for them: they are not in the file.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario.schema import start_instant

if TYPE_CHECKING:
    from sim.experiment.run import RunResult

NAMESPACE = uuid.UUID("8f0e1c2a-5d3b-4c6e-9a7f-0b1d2e3f4a5b")
"""The namespace of poolsim's derived UUIDs (fixed, so IDs are stable across runs)."""

STATISTICS = (
    "processingRateBytesPS",
    "processingRateItemsPS",
    "readRateBytesPS",
    "writeRateBytesPS",
    "transferredDataBytes",
    "processedObjects",
    "bottleneck",
)
"""The seven statistics every session carries."""

STATUSES = ("Success", "Warning", "Failed", "Stopped", "Running")


def job_uuid(name: str) -> str:
    """The stable jobId of a job without ``vb365_id``: a UUID 5 of its name."""
    return str(uuid.uuid5(NAMESPACE, f"job:{name}"))


def session_uuid(job_id: str, index: int, seed: int) -> str:
    """The stable id of a job's ``index``-th session in a run with ``seed``."""
    return str(uuid.uuid5(NAMESPACE, f"session:{job_id}:{index}:{seed}"))


def utc_text(start: datetime, seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``: ``2026-03-02T19:00:00.000Z``."""
    t = (start + timedelta(seconds=float(seconds))).astimezone(UTC)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _busy_seconds(starts: np.ndarray, ends: np.ndarray) -> float:
    """Length of the union of the [start, end] intervals (vectorised: sort by start, a new
    stretch begins where a start is past every earlier end)."""
    ok = np.isfinite(starts) & np.isfinite(ends) & (ends > starts)
    if not ok.any():
        return 0.0
    order = np.argsort(starts[ok], kind="stable")
    s, e = starts[ok][order], ends[ok][order]
    reach = np.maximum.accumulate(e)
    new = np.empty(len(s), dtype=bool)
    new[0] = True
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(s) - 1)
    return float((reach[last] - s[first]).sum())


def _rate(amount: float, seconds: float) -> int:
    return round(amount / seconds) if seconds > 0 and amount > 0 else 0


def _status(row: Any) -> str:
    if not math.isfinite(row.end):
        return "Running"
    if row.terminated:
        return "Stopped"
    if row.objects_failed > 0 and row.objects_failed >= row.objects:
        return "Failed"
    if row.objects_failed > 0:
        return "Warning"
    return "Success"


def _bottleneck(shares: tuple[float, float, float]) -> tuple[str, str]:
    """(product value, poolsim's class) from the source/proxy/target shares."""
    if not all(math.isfinite(x) for x in shares) or sum(shares) <= 0:
        return "NA", "NA"
    label = ("Source", "Proxy", "Target")[int(np.argmax(shares))]
    return (label if label != "Proxy" else "NA"), label


def job_sessions(result: RunResult) -> dict[str, Any]:
    """The run's sessions as one page of ``GET /v8/JobSessions``."""
    spec = result.scenario.spec
    start = start_instant(spec.simulation)
    ids = {j.name: (j.vb365_id or job_uuid(j.name)) for j in spec.jobs}
    tasks = result.tasks
    by_session: dict[int, Any] = {}
    if len(tasks) and "session" in tasks:
        for key, group in tasks.groupby("session", sort=False):
            by_session[int(key)] = group
    results: list[dict[str, Any]] = []
    for row in result.sessions.itertuples(index=False):
        if row.skipped or not math.isfinite(row.start):
            continue
        t = by_session.get(int(row.session))
        job_id = ids[row.job]
        end_s = row.end if math.isfinite(row.end) else math.nan
        if t is not None and len(t):
            done = t[t["status"] == "done"]
            items = float(done["items"].sum())
            busy = _busy_seconds(t["start"].to_numpy(float), t["end"].to_numpy(float))
            last = float(np.nanmax(t["end"].to_numpy(float))) if t["end"].notna().any() else 0.0
            proxies = sorted({str(p) for p in t["proxy"].dropna().unique()})
        else:
            items, busy, last, proxies = 0.0, 0.0, 0.0, []
        duration = (end_s if math.isfinite(end_s) else last) - row.start
        shares = (row.bottleneck_source, row.bottleneck_proxy, row.bottleneck_target)
        product, own = _bottleneck(shares)
        results.append(
            {
                "id": session_uuid(job_id, int(row.session), result.seed),
                "jobId": job_id,
                "creationTime": utc_text(start, row.start),
                "endTime": utc_text(start, end_s) if math.isfinite(end_s) else None,
                "status": _status(row),
                "progress": int(row.objects_done),
                "statistics": {
                    "processingRateBytesPS": _rate(row.bytes_read, duration),
                    "processingRateItemsPS": _rate(items, duration),
                    "readRateBytesPS": _rate(row.bytes_read, busy),
                    "writeRateBytesPS": _rate(row.bytes_written, busy),
                    "transferredDataBytes": round(row.bytes_read),
                    "processedObjects": int(row.objects_done),
                    "bottleneck": product,
                },
                "poolsim": {
                    "jobName": row.job,
                    "session": int(row.session),
                    "day": int(row.day),  # sessions.csv's day: days count from 1
                    "scheduledTime": utc_text(start, row.scheduled),
                    "objects": int(row.objects),
                    "objectsFailed": int(row.objects_failed),
                    "fullObjects": int(row.full_objects),
                    "bytesWritten": round(row.bytes_written),
                    "bottleneck": own,
                    "bottleneckShares": {
                        "source": _share(shares[0]),
                        "proxy": _share(shares[1]),
                        "target": _share(shares[2]),
                    },
                    "proxies": proxies,
                    "withinWindow": bool(row.within_window),
                },
            }
        )
    return {"offset": 0, "limit": len(results), "results": results}


def _share(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(x) else None


def job_sessions_text(result: RunResult) -> str:
    return json.dumps(job_sessions(result), indent=2) + "\n"
