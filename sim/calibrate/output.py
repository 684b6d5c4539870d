"""What ``poolsim calibrate`` prints and writes: the fit error per metric (before, after,
hold-out), the fitted parameters with their ranges and identifiability, the per-night table, the
calibrated scenario, and the results folder (docs/calibrate.md, "Calibrate")."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.calibrate.fit import (
    METRICS,
    Calibration,
    Night,
    SimRow,
    observed_value,
    residuals,
    rms,
    sim_value,
)
from sim.calibrate.params import calibration_data
from sim.estate.yamltext import Note, dump

LABELS = {
    "duration": "duration",
    "objects": "processed objects",
    "bytes": "transferred bytes",
    "read_rate": "read rate",
    "bottleneck": "bottleneck agrees",
    "rms_log": "RMS log error (the loss)",
}


def _agrees(n: Night, row: SimRow | None) -> bool:
    if row is None:
        return False
    obs = n.observed.bottleneck
    sim = row.get("own_bottleneck") if obs == "Proxy" else row.get("bottleneck")
    return bool(sim == obs)


def metric_errors(nights: list[Night], rows: dict[str, SimRow]) -> dict[str, float]:
    """Per metric: mean absolute error in % of the observed value over the nights (a night the
    simulation did not finish counts 100 %); bottleneck: share of nights that agree; rms_log:
    the RMS of the fit's residuals."""
    out: dict[str, float] = {}
    for m in METRICS:
        errs = []
        for n in nights:
            o = observed_value(n.observed, m)
            row = rows.get(n.key)
            s = sim_value(row, m)
            if not (math.isfinite(o) and o > 0):
                continue
            finished = row is not None and math.isfinite(sim_value(row, "duration"))
            errs.append(100 * abs(s - o) / o if finished and math.isfinite(s) else 100.0)
        out[m] = sum(errs) / len(errs) if errs else math.nan
    out["bottleneck"] = (
        sum(_agrees(n, rows.get(n.key)) for n in nights) / len(nights) if nights else math.nan
    )
    out["rms_log"] = rms(residuals(nights, rows))
    return out


def fit_table(c: Calibration) -> pd.DataFrame:
    """One row per metric: training error before (start values) and after (written values),
    and the same on the held-out nights."""
    tb, ta = metric_errors(c.train, c.before), metric_errors(c.train, c.after)
    hb, ha = metric_errors(c.holdout, c.before), metric_errors(c.holdout, c.after)
    return pd.DataFrame(
        [
            {
                "metric": m,
                "unit": "share" if m == "bottleneck" else ("log" if m == "rms_log" else "%"),
                "fit_before": tb[m],
                "fit_after": ta[m],
                "holdout_before": hb[m],
                "holdout_after": ha[m],
            }
            for m in [*METRICS, "bottleneck", "rms_log"]
        ]
    )


def param_table(c: Calibration) -> pd.DataFrame:
    rows = []
    for p in c.params:
        lo, hi = p.factor_range()
        for w, start in p.start.items():
            fitted = start * math.exp(p.written_x)
            rows.append(
                {
                    "parameter": p.param.name,
                    "field": f"calibration.{p.param.field}" + (f".{w}" if w else ""),
                    "unit": p.param.unit,
                    "start": start,
                    "fitted": fitted,
                    "factor": math.exp(p.written_x),
                    "low": start * lo,
                    "high": start * hi,
                    "se_log": p.se,
                    "effect_of_10pct": p.effect,
                    "identifiable": p.identifiable,
                    "why_not": p.why,
                }
            )
    return pd.DataFrame(rows)


def nights_table(c: Calibration) -> pd.DataFrame:
    rows = []
    for n in c.nights:
        row: dict[str, Any] = {
            "job": n.job,
            "day": n.day,
            "date": n.date,
            "nth": n.nth,
            "set": "holdout" if n.holdout else "fit",
        }
        for m in METRICS:
            row[f"observed_{m}"] = observed_value(n.observed, m)
            row[f"before_{m}"] = sim_value(c.before.get(n.key), m)
            row[f"after_{m}"] = sim_value(c.after.get(n.key), m)
        row["observed_bottleneck"] = n.observed.bottleneck
        row["before_bottleneck"] = (c.before.get(n.key) or {}).get("bottleneck")
        row["after_bottleneck"] = (c.after.get(n.key) or {}).get("bottleneck")
        rows.append(row)
    return pd.DataFrame(rows)


