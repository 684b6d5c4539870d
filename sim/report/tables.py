"""Presentation tables and number formats shared by the console, report.html and the folders."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sim.experiment.compare import Comparison
    from sim.experiment.run import RunResult
    from sim.experiment.sizing import SizeResult

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


def fmt(v: float) -> str:
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


def interval_text(
    mean: float, half: float, low: float | None = None, high: float | None = None
) -> str:
    """``mean ± half``, or ``mean [low, high]`` when the interval is not centred on the mean
    (Wilson or bootstrap intervals of bounded metrics), or just the mean without an interval."""
    if half != half:
        return fmt(mean)
    if low is not None and high is not None:
        centred = abs((low + high) / 2 - mean) <= 1e-9 * max(1.0, abs(mean))
        if not centred:
            return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"
    return f"{fmt(mean)} ± {fmt(half)}"


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """Headline metrics × policies as 'mean ± half-width' (or 'mean [low, high]') strings."""
    s = comparison.summary
    rows = []
    for scope, metric, label in headline(comparison):
        row = {"metric": label}
        for p in comparison.policies:
            r = s[(s["policy"] == p) & (s["scope"] == scope) & (s["metric"] == metric)]
            if r.empty:  # every replication of this policy failed (named on stderr)
                row[p] = "-"
                continue
            row[p] = interval_text(
                float(r["mean"].iloc[0]),
                float(r["half_width"].iloc[0]),
                float(r["ci_low"].iloc[0]),
                float(r["ci_high"].iloc[0]),
            )
        rows.append(row)
    return pd.DataFrame(rows)


SIZE_COLUMNS = ("proxies", "met / runs", "compliance", "lower bound", "longest session", "")
"""Columns of ``size_evidence``."""


def size_evidence(result: SizeResult) -> list[list[str]]:
    """The sizing curve as text rows (the CLI's table and report.html)."""
    from sim.units import format_duration

    return [
        [
            str(r.pool_size),
            f"{r.met}/{r.replications}",
            f"{r.compliance:.0%}",
            f"{r.wilson_low:.0%}",
            format_duration(r.makespan_max_h_mean * 3600),
            "meets" if r.passes else "misses",
        ]
        for r in result.curve.itertuples()
    ]


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


def day_clock(t_s: float) -> str:
    """``day D HH:MM`` (``:SS`` when not on the minute) of simulated time ``t_s``: days are
    numbered from 1, as in the scenario's timeline and every table (docs/model.md, "Days")."""
    day, rest = divmod(float(t_s), 86_400.0)
    hh, rem = divmod(rest, 3600.0)
    mm, ss = divmod(rem, 60.0)
    text = f"day {int(day) + 1} {int(hh):02d}:{int(mm):02d}"
    return text + (f":{int(ss):02d}" if int(ss) else "")


def _num(row: object, name: str) -> float:
    v = getattr(row, name, float("nan"))
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def lifecycle_story(result: RunResult) -> list[str]:
    """What happened in the run's lifecycle, one line per event in time order: each
    maintenance, fault and other request (refused ones with their reason), the objects it
    reassigned, crashed or redid, the pool's throughput dip around it and its recovery, the
    resume delay when the lifecycle table has it, and each move of a pool role."""
    from sim.units import format_bytes, format_duration, format_rate

    lines: list[tuple[float, int, str]] = []
    lc = result.lifecycle
    in_flight = result.scenario.spec.lifecycle.in_flight
    for i, r in enumerate(lc.itertuples(index=False)):
        who = str(r.proxy) if str(r.proxy) else str(r.pool)
        head = f"{day_clock(float(r.t))}  {r.event} {who}".rstrip()
        if str(r.outcome) != "done":
            lines.append((float(r.t), i, f"{head}: {r.outcome}: {r.reason}"))
            continue
        parts: list[str] = []
        reassigned, crashed = _num(r, "reassigned"), _num(r, "crashed")
        if reassigned > 0:
            parts.append(f"{reassigned:,.0f} objects reassigned ({in_flight})")
        if crashed > 0:
            parts.append(f"{crashed:,.0f} objects lost in flight (retried)")
        redone = _num(r, "redone_bytes")
        if redone > 0:
            parts.append(f"{format_bytes(redone)} redone")
        drain = _num(r, "drain_s")
        if drain > 0:
            parts.append(f"drained in {format_duration(drain)}")
        p50, worst = _num(r, "resume_delay_p50_s"), _num(r, "resume_delay_max_s")
        if p50 == p50 or worst == worst:
            parts.append(
                f"resume delay p50 {format_duration(p50) if p50 == p50 else '-'}, "
                f"max {format_duration(worst) if worst == worst else '-'}"
            )
        before, low, dip = (
            _num(r, "throughput_before_bps"),
            _num(r, "throughput_min_after_bps"),
            _num(r, "dip"),
        )
        if before > 0 and dip == dip:
            text = f"throughput {format_rate(before)} -> {format_rate(low)} (dip {dip:.0%})"
            rec = _num(r, "recovery_s")
            if rec == 0:
                text += ", no recovery needed"
            elif rec == rec:
                text += f", recovered in {format_duration(rec)}"
            else:
                text += ", not recovered by the end of the run"
            parts.append(text)
        lines.append((float(r.t), i, head + (": " + "; ".join(parts) if parts else "")))
    st = result.states
    if not st.empty:
        roles = st[st["kind"] == "role"].sort_values(["pool", "what", "t_start"], kind="stable")
        for (pool, role), g in roles.groupby(["pool", "what"], sort=False):
            rows = list(g.itertuples(index=False))
            for prev, nxt in itertools.pairwise(rows):
                gap = float(nxt.t_start) - float(prev.t_end)
                moved = f"{role} role of {pool}: {prev.proxy} -> {nxt.proxy}"
                if gap > 0:
                    moved += f" (after {format_duration(gap)} without a holder)"
                lines.append(
                    (
                        float(nxt.t_start),
                        len(lc) + len(lines),
                        f"{day_clock(float(nxt.t_start))}  {moved}",
                    )
                )
    return [text for _t, _i, text in sorted(lines)]


def sessions_in_order(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions ordered by day, then job, then scheduled time (the console's order)."""
    if sessions.empty:
        return sessions
    return sessions.sort_values(["day", "job", "scheduled"], kind="stable")


def day_runs(days: list[int]) -> str:
    """Sorted days as runs: ``2, 3, 5-8`` (three or more consecutive days as ``first-last``)."""
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(
        f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(str(d) for d in r) for r in runs
    )


def skipped_line(sessions: pd.DataFrame) -> str:
    """One line summarising the skipped sessions (runs that could not start because the job's
    previous session was still running): every day, as runs of days, per job; jobs skipped on
    the same days share one entry; empty when none."""
    if sessions.empty or not sessions["skipped"].astype(bool).any():
        return ""
    sk = sessions_in_order(sessions[sessions["skipped"].astype(bool)])
    by_days: dict[tuple[int, ...], list[str]] = {}
    for job, g in sk.groupby("job", sort=False, observed=True):
        by_days.setdefault(tuple(sorted({int(d) for d in g["day"]})), []).append(str(job))
    per_job = [
        f"{', '.join(jobs)} on day{'s' if len(days) > 1 else ''} {day_runs(list(days))}"
        for days, jobs in by_days.items()
    ]
    n = len(sk)
    return (
        f"{n} session{'s' if n > 1 else ''} ({'; '.join(per_job)}): the job's previous one "
        "still running"
    )
