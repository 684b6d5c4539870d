"""The results folder: manifest, summary.csv, Parquet tables and PNG plots, written atomically.

A run is written into a hidden ``.<run-id>.partial`` folder and renamed to ``<run-id>`` only when
every file is complete, so an interrupted run never leaves a folder that looks finished. Each file
is itself written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.run import RunResult


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()
"""The mode ``open()`` would give a new file (``mkstemp`` makes it owner-only)."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then rename ``tmp`` onto ``path`` (same directory, so atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write text atomically."""

    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    atomic_write(path, write)


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


def _publish(partial: Path, base: Path, run_id: str) -> Path:
    """Rename the finished folder to ``run_id``, or ``run_id-1``, ``-2``... if taken."""
    k = 0
    while True:
        final = base / (run_id if k == 0 else f"{run_id}-{k}")
        if not final.exists():
            try:
                partial.rename(final)
                return final
            except OSError:
                if not final.exists():
                    raise
        k += 1


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
        final = _publish(partial, base, run_id)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final
