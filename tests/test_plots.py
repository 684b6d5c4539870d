"""Plots a planner can read: what can be checked of a figure is checked
here (axis limits, titles, distinct colours and markers, files written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    scenario_yaml,
)
from helpers.scenario import tenant as tenant_section
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import sim
from sim.experiment.run import RunResult
from sim.experiment.sizing import size
from sim.report import plots

TIMELINE = [
    {"at": "21:00", "day": 1, "event": "maintenance_on", "proxy": "p2"},
    {"at": "21:30", "day": 1, "event": "maintenance_off", "proxy": "p2"},
]


def _run(
    members: int = 12,
    days: int = 2,
    timeline: bool | list[dict[str, Any]] = False,
    **job_kw: Any,
) -> RunResult:
    """``2 x members`` one-hour mailboxes on one-thread proxies, nightly at 20:00."""
    proxies = [{"name": f"p{i + 1}", "threads": 1} for i in range(members)]
    text = scenario_yaml(
        name="plots",
        tenants=[tenant_section(objects=fixed_objects({"mailbox": (2 * members, 3.6e9)}))],
        proxies=proxies,
        pools=[{"name": "pool", "members": [p["name"] for p in proxies], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", daily="20:00", window=job_kw.pop("window", "3.5h"), **job_kw)],
        calibration=exact_calibration(1e6),
        days=days,
        seed=5,
    )
    if timeline:
        text += "timeline:\n" + "".join(
            f"  - {{at: '{e['at']}', day: {e['day']}, action: {e['event']}, proxy: {e['proxy']}}}\n"
            for e in (timeline if isinstance(timeline, list) else TIMELINE)
        )
    return sim.simulate(sim.load_scenario_text(text))


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the plot functions would save, kept open for inspection."""
    kept: list[Figure] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: kept.append(fig))
    return kept


def _titles(fig: Figure) -> str:
    parts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    return " | ".join(parts)


def test_throughput_shows_the_backup_windows_only(figures: list[Figure]) -> None:
    """Two nights of a two-hour job: the axis spans about 2 x (2 h + padding), not 48 h from
    t = 0, and its ticks read the clock of the windows."""
    result = _run(days=2)
    plots.plot_throughput(result, Path("unused.png"))
    ax = figures[0].axes[0]
    lo, hi = ax.get_xlim()
    assert lo == 0 and hi < 10  # 2 windows of ~3 h, not 44 h
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("day 1 ") and any(lb.startswith("day 2 ") for lb in labels)
    assert ax.get_ylim()[0] == 0
    periods = plots.active_periods(result)
    assert len(periods) == 2 and periods[0][0] == pytest.approx(20 * 3600 - 1800)


def test_more_than_ten_proxies_stay_distinguishable(figures: list[Figure]) -> None:
    result = _run(members=12, days=1)
    plots.plot_throughput(result, Path("unused.png"))
    ax = figures[0].axes[0]
    stacks = [c for c in ax.collections if isinstance(c, PolyCollection)]
    styles = {(tuple(np.round(c.get_facecolor()[0], 3)), c.get_hatch() or "") for c in stacks}
    assert len(stacks) == 12 and len(styles) == 12
    assert len(ax.get_legend().get_texts()) == 12
    assert len(set(plots.distinct_styles(60))) == 60


def test_many_proxies_stack_by_pool(figures: list[Figure]) -> None:
    result = _run(members=22, days=1)
    plots.plot_throughput(result, Path("unused.png"))
    legend = figures[0].axes[0].get_legend()
    assert legend.get_title().get_text() == "pool"
    assert [t.get_text() for t in legend.get_texts()] == ["pool"]


def test_unfinished_stopped_and_skipped_sessions_are_marked(figures: list[Figure]) -> None:
    """A session that did not finish (end NaN: the run stopped) is drawn hatched to the end of
    the run; a stopped one hatched; a skipped one as a cross."""
    result = _run(members=1, days=3, window="1h", terminate_on_window=True)
    s = result.sessions.copy()
    s.loc[2, ["end", "makespan_s"]] = np.nan
    s.loc[1, ["start", "end", "makespan_s"]] = np.nan
    s.loc[1, "skipped"] = True
    result.sessions = s
    plots.plot_sessions(result, Path("unused.png"))
    ax = figures[0].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "unfinished when the run ended" in legend
    assert "stopped at the end of its window" in legend
    assert "skipped (previous run still going)" in legend
    hatches = {p.get_hatch() for p in ax.patches}
    assert {"//", "xx"} <= hatches
    assert [t.get_text() for t in ax.get_yticklabels()] == ["j day 1", "j day 2", "j day 3"]


