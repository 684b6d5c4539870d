"""Regression benchmarks: key metrics of a set of scenarios compared with committed baselines.

A **bench set** is a YAML file (``benchmarks/regression.yaml`` is this repository's)::

    name: regression                 # the baseline folder is <baselines>/<name>/
    baselines: ../results/baselines  # optional; relative to this file (default below)
    metrics: [throughput, makespan_max, window_compliance]   # default for every scenario
    tolerances:                      # per metric: |new - old| <= max(abs, rel * |old|)
      throughput: {rel: 0.01}
    scenarios:
      - name: quickstart-1d
        file: ../scenarios/quickstart.yaml     # relative to this file
        seed: 42                               # optional (default: the scenario's)
        policy: round_robin                    # optional
        set: [simulation.days=1]               # optional --set overrides
        metrics: [throughput, jain_fairness@pool:pool-a]   # optional, replaces the default
        tolerances: {throughput: {rel: 0.05}}  # optional, on top of the set's

A metric is a summary metric name (``poolsim run`` writes them to summary.csv) of the ``overall``
scope, or ``name@scope`` for another scope (``jain_fairness@pool:pool-a``,
``throughput@proxy:proxy-01``). ``redone_bytes`` (GB) is derived from the task table when the
summary does not have it.

The default tolerance is ``rel = 1e-6, abs = 1e-9``: a run is deterministic for a seed, so this
only absorbs floating-point differences between platforms; any model change shows.

A baseline is one JSON file per scenario, ``<baselines>/<set name>/<scenario>.json``, written
atomically by ``poolsim bench update``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import sim
from sim.atomic import atomic_write_text
from sim.errors import ScenarioError
from sim.experiment.run import RunResult, simulate
from sim.policies.registry import PolicyError
from sim.scenario import load_scenario
from sim.scenario.yamlsource import format_path, load_yaml_file, position_of

DEFAULT_METRICS = (
    "throughput",
    "makespan_max",
    "window_compliance",
    "jain_fairness",
    "throttled_fraction",
    "redone_bytes",
)
"""Metrics compared when a set names none: the issue's key metrics."""

DEFAULT_REL = 1e-6
DEFAULT_ABS = 1e-9
DEFAULT_BASELINES = Path("results/baselines")
"""Baseline root when the set file names none (relative to the current directory)."""

BASELINE_FORMAT = 1
GB = 1e9


class BenchError(Exception):
    """A bench set or baseline that cannot be used (the message says what and where)."""


class Tolerance(BaseModel):
    """Pass when ``|new - old| <= max(abs, rel * |old|)``."""

    model_config = ConfigDict(extra="forbid")
    rel: float = Field(DEFAULT_REL, ge=0.0, description="Relative tolerance (0.01 = 1 %).")
    abs: float = Field(DEFAULT_ABS, ge=0.0, description="Absolute tolerance, in the metric's unit.")

    def allows(self, old: float, new: float) -> bool:
        """True when ``new`` is within tolerance of ``old`` (two NaNs agree)."""
        if math.isnan(old) or math.isnan(new):
            return math.isnan(old) and math.isnan(new)
        if math.isinf(old) or math.isinf(new):
            return old == new
        return abs(new - old) <= max(self.abs, self.rel * abs(old))

    def describe(self) -> str:
        return f"rel {self.rel:g}, abs {self.abs:g}"


class BenchScenario(BaseModel):
    """One scenario of a bench set."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    file: str
    seed: int | None = Field(None, ge=0)
    policy: str | None = None
    set: list[str] = Field(default_factory=list)
    metrics: list[str] | None = None
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)


class BenchSet(BaseModel):
    """A bench-set file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    description: str = ""
    baselines: str | None = None
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)
    scenarios: list[BenchScenario] = Field(min_length=1)

    @field_validator("scenarios")
    @classmethod
    def _unique_names(cls, value: list[BenchScenario]) -> list[BenchScenario]:
        seen: set[str] = set()
        for sc in value:
            if sc.name in seen:
                raise ValueError(f"two scenarios are named '{sc.name}'")
            seen.add(sc.name)
        return value


