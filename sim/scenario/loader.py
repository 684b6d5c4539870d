"""Scenario loading: YAML with positions, ``--set`` overrides, schema, VB365 rules."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import Problem, ScenarioError
from sim.policies.registry import PolicyError, make_policy
from sim.scenario.calendar import timeline_times
from sim.scenario.horizon import horizon_problems, horizon_warnings
from sim.scenario.overrides import apply_override
from sim.scenario.rules import check_rules
from sim.scenario.schema import CalibrationSpec, ProxySpec, Scenario
from sim.scenario.suggest import did_you_mean, fields_at
from sim.scenario.yamlsource import (
    Positions,
    format_path,
    load_yaml,
    load_yaml_file,
    position_of,
)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from."""

    spec: Scenario
    path: Path | None
    overrides: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    """Things that are not wrong but probably not meant (an error under ``--strict``)."""
    notes: tuple[Problem, ...] = ()
    """Information for the user (fields the model ignores); never an error."""
    positions: Positions = field(default_factory=dict, repr=False, compare=False)
    """(line, column) of every value of the file, for problems found after loading."""

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        """A Problem at loc of this scenario (its file and the line of loc, when known)."""
        file = str(self.path) if self.path is not None else "<string>"
        pos = position_of(self.positions, loc)
        line, col = pos if pos is not None else (None, None)
        return Problem(file, line, col, format_path(loc), message)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the scenario are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def resolved(self) -> dict[str, Any]:
        """The scenario with every default filled in, in SI units (JSON-ready)."""
        return self.spec.model_dump(mode="json")

    @property
    def digest(self) -> str:
        """SHA-256 of the resolved scenario (stable across key order and units)."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def load_scenario(
    source: str | Path, overrides: list[str] | tuple[str, ...] = ()
) -> LoadedScenario:
    """Load, override and validate a scenario file; raises ScenarioError listing every problem."""
    path = Path(source)
    data, positions = load_yaml_file(path)
    return validate_data(data, positions, str(path), overrides, path)


def load_scenario_text(
    text: str, name: str = "<string>", overrides: list[str] | tuple[str, ...] = ()
) -> LoadedScenario:
    """Like load_scenario, from YAML text (for notebooks and tests)."""
    data, positions = load_yaml(text, name)
    return validate_data(data, positions, name, overrides, None)


def validate_data(
    data: object,
    positions: Positions,
    file: str,
    overrides: list[str] | tuple[str, ...],
    path: Path | None,
) -> LoadedScenario:
    """Validate parsed YAML data (with positions) into a LoadedScenario."""
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(file, 1, 1, "", "a scenario is a mapping of sections (name, tenants, ...)")]
        )
    data = copy.deepcopy(data)
    overridden: set[tuple[str | int, ...]] = set()
    for text in overrides:
        overridden.add(apply_override(data, text))
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [
                _problem(file, positions, loc, msg, overridden)
                for loc, msg in _schema_errors(exc, data)
            ]
        ) from None
    problems = [
        _problem(file, positions, loc, msg, overridden)
        for loc, msg in [*check_rules(spec), *_policy_problems(spec)]
    ]
    if not problems:
        problems = [
            _problem(file, positions, loc, msg, overridden)
            for loc, msg in [*_timeline_problems(spec), *horizon_problems(spec)]
        ]
    if problems:
        raise ScenarioError(problems)
    warnings = [
        _problem(file, positions, loc, msg, overridden) for loc, msg in horizon_warnings(spec)
    ]
    notes = [_problem(file, positions, loc, msg, overridden) for loc, msg in _ignored_fields(spec)]
    return LoadedScenario(
        spec=spec,
        path=path,
        overrides=tuple(overrides),
        raw=data,
        warnings=tuple(warnings),
        notes=tuple(notes),
        positions=positions,
    )


def ram_threads(proxy: ProxySpec, cal: CalibrationSpec) -> int:
    """Threads ``proxy`` runs: its thread slots, at most what its memory holds
    ((ram - ram_base) / ram_per_thread, INFERRED parameters) and at least one."""
    fit = max(1, int((proxy.ram - cal.ram_base) / cal.ram_per_thread + 1e-9))
    return min(proxy.threads, fit)


def _ignored_fields(spec: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Notes on fields the model reads differently from what they say: a proxy whose ``ram``
    holds fewer threads than its ``threads`` runs fewer (``ram`` sets the thread count)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    if spec.synthetic is not None:
        return out
    for i, p in enumerate(spec.proxies):
        runs = ram_threads(p, spec.calibration)
        if runs < p.threads:
            msg = (
                f"ram holds {runs} of the {p.threads} threads of {p.name} "
                f"(calibration.ram_base, ram_per_thread): it runs {runs}"
            )
            out.append((("proxies", i, "ram"), msg))
    return out


def _policy_problems(spec: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Each pool's policy resolved and created with its parameters, as a run would; a
    PolicyError becomes a problem at ``pools[i].policy``."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, pool in enumerate(spec.pools):
        policy = pool.policy
        name, params = (policy, {}) if isinstance(policy, str) else (policy.name, policy.params)
        try:
            make_policy(name, dict(params)).check_members(pool.members)
        except PolicyError as exc:  # a parameter's problem is at pools[i].policy.params.<name>
            out.extend((("pools", i, "policy", *loc), msg) for loc, msg in exc.problems)
    return out


def policy_checker(spec: Scenario) -> Callable[[str, list[str]], str | None]:
    """``check(pool, members)``: why the pool's policy cannot serve these members, or None."""
    pools = {p.name: p for p in spec.pools}

    def check(pool: str, members: list[str]) -> str | None:
        policy = pools[pool].policy
        name, params = (policy, {}) if isinstance(policy, str) else (policy.name, policy.params)
        try:
            make_policy(name, dict(params)).check_members(members)
        except PolicyError as exc:
            return f"pool '{pool}' policy: {exc}"
        return None

    return check