def test_gantt_without_a_timeline_and_dip_axis_from_zero(
    tmp_path: Path, figures: list[Figure]
) -> None:
    result = _run(members=3, days=1)
    assert len(result.lifecycle) == 0 and len(result.states) > 0
    plots.plot_lifecycle(result, Path("unused.png"))
    gantt, dip = figures[0].axes[:2]
    assert [t.get_text() for t in gantt.get_yticklabels()] == ["p1", "p2", "p3"]
    assert dip.get_ylim()[0] == 0
    lo, hi = dip.get_xlim()
    assert lo >= 19 and hi <= 24  # the window, not the idle day

    with_events = _run(members=3, days=1, timeline=True)
    plots.plot_lifecycle(with_events, Path("unused.png"))
    assert figures[1].axes[1].get_ylim()[0] == 0


def test_every_run_plot_is_titled_and_written(tmp_path: Path) -> None:
    result = _run(members=3, days=1)
    failed = plots.write_plots(result, tmp_path / "plots")
    assert failed == []
    written = sorted((tmp_path / "plots").iterdir())
    assert [p.name for p in written] == [
        "lifecycle.png",
        "proxy_load.png",
        "sessions.png",
        "throughput.png",
    ]
    assert all(p.stat().st_size > 5000 for p in written)


def test_titles_name_scenario_seed_and_policy(figures: list[Figure]) -> None:
    result = _run(members=3, days=1)
    for fn in (plots.plot_proxy_load, plots.plot_throughput, plots.plot_sessions):
        fn(result, Path("unused.png"))
    plots.plot_lifecycle(result, Path("unused.png"))
    for fig in figures:
        assert "plots (seed 5, policy pull_fifo)" in _titles(fig)
    forced = sim.simulate(result.scenario, policy="round_robin")
    figures.clear()
    plots.plot_sessions(forced, Path("unused.png"))
    assert "policy round_robin" in _titles(figures[0])


def test_comparison_and_size_titles(figures: list[Figure], tmp_path: Path) -> None:
    result = _run(members=2, days=1)
    cmp = sim.compare(result.scenario, ["pull_fifo", "round_robin"], replications=2, seed=3)
    plots.plot_metric_bars(cmp, Path("unused.png"))
    plots.plot_comparison_proxy_load(cmp, Path("unused.png"))
    plots.plot_comparison_throughput(cmp, Path("unused.png"))
    for fig in figures:
        text = _titles(fig)
        assert "plots (2 replications, first seed" in text, text
        assert "pull_fifo, round_robin" in text
    path = tmp_path / "s.yaml"
    path.write_text(_yaml(result), encoding="utf-8")
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=4)
    figures.clear()
    plots.plot_size_curve(res, Path("unused.png"))
    assert "plots (seed 5, policy pull_fifo)" in _titles(figures[0])


def _yaml(result: RunResult) -> str:
    import yaml

    return yaml.safe_dump(result.scenario.raw, sort_keys=False)


def test_time_axes_read_days_and_sessions_run_by_day_then_job(figures: list[Figure]) -> None:
    """The sessions chart and the Gantt chart count days as the console does (``day 2 01:00``,
    not hours since t = 0); the sessions chart lists sessions by day, then job, as the
    console's table does; a session without a window is 'finished', not 'window met'."""
    import re

    result = _run(members=2, days=3, timeline=True)
    s = result.sessions.copy()
    result.sessions = s.iloc[::-1].reset_index(drop=True)  # created in another order
    result.sessions["window_s"] = np.nan
    plots.plot_sessions(result, Path("unused.png"))
    plots.plot_lifecycle(result, Path("unused.png"))
    sessions_ax = figures[0].axes[0]
    assert [t.get_text() for t in sessions_ax.get_yticklabels()] == [
        "j day 1",
        "j day 2",
        "j day 3",
    ]
    assert "finished (no window)" in [t.get_text() for t in sessions_ax.get_legend().get_texts()]
    for ax in (sessions_ax, figures[1].axes[1]):
        figures[0].canvas.draw()
        figures[1].canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert labels and all(re.fullmatch(r"day \d+ \d\d:\d\d", lb) for lb in labels), labels
        assert "day" in ax.get_xlabel()


def test_event_labels_do_not_overlap(figures: list[Figure]) -> None:
    """The maintenance drill's four events (an hour, 45 and 15 minutes apart): their labels on
    the Gantt chart are stacked, not drawn over each other."""
    drill = Path(__file__).resolve().parent.parent / "scenarios" / "maintenance-drill.yaml"
    result = sim.simulate(drill)
    plots.plot_lifecycle(result, Path("unused.png"))
    fig = figures[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
