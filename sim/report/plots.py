"""Every PNG figure: a run's (load, throughput, sessions, lifecycle), a comparison's and a capacity
search's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.atomic import atomic_write
from sim.experiment.compare import Comparison
from sim.experiment.run import RunResult
from sim.experiment.sizing import SizeResult
from sim.experiment.stats import mean_interval
from sim.report.tables import headline

GB = 1e9
HOUR_S = 3600.0


def _save(fig: Figure, path: Path) -> None:
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


STATE_COLOURS = {
    "active": "#4c9a2a",
    "enabling": "#f2b134",
    "maintenance": "#e07b00",
    "failed": "#c0392b",
    "inactive": "#7f8c8d",
    "vacation": "#bdc3c7",
}
ROLE_COLOURS = {"scheduler": "#1f4e9c", "orchestrator": "#8e44ad"}


def plot_lifecycle(result: RunResult, path: Path) -> None:
    """Gantt chart of proxy states and pool roles, over the pool throughput with each event."""
    st = result.states
    names = list(dict.fromkeys(result.proxies["proxy"]))
    events = result.lifecycle[result.lifecycle["outcome"] == "done"]
    t_lo = float(events["t"].min()) - 2 * HOUR_S if len(events) else 0.0
    t_lo = max(t_lo, float(st["t_start"].min()) if len(st) else 0.0)
    t_hi = float(st["t_end"].max()) if len(st) else t_lo + HOUR_S
    if len(events):  # a long tail after the last event says little about the events
        t_hi = min(t_hi, float(events["t"].max()) + 4 * HOUR_S)
    fig, (ax, ax2) = plt.subplots(
        2,
        1,
        figsize=(11, 1.2 + 0.45 * len(names) + 2.5),
        sharex=True,
        gridspec_kw={"height_ratios": [max(2, len(names)), 3]},
    )
    row = {n: i for i, n in enumerate(names)}
    for r in st.itertuples():
        y = row[str(r.proxy)]
        t0, t1 = max(float(r.t_start), t_lo), float(r.t_end)
        if t1 <= t0:
            continue
        x0, w = t0 / HOUR_S, (t1 - t0) / HOUR_S
        if r.kind == "state":
            ax.broken_barh([(x0, w)], (y - 0.35, 0.5), color=STATE_COLOURS.get(str(r.what), "k"))
        else:
            ax.broken_barh(
                [(x0, w)],
                (y + 0.18 + (0.1 if r.what == "orchestrator" else 0.0), 0.09),
                color=ROLE_COLOURS.get(str(r.what), "k"),
            )
    for e in events.itertuples():
        for a in (ax, ax2):
            a.axvline(float(e.t) / HOUR_S, color="0.3", lw=0.8, ls="--")
        ax.annotate(
            f"{e.event} {e.proxy}".strip(),
            (float(e.t) / HOUR_S, -0.7),
            rotation=20,
            fontsize=7,
            ha="left",
            va="bottom",
        )
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.4, -1.8)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    handles += [Rectangle((0, 0), 1, 1, color=c) for c in ROLE_COLOURS.values()]
    labels = [*STATE_COLOURS, *(f"role: {r}" for r in ROLE_COLOURS)]
    ax.legend(handles, labels, ncol=4, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.02))
    ax.set_title("Proxy states and pool roles")
    ts = result.timeseries
    if len(ts):
        total = ts.groupby("t_start", sort=True)["rate_bps"].sum()
        x = total.index.to_numpy() / HOUR_S
        keep = (x >= t_lo / HOUR_S) & (x <= t_hi / HOUR_S)
        ax2.step(x[keep], total.to_numpy()[keep] * HOUR_S / GB, where="post", color="C0")
    ax2.set_ylabel("GB/h (all proxies)")
    ax2.set_xlabel("simulated time (h)")
    ax2.set_xlim(t_lo / HOUR_S, t_hi / HOUR_S)
    ax2.set_title("Throughput around the events")
    fig.tight_layout()
    _save(fig, path)


def write_plots(result: RunResult, folder: Path) -> list[Path]:
    """Write every plot of a run into ``folder`` (lifecycle.png when it has a timeline)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "proxy_load.png", folder / "throughput.png", folder / "sessions.png"]
    plot_proxy_load(result, out[0])
    plot_throughput(result, out[1])
    plot_sessions(result, out[2])
    if len(result.lifecycle):
        out.append(folder / "lifecycle.png")
        plot_lifecycle(result, out[-1])
    return out


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


def plot_comparison_proxy_load(comparison: Comparison, path: Path) -> None:
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


def plot_comparison_throughput(comparison: Comparison, path: Path) -> None:
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
    x = c["pool_size"].to_numpy(dtype=float) if len(c) else np.zeros(0)
    y = c["compliance"].to_numpy(dtype=float) if len(c) else np.zeros(0)
    if len(c):
        # clamp: a 0 % or 100 % size has a bound a rounding error past its point
        low = np.minimum(c["wilson_low"].to_numpy(dtype=float), y)
        high = np.maximum(c["wilson_high"].to_numpy(dtype=float), y)
        err = np.clip(np.vstack([y - low, high - y]), 0.0, None)
        colours = ["C2" if p else "C3" for p in c["passes"]]
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor="grey", capsize=4, zorder=1)
        ax.scatter(x, y, c=colours, zorder=2, s=40, label="compliance (green: passes)")
        ax.scatter(
            x,
            low,
            marker="_",
            s=200,
            color="k",
            zorder=3,
            label=f"{result.confidence:.0%} lower bound",
        )
        ax.set_xticks(x, [str(int(v)) for v in x])
    ax.axhline(result.compliance, color="k", ls="--", lw=1, label=f"target {result.compliance:.0%}")
    if result.answer is not None:
        ax.axvline(result.answer, color="C2", ls=":", lw=1.5, label=f"answer: {result.answer}")
    ax.set_xlabel(f"proxies in pool '{result.pool}'")
    ax.set_ylabel("fraction of replications meeting the window")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower right", fontsize="small")
    sc = result.scenario
    name = sc.spec.name if sc is not None else "?"
    pols = (
        ", ".join(
            sorted(
                {p.policy if isinstance(p.policy, str) else p.policy.name for p in sc.spec.pools}
            )
        )
        if sc is not None
        else "?"
    )
    ax.set_title(
        f"{name} (seed {result.seed}, policy {pols}): window compliance vs pool size\n"
        f"{len(result.seeds)} replications per size; whiskers: {result.confidence:.0%} "
        "one-sided Wilson bounds",
        fontsize="medium",
    )
    _save(fig, path)
