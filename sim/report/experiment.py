"""Results folders of experiments: comparisons (with plots and report.html) and capacity searches.

Each folder is written into a private ``.partial`` folder renamed at the end, like a run's
(``sim.report.results``), so an interrupted comparison never leaves a folder that looks finished.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.experiment.compare import Comparison
from sim.experiment.sizing import SizeResult
from sim.experiment.stats import mean_interval
from sim.report.results import _publish, atomic_write, atomic_write_text

#: (scope, metric, label) of the bar plot and the headline table, in that order; missing ones skip
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("overall", "throughput", "throughput (GB/h)"),
    ("overall", "window_compliance", "window compliance"),
    ("overall", "makespan_max", "longest session (h)"),
    ("steady_state", "sojourn_mean", "steady-state sojourn (s)"),
    ("steady_state", "wait_mean", "steady-state wait (s)"),
    ("overall", "sojourn_mean", "mean sojourn (s)"),
    ("overall", "wait_p95", "wait p95 (s)"),
    ("overall", "jain_fairness", "Jain fairness"),
    ("overall", "load_max_over_mean", "max/mean proxy load"),
    ("overall", "throttled_fraction", "throttled share"),
)


def headline(comparison: Comparison) -> list[tuple[str, str, str]]:
    """The headline metrics this comparison has (at most 8)."""
    s = comparison.summary
    have = set(zip(s["scope"], s["metric"], strict=True))
    return [h for h in HEADLINE if (h[0], h[1]) in have][:8]


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches="tight"))
    plt.close(fig)


def plot_metric_bars(comparison: Comparison, path: Path) -> None:
    """One panel per headline metric: a bar per policy with its confidence-interval whisker."""
    metrics = headline(comparison)
    s = comparison.summary
    cols = min(4, len(metrics)) or 1
    rows = max(1, -(-len(metrics) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False)
    pols = comparison.policies
    for ax, (scope, metric, label) in zip(axes.flat, metrics, strict=False):
        sub = s[(s["scope"] == scope) & (s["metric"] == metric)].set_index("policy")
        mean = sub.reindex(pols)["mean"].to_numpy(dtype=float)
        hw = np.nan_to_num(sub.reindex(pols)["half_width"].to_numpy(dtype=float))
        ax.bar(
            range(len(pols)), mean, yerr=hw, capsize=5, color=[f"C{i}" for i in range(len(pols))]
        )
        ax.set_xticks(range(len(pols)), pols, rotation=30, ha="right", fontsize="small")
        ax.set_title(label, fontsize="medium")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    n = len(comparison.seeds)
    fig.suptitle(
        f"{comparison.scenario.spec.name}: mean of {n} replications, "
        f"{comparison.confidence:.0%} interval whiskers"
    )
    fig.tight_layout()
    _save(fig, path)


def plot_proxy_load(comparison: Comparison, path: Path) -> None:
    """Grouped bars: data read per proxy (GB, mean over replications ± interval) per policy."""
    px = comparison.proxies
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * px["proxy"].nunique() + 3), 4))
    if not px.empty:
        proxies = list(dict.fromkeys(px["proxy"]))
        pols = comparison.policies
        width = 0.8 / len(pols)
        for i, p in enumerate(pols):
            sub = px[px["policy"] == p]
            means, hws = [], []
            for name in proxies:
                iv = mean_interval(sub[sub["proxy"] == name]["gb_read"].to_numpy(), 0.95)
                means.append(iv.mean)
                hws.append(0.0 if np.isnan(iv.half_width) else iv.half_width)
            x = np.arange(len(proxies)) + (i - (len(pols) - 1) / 2) * width
            ax.bar(x, means, width, yerr=hws, capsize=3, label=p, color=f"C{i}")
        ax.set_xticks(range(len(proxies)), proxies, rotation=45, ha="right")
        ax.legend(fontsize="small")
    ax.set_ylabel("GB read per proxy")
    ax.set_title(f"{comparison.scenario.spec.name}: per-proxy load by policy (95 % whiskers)")
    _save(fig, path)


def plot_throughput(comparison: Comparison, path: Path) -> None:
    """Throughput over simulated time, one line per policy (mean over replications)."""
    tp = comparison.throughput
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, p in enumerate(comparison.policies):
        sub = tp[tp["policy"] == p]
        ax.step(sub["t_h"], sub["gb_per_h"], where="post", label=p, color=f"C{i}", lw=1.2)
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("GB/h read (mean over replications)")
    ax.set_title(f"{comparison.scenario.spec.name}: throughput over time")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    _save(fig, path)


def plot_size_curve(result: SizeResult, path: Path) -> None:
    """Window compliance against pool size with Wilson 95 % whiskers and the answer marked."""
    c = result.curve
    fig, ax = plt.subplots(figsize=(7, 4))
    x = c["pool_size"].to_numpy()
    y = c["compliance"].to_numpy()
    err = np.vstack([y - c["wilson_low"].to_numpy(), c["wilson_high"].to_numpy() - y])
    colours = ["C2" if p else "C3" for p in c["passes"]]
    ax.errorbar(x, y, yerr=err, fmt="none", ecolor="grey", capsize=4, zorder=1)
    ax.scatter(x, y, c=colours, zorder=2, s=40)
    ax.axhline(result.confidence, color="k", ls="--", lw=1, label=f"target {result.confidence:g}")
    if result.answer is not None:
        ax.axvline(result.answer, color="C2", ls=":", lw=1.5, label=f"answer: {result.answer}")
    ax.set_xlabel(f"proxies in pool '{result.pool}'")
    ax.set_ylabel("fraction of replications meeting the window")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(x)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"Window compliance vs pool size ({len(result.seeds)} replications per size)")
    _save(fig, path)


def _fmt(v: float) -> str:
    if v != v:
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.01:
        return f"{v:.3f}"
    return f"{v:.2e}"


def interval_text(mean: float, half: float) -> str:
    """``mean ± half`` (or just the mean without an interval)."""
    return _fmt(mean) if half != half else f"{_fmt(mean)} ± {_fmt(half)}"


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """Headline metrics × policies as 'mean ± half-width' strings."""
    s = comparison.summary
    rows = []
    for scope, metric, label in headline(comparison):
        row = {"metric": label}
        for p in comparison.policies:
            r = s[(s["policy"] == p) & (s["scope"] == scope) & (s["metric"] == metric)]
            row[p] = interval_text(float(r["mean"].iloc[0]), float(r["half_width"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows)


def _new_folder(base: Path, prefix: str) -> tuple[Path, str]:
    run_id = f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    partial = base / f".{run_id}.{uuid.uuid4().hex[:12]}.partial"
    partial.mkdir(parents=True)
    return partial, run_id


def _write_folder(base: Path, prefix: str, fill: Callable[[Path], None]) -> Path:
    partial, run_id = _new_folder(base, prefix)
    try:
        fill(partial)
        return _publish(partial, base, run_id)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _manifest(loaded: Any, command: list[str] | None, extra: dict[str, Any]) -> dict[str, Any]:
    from sim.provenance import __version__

    return {
        "poolsim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_name": loaded.spec.name,
        "scenario_file": str(loaded.path) if loaded.path else None,
        "scenario_sha256": loaded.digest,
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
        plot_proxy_load(comparison, plots / "proxy_load.png")
        plot_throughput(comparison, plots / "throughput.png")
        html = comparison_html(comparison, plots, man)
        atomic_write_text(folder / "report.html", html)

    return _write_folder(Path(root) / comparison.scenario.spec.name, "compare", fill)


SIZE_COLUMNS = ("proxies", "met / runs", "compliance", "95 % Wilson", "longest session", "")
"""Columns of ``size_evidence``."""


def size_evidence(result: SizeResult) -> list[list[str]]:
    """The sizing curve as text rows (the CLI's table and report.html)."""
    from sim.units import format_duration

    return [
        [
            str(r.pool_size),
            f"{r.met}/{r.replications}",
            f"{r.compliance:.0%}",
            f"[{r.wilson_low:.2f}, {r.wilson_high:.2f}]",
            format_duration(r.makespan_max_h_mean * 3600),
            "meets" if r.passes else "misses",
        ]
        for r in result.curve.itertuples()
    ]


def write_size(
    result: SizeResult, root: Path | str = "results", command: list[str] | None = None
) -> Path:
    """Write ``root/<scenario>/size-<time>/``: curve.csv, runs.csv, the plot, report.html and a
    manifest."""
    from sim.report.html import size_html

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
                "confidence": result.confidence,
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
