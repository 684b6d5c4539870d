"""``poolsim history``: simulated versus observed nights, per job: duration, processed objects,
transferred bytes and bottleneck (docs/calibrate.md, "Compare with history").

The scenario is run once; its sessions are written as ``jobsessions.json`` and read back with the
same reader as the observed export (``sim.estate.sessions``), so both sides mean the same thing.
A session is matched to a scenario job by ``jobId`` (the job's ``vb365_id``, or poolsim's UUID of
its name) or, when it has none, by ``JobName``; to a simulated day by its local date in the
time zone of ``simulation.start`` (day 1 is the date of ``simulation.start``). Observed sessions
of jobs the scenario does not have, or outside the simulated days, are left out and counted.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import Problem, ScenarioError
from sim.estate.read import Record
from sim.estate.sessions import Observed, SessionsRead, observed
from sim.report.jobsessions import job_sessions, job_sessions_text, job_uuid
from sim.scenario.schema import start_instant

if TYPE_CHECKING:
    from sim.experiment.run import RunResult
    from sim.report.plots import PlotFailure
    from sim.scenario import LoadedScenario

HISTORY_COLUMNS = [
    "job",
    "day",
    "date",
    "nth",
    "observed_status",
    "simulated_status",
    "observed_duration_s",
    "simulated_duration_s",
    "observed_objects",
    "simulated_objects",
    "observed_bytes",
    "simulated_bytes",
    "observed_bottleneck",
    "simulated_bottleneck",
]
"""One row per job per night (``nth`` counts sessions of the same job on the same date)."""


@dataclass
class History:
    """The comparison: rows per job and night, a summary per job, what was left out."""

    scenario: LoadedScenario
    result: RunResult
    table: pd.DataFrame
    summary: pd.DataFrame
    left_out: dict[str, int]
    used: int


def _key(s: Observed, start: datetime) -> tuple[int, str]:
    local = s.creation.astimezone(start.tzinfo)
    return (local.date() - start.date()).days + 1, local.date().isoformat()


def _pct_error(sim: pd.Series, obs: pd.Series) -> float:
    ok = sim.notna() & obs.notna() & (obs > 0)
    if not ok.any():
        return math.nan
    return float((100 * (sim[ok] - obs[ok]).abs() / obs[ok]).mean())


Rows = dict[tuple[str, int, int], tuple[str, Observed]]
"""Sessions by (job, day, nth): (local date, session); ``nth`` counts a job's sessions of a day."""


def match_observed(loaded: LoadedScenario, sessions: SessionsRead) -> tuple[Rows, Counter[str]]:
    """The used observed sessions by (job, day, nth), and the left-out counts by reason.

    ScenarioError when no session of the scenario's jobs falls in the simulated days."""
    spec = loaded.spec
    start = start_instant(spec.simulation)
    days = spec.simulation.days
    by_id = {(j.vb365_id or job_uuid(j.name)).strip().lower(): j.name for j in spec.jobs}
    by_name = {j.name.lower(): j.name for j in spec.jobs}
    left: Counter[str] = Counter(why for _, why in sessions.left_out)
    obs_rows: Rows = {}
    seen: Counter[tuple[str, int]] = Counter()
    for s in sorted(sessions.used, key=lambda x: x.creation):
        job = by_id.get(s.job_id or "") or by_name.get((s.job_name or "").lower())
        if job is None:
            left["a job the scenario does not have"] += 1
            continue
        day, date = _key(s, start)
        if not 1 <= day <= days:
            left["outside the simulated days"] += 1
            continue
        seen[(job, day)] += 1
        obs_rows[(job, day, seen[(job, day)])] = (date, s)
    if not obs_rows:
        last = (start.date().toordinal() + days - 1) if days else start.date().toordinal()
        raise ScenarioError(
            [
                Problem(
                    str(loaded.path or "<scenario>"),
                    None,
                    None,
                    "simulation.start",
                    f"no observed session of the scenario's jobs falls in the simulated days "
                    f"{start.date().isoformat()} .. {datetime.fromordinal(last).date()} "
                    f"({', '.join(f'{n} {why}' for why, n in left.items()) or 'none used'}): "
                    "set simulation.start to the first night of the history, e.g. --set "
                    "simulation.start=2026-03-02T00:00:00+01:00, and simulation.days to cover it",
                )
            ]
        )
    return obs_rows, left


