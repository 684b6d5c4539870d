"""Max-min fair shares: pure functions over numpy arrays (no SimPy, no state).

Each transfer *i* has a ceiling ``cap_i`` (bytes/s, its per-thread limit) and uses resources *r*
with coefficients ``a_ir``: at rate ``x_i`` it consumes ``a_ir * x_i`` of resource *r*, whose
capacity is ``C_r``. The max-min fair allocation (progressive filling, Bertsekas & Gallager,
*Data Networks*, 2nd ed., §6.5.2) raises every transfer together from 0; a transfer stops rising
at its ceiling or when a resource it uses saturates.

**Weighted max-min** (optional ``weight``, one positive number per transfer): transfer *i* rises
as ``w_i * L`` with the common level ``L``, so two transfers held by the same saturated resource
get rates in the ratio of their weights. It is the unweighted problem in the variables
``y_i = x_i / w_i`` (ceilings ``cap_i / w_i``, coefficients ``a_ir * w_i``), which is how it is
computed. Without ``weight`` every transfer weighs 1 and the arithmetic is unchanged.

``FluidSharing`` (``sharing.py``) keeps the allocation up to date incrementally and calls these
functions when it must re-solve.
"""

from __future__ import annotations

import math

import numpy as np

#: bottleneck classes, the index in the per-task time columns
CLS_THREAD, CLS_SOURCE, CLS_PROXY, CLS_TARGET = 0, 1, 2, 3
CLASS_NAMES = ("thread", "source", "proxy", "target")


def max_min_rates(
    cap: np.ndarray,
    res: np.ndarray,
    coef: np.ndarray,
    capacity: np.ndarray,
    res_class: np.ndarray,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Max-min fair rates by progressive filling, one saturating resource level at a time.

    ``cap`` (n,) ceilings; ``res``/``coef`` (n, K) resource indices and coefficients (index 0 is an
    unlimited dummy); ``capacity`` (R,); ``res_class`` (R,) bottleneck class of each resource;
    ``weight`` (n,) optional positive weights (weighted max-min, see the module docstring).
    Returns ``(rate, cls)``: the rates and, per transfer, the class of the constraint that froze it
    (``CLS_THREAD`` for its own ceiling).

    Each round computes, for every resource, the water level at which it saturates when the
    transfers whose ceiling is below that level sit at their ceiling (a sorted prefix sum per
    resource). The lowest such level L is the next freezing point: transfers with ceiling <= L
    freeze at their ceiling, the others using the saturated resource freeze at L. Rounds are at
    most the number of distinct saturating resources plus one.
    """
    if weight is not None:
        w = _checked_weight(weight, cap.shape[0])
        rate_y, cls_y = max_min_rates(cap / w, res, coef * w[:, None], capacity, res_class)
        return rate_y * w, cls_y
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
    weight: np.ndarray | None = None,
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
    ``weight`` as in ``max_min_rates``.
    """
    if weight is not None:
        w = _checked_weight(weight, cap.shape[0])
        solved = one_resource_rates(cap / w, res, coef * w[:, None], capacity, res_class, r_sat)
        if solved is None:
            return None
        rate_y, cls_y, usage = solved
        return rate_y * w, cls_y, usage
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


def pairs_of(res: np.ndarray, coef: np.ndarray) -> dict[int, float]:
    """A transfer's resources as resource -> coefficient: slots with a positive coefficient,
    resource 0 (the unlimited dummy) left out, a resource named in two slots summed."""
    return pairs_from_lists(res.tolist(), coef.tolist())


def pairs_from_lists(res: list[int], coef: list[float]) -> dict[int, float]:
    """``pairs_of`` of a row given as lists."""
    pairs: dict[int, float] = {}
    for r, a in zip(res, coef, strict=True):
        if a > 0.0 and r != 0:
            pairs[r] = pairs.get(r, 0.0) + a
    return pairs


def _dense(pairs: dict[int, dict[int, float]], tasks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The (n, K) resource and coefficient arrays of ``tasks`` for ``max_min_rates``."""
    k = max((len(pairs[t]) for t in tasks), default=0) or 1
    res = np.zeros((len(tasks), k), dtype=np.int64)
    coef = np.zeros((len(tasks), k))
    for j, t in enumerate(tasks):
        p = pairs[t]
        m = len(p)
        res[j, :m] = list(p)
        coef[j, :m] = list(p.values())
    return res, coef


def _checked_weight(weight: np.ndarray, n: int) -> np.ndarray:
    """``weight`` as floats, or ValueError unless it holds ``n`` finite positive numbers."""
    w = np.asarray(weight, dtype=float)
    if w.shape != (n,) or not (np.isfinite(w) & (w > 0.0)).all():
        raise ValueError(f"weight must be {n} finite positive numbers, got {weight!r}")
    return w
