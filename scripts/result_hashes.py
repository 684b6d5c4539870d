"""Hashes of the result tables of M/M/8, the quickstart and the maintenance drill.

A refactor that must keep behaviour prints the same lines before and after:

    .venv/bin/python scripts/result_hashes.py > before.txt   # on the old commit
    .venv/bin/python scripts/result_hashes.py | diff before.txt -
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd

from sim import load_scenario, load_scenario_text, simulate
from sim.bench.speed import mm8_scenario_text

ROOT = Path(__file__).resolve().parent.parent


def digest(frame: pd.DataFrame) -> str:
    """A stable hash of a frame's values, column names and dtypes."""
    h = hashlib.sha256()
    h.update(repr(list(zip(frame.columns, frame.dtypes.astype(str), strict=True))).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return h.hexdigest()[:16]


def main() -> int:
    cases = {
        "mm8": load_scenario_text(mm8_scenario_text(20_000)),
        "quickstart": load_scenario(ROOT / "scenarios" / "quickstart.yaml"),
        "maintenance-drill": load_scenario(ROOT / "scenarios" / "maintenance-drill.yaml"),
    }
    for name, scenario in cases.items():
        result = simulate(scenario, seed=1)
        for table in ("tasks", "sessions", "proxies", "timeseries", "summary", "limits"):
            frame = getattr(result, table)
            print(f"{name:18s} {table:11s} {len(frame):7d} rows  {digest(frame)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
