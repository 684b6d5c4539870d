"""The pool lifecycle as VB365 allows it: which requests are refused and what each one changes.

One pure state machine over proxy and pool names, used twice: at validation time, to replay a
scenario's timeline and report every request the product would refuse (an error in the file),
and at run time by the model, which asks it before it acts (refusals are recorded with their
reason). Sources: vb365 facts 4 (membership), 6 (maintenance), 7 (add, remove, delete),
8 (upgrade); faults (``fail``/``recover``) are the model's own, INFERRED: docs/model.md "Pool
lifecycle: maintenance, faults, membership, upgrades, roles".

Modes: ``active`` (takes new work), ``maintenance`` (entering or in maintenance), ``failed``
(crashed), ``inactive`` (upgraded, waiting for the rest of its pool). Upgrades are versions: an
upgrade raises a proxy's version by one; in a pool, a member at the pool's highest version stays
inactive while a member not in maintenance is still below it (fact 8).

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 4: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 8: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_upgrade_pool.html
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.defaults import DAY_S
from sim.scenario.schema import Scenario

ACTIVE, MAINTENANCE, FAILED, INACTIVE = "active", "maintenance", "failed", "inactive"


@dataclass(frozen=True)
class Planned:
    """A lifecycle request the scenario plans: a timeline event or a rotation's step."""

    t: float
    action: str
    proxy: str | None
    pool: str | None
    loc: tuple[str | int, ...]
    """Where the file asks for it: ("timeline", i) or ("maintenance_rotations", i)."""
    source: str
    """'timeline' or 'rotation' (the ``source`` of its lifecycle record)."""


def rotation_requests(spec: Scenario) -> list[Planned]:
    """Every rotating-maintenance request: member k of rotation i goes into maintenance at
    ``(day - 1) x 24 h + at + k x interval`` (k counts on across cycles) for ``duration``."""
    pools = {p.name: p.members for p in spec.pools}
    out: list[Planned] = []
    for i, rot in enumerate(spec.maintenance_rotations):
        members = rot.members or pools.get(rot.pool, [])
        t0 = (rot.day - 1) * DAY_S + rot.at
        loc: tuple[str | int, ...] = ("maintenance_rotations", i)
        k = 0
        for _ in range(rot.cycles):
            for m in members:
                on = t0 + k * rot.interval
                out.append(Planned(on, "maintenance_on", m, None, loc, "rotation"))
                out.append(Planned(on + rot.duration, "maintenance_off", m, None, loc, "rotation"))
                k += 1
    return out


def planned_requests(spec: Scenario, times: list[float], indices: list[int]) -> list[Planned]:
    """The timeline events ``indices`` (at ``times``) and every rotation request, in the order
    they are carried out: by time; at equal times timeline events first (in listing order),
    then rotation requests, a maintenance_off before a maintenance_on."""
    keyed: list[tuple[tuple[float, int, int, int], Planned]] = []
    for i in indices:
        ev = spec.timeline[i]
        p = Planned(times[i], ev.action, ev.proxy, ev.pool, ("timeline", i), "timeline")
        keyed.append(((times[i], 0, 0, i), p))
    for seq, p in enumerate(rotation_requests(spec)):
        keyed.append(((p.t, 1, 0 if p.action == "maintenance_off" else 1, seq), p))
    keyed.sort(key=lambda kp: kp[0])
    return [p for _, p in keyed]


@dataclass
class ProxyInfo:
    """What the rules know of a proxy."""

    pool: str | None
    mode: str
    version: int = 0
    default: bool = False
    dns: str = ""


@dataclass
class Change:
    """One effect of an accepted request, in the order the model applies them."""

    kind: str
    """'mode' (a proxy's mode changed), 'join' or 'leave' (membership), 'delete' (a pool)."""
    proxy: str | None = None
    pool: str | None = None
    old: str = ""
    new: str = ""


