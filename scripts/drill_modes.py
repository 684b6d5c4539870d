"""What each in-flight mode costs in a maintenance drill: one run per mode, one Markdown table.

    .venv/bin/python scripts/drill_modes.py scenarios/maintenance-drill.yaml [--set key=value ...]

Columns come from each run's lifecycle table and summary (docs/model.md, "Pool lifecycle").
"""

from __future__ import annotations

import argparse
import math

import sim

MODES = ("handoff", "drain", "restart")
LABEL = {
    "handoff": "handoff (default, product)",
    "drain": "drain (Enabling, 10 min bound)",
    "restart": "restart (what-if: pessimistic, not product behaviour)",
}


def _fmt(x: float, unit: str = "", nd: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{nd}f}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    print(
        "| in-flight mode | reassigned objects | resume delay p50 / max | redone GB "
        "| crashed objects | drain time | dip at maintenance | recovery after maintenance "
        "| dip at crash | makespan | GB/h |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        res = sim.simulate(
            args.scenario, overrides=[*args.overrides, f"lifecycle.in_flight={mode}"]
        )
        lc = res.lifecycle[res.lifecycle["outcome"] == "done"]
        maint = lc[lc["event"] == "maintenance_on"].iloc[0]
        crash = lc[lc["event"] == "fail"]
        dip_crash = float(crash["dip"].iloc[0]) if len(crash) else math.nan
        drain = _fmt(float(maint["drain_s"]) / 60, " min")
        off = lc[(lc["event"] == "maintenance_off") & (lc["proxy"] == maint["proxy"])]
        if math.isnan(float(maint["drain_s"])) and len(off):
            drain = f"not drained in {(float(off['t'].iloc[0]) - float(maint['t'])) / 60:.0f} min"
        print(
            f"| {LABEL[mode]} | {int(maint['reassigned'])} "
            f"| {_fmt(float(maint['resume_delay_p50_s']) / 60, '')} / "
            f"{_fmt(float(maint['resume_delay_max_s']) / 60, ' min')} "
            f"| {_fmt(float(lc['redone_bytes'].sum()) / 1e9, '', 2)} "
            f"| {int(lc['crashed'].sum())} "
            f"| {drain} "
            f"| {_fmt(100 * float(maint['dip']), ' %')} "
            f"| {_fmt(float(maint['recovery_s']) / 60, ' min')} "
            f"| {_fmt(100 * dip_crash, ' %')} "
            f"| {_fmt(res.metric('makespan_max'), ' h', 2)} "
            f"| {_fmt(res.metric('throughput'))} |"
        )


if __name__ == "__main__":
    main()