def _num(v: float, unit: str) -> str:
    if not math.isfinite(v):
        return "-"
    if unit == "B/s":
        return f"{v / 1e6:.3g} MB/s"
    return f"{v:.3g} {unit}"


def _pct(v: float, unit: str) -> str:
    if not math.isfinite(v):
        return "-"
    if unit == "share":
        return f"{v:.0%}"
    if unit == "log":
        return f"{v:.3f}"
    return f"{v:.1f} %"


def _value_text(start: dict[str, float], factor: float, unit: str) -> str:
    """One value, or the smallest and largest of a per-workload field's (``2-5 s``)."""
    vals = [v * factor for v in start.values()]
    lo, hi = min(vals), max(vals)
    if math.isclose(lo, hi, rel_tol=1e-9):
        return _num(lo, unit)
    low, high = _num(lo, unit).split(" ", 1), _num(hi, unit).split(" ", 1)
    return f"{low[0]}-{high[0]} {high[1]}" if low[1] == high[1] else f"{low}-{high}"


def summary_lines(c: Calibration) -> list[str]:
    """What ``poolsim calibrate`` prints."""
    days = sorted({n.day for n in c.nights})
    out = [
        f"{len(c.nights)} observed sessions on {len(days)} nights used"
        + (
            "; left out: " + ", ".join(f"{n} {why}" for why, n in c.left_out.items())
            if c.left_out
            else ""
        ),
        f"simulations: {c.used} of a budget of {c.budget} ({c.simulated} run, {c.replayed} "
        f"replayed from the journal), seed {c.seed}, {c.wall_s:.0f} s; "
        + ("converged" if c.converged else f"stopped: {c.stop}"),
    ]
    if c.holdout_days:
        out.append(
            f"hold-out: fitted on days {days[0]}-{c.holdout_days[0] - 1}, predicting days "
            f"{c.holdout_days[0]}-{c.holdout_days[-1]} ({len(c.holdout)} sessions)"
        )
    else:
        out.append(f"no hold-out: fewer than 4 nights ({len(days)}), fitted on all of them")
    out.append("")
    head = f"{'metric':<26} {'fit: before':>12} {'after':>9}"
    if c.holdout_days:
        head += f" {'hold-out: before':>17} {'after':>9}"
    out.append(head)
    for r in fit_table(c).itertuples(index=False):
        line = (
            f"{LABELS[str(r.metric)]:<26} {_pct(r.fit_before, str(r.unit)):>12} "
            f"{_pct(r.fit_after, str(r.unit)):>9}"
        )
        if c.holdout_days:
            hb, ha = _pct(r.holdout_before, str(r.unit)), _pct(r.holdout_after, str(r.unit))
            line += f" {hb:>17} {ha:>9}"
        out.append(line)
    out.append(
        "(errors: mean absolute error in % of the observed value; bottleneck: share "
        "of nights that agree)"
    )
    out.append("")
    out.append(f"{'parameter':<26} {'start':>14} {'fitted':>14} {'95 % range (x)':>16}  note")
    for p in c.params:
        lo, hi = p.factor_range()
        rng = f"{lo:.2f}-{hi:.2f}" if math.isfinite(lo) and p.written_x == p.x else "-"
        if math.isfinite(lo) and (lo < 1e-3 or hi > 1e3):
            rng = "unbounded"
        if p.why.startswith("no effect"):
            rng = "-"
        note = "identifiable" if p.identifiable else f"NOT IDENTIFIABLE: {p.why}"
        out.append(
            f"{p.param.name:<26} {_value_text(p.start, 1.0, p.param.unit):>14} "
            f"{_value_text(p.start, math.exp(p.written_x), p.param.unit):>14} {rng:>16}  {note}"
        )
    bad = [p.param.name for p in c.params if not p.identifiable]
    out.append(
        "the data cannot identify: " + ", ".join(bad)
        if bad
        else "every fitted parameter is identifiable from these sessions"
    )
    out += c.notes
    return out


