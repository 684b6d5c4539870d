"""How concurrent transfers share capacity: max-min fairness, re-evaluated on every change.

Each active transfer *i* has remaining work (bytes), a ceiling ``cap_i`` (bytes/s, the per-thread
limit) and uses up to ``K`` resources *r* with coefficients ``a_ir``: at rate ``x_i`` it consumes
``a_ir * x_i`` of resource *r*, whose capacity is ``C_r``. Rates are the max-min fair allocation
(progressive filling, Bertsekas & Gallager, *Data Networks*, 2nd ed., §6.5.2): all transfers
start at 0 and rise together; a transfer stops rising when it reaches its ceiling or when a
resource it uses is saturated. With one shared resource this is processor sharing; with
ceilings only it is a set of fixed-rate servers.

The allocation changes only when the set of active transfers or a capacity changes, so between
two changes every rate is constant and completion times are exact (no time stepping).
``FluidSharing`` finds the new allocation incrementally when one resource is the only bottleneck
(water-filling on it, O(log n) per change) and re-solves with ``max_min_rates`` otherwise (the
pure allocation functions live in ``maxmin.py``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from heapq import heappop, heappush

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.model.clock import Timer
from sim.model.maxmin import (
    CLASS_NAMES,
    CLS_THREAD,
    SLACK_MARGIN,
    SMALL_N,
    _dense,
    max_min_rates,
    one_resource_rates,
)
from sim.model.trace import Timeseries, float_view, int8_view, int_view

_new_timer = object.__new__
_TIME_TOL_S = 1e-9
_INF = math.inf
_ULP_BELOW_TOL_S = 2.0**21
"""Below this time four units in the last place of the clock are less than ``_TIME_TOL_S``
(4 x 2**-32 s)."""
_LEVEL_TOL = 1e-12
"""A ceiling within this (relative) of the water level counts as the ceiling."""
DROP_MARGIN = 1e-2
"""With two or more tracked resources, one that no row is bound to stops being tracked once its
fixed users leave it this much (relative) of its capacity (the margin keeps it from flapping)."""


def _pop_until(
    heap: list[tuple[float, int]], line: float, live: dict[int, int], due: list[int]
) -> None:
    """Pop the live entries keyed at or below ``line`` into ``due`` (stale ones are dropped)."""
    while heap:
        key, stamp = heap[0]
        if stamp not in live:
            heappop(heap)
        elif key <= line:
            heappop(heap)
            due.append(live[stamp])
        else:
            return


class _Level:
    """One tracked resource (saturated, its users below the level share it equally): its water
    level ``L``, the level's integral ``V`` (processor-sharing virtual time) and its bound rows."""

    __slots__ = (
        "L",
        "V",
        "cls",
        "h_bcap",
        "h_bound",
        "h_fcap",
        "mode",
        "n_bound",
        "p_nb",
        "r",
        "room",
        "shared",
        "vp_nb",
        "vw",
        "w",
    )

    def __init__(self, r: int, mode: int, cls: int, n_res: int, n_px: int) -> None:
        self.r = r
        self.mode = mode
        """The ``mode`` of the rows bound to it (its index + 1)."""
        self.cls = cls
        self.L = 0.0
        self.V = 0.0
        self.n_bound = 0
        self.w = np.zeros(n_res)
        """Sum of the coefficients of its bound rows (their usage is L x this)."""
        self.vw = float_view(self.w)
        self.p_nb = np.zeros(n_px)
        """Its bound rows per proxy (each moves at L)."""
        self.vp_nb = float_view(self.p_nb)
        self.h_bound: list[tuple[float, int]] = []
        """Finish levels of its bound rows (on V)."""
        self.h_bcap: list[tuple[float, int]] = []
        """Ceilings of its bound rows (min first)."""
        self.h_fcap: list[tuple[float, int]] = []
        """Ceilings of the fixed rows that use it (max first, negated)."""
        self.room = -math.inf
        """A lower bound of the level at which a resource its rows use (other than the tracked
        ones) would reach its slack line (see ``FluidSharing._others_hold``)."""
        self.shared = True
        """Whether another level's rows may use a resource its rows use (then a rise of either
        changes the other's room: every check is exact)."""


