"""Nights a year that miss their window, per sweep point and replication: one Markdown table.

    .venv/bin/python scripts/missed_nights.py results/year-of-incidents/sweep-<hash>

Reads the sweep's ``sweep.parquet`` (one row per point and replication). Replication k of every
point runs on the same seed (common random numbers: the same inventory and daily changes), so
the difference between two points in one row is what the grid's keys alone change. Missed
nights = (1 - window_compliance) x simulated days (docs/model.md, "A year of incidents").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sweep", type=Path, help="a sweep's results folder")
    ap.add_argument("--days", type=int, default=365, help="simulated days per run")
    args = ap.parse_args()
    table = pd.read_parquet(args.sweep / "sweep.parquet")
    keys = [g["key"] for g in json.loads((args.sweep / "manifest.json").read_text())["grid"]]
    table["missed"] = ((1.0 - table["window_compliance"]) * args.days).round().astype(int)
    wide = table.pivot_table(index="replication", columns=keys, values="missed", aggfunc="first")
    heads = [" / ".join(str(v) for v in (c if isinstance(c, tuple) else (c,))) for c in wide]
    print(f"| replication \\ {' / '.join(keys)} | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 1) + "|")
    for rep, row in wide.iterrows():
        print(f"| {rep} | " + " | ".join(str(int(v)) for v in row) + " |")
    print("| mean | " + " | ".join(f"{v:.1f}" for v in wide.mean()) + " |")


if __name__ == "__main__":
    main()
