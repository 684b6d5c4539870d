"""How concurrent transfers share capacity: max-min fairness, re-evaluated on every change.

Each active transfer *i* has remaining work (bytes), a ceiling ``cap_i`` (bytes/s, the per-thread
limit) and uses up to ``K`` resources *r* with coefficients ``a_ir``: at rate ``x_i`` it consumes
``a_ir * x_i`` of resource *r*, whose capacity is ``C_r``. Rates are the max-min fair allocation
(progressive filling, Bertsekas & Gallager, *Data Networks*, 2nd ed., §6.5.2): all transfers
start at 0 and rise together; a transfer stops rising when it reaches its ceiling or when a
resource it uses is saturated. With one shared resource this is processor sharing; with
ceilings only it is a set of fixed-rate servers.

Rates are recomputed whenever the set of active transfers or a capacity changes, so between two
changes every rate is constant and completion times are exact (no time stepping).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from sim.model.trace import Timeseries

#: bottleneck classes, the index in the per-task time columns
CLS_THREAD, CLS_SOURCE, CLS_PROXY, CLS_TARGET = 0, 1, 2, 3
CLASS_NAMES = ("thread", "source", "proxy", "target")

_TIME_TOL_S = 1e-9


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


class FluidSharing:
    """The set of active transfers, their fair rates and their completion events.

    Transfers are packed in the first ``n`` rows of the arrays; removal moves the last row into
    the hole. ``on_done(task)`` is called once per finished transfer at its exact finish time.

    A change that provably leaves every other rate unchanged is applied locally instead of by a
    full recomputation (the max-min allocation is unique, so this is exact): a new transfer whose
    resources can all carry it at its ceiling, none of them a bottleneck, runs at its ceiling; a
    leaving transfer that used no bottleneck resource frees only slack.
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
        size = max(max_active, 1)
        self.n = 0
        self.task = np.zeros(size, dtype=np.int64)
        self.proxy = np.zeros(size, dtype=np.int64)
        self.rem = np.zeros(size)
        self.cap = np.zeros(size)
        self.rate = np.zeros(size)
        self.cls = np.zeros(size, dtype=np.int8)
        self.res = np.zeros((size, k_slots), dtype=np.int64)
        self.coef = np.zeros((size, k_slots))
        self.bott_s = np.zeros((size, len(CLASS_NAMES)))
        self.moved = np.zeros(size)
        self.used: np.ndarray = np.zeros(self.capacity.shape[0])
        """Capacity in use per resource (sum of coefficient x rate)."""
        self.bottleneck: np.ndarray = np.zeros(self.capacity.shape[0], dtype=bool)
        """Resources saturated in the last full recomputation."""
        self.consumed: np.ndarray = np.zeros(self.capacity.shape[0])
        """Capacity used so far per resource (integral of usage; e.g. RU spent)."""
        self.row_of: dict[int, int] = {}
        self._finished_stats: dict[int, tuple[float, np.ndarray]] = {}
        self.t_last = env.now
        self._dirty = False
        self._version = 0
        self._timer_at = np.inf
        self.recomputes = 0
        self.local_updates = 0
        self.one_resource_solves = 0
        self._sole_bottleneck = -1
        """The only resource saturated after the last recomputation (-1: none or several)."""
        self._watchers: dict[int, Callable[[], None]] = {}
        self._watched = np.zeros(self.capacity.shape[0], dtype=bool)

    def watch(self, resource: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of ``resource``'s usage (request budgets)."""
        self._watchers[resource] = callback
        self._watched[resource] = True

    def _notify(self, resources: np.ndarray | None = None) -> None:
        if resources is None:
            for cb in self._watchers.values():
                cb()
            return
        for r in np.unique(resources[self._watched[resources]]).tolist():
            self._watchers[r]()

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
        i = self.n
        self.n += 1
        self.task[i] = task
        self.proxy[i] = proxy
        self.rem[i] = work
        self.cap[i] = cap
        self.rate[i] = 0.0
        self.cls[i] = CLS_THREAD
        self.res[i] = res
        self.coef[i] = coef
        self.bott_s[i] = 0.0
        self.moved[i] = 0.0
        self.row_of[task] = i
        if self._dirty:
            return
        if np.isfinite(cap) and cap > 0.0:
            used = res[coef > 0]
            if np.unique(used).size != used.size:
                # a resource named in two slots: only the full allocation sums them right
                self._mark_dirty()
                return
            load = self.used[used] + coef[coef > 0] * cap
            if not self.bottleneck[used].any() and np.all(
                load <= self.capacity[used] * (1.0 - 1e-12)
            ):
                self.rate[i] = cap
                self.used[used] = load
                self.local_updates += 1
                if self._watchers and self._watched[used].any():
                    self._notify(used)
                finish = self.env.now + work / cap
                if finish < self._timer_at:
                    self._schedule(work / cap)
                return
        self._mark_dirty()

    def remove(self, task: int) -> tuple[float, float, np.ndarray]:
        """Stop ``task`` now; returns (bytes moved, bytes remaining, bottleneck seconds)."""
        self._advance()
        i = self.row_of.pop(task)
        out = (float(self.moved[i]), float(self.rem[i]), self.bott_s[i].copy())
        self._release(i)
        self._drop_row(i)
        if not self._dirty:
            self._schedule_next()
        return out

    def set_capacity(self, resource: int, value: float) -> None:
        """Change one resource's capacity from now on."""
        self._advance()
        self.capacity[resource] = value
        self._mark_dirty()

    def stats(self, task: int) -> tuple[float, np.ndarray]:
        """Bytes moved so far and bottleneck seconds of an active transfer (after advancing)."""
        self._advance()
        i = self.row_of[task]
        return float(self.moved[i]), self.bott_s[i].copy()

    def remaining(self, task: int) -> float:
        """Bytes left of an active transfer (after advancing)."""
        self._advance()
        return float(self.rem[self.row_of[task]])

    def pop_finished(self, task: int) -> tuple[float, np.ndarray]:
        """Bytes moved and bottleneck seconds of a transfer that just finished."""
        return self._finished_stats.pop(task)

    # -- internals -----------------------------------------------------------------------------
    def _release(self, i: int) -> None:
        """Take row ``i``'s usage off its resources, or ask for a full recomputation."""
        if self._dirty:
            return
        mask = self.coef[i] > 0
        r = self.res[i][mask]
        if self.bottleneck[r].any():
            self._mark_dirty()
        else:
            np.subtract.at(self.used, r, self.coef[i][mask] * self.rate[i])
            self.local_updates += 1
            if self._watchers and self._watched[r].any():
                self._notify(r)

    def _drop_row(self, i: int) -> None:
        last = self.n - 1
        if i != last:
            for arr in (self.task, self.proxy, self.rem, self.cap, self.rate, self.cls, self.moved):
                arr[i] = arr[last]
            self.res[i] = self.res[last]
            self.coef[i] = self.coef[last]
            self.bott_s[i] = self.bott_s[last]
            self.row_of[int(self.task[i])] = i
        self.n = last

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty = True
            ev = self.env.event()
            ev.callbacks.append(self._recompute)
            ev.succeed()

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self.t_last
        if dt <= 0.0 or self.n == 0:
            self.t_last = now
            return
        n = self.n
        rate = self.rate[:n]
        moved = rate * dt
        np.minimum(moved, self.rem[:n], out=moved)
        self.rem[:n] -= moved
        self.moved[:n] += moved
        self.bott_s[np.arange(n), self.cls[:n]] += dt
        self.consumed += self.used * dt
        self.ts.add_bytes(self.t_last, now, self.proxy[:n], rate)
        self.t_last = now

    def _schedule(self, dt: float) -> None:
        self._version += 1
        version = self._version
        self._timer_at = self.env.now + dt
        timer = self.env.timeout(max(dt, 0.0))
        timer.callbacks.append(lambda _e: self._on_timer(version))

    def _schedule_next(self) -> None:
        n = self.n
        if n == 0:
            self._version += 1
            self._timer_at = np.inf
            return
        rate = self.rate[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            ttf = np.where(rate > 0, self.rem[:n] / rate, np.inf)
        dt = float(ttf.min())
        if np.isfinite(dt):
            self._schedule(dt)
        else:
            self._version += 1
            self._timer_at = np.inf

    def _recompute(self, _event: object = None) -> None:
        self._dirty = False
        self._advance()
        n = self.n
        if n == 0:
            self.used[:] = 0.0
            self.bottleneck[:] = False
            self._schedule_next()
            if self._watchers:
                self._notify()
            return
        self.recomputes += 1
        cap, res, coef = self.cap[:n], self.res[:n], self.coef[:n]
        solved = None
        if n > SMALL_N and self._sole_bottleneck > 0:
            # the resource that was the only bottleneck is likely still the only one
            solved = one_resource_rates(
                cap, res, coef, self.capacity, self.res_class, self._sole_bottleneck
            )
        if solved is not None:
            rate, cls, self.used = solved
            self.one_resource_solves += 1
        else:
            rate, cls = max_min_rates(cap, res, coef, self.capacity, self.res_class)
            self.used = np.bincount(
                res.ravel(), (coef * rate[:, None]).ravel(), minlength=self.capacity.shape[0]
            )
        self.rate[:n] = rate
        self.cls[:n] = cls
        # generous: flagging a resource that is merely near saturation only costs a recompute
        self.bottleneck = self.used >= self.capacity * (1.0 - 1e-6)
        self.bottleneck[0] = False
        sat = np.flatnonzero(self.bottleneck)
        self._sole_bottleneck = int(sat[0]) if sat.size == 1 else -1
        self._schedule_next()
        if self._watchers:
            self._notify()

    def _on_timer(self, version: int) -> None:
        if version != self._version:
            return
        self._timer_at = np.inf
        self._advance()
        n = self.n
        rate = self.rate[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            ttf = np.where(rate > 0, self.rem[:n] / rate, np.inf)
        done_rows = np.flatnonzero((ttf <= _TIME_TOL_S) | (self.rem[:n] <= 0.0))
        rows: list[int] = done_rows.tolist()
        finished = [int(self.task[i]) for i in rows]
        for i in rows:
            self.moved[i] += self.rem[i]
            self.rem[i] = 0.0
            self._finished_stats[int(self.task[i])] = (float(self.moved[i]), self.bott_s[i].copy())
        # drop from the highest row down so packing moves never touch a row still to drop
        for i in sorted(rows, reverse=True):
            self._release(i)
            del self.row_of[int(self.task[i])]
            self._drop_row(i)
        if not self._dirty:
            self._schedule_next()
        for t in finished:
            self.on_done(t)