class FluidSharing:
    """The set of active transfers, their fair rates and their completion events.

    Every active transfer is a row (a row keeps its slot until it leaves) in one of two modes:

    - **fixed** (mode 0): it moves at its own ``rate`` until something changes it; its finish
      time is in a heap of times.
    - **bound** (mode g + 1): it uses the *tracked* resource of level g (a saturated resource,
      ``_Level``) and moves at that resource's common water level ``L``. Bound rows are anchored
      on the level's integral ``V`` (processor-sharing virtual time): a bound row finishes when
      ``V`` reaches its anchor plus its remaining bytes, so a change of ``L`` moves no row; the
      finish levels are in a heap per level.

    While every saturated resource is tracked (the usual state: one RU budget per tenant, each
    used by its own transfers) and no transfer uses two of them, a start or an end changes the
    allocation by water-filling on the one tracked resource it uses, in O(log n): the new level
    follows from two sums kept per resource (fixed usage, bound coefficients), rows cross between
    modes from two heaps keyed by their ceiling (a bound row whose ceiling falls below the level
    runs at its ceiling; a fixed user whose ceiling rises above it is bound), and every other
    resource must keep ``SLACK_MARGIN`` of headroom (checked on the changed row's resources, and
    on every resource when a level rises). That allocation is then exactly the max-min one: every
    transfer is at its ceiling or at the highest rate on a saturated resource it uses (see
    ``one_resource_rates``). Anything else (another resource saturating, a transfer on two
    tracked resources, a capacity change, a dead resource) re-solves the whole allocation with
    ``max_min_rates`` at the same instant, once for all the changes of that instant, and
    re-derives the levels from the answer. If the answer is not of that shape (a transfer held by
    two saturated resources, or unequal rates on one), the model is in *general* mode: every
    change that touches a saturated resource re-solves, the others are applied locally.

    Accounting is lazy and exact for piecewise-linear progress: a row's bytes and bottleneck
    seconds are settled when it changes mode or leaves; a proxy's bytes per time bucket at every
    bucket boundary (they are linear in t and in each level's ``V`` between changes); a
    resource's consumption (e.g. RU spent) when its sums change or ``consumed`` is read.
    ``on_done(task)`` is called once per finished transfer at its exact finish time, finished
    transfers of one instant in task order.
    """

    def __init__(
        self,
        env: simpy.Environment,
        capacity: np.ndarray,
        res_class: np.ndarray,
        max_active: int,
        timeseries: Timeseries,
        on_done: Callable[[int], None],
    ) -> None:
        self.env = env
        self.capacity = capacity.astype(float)
        self.res_class = res_class.astype(np.int8)
        self.on_done = on_done
        self.on_finished: Callable[[int, float, list[float]], None] | None = None
        """If set, called instead of ``on_done`` with the finished transfer's bytes and
        bottleneck seconds (what ``pop_finished`` would give), in the usual case of one
        transfer finishing alone; ``on_done`` still serves the others."""
        self.ts = timeseries
        timeseries.sync = self.flush
        size = max(max_active, 1)
        n_res = self.capacity.shape[0]
        self.n = 0
        # -- rows --------------------------------------------------------------------------
        self.task = np.zeros(size, dtype=np.int64)
        self.proxy = np.zeros(size, dtype=np.int64)
        self.cap = np.zeros(size)
        self.mode = np.zeros(size, dtype=np.int64)
        """0: fixed; g + 1: bound to level g."""
        self.rate = np.zeros(size)
        """Fixed rows: their rate. Bound rows: the level when they were last solved."""
        self.cls = np.zeros(size, dtype=np.int8)
        self.t0 = np.zeros(size)
        self.rem0 = np.zeros(size)
        self.v0 = np.zeros(size)
        self.work0 = np.zeros(size)
        self.seg = np.zeros(size)
        self.stamp = np.zeros(size, dtype=np.int64)
        self._bott: list[list[float]] = [[0.0] * len(CLASS_NAMES) for _ in range(size)]
        """Per slot: seconds spent limited by each bottleneck class (settled segments)."""
        self._free = list(range(size - 1, -1, -1))
        """Free slots (a row keeps its slot until it leaves)."""
        self._vtask = int_view(self.task)
        self._vproxy = int_view(self.proxy)
        self._vcap = float_view(self.cap)
        self._vmode = int_view(self.mode)
        self._vrate = float_view(self.rate)
        self._vcls = int8_view(self.cls)
        self._vt0 = float_view(self.t0)
        self._vrem0 = float_view(self.rem0)
        self._vv0 = float_view(self.v0)
        self._vwork0 = float_view(self.work0)
        self._vseg = float_view(self.seg)
        self._vstamp = int_view(self.stamp)
        self.row_of: dict[int, int] = {}
        self._pairs: dict[int, dict[int, float]] = {}
        """Per task: resource -> coefficient (positive coefficients only, slots summed)."""
        self._stamps = 0
        self._cap_version = 0
        self._slack_key: tuple[int, tuple[int, ...]] = (-1, (-1,))
        self._freed = False
        self._compact_in = 1024
        self._live: dict[int, int] = {}
        """Current anchor stamp of every row -> its task (heap entries with another stamp are
        stale)."""
        # -- resources -----------------------------------------------------------------------
        self.f_sum = np.zeros(n_res)
        """Capacity used by fixed rows (sum of coefficient x rate)."""
        self._c_base = np.zeros(n_res)
        """Consumption so far is ``_c_base + f_sum * t + sum over levels of w * V`` (kept
        continuous)."""
        self._vf = float_view(self.f_sum)
        self._vcb = float_view(self._c_base)
        self._vcapacity = float_view(self.capacity)
        self._slack = np.full(n_res, np.inf)
        """Usage above which a resource other than the tracked ones counts as saturating."""
        self._vslack = float_view(self._slack)
        self.bottleneck: np.ndarray = np.zeros(n_res, dtype=bool)
        """Resources saturated in the last full solve."""
        # -- proxies (time series) -------------------------------------------------------------
        n_px = max(timeseries.n_proxies, 1)
        self._p_rate = np.zeros(n_px)
        """Sum of the fixed rows' rates per proxy."""
        self._p_base = np.zeros(n_px)
        """Bytes moved so far per proxy are ``_p_base + _p_rate * t + sum over levels of
        p_nb * V``."""
        self._p_nf = [0] * n_px
        self._vp_rate = float_view(self._p_rate)
        self._vp_base = float_view(self._p_base)
        self._p_credited = np.zeros(n_px)
        """Bytes per proxy already written to the time series."""
        self._bucket = float(timeseries.bucket_s)
        self._mark_k = math.floor(env.now / self._bucket) + 1
        """The next bucket boundary (its index); at each one the buckets get their bytes."""
        self._mark_t = self._mark_k * self._bucket
        # -- level and mode --------------------------------------------------------------------
        self.t_last = float(env.now)
        self._levels: list[_Level] = []
        """The tracked resources (empty when none is saturated, or in general mode)."""
        self._by_mode: dict[int, _Level] = {}
        self._general = False
        self._h_fixed: list[tuple[float, int]] = []
        self._finished_stats: dict[int, tuple[float, list[float]]] = {}
        self._dirty = False
        self._version = 0
        self._timer_at = math.inf
        self._timer_cbs: tuple[Callable[[Timer], None]] | None = None
        """The timer's callbacks (``_on_timer``), made on the first arming."""
        self._timer_src: _Level | None = None
        """The level whose bound row the armed timer is for (None: a fixed row, or unknown)."""
        self._timer_key = 0.0
        """That row's finish on the level's integral ``V``."""
        self._timer_alt = math.inf
        """No row but those of ``_timer_src`` from ``_timer_key`` on finishes before this."""
        self.recomputes = 0
        self.promotions = 0
        """Resources that started being tracked without a full solve (``_promote``)."""
        self.local_updates = 0
        self.one_resource_solves = 0
        self._sole_bottleneck = -1
        self._watchers: dict[int, Callable[[], None]] = {}
        self._watch_seen: dict[int, float] = {}
        self._set_slack()

    # -- public reads --------------------------------------------------------------------------
    @property
    def used(self) -> np.ndarray:
        """Capacity in use per resource now (a new array)."""
        out: np.ndarray = self.f_sum.copy()
        for lv in self._levels:
            out += lv.L * lv.w
        return out

    @property
    def consumed(self) -> np.ndarray:
        """Capacity used so far per resource (integral of usage; e.g. RU spent), up to now."""
        self._advance()
        out: np.ndarray = self._c_base + self.f_sum * self.t_last
        for lv in self._levels:
            out += lv.w * lv.V
        return out

    def current_rates(self) -> np.ndarray:
        """The rate each active transfer moves at now, in the order of ``slots()``."""
        s = self.slots()
        mode = self.mode[s]
        out: np.ndarray = np.where(mode > 0, self._per_mode("L")[mode], self.rate[s])
        return out

    def _per_mode(self, name: str) -> np.ndarray:
        """A level attribute (``L`` or ``V``) by row mode (0 for fixed rows)."""
        out = np.zeros(max(self._by_mode, default=0) + 1)
        for m, lv in self._by_mode.items():
            out[m] = getattr(lv, name)
        return out

    @property
    def watched(self) -> list[int]:
        """The resources a callback watches (request budgets and throttles change them)."""
        return list(self._watchers)

    def watch(self, resource: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of ``resource``'s usage (request budgets)."""
        self._watchers[resource] = callback
        self._watch_seen[resource] = math.nan
        self._cap_version += 1  # a request budget lifts its resource's capacity when it attaches
        self._set_slack()

    def proxy_load(self, resource: int, proxy: int) -> tuple[float, float]:
        """(the usage of ``resource`` now, the transfers on ``proxy`` now) in O(levels): what a
        scan starting on ``proxy``, whose processing is ``resource``, shares its cores with."""
        u = self._vf[resource]
        k = float(self._p_nf[proxy])
        for lv in self._levels:
            u += lv.L * lv.vw[resource]
            k += lv.vp_nb[proxy]
        return u, k

    def stats(self, task: int) -> tuple[float, np.ndarray]:
        """Bytes moved so far and bottleneck seconds of an active transfer."""
        self._advance()
        i = self.row_of[task]
        rem = self._rem_of(i)
        bott = np.array(self._bott[i])
        bott[self._vcls[i]] += self.t_last - self._vseg[i]
        return self._vwork0[i] - rem, bott

    def remaining(self, task: int) -> float:
        """Bytes left of an active transfer."""
        self._advance()
        return self._rem_of(self.row_of[task])

    def remaining_by_proxy(self, n_proxies: int) -> np.ndarray:
        """Bytes left of the active transfers, summed per proxy."""
        self._advance()
        out: np.ndarray = np.bincount(
            self.proxy[self.slots()], weights=self._rems(), minlength=n_proxies
        )
        return out

    def pop_finished(self, task: int) -> tuple[float, list[float]]:
        """Bytes moved and bottleneck seconds of a transfer that just finished."""
        return self._finished_stats.pop(task)

    def flush(self) -> None:
        """Write the bytes moved up to now into the time series (called before it is read)."""
        self._advance()
        self._credit(int(self.t_last // self._bucket), self.t_last)

    # -- changes -------------------------------------------------------------------------------
    def add(
        self,
        task: int,
        proxy: int,
        work: float,
        cap: float,
        pairs: dict[int, float],
    ) -> None:
        """Start a transfer of ``work`` bytes for ``task`` on ``proxy``, using the resources of
        ``pairs`` (resource -> coefficient, see ``pairs_of``; read only, may be shared)."""
        self._advance()
        now = self.t_last
        i = self._free.pop()
        self.n += 1
        self._vtask[i] = task
        self._vproxy[i] = proxy
        self._vcap[i] = cap
        self._vwork0[i] = work
        self._vseg[i] = now
        self._vcls[i] = CLS_THREAD
        self._bott[i] = [0.0, 0.0, 0.0, 0.0]
        self._pairs[task] = pairs
        self.row_of[task] = i
        if self._dirty:
            self._park(i, work)
            return
        self._freed = False  # set by this placement's re-levelling only, not an earlier one
        if self._place(i, pairs, cap):
            self.local_updates += 1
            # the level only fell (rows bound by this one finish later), so the one finish
            # that can come before the armed timer is this row's own
            m = self._vmode[i]
            if m:
                lv = self._by_mode[m]
                level = lv.L
                t_end = now + (self._vrem0[i] / level if level > 0.0 else math.inf)
                if lv is self._timer_src:
                    if not self._freed and level > 0.0:
                        self._rearm_later(lv, i)
                elif t_end < self._timer_alt:
                    self._timer_alt = t_end
            else:
                rate = self._vrate[i]
                t_end = now + self._vrem0[i] / rate if rate > 0.0 else math.inf
                if t_end < self._timer_alt:
                    self._timer_alt = t_end
            if self._freed:
                self._schedule_next()  # rows back at their ceiling may finish sooner
            elif t_end < self._timer_at:
                if not m:
                    self._timer_src = None
                elif lv is not self._timer_src:  # the armed time bounds every other finish
                    self._timer_src, self._timer_alt = lv, self._timer_at
                    self._timer_key = self._vv0[i] + self._vrem0[i]
                self._arm(t_end)
            if self._watchers:
                self._notify()
        else:
            self._park(i, work)
            self._mark_dirty()

    def _park(self, i: int, work: float) -> None:
        """Row ``i`` waits for the full solve due at this instant: still, nothing moved yet."""
        self._live.pop(self._vstamp[i], None)
        self._vstamp[i] = -1
        self._vmode[i] = 0
        self._vrate[i] = 0.0
        self._vt0[i] = self.t_last
        self._vrem0[i] = work

    def remove(self, task: int) -> tuple[float, float, np.ndarray]:
        """Stop ``task`` now; returns (bytes moved, bytes remaining, bottleneck seconds)."""
        self._advance()
        i = self.row_of[task]
        rem = self._rem_of(i)
        self._close_segment(i)
        out = (self._vwork0[i] - rem, rem, np.array(self._bott[i]))
        pairs = self._pairs[task]
        touched = [(lv, lv.L) for lv in self._levels if lv.r in pairs]
        self._leave(i)
        self._drop_row(i)
        for lv, level in touched:
            if not self._dirty:
                self._settle_level(lv, level)
        if not self._dirty:
            self._schedule_next()
            if self._watchers:
                self._notify()
        return out

    def charge(self, resource: int, units: float) -> None:
        """Count ``units`` of ``resource`` used at this instant outside any transfer (a request
        that moves no bytes, e.g. the delta request of an unchanged object): it adds to
        ``consumed``, not to the rates."""
        self._advance()
        self._c_base[resource] += units

    def set_capacity(self, resource: int, value: float) -> None:
        """Change one resource's capacity from now on."""
        self._advance()
        self.capacity[resource] = value
        self._cap_version += 1
        self._mark_dirty()

    # -- lazy accounting -----------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.env._now
        dt = now - self.t_last
        if dt <= 0.0:
            return
        if self._mark_t <= now:
            b = self._bucket
            k, tk = self._mark_k, self._mark_t
            while tk <= now:
                self._credit(k - 1, tk)
                k += 1
                tk = k * b
            self._mark_k, self._mark_t = k, tk
        for lv in self._levels:
            lv.V += lv.L * dt
        self.t_last = now

    def _credit(self, bucket: int, t: float) -> None:
        """Credit ``bucket`` with every proxy's bytes moved up to time ``t`` (at or after the
        last change, before the next) and not yet credited."""
        total = self._p_base + self._p_rate * t
        dt = t - self.t_last
        for lv in self._levels:
            total += lv.p_nb * (lv.V + lv.L * dt)
        ts = self.ts
        if bucket >= ts.data.shape[0]:
            ts._grow(bucket)
        n = total.shape[0]
        ts.data[bucket, :n] += total - self._p_credited
        self._p_credited = total

    def _moving_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """The proxies' bytes and the resources' consumption now, less their bases."""
        t = self.t_last
        p = self._p_rate * t
        c = self.f_sum * t
        for lv in self._levels:
            p += lv.p_nb * lv.V
            c += lv.w * lv.V
        return p, c

    def _rebase(self, old_p: np.ndarray, old_c: np.ndarray) -> None:
        """Keep the proxies' bytes and the resources' consumption continuous across a rebuild
        of their rates (a full solve): ``old_*`` are ``_moving_terms()`` before it."""
        new_p, new_c = self._moving_terms()
        self._p_base += old_p - new_p
        self._c_base += old_c - new_c

    def _rem_of(self, i: int) -> float:
        m = self._vmode[i]
        if m:
            rem = self._vrem0[i] - (self._by_mode[m].V - self._vv0[i])
        else:
            rem = self._vrem0[i] - self._vrate[i] * (self.t_last - self._vt0[i])
        return rem if rem > 0.0 else 0.0

    def _rems(self) -> np.ndarray:
        s = self.slots()
        if not self._levels:
            fixed: np.ndarray = np.maximum(
                self.rem0[s] - self.rate[s] * (self.t_last - self.t0[s]), 0.0
            )
            return fixed
        mode = self.mode[s]
        vs = self._per_mode("V")
        rem = np.where(
            mode > 0,
            self.rem0[s] - (vs[mode] - self.v0[s]),
            self.rem0[s] - self.rate[s] * (self.t_last - self.t0[s]),
        )
        out: np.ndarray = np.maximum(rem, 0.0)
        return out

    def _close_segment(self, i: int) -> None:
        now = self.t_last
        self._bott[i][self._vcls[i]] += now - self._vseg[i]
        self._vseg[i] = now

    # -- rows entering and leaving modes -------------------------------------------------------
    def _restamp(self, i: int, task: int) -> int:
        """A new anchor stamp for row ``i``: its heap entries so far go stale."""
        live = self._live
        live.pop(self._vstamp[i], None)
        self._stamps = stamp = self._stamps + 1
        self._vstamp[i] = stamp
        live[stamp] = task
        return stamp

    def _fix(self, i: int, rate: float, rem: float) -> None:
        """Row ``i`` moves at ``rate`` from now (its usage is added to the sums)."""
        task = self._vtask[i]
        now = self.t_last
        self._vmode[i] = 0
        self._vrate[i] = rate
        self._vt0[i] = now
        self._vrem0[i] = rem
        stamp = self._restamp(i, task)
        if rate > 0.0:
            heappush(self._h_fixed, (now + rem / rate, stamp))
        vf, cb = self._vf, self._vcb
        pairs = self._pairs[task]
        levels = self._levels
        if len(levels) == 1:  # one level: keep its room (see _others_hold)
            lv = levels[0]
            vw = lv.vw
            slack, room = self._vslack, lv.room
            for r, a in pairs.items():
                x = a * rate
                vf[r] += x
                cb[r] -= x * now
                if vw[r] > 0.0:
                    h = (slack[r] - vf[r]) / vw[r]
                    if h < room:
                        room = h
                elif vf[r] > slack[r]:
                    room = -math.inf  # over at any level: the exact check will say so
            lv.room = room
            if lv.r in pairs:
                heappush(lv.h_fcap, (-self._vcap[i], stamp))
        else:
            slack = self._vslack
            for r, a in pairs.items():
                x = a * rate
                vf[r] += x
                cb[r] -= x * now
                used_by_level = False
                for lv in levels:
                    w = lv.vw[r]
                    if w > 0.0:
                        used_by_level = True
                        h = (slack[r] - vf[r]) / w  # exact unless shared (then unused)
                        if h < lv.room:
                            lv.room = h
                if not used_by_level and vf[r] > slack[r]:
                    for lv in levels:
                        lv.room = -math.inf
            for lv in levels:
                if lv.r in pairs:
                    heappush(lv.h_fcap, (-self._vcap[i], stamp))
        p = self._vproxy[i]
        self._vp_rate[p] += rate
        self._vp_base[p] -= rate * now
        self._p_nf[p] += 1

    def _bind(self, i: int, rem: float, lv: _Level) -> None:
        """Row ``i`` moves at level ``lv`` from now."""
        task = self._vtask[i]
        v = lv.V
        self._vmode[i] = lv.mode
        self._vrate[i] = lv.L
        self._vv0[i] = v
        self._vrem0[i] = rem
        stamp = self._restamp(i, task)
        heappush(lv.h_bound, (v + rem, stamp))
        heappush(lv.h_bcap, (self._vcap[i], stamp))
        vw, cb = lv.vw, self._vcb
        vf, slack, room = self._vf, self._vslack, lv.room
        levels = self._levels
        if len(levels) == 1:
            for r, a in self._pairs[task].items():
                w = vw[r] + a
                vw[r] = w
                cb[r] -= a * v
                h = (slack[r] - vf[r]) / w
                if h < room:
                    room = h
        else:
            shared = lv.shared
            for r, a in self._pairs[task].items():
                before = vw[r]
                w = before + a
                vw[r] = w
                cb[r] -= a * v
                s = slack[r]
                if s < _INF:
                    h = (s - vf[r]) / w
                    if h < room:
                        room = h
                    if before <= 0.0 and not shared:  # r enters its rows' resources
                        for x in levels:
                            if x is not lv and x.vw[r] > 0.0:
                                shared = x.shared = True
            lv.shared = shared
        lv.room = room
        p = self._vproxy[i]
        lv.vp_nb[p] += 1.0
        self._vp_base[p] -= v
        lv.n_bound += 1

    def _unset(self, i: int) -> None:
        """Take row ``i``'s usage off the sums (its heap entries go stale with its stamp)."""
        task = self._vtask[i]
        p = self._vproxy[i]
        self._live.pop(self._vstamp[i], None)
        self._vstamp[i] = -1
        cb = self._vcb
        m = self._vmode[i]
        if m:
            lv = self._by_mode[m]
            v = lv.V
            vw = lv.vw
            for r, a in self._pairs[task].items():
                vw[r] -= a
                cb[r] += a * v
            lv.vp_nb[p] -= 1.0
            self._vp_base[p] += v
            lv.n_bound -= 1
        else:
            rate = self._vrate[i]
            now = self.t_last
            vf = self._vf
            for r, a in self._pairs[task].items():
                x = a * rate
                vf[r] -= x
                cb[r] += x * now
            self._p_nf[p] -= 1
            old = self._vp_rate[p]
            new = old - rate if self._p_nf[p] else 0.0
            self._vp_rate[p] = new
            self._vp_base[p] += (old - new) * now

    def _leave(self, i: int) -> None:
        """Row ``i`` leaves (finished or removed): take it off, or ask for a full solve."""
        if self._dirty:
            return
        if self._general:
            pairs = self._pairs[self._vtask[i]]
            bott = self.bottleneck
            if any(bott[r] for r in pairs):
                self._mark_dirty()
                return
        self._unset(i)
        self.local_updates += 1

    def _drop_row(self, i: int) -> None:
        task = self._vtask[i]
        self._live.pop(self._vstamp[i], None)
        del self.row_of[task]
        del self._pairs[task]
        self._free.append(i)
        self.n -= 1

    def tasks_using(self, resource: int) -> np.ndarray:
        """The active transfers that use ``resource``, in the order they started."""
        out = [task for task, pairs in self._pairs.items() if resource in pairs]
        return np.asarray(out, dtype=np.int64)

    def slots(self) -> np.ndarray:
        """The slots of the active rows, in the order the transfers started."""
        out: np.ndarray = np.fromiter(self.row_of.values(), dtype=np.int64, count=self.n)
        return out

    # -- the incremental allocation ------------------------------------------------------------
    def _fits(self, pairs: dict[int, float], rate: float) -> bool:
        """Whether ``rate`` more on these resources keeps every one below its slack line (the
        tracked resources have none)."""
        vf, slack, levels = self._vf, self._vslack, self._levels
        if len(levels) == 1:  # the usual case, without the inner loop
            vw, level = levels[0].vw, levels[0].L
            for r, a in pairs.items():  # noqa: SIM110 (a loop is faster than all() here)
                if vf[r] + level * vw[r] + a * rate > slack[r]:
                    return False
            return True
        for r, a in pairs.items():
            u = vf[r] + a * rate
            for lv in levels:
                u += lv.L * lv.vw[r]
            if u > slack[r]:
                return False
        return True

    def _place(self, i: int, pairs: dict[int, float], cap: float) -> bool:
        """Place a new row without a full solve; False if that cannot be shown exact."""
        lv = None
        if self._general:
            bott = self.bottleneck
            if any(bott[r] for r in pairs):
                return False
        else:
            for x in self._levels:
                if x.r in pairs:
                    if lv is not None:
                        return False  # on two tracked resources: not one water level
                    lv = x
        if lv is None:
            if 0.0 < cap < math.inf and self._fits(pairs, cap):
                self._fix(i, cap, self._vwork0[i])
                return True
            if self._general or cap <= 0.0:
                return False
            lv = self._promote(self._vtask[i], pairs)  # it saturates a resource: track it
            if lv is None:
                return False
        rs = lv.r
        a_s = pairs[rs]
        c = self._vcapacity[rs]
        f_s, w_s = self._vf[rs], lv.vw[rs]
        if w_s > 0.0:
            at_cap = cap <= (c - f_s - a_s * cap) / w_s * (1.0 + _LEVEL_TOL)
        else:
            at_cap = f_s + a_s * cap <= c * (1.0 + _LEVEL_TOL)
        if at_cap:
            if not (cap < math.inf and self._fits(pairs, cap)):
                return False
            self._fix(i, cap, self._vwork0[i])
        else:
            self._vcls[i] = lv.cls  # its first segment starts now
            self._bind(i, self._vwork0[i], lv)
        if self._rebalance(lv) and not self._others_hold(lv):
            return False
        if self._within_room(lv):
            return True  # every resource lv's rows use is below its line
        return self._fits(pairs, 0.0)

    def _promote(self, task: int, pairs: dict[int, float]) -> _Level | None:
        """Track the resource a new transfer (``task``, not yet placed) would saturate first:
        a new level, whose users so far are fixed rows (found by a scan, O(n)). None when that
        cannot be one water level (a user bound to another level or on another tracked
        resource, a capacity of 0 or infinity): the caller asks for a full solve."""
        levels = self._levels
        vf, slack, capacity = self._vf, self._vslack, self._vcapacity
        best, rs = math.inf, -1
        for r, a in pairs.items():
            u = vf[r]
            for x in levels:
                u += x.L * x.vw[r]
            room = (slack[r] - u) / a
            if room < best:
                best, rs = room, r
        if rs < 0 or not (0.0 < capacity[rs] < math.inf):
            return None
        row_of, vmode, vcap, vstamp = self.row_of, self._vmode, self._vcap, self._vstamp
        fixed_users: list[tuple[float, int]] = []
        for other, p in self._pairs.items():
            if rs in p and other != task:
                j = row_of[other]
                if vmode[j] or any(x.r in p for x in levels):
                    return None
                fixed_users.append((-vcap[j], vstamp[j]))
        heapq.heapify(fixed_users)
        mode = max(self._by_mode, default=0) + 1
        lv = _Level(rs, mode, int(self.res_class[rs]), len(self.capacity), len(self._p_rate))
        lv.h_fcap = fixed_users
        self._levels = [*levels, lv]  # a new list: callers iterate
        self._by_mode[mode] = lv
        self._set_slack()
        self.promotions += 1
        return lv

    def _cls_to(self, i: int, cls: int) -> None:
        if self._vcls[i] != cls:
            self._close_segment(i)
            self._vcls[i] = cls

    def _rebalance(self, lv: _Level) -> bool:
        """Water-fill level ``lv``'s resource: move rows across the level until it is
        consistent. Returns whether a bound row went back to its ceiling (its usage rose)."""
        rs = lv.r
        freed = False
        c = self._vcapacity[rs]
        vf, vw = self._vf, lv.vw
        h_b, h_f = lv.h_bcap, lv.h_fcap
        live = self._live
        cls_bound = lv.cls
        while True:
            w_s = vw[rs]
            if lv.n_bound > 0 and w_s > 0.0:
                level = (c - vf[rs]) / w_s
                line = level + (level if level >= 0.0 else -level) * _LEVEL_TOL
                while h_b and h_b[0][1] not in live:
                    heappop(h_b)
                if h_b and h_b[0][0] <= line:
                    i = self.row_of[live[heappop(h_b)[1]]]
                    rem = self._rem_of(i)
                    self._unset(i)
                    self._cls_to(i, CLS_THREAD)
                    self._fix(i, self._vcap[i], rem)
                    freed = True
                    continue
            else:
                if w_s != 0.0 and lv.n_bound == 0:  # clear the rounding residue of the sum
                    self._vcb[rs] += w_s * lv.V
                    vw[rs] = 0.0
                level = -_INF if vf[rs] > c * (1.0 + _LEVEL_TOL) else _INF
                line = level
            while h_f and h_f[0][1] not in live:
                heappop(h_f)
            if h_f and -h_f[0][0] > line:
                i = self.row_of[live[h_f[0][1]]]
                # the level it would share once bound (its own usage leaves the fixed sum): a
                # ceiling within the tolerance of that level stays at the ceiling, else the
                # row would be freed again at once, and so on forever
                a = self._pairs[self._vtask[i]][rs]
                shared = (c - vf[rs] + a * self._vrate[i]) / (w_s + a)
                if -h_f[0][0] > shared + abs(shared) * _LEVEL_TOL:
                    heappop(h_f)
                    rem = self._rem_of(i)
                    self._unset(i)
                    self._cls_to(i, cls_bound)
                    self._bind(i, rem, lv)
                    continue
            lv.L = level if 0.0 < level < _INF else 0.0
            self._freed = freed
            if lv.n_bound == 0 and len(self._levels) > 1 and vf[rs] <= c * (1.0 - DROP_MARGIN):
                self._drop_level(lv)
            return freed

    def _drop_level(self, lv: _Level) -> None:
        """Stop tracking a resource no row is bound to, well below its capacity (with several
        levels, each one costs every rise an exact check of the others' slack)."""
        self._levels = [x for x in self._levels if x is not lv]  # a new list: callers iterate
        del self._by_mode[lv.mode]
        self._c_base += lv.w * lv.V  # the rounding residue of its sums leaves the accounting
        self._p_base += lv.p_nb * lv.V
        self._set_slack()

    def _settle_level(self, lv: _Level, level_before: float) -> None:
        """After rows left: re-level ``lv``; a rise must keep the others' slack."""
        freed = self._rebalance(lv)
        rose = freed or (level_before < lv.L and lv.n_bound > 0)
        if rose and not self._others_hold(lv):
            self._mark_dirty()

    def _within_room(self, lv: _Level) -> bool:
        """Whether level ``lv`` is within its room and the room holds (one level, or no
        resource shared with another level's rows): then every resource its rows use is below
        its slack line."""
        return lv.room >= lv.L and (len(self._levels) == 1 or not lv.shared)

    def _others_hold(self, lv: _Level) -> bool:
        """Whether every resource but the tracked ones stays below its slack line at the
        levels, after level ``lv`` rose.

        Each level's ``room`` is a lower bound of the level at which the first resource its
        rows use would reach its slack line: exact after a check, lowered by every row that
        adds usage (``_fix``, ``_bind``), and left alone when usage goes (it can only rise
        then); only a level above its room pays for the exact check over all resources. With
        several levels the room ignores the others, so it holds only for a level whose rows
        share no resource with another level's (``shared`` False: set by the exact check,
        raised by ``_bind``); a rise of a shared level is always checked exactly.
        """
        if self._within_room(lv):
            return True
        levels = self._levels
        slack, f_sum = self._slack, self.f_sum
        if len(levels) == 1:
            w = lv.w
            with np.errstate(divide="ignore", invalid="ignore"):
                level = np.where(w > 0.0, (slack - f_sum) / w, np.inf)
            lv.room = float(level.min())
            return lv.room >= lv.L and not np.any(f_sum > slack)
        used = self.used
        finite = slack < np.inf
        users = [(x, (x.w > 0.0) & finite) for x in levels]
        count = np.zeros(slack.shape[0], dtype=np.int64)
        for _, mask in users:
            count += mask
        for x, mask in users:
            w = x.w[mask]
            x.room = float(((slack[mask] - used[mask]) / w).min()) + x.L if w.size else np.inf
            x.shared = bool(np.any(count[mask] > 1))
        return not np.any(used > slack)

    # -- completions ---------------------------------------------------------------------------
    def _schedule_next(self) -> None:
        """Arm the timer for the next completion (a pending earlier timer is kept: if nothing
        is due when it fires, it re-arms)."""
        t_next = alt = math.inf
        src: _Level | None = None
        key = 0.0
        live = self._live
        h = self._h_fixed
        while h and h[0][1] not in live:
            heappop(h)
        if h:
            t_next = h[0][0]
        for lv in self._levels:
            if lv.n_bound and lv.L > 0.0:
                h = lv.h_bound
                while h and h[0][1] not in live:
                    heappop(h)
                if h:
                    tb = self.t_last + (h[0][0] - lv.V) / lv.L
                    if tb < t_next:
                        alt, t_next, src, key = t_next, tb, lv, h[0][0]
                    elif tb < alt:
                        alt = tb
        if t_next < self._timer_at:
            self._arm(t_next)
            self._timer_src, self._timer_key, self._timer_alt = src, key, alt
        else:
            self._timer_src = None  # the pending timer's other sources are not known
        self._compact_in -= 1
        if self._compact_in <= 0:
            self._compact_in = 1024
            self._compact()

    def _rearm_later(self, lv: _Level, i: int) -> None:
        """Row ``i`` was just bound to ``lv``, the level of the row the armed timer is for:
        the level fell, so that row finishes later. Move the timer to the first of that row's
        new finish, row ``i``'s and ``_timer_alt`` (which bounds every other source: a row
        bound to another level or fixed since, or a fixed row bound to ``lv`` by this fall,
        finished no sooner than it), rather than let it fire early for nothing."""
        own = self._vv0[i] + self._vrem0[i]
        if own < self._timer_key:
            self._timer_key = own
        t = self.t_last + (self._timer_key - lv.V) / lv.L
        if self._timer_alt < t:
            t = self._timer_alt
        if t > self._timer_at:
            self._arm(t)

    def _compact(self) -> None:
        """Drop stale heap entries when they outnumber the live ones."""
        live = self._live
        heaps = [self._h_fixed]
        for lv in self._levels:
            heaps += (lv.h_bound, lv.h_bcap, lv.h_fcap)
        if len(live) * (1 + len(heaps)) + 256 < sum(len(h) for h in heaps):
            for heap in heaps:
                heap[:] = [e for e in heap if e[1] in live]
                heapq.heapify(heap)

    def _arm(self, t_next: float) -> None:
        self._version += 1
        self._timer_at = t_next
        # a Timer: only _on_timer sees it (the same heap entry as a Timeout, so the same order)
        cbs = self._timer_cbs
        if cbs is None:  # on the first arming: a test may have wrapped _on_timer before it
            cbs = self._timer_cbs = (self._on_timer,)
        env = self.env
        now = env._now
        # call_timer, inlined (hot path): the same heap entry
        ev = _new_timer(Timer)
        ev._value = self._version
        ev.callbacks = cbs
        delay = t_next - now
        entry = (now + (delay if delay > 0.0 else 0.0), NORMAL, next(env._eid), ev)
        heappush(env._queue, entry)  # type: ignore[misc]  # a Timer, not an Event

    def _on_timer(self, event: simpy.Event | Timer) -> None:
        if event._value != self._version:
            return
        self._timer_at = math.inf
        self._advance()
        # the tasks whose finish time (fixed) or finish level (bound) has come
        due: list[int] = []
        live = self._live
        # within the tolerance, or within a few units in the last place of the clock: late in
        # a long run (a year: 3e7 s, one ulp 4 ns) a finish closer than that cannot be waited
        # for (the clock would not move and the timer would fire again for ever)
        t = self.t_last
        tol = _TIME_TOL_S if t < _ULP_BELOW_TOL_S else max(_TIME_TOL_S, 4.0 * math.ulp(t))
        if self._h_fixed:
            _pop_until(self._h_fixed, t + tol, live, due)
        levels = self._levels
        for lv in levels:
            if lv.n_bound:
                v = lv.V  # >= 0, never falls
                _pop_until(lv.h_bound, v * (1.0 + 1e-15) + lv.L * tol, live, due)
        if not due:
            if not self._dirty:
                self._schedule_next()
            return
        if len(due) > 1:
            due.sort()
        elif not self._general and not self._dirty:
            self._finish_one(due[0])
            return
        now = self.t_last
        row_of, finished, vwork0 = self.row_of, self._finished_stats, self._vwork0
        botts, vcls, vseg, vstamp = self._bott, self._vcls, self._vseg, self._vstamp
        local = not self._general
        pairs_of = self._pairs
        touched: dict[int, tuple[_Level, float]] = {}
        for task in due:
            pairs = pairs_of[task]
            for lv in levels:
                if lv.r in pairs and lv.mode not in touched:
                    touched[lv.mode] = (lv, lv.L)
            i = row_of.pop(task)
            bott = botts[i]
            bott[vcls[i]] += now - vseg[i]  # its last segment (the row leaves)
            finished[task] = (vwork0[i], bott)
            if local and not self._dirty:
                self._unset(i)
                self.local_updates += 1
            else:
                self._leave(i)
            live.pop(vstamp[i], None)  # _drop_row, inlined
            del pairs_of[task]
            self._free.append(i)
        self.n -= len(due)
        for lv, level in touched.values():
            if not self._dirty:
                self._settle_level(lv, level)
        if not self._dirty:
            self._schedule_next()
            if self._watchers:
                self._notify()
        for task in due:
            self.on_done(task)

    def _finish_one(self, task: int) -> None:
        """``_on_timer``'s loop for its usual case: one transfer finishes, in the local mode
        (it uses at most one tracked resource: a bound row's own level, or found among them)."""
        i = self.row_of.pop(task)
        bott = self._bott[i]
        bott[self._vcls[i]] += self.t_last - self._vseg[i]  # its last segment (the row leaves)
        work = self._vwork0[i]
        m = self._vmode[i]
        lv: _Level | None = self._by_mode[m] if m else None
        if lv is None:
            pairs = self._pairs[task]
            lv = next((x for x in self._levels if x.r in pairs), None)
        level = lv.L if lv is not None else 0.0
        self._unset(i)  # its stamp leaves the live ones too
        self.local_updates += 1
        del self._pairs[task]
        self._free.append(i)
        self.n -= 1
        if lv is not None:
            self._settle_level(lv, level)
        if not self._dirty:
            self._schedule_next()
            if self._watchers:
                self._notify()
        if self.on_finished is not None:
            self.on_finished(task, work, bott)
        else:
            self._finished_stats[task] = (work, bott)
            self.on_done(task)

    def _notify(self, force: bool = False) -> None:
        vf, levels = self._vf, self._levels
        for r, cb in self._watchers.items():
            u = vf[r]
            for lv in levels:
                u += lv.L * lv.vw[r]
            if force or u != self._watch_seen[r]:
                self._watch_seen[r] = u
                cb()

    # -- the full solve ------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty = True
            ev = self.env.event()
            ev.callbacks.append(self._recompute)
            ev.succeed()

    def _recompute(self, _event: object = None) -> None:
        self._advance()
        self._dirty = False
        now = self.t_last
        n = self.n
        cap_all = self.capacity
        self._version += 1  # any timer pending is superseded
        self._timer_at = math.inf
        self._h_fixed.clear()
        old = self._moving_terms()
        n_res = len(cap_all)
        n_px = self._p_rate.shape[0]
        if n == 0:
            self.f_sum[:] = 0.0
            self._levels = []
            self._by_mode = {}
            self.bottleneck[:] = False
            self._general = False
            self._set_slack()
            self._p_rate[:] = 0.0
            self._p_nf = [0] * len(self._p_nf)
            self._rebase(*old)
            self._live.clear()
            if self._watchers:
                self._notify(force=True)
            return
        self.recomputes += 1
        rem = self._rems()
        slots = self.slots()
        tasks = self.task[slots]
        cap = self.cap[slots]
        res, coef = _dense(self._pairs, tasks.tolist())
        solved = None
        if n > SMALL_N and self._sole_bottleneck > 0:
            solved = one_resource_rates(
                cap, res, coef, cap_all, self.res_class, self._sole_bottleneck
            )
        if solved is not None:
            rate, cls, used = solved
            self.one_resource_solves += 1
        else:
            rate, cls = max_min_rates(cap, res, coef, cap_all, self.res_class)
            used = np.bincount(res.ravel(), (coef * rate[:, None]).ravel(), minlength=n_res)
        # generous: flagging a resource that is merely near saturation only costs a re-solve
        bott = used >= cap_all * (1.0 - 1e-6)
        bott[0] = False
        self.bottleneck = bott
        sat = np.flatnonzero(bott)
        self._sole_bottleneck = int(sat[0]) if sat.size == 1 else -1
        group, general = self._levels_of(sat, rate, cap, res, coef)
        bound = group >= 0
        self._general = general
        fixed = ~bound
        # a row whose bottleneck class stays the same keeps its open segment
        for i in slots[self.cls[slots] != cls].tolist():
            self._close_segment(i)
        self.mode[slots] = group + 1
        self.rate[slots] = rate
        self.cls[slots] = cls
        self.t0[slots] = now
        self.v0[slots] = 0.0  # every level's V starts again at 0
        self.rem0[slots] = rem
        stamps = self._stamps + 1 + np.arange(n)
        self.stamp[slots] = stamps
        self._stamps += n
        px = self.proxy[slots]
        levels = [
            _Level(int(r), g + 1, int(self.res_class[r]), n_res, n_px)
            for g, r in enumerate(sat.tolist() if not general else [])
        ]
        self._levels = levels
        self._by_mode = {lv.mode: lv for lv in levels}
        if levels:
            fr, fc = res[fixed], coef[fixed]
            keep = (fc > 0) & (fr != 0)
            self.f_sum[:] = np.bincount(
                fr[keep], (fc * rate[fixed][:, None])[keep], minlength=n_res
            )
            self._p_rate[:] = np.bincount(px[fixed], rate[fixed], minlength=n_px)
            self._p_nf = np.bincount(px[fixed], minlength=n_px).tolist()
        else:  # every row fixed: the usage is the solver's
            self.f_sum[:] = used
            self.f_sum[0] = 0.0
            self._p_rate[:] = np.bincount(px, rate, minlength=n_px)
            self._p_nf = np.bincount(px, minlength=n_px).tolist()
        self._live = dict(zip(stamps.tolist(), tasks.tolist(), strict=True))

        def heap_of(keys: np.ndarray, which: np.ndarray) -> list[tuple[float, int]]:
            out = list(zip(keys.tolist(), stamps[which].tolist(), strict=True))
            heapq.heapify(out)
            return out

        moving = fixed & (rate > 0)
        self._h_fixed = heap_of(now + rem[moving] / rate[moving], moving)
        for lv in levels:
            rs = lv.r
            mine = group == lv.mode - 1
            br, bc = res[mine], coef[mine]
            keep = (bc > 0) & (br != 0)
            lv.w[:] = np.bincount(br[keep], bc[keep], minlength=n_res)
            lv.p_nb[:] = np.bincount(px[mine], minlength=n_px)
            lv.n_bound = int(mine.sum())
            lv.h_bound = heap_of(rem[mine], mine)
            lv.h_bcap = heap_of(cap[mine], mine)
            fu = fixed & ((res == rs) & (coef > 0)).any(axis=1)
            lv.h_fcap = heap_of(-cap[fu], fu)
        self._rebase(*old)
        self._set_slack()
        for lv in levels:
            self._rebalance(lv)
        self._schedule_next()
        if self._watchers:
            self._notify(force=True)

    @staticmethod
    def _levels_of(
        sat: np.ndarray, rate: np.ndarray, cap: np.ndarray, res: np.ndarray, coef: np.ndarray
    ) -> tuple[np.ndarray, bool]:
        """Which rows a solved allocation binds to which saturated resource.

        Returns ``(group, general)``: ``group[j]`` is the index in ``sat`` of the resource row
        j moves at the level of, or -1 (at its own rate). The allocation is one water level per
        saturated resource when every row below its ceiling uses exactly one saturated resource,
        rows below their ceiling on one resource share one rate, and (with two or more) no row
        uses two of them; otherwise ``general`` is True and every row is at its own rate.
        """
        n = rate.shape[0]
        none = np.full(n, -1, dtype=np.int64)
        k = sat.size
        if k == 0:
            return none, bool(np.any(rate < cap))
        lookup = np.full(int(res.max(initial=0)) + 1, -1, dtype=np.int64)
        lookup[sat[sat < lookup.size]] = np.arange(k)[sat < lookup.size]
        idx = np.where(coef > 0, lookup[res], -1)
        first = idx.max(axis=1)
        lowest = np.where(idx >= 0, idx, k).min(axis=1)
        two = (first >= 0) & (lowest != first)
        below = rate < cap * (1.0 - 1e-9)
        if np.any(below & ((first < 0) | two)) or (k > 1 and np.any(two)):
            return none, True
        group = np.where(below, first, -1)
        rb, gb = rate[below], group[below]
        hi = np.full(k, -np.inf)
        lo = np.full(k, np.inf)
        np.maximum.at(hi, gb, rb)
        np.minimum.at(lo, gb, rb)
        has = hi > -np.inf
        if np.any(hi[has] - lo[has] > 1e-9 * hi[has]):
            return none, True
        return group, False

    def _set_slack(self) -> None:
        """The slack lines (after a capacity change or a change of the tracked resources), and
        an unknown room per level (the sums were rebuilt)."""
        for lv in self._levels:
            lv.room = -math.inf
            lv.shared = True
        tracked = tuple(lv.r for lv in self._levels)
        key = (self._cap_version, tracked)
        if key == self._slack_key:
            return
        self._slack_key = key
        cap_all = self.capacity
        slack = np.where(np.isfinite(cap_all), cap_all * (1.0 - SLACK_MARGIN), np.inf)
        slack[0] = np.inf
        for r in tracked:
            slack[r] = np.inf
        self._slack[:] = slack
