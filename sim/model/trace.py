"""Columnar trace buffers filled by the model and turned into DataFrames after the run.

The hot path only writes numbers into preallocated numpy columns; no per-task objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: task status codes
PENDING, DONE, FAILED, CANCELLED = 0, 1, 2, 3
STATUS_NAMES = ("pending", "done", "failed", "cancelled")
#: why a task failed (its last attempt)
NO_FAILURE, OBJECT_ERROR, PROXY_CRASH = 0, 1, 2
FAIL_REASONS = ("", "object_error", "proxy_crash")

_INT_COLUMNS = (
    "job",
    "session",
    "object",
    "tenant",
    "workload",
    "otype",
    "proxy",
    "attempts",
    "reassignments",
    "status",
    "full",
    "changed",
    "throttled_requests",
    "slowdown_requests",
    "fail_reason",
)
_FLOAT_COLUMNS = (
    "ready",
    "start",
    "end",
    "work_bytes",
    "bytes_read",
    "bytes_written",
    "items",
    "redone_bytes",
    "thread_s",
    "source_s",
    "proxy_s",
    "target_s",
)


def int_view(column: np.ndarray) -> memoryview[int]:
    """A memoryview over an int64 column: the same memory, read and written as Python ints.

    On the hot path a memoryview item costs about a third of a numpy scalar access.
    """
    return column.data.cast("B").cast("q")


def float_view(column: np.ndarray) -> memoryview[float]:
    """A memoryview over a float64 column (see ``int_view``)."""
    return column.data.cast("B").cast("d")


def int8_view(column: np.ndarray) -> memoryview[int]:
    """A memoryview over an int8 column (see ``int_view``)."""
    return column.data.cast("B").cast("b")


def bool_view(column: np.ndarray) -> memoryview[bool]:
    """A memoryview over a bool column (see ``int_view``)."""
    return column.data.cast("B").cast("?")


class TaskViews:
    """Memoryviews over the columns of a ``TaskTable`` (rebound when the table grows)."""

    __slots__ = (*_INT_COLUMNS, *_FLOAT_COLUMNS)

    job: memoryview[int]
    session: memoryview[int]
    object: memoryview[int]
    tenant: memoryview[int]
    workload: memoryview[int]
    otype: memoryview[int]
    proxy: memoryview[int]
    attempts: memoryview[int]
    reassignments: memoryview[int]
    status: memoryview[int]
    full: memoryview[int]
    changed: memoryview[int]
    throttled_requests: memoryview[int]
    slowdown_requests: memoryview[int]
    fail_reason: memoryview[int]
    ready: memoryview[float]
    start: memoryview[float]
    end: memoryview[float]
    work_bytes: memoryview[float]
    bytes_read: memoryview[float]
    bytes_written: memoryview[float]
    items: memoryview[float]
    redone_bytes: memoryview[float]
    thread_s: memoryview[float]
    source_s: memoryview[float]
    proxy_s: memoryview[float]
    target_s: memoryview[float]

    def __init__(self, cols: dict[str, np.ndarray]) -> None:
        for name in _INT_COLUMNS:
            setattr(self, name, int_view(cols[name]))
        for name in _FLOAT_COLUMNS:
            setattr(self, name, float_view(cols[name]))


class TaskTable:
    """Growable columnar table, one row per task (one object in one job session)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._cap = capacity
        self.cols: dict[str, np.ndarray] = {}
        # zeros (pages the kernel maps on first write); ``reserve`` sets the non-zero initial
        # values (start and end NaN, proxy -1) of the rows it hands out
        for name in _INT_COLUMNS:
            self.cols[name] = np.zeros(capacity, dtype=np.int64)
        for name in _FLOAT_COLUMNS:
            self.cols[name] = np.zeros(capacity, dtype=np.float64)
        self._bind()

    def _bind(self) -> None:
        c = self.cols
        self.job, self.session, self.object = c["job"], c["session"], c["object"]
        self.tenant, self.workload, self.otype = c["tenant"], c["workload"], c["otype"]
        self.proxy, self.attempts, self.reassignments = (
            c["proxy"],
            c["attempts"],
            c["reassignments"],
        )
        self.status, self.full = c["status"], c["full"]
        self.changed = c["changed"]
        """1 where the object changed since its last backup (or is read in full), 0 where the
        session only scanned it: it transfers nothing and is still done."""
        self.throttled_requests = c["throttled_requests"]
        self.slowdown_requests = c["slowdown_requests"]
        self.fail_reason = c["fail_reason"]
        self.ready, self.start, self.end = c["ready"], c["start"], c["end"]
        self.work_bytes, self.bytes_read = c["work_bytes"], c["bytes_read"]
        self.bytes_written, self.items, self.redone_bytes = (
            c["bytes_written"],
            c["items"],
            c["redone_bytes"],
        )
        self.thread_s, self.source_s, self.proxy_s, self.target_s = (
            c["thread_s"],
            c["source_s"],
            c["proxy_s"],
            c["target_s"],
        )
        self.v = TaskViews(c)
        """Scalar access to the same columns for the hot path (``t.v.start[task] = now``)."""

    def reserve(self, count: int) -> range:
        """Append ``count`` empty rows and return their ids."""
        need = self.n + count
        if need > self._cap:
            self.ensure(max(need, 2 * self._cap))
        ids = range(self.n, need)
        c = self.cols
        c["start"][self.n : need] = np.nan
        c["end"][self.n : need] = np.nan
        c["proxy"][self.n : need] = -1
        self.n = need
        return ids

    def ensure(self, capacity: int) -> None:
        """Room for ``capacity`` rows without reallocating (the builder's estimate of a run's
        tasks saves the copies of doubling; rows not yet handed out cost no memory)."""
        if capacity <= self._cap:
            return
        for name, arr in self.cols.items():
            grown = np.zeros(capacity, dtype=arr.dtype)
            grown[: self.n] = arr[: self.n]
            self.cols[name] = grown
        self._cap = capacity
        self._bind()

    @property
    def capacity(self) -> int:
        """Rows allocated (``n`` of them handed out)."""
        return self._cap

    def columns(self) -> dict[str, np.ndarray]:
        """The filled part of every column (views)."""
        return {name: arr[: self.n] for name, arr in self.cols.items()}


