"""Where a run's time goes: cProfile tables of the M/M/8 benchmark and a large scenario.

    .venv/bin/python scripts/profile_hot_path.py                 # both, full size (~1 min)
    .venv/bin/python scripts/profile_hot_path.py --quick         # 20,000 tasks, 20,000 users
    .venv/bin/python scripts/profile_hot_path.py --only mm8 --top 15

Each part runs ``sim.simulate`` once untimed (imports, caches), then once under ``cProfile``
(standard library), and prints a Markdown table of the functions with the most self time:
calls, calls per task, self seconds, self microseconds per call and cumulative seconds. Beside
it the same run's CPU time without the profiler: cProfile adds a fixed cost to every Python
call, so call-heavy code looks slower than it is, and the shares are a guide, not a
measurement (``poolsim bench speed`` measures). docs/performance.md shows its output.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

from sim import load_scenario, load_scenario_text, simulate
from sim.bench.speed import MM8_TASKS, MM8_TASKS_QUICK, SCENARIO_QUICK_SET, mm8_scenario_text
from sim.scenario.loader import LoadedScenario

ROOT = Path(__file__).resolve().parent.parent


def where(path: str) -> str:
    """A function's file relative to the project (``site-packages/...`` for libraries)."""
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def profile(label: str, loaded: LoadedScenario, top: int) -> None:
    simulate(loaded, seed=1)  # warm: imports and caches are not the hot path
    c0 = time.process_time()
    tasks = len(simulate(loaded, seed=1).tasks)
    plain = time.process_time() - c0
    prof = cProfile.Profile()
    c0 = time.process_time()
    prof.enable()
    simulate(loaded, seed=1)
    prof.disable()
    profiled = time.process_time() - c0
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    print(f"### {label}: {tasks:,} tasks\n")
    print(
        f"CPU {plain:.2f} s without the profiler ({tasks / plain:,.0f} tasks/CPU-s), "
        f"{profiled:.2f} s under cProfile.\n"
    )
    print("| function | calls | per task | self s | self µs/call | cumulative s |")
    print("|---|---:|---:|---:|---:|---:|")
    for (file, line, name), (_cc, calls, self_s, cum_s, _callers) in rows:
        fn = f"`{name}`" if file == "~" else f"`{where(file)}:{line}` `{name}`"
        print(
            f"| {fn} | {calls:,} | {calls / tasks:.2f} | {self_s:.3f} | "
            f"{1e6 * self_s / calls:.2f} | {cum_s:.3f} |"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--only", choices=("mm8", "scenario"), help="one part")
    ap.add_argument("--top", type=int, default=20, help="rows per table (20)")
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "enterprise-100k.yaml")
    args = ap.parse_args(argv)
    if args.only in (None, "mm8"):
        n = MM8_TASKS_QUICK if args.quick else MM8_TASKS
        profile("M/M/8 (ρ = 0.9)", load_scenario_text(mm8_scenario_text(n)), args.top)
    if args.only in (None, "scenario"):
        sets = list(SCENARIO_QUICK_SET) if args.quick else []
        name = args.scenario.name + (f" ({', '.join(sets)})" if sets else "")
        profile(name, load_scenario(args.scenario, sets), args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
