"""Request-level throttling: a budget that answers "too many requests" when it is empty.

The fluid semantics caps a shared resource's rate at its budget (max-min sharing does the rest).
The request semantics lets transfers run at the rate they ask for until the budget is spent and
then rejects their requests: Microsoft 365 answers ``429 Too Many Requests`` with ``Retry-After``
and still charges the rejected requests against the budget (vb365 fact 26); Amazon S3 answers
``503 Slow Down`` when a prefix's request rate is exceeded and re-partitions under sustained load
(vb365 fact 31).

The budget is a token bucket with debt, the burst/recharge model Exchange documents for its own
budgets (vb365 fact 24): it holds at most ``burst`` units (one window's budget), recharges at
``refill`` units per second, and is spent by the resource's usage. When it reaches zero, the
threads over the recharge are answered 429 (or ErrorServerBusy / 503), not every thread: of the
``n`` transfers using the resource, ``k = ceil(n x (1 - refill / usage))`` (at least one) have one
request rejected, chosen at random (each rejection costs ``reject_cost``, so the balance goes
negative). The rejected threads wait Retry-After x (1 + U(0, jitter)) each (per-thread jitter);
in the fluid model their share of the resource is idle meanwhile, so the resource runs at
``refill x (1 - k / n)`` and the others go on. After the mean wait a positive balance lets every
thread run again; otherwise the round repeats and waits twice as long as the one before
(exponential backoff, at most 64 x ``retry_after``), so the rejected requests' own cost cannot
keep the bucket empty for ever. The long-run rate never exceeds the fluid cap, and rejected
requests make it lower.

``account_requests`` counts, after a run and in aggregate per task, the Microsoft 365 requests
each task issued (items in batches per request kind, item discovery, retries) and, under fluid
throttling, the 429 / ErrorServerBusy answers that the fluid rate stands for: a thread held
below its ceiling by a Microsoft 365 limit moves on and off, waiting one back-off after each
rejected request, so its rejected requests are the time it lost over the back-off.

Between two changes of the resource's usage the balance is linear in time, so the moment it
empties is computed exactly; :class:`~sim.model.sharing.FluidSharing` calls :meth:`changed` after
every change of usage.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 24: https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 31: https://repost.aws/knowledge-center/http-5xx-errors-s3
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.defaults import DISCOVERY_ITEMS_PER_REQUEST as DISCOVERY_ITEMS
from sim.defaults import PERMISSION_REQUESTS_PER_OBJECT as PERMISSION_REQUESTS
from sim.model.clock import call_later
from sim.model.tasks import DIRECT, OVERHEAD, TRANSFER

if TYPE_CHECKING:
    import simpy

    from sim.model.sharing import FluidSharing


MAX_BACKOFF_DOUBLINGS = 6
"""A retry rejected again waits twice as long, at most 64 x Retry-After."""
MOVING = (TRANSFER, DIRECT)
"""Phases in which a task holds its EWS connection."""
PURGE_EVERY_S = 60.0
"""How often a full EWS gate looks for holders that ended without ``release`` (a safety net)."""
THROTTLE_STREAM = 17
"""Random stream kind of the request budgets (which threads are rejected; see ``rng.stream``)."""


class RequestBudget:
    """Request-level limit on one resource of a :class:`FluidSharing` (see module docstring)."""

    def __init__(
        self,
        env: simpy.Environment,
        sharing: FluidSharing,
        resource: int,
        *,
        refill: float,
        burst: float,
        reject_cost: float,
        retry_after: float,
        on_rejected: Callable[[np.ndarray], None],
        jitter: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        if refill <= 0.0 or burst <= 0.0 or retry_after <= 0.0 or reject_cost < 0.0:
            raise ValueError("a request budget needs refill, burst and retry_after > 0")
        self.env = env
        self.sharing = sharing
        self.resource = resource
        self.refill = refill
        self.burst = burst
        self.reject_cost = reject_cost
        self.retry_after = retry_after
        self.on_rejected = on_rejected
        self.jitter = jitter
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.balance = burst
        """Units left in the bucket at time ``self.t`` (negative: debt of rejected requests)."""
        self.t = env.now
        self.rate = 0.0
        """The resource's usage (units/s) since ``self.t``."""
        self.open = True
        self.held = False
        """Closed from outside (a spent daily budget) until :meth:`hold` releases it."""
        self.rejected = 0
        """Requests rejected so far."""
        self.episodes = 0
        """Times the bucket ran empty."""
        self.closed_s = 0.0
        self._closed_at = math.nan
        self._version = 0
        self._round = 0
        """Consecutive rejection rounds of the current episode (the backoff exponent)."""
        self._over = 1.0
        self._share = 0.0
        """Share of the recharge the threads not rejected may use during an episode."""
        self.on_empty: Callable[[], None] | None = None
        """Called each time the bucket runs empty (S3 re-partitioning hooks in here)."""
        sharing.capacity[resource] = math.inf
        sharing.watch(resource, self.changed)

    # -- bucket arithmetic ---------------------------------------------------------------------
    def _integrate(self) -> None:
        now = self.env.now
        dt = now - self.t
        if dt > 0.0:
            self.balance = min(self.burst, self.balance + (self.refill - self.rate) * dt)
        self.t = now

    def changed(self) -> None:
        """The resource's usage may have changed: settle the balance and re-arm the timer."""
        self._integrate()
        self.rate = float(self.sharing.used[self.resource])
        self._arm()

    def _arm(self) -> None:
        self._version += 1
        if not self.open or self.rate <= self.refill:
            return
        dt = max(self.balance, 0.0) / (self.rate - self.refill)
        version = self._version
        ev = self.env.timeout(dt)
        ev.callbacks.append(lambda _e: self._empty(version))

    def charge(self, units: float) -> None:
        """Take ``units`` from the bucket at once (a request that moves no bytes); a bucket it
        empties while the transfers use more than the recharge starts a rejection episode."""
        self._integrate()
        self.balance -= units
        self._arm()

    def set_refill(self, refill: float, burst: float) -> None:
        """Change the recharge rate and bucket size from now on (S3 re-partitioning)."""
        self._integrate()
        self.refill = refill
        self.burst = burst
        self._arm()

    # -- rejection and retry -------------------------------------------------------------------
    def _waiting(self) -> np.ndarray:
        """Tasks whose transfer uses the resource now (each has a request in flight)."""
        return self.sharing.tasks_using(self.resource)

    def _reject(self) -> bool:
        """Reject one request of each thread over the recharge (at least one thread)."""
        tasks = self._waiting()
        n = int(tasks.size)
        if n == 0:
            return False
        k = min(n, max(1, math.ceil(n * self._over - 1e-9)))
        if k < n:
            tasks = np.sort(self.rng.choice(tasks, size=k, replace=False))
        self.rejected += k
        self.balance -= self.reject_cost * k
        self.on_rejected(tasks)
        self._share = 1.0 - k / n
        return True

    def _close(self) -> None:
        if self.open:
            self.open = False
            self._closed_at = self.env.now
            self._version += 1
        # the rejected threads' share is idle while they wait; a hold closes it all
        cap = 0.0 if self.held else self.refill * self._share
        self.sharing.set_capacity(self.resource, cap)

    def _open(self) -> None:
        self._round = 0
        if not self.open:
            self.open = True
            self.closed_s += self.env.now - self._closed_at
            self.sharing.set_capacity(self.resource, math.inf)

    def _empty(self, version: int) -> None:
        if version != self._version or not self.open:
            return
        self._integrate()
        self.episodes += 1
        # the share of the usage over the recharge: that share of the threads is rejected,
        # now and at each retry of this episode
        self._over = 1.0 - self.refill / self.rate if self.rate > self.refill else 1.0
        self._share = 0.0
        self._reject()
        self._close()
        if self.on_empty is not None:
            self.on_empty()
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        # Retry-After first; a retry that is rejected again backs off exponentially, so the
        # rejected requests' own cost can never keep the bucket in debt for ever
        # each rejected thread waits Retry-After x (1 + U(0, jitter)): the episode lasts the mean
        wait = (
            self.retry_after
            * (1.0 + 0.5 * self.jitter)
            * 2.0 ** min(self._round, MAX_BACKOFF_DOUBLINGS)
        )
        self._round += 1
        ev = self.env.timeout(wait)
        ev.callbacks.append(lambda _e: self._retry())

    def _retry(self) -> None:
        if self.open or self.held:
            return
        self._integrate()
        if self.balance > 0.0:
            self._open()
        elif self._reject():
            self._close()
            self._schedule_retry()
        else:
            self._open()  # nobody is waiting: the next request finds the bucket as it is

    def hold(self, closed: bool) -> None:
        """Close the resource regardless of the bucket (``True``) or release it (``False``)."""
        self._integrate()
        if closed:
            self.held = True
            if self.open:
                self._close()
            else:  # in an episode: shut it all
                self.sharing.set_capacity(self.resource, 0.0)
        elif self.held:
            self.held = False
            self._retry()

    def closed_seconds(self) -> float:
        """Seconds the resource was closed so far."""
        extra = 0.0 if self.open else self.env.now - self._closed_at
        return self.closed_s + extra


