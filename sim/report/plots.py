"""Every PNG figure: a run's (load, throughput, sessions, lifecycle), a comparison's and a capacity
search's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.atomic import atomic_write
from sim.defaults import GB, HOUR_S
from sim.experiment.compare import Comparison
from sim.experiment.run import RunResult
from sim.experiment.sizing import SizeResult
from sim.experiment.stats import mean_interval
from sim.report.tables import headline


def _save(fig: Figure, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches="tight"))
    plt.close(fig)


def run_title(result: RunResult, what: str) -> str:
    """``<scenario> (seed N, policy P): <what>``, the title of every run plot."""
    from sim.report.tables import policy_label

    return (
        f"{result.scenario.spec.name} (seed {result.seed}, policy {policy_label(result)}): {what}"
    )


def distinct_styles(n: int) -> list[tuple[str, str]]:
    """``n`` (colour, hatch) pairs no two alike: the ten default colours, or for more the 20 of
    tab20 and then again with hatches (the default C0..C9 would repeat after 10)."""
    if n <= 10:
        return [(f"C{i}", "") for i in range(n)]
    cmap = plt.get_cmap("tab20")
    # dark shades first, then the light ones: neighbours in a stack never share a hue
    colours = [matplotlib.colors.to_hex(cmap(i)) for i in (*range(0, 20, 2), *range(1, 20, 2))]
    hatches = ["", "//", "..", "xx", "\\\\", "++"]
    return [(colours[i % 20], hatches[(i // 20) % len(hatches)]) for i in range(n)]


def active_periods(result: RunResult, pad_s: float = 1800.0) -> list[tuple[float, float]]:
    """The spans in which sessions ran (padded, overlapping ones merged), in seconds: the
    backup windows a throughput plot shows instead of whole idle days. A synthetic run (no
    sessions) is one span, first to last bucket with work."""
    s = result.sessions
    end_of_run = float(result.stats.get("sim_end_s", np.nan))
    spans: list[tuple[float, float]] = []
    if len(s):
        ran = s[~s["skipped"].astype(bool) & np.isfinite(s["start"].to_numpy(dtype=float))]
        for r in ran.itertuples():
            end = float(r.end) if np.isfinite(r.end) else end_of_run
            if np.isfinite(end):
                spans.append((float(r.start), end))
    if not spans:
        ts = result.timeseries
        busy = ts[ts["rate_bps"] > 0] if len(ts) else ts
        if len(busy):
            bucket = float(result.scenario.spec.simulation.bucket)
            spans = [(float(busy["t_start"].min()), float(busy["t_start"].max()) + bucket)]
    return merge_spans(spans, pad_s)


def merge_spans(spans: list[tuple[float, float]], pad_s: float) -> list[tuple[float, float]]:
    """Spans padded by ``pad_s`` on each side, overlapping ones merged, in time order."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        a, b = max(0.0, a - pad_s), b + pad_s
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _clock(t_s: float) -> str:
    """``day D HH:MM``, days numbered from 1 as on the console."""
    day, rest = divmod(t_s, 86_400.0)
    return f"day {int(day) + 1} {int(rest // 3600):02d}:{int(rest % 3600 // 60):02d}"


