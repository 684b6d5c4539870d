"""Full-factorial sweeps over scenario keys, resumable, with broken points recorded.

A grid key is any ``--set`` key (``proxies.proxy-01.threads``, ``pools.pool-a.policy``), so a
bad key or value gets the loader's error. Values: ``a,b,c`` (each a YAML value), a YAML flow list
``[[p1, p2], [p1, p2, p3]]`` when values hold commas, or a range ``lo..hi`` / ``lo..hi:step``
(inclusive; integers unless a bound or the step has a decimal point), with an optional unit that
every value takes (``0.4..1.8:0.2/s``, ``4..8:2h``): dimensional fields need one.

The folder (by default named after a hash of the scenario, grid, replications, seed, policy
and the model's fingerprint, ``sim.provenance``, so the same command with the same poolsim finds
it again) holds one Parquet file per finished point, written
atomically when all its replications are in. A rerun skips points whose file exists without
errors; points with a failed replication are run again. The tidy table ``sweep.parquet`` and
``summary.csv`` are written only at the end, so an interrupted sweep never looks complete.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim import provenance
from sim.atomic import atomic_write, atomic_write_text, uninterrupted
from sim.errors import Problem, ScenarioError
from sim.experiment.executors import Executor
from sim.experiment.replicate import RunRecord, RunSpec, replication_seeds, run_all
from sim.experiment.stats import bounded_interval, domain_of
from sim.scenario import LoadedScenario, load_scenario

_RANGE = re.compile(
    r"^\s*(-?\d+(?:\.\d*)?)\s*\.\.\s*(-?\d+(?:\.\d*)?)\s*(?::\s*(\d+(?:\.\d*)?)\s*)?"
    r"(\s*[A-Za-z/%][A-Za-z/% ]*?)?\s*$"
)
"""``lo..hi[:step][unit]``: the unit (``/s``, `` GB``, ``h``) is appended to every value."""
MAX_POINTS = 100_000
"""A grid larger than this is almost surely a typo in a range."""


RESERVED_KEYS = frozenset({"point", "point_id", "replication", "seed", "status", "error"})
"""Columns of the sweep's table that a grid key may not shadow."""


def _grid_error(text: str, message: str) -> ScenarioError:
    return ScenarioError([Problem("--grid", None, None, text, message)])