def exchange_requests(items: np.ndarray, per_request: float | np.ndarray) -> np.ndarray:
    """Requests that read ``items`` Exchange items: batches of ``per_request`` items plus item
    discovery (one request per object and per 1,000 items: FindItem pages, vb365 fact 24)."""
    out: np.ndarray = np.ceil(items / per_request) + 1.0 + items / DISCOVERY_ITEMS
    return out


# -- EWS connections: a gate, not a fluid share ------------------------------------------------
class EwsGate:
    """EWSMaxConcurrency (vb365 fact 24): at most ``limit`` EWS connections per tenant (27 per
    account x accounts) transfer at once. A thread whose mailbox finds every connection taken is
    answered ErrorServerBusy and waits, holding its thread in the overhead phase (not transfer
    time), in a first-come first-served line; a connection freed (``release``: the transfer
    ended or was stopped) goes to the first waiter still there. Refusals are accounted in
    aggregate: the first at once, then one per mean back-off waited (the hint x (1 + jitter/2):
    a real thread asks again after its own jittered back-off; the line gives it the connection
    when it frees rather than at its next ask, a difference of less than one back-off). Stale
    holders (a path that ended a transfer without ``release``) are let go at most every
    ``PURGE_EVERY_S`` while the gate is full."""

    def __init__(
        self,
        world: Any,
        limits: list[int],
        backoff_s: list[float],
        jitter: list[float],
    ) -> None:
        self.world = world
        self.limits = limits
        self.mean_wait_s = [b * (1.0 + 0.5 * j) for b, j in zip(backoff_s, jitter, strict=True)]
        self.held: list[dict[int, int]] = [{} for _ in limits]
        """Per tenant: task -> attempt holding a connection."""
        self.line: list[deque[tuple[int, int]]] = [deque() for _ in limits]
        """Per tenant: (task, attempt) waiting for a connection, first come first."""
        self.since: dict[int, float] = {}
        """Waiting task -> when it was first refused."""
        self.purged = [-math.inf] * len(limits)
        self.refused = 0.0

    def admit(self, task: int) -> bool:
        """Whether ``task`` may transfer now (it then holds a connection); otherwise it waits
        for one (``World._after_overhead`` is called back when one frees)."""
        w = self.world
        t = w.tasks.v
        tenant = t.tenant[task]
        held = self.held[tenant]
        limit = self.limits[tenant]
        if len(held) < limit and task not in self.since:  # the common case
            held[task] = t.attempts[task]
            return True
        if len(held) >= limit:
            now = w.env._now
            if now - self.purged[tenant] >= PURGE_EVERY_S:
                self.purged[tenant] = now
                phase, attempts = w.state.v_phase, t.attempts
                for k in [k for k, a in held.items() if phase[k] not in MOVING or attempts[k] != a]:
                    del held[k]
            if len(held) >= limit:
                if task not in self.since:
                    self.since[task] = now
                    t.throttled_requests[task] += 1
                    self.refused += 1
                self.line[tenant].append((task, t.attempts[task]))
                return False
        self._take(task, tenant)
        return True

    def _take(self, task: int, tenant: int) -> None:
        """``task`` takes a connection of ``tenant``'s; its refusals while it waited, if it
        did, are counted (one per mean back-off)."""
        w = self.world
        t = w.tasks.v
        since = self.since.pop(task, None)
        if since is not None:
            more = math.floor((w.env._now - since) / self.mean_wait_s[tenant])
            t.throttled_requests[task] += more
            self.refused += more
        self.held[tenant][task] = t.attempts[task]

    def release(self, task: int, now: bool = True) -> None:
        """A transfer on the EWS path ended or stopped: its connection goes to the first waiter
        still waiting, at once (``now``: from a completion) or at the end of this instant
        (from a stop, so the caller's own loop finishes first)."""
        w = self.world
        tenant = w.tasks.v.tenant[task]
        if self.held[tenant].pop(task, None) is None:
            return
        line = self.line[tenant]
        if not line:
            return
        phase, attempts = w.state.v_phase, w.tasks.v.attempts
        while line:
            k, a = line.popleft()
            if phase[k] == OVERHEAD and attempts[k] == a:
                if now:  # the connection just freed: what admit would do, then the transfer
                    self._take(k, tenant)
                    w._begin_transfer(k, admitted=True)
                else:
                    call_later(w.env, 0.0, (k, a), w._after_overhead)
                return
            self.since.pop(k, None)


