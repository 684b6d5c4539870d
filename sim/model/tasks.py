"""Task phases and the per-task working columns of a run (``TaskState``).

The trace (``trace.TaskTable``) holds what a task *was* (its columns become ``tasks.parquet``);
``TaskState`` holds what the engine needs while it runs: the phase, the ceiling, the resource row
and its coefficients (see ``demand.py``), and the progress kept across attempts. Every column
has a memoryview (``v_*``) for scalar access on the hot path, rebound when the columns grow.
"""

from __future__ import annotations

import numpy as np

from sim.model.trace import TaskTable, bool_view, float_view, int8_view, int_view

#: task phases (DIRECT: a fixed-rate transfer outside the shared fluid)
QUEUED, OVERHEAD, TRANSFER, FINISHED, DIRECT = 0, 1, 2, 3, 4

Bottleneck = np.ndarray | tuple[float, float, float, float] | list[float]
"""Seconds a transfer spent bound by each class (thread, source, proxy, target)."""

_COLUMNS = (
    "phase",
    "cap",
    "res",
    "coef",
    "overhead",
    "comp",
    "xfer_start",
    "fail_frac",
    "resume",
    "fixed_rate",
    "sid",
    "scan",
    "delta",
    "graph",
    "ews",
)


class TaskState:
    """The engine's per-task columns (one row per task id of ``table``), grown on demand."""

    __slots__ = (
        "cap",
        "coef",
        "comp",
        "delta",
        "ews",
        "fail_frac",
        "fixed_rate",
        "graph",
        "overhead",
        "phase",
        "res",
        "resume",
        "scan",
        "sid",
        "table",
        "v_cap",
        "v_comp",
        "v_delta",
        "v_ews",
        "v_fail_frac",
        "v_fixed_rate",
        "v_overhead",
        "v_phase",
        "v_resume",
        "v_scan",
        "v_sid",
        "v_xfer_start",
        "xfer_start",
    )

    def __init__(self, table: TaskTable, width: int, size: int = 1024) -> None:
        self.table = table
        self.phase = np.zeros(size, dtype=np.int8)
        self.cap = np.zeros(size)
        """Ceiling of the task's transfer, bytes/s (its per-thread limit)."""
        self.res = np.zeros((size, width), dtype=np.int64)
        """Resource row: one column per use of a capacity limit (``demand.py``); 0: none."""
        self.coef = np.zeros((size, width))
        """Coefficient of each column: units of the resource per byte moved."""
        self.overhead = np.zeros(size)
        """Per-object overhead on the thread before the transfer, seconds."""
        self.comp = np.ones(size)
        """Bytes written per byte read (compression ratio; 1 for copies and restores)."""
        self.xfer_start = np.zeros(size)
        self.fail_frac = np.full(size, -1.0)
        """Share of its bytes after which the current attempt fails (-1: it does not)."""
        self.resume = np.zeros(size)
        """Source bytes of a task already saved at a checkpoint (handoff, crash)."""
        self.fixed_rate = np.zeros(size, dtype=bool)
        """Per task: its own resources (all but its proxy's) are unlimited and its ceiling is
        finite, so on a proxy without limits it is a fixed-rate server (``World._begin_transfer``).
        """
        self.scan = np.zeros(size)
        """Per-object CPU of the task's scan, in bytes of processing (its proxy's processing
        resource, ``limits`` record ``processing``): CPU seconds x bytes per core-second. 0: the
        scan costs no CPU (synthetic mode), so it is a plain timer of ``overhead``."""
        self.sid = np.zeros(size, dtype=np.int64)
        """Per task: the id of its non-proxy resource columns and their coefficients (tasks of
        one session with the same id share one resource map, see ``demand.Demand.pairs``)."""
        self.delta = np.zeros(size, dtype=np.int64)
        """Per task: the RU resource an unchanged OneDrive/SharePoint backup charges its delta
        request to (``World.charge_delta``), else 0."""
        self.graph = np.zeros(size, dtype=bool)
        """Per task: its tenant's Exchange path was Graph when it was made (else EWS)."""
        self.ews = np.zeros(size, dtype=bool)
        """Per task: an Exchange backup on the EWS path (its transfer needs a connection,
        ``throttle.EwsGate``)."""
        self._bind()

    def _bind(self) -> None:
        """Memoryviews over the columns, for scalar access on the hot path (see
        ``trace.int_view``); rebound whenever the columns are reallocated."""
        self.v_phase = int8_view(self.phase)
        self.v_cap = float_view(self.cap)
        self.v_overhead = float_view(self.overhead)
        self.v_comp = float_view(self.comp)
        self.v_xfer_start = float_view(self.xfer_start)
        self.v_fail_frac = float_view(self.fail_frac)
        self.v_resume = float_view(self.resume)
        self.v_fixed_rate = bool_view(self.fixed_rate)
        self.v_sid = int_view(self.sid)
        self.v_scan = float_view(self.scan)
        self.v_ews = bool_view(self.ews)
        self.v_delta = int_view(self.delta)

    def grow(self, need: int) -> None:
        """Room for task ids below ``need`` (doubling; new rows are zero, every column is set
        when a task is created or started)."""
        if need <= self.phase.shape[0]:
            return
        size = max(need, 2 * self.phase.shape[0])
        for name in _COLUMNS:
            old = getattr(self, name)
            new = np.zeros((size, *old.shape[1:]), dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        self._bind()

    def left_bytes(self, task: int) -> float:
        """Source bytes a task still has to move (its work less what a checkpoint saved)."""
        return self.table.v.work_bytes[task] - self.v_resume[task]

    def attempt_work(self, task: int) -> float:
        """Bytes this attempt moves: all of them, or the share after which it fails."""
        work = self.table.v.work_bytes[task] - self.v_resume[task]
        frac = self.v_fail_frac[task]
        return work * frac if frac >= 0.0 else work

    def record_bytes(self, task: int, moved: float, bott: Bottleneck | None) -> None:
        """Add an attempt's bytes and bottleneck seconds to the task's trace columns."""
        t = self.table.v
        t.bytes_read[task] += moved
        t.bytes_written[task] += moved * self.v_comp[task]
        if bott is not None:
            # adding a zero leaves a column unchanged (they start at 0 and only grow): skip it
            thread_s, source_s, proxy_s, target_s = bott
            if thread_s:
                t.thread_s[task] += thread_s
            if source_s:
                t.source_s[task] += source_s
            if proxy_s:
                t.proxy_s[task] += proxy_s
            if target_s:
                t.target_s[task] += target_s