class CutTime:
    """Simulated time on an x axis with the idle time between ``periods`` cut out: each period
    is drawn after the previous one, a narrow grey band marks each cut, ticks read
    ``day D HH:MM``."""

    def __init__(self, periods: list[tuple[float, float]]) -> None:
        self.periods = periods
        active_h = sum(b - a for a, b in periods) / HOUR_S
        self.gap = 0.04 * active_h
        self.every = next((h for h in (1, 2, 3, 6, 12, 24, 48) if active_h / h <= 12), 96)
        self.starts: list[float] = []
        x0 = 0.0
        for a, b in periods:
            self.starts.append(x0)
            x0 += (b - a) / HOUR_S + self.gap
        self.end = x0 - self.gap

    def x(self, i: int, t_s: np.ndarray | float) -> np.ndarray | float:
        """Axis position of simulated time ``t_s`` (seconds) within period ``i``."""
        return (np.asarray(t_s) - self.periods[i][0]) / HOUR_S + self.starts[i]

    def finish(self, ax: Axes) -> None:
        """Grey bands at the cuts, the clock ticks, the limits and the axis label."""
        ticks: list[float] = []
        labels: list[str] = []
        for i, (a, b) in enumerate(self.periods):
            if i < len(self.periods) - 1:
                x1 = self.starts[i] + (b - a) / HOUR_S
                ax.axvspan(x1, x1 + self.gap, color="0.9", lw=0)
            marks = np.arange(np.ceil(a / HOUR_S / self.every) * self.every, b / HOUR_S, self.every)
            for m in marks if len(marks) else [a / HOUR_S]:
                ticks.append(float(self.x(i, m * HOUR_S)))
                labels.append(_clock(m * HOUR_S))
        step = max(1, len(ticks) // 14)
        ax.set_xticks(ticks[::step], labels[::step], rotation=30, ha="right", fontsize="small")
        ax.set_xlim(0, max(self.end, 1e-9))
        ax.set_xlabel(
            "simulated time, backup windows only"
            + (" (grey bands: idle time cut out)" if len(self.periods) > 1 else "")
        )


def day_axis(ax: Axes, lo_h: float, hi_h: float) -> None:
    """Ticks of an axis in hours of simulated time read ``day D HH:MM`` (days from 1, as on
    the console), about a dozen of them at whole hours."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    span = max(hi_h - lo_h, 1e-9)
    every = next((h for h in (1, 2, 3, 6, 12, 24, 48) if span / h <= 12), 96)
    ax.xaxis.set_major_locator(MultipleLocator(every))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _clock(x * HOUR_S)))
    ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_xlabel("simulated time (day 1 = the first simulated day)")


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
    fig.suptitle(run_title(result, "per-proxy load"))
    _save(fig, path)


def plot_throughput(result: RunResult, path: Path) -> None:
    """Stacked area: throughput (GB/h) per proxy over the backup windows only.

    The idle hours between windows are cut out: each span in which sessions ran is drawn one
    after the other (thin grey lines mark the cuts, ticks give ``day D HH:MM``). Up to 20
    proxies get a colour (and hatch) each; more are stacked by pool.
    """
    ts = result.timeseries
    periods = active_periods(result)
    fig, ax = plt.subplots(figsize=(11, 4.2))
    if not ts.empty and periods:
        by_pool = ts["proxy"].nunique() > 20
        key = ts["proxy"]
        if by_pool:
            pool_of = dict(zip(result.proxies["proxy"], result.proxies["pool"], strict=False))
            key = ts["proxy"].map(lambda p: pool_of.get(p) or "(standalone)")
        wide = (
            ts.assign(key=key)
            .pivot_table(index="t_start", columns="key", values="rate_bps", aggfunc="sum")
            .fillna(0.0)
        )
        styles = distinct_styles(len(wide.columns))
        bucket = float(result.scenario.spec.simulation.bucket)
        t = wide.index.to_numpy(dtype=float)
        cut = CutTime(periods)
        for i, (a, b) in enumerate(periods):
            keep = (t >= a - bucket) & (t < b)
            if not keep.any():
                continue
            xs = cut.x(i, np.append(np.clip(t[keep], a, None), b))
            ys = wide.to_numpy()[keep].T * HOUR_S / GB
            polys = ax.stackplot(
                xs,
                np.hstack([ys, ys[:, -1:]]),
                colors=[c for c, _ in styles],
                labels=[str(c) if i == 0 else "_nolegend_" for c in wide.columns],
                step="post",
                lw=0.3,
                edgecolor="white",
            )
            for poly, (_, hatch) in zip(polys, styles, strict=True):
                poly.set_hatch(hatch)
            for r in result.sessions.itertuples():
                if a <= r.scheduled < b:
                    ax.axvline(float(cut.x(i, r.scheduled)), color="0.35", lw=0.6, ls=":")
        cut.finish(ax)
        ax.legend(
            title="pool" if by_pool else "proxy",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize="small",
            ncol=1 if len(wide.columns) <= 16 else 2,
        )
    ax.set_ylabel("GB/h read")
    ax.set_title(run_title(result, "throughput (dotted: session starts)"), fontsize="medium")
    ax.set_ylim(bottom=0)
    _save(fig, path)


def plot_sessions(result: RunResult, path: Path) -> None:
    """Horizontal bars: each session's span against its window; unfinished, stopped and skipped
    sessions are marked. Rows run by day, then job, as on the console."""
    from sim.report.tables import sessions_in_order

    s = sessions_in_order(result.sessions)
    end_of_run = float(result.stats.get("sim_end_s", np.nan))
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.35 * len(s) + 1.5)))
    seen: set[str] = set()

    def once(label: str) -> str | None:
        if label in seen:
            return None
        seen.add(label)
        return label

    for i, row in enumerate(s.itertuples()):
        start = float(row.start)
        if bool(row.skipped) or not np.isfinite(start):
            ax.plot(
                float(row.scheduled) / HOUR_S,
                i,
                marker="x",
                color="C1",
                ms=8,
                ls="none",
                label=once("skipped (previous run still going)"),
            )
        elif not np.isfinite(float(row.end)):
            end = end_of_run if np.isfinite(end_of_run) else start
            ax.barh(
                i,
                (end - start) / HOUR_S,
                left=start / HOUR_S,
                color="C3",
                hatch="//",
                edgecolor="k",
                lw=0.5,
                label=once("unfinished when the run ended"),
            )
            ax.plot(end / HOUR_S, i, marker=">", color="k", ms=6)
        else:
            stopped = bool(row.terminated)
            label = (
                "stopped at the end of its window"
                if stopped
                else (
                    ("window met" if np.isfinite(row.window_s) else "finished (no window)")
                    if row.within_window
                    else "window missed"
                )
            )
            ax.barh(
                i,
                (float(row.end) - start) / HOUR_S,
                left=start / HOUR_S,
                color="C2" if row.within_window else "C3",
                hatch="xx" if stopped else None,
                edgecolor="k" if stopped else None,
                lw=0.5,
                label=once(label),
            )
        if np.isfinite(row.window_s):
            ax.plot(
                [(row.scheduled + row.window_s) / HOUR_S] * 2,
                [i - 0.4, i + 0.4],
                color="k",
                lw=2,
                label=once("end of window"),
            )
    ax.set_yticks(range(len(s)), [f"{r.job} day {int(r.day)}" for r in s.itertuples()])
    ax.invert_yaxis()
    lo, hi = ax.get_xlim()
    day_axis(ax, lo, hi)
    if seen:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(run_title(result, "sessions"), fontsize="medium")
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
    lc = result.lifecycle
    events = lc[lc["outcome"] == "done"] if len(lc) else lc
    periods = active_periods(result)
    if len(events):
        t_lo = float(events["t"].min()) - 2 * HOUR_S
    else:  # no timeline: the backup windows, not the idle hours before them
        t_lo = periods[0][0] if periods else 0.0
    t_lo = max(t_lo, float(st["t_start"].min()) if len(st) else 0.0)
    t_hi = float(st["t_end"].max()) if len(st) else t_lo + HOUR_S
    if len(events):  # a long tail after the last event says little about the events
        t_hi = min(t_hi, float(events["t"].max()) + 4 * HOUR_S)
    elif periods:
        t_hi = min(t_hi, periods[-1][1])
    t_hi = max(t_hi, t_lo + HOUR_S)
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
    # each label on the first level where it clears the labels to its left: its width in
    # points (7-point text, 2 points from its line) as hours of the ~9.5-inch wide axis
    from matplotlib.textpath import TextPath

    h_per_pt = max(t_hi - t_lo, HOUR_S) / HOUR_S / (9.5 * 72)
    level_end: list[float] = []
    for e in events.itertuples():
        x = float(e.t) / HOUR_S
        for a in (ax, ax2):
            a.axvline(x, color="0.3", lw=0.8, ls="--")
        text = f"{e.event} {e.proxy}".strip()
        level = next((k for k, end in enumerate(level_end) if x >= end), len(level_end))
        if level == len(level_end):
            level_end.append(0.0)
        width_pt = TextPath((0, 0), text, size=7).get_extents().width + 8
        level_end[level] = x + width_pt * h_per_pt
        ax.annotate(
            text,
            (x, -0.7 - 0.45 * level),
            fontsize=7,
            ha="left",
            va="bottom",
            xytext=(2, 0),
            textcoords="offset points",
        )
    ax.set_yticks(range(len(names)), names)
    top = -1.2 - 0.45 * len(level_end) if len(events) else -0.6  # room for event labels
    ax.set_ylim(len(names) - 0.4, top)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    handles += [Rectangle((0, 0), 1, 1, color=c) for c in ROLE_COLOURS.values()]
    labels = [*STATE_COLOURS, *(f"role: {r}" for r in ROLE_COLOURS)]
    ax.legend(handles, labels, ncol=4, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.02))
    ax.set_title(run_title(result, "proxy states and pool roles"), fontsize="medium", pad=24)
    ts = result.timeseries
    if len(ts):
        total = ts.groupby("t_start", sort=True)["rate_bps"].sum()
        x = total.index.to_numpy() / HOUR_S
        keep = (x >= t_lo / HOUR_S) & (x <= t_hi / HOUR_S)
        ax2.step(x[keep], total.to_numpy()[keep] * HOUR_S / GB, where="post", color="C0")
    ax2.set_ylabel("GB/h (all proxies)")
    ax2.set_xlim(t_lo / HOUR_S, t_hi / HOUR_S)
    day_axis(ax2, t_lo / HOUR_S, t_hi / HOUR_S)
    ax2.set_ylim(bottom=0)  # a dip read against zero, not against the lowest point
    ax2.set_title("Throughput around the events" if len(events) else "Throughput")
    fig.tight_layout()
    _save(fig, path)


@dataclass(frozen=True)
class PlotFailure:
    """A figure that could not be drawn: its file name and the error, for the user."""

    name: str
    error: str


def draw(figures: list[tuple[str, Callable[[], None]]]) -> list[PlotFailure]:
    """Draw each ``(file name, draw)``; a figure that fails is closed, named and skipped, so one
    bad figure never costs the others or the tables. User text (names, paths) is drawn as plain
    text: mathtext is off, so a ``$`` in a job or proxy name is a dollar sign."""
    failed = []
    for name, fn in figures:
        before = set(plt.get_fignums())
        try:
            with plt.rc_context({"text.parse_math": False}):
                fn()
        except Exception as exc:  # any failure of one figure: report it, keep going
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            failed.append(PlotFailure(name, f"{type(exc).__name__}: {exc}"))
    return failed


def write_plots(result: RunResult, folder: Path) -> list[PlotFailure]:
    """Write every plot of a run into ``folder`` (lifecycle.png when it has a timeline); return
    the ones that failed. lifecycle.png (states and roles) is drawn whenever the run has
    proxy states, with or without a timeline."""
    folder.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, Callable[[], None]]] = [
        ("proxy_load.png", lambda: plot_proxy_load(result, folder / "proxy_load.png")),
        ("throughput.png", lambda: plot_throughput(result, folder / "throughput.png")),
        ("sessions.png", lambda: plot_sessions(result, folder / "sessions.png")),
    ]
    if len(result.states):
        figures.append(("lifecycle.png", lambda: plot_lifecycle(result, folder / "lifecycle.png")))
    return draw(figures)


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
        # whiskers from the interval's ends: bounded metrics' intervals need not be centred
        below = np.nan_to_num(mean - sub.reindex(pols)["ci_low"].to_numpy(dtype=float))
        above = np.nan_to_num(sub.reindex(pols)["ci_high"].to_numpy(dtype=float) - mean)
        ax.bar(
            range(len(pols)),
            mean,
            yerr=np.vstack([below, above]),
            capsize=5,
            color=[f"C{i}" for i in range(len(pols))],
        )
        ax.set_xticks(range(len(pols)), pols, rotation=30, ha="right", fontsize="small")
        ax.set_title(label, fontsize="medium")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    n = len(comparison.seeds)
    fig.suptitle(
        f"{comparison.scenario.spec.name} ({n} replications, first seed "
        f"{comparison.seeds[0] if comparison.seeds else '-'}; policies {', '.join(pols)}): "
        f"means, {comparison.confidence:.0%} interval whiskers"
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
    ax.set_title(
        f"{comparison.scenario.spec.name} ({len(comparison.seeds)} replications, first seed "
        f"{comparison.seeds[0] if comparison.seeds else '-'}; policies "
        f"{', '.join(comparison.policies)}): per-proxy load (95 % whiskers)",
        fontsize="medium",
    )
    _save(fig, path)


def plot_comparison_throughput(comparison: Comparison, path: Path) -> None:
    """Throughput over the backup windows, one line per policy (mean over replications); idle
    time between windows is cut out as in a run's throughput plot."""
    tp = comparison.throughput
    fig, ax = plt.subplots(figsize=(10, 4))
    bucket = float(comparison.scenario.spec.simulation.bucket)
    busy = tp[tp["gb_per_h"] > 0] if len(tp) else tp
    periods = merge_spans(
        [(t * HOUR_S, t * HOUR_S + bucket) for t in sorted(set(busy["t_h"]))], 1800.0
    )
    if periods:
        cut = CutTime(periods)
        for k, p in enumerate(comparison.policies):
            sub = tp[tp["policy"] == p]
            t = sub["t_h"].to_numpy(dtype=float) * HOUR_S
            y = sub["gb_per_h"].to_numpy(dtype=float)
            for i, (a, b) in enumerate(periods):
                keep = (t >= a - bucket) & (t < b)
                if keep.any():
                    xs = cut.x(i, np.append(np.clip(t[keep], a, None), b))
                    ax.step(
                        xs,
                        np.append(y[keep], y[keep][-1]),
                        where="post",
                        label=p if i == 0 else "_nolegend_",
                        color=f"C{k}",
                        lw=1.2,
                    )
        cut.finish(ax)
        ax.legend(fontsize="small")
    ax.set_ylabel("GB/h read (mean over replications)")
    ax.set_title(
        f"{comparison.scenario.spec.name} ({len(comparison.seeds)} replications, first seed "
        f"{comparison.seeds[0] if comparison.seeds else '-'}; policies "
        f"{', '.join(comparison.policies)}): throughput",
        fontsize="medium",
    )
    ax.set_ylim(bottom=0)
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
        ok = c["passes"].to_numpy(dtype=bool)
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor="grey", capsize=4, zorder=1)
        for mask, colour, label in ((ok, "C2", "passes"), (~ok, "C3", "misses")):
            if mask.any():
                ax.scatter(x[mask], y[mask], color=colour, zorder=2, s=40, label=label)
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
