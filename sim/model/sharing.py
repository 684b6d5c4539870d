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
(water-filling on it, O(log n) per change) and re-solves with ``max_min_rates`` otherwise.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
import simpy

from sim.model.clock import call_later
from sim.model.trace import Timeseries, float_view, int8_view, int_view

#: bottleneck classes, the index in the per-task time columns
CLS_THREAD, CLS_SOURCE, CLS_PROXY, CLS_TARGET = 0, 1, 2, 3
CLASS_NAMES = ("thread", "source", "proxy", "target")

_TIME_TOL_S = 1e-9
_PAIRS_CACHE = 4096
_LEVEL_TOL = 1e-12
"""A ceiling within this (relative) of the water level counts as the ceiling."""


def max_min_rates(
    cap: np.ndarray,
    res: np.ndarray,
    coef: np.ndarray,
    capacity: np.ndarray,
    res_class: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Max-min fair rates by progressive filling, one saturating resource level at a time.

    ``cap`` (n,) ceilings; ``res``/``coef`` (n, K) resource indices and coefficients (index 0 is an
    unlimited dummy); ``capacity`` (R,); ``res_class`` (R,) bottleneck class of each resource.
    Returns ``(rate, cls)``: the rates and, per transfer, the class of the constraint that froze it
    (``CLS_THREAD`` for its own ceiling).

    Each round computes, for every resource, the water level at which it saturates when the
    transfers whose ceiling is below that level sit at their ceiling (a sorted prefix sum per
    resource). The lowest such level L is the next freezing point: transfers with ceiling <= L
    freeze at their ceiling, the others using the saturated resource freeze at L. Rounds are at
    most the number of distinct saturating resources plus one.
    """
    n, k = res.shape
    if 0 < n <= SMALL_N:
        return _max_min_small(cap, res, coef, capacity, res_class)
    rate = np.zeros(n)
    cls = np.full(n, CLS_THREAD, dtype=np.int8)
    if n == 0:
        return rate, cls
    n_res = capacity.shape[0]
    free = np.ones(n, dtype=bool)
    finite = np.isfinite(capacity) & (capacity > 0)
    finite[0] = False
    # a transfer that needs a resource with no capacity at all does not move
    dead_pair = (capacity[res] <= 0) & (coef > 0)
    dead = dead_pair.any(axis=1)
    if dead.any():
        free[dead] = False
        cls[dead] = res_class[res[dead, dead_pair[dead].argmax(axis=1)]]
    # (transfer, resource) pairs, sorted once by resource then ceiling; coefficients are taken
    # as fractions of each capacity so every resource's prefix sums are O(1) (mixing 1e8 B/s
    # links with 40 RU/s budgets in one cumulative sum would cost ~1e-9 precision)
    flat_r = res.ravel()
    flat_a = coef.ravel()
    keep = (flat_a > 0) & finite[flat_r]
    pr = flat_r[keep]
    po = np.repeat(np.arange(n), k)[keep]
    pa = flat_a[keep] / capacity[pr]
    pc = cap[po]
    order = np.lexsort((pc, pr))
    pr, po, pa, pc = pr[order], po[order], pa[order], pc[order]
    # an unlimited ceiling never sits below a finite level: keep it out of prefix sums
    pac = np.where(np.isfinite(pc), pa * pc, 0.0)
    used = np.zeros(n_res)  # fraction of each capacity in use by frozen transfers
    while True:
        idx = np.flatnonzero(free)
        if idx.size == 0:
            break
        c = cap[idx]
        live = free[po]
        r, a, cc, ac = pr[live], pa[live], pc[live], pac[live]
        res_level = np.full(n_res, np.inf)
        if r.size:
            first = np.ones(r.size, dtype=bool)
            first[1:] = r[1:] != r[:-1]
            starts = np.flatnonzero(first)
            group_id = np.cumsum(first) - 1
            cum_ac = np.cumsum(ac)
            cum_a = np.cumsum(a)
            base_ac = (cum_ac[starts] - ac[starts])[group_id]
            base_a = (cum_a[starts] - a[starts])[group_id]
            before_ac = cum_ac - ac - base_ac
            before_a = cum_a - a - base_a
            ends = np.append(starts[1:] - 1, r.size - 1)
            total_a = (cum_a[ends] - (cum_a[starts] - a[starts]))[group_id]
            suffix_a = total_a - before_a
            with np.errstate(divide="ignore", invalid="ignore"):
                level = (1.0 - used[r] - before_ac) / suffix_a
            prev_cap = np.empty_like(cc)
            prev_cap[0] = 0.0
            prev_cap[1:] = cc[:-1]
            prev_cap[first] = 0.0
            tol = 1e-12 * np.maximum(np.abs(level), 1.0)
            valid = (level >= prev_cap - tol) & (level <= cc + tol)
            if valid.any():
                np.minimum.at(res_level, r[valid], np.maximum(level[valid], 0.0))
        lvl = float(res_level.min())
        if not np.isfinite(lvl):
            if not np.all(np.isfinite(c)):
                raise ValueError("a transfer has neither a ceiling nor a limiting resource")
            rate[idx] = c
            break
        tol_l = lvl * 1e-12 + 1e-300
        at_cap = np.zeros(n, dtype=bool)
        at_cap[idx] = c <= lvl + tol_l
        saturated = res_level <= lvl + tol_l
        hit_pair = live & saturated[pr]
        by_res = np.zeros(n, dtype=bool)
        by_res[po[hit_pair]] = True
        by_res &= ~at_cap
        rate[at_cap] = cap[at_cap]
        rate[by_res] = lvl
        hit_pair &= by_res[po]
        cls[po[hit_pair]] = res_class[pr[hit_pair]]
        done = at_cap | by_res
        froze = live & done[po]
        used += np.bincount(pr[froze], pa[froze] * rate[po[froze]], minlength=n_res)
        free &= ~done
    return rate, cls


SMALL_N = 16
"""Below this many transfers the allocation is computed in plain Python: numpy's per-call
overhead dominates for a handful of transfers (the same rule, tested equal)."""


def _max_min_small(
    cap: np.ndarray,
    res: np.ndarray,
    coef: np.ndarray,
    capacity: np.ndarray,
    res_class: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Progressive filling in plain Python: all free transfers share one rising level."""
    n = cap.shape[0]
    caps: list[float] = cap.tolist()
    rows: list[list[int]] = res.tolist()
    coefs: list[list[float]] = coef.tolist()
    cap_r: list[float] = capacity.tolist()
    rate = [0.0] * n
    cls = [CLS_THREAD] * n
    pairs: list[list[tuple[int, float]]] = []
    users: dict[int, list[tuple[int, float]]] = {}
    weight: dict[int, float] = {}
    count: dict[int, int] = {}  # free users per resource
    free: set[int] = set()
    for i in range(n):
        mine: list[tuple[int, float]] = []
        dead = -1
        for r, a in zip(rows[i], coefs[i], strict=True):
            if a <= 0.0 or r == 0:
                continue
            c = cap_r[r]
            if c <= 0.0:
                dead = r
                break
            if c == math.inf:
                continue
            mine.append((r, a / c))
        if dead >= 0:
            cls[i] = int(res_class[dead])
            pairs.append([])
            continue
        pairs.append(mine)
        free.add(i)
        for r, a in mine:
            users.setdefault(r, []).append((i, a))
            weight[r] = weight.get(r, 0.0) + a
            count[r] = count.get(r, 0) + 1
    used = dict.fromkeys(weight, 0.0)
    while free:
        lvl = math.inf
        for r, w in weight.items():
            if count[r]:
                level = (1.0 - used[r]) / w
                if level < lvl:
                    lvl = level
        cap_min = min(caps[i] for i in free)
        if cap_min < lvl:
            lvl = cap_min
        if lvl == math.inf:
            raise ValueError("a transfer has neither a ceiling nor a limiting resource")
        lvl = max(lvl, 0.0)
        tol = lvl * 1e-12 + 1e-300
        newly = [i for i in free if caps[i] <= lvl + tol]
        for i in newly:
            rate[i] = caps[i]
        frozen = set(newly)
        for r, w in weight.items():
            if count[r] and (1.0 - used[r]) / w <= lvl + tol:
                for i, _a in users[r]:
                    if i in free and i not in frozen:
                        rate[i] = lvl
                        cls[i] = int(res_class[r])
                        frozen.add(i)
        if not frozen:
            raise RuntimeError("max-min filling made no progress")  # a bug, never bad input
        for i in frozen:
            free.discard(i)
            for r, a in pairs[i]:
                used[r] += a * rate[i]
                weight[r] -= a
                count[r] -= 1
    return np.asarray(rate), np.asarray(cls, dtype=np.int8)


SLACK_MARGIN = 1e-9
"""Relative headroom a resource must keep for ``one_resource_rates`` to accept its answer
(a resource closer to saturation than this is left to the full progressive filling)."""


def one_resource_rates(
    cap: np.ndarray,
    res: np.ndarray,
    coef: np.ndarray,
    capacity: np.ndarray,
    res_class: np.ndarray,
    r_sat: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The max-min allocation when resource ``r_sat`` is the only one that binds, else None.

    Water-filling on ``r_sat`` alone (its users below the level L sit at their ceilings, the
    others at L; transfers that do not use it at their ceilings) solves the problem relaxed to
    that one resource. If that allocation leaves every other resource below its capacity (by
    ``SLACK_MARGIN``), it is feasible for the full problem, and since the full feasible set lies
    inside the relaxed one, it is the (unique) max-min allocation of the full problem too.
    Otherwise None: the caller runs ``max_min_rates``. Returns ``(rate, cls, usage)`` with
    ``usage`` per resource. Same tie rule as ``max_min_rates`` (a ceiling within 1e-12 of the
    level counts as the ceiling); the sums differ from its only in rounding.

    Under a saturated tenant budget (the usual state of a SharePoint/OneDrive backup) this is
    the allocation at almost every change, at a fraction of the cost of progressive filling.
    """
    c_sat = float(capacity[r_sat])
    if not (0.0 < c_sat < math.inf):
        return None
    # coefficients are >= 0, so a slot that names r_sat with a zero coefficient adds nothing
    share = np.add.reduce(coef * (res == r_sat), axis=1) / c_sat
    users = share > 0.0
    if not users.any() or not np.isfinite(cap[~users]).all():
        return None
    cu = cap[users]
    order = np.argsort(cu, kind="stable")
    cs = cu[order]
    a = share[users][order]
    finite = np.isfinite(cs)
    filled = np.cumsum(np.where(finite, a * cs, 0.0))  # capacity used when 0..j sit at cap
    suffix = np.cumsum(a[::-1])[::-1]  # shares of j..end
    before = np.empty_like(filled)
    before[0] = 0.0
    before[1:] = filled[:-1]
    level = (1.0 - before) / suffix
    prev = np.empty_like(cs)
    prev[0] = 0.0
    prev[1:] = cs[:-1]
    tol = 1e-12 * np.maximum(np.abs(level), 1.0)
    valid = (level >= prev - tol) & (level <= cs + tol)
    lvl = max(float(level[valid].min()), 0.0) if valid.any() else math.inf
    rate = cap.copy()
    cls = np.full(cap.shape[0], CLS_THREAD, dtype=np.int8)
    if lvl < math.inf:
        below = np.flatnonzero(users)[cap[users] > lvl + (lvl * 1e-12 + 1e-300)]
        rate[below] = lvl
        cls[below] = res_class[r_sat]
    if not np.isfinite(rate).all():
        return None
    usage = np.bincount(res.ravel(), (coef * rate[:, None]).ravel(), minlength=capacity.shape[0])
    slack = usage <= capacity * (1.0 - SLACK_MARGIN)
    slack[0] = True
    slack[r_sat] = True
    if not slack.all():
        return None
    return rate, cls, usage


def _pop_until(
    heap: list[tuple[float, int]], line: float, live: dict[int, int], due: list[int]
) -> None:
    """Pop the live entries keyed at or below ``line`` into ``due`` (stale ones are dropped)."""
    while heap:
        key, stamp = heap[0]
        if stamp not in live:
            heapq.heappop(heap)
        elif key <= line:
            heapq.heappop(heap)
            due.append(live[stamp])
        else:
            return


class FluidSharing:
    """The set of active transfers, their fair rates and their completion events.

    Every active transfer is a row (rows are packed: removal moves the last row into the hole)
    in one of two modes:

    - **fixed** (F): it moves at its own ``rate`` until something changes it; its finish time is
      in a heap of times.
    - **bound** (B): it uses the *tracked* resource, the one saturated resource, and moves at the
      common water level ``L`` of that resource. Bound rows are anchored on the level's integral
      ``V`` (processor-sharing virtual time): a bound row finishes when ``V`` reaches its anchor
      plus its remaining bytes, so a change of ``L`` moves no row; the finish levels are in a
      heap.

    While at most one resource is saturated (the usual state: a tenant's RU budget), a start or
    an end changes the allocation by water-filling on that resource alone, in O(log n): the new
    level follows from two sums kept per resource (fixed usage, bound coefficients), rows cross
    between modes from two heaps keyed by their ceiling (a bound row whose ceiling falls below
    the level runs at its ceiling; a fixed user whose ceiling rises above it is bound), and every
    other resource must keep ``SLACK_MARGIN`` of headroom (checked on the changed row's resources,
    and on every resource when the level rises). That allocation is then exactly the max-min one
    (see ``one_resource_rates``). Anything else (a second resource saturating, a capacity change,
    a dead resource) re-solves the whole allocation with ``max_min_rates`` at the same instant,
    once for all the changes of that instant, and re-derives the modes from the answer. With two
    or more saturated resources the model is in *general* mode: every change that touches one of
    them re-solves, the others are applied locally.

    Accounting is lazy and exact for piecewise-linear progress: a row's bytes and bottleneck
    seconds are settled when it changes mode or leaves; a proxy's bytes per time bucket when one
    of its rows changes (``V`` is recorded at every bucket boundary); a resource's consumption
    (e.g. RU spent) when its sums change or ``consumed`` is read. ``on_done(task)`` is called once
    per finished transfer at its exact finish time, finished transfers of one instant in task
    order.
    """

    def __init__(
        self,
        env: simpy.Environment,
        capacity: np.ndarray,
        res_class: np.ndarray,
        max_active: int,
        k_slots: int,
        timeseries: Timeseries,
        on_done: Callable[[int], None],
    ) -> None:
        self.env = env
        self.capacity = capacity.astype(float)
        self.res_class = res_class.astype(np.int8)
        self.on_done = on_done
        self.ts = timeseries
        timeseries.sync = self.flush
        size = max(max_active, 1)
        n_res = self.capacity.shape[0]
        self.n = 0
        # -- rows --------------------------------------------------------------------------
        self.task = np.zeros(size, dtype=np.int64)
        self.proxy = np.zeros(size, dtype=np.int64)
        self.cap = np.zeros(size)
        self.res = np.zeros((size, k_slots), dtype=np.int64)
        self.coef = np.zeros((size, k_slots))
        self.mode = np.zeros(size, dtype=np.int8)
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
        self._vmode = int8_view(self.mode)
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
        self._slack_key: tuple[int, int] = (-1, -1)
        self._pairs_cache: dict[bytes, dict[int, float]] = {}
        """Resource -> coefficient maps by (resource slots, coefficients): transfers of one
        workload on one proxy share one (they are read-only)."""
        self._freed = False
        self._headroom = -math.inf
        self._compact_in = 1024
        self._live: dict[int, int] = {}
        """Current anchor stamp of every row -> its task (heap entries with another stamp are
        stale)."""
        # -- resources -----------------------------------------------------------------------
        self.f_sum = np.zeros(n_res)
        """Capacity used by fixed rows (sum of coefficient x rate)."""
        self.w_sum = np.zeros(n_res)
        """Sum of the coefficients of bound rows (their usage is L x this)."""
        self._c_base = np.zeros(n_res)
        """Consumption so far is ``_c_base + f_sum * t + w_sum * V`` (kept continuous)."""
        self._vf = float_view(self.f_sum)
        self._vw = float_view(self.w_sum)
        self._vcb = float_view(self._c_base)
        self._vcapacity = float_view(self.capacity)
        self._slack = np.full(n_res, np.inf)
        """Usage above which a resource other than the tracked one counts as saturating."""
        self._vslack = float_view(self._slack)
        self.bottleneck: np.ndarray = np.zeros(n_res, dtype=bool)
        """Resources saturated in the last full solve."""
        # -- proxies (time series) -------------------------------------------------------------
        n_px = max(timeseries.n_proxies, 1)
        self._p_rate = np.zeros(n_px)
        """Sum of the fixed rows' rates per proxy."""
        self._p_nb = np.zeros(n_px)
        """Bound rows per proxy (each moves at the level)."""
        self._p_base = np.zeros(n_px)
        """Bytes moved so far per proxy are ``_p_base + _p_rate * t + _p_nb * V``."""
        self._p_nf = [0] * n_px
        self._vp_rate = float_view(self._p_rate)
        self._vp_nb = float_view(self._p_nb)
        self._vp_base = float_view(self._p_base)
        self._p_credited = np.zeros(n_px)
        """Bytes per proxy already written to the time series."""
        self._bucket = float(timeseries.bucket_s)
        self._mark_k = math.floor(env.now / self._bucket) + 1
        """The next bucket boundary (its index); at each one the buckets get their bytes."""
        self._mark_t = self._mark_k * self._bucket
        # -- level and mode --------------------------------------------------------------------
        self.t_last = float(env.now)
        self.V = 0.0
        self.L = 0.0
        self.n_bound = 0
        self._tracked = -1
        self._general = False
        self._h_fixed: list[tuple[float, int]] = []
        self._h_bound: list[tuple[float, int]] = []
        self._h_bcap: list[tuple[float, int]] = []
        self._h_fcap: list[tuple[float, int]] = []
        self._finished_stats: dict[int, tuple[float, list[float]]] = {}
        self._dirty = False
        self._version = 0
        self._timer_at = math.inf
        self.recomputes = 0
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
        out: np.ndarray = self.f_sum + self.L * self.w_sum
        return out

    @property
    def consumed(self) -> np.ndarray:
        """Capacity used so far per resource (integral of usage; e.g. RU spent), up to now."""
        self._advance()
        out: np.ndarray = self._c_base + self.f_sum * self.t_last + self.w_sum * self.V
        return out

    def watch(self, resource: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of ``resource``'s usage (request budgets)."""
        self._watchers[resource] = callback
        self._watch_seen[resource] = math.nan
        self._cap_version += 1  # a request budget lifts its resource's capacity when it attaches
        self._set_slack()

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
        self._credit(int(self.t_last // self._bucket), self.t_last, self.V)

    # -- changes -------------------------------------------------------------------------------
    def add(
        self,
        task: int,
        proxy: int,
        work: float,
        cap: float,
        res: np.ndarray,
        coef: np.ndarray,
    ) -> None:
        """Start a transfer of ``work`` bytes for ``task`` on ``proxy``."""
        self._advance()
        now = self.t_last
        i = self._free.pop()
        self.n += 1
        self._vtask[i] = task
        self._vproxy[i] = proxy
        self._vcap[i] = cap
        self.res[i] = res
        self.coef[i] = coef
        self._vwork0[i] = work
        self._vseg[i] = now
        self._vcls[i] = CLS_THREAD
        self._bott[i] = [0.0, 0.0, 0.0, 0.0]
        key = res.tobytes() + coef.tobytes()
        pairs = self._pairs_cache.get(key)
        if pairs is None:
            pairs = {}
            for r, a in zip(res.tolist(), coef.tolist(), strict=True):
                if a > 0.0 and r != 0:  # resource 0 is the unlimited dummy
                    pairs[r] = pairs.get(r, 0.0) + a  # a resource in two slots: summed
            if len(self._pairs_cache) >= _PAIRS_CACHE:
                self._pairs_cache.clear()
            self._pairs_cache[key] = pairs
        self._pairs[task] = pairs
        self.row_of[task] = i
        if self._dirty:
            self._park(i, work)
            return
        if self._place(i, pairs, cap):
            self.local_updates += 1
            # the level only fell (rows bound by this one finish later), so the one finish
            # that can come before the armed timer is this row's own
            if self._vmode[i]:
                t_end = now + (self._vrem0[i] / self.L if self.L > 0.0 else math.inf)
            else:
                rate = self._vrate[i]
                t_end = now + self._vrem0[i] / rate if rate > 0.0 else math.inf
            if self._freed:
                self._freed = False
                self._schedule_next()  # rows back at their ceiling may finish sooner
            elif t_end < self._timer_at:
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
        level = self.L
        self._leave(i)
        self._drop_row(i)
        if not self._dirty:
            self._settle_level(level)
        if not self._dirty:
            self._schedule_next()
            if self._watchers:
                self._notify()
        return out

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
            t_last, v, level, b = self.t_last, self.V, self.L, self._bucket
            k, tk = self._mark_k, self._mark_t
            while tk <= now:
                self._credit(k - 1, tk, v + level * (tk - t_last))
                k += 1
                tk = k * b
            self._mark_k, self._mark_t = k, tk
        self.V += self.L * dt
        self.t_last = now

    def _credit(self, bucket: int, t: float, v: float) -> None:
        """Credit ``bucket`` with every proxy's bytes moved up to time ``t`` (level integral
        ``v``) and not yet credited."""
        total = self._p_base + self._p_rate * t + self._p_nb * v
        ts = self.ts
        if bucket >= ts.data.shape[0]:
            ts._grow(bucket)
        n = total.shape[0]
        ts.data[bucket, :n] += total - self._p_credited
        self._p_credited = total

    def _rebase(
        self, old_rate: np.ndarray, old_nb: np.ndarray, old_f: np.ndarray, old_w: np.ndarray
    ) -> None:
        """Keep the proxies' bytes and the resources' consumption continuous across a rebuild
        of their rates (a full solve)."""
        t, v = self.t_last, self.V
        self._p_base += (old_rate - self._p_rate) * t + (old_nb - self._p_nb) * v
        self._c_base += (old_f - self.f_sum) * t + (old_w - self.w_sum) * v

    def _rem_of(self, i: int) -> float:
        if self._vmode[i]:
            rem = self._vrem0[i] - (self.V - self._vv0[i])
        else:
            rem = self._vrem0[i] - self._vrate[i] * (self.t_last - self._vt0[i])
        return rem if rem > 0.0 else 0.0

    def _rems(self) -> np.ndarray:
        s = self.slots()
        if not self.n_bound:
            fixed: np.ndarray = np.maximum(
                self.rem0[s] - self.rate[s] * (self.t_last - self.t0[s]), 0.0
            )
            return fixed
        rem = np.where(
            self.mode[s] == 1,
            self.rem0[s] - (self.V - self.v0[s]),
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
            heapq.heappush(self._h_fixed, (now + rem / rate, stamp))
        vf, cb, vw = self._vf, self._vcb, self._vw
        slack, room = self._vslack, self._headroom
        pairs = self._pairs[task]
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
        self._headroom = room
        if self._tracked in pairs:
            heapq.heappush(self._h_fcap, (-self._vcap[i], stamp))
        p = self._vproxy[i]
        self._vp_rate[p] += rate
        self._vp_base[p] -= rate * now
        self._p_nf[p] += 1

    def _bind(self, i: int, rem: float) -> None:
        """Row ``i`` moves at the tracked resource's level from now."""
        task = self._vtask[i]
        v = self.V
        self._vmode[i] = 1
        self._vrate[i] = self.L
        self._vv0[i] = v
        self._vrem0[i] = rem
        stamp = self._restamp(i, task)
        heapq.heappush(self._h_bound, (v + rem, stamp))
        heapq.heappush(self._h_bcap, (self._vcap[i], stamp))
        vw, cb, vf = self._vw, self._vcb, self._vf
        slack, room = self._vslack, self._headroom
        for r, a in self._pairs[task].items():
            vw[r] += a
            cb[r] -= a * v
            h = (slack[r] - vf[r]) / vw[r]
            if h < room:
                room = h
        self._headroom = room
        p = self._vproxy[i]
        self._vp_nb[p] += 1.0
        self._vp_base[p] -= v
        self.n_bound += 1

    def _unset(self, i: int) -> None:
        """Take row ``i``'s usage off the sums (its heap entries go stale with its stamp)."""
        task = self._vtask[i]
        p = self._vproxy[i]
        self._live.pop(self._vstamp[i], None)
        self._vstamp[i] = -1
        cb = self._vcb
        if self._vmode[i]:
            v = self.V
            vw = self._vw
            for r, a in self._pairs[task].items():
                vw[r] -= a
                cb[r] += a * v
            self._vp_nb[p] -= 1.0
            self._vp_base[p] += v
            self.n_bound -= 1
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
    def _fits(self, pairs: dict[int, float], rate: float, skip: int = -1) -> bool:
        """Whether ``rate`` more on these resources (but ``skip``) keeps every one below its
        slack line."""
        vf, vw, slack, level = self._vf, self._vw, self._vslack, self.L
        for r, a in pairs.items():
            if vf[r] + level * vw[r] + a * rate > slack[r] and r != skip:
                return False
        return True

    def _place(self, i: int, pairs: dict[int, float], cap: float) -> bool:
        """Place a new row without a full solve; False if that cannot be shown exact."""
        rs = self._tracked
        if self._general:
            bott = self.bottleneck
            if any(bott[r] for r in pairs):
                return False
        elif rs >= 0 and rs in pairs:
            a_s = pairs[rs]
            c = self._vcapacity[rs]
            f_s, w_s = self._vf[rs], self._vw[rs]
            if w_s > 0.0:
                at_cap = cap <= (c - f_s - a_s * cap) / w_s * (1.0 + _LEVEL_TOL)
            else:
                at_cap = f_s + a_s * cap <= c * (1.0 + _LEVEL_TOL)
            if at_cap:
                if not (cap < math.inf and self._fits(pairs, cap, rs)):
                    return False
                self._fix(i, cap, self._vwork0[i])
            else:
                self._vcls[i] = self.res_class[rs]  # its first segment starts now
                self._bind(i, self._vwork0[i])
            if self._rebalance() and not self._others_hold():
                return False
            return self._fits(pairs, 0.0, rs)
        if not (0.0 < cap < math.inf and self._fits(pairs, cap)):
            return False
        self._fix(i, cap, self._vwork0[i])
        return True

    def _cls_to(self, i: int, cls: int) -> None:
        if self._vcls[i] != cls:
            self._close_segment(i)
            self._vcls[i] = cls

    def _rebalance(self) -> bool:
        """Water-fill the tracked resource: move rows across the level until it is consistent.
        Returns whether a bound row went back to its ceiling (its usage rose)."""
        rs = self._tracked
        freed = False
        c = self._vcapacity[rs]
        vf, vw = self._vf, self._vw
        h_b, h_f = self._h_bcap, self._h_fcap
        live = self._live
        cls_bound = int(self.res_class[rs])
        while True:
            w_s = vw[rs]
            if self.n_bound > 0 and w_s > 0.0:
                level = (c - vf[rs]) / w_s
                line = level + abs(level) * _LEVEL_TOL
                while h_b and h_b[0][1] not in live:
                    heapq.heappop(h_b)
                if h_b and h_b[0][0] <= line:
                    i = self.row_of[live[heapq.heappop(h_b)[1]]]
                    rem = self._rem_of(i)
                    self._unset(i)
                    self._cls_to(i, CLS_THREAD)
                    self._fix(i, self._vcap[i], rem)
                    freed = True
                    continue
            else:
                if w_s != 0.0 and self.n_bound == 0:  # clear the rounding residue of the sum
                    self._vcb[rs] += w_s * self.V
                    vw[rs] = 0.0
                level = -math.inf if vf[rs] > c * (1.0 + _LEVEL_TOL) else math.inf
                line = level
            while h_f and h_f[0][1] not in live:
                heapq.heappop(h_f)
            if h_f and -h_f[0][0] > line:
                i = self.row_of[live[heapq.heappop(h_f)[1]]]
                rem = self._rem_of(i)
                self._unset(i)
                self._cls_to(i, cls_bound)
                self._bind(i, rem)
                continue
            self.L = level if 0.0 < level < math.inf else 0.0
            self._freed = freed
            return freed

    def _settle_level(self, level_before: float) -> None:
        """After rows left: re-level the tracked resource; a rise must keep the others' slack."""
        if self._tracked < 0:
            return
        freed = self._rebalance()
        rose = freed or (level_before < self.L and self.n_bound > 0)
        if rose and not self._others_hold():
            self._mark_dirty()

    def _others_hold(self) -> bool:
        """Whether every resource but the tracked one stays below its slack line at the level.

        ``_headroom`` is a lower bound of the level at which the first of them would reach it:
        exact after a check, lowered by every row that adds usage (``_fix``, ``_bind``), and
        left alone when usage goes (it can only rise then); only a level above the bound pays
        for the exact check over all resources.
        """
        if self._headroom >= self.L:
            return True
        w = self.w_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.where(w > 0.0, (self._slack - self.f_sum) / w, np.inf)
        self._headroom = float(level.min())
        return self._headroom >= self.L and not np.any(self.f_sum > self._slack)

    # -- completions ---------------------------------------------------------------------------
    def _schedule_next(self) -> None:
        """Arm the timer for the next completion (a pending earlier timer is kept: if nothing
        is due when it fires, it re-arms)."""
        t_next = math.inf
        live = self._live
        h = self._h_fixed
        while h and h[0][1] not in live:
            heapq.heappop(h)
        if h:
            t_next = h[0][0]
        if self.n_bound and self.L > 0.0:
            h = self._h_bound
            while h and h[0][1] not in live:
                heapq.heappop(h)
            if h:
                tb = self.t_last + (h[0][0] - self.V) / self.L
                if tb < t_next:
                    t_next = tb
        if t_next < self._timer_at:
            self._arm(t_next)
        self._compact_in -= 1
        if self._compact_in <= 0:
            self._compact_in = 1024
            self._compact()

    def _compact(self) -> None:
        """Drop stale heap entries when they outnumber the live ones."""
        live = self._live
        if len(live) * 4 + 256 < len(self._h_fixed) + len(self._h_bound) + len(self._h_bcap) + len(
            self._h_fcap
        ):
            for heap in (self._h_fixed, self._h_bound, self._h_bcap, self._h_fcap):
                heap[:] = [e for e in heap if e[1] in live]
                heapq.heapify(heap)

    def _arm(self, t_next: float) -> None:
        self._version += 1
        self._timer_at = t_next
        call_later(self.env, max(t_next - self.env._now, 0.0), self._version, self._on_timer)

    def _pop_due(self) -> list[int]:
        """The tasks whose finish time (fixed) or finish level (bound) has come."""
        due: list[int] = []
        _pop_until(self._h_fixed, self.t_last + _TIME_TOL_S, self._live, due)
        if self.n_bound:
            v = self.V  # >= 0, never falls
            _pop_until(self._h_bound, v * (1.0 + 1e-15) + self.L * _TIME_TOL_S, self._live, due)
        return due

    def _on_timer(self, event: simpy.Event) -> None:
        if event.value != self._version:
            return
        self._timer_at = math.inf
        self._advance()
        due = self._pop_due()
        if not due:
            if not self._dirty:
                self._schedule_next()
            return
        due.sort()
        level = self.L
        row_of, finished, vwork0 = self.row_of, self._finished_stats, self._vwork0
        local = not self._general
        rs = self._tracked
        pairs_of = self._pairs
        touched = False
        for task in due:
            if rs in pairs_of[task]:
                touched = True
            i = row_of[task]
            self._close_segment(i)
            finished[task] = (vwork0[i], self._bott[i])
            if local and not self._dirty:
                self._unset(i)
                self.local_updates += 1
            else:
                self._leave(i)
            self._drop_row(i)
        if touched and not self._dirty:
            self._settle_level(level)
        if not self._dirty:
            self._schedule_next()
            if self._watchers:
                self._notify()
        for task in due:
            self.on_done(task)

    def _notify(self, force: bool = False) -> None:
        level = self.L
        vf, vw = self._vf, self._vw
        for r, cb in self._watchers.items():
            u = vf[r] + level * vw[r]
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
        now, v = self.t_last, self.V
        n = self.n
        cap_all = self.capacity
        self._version += 1  # any timer pending is superseded
        self._timer_at = math.inf
        for heap in (self._h_fixed, self._h_bound, self._h_bcap, self._h_fcap):
            heap.clear()
        old = (self._p_rate.copy(), self._p_nb.copy(), self.f_sum.copy(), self.w_sum.copy())
        if n == 0:
            self.f_sum[:] = 0.0
            self.w_sum[:] = 0.0
            self.n_bound = 0
            self.L = 0.0
            self.bottleneck[:] = False
            self._general = False
            self._tracked = -1
            self._set_slack()
            self._p_rate[:] = 0.0
            self._p_nb[:] = 0.0
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
        res = self.res[slots]
        coef = self.coef[slots]
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
            used = np.bincount(res.ravel(), (coef * rate[:, None]).ravel(), minlength=len(cap_all))
        # generous: flagging a resource that is merely near saturation only costs a re-solve
        bott = used >= cap_all * (1.0 - 1e-6)
        bott[0] = False
        self.bottleneck = bott
        sat = np.flatnonzero(bott)
        self._sole_bottleneck = int(sat[0]) if sat.size == 1 else -1
        # which rows share the one saturated resource's level (bound), if that describes it
        bound = np.zeros(n, dtype=bool)
        uses = bound
        tracked, general = -1, True
        if sat.size == 0:
            general = bool(np.any(rate < cap))
        elif sat.size == 1 and 0.0 < cap_all[sat[0]] < math.inf:
            rs = int(sat[0])
            uses = ((res == rs) & (coef > 0)).any(axis=1)
            below = rate < cap * (1.0 - 1e-9)
            if not np.any(below & ~uses):
                lv = rate[below]
                if lv.size == 0 or float(lv.max() - lv.min()) <= 1e-9 * float(lv.max()):
                    tracked, general = rs, False
                    bound = below
        self._tracked = tracked
        self._general = general
        fixed = ~bound
        # a row whose bottleneck class stays the same keeps its open segment
        for i in slots[self.cls[slots] != cls].tolist():
            self._close_segment(i)
        self.mode[slots] = bound
        self.rate[slots] = rate
        self.cls[slots] = cls
        self.t0[slots] = now
        self.v0[slots] = v
        self.rem0[slots] = rem
        stamps = self._stamps + 1 + np.arange(n)
        self.stamp[slots] = stamps
        self._stamps += n
        n_res = len(cap_all)
        n_px = self._p_rate.shape[0]
        px = self.proxy[slots]
        self.n_bound = n_bound = int(bound.sum())
        if n_bound:
            fr, fc = res[fixed], coef[fixed]
            keep = (fc > 0) & (fr != 0)
            self.f_sum[:] = np.bincount(
                fr[keep], (fc * rate[fixed][:, None])[keep], minlength=n_res
            )
            br, bc = res[bound], coef[bound]
            keep = (bc > 0) & (br != 0)
            self.w_sum[:] = np.bincount(br[keep], bc[keep], minlength=n_res)
            self._p_rate[:] = np.bincount(px[fixed], rate[fixed], minlength=n_px)
            self._p_nb[:] = np.bincount(px[bound], minlength=n_px)
            self._p_nf = np.bincount(px[fixed], minlength=n_px).tolist()
        else:  # every row fixed: the usage is the solver's
            self.f_sum[:] = used
            self.f_sum[0] = 0.0
            self.w_sum[:] = 0.0
            self._p_rate[:] = np.bincount(px, rate, minlength=n_px)
            self._p_nb[:] = 0.0
            self._p_nf = np.bincount(px, minlength=n_px).tolist()
        self._rebase(*old)
        self._live = dict(zip(stamps.tolist(), tasks.tolist(), strict=True))
        moving = fixed & (rate > 0)

        def heap_of(keys: np.ndarray, which: np.ndarray) -> list[tuple[float, int]]:
            out = list(zip(keys.tolist(), stamps[which].tolist(), strict=True))
            heapq.heapify(out)
            return out

        self._h_fixed = heap_of(now + rem[moving] / rate[moving], moving)
        if tracked >= 0:
            self._h_bound = heap_of(v + rem[bound], bound)
            self._h_bcap = heap_of(cap[bound], bound)
            fu = fixed & uses
            self._h_fcap = heap_of(-cap[fu], fu)
            self.L = 0.0
            self._set_slack()
            self._rebalance()
        else:
            self.L = 0.0
            self._set_slack()
        self._schedule_next()
        if self._watchers:
            self._notify(force=True)

    def _set_slack(self) -> None:
        """The slack lines (after a capacity change or a change of the tracked resource), and
        an unknown headroom (the sums were rebuilt)."""
        self._headroom = -math.inf
        key = (self._cap_version, self._tracked)
        if key == self._slack_key:
            return
        self._slack_key = key
        cap_all = self.capacity
        slack = np.where(np.isfinite(cap_all), cap_all * (1.0 - SLACK_MARGIN), np.inf)
        slack[0] = np.inf
        if self._tracked >= 0:
            slack[self._tracked] = np.inf
        self._slack[:] = slack