@dataclass(frozen=True)
class LoadedSet:
    """A bench set with where it came from."""

    spec: BenchSet
    path: Path
    baselines: Path

    def scenario_path(self, sc: BenchScenario) -> Path:
        p = Path(sc.file)
        return p if p.is_absolute() else self.path.parent / p

    def baseline_path(self, sc: BenchScenario) -> Path:
        return self.baselines / self.spec.name / f"{sc.name}.json"

    def metrics_of(self, sc: BenchScenario) -> list[str]:
        return list(sc.metrics) if sc.metrics is not None else list(self.spec.metrics)

    def tolerance(self, sc: BenchScenario, metric: str) -> Tolerance:
        if metric in sc.tolerances:
            return sc.tolerances[metric]
        return self.spec.tolerances.get(metric, Tolerance())

    def select(self, names: Sequence[str]) -> list[BenchScenario]:
        """The scenarios named (all when none); an unknown name is an error."""
        if not names:
            return list(self.spec.scenarios)
        known = {sc.name: sc for sc in self.spec.scenarios}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BenchError(
                f"{self.path}: no scenario named {', '.join(map(repr, unknown))}; "
                f"the set has {', '.join(known)}"
            )
        return [known[n] for n in names]


def load_set(path: Path, baselines: Path | None = None) -> LoadedSet:
    """Read and validate a bench-set file; ``baselines`` overrides the file's folder."""
    try:
        data, positions = load_yaml_file(path)
    except ScenarioError as exc:
        raise BenchError(str(exc)) from None
    try:
        spec = BenchSet.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            pos = position_of(positions, loc)
            where = f"{path}:{pos[0]}:{pos[1]}" if pos else str(path)
            lines.append(f"{where}: {format_path(loc) or '(top level)'}: {err['msg']}")
        message = f"{len(lines)} problem(s) in bench set {path}:\n" + "\n".join(lines)
        raise BenchError(message) from None
    if baselines is None:
        baselines = (
            Path(os.path.normpath(path.parent / spec.baselines))
            if spec.baselines is not None
            else DEFAULT_BASELINES
        )
    loaded = LoadedSet(spec, path, baselines)
    for sc in spec.scenarios:
        for m in loaded.metrics_of(sc):
            _split_metric(m)  # syntax only; whether it exists is known after a run
    return loaded


def _split_metric(key: str) -> tuple[str, str]:
    name, _, scope = key.partition("@")
    if not name or (("@" in key) and not scope):
        raise BenchError(f"bad metric '{key}': expected NAME or NAME@SCOPE")
    return name, scope or "overall"


def run_scenario(bench: LoadedSet, sc: BenchScenario) -> tuple[RunResult, dict[str, float]]:
    """Run one scenario of the set and read its metrics."""
    file = bench.scenario_path(sc)
    try:
        loaded = load_scenario(file, sc.set)
        result = simulate(loaded, seed=sc.seed, policy=sc.policy)
    except ScenarioError as exc:
        raise BenchError(f"scenario '{sc.name}' of {bench.path}: {exc}") from None
    except PolicyError as exc:
        raise BenchError(f"scenario '{sc.name}' of {bench.path}: {exc}") from None
    if result.truncated:
        raise BenchError(
            f"scenario '{sc.name}' of {bench.path}: the run hit its safety horizon; "
            "a benchmark must finish"
        )
    return result, read_metrics(result, bench.metrics_of(sc), sc.name)


def read_metrics(result: RunResult, keys: Sequence[str], scenario: str) -> dict[str, float]:
    """The values of ``keys`` (``name`` or ``name@scope``) in a run."""
    s = result.summary
    table = {(r.scope, r.metric): float(r.value) for r in s.itertuples()}
    out: dict[str, float] = {}
    for key in keys:
        name, scope = _split_metric(key)
        if (scope, name) in table:
            out[key] = table[(scope, name)]
        elif scope == "overall" and name in DERIVED:
            out[key] = DERIVED[name](result)
        else:
            names = sorted({m for sc_, m in table if sc_ == scope})
            if not names:
                scopes = sorted({sc_ for sc_, _ in table})
                raise BenchError(
                    f"scenario '{scenario}': no metrics in scope '{scope}'; scopes: "
                    + ", ".join(scopes)
                )
            extra = sorted(DERIVED) if scope == "overall" else []
            raise BenchError(
                f"scenario '{scenario}': no metric '{name}' in scope '{scope}'; "
                f"available: {', '.join(sorted({*names, *extra}))}"
            )
    return out


