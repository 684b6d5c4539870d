"""Results folders of runs, comparisons and capacity searches, with their manifests.

A folder is written into a hidden private ``.<id>.<random>.partial`` folder and renamed to its
final name only when every file is complete (``sim.atomic.publish_folder``), so an interrupted
run never leaves a folder that looks finished. Each file is itself written to a temporary name and
renamed.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.atomic import atomic_write, atomic_write_text, publish_folder
from sim.experiment.compare import Comparison
from sim.experiment.run import RunResult
from sim.experiment.sizing import SizeResult


def _parquet(df: pd.DataFrame) -> Callable[[Path], None]:
    return lambda p: df.to_parquet(p, index=False, engine="pyarrow")


def policies_used(result: RunResult) -> list[str]:
    """The distribution policies the run used: the ``--policy`` override, else each pool's own
    (distinct, in pool order); empty when the scenario has no pool."""
    if result.policy:
        return [result.policy]
    names = [
        p.policy if isinstance(p.policy, str) else p.policy.name for p in result.scenario.spec.pools
    ]
    return list(dict.fromkeys(names))


def policy_label(result: RunResult) -> str:
    """The policies used, for titles: ``pull_fifo``, ``jsq + pull_fifo``, ``no pool``."""
    return " + ".join(policies_used(result)) or "no pool"


def new_run_id(result: RunResult) -> str:
    """``<UTC time>-s<seed>-<policy>``, the policy actually used: sortable and readable."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    pol = "+".join(policies_used(result)) or "no-pool"
    return f"{stamp}-s{result.seed}-{pol.replace(':', '_').replace('.', '_')}"


