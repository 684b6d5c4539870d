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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.atomic import PartialFolder, atomic_write, atomic_write_text, remove_abandoned
from sim.experiment.compare import Comparison
from sim.experiment.run import RunResult
from sim.experiment.sizing import SizeResult
from sim.report.jobsessions import job_sessions_text
from sim.report.tables import policies_used

if TYPE_CHECKING:
    from sim.report.plots import PlotFailure


def _parquet(df: pd.DataFrame) -> Callable[[Path], None]:
    return lambda p: df.to_parquet(p, index=False, engine="pyarrow")


def new_run_id(result: RunResult) -> str:
    """``<UTC time>-s<seed>-<policy>``, the policy actually used: sortable and readable."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    pol = "+".join(policies_used(result)) or "no-pool"
    return f"{stamp}-s{result.seed}-{pol.replace(':', '_').replace('.', '_')}"


def manifest(result: RunResult, command: list[str] | None) -> dict[str, Any]:
    """What produced the run: versions, scenario hash, resolved scenario, seed, policy."""
    from sim.provenance import __version__, model_fingerprint

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


def _write_manifest(folder: Path, man: dict[str, Any]) -> None:
    atomic_write_text(folder / "manifest.json", json.dumps(man, indent=2) + "\n")


def _write_folder(
    base: Path,
    run_id: str,
    man: dict[str, Any],
    tables: Callable[[Path], None],
    figures: Callable[[Path], list[PlotFailure]] | None,
    page: Callable[[Path], str] | None = None,
) -> Path:
    """Tables first, published; then the figures and the page into the published folder.

    The manifest and ``tables(folder)`` are written into a private ``.partial`` folder and
    published (renamed); a failure or an interruption before that leaves nothing. Then each
    figure is drawn (one that fails is named in the manifest's ``plots.missing`` and never costs
    the tables) and ``page(folder)`` becomes ``report.html``. The manifest's ``plots.status`` is
    ``pending`` until the figures are done, ``off`` without figures.
    """
    # killed runs' leftovers anywhere under the results root (only those whose owner is gone)
    if base.parent.is_dir():
        for scenario_dir in base.parent.iterdir():
            if scenario_dir.is_dir() and not scenario_dir.is_symlink():
                remove_abandoned(scenario_dir)
    man["plots"] = {"status": "pending" if figures is not None else "off", "missing": {}}
    partial = PartialFolder(base, run_id)
    try:
        _write_manifest(partial.path, man)
        tables(partial.path)
        final = partial.publish(run_id)
    except BaseException:
        shutil.rmtree(partial.path, ignore_errors=True)
        raise
    finally:
        partial.close()
    if figures is not None:
        try:
            failed = figures(final)
            man["plots"] = {"status": "done", "missing": {f.name: f.error for f in failed}}
            if page is not None:
                atomic_write_text(final / "report.html", page(final))
            _write_manifest(final, man)
        except BaseException as exc:  # the tables stand; say where they are
            exc.poolsim_folder = final  # type: ignore[attr-defined]
            raise
    return final


def missing_plots(folder: Path) -> dict[str, str]:
    """The plots of a written folder that could not be drawn: file name -> error."""
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return dict((man.get("plots") or {}).get("missing") or {})


def write_results(
    result: RunResult,
    root: Path | str = "results",
    run_id: str | None = None,
    command: list[str] | None = None,
    plots: bool = True,
) -> Path:
    """Write the run's folder ``root/<scenario>/<run-id>/`` and return its path (the plots that
    failed are listed by ``missing_plots(folder)``)."""
    from sim.report.plots import write_plots

    run_id = run_id or new_run_id(result)

    def tables(folder: Path) -> None:
        atomic_write(folder / "summary.csv", lambda p: result.summary.to_csv(p, index=False))
        atomic_write(folder / "sessions.csv", lambda p: result.sessions.to_csv(p, index=False))
        atomic_write_text(folder / "jobsessions.json", job_sessions_text(result))
        atomic_write(folder / "tasks.parquet", _parquet(result.tasks))
        atomic_write(folder / "proxies.parquet", _parquet(result.proxies))
        atomic_write(folder / "timeseries.parquet", _parquet(result.timeseries))
        atomic_write(folder / "limits.csv", lambda p: result.limits.to_csv(p, index=False))
        atomic_write(folder / "events.csv", lambda p: result.events.to_csv(p, index=False))
        atomic_write(folder / "lifecycle.csv", lambda p: result.lifecycle.to_csv(p, index=False))
        atomic_write(folder / "states.csv", lambda p: result.states.to_csv(p, index=False))

    return _write_folder(
        Path(root) / result.scenario.spec.name,
        run_id,
        manifest(result, command),
        tables,
        (lambda folder: write_plots(result, folder / "plots")) if plots else None,
    )


def _new_id(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def _manifest(loaded: Any, command: list[str] | None, extra: dict[str, Any]) -> dict[str, Any]:
    from sim.provenance import __version__, model_fingerprint

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
        draw,
        plot_comparison_proxy_load,
        plot_comparison_throughput,
        plot_metric_bars,
    )

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
            "incomplete_runs": comparison.incomplete,
        },
    )

    def tables(folder: Path) -> None:
        atomic_write(folder / "runs.parquet", lambda p: comparison.runs.to_parquet(p, index=False))
        atomic_write(folder / "summary.csv", lambda p: comparison.summary.to_csv(p, index=False))
        diff = comparison.differences
        atomic_write(folder / "differences.csv", lambda p: diff.to_csv(p, index=False))
        atomic_write(folder / "proxies.csv", lambda p: comparison.proxies.to_csv(p, index=False))
        tp = comparison.throughput
        atomic_write(folder / "throughput.csv", lambda p: tp.to_csv(p, index=False))

    def figures(folder: Path) -> list[PlotFailure]:
        plots = folder / "plots"
        plots.mkdir(exist_ok=True)
        return draw(
            [
                ("metrics.png", lambda: plot_metric_bars(comparison, plots / "metrics.png")),
                (
                    "proxy_load.png",
                    lambda: plot_comparison_proxy_load(comparison, plots / "proxy_load.png"),
                ),
                (
                    "throughput.png",
                    lambda: plot_comparison_throughput(comparison, plots / "throughput.png"),
                ),
            ]
        )

    return _write_folder(
        Path(root) / comparison.scenario.spec.name,
        _new_id("compare"),
        man,
        tables,
        figures,
        lambda folder: comparison_html(comparison, folder / "plots", man),
    )


def write_size(
    result: SizeResult, root: Path | str = "results", command: list[str] | None = None
) -> Path:
    """Write ``root/<scenario>/size-<time>/``: curve.csv, runs.csv, the plot, report.html and a
    manifest."""
    from sim.report.html import size_html
    from sim.report.plots import draw, plot_size_curve

    assert result.scenario is not None
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

    def tables(folder: Path) -> None:
        atomic_write(folder / "curve.csv", lambda p: result.curve.to_csv(p, index=False))
        atomic_write(folder / "runs.csv", lambda p: result.runs.to_csv(p, index=False))

    def figures(folder: Path) -> list[PlotFailure]:
        (folder / "plots").mkdir(exist_ok=True)
        path = folder / "plots" / "size_curve.png"
        return draw([("size_curve.png", lambda: plot_size_curve(result, path))])

    return _write_folder(
        Path(root) / result.scenario.spec.name,
        _new_id("size"),
        man,
        tables,
        figures,
        lambda folder: size_html(result, folder / "plots", man),
    )
