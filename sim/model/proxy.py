"""A backup proxy: thread slots, a local FIFO queue (push policies), capacity resources.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
vb365 fact 8: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_upgrade_pool.html
"""

from __future__ import annotations

from collections import deque

#: proxy states (vb365 facts 2, 6, 8): only ACTIVE members take new work
ACTIVE, MAINTENANCE, FAILED, INACTIVE, REMOVED = (
    "active",
    "maintenance",
    "failed",
    "inactive",
    "removed",
)
ENABLING = "enabling"
"""Maintenance requested in 'drain' mode: running objects finish here, no new ones
(MaintenanceModeState Enabling, vb365 fact 2)."""
VACATION = "vacation"
"""Synthetic mode only: away, found nothing to do (multiple vacations, Fuhrmann & Cooper 1985)."""


class Proxy:
    """One proxy server. ``capacity_bps`` is its nominal processing rate (cores x OS);
    ``threads`` its thread slots, fewer than the scenario's where its memory cannot hold them."""

    __slots__ = (
        "busy",
        "busy_thread_s",
        "bytes_read",
        "capacity_bps",
        "core_bps",
        "cores",
        "cores_free",
        "direct",
        "direct_bps",
        "idx",
        "limited",
        "name",
        "overhead_bytes",
        "pool",
        "queue",
        "queued_bytes",
        "res_processing",
        "res_row",
        "res_throttle",
        "scan_wait",
        "scanning",
        "state",
        "tasks_done",
        "threads",
    )

    def __init__(self, idx: int, name: str, threads: int, capacity_bps: float) -> None:
        self.idx = idx
        self.name = name
        self.threads = threads
        self.busy = 0
        self.queue: deque[int] = deque()
        self.queued_bytes = 0.0
        self.overhead_bytes = 0.0
        """Work of tasks on a thread that are still in their per-object overhead phase."""
        self.direct: set[int] = set()
        """Tasks in a fixed-rate transfer outside the shared fluid (see World)."""
        self.direct_bps = 0.0
        """Their rates summed: the processing they use (one unit per byte)."""
        self.state = ACTIVE
        self.pool: int = -1
        self.capacity_bps = capacity_bps
        self.core_bps = capacity_bps
        """What one of its cores processes, bytes per second (a scan uses at most one)."""
        self.cores = 1
        self.cores_free = 1
        """Cores not held by a scan's per-object CPU (``demand.Demand.start_scan``)."""
        self.scan_wait: deque[tuple[int, int]] = deque()
        """Scans (task, attempt) waiting for a core, first come first served."""
        self.scanning: dict[int, int] = {}
        """Task -> attempt of the scans holding a core."""
        self.res_processing = 0
        self.res_throttle = 0
        self.res_row: tuple[int, ...] = ()
        self.limited = False
        """Whether any of its resources may bind (set by ``World.mark_limited``): if not, a
        task whose other resources cannot bind either is a fixed-rate server on it."""
        """Its resources in the order of the proxy records of ``limits.LIMITS``."""
        self.busy_thread_s = 0.0
        self.tasks_done = 0
        self.bytes_read = 0.0

    @property
    def free(self) -> int:
        """Free thread slots."""
        return self.threads - self.busy

    @property
    def can_take_work(self) -> bool:
        """Only active proxies are given new objects (vb365 fact 6)."""
        return self.state == ACTIVE