@dataclass
class LifecycleRules:
    """Proxy modes, pool membership and the refusal rules (see module docstring)."""

    proxies: dict[str, ProxyInfo]
    pools: dict[str, list[str]]
    repos_of: dict[str, list[str]] = field(default_factory=dict)
    """Owner (pool or proxy name) -> repositories it owns."""
    policy_check: Callable[[str, list[str]], str | None] | None = None
    """Whether a pool's policy can serve a member list (None: it can; str: why not)."""

    @classmethod
    def from_scenario(
        cls, sc: Scenario, policy_check: Callable[[str, list[str]], str | None] | None = None
    ) -> LifecycleRules:
        pool_of = {m: p.name for p in sc.pools for m in p.members}
        proxies = {
            p.name: ProxyInfo(
                pool=pool_of.get(p.name),
                mode=MAINTENANCE if p.state == "maintenance" else ACTIVE,
                default=p.default,
                dns=(p.dns or p.name).lower().rstrip("."),
            )
            for p in sc.proxies
        }
        repos: dict[str, list[str]] = {}
        for r in sc.repositories:
            repos.setdefault(r.owner, []).append(r.name)
        return cls(proxies, {p.name: list(p.members) for p in sc.pools}, repos, policy_check)

    # -- queries -------------------------------------------------------------------------------
    def active_members(self, pool: str) -> list[str]:
        return [m for m in self.pools[pool] if self.proxies[m].mode == ACTIVE]

    # -- the rules -----------------------------------------------------------------------------
    def refusal(self, action: str, proxy: str | None, pool: str | None) -> str | None:
        """Why the product would refuse this request now, or None if it accepts it."""
        if action == "delete_pool":
            if pool is None or pool not in self.pools:
                return f"there is no pool '{pool}'"
            owned = self.repos_of.get(pool, [])
            if owned:
                return (
                    f"pool '{pool}' owns repositories {', '.join(owned)}; change their owner "
                    "before deleting the pool"
                )
            return None
        if proxy is None or proxy not in self.proxies:
            return f"there is no proxy '{proxy}'"
        info = self.proxies[proxy]
        if action == "maintenance_on":
            if info.pool is None:
                return f"proxy '{proxy}' is not a pool member; maintenance mode is for pool members"
            if info.mode == MAINTENANCE:
                return f"proxy '{proxy}' is already in maintenance"
            if not self._active_after(action, proxy, pool, info.pool):
                return (
                    f"proxy '{proxy}' is the last active member of pool '{info.pool}'; at least "
                    "one member must stay active"
                )
            return None
        if action == "maintenance_off":
            if info.mode != MAINTENANCE:
                return f"proxy '{proxy}' is not in maintenance"
            return None
        if action == "fail":
            if info.mode == FAILED:
                return f"proxy '{proxy}' has already failed"
            if info.mode == MAINTENANCE:
                return f"proxy '{proxy}' is in maintenance: its service is stopped"
            return None
        if action == "recover":
            if info.mode != FAILED:
                return f"proxy '{proxy}' has not failed"
            return None
        if action == "upgrade":
            if info.pool is not None:
                members = self.pools[info.pool]
                top = max(self.proxies[m].version for m in members)
                if info.version == top and any(
                    self.proxies[m].version < top
                    for m in members
                    if self.proxies[m].mode != MAINTENANCE
                ):
                    return f"proxy '{proxy}' is already upgraded; the pool waits for the others"
                if not self._active_after(action, proxy, pool, info.pool):
                    return (
                        f"upgrading proxy '{proxy}' would leave pool '{info.pool}' with no "
                        "active member until the other members are upgraded"
                    )
            return None
        if action == "add":
            if pool is None or pool not in self.pools:
                return f"there is no pool '{pool}'"
            if info.pool is not None:
                return (
                    f"proxy '{proxy}' is already a member of pool '{info.pool}'; a proxy can "
                    "belong to only one pool at a time"
                )
            if info.default:
                return f"'{proxy}' is the default proxy, which cannot be added to a pool"
            if info.mode == FAILED:
                return f"proxy '{proxy}' has failed; recover it first"
            owned = self.repos_of.get(proxy, [])
            if owned:
                return (
                    f"proxy '{proxy}' owns repositories {', '.join(owned)}; a repository is "
                    "owned by a pool or by a standalone proxy"
                )
            members = self.pools[pool]
            if members:
                top = max(self.proxies[m].version for m in members)
                if info.version != top:
                    return (
                        f"proxy '{proxy}' is at version {info.version} and pool '{pool}' at "
                        f"{top}; upgrade it first"
                    )
            if self.policy_check is not None:
                why = self.policy_check(pool, [*members, proxy])
                if why:
                    return why
            return None
        if action == "remove":
            where = pool or info.pool
            if info.pool is None or where != info.pool:
                return f"proxy '{proxy}' is not a member of pool '{where}'"
            if info.mode == MAINTENANCE:
                return (
                    f"proxy '{proxy}' is in maintenance; a proxy in maintenance cannot be removed"
                )
            if info.mode == ACTIVE and self.active_members(info.pool) == [proxy]:
                return (
                    f"proxy '{proxy}' is the last active member of pool '{info.pool}' and "
                    "cannot be removed"
                )
            if self.pools[info.pool] == [proxy]:
                return (
                    f"proxy '{proxy}' is the only member of pool '{info.pool}'; a pool keeps at "
                    "least one proxy (delete the pool instead)"
                )
            return None
        return f"unknown action '{action}'"

    def _active_after(self, action: str, proxy: str, pool: str | None, home: str) -> bool:
        """Whether pool ``home`` still has an active member after the request."""
        trial = copy.deepcopy(self)
        trial._apply(action, proxy, pool)
        return bool(trial.active_members(home))

    def _settled(
        self, pool: str, versions: dict[str, int], modes: dict[str, str]
    ) -> dict[str, str]:
        """Modes after the upgrade rule: members at the top version wait (inactive) while a
        member not in maintenance is below it; everyone else keeps its mode."""
        members = self.pools[pool]
        if not members:
            return {}
        top = max(versions[m] for m in members)
        behind = any(versions[m] < top for m in members if modes[m] != MAINTENANCE)
        out = {}
        for m in members:
            mode = modes[m]
            if mode in (ACTIVE, INACTIVE):
                mode = INACTIVE if behind and versions[m] == top else ACTIVE
            out[m] = mode
        return out

    # -- applying ------------------------------------------------------------------------------
    def apply(self, action: str, proxy: str | None, pool: str | None) -> list[Change]:
        """Apply an accepted request; returns its effects. Call :meth:`refusal` first."""
        why = self.refusal(action, proxy, pool)
        if why is not None:
            raise ValueError(why)
        return self._apply(action, proxy, pool)

    def _apply(self, action: str, proxy: str | None, pool: str | None) -> list[Change]:
        changes: list[Change] = []
        if action == "delete_pool":
            assert pool is not None
            for m in list(self.pools[pool]):
                info = self.proxies[m]
                if info.mode in (MAINTENANCE, INACTIVE):
                    changes.append(Change("mode", m, pool, info.mode, ACTIVE))
                    info.mode = ACTIVE  # maintenance and the upgrade wait are pool matters
                changes.append(Change("leave", m, pool))
                info.pool = None
            del self.pools[pool]
            changes.append(Change("delete", None, pool))
            return changes
        assert proxy is not None
        info = self.proxies[proxy]
        target = {
            "maintenance_on": MAINTENANCE,
            "maintenance_off": ACTIVE,
            "fail": FAILED,
            "recover": ACTIVE,
        }.get(action)
        if target is not None:
            changes.append(Change("mode", proxy, info.pool, info.mode, target))
            info.mode = target
        elif action == "upgrade":
            info.version += 1
        elif action == "add":
            assert pool is not None
            self.pools[pool].append(proxy)
            info.pool = pool
            changes.append(Change("join", proxy, pool))
        elif action == "remove":
            where = info.pool
            assert where is not None
            self.pools[where].remove(proxy)
            info.pool = None
            if info.mode == INACTIVE:
                changes.append(Change("mode", proxy, where, INACTIVE, ACTIVE))
                info.mode = ACTIVE
            changes.append(Change("leave", proxy, where))
            changes += self._settle(where)
            return changes
        if info.pool is not None:
            changes += self._settle(info.pool)
        return changes

    def _settle(self, pool: str) -> list[Change]:
        members = self.pools[pool]
        versions = {m: self.proxies[m].version for m in members}
        modes = {m: self.proxies[m].mode for m in members}
        out = []
        for m, mode in self._settled(pool, versions, modes).items():
            if mode != modes[m]:
                out.append(Change("mode", m, pool, modes[m], mode))
                self.proxies[m].mode = mode
        return out