def simulated_rows(page: dict[str, Any], start: datetime) -> tuple[Rows, dict[str, Any]]:
    """A simulated ``jobsessions.json`` page by (job, day, nth), read with the observed
    sessions' reader; and each row's raw record (its ``poolsim`` extra field) by the same key
    written ``job|day|nth``."""
    sim_rows: Rows = {}
    raws: dict[str, Any] = {}
    seen: Counter[tuple[str, int]] = Counter()
    for i, raw in enumerate(page["results"]):
        s = observed(Record("<simulated>", f"results[{i}]", raw))
        job = raw["poolsim"]["jobName"]
        day, date = _key(s, start)
        seen[(job, day)] += 1
        sim_rows[(job, day, seen[(job, day)])] = (date, s)
        raws[f"{job}|{day}|{seen[(job, day)]}"] = raw
    return sim_rows, raws


def compare_history(
    loaded: LoadedScenario, sessions: SessionsRead, seed: int | None = None
) -> History:
    """Run the scenario once and set its sessions beside the observed ones."""
    from sim.experiment.run import simulate

    obs_rows, left = match_observed(loaded, sessions)
    result = simulate(loaded, seed=seed)
    sim_rows, _ = simulated_rows(job_sessions(result), start_instant(loaded.spec.simulation))
    rows = []
    for key in sorted(set(obs_rows) | set(sim_rows), key=lambda k: (k[1], k[0], k[2])):
        job, day, nth = key
        o = obs_rows.get(key)
        m = sim_rows.get(key)
        date = (o or m)[0]  # type: ignore[index]
        rows.append(
            {
                "job": job,
                "day": day,
                "date": date,
                "nth": nth,
                "observed_status": o[1].status if o else None,
                "simulated_status": m[1].status if m else None,
                "observed_duration_s": o[1].duration_s if o else math.nan,
                "simulated_duration_s": m[1].duration_s if m else math.nan,
                "observed_objects": o[1].processed_objects if o else math.nan,
                "simulated_objects": m[1].processed_objects if m else math.nan,
                "observed_bytes": o[1].transferred_bytes if o else math.nan,
                "simulated_bytes": m[1].transferred_bytes if m else math.nan,
                "observed_bottleneck": o[1].bottleneck if o else None,
                "simulated_bottleneck": m[1].bottleneck if m else None,
            }
        )
    table = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    summary = []
    for job, t in table.groupby("job", sort=False):
        both = t[t["observed_status"].notna() & t["simulated_status"].notna()]
        agree = (both["observed_bottleneck"] == both["simulated_bottleneck"]).mean()
        summary.append(
            {
                "job": job,
                "nights_observed": int(t["observed_status"].notna().sum()),
                "nights_compared": len(both),
                "duration_error_pct": _pct_error(
                    both["simulated_duration_s"], both["observed_duration_s"]
                ),
                "objects_error_pct": _pct_error(
                    both["simulated_objects"], both["observed_objects"]
                ),
                "bytes_error_pct": _pct_error(both["simulated_bytes"], both["observed_bytes"]),
                "bottleneck_agreement": float(agree) if len(both) else math.nan,
            }
        )
    return History(loaded, result, table, pd.DataFrame(summary), dict(left), len(sessions.used))


