"""Reading job sessions: REST ``GET /JobSessions`` (numbers) or PowerShell
``Get-VBOJobSession | ConvertTo-Json`` (human strings), and which of them are used.

Sources: REST v3+ numbers https://helpcenter.veeam.com/archive/vbo365/30/rest/job_sessions.html;
v1-v2 and PowerShell strings such as ``"832.4 KB/s (52 items/s)"``
https://helpcenter.veeam.com/docs/vbo365/powershell/vbojobstatistics.html. Timestamps are
compared in UTC; one without a zone is an error (sessions carry the server's local offset,
which differs between sessions across daylight-saving changes).

Which sessions are used (docs/calibrate.md, "Sessions in"):

- ``Success``: used.
- ``Warning``: used and marked (some objects failed or warned; the night still ran to its end).
- ``Failed``, ``Stopped``: left out, counted (cut short, they do not describe a night's work).
- ``Running``: left out, counted (no end yet).
- any other status (``NotConfigured``, ``Queued`` ...): left out, counted, the values named.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sim.errors import Problem
from sim.estate.read import (
    ExportError,
    Record,
    load_json,
    parse_time,
    read_export,
    records_of,
    resource_of,
)

USED = ("Success", "Warning")
LEFT_OUT = ("Failed", "Stopped", "Running")
BOTTLENECKS = ("Source", "Target", "Proxy", "Detecting", "NA")

_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}
"""Units of the human-formatted strings: binary multiples (INFERRED: the Windows convention;
Veeam does not say)."""
_AMOUNT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([KMGTP]?B)\s*$", re.IGNORECASE)
_RATE = re.compile(
    r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([KMGTP]?B)\s*/\s*s(?:ec)?\s*"
    r"(?:\(\s*([0-9]+(?:[.,][0-9]+)?)\s*items?\s*/\s*s(?:ec)?\s*\))?\s*$",
    re.IGNORECASE,
)


@dataclass
class Observed:
    """One job session of an export, in SI units and UTC."""

    file: str
    where: str
    job_id: str | None
    job_name: str | None
    creation: datetime
    end: datetime | None
    status: str
    processed_objects: int
    transferred_bytes: float
    processing_bps: float
    processing_items_ps: float
    read_bps: float
    write_bps: float
    bottleneck: str

    @property
    def duration_s(self) -> float:
        return (self.end - self.creation).total_seconds() if self.end else math.nan


@dataclass
class SessionsRead:
    """The sessions used and those left out (with why), in file order."""

    used: list[Observed] = field(default_factory=list)
    left_out: list[tuple[Observed | None, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, why in self.left_out:
            out[why] = out.get(why, 0) + 1
        return out


def _number(v: str) -> float:
    return float(v.replace(",", "."))


def _amount(rec: Record, stats: Record, *names: str) -> float:
    value = stats.get(*names)
    if value is None:
        return 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        m = _AMOUNT.match(value)
        if m:
            return _number(m.group(1)) * _UNITS[m.group(2).lower()]
    raise ExportError(
        [
            stats.problem(
                stats.field_name(*names),
                f"{value!r} is not an amount of data (a number of bytes, or e.g. '93.6 MB')",
            )
        ]
    )


def _rate(stats: Record, *names: str) -> tuple[float, float]:
    """(bytes/s, items/s) of a number or a string like ``832.4 KB/s (52 items/s)``."""
    value = stats.get(*names)
    if value is None:
        return 0.0, math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value), math.nan
    if isinstance(value, str):
        m = _RATE.match(value)
        if m:
            items = _number(m.group(3)) if m.group(3) else math.nan
            return _number(m.group(1)) * _UNITS[m.group(2).lower()], items
    raise ExportError(
        [
            stats.problem(
                stats.field_name(*names),
                f"{value!r} is not a rate (a number of bytes/s, or e.g. '832.4 KB/s (52 items/s)')",
            )
        ]
    )


def observed(rec: Record) -> Observed:
    """One session record (REST or PowerShell) in SI units; ExportError naming the field."""
    job_id = rec.get("jobId", "JobId")
    job_name = rec.get("jobName", "JobName")
    if job_id is None and job_name is None:
        raise ExportError([rec.problem("jobId", "missing field 'jobId' (or 'JobName')")])
    creation = parse_time(rec, "creationTime", "CreationTime")
    if creation is None:
        raise ExportError([rec.problem("creationTime", "missing field 'creationTime'")])
    end = parse_time(rec, "endTime", "EndTime")
    status = rec.get("status", "Status")
    if not isinstance(status, str) or not status.strip():
        raise ExportError(
            [
                rec.problem(
                    "status",
                    f"missing or not a name: {status!r} (enum numbers: export with "
                    "-EnumsAsStrings)",
                )
            ]
        )
    stats = rec.sub("statistics", "Statistics")
    if stats is None:
        raise ExportError([rec.problem("statistics", "missing or not an object")])
    p_bps, p_items = _rate(stats, "processingRateBytesPS", "ProcessingRate")
    items = stats.get("processingRateItemsPS")
    if isinstance(items, (int, float)) and not isinstance(items, bool):
        p_items = float(items)
    read_bps, _ = _rate(stats, "readRateBytesPS", "ReadRate")
    write_bps, _ = _rate(stats, "writeRateBytesPS", "WriteRate")
    objects = stats.get("processedObjects", "ProcessedObjects")
    if objects is None:
        objects = rec.get("progress", "Progress") or 0
    if isinstance(objects, bool) or not isinstance(objects, (int, float)) or objects < 0:
        raise ExportError(
            [stats.problem("processedObjects", f"{objects!r} is not a count of objects")]
        )
    bottleneck = stats.get("bottleneck", "Bottleneck") or "NA"
    if not isinstance(bottleneck, str) or bottleneck.strip().lower() not in {
        b.lower() for b in BOTTLENECKS
    }:
        raise ExportError(
            [
                stats.problem(
                    stats.field_name("bottleneck", "Bottleneck"),
                    f"unknown bottleneck {bottleneck!r}; allowed: {', '.join(BOTTLENECKS)}",
                )
            ]
        )
    if end is not None and end < creation:
        raise ExportError(
            [rec.problem("endTime", f"ends before it starts ({end} < {creation} UTC)")]
        )
    return Observed(
        rec.file,
        rec.where,
        str(job_id).strip().lower() if job_id is not None else None,
        str(job_name) if job_name is not None else None,
        creation,
        end,
        status.strip(),
        int(objects),
        _amount(rec, stats, "transferredDataBytes", "TransferredData"),
        p_bps,
        p_items,
        read_bps,
        write_bps,
        next(b for b in BOTTLENECKS if b.lower() == bottleneck.strip().lower()),
    )


def session_records(path: Path | str) -> list[Record]:
    """The session records of a sessions file, or of the session files of an export folder."""
    p = Path(path)
    if p.is_dir():
        recs = read_export(p).records("session")
        if not recs:
            raise ExportError(
                [Problem(str(p), None, None, "", "no job sessions among the folder's exports")]
            )
        return recs
    if not p.exists():
        raise ExportError([Problem(str(p), None, None, "", "file not found")])
    recs = records_of(load_json(p), str(p))
    if not recs:
        raise ExportError(
            [Problem(str(p), None, None, "", "holds no sessions (an empty collection)")]
        )
    for r in recs:
        kind = resource_of(r)
        if kind != "session":
            what = f"a {kind}" if kind else "no known resource"
            raise ExportError(
                [r.problem("", f"this record is {what}, not a job session (GET /JobSessions)")]
            )
    return recs


def read_sessions(path: Path | str) -> SessionsRead:
    """Every session of path, each used or left out with the reason (module docstring)."""
    out = SessionsRead()
    for rec in session_records(path):
        s = observed(rec)
        status = next((x for x in (*USED, *LEFT_OUT) if x.lower() == s.status.lower()), None)
        if status in USED:
            s.status = status
            if s.end is None:
                raise ExportError(
                    [rec.problem("endTime", f"a {status} session without an end time")]
                )
            out.used.append(s)
        elif status is not None:
            s.status = status
            out.left_out.append((s, f"status {status}"))
        else:
            out.left_out.append((s, f"unknown status {s.status!r}"))
    return out