def _yaml_value(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _grid_error(where, f"not a YAML value: {text!r} ({exc.__class__.__name__})") from None


def parse_values(text: str, where: str = "--grid") -> list[Any]:
    """The values of one grid key: a range, a YAML flow list or comma-separated values."""
    m = _RANGE.match(text)
    if m:
        lo_s, hi_s, step_s, unit = m.groups()
        is_float = any(s is not None and "." in s for s in (lo_s, hi_s, step_s))
        lo, hi = float(lo_s), float(hi_s)
        step = float(step_s) if step_s is not None else 1.0
        if step <= 0 or hi < lo:
            raise _grid_error(where, f"range {text!r} needs lo <= hi and step > 0")
        n = math.floor((hi - lo) / step + 1e-9) + 1
        if n > MAX_POINTS:
            raise _grid_error(where, f"range {text!r} has {n} values (at most {MAX_POINTS})")
        vals = [round(lo + i * step, 12) for i in range(n)]
        nums: list[Any] = vals if is_float else [int(v) for v in vals]
        return [f"{v:g}{unit}" for v in nums] if unit else nums
    stripped = text.strip()
    if stripped.startswith("["):
        value = _yaml_value(stripped, where)
        if not isinstance(value, list) or not value:
            raise _grid_error(where, f"{text!r} is not a non-empty YAML list of values")
        return value
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(p == "" for p in parts):
        raise _grid_error(where, f"empty value in {text!r}; write a,b,c or lo..hi[:step]")
    return [_yaml_value(p, where) for p in parts]


def parse_grid(items: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """``key=values`` items into (key, values) pairs, in the order given."""
    out: list[tuple[str, list[Any]]] = []
    seen: set[str] = set()
    for item in items:
        if "=" not in item:
            raise _grid_error(item, "expected KEY=VALUES, e.g. proxies.proxy-01.threads=16,32,64")
        key, values = item.split("=", 1)
        key = key.strip()
        if not key:
            raise _grid_error(item, "empty key")
        if key in seen:
            raise _grid_error(key, "key given twice in --grid")
        if key in RESERVED_KEYS:
            raise _grid_error(
                key,
                f"'{key}' cannot be a grid key: the sweep's table has a column of that name"
                + (" (replication seeds come from --seed)" if key == "seed" else ""),
            )
        seen.add(key)
        vals = parse_values(values, key)
        if len(set(map(_canonical, vals))) != len(vals):
            raise _grid_error(key, f"repeated value in {values!r}")
        out.append((key, vals))
    if not out:
        raise _grid_error("", "no --grid given; e.g. --grid proxies.proxy-01.threads=16,32")
    size = math.prod(len(v) for _, v in out)
    if size > MAX_POINTS:
        raise _grid_error("", f"the grid has {size} points (at most {MAX_POINTS})")
    return out


def _as_grid(grid: Sequence[str] | Sequence[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """``key=values`` strings parsed, or (key, values) pairs checked like them."""
    texts: list[str] = []
    for g in grid:
        if isinstance(g, str):
            texts.append(g)
        else:
            key, values = g
            texts.append(f"{key}={_canonical(list(values))}")
    return parse_grid(texts)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Point:
    """One combination of grid values."""

    index: int
    values: dict[str, Any]
    id: str

    @property
    def overrides(self) -> list[str]:
        """The point as ``--set`` overrides."""
        return [f"{k}={_canonical(v)}" for k, v in self.values.items()]


def _hash(obj: Any) -> str:
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()


def grid_points(grid: Sequence[tuple[str, list[Any]]], salt: str) -> list[Point]:
    """Full-factorial points; a point's id hashes its values with ``salt`` (the sweep's setup)."""
    keys = [k for k, _ in grid]
    out = []
    for i, combo in enumerate(itertools.product(*(v for _, v in grid))):
        values = dict(zip(keys, combo, strict=True))
        out.append(Point(i, values, _hash([salt, values])[:16]))
    return out


def metric_column(scope: str, metric: str) -> str:
    """Column name of a metric in the tidy table: ``throughput``, ``job:files/makespan_max``."""
    return metric if scope == "overall" else f"{scope}/{metric}"


def point_rows(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One wide row per replication of a point: seed, status, error and metric columns."""
    rows = []
    for r in sorted(records, key=lambda x: x.replication):
        row: dict[str, Any] = {
            "replication": r.replication,
            "seed": r.seed,
            "status": ("incomplete" if r.truncated else "ok") if r.ok else "error",
            "error": r.error or "",
            "truncated": r.truncated,
        }
        if r.ok:
            s = r.summary[~r.summary["scope"].str.startswith("proxy:")]
            for sc, m, v in zip(s["scope"], s["metric"], s["value"], strict=True):
                row[metric_column(sc, m)] = float(v)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class SweepProgress:
    """Where a sweep is: runs and points done (``skipped``: found done before it started)."""

    runs_done: int
    runs_total: int
    points_done: int
    points_total: int
    skipped: int
    failed_points: int


@dataclass
class SweepResult:
    """A finished sweep: its folder, the tidy table and the per-point summary."""

    folder: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    points: pd.DataFrame
    skipped: int
    ran: int
    failed: int
    grid: list[tuple[str, list[Any]]] = field(default_factory=list)
    incomplete: int = 0
    """Points with a replication that left work unfinished at the simulation horizon."""
    execution: dict[str, Any] = field(default_factory=dict)
    """Where the runs went (``Executor.describe``): also in the manifest as ``execution``."""


def _value_column(values: list[Any]) -> pd.Series:
    """A grid key's column: numbers stay numbers; anything else becomes its YAML/JSON text."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.Series(values)
    return pd.Series([v if isinstance(v, str) else _canonical(v) for v in values], dtype=str)


def record_units(records: Sequence[RunRecord]) -> dict[str, str]:
    """The unit of every metric column of these runs (``metric_column`` -> unit)."""
    units: dict[str, str] = {}
    for r in records:
        if r.ok:
            s = r.summary[~r.summary["scope"].str.startswith("proxy:")]
            for sc, m, u in zip(s["scope"], s["metric"], s["unit"], strict=True):
                units[metric_column(sc, m)] = str(u)
    return units


def _summary(
    table: pd.DataFrame, keys: list[str], confidence: float, units: dict[str, str] | None = None
) -> pd.DataFrame:
    fixed = {"point", "point_id", "replication", "seed", "status", "error", "truncated", *keys}
    metrics = [c for c in table.columns if c not in fixed]
    units = units or {}
    rows = []
    for pid, g in table.groupby("point", sort=True):
        ok = g[g["status"] != "error"]
        base = {"point": pid, **{k: g[k].iloc[0] for k in keys}}
        for m in metrics:
            unit = units.get(m, "")
            # bounded metrics keep their intervals in their domain (Wilson / bootstrap)
            iv = bounded_interval(ok[m].to_numpy(dtype=float), confidence, domain_of(unit))
            rows.append(
                {
                    **base,
                    "metric": m,
                    "unit": unit,
                    "n": iv.n,
                    "mean": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "half_width": iv.half_width,
                    "interval": iv.method if iv.n > 1 else "none (1 run)",
                }
            )
    return pd.DataFrame(rows)


def _points_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rows = []
    for pid, g in table.groupby("point", sort=True):
        errs = g[g["status"] == "error"]
        short = g[g["status"] == "incomplete"]
        rows.append(
            {
                "point": pid,
                "point_id": g["point_id"].iloc[0],
                **{k: g[k].iloc[0] for k in keys},
                "replications": len(g),
                "failed": len(errs),
                "incomplete": len(short),
                "status": "error" if len(errs) else ("incomplete" if len(short) else "ok"),
                "error": errs["error"].iloc[0] if not errs.empty else "",
            }
        )
    return pd.DataFrame(rows)


FINAL_FILES = ("summary.csv", "points.csv", "sweep.parquet")
"""Written only when every point is in, all together (``_commit``)."""


def _commit(out: Path, files: dict[str, Callable[[Path], None]]) -> None:
    """Write every file to a hidden temporary name first (the slow part), then rename them in
    one burst with SIGINT and SIGTERM held back, so a sweep folder never shows a summary that
    does not match its points: a kill while the files are written leaves only hidden files,
    which the next run into the folder removes."""
    tmps: list[tuple[Path, Path]] = []
    try:
        for name, write in files.items():
            tmp = out / f".{name}.commit"
            atomic_write(tmp, write)
            tmps.append((tmp, out / name))
        held = {signal.SIGINT, signal.SIGTERM}
        blocked = hasattr(signal, "pthread_sigmask")
        if blocked:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        # the mask holds the signal back from this thread only: with other threads running (a
        # progress bar's, a pool's), one of them takes it and Python still runs the handler
        # here; the command line's handlers hold it until the section ends
        with uninterrupted():
            try:
                for tmp, final in tmps:
                    os.replace(tmp, final)
            finally:
                if blocked:
                    signal.pthread_sigmask(signal.SIG_SETMASK, old)
    finally:
        for tmp, _ in tmps:
            tmp.unlink(missing_ok=True)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _read_point(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_parquet(path)
    except Exception:  # an unreadable file is not a finished point: run it again
        return None


def sweep(
    scenario: str | Path,
    grid: Sequence[str] | Sequence[tuple[str, list[Any]]],
    replications: int = 3,
    seed: int | None = None,
    policy: str | None = None,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    folder: Path | str | None = None,
    results: Path | str = "results",
    confidence: float = 0.95,
    progress: Callable[[SweepProgress], None] | None = None,
    command: list[str] | None = None,
) -> SweepResult:
    """Run every grid point ``replications`` times; see the module docstring for the folder."""
    parsed = _as_grid(grid)
    path = Path(scenario)
    base = load_scenario(path, list(overrides))
    root = base.spec.seed if seed is None else seed
    seeds = replication_seeds(root, replications)
    # the model's own fingerprint is part of every point's id: after a change to poolsim, a
    # rerun recomputes instead of reusing numbers from the old model
    model = provenance.model_fingerprint()
    salt = _hash([base.digest, seeds, policy, model])
    points = grid_points(parsed, salt)
    loaded: dict[int, LoadedScenario] = {}
    for pt in points:
        try:
            loaded[pt.index] = load_scenario(path, [*overrides, *pt.overrides])
        except ScenarioError as exc:
            label = ", ".join(f"{k}={_canonical(v)}" for k, v in pt.values.items())
            raise ScenarioError(
                [
                    Problem("--grid", None, None, p.path, f"{p.message} (grid point {label})")
                    for p in exc.problems
                ]
            ) from None
    keys = [k for k, _ in parsed]
    out = (
        Path(folder)
        if folder is not None
        else Path(results) / base.spec.name / f"sweep-{_hash([salt, parsed])[:12]}"
    )
    pdir = out / "points"
    pdir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "kind": "sweep",
        "status": "running",
        "scenario_file": str(path),
        "scenario_sha256": base.digest,
        "model_sha256": model,
        "overrides": list(overrides),
        "grid": [{"key": k, "values": v} for k, v in parsed],
        "replications": replications,
        "root_seed": root,
        "seeds": seeds,
        "policy": policy,
        "points": len(points),
        "command": command,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    # a rerun (or an extended grid in the same folder) is unfinished until it ends: no table of
    # the old grid may stand beside the new manifest
    for name in FINAL_FILES:
        (out / name).unlink(missing_ok=True)
        (out / f".{name}.commit").unlink(missing_ok=True)

    done: dict[int, pd.DataFrame] = {}
    for pt in points:
        f = pdir / f"{pt.id}.parquet"
        if f.exists():
            df = _read_point(f)
            if df is not None and (df["status"] != "error").all() and len(df) == replications:
                done[pt.index] = df
    todo = [pt for pt in points if pt.index not in done]
    specs = [
        RunSpec(loaded[pt.index], s, policy, r, keep_series=False)
        for pt in todo
        for r, s in enumerate(seeds)
    ]
    state = SweepProgress(0, len(specs), len(done), len(points), len(done), 0)
    if progress is not None:
        progress(state)
    pending: dict[int, list[RunRecord]] = {}
    units_file = pdir / "units.json"
    try:
        units: dict[str, str] = json.loads(units_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        units = {}

    def finished(i: int, rec: RunRecord) -> None:
        pt = todo[i // replications]
        pending.setdefault(pt.index, []).append(rec)
        state.runs_done += 1
        if len(pending[pt.index]) == replications:
            recs = pending.pop(pt.index)
            new = record_units(recs)
            if any(units.get(k) != v for k, v in new.items()):
                units.update(new)
                atomic_write_text(units_file, json.dumps(units, indent=1, sort_keys=True) + "\n")
            df = point_rows(recs)
            atomic_write(
                pdir / f"{pt.id}.parquet", lambda p: df.to_parquet(p, index=False, engine="pyarrow")
            )
            done[pt.index] = df
            state.points_done += 1
            state.failed_points += int((df["status"] != "ok").any())
        if progress is not None:
            progress(state)

    ex = executor or Executor()
    run_all(specs, ex, finished)

    parts = []
    for pt in points:
        df = done[pt.index].copy()
        df.insert(0, "point_id", pt.id)
        df.insert(0, "point", pt.index)
        parts.append(df)
    table = pd.concat(parts, ignore_index=True)
    for j, (k, _) in enumerate(parsed):
        col = _value_column([points[p].values[k] for p in table["point"]])
        table.insert(2 + j, k, col.to_numpy())
    summary = _summary(table, keys, confidence, units)
    pts = _points_table(table, keys)
    manifest.update(
        status="complete",
        finished_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        skipped_points=state.skipped,
        failed_points=int((pts["status"] == "error").sum()),
        incomplete_points=int((pts["status"] == "incomplete").sum()),
        execution=ex.describe(),
    )
    _commit(
        out,
        {
            "summary.csv": lambda p: summary.to_csv(p, index=False),
            "points.csv": lambda p: pts.to_csv(p, index=False),
            "sweep.parquet": lambda p: table.to_parquet(p, index=False),
            # last: 'complete' in the manifest means every file above is in place
            "manifest.json": lambda p: _write_json(p, manifest),
        },
    )
    return SweepResult(
        out,
        table,
        summary,
        pts,
        skipped=state.skipped,
        ran=len(todo),
        failed=int((pts["status"] == "error").sum()),
        grid=list(parsed),
        incomplete=int((pts["status"] == "incomplete").sum()),
        execution=ex.describe(),
    )