# -- aggregate request accounting ------------------------------------------------------------
def requests_of_tasks(world: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per task: Microsoft 365 requests issued (retries included) and the throttled ones
    (429 / ErrorServerBusy), accounted in aggregate after the run (see module docstring).

    Requests by kind: Exchange reads batches of ``ews_items_per_request`` (EWS) or
    ``graph_items_per_request`` (Graph exportItems) items plus discovery pages;
    OneDrive/SharePoint one download per item, delta pages and permission reads on a full
    (vb365 fact 26); Teams one request per message; restores one write per item. Bytes redone
    (a retry, a restart) issue their requests again. Backup copies and synthetic tasks issue
    none. Throttled requests: those the request-level budgets counted (``throttled_requests``)
    plus, for fluid limits, the time each task lost below its ceiling to Microsoft 365 (its
    source-bound share of it) over the mean back-off: Retry-After x (1 + jitter/2),
    or the ErrorServerBusy hint on the EWS path.
    """
    t = world.tasks
    n = t.n
    cols = t.columns()
    issued = np.zeros(n)
    modelled = np.zeros(n)
    if n == 0 or not world.tenants or world.synthetic is not None:
        return issued, modelled
    items = cols["items"].astype(float)
    work = cols["work_bytes"].astype(float)
    read = cols["bytes_read"].astype(float)
    wl = cols["workload"]
    job = cols["job"]
    tenant = cols["tenant"]
    full = cols["full"].astype(float)
    graph = world.state.graph[:n]
    job_type = np.asarray([j.type for j in world.scenario.jobs])[job]
    specs = [tn.spec for tn in world.tenants]

    def per_tenant(name: str) -> np.ndarray:
        out: np.ndarray = np.asarray([float(getattr(sp, name)) for sp in specs])[tenant]
        return out

    exch = wl == 0  # defaults.WORKLOADS order: exchange, onedrive, sharepoint, teams
    batch = np.where(
        graph, per_tenant("graph_items_per_request"), per_tenant("ews_items_per_request")
    )
    files = (wl == 1) | (wl == 2)
    backup = job_type == "backup"
    restore = job_type == "restore"
    base = np.zeros(n)
    base = np.where(backup & exch, exchange_requests(items, batch), base)
    base = np.where(
        backup & files,
        items + 1.0 + items / DISCOVERY_ITEMS + full * PERMISSION_REQUESTS,
        base,
    )
    base = np.where(backup & (wl == 3), items, base)
    base = np.where(restore, items, base)
    with np.errstate(divide="ignore", invalid="ignore"):
        again = np.where(work > 0, np.maximum(read / work, 1.0), 1.0)
    base = base * again
    # fluid throttling: time lost below the ceiling, attributed to Microsoft 365 by its share
    source_s = cols["source_s"]
    total = cols["thread_s"] + source_s + cols["proxy_s"] + cols["target_s"]
    cap = world.state.cap[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        ideal = np.where(cap > 0, read / cap, total)
        lost = np.maximum(total - ideal, 0.0)
        m365 = np.where(total > 0, source_s / total, 0.0)
    fluid = np.asarray([sp.throttling == "fluid" for sp in specs])[tenant]
    ews = exch & ~graph & backup
    # request-level tenants count their 429s themselves (as the EWS connection gate does)
    share = np.where(fluid, m365, 0.0)
    wait = np.where(
        ews,
        per_tenant("ews_backoff"),
        per_tenant("retry_after") * (1.0 + 0.5 * per_tenant("retry_jitter")),
    )
    # an unchanged OneDrive/SharePoint object still asks for its delta (one request, 1 RU)
    m365_task = ((backup | restore) & (items > 0)) | (backup & files)
    modelled = np.where(m365_task, lost * share / wait, 0.0)
    counted = cols["throttled_requests"].astype(float)
    throttled = counted + modelled
    issued = np.where(m365_task | (counted > 0), base + throttled, 0.0)
    return issued, throttled
