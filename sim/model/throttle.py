"""Request-level throttling: a budget that answers "too many requests" when it is empty.

The fluid semantics caps a shared resource's rate at its budget (max-min sharing does the rest).
The request semantics lets transfers run at the rate they ask for until the budget is spent and
then rejects their requests: Microsoft 365 answers ``429 Too Many Requests`` with ``Retry-After``
and still charges the rejected requests against the budget (vb365 fact 26); Amazon S3 answers
``503 Slow Down`` when a prefix's request rate is exceeded and re-partitions under sustained load
(vb365 fact 31).

The budget is a token bucket with debt, the burst/recharge model Exchange documents for its own
budgets (vb365 fact 24): it holds at most ``burst`` units (one window's budget), recharges at
``refill`` units per second, and is spent by the resource's usage. When it reaches zero, every
transfer using the resource has one request rejected (each rejection costs ``reject_cost``, so the
balance goes negative) and all of them wait ``retry_after``. On retry, a positive balance lets
them run again; otherwise each is rejected again and waits twice as long as the time before
(exponential backoff, at most 64 x ``retry_after``), so the rejected requests' own cost cannot
keep the bucket empty for ever. The long-run rate never exceeds the fluid cap, and rejected
requests make it lower.

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
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import simpy

    from sim.model.sharing import FluidSharing


MAX_BACKOFF_DOUBLINGS = 6
"""A retry rejected again waits twice as long, at most 64 x Retry-After."""


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
        tasks = self._waiting()
        if tasks.size == 0:
            return False
        self.rejected += int(tasks.size)
        self.balance -= self.reject_cost * tasks.size
        self.on_rejected(tasks)
        return True

    def _close(self) -> None:
        if self.open:
            self.open = False
            self._closed_at = self.env.now
            self._version += 1
            self.sharing.set_capacity(self.resource, 0.0)

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
        self._reject()
        self._close()
        if self.on_empty is not None:
            self.on_empty()
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        # Retry-After first; a retry that is rejected again backs off exponentially, so the
        # rejected requests' own cost can never keep the bucket in debt for ever
        wait = self.retry_after * 2.0 ** min(self._round, MAX_BACKOFF_DOUBLINGS)
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
            self._schedule_retry()
        else:
            self._open()  # nobody is waiting: the next request finds the bucket as it is

    def hold(self, closed: bool) -> None:
        """Close the resource regardless of the bucket (``True``) or release it (``False``)."""
        self._integrate()
        if closed:
            self.held = True
            self._close()
        elif self.held:
            self.held = False
            self._retry()

    def closed_seconds(self) -> float:
        """Seconds the resource was closed so far."""
        extra = 0.0 if self.open else self.env.now - self._closed_at
        return self.closed_s + extra