def manifest(result: RunResult, command: list[str] | None) -> dict[str, Any]:
    """What produced the run: versions, scenario hash, resolved scenario, seed, policy."""
    from sim import __version__
    from sim.provenance import model_fingerprint

    loaded = result.scenario
    return {
        "poolsim_version": __version__,
        "model_sha256": model_fingerprint(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_name": loaded.spec.name,
        "scenario_file": str(loaded.path) if loaded.path else None,
        "scenario_sha256": loaded.digest,
        "overrides": list(loaded.overrides),
        "seed": result.seed,
        "policy_override": result.policy,
        "policies": {
            p.name: p.policy if isinstance(p.policy, str) else p.policy.name
            for p in loaded.spec.pools
        },
        "command": command if command is not None else sys.argv,
        "wall_seconds": round(result.wall_s, 3),
        "truncated": result.truncated,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "resolved_scenario": loaded.resolved(),
    }


def write_results(
    result: RunResult,
    root: Path | str = "results",
    run_id: str | None = None,
    command: list[str] | None = None,
    plots: bool = True,
) -> Path:
    """Write the run's folder ``root/<scenario>/<run-id>/`` and return its path."""
    base = Path(root) / result.scenario.spec.name
    run_id = run_id or new_run_id(result)
    # private to this writer: concurrent runs that pick the same run id never share it
    partial = base / f".{run_id}.{uuid.uuid4().hex[:12]}.partial"
    partial.mkdir(parents=True)
    try:
        atomic_write_text(
            partial / "manifest.json", json.dumps(manifest(result, command), indent=2) + "\n"
        )
        atomic_write(partial / "summary.csv", lambda p: result.summary.to_csv(p, index=False))
        atomic_write(partial / "sessions.csv", lambda p: result.sessions.to_csv(p, index=False))
        atomic_write(partial / "tasks.parquet", _parquet(result.tasks))
        atomic_write(partial / "proxies.parquet", _parquet(result.proxies))
        atomic_write(partial / "timeseries.parquet", _parquet(result.timeseries))
        atomic_write(partial / "limits.csv", lambda p: result.limits.to_csv(p, index=False))
        atomic_write(partial / "events.csv", lambda p: result.events.to_csv(p, index=False))
        atomic_write(partial / "lifecycle.csv", lambda p: result.lifecycle.to_csv(p, index=False))
        atomic_write(partial / "states.csv", lambda p: result.states.to_csv(p, index=False))
        if plots:
            from sim.report.plots import write_plots

            write_plots(result, partial / "plots")
        final = publish_folder(partial, base, run_id)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _new_folder(base: Path, prefix: str) -> tuple[Path, str]:
    run_id = f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    partial = base / f".{run_id}.{uuid.uuid4().hex[:12]}.partial"
    partial.mkdir(parents=True)
    return partial, run_id


def _write_folder(base: Path, prefix: str, fill: Callable[[Path], None]) -> Path:
    partial, run_id = _new_folder(base, prefix)
    try:
        fill(partial)
        return publish_folder(partial, base, run_id)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _manifest(loaded: Any, command: list[str] | None, extra: dict[str, Any]) -> dict[str, Any]:
    from sim import __version__
    from sim.provenance import model_fingerprint

    return {
        "poolsim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_name": loaded.spec.name,
        "scenario_file": str(loaded.path) if loaded.path else None,
        "scenario_sha256": loaded.digest,
        "model_sha256": model_fingerprint(),
        "overrides": list(loaded.overrides),
        **extra,
        "command": command if command is not None else sys.argv,
        "resolved_scenario": loaded.resolved(),
    }


def write_comparison(
    comparison: Comparison,
    root: Path | str = "results",
    command: list[str] | None = None,
    wall_s: float | None = None,
    executor: str = "",
) -> Path:
    """Write ``root/<scenario>/compare-<time>/`` and return it."""
    from sim.report.html import comparison_html
    from sim.report.plots import (
        plot_comparison_proxy_load,
        plot_comparison_throughput,
        plot_metric_bars,
    )

    def fill(folder: Path) -> None:
        man = _manifest(
            comparison.scenario,
            command,
            {
                "kind": "compare",
                "policies": comparison.policies,
                "replications": len(comparison.seeds),
                "seeds": comparison.seeds,
                "confidence": comparison.confidence,
                "executor": executor,
                "wall_seconds": None if wall_s is None else round(wall_s, 3),
                "errors": comparison.errors,
            },
        )
        atomic_write_text(folder / "manifest.json", json.dumps(man, indent=2) + "\n")
        atomic_write(folder / "runs.parquet", lambda p: comparison.runs.to_parquet(p, index=False))
        atomic_write(folder / "summary.csv", lambda p: comparison.summary.to_csv(p, index=False))
        diff = comparison.differences
        atomic_write(folder / "differences.csv", lambda p: diff.to_csv(p, index=False))
        atomic_write(folder / "proxies.csv", lambda p: comparison.proxies.to_csv(p, index=False))
        tp = comparison.throughput
        atomic_write(folder / "throughput.csv", lambda p: tp.to_csv(p, index=False))
        plots = folder / "plots"
        plots.mkdir()
        plot_metric_bars(comparison, plots / "metrics.png")
        plot_comparison_proxy_load(comparison, plots / "proxy_load.png")
        plot_comparison_throughput(comparison, plots / "throughput.png")
        html = comparison_html(comparison, plots, man)
        atomic_write_text(folder / "report.html", html)

    return _write_folder(Path(root) / comparison.scenario.spec.name, "compare", fill)


def write_size(
    result: SizeResult, root: Path | str = "results", command: list[str] | None = None
) -> Path:
    """Write ``root/<scenario>/size-<time>/``: curve.csv, runs.csv, the plot, report.html and a
    manifest."""
    from sim.report.html import size_html
    from sim.report.plots import plot_size_curve

    assert result.scenario is not None

    def fill(folder: Path) -> None:
        man = _manifest(
            result.scenario,
            command,
            {
                "kind": "size",
                "pool": result.pool,
                "template_proxy": result.template,
                "current_size": result.current,
                "answer": result.answer,
                "compliance": result.compliance,
                "confidence": result.confidence,
                "root_seed": result.seed,
                "max_size": result.max_size,
                "stop_reason": result.stop_reason,
                "error": result.error,
                "jobs": list(result.jobs),
                "replications": len(result.seeds),
                "seeds": result.seeds,
                "monotone": result.monotone,
            },
        )
        atomic_write_text(folder / "manifest.json", json.dumps(man, indent=2) + "\n")
        atomic_write(folder / "curve.csv", lambda p: result.curve.to_csv(p, index=False))
        atomic_write(folder / "runs.csv", lambda p: result.runs.to_csv(p, index=False))
        (folder / "plots").mkdir()
        plot_size_curve(result, folder / "plots" / "size_curve.png")
        atomic_write_text(folder / "report.html", size_html(result, folder / "plots", man))

    assert result.scenario is not None
    return _write_folder(Path(root) / result.scenario.spec.name, "size", fill)
