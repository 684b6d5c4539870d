"""Presentation tables and number formats shared by the console, report.html and the folders."""

from __future__ import annotations

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
