"""The work the pool roles and the configuration database do for a session.

Roles (vb365 fact 2): "Veeam Backup for Microsoft 365 assigns various roles to backup proxy
servers within a backup proxy pool … for scheduling, creating and stopping job sessions, running
backup and backup copy jobs, resolving objects, synchronization of backed-up objects metadata."
Which role does which part is not published: poolsim puts **resolving** a session's objects on
the pool's **Scheduler** (it creates the session) and **metadata synchronisation** on its
**Orchestrator** (INFERRED); a job whose repository a standalone proxy owns does both on that
proxy. The work is CPU: ``cpu_s`` seconds of one Windows core (``calibration.
resolve_cpu_per_object`` and ``metadata_cpu_per_object`` times the objects, INFERRED), run on
one core of the holder (a Linux core is faster by ``linux_efficiency``), at the speed the
holder's transfers leave that core, as a scan does (``demand.Demand.scan_speed``). It takes
that core first come first served with the objects' scans (``demand.Demand.claim_core``), so
while it runs the holder's own objects have one core fewer, and a holder whose cores are all
busy resolves later. When the holder leaves the role (maintenance, failure, removal), the work
stops and what remains continues on the next holder once the role has failed over
(``Lifecycle.role_ready``).

The configuration database (vb365 fact 17: PostgreSQL on an SSD with at least 5,000 IOPS,
``max_connections = 1000``): a session's metadata phase costs
``metadata_ios_per_object`` I/O operations per processed object (INFERRED); the sessions syncing
at once share ``db_iops`` equally (processor sharing) and each holds one of ``db_connections``
connections while it syncs (the others queue, first come first served).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 17: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from sim.model.world import World

RESOLVE_ROLE = "scheduler"
"""The role that resolves a session's objects (INFERRED: it creates the session, vb365 fact 2)."""
METADATA_ROLE = "orchestrator"
"""The role that synchronises a session's metadata (INFERRED: it runs the jobs, vb365 fact 2)."""
_EPS = 1e-9


def role_work(world: World, job: int, role: str, cpu_s: float) -> Generator[Any, Any, None]:
    """Run ``cpu_s`` Windows core-seconds of ``role``'s work for ``job`` on the role's holder
    (see the module docstring); returns when it is done. Nothing happens for ``cpu_s <= 0``."""
    if cpu_s <= 0.0:
        return
    env = world.env
    owner = world.job_owner[job]
    bps = float(world.scenario.calibration.bps_per_core)
    left = cpu_s
    while left > _EPS:
        if owner < 0:
            px = world.proxies[-1 - owner]
        else:
            wait = world.lifecycle.role_ready(owner, role)
            if wait is not None:
                yield wait
                continue
            px = world.proxies[world.pools[owner].roles[role]]
        core = world.demand.claim_core(px)
        gone = world.lifecycle.role_gone(owner, role, px.idx) if owner >= 0 else None
        if not core.triggered:
            if gone is None:
                yield core
            else:
                yield core | gone
                if not core.triggered:  # the holder left before a core came free
                    world.demand.cancel_claim(px, core)
                    continue
        start = env.now
        speed = world.demand.scan_speed(px) / bps if bps > 0.0 else 1.0
        log = world.demand.scan_log
        if log is not None:  # the diagnostic of sim.metrics.cpu counts it like a scan
            log.append((px.idx, start, left / speed, speed * bps))
        done = env.timeout(left / speed)
        yield done if gone is None else done | gone
        left = 0.0 if done.processed else max(left - (env.now - start) * speed, 0.0)
        world.demand.release_core(px)


class ConfigDatabase:
    """The PostgreSQL configuration database: ``connections`` sessions sync at once (the others
    queue), sharing ``iops`` equally (processor sharing); see the module docstring."""

    def __init__(self, env: simpy.Environment, iops: float, connections: int) -> None:
        self.env = env
        self.iops = iops
        self.connections = simpy.Resource(env, capacity=connections)
        self._left: dict[int, float] = {}
        """Sync id -> I/O operations still to do (as of ``self._t``)."""
        self._done: dict[int, simpy.Event] = {}
        self._t = env.now
        self._next = 0
        self._version = 0

    def sync(self, ios: float) -> Generator[Any, Any, None]:
        """Write ``ios`` I/O operations of one session's metadata; returns when written."""
        with self.connections.request() as slot:
            yield slot
            if ios <= 0.0:
                return
            self._advance()
            k = self._next
            self._next += 1
            self._left[k] = ios
            ev = self._done[k] = self.env.event()
            self._arm()
            yield ev

    def _advance(self) -> None:
        now = self.env.now
        if self._left and now > self._t:
            spent = (now - self._t) * self.iops / len(self._left)
            for k in self._left:
                self._left[k] -= spent
        self._t = now

    def _arm(self) -> None:
        self._version += 1
        if not self._left:
            return
        version = self._version
        dt = max(min(self._left.values()), 0.0) * len(self._left) / self.iops
        timer = self.env.timeout(dt)
        timer.callbacks.append(lambda _e: self._finish(version))

    def _finish(self, version: int) -> None:
        if version != self._version:
            return
        self._advance()
        least = min(self._left.values())
        tol = self.iops * _EPS + abs(least) * 1e-12  # written within a nanosecond
        for k in [k for k, v in self._left.items() if v <= least + tol]:
            del self._left[k]
            self._done.pop(k).succeed()
        self._arm()

    @property
    def syncing(self) -> int:
        """Sessions writing metadata now."""
        return len(self._left)