def plot_history(history: History, path: Path) -> None:
    """Per job (rows): observed (points) and simulated (line) duration, objects, bytes by day."""
    import matplotlib.pyplot as plt

    jobs = list(dict.fromkeys(history.table["job"]))
    fig, axes = plt.subplots(
        len(jobs), 3, figsize=(12, 2.6 * len(jobs) + 0.6), squeeze=False, sharex=True
    )
    panels: tuple[tuple[str, str, float], ...] = (
        ("duration_s", "duration (h)", 1 / 3600),
        ("objects", "objects", 1.0),
        ("bytes", "transferred (GB)", 1e-9),
    )
    for r, job in enumerate(jobs):
        t = history.table[history.table["job"] == job]
        for c, (col, label, scale) in enumerate(panels):
            ax = axes[r][c]
            x = t["day"] + (t["nth"] - 1) * 0.1
            ax.plot(x, t[f"simulated_{col}"] * scale, "-o", ms=3, label="simulated")
            ax.plot(x, t[f"observed_{col}"] * scale, "s", ms=5, mfc="none", label="observed")
            ax.set_ylabel(label)
            if c == 0:
                ax.set_title(str(job), loc="left", fontsize=9)
            ax.grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    for ax in axes[-1]:
        ax.set_xlabel("day")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(fontsize=8)
    spec = history.scenario.spec
    fig.suptitle(f"{spec.name}: simulated vs observed nights (seed {history.result.seed})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_history(
    history: History,
    root: Path | str = "results",
    command: list[str] | None = None,
    plots: bool = True,
) -> Path:
    """Write ``root/<scenario>/history-<time>/``: history.csv, summary.csv, the simulated
    jobsessions.json, plots/history.png and a manifest."""
    from sim.atomic import atomic_write, atomic_write_text
    from sim.report.folders import _manifest, _new_id, _write_folder
    from sim.report.plots import draw

    man: dict[str, Any] = _manifest(
        history.scenario,
        command,
        {
            "kind": "history",
            "seed": history.result.seed,
            "observed_sessions_used": history.used,
            "observed_sessions_left_out": history.left_out,
        },
    )

    def tables(folder: Path) -> None:
        atomic_write(folder / "history.csv", lambda p: history.table.to_csv(p, index=False))
        atomic_write(folder / "summary.csv", lambda p: history.summary.to_csv(p, index=False))
        atomic_write_text(folder / "jobsessions.json", job_sessions_text(history.result))

    def figures(folder: Path) -> list[PlotFailure]:
        (folder / "plots").mkdir(exist_ok=True)
        path = folder / "plots" / "history.png"
        return draw([("history.png", lambda: plot_history(history, path))])

    return _write_folder(
        Path(root) / history.scenario.spec.name,
        _new_id("history"),
        man,
        tables,
        figures if plots else None,
    )


def _fmt(x: float, unit: str = " %") -> str:
    return "-" if not math.isfinite(x) else f"{x:.1f}{unit}"


def history_lines(history: History) -> list[str]:
    """The per-job summary as plain text lines (what ``poolsim history`` prints)."""
    out = [
        f"{history.used} observed sessions used"
        + (
            "; left out: " + ", ".join(f"{n} {why}" for why, n in history.left_out.items())
            if history.left_out
            else ""
        )
    ]
    head = f"{'job':<32} {'nights':>7} {'duration err':>13} {'objects err':>12} "
    head += f"{'bytes err':>10} {'bottleneck agrees':>18}"
    out.append(head)
    for r in history.summary.itertuples(index=False):
        agree = (
            "-" if not math.isfinite(r.bottleneck_agreement) else f"{r.bottleneck_agreement:.0%}"
        )
        out.append(
            f"{str(r.job)[:32]:<32} {r.nights_compared:>3}/{r.nights_observed:<3} "
            f"{_fmt(r.duration_error_pct):>13} {_fmt(r.objects_error_pct):>12} "
            f"{_fmt(r.bytes_error_pct):>10} {agree:>18}"
        )
    return out