class Timeseries:
    """Bytes moved per proxy per time bucket, exact for piecewise-constant rates."""

    def __init__(self, n_proxies: int, bucket_s: float) -> None:
        self.bucket_s = bucket_s
        self.n_proxies = n_proxies
        self.data = np.zeros((64, max(n_proxies, 1)))
        self.cells = self.data.data.cast("B").cast("d", self.data.shape)
        """The same memory as ``data``, for one-cell updates (see ``int_view``)."""
        self.rows = self.data.shape[0]
        """Buckets allocated (rows of ``data``)."""
        self.sync: Callable[[], None] | None = None
        """Called before the buckets are read (the fluid settles its lazy accounts)."""

    def _grow(self, last_bucket: int) -> None:
        if last_bucket >= self.data.shape[0]:
            rows = max(last_bucket + 1, 2 * self.data.shape[0])
            grown = np.zeros((rows, self.data.shape[1]))
            grown[: self.data.shape[0]] = self.data
            self.data = grown
            self.cells = grown.data.cast("B").cast("d", grown.shape)
            self.rows = rows

    def add_bytes(self, t0: float, t1: float, proxy: np.ndarray, rate: np.ndarray) -> None:
        """Credit each proxy with ``rate * overlap`` bytes for every bucket in [t0, t1)."""
        per_proxy = np.bincount(proxy, rate, minlength=self.data.shape[1])
        b = self.bucket_s
        first = int(t0 // b)
        last = math.ceil(t1 / b) - 1
        last = max(last, first)
        self._grow(last)
        if first == last:
            self.data[first] += per_proxy * (t1 - t0)
            return
        for k in range(first, last + 1):
            lo = max(t0, k * b)
            hi = min(t1, (k + 1) * b)
            if hi > lo:
                self.data[k] += per_proxy * (hi - lo)

    def add_bytes_one(self, t0: float, t1: float, proxy: int, rate: float) -> None:
        """``add_bytes`` for one proxy at one rate (the same sums, without temporary arrays)."""
        b = self.bucket_s
        first = int(t0 // b)
        last = math.ceil(t1 / b) - 1
        if last < first:
            last = first
        if last >= self.rows:
            self._grow(last)
        cells = self.cells
        if first == last:
            cells[first, proxy] += rate * (t1 - t0)
            return
        for k in range(first, last + 1):
            lo = max(t0, k * b)
            hi = min(t1, (k + 1) * b)
            if hi > lo:
                cells[k, proxy] += rate * (hi - lo)

    def buckets(self) -> np.ndarray:
        """Rows up to the last bucket with any bytes."""
        if self.sync is not None:
            self.sync()
        nz = np.flatnonzero(self.data.any(axis=1))
        end = int(nz[-1]) + 1 if nz.size else 0
        return self.data[:end]
