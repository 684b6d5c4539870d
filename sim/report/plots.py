"""PNG plots of a run: per-proxy load and throughput over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.experiment.run import RunResult

GB = 1e9
HOUR_S = 3600.0


def _save(fig: Figure, path: Path) -> None:
    from sim.report.results import atomic_write

    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches="tight"))
    plt.close(fig)


def plot_proxy_load(result: RunResult, path: Path) -> None:
    """Bars: bytes read per proxy and capacity-normalised load, grouped by pool."""
    px = result.proxies.sort_values(["pool", "proxy"])
    names = px["proxy"].tolist()
    gb = px["bytes_read"].to_numpy() / GB
    load = px["bytes_read"].to_numpy() / px["capacity_bps"].to_numpy() / HOUR_S
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(8, 0.6 * len(names) + 4), 4))
    pools = px["pool"].replace("", "(standalone)").tolist()
    colours = {p: f"C{i}" for i, p in enumerate(dict.fromkeys(pools))}
    ax1.bar(names, gb, color=[colours[p] for p in pools])
    ax1.set_ylabel("GB read")
    ax1.set_title("Data processed per proxy")
    ax2.bar(names, load, color=[colours[p] for p in pools])
    ax2.set_ylabel("hours at nominal capacity")
    ax2.set_title("Capacity-normalised load")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=60)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    ax1.legend(handles, list(colours), fontsize="small")
    fig.suptitle(f"{result.scenario.spec.name}: per-proxy load")
    _save(fig, path)


def plot_throughput(result: RunResult, path: Path) -> None:
    """Stacked area: throughput (GB/h) per proxy over simulated time."""
    ts = result.timeseries
    fig, ax = plt.subplots(figsize=(10, 4))
    if not ts.empty:
        wide = ts.pivot_table(index="t_start", columns="proxy", values="rate_bps", aggfunc="sum")
        wide = wide.fillna(0.0)
        hours = wide.index.to_numpy() / HOUR_S
        ax.stackplot(
            hours,
            (wide.to_numpy().T * HOUR_S / GB),
            labels=list(wide.columns),
            step="post",
        )
        if len(wide.columns) <= 12:
            ax.legend(loc="upper right", fontsize="small", ncol=2)
        for _, s in result.sessions.iterrows():
            ax.axvline(s["scheduled"] / HOUR_S, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("GB/h read")
    ax.set_title(f"{result.scenario.spec.name}: throughput over time (dotted: session starts)")
    ax.set_ylim(bottom=0)
    _save(fig, path)


def plot_sessions(result: RunResult, path: Path) -> None:
    """Horizontal bars: each session's span against its window."""
    s = result.sessions
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.35 * len(s) + 1)))
    for i, row in enumerate(s.itertuples()):
        colour = "C2" if row.within_window else "C3"
        ax.barh(i, (row.end - row.start) / HOUR_S, left=row.start / HOUR_S, color=colour)
        if np.isfinite(row.window_s):
            ax.plot(
                [(row.scheduled + row.window_s) / HOUR_S] * 2, [i - 0.4, i + 0.4], color="k", lw=2
            )
    ax.set_yticks(range(len(s)), [f"{r.job} #{r.session}" for r in s.itertuples()])
    ax.set_xlabel("simulated time (h); black tick = end of window; red = window missed")
    ax.set_title(f"{result.scenario.spec.name}: sessions")
    _save(fig, path)


def write_plots(result: RunResult, folder: Path) -> list[Path]:
    """Write every plot of a run into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "proxy_load.png", folder / "throughput.png", folder / "sessions.png"]
    plot_proxy_load(result, out[0])
    plot_throughput(result, out[1])
    plot_sessions(result, out[2])
    return out