def _timeline_problems(spec: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Every timeline event must name what it acts on, be placed in time, and be accepted by the
    VB365 lifecycle rules when the timeline is replayed in time order."""
    from sim.scenario.lifecycle_rules import LifecycleRules, planned_requests
    from sim.units import format_duration

    out: list[tuple[tuple[str | int, ...], str]] = []
    proxies = {p.name for p in spec.proxies}
    pools = {p.name for p in spec.pools}
    jobs = {j.name: j for j in spec.jobs}
    times = timeline_times(spec)
    ok: list[int] = []
    for i, ev in enumerate(spec.timeline):
        loc: tuple[str | int, ...] = ("timeline", i)
        bad = len(out)
        if ev.action == "exchange_api":  # a tenant's Exchange path
            if ev.tenant not in {t.name for t in spec.tenants}:
                out.append(
                    ((*loc, "tenant"), f"'exchange_api' needs a known tenant, got {ev.tenant!r}")
                )
            if ev.api is None:
                out.append(((*loc, "api"), "'exchange_api' needs api: ews or graph"))
        elif ev.action != "delete_pool":
            if ev.proxy is None:
                out.append(((*loc, "action"), f"'{ev.action}' needs a proxy"))
            elif ev.proxy not in proxies:
                hint = did_you_mean(ev.proxy, proxies, kind="proxy", elsewhere={"pool": pools})
                out.append(
                    (
                        (*loc, "proxy"),
                        f"unknown proxy '{ev.proxy}'{hint}; proxies "
                        f"are: {', '.join(sorted(proxies))}",
                    )
                )
        if ev.action in ("add", "delete_pool") and ev.pool is None:
            out.append(((*loc, "action"), f"'{ev.action}' needs a pool"))
        if ev.pool is not None and ev.pool not in pools:
            out.append(
                (
                    (*loc, "pool"),
                    f"unknown pool '{ev.pool}'"
                    f"{did_you_mean(ev.pool, pools, kind='pool', elsewhere={'proxy': proxies})}"
                    "; pools are: "
                    f"{', '.join(sorted(pools)) or '(none)'}",
                )
            )
        if (ev.at is None) == (ev.offset is None):
            out.append((loc, "give exactly one of 'at' (with 'day') or 'offset' (with 'job')"))
        elif ev.offset is not None:
            if ev.job is None or ev.job not in jobs:
                out.append(
                    (
                        (*loc, "job"),
                        f"'offset' needs a known job, got {ev.job!r}"
                        f"{did_you_mean(ev.job, jobs) if ev.job else ''}; jobs are: "
                        f"{', '.join(sorted(jobs)) or '(none)'}",
                    )
                )
            elif jobs[ev.job].schedule.after_source:
                out.append(
                    ((*loc, "job"), f"job '{ev.job}' runs after its source: no scheduled start")
                )
            elif math.isnan(times[i]):
                out.append(
                    ((*loc, "session"), f"job '{ev.job}' has no session {ev.session} in the run")
                )
        if len(out) == bad:
            ok.append(i)
    if out:
        return out
    rules = LifecycleRules.from_scenario(spec, policy_checker(spec))
    for req in planned_requests(spec, times, ok):
        if req.action == "exchange_api":  # a tenant's Exchange path: no lifecycle rule
            continue
        why = rules.refusal(req.action, req.proxy, req.pool)
        if why is not None:
            if req.source == "timeline":
                out.append(((*req.loc, "action"), f"refused: {why}"))
            else:  # a rotation's step: say which one
                when = format_duration(req.t)
                out.append((req.loc, f"refused: {req.action} of {req.proxy} at {when}: {why}"))
            continue
        rules.apply(req.action, req.proxy, req.pool)
    return out


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def _clean_loc(
    loc: tuple[int | str, ...], data: object
) -> tuple[tuple[str | int, ...], int | None]:
    """Drop pydantic's union-branch tags (such as 'str' or 'PolicySpec') and '[key]' from a loc.

    The loc is walked through the data, so a user's own key is never mistaken for a tag (an
    unknown key 'Tenants' must keep its name and position). Also returns the length of the
    cleaned prefix at which a union tag was dropped, or None.
    """
    out: list[str | int] = []
    node: object = data
    union_at: int | None = None
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]  # type: ignore[index]
        elif part == "[key]":
            continue
        elif isinstance(part, str) and (part[:1].isupper() or part in _TYPE_TAGS or "[" in part):
            union_at = len(out)
            continue
        else:
            node = None
        out.append(part)
    return tuple(out), union_at


def _schema_errors(exc: ValidationError, data: object) -> list[tuple[tuple[str | int, ...], str]]:
    """(loc, message) per schema error, with the noise of union branches removed.

    For ``policy: str | PolicySpec``, a mapping with a typo also fails the 'str' branch; that
    error is dropped when another branch got further. Branches that all failed at the same
    place are merged into one message.
    """
    entries = []
    for err in exc.errors():
        loc, union_at = _clean_loc(err["loc"], data)
        entries.append((loc, None if union_at is None else loc[:union_at], err))
    deeper = {u for loc, u, _ in entries if u is not None and len(loc) > len(u)}
    shallow: dict[tuple[str | int, ...], list[Any]] = {}
    for loc, union, err in entries:
        if union is not None and len(loc) == len(union) and union not in deeper:
            shallow.setdefault(loc, []).append(err)
    out: list[tuple[tuple[str | int, ...], str]] = []
    for loc, union, err in entries:
        if union is None or len(loc) > len(union):
            out.append((loc, _message(err, loc)))
        elif loc in shallow:  # the first failed branch here stands for all of them
            errs = shallow.pop(loc)
            wants = [re.sub(r" or instance of \w+", "", str(e["msg"])) for e in errs]
            wants = [w.removeprefix("Input should be ") for w in wants]
            merged = dict(errs[0], msg="Input should be " + " or ".join(dict.fromkeys(wants)))
            out.append((loc, _message(merged, loc)))
    return out


def _allowed(err: Any) -> list[str]:
    """The values a literal error allows (from pydantic's 'expected' text)."""
    return re.findall(r"'((?:[^'\\]|\\.)*)'", str(err.get("ctx", {}).get("expected", "")))


def _message(err: Any, loc: tuple[str | int, ...] = ()) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["loc"][-1:] == ("[key]",) and len(err["loc"]) >= 2:
        key = err["loc"][-2]
        if err["type"] == "literal_error":
            return f"unknown key {key!r}{did_you_mean(key, _allowed(err))}; " + msg.replace(
                "Input should be", "allowed keys are"
            )
        return f"key {key!r}: {msg}"
    if err["type"] == "extra_forbidden":
        known = fields_at(Scenario, loc) if loc else []
        key = loc[-1] if loc else ""
        hint = did_you_mean(key, known)
        if known:
            return f"unknown field {str(key)!r}{hint}; allowed here: {', '.join(known)}"
        return f"unknown field {str(key)!r}{hint} (not allowed here; see the reference)"
    if err["type"] == "literal_error":
        inp = err.get("input")
        hint = did_you_mean(inp, _allowed(err), "; did you mean {}?")
        got = f" (got {inp!r}{hint})" if inp is not None else ""
        return msg.replace("Input should be", "allowed values are") + got
    inp = err.get("input")
    if err["type"] != "missing" and isinstance(inp, (str, int, float, bool)):
        return f"{msg} (got {inp!r})"
    return msg


def _problem(
    file: str,
    positions: Positions,
    loc: tuple[str | int, ...],
    msg: str,
    overridden: set[tuple[str | int, ...]],
) -> Problem:
    for o in overridden:
        # inside what a --set wrote, or a key the --set created (absent from the file)
        if loc[: len(o)] == o or (loc and o[: len(loc)] == loc and loc not in positions):
            return Problem("--set", None, None, format_path(loc), msg)
    pos = position_of(positions, loc)
    line, col = pos if pos is not None else (None, None)
    return Problem(file, line, col, format_path(loc), msg)