def _redone_gb(result: RunResult) -> float:
    return float(result.tasks["redone_bytes"].sum()) / GB


DERIVED: dict[str, Callable[[RunResult], float]] = {"redone_bytes": _redone_gb}
"""Metrics computed from the tables when the summary lacks them (GB for redone_bytes)."""


# -- baselines -------------------------------------------------------------------------------
def write_baseline(bench: LoadedSet, sc: BenchScenario, metrics: dict[str, float]) -> Path:
    """Write a scenario's baseline atomically; returns its path."""
    path = bench.baseline_path(sc)
    doc: dict[str, Any] = {
        "format": BASELINE_FORMAT,
        "set": bench.spec.name,
        "scenario": sc.name,
        "file": sc.file,
        "seed": sc.seed,
        "policy": sc.policy,
        "set_overrides": list(sc.set),
        "poolsim_version": sim.__version__,
        "metrics": {k: _json_number(v) for k, v in metrics.items()},
    }
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def _json_number(v: float) -> float | str:
    return v if math.isfinite(v) else repr(v)  # JSON has no NaN/inf: 'nan', 'inf', '-inf'


def read_baseline(bench: LoadedSet, sc: BenchScenario, command: str) -> dict[str, float]:
    """A scenario's baseline metrics; a missing or unreadable file is a BenchError that says
    how to create it."""
    path = bench.baseline_path(sc)
    refresh = f"create it with `{command}`"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        message = f"no baseline for scenario '{sc.name}': {path} is missing; {refresh}"
        raise BenchError(message) from None
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read baseline {path}: {exc}; {refresh}") from None
    metrics = doc.get("metrics") if isinstance(doc, dict) else None
    if not isinstance(metrics, dict):
        raise BenchError(f"baseline {path} has no 'metrics' object; {refresh}")
    out: dict[str, float] = {}
    for k, v in metrics.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            raise BenchError(f"baseline {path}: metric '{k}' is not a number ({v!r})") from None
    return out


# -- comparison ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One metric of one scenario compared with its baseline."""

    scenario: str
    metric: str
    old: float
    new: float
    tolerance: Tolerance
    ok: bool

    @property
    def change(self) -> float:
        """Relative change (NaN when the baseline is 0 or not finite)."""
        if self.old == 0.0 or not math.isfinite(self.old) or not math.isfinite(self.new):
            return math.nan
        return (self.new - self.old) / abs(self.old)

    def message(self) -> str:
        """The failure line: scenario, metric, old and new values, tolerance."""
        rel = f" ({self.change * 100:+.3g} %)" if math.isfinite(self.change) else ""
        return (
            f"{self.scenario}: {self.metric} changed from {self.old:.10g} to {self.new:.10g}"
            f"{rel}, outside tolerance ({self.tolerance.describe()})"
        )


@dataclass
class ScenarioCheck:
    """All checks of one scenario (and why some could not be made)."""

    scenario: str
    checks: list[Check] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Metrics the set asks for that the baseline does not have (run the update)."""
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.missing and all(c.ok for c in self.checks)


def compare(
    bench: LoadedSet,
    sc: BenchScenario,
    baseline: dict[str, float],
    new: dict[str, float],
) -> ScenarioCheck:
    """Compare a run's metrics with a baseline under the set's tolerances."""
    out = ScenarioCheck(sc.name)
    for metric, value in new.items():
        if metric not in baseline:
            out.missing.append(metric)
            continue
        tol = bench.tolerance(sc, metric)
        old = baseline[metric]
        out.checks.append(Check(sc.name, metric, old, value, tol, tol.allows(old, value)))
    return out