def _strip_section(text: str, key: str) -> str:
    """The YAML text without its top-level ``key:`` block (and the comments right above it)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(rf"^{key}\s*:", ln)), None)
    if start is None:
        return text
    end = start + 1
    while end < len(lines) and not re.match(r"^[^\s#]", lines[end]):
        end += 1
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # comments and blank lines before the next key belong to it
    head, j = start, start
    while j > 0 and lines[j - 1].startswith("#   "):
        j -= 1
    if j > 0 and lines[j - 1].startswith("# calibrated by poolsim calibrate"):
        head = j - 1  # the comment of an earlier calibration
    while head > 0 and not lines[head - 1].strip():
        head -= 1
    return "\n".join(lines[:head] + lines[end:]) + "\n"


def calibrated_yaml(c: Calibration, sessions_file: str) -> str:
    """The scenario text with the fitted values in its ``calibration:`` section and a comment
    saying they were fitted, from what, with what error."""
    loaded = c.loaded
    if loaded.path is not None and not loaded.overrides:
        text = loaded.path.read_text(encoding="utf-8")
    else:  # the --set values must be in the file: written from the data, without its comments
        text = _dump_raw({k: v for k, v in loaded.raw.items() if k != "calibration"})
        if loaded.overrides:
            text = (
                f"# {loaded.path} with {' '.join('--set ' + o for o in loaded.overrides)}\n" + text
            )
    base = _strip_section(text, "calibration").rstrip("\n") + "\n"
    data = calibration_data(loaded.spec, loaded.raw, [p.param for p in c.params], c.x)
    notes: dict[str, Any] = {}
    for key, value in data.items():
        p = next((r for r in c.params if r.param.field == key), None)
        if p is None:
            notes[key] = value
        elif isinstance(value, dict):
            notes[key] = {
                w: Note(v, _note(c, w, key)) if _note(c, w, key) else v for w, v in value.items()
            }
        else:
            notes[key] = Note(value, _note(c, "", key))
    ft = fit_table(c).set_index("metric")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    days = sorted({n.day for n in c.nights})
    hold = (
        f"hold-out (days {c.holdout_days[0]}-{c.holdout_days[-1]}) duration error "
        f"{_pct(ft.loc['duration', 'holdout_before'], '%')} -> "
        f"{_pct(ft.loc['duration', 'holdout_after'], '%')}"
        if c.holdout_days
        else "no hold-out (fewer than 4 nights)"
    )
    bad = [p.param.name for p in c.params if not p.identifiable]
    header = [
        f"# calibrated by poolsim calibrate, {when}: fitted to {len(c.nights)} sessions of "
        f"{len(days)} nights",
        f"#   from {sessions_file} (seed {c.seed}, {c.used} simulations);",
        f"#   duration error {_pct(ft.loc['duration', 'fit_before'], '%')} -> "
        f"{_pct(ft.loc['duration', 'fit_after'], '%')}, RMS log error "
        f"{_pct(ft.loc['rms_log', 'fit_before'], 'log')} -> "
        f"{_pct(ft.loc['rms_log', 'fit_after'], 'log')}; {hold}",
        "#   the data cannot identify: " + (", ".join(bad) if bad else "nothing (all identified)"),
    ]
    return base + "\n" + "\n".join(header) + "\n" + "\n".join(dump({"calibration": notes})) + "\n"


def _note(c: Calibration, workload: str, field: str) -> str:
    p = next(
        (
            r
            for r in c.params
            if r.param.field == field and (not workload or workload in r.param.workloads)
        ),
        None,
    )
    if p is None:
        return ""
    start = p.start.get(workload, next(iter(p.start.values())))
    if p.written_x != p.x or p.why.startswith("no effect"):
        return f"kept: {p.why}"
    lo, hi = p.factor_range()
    rng = f", 95 % range {start * lo:.4g}-{start * hi:.4g}" if math.isfinite(lo) else ""
    status = "" if p.identifiable else f"; NOT IDENTIFIABLE: {p.why}"
    return f"fitted x{math.exp(p.written_x):.3f} from {start:.4g}{rng}{status}"


def _dump_raw(raw: dict[str, Any]) -> str:
    import yaml

    return str(yaml.safe_dump(raw, sort_keys=False))


def plot_calibration(c: Calibration, path: Path) -> None:
    """Per job (rows): observed durations (squares), simulated before (dashed) and after (line)
    by night, the held-out nights shaded."""
    import matplotlib.pyplot as plt

    t = nights_table(c)
    jobs = list(dict.fromkeys(t["job"]))
    fig, axes = plt.subplots(len(jobs), 1, figsize=(9, 2.4 * len(jobs) + 0.6), squeeze=False)
    for ax, job in zip(axes[:, 0], jobs, strict=True):
        j = t[t["job"] == job]
        x = j["day"] + (j["nth"] - 1) * 0.1
        ax.plot(x, j["observed_duration"] / 60, "s", mfc="none", label="observed")
        ax.plot(x, j["before_duration"] / 60, "--", alpha=0.7, label="before (start values)")
        ax.plot(x, j["after_duration"] / 60, "-o", ms=3, label="after (fitted)")
        if c.holdout_days:
            ax.axvspan(c.holdout_days[0] - 0.5, c.holdout_days[-1] + 0.5, color="0.9", zorder=0)
        ax.set_ylabel("duration (min)")
        ax.set_title(str(job), loc="left", fontsize=9)
        ax.grid(alpha=0.3)
    axes[-1][0].set_xlabel("day" + (" (shaded: held out)" if c.holdout_days else ""))
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{c.loaded.spec.name}: calibration (seed {c.seed}, {c.used} simulations)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_calibration(
    c: Calibration,
    scenario_text: str,
    root: Path | str = "results",
    command: list[str] | None = None,
    console: list[str] | None = None,
    plots: bool = True,
) -> Path:
    """Write ``root/<scenario>/calibrate-<time>/``: fit.csv, parameters.csv, nights.csv,
    calibrated.yaml, report.txt, a copy of the journal and a manifest (published at once), then
    plots/calibrate.png."""
    from sim.atomic import atomic_write, atomic_write_text
    from sim.report.folders import _manifest, _new_id, _write_folder

    if TYPE_CHECKING:
        from sim.report.plots import PlotFailure

    man: dict[str, Any] = _manifest(
        c.loaded,
        command,
        {
            "kind": "calibrate",
            "seed": c.seed,
            "budget": c.budget,
            "simulations": c.used,
            "simulations_run": c.simulated,
            "simulations_replayed": c.replayed,
            "converged": c.converged,
            "stop": c.stop,
            "fit": [p.param.name for p in c.params],
            "holdout_days": list(c.holdout_days),
            "observed_sessions_used": len(c.nights),
            "observed_sessions_left_out": c.left_out,
            "sessions_sha256": c.sessions_digest,
            "journal": str(c.journal),
        },
    )

    def tables(folder: Path) -> None:
        atomic_write(folder / "fit.csv", lambda p: fit_table(c).to_csv(p, index=False))
        atomic_write(folder / "parameters.csv", lambda p: param_table(c).to_csv(p, index=False))
        atomic_write(folder / "nights.csv", lambda p: nights_table(c).to_csv(p, index=False))
        atomic_write_text(folder / "calibrated.yaml", scenario_text)
        atomic_write_text(folder / "report.txt", "\n".join(console or summary_lines(c)) + "\n")
        if c.journal.exists():
            atomic_write_text(folder / "journal.jsonl", c.journal.read_text(encoding="utf-8"))

    def figures(folder: Path) -> list[PlotFailure]:
        from sim.report.plots import draw

        (folder / "plots").mkdir(exist_ok=True)
        path = folder / "plots" / "calibrate.png"
        return draw([("calibrate.png", lambda: plot_calibration(c, path))])

    return _write_folder(
        Path(root) / c.loaded.spec.name,
        _new_id("calibrate"),
        man,
        tables,
        figures if plots else None,
    )
