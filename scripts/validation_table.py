"""Fill the results table of docs/validation.md from a validation run's log.

    POOLSIM_VALIDATION_LOG=validation.jsonl .venv/bin/pytest -m "not slow" tests/validation
    POOLSIM_VALIDATION_LOG=validation.jsonl .venv/bin/pytest -m slow tests/validation  # full tier
    .venv/bin/python scripts/validation_table.py validation.jsonl

Every oracle check appends one JSON line to the log (tests/validation/oracle.py). The last line
per (case, metric, tier) wins; the rows replace everything between the two ``validation-results``
markers of docs/validation.md, with the date and the tiers found. Nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "validation.md"
BEGIN = "<!-- validation-results:begin (scripts/validation_table.py writes this part) -->"
END = "<!-- validation-results:end -->"
HEADER = (
    "| ID | Tier | m | x̄ | rel. error | h | 99.9 % t-interval (10 replication means) "
    "| CI half-width / oracle | Result | Tasks simulated | CPU-s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _key(case: str) -> tuple[int, str]:
    m = re.match(r"T(\d+)(.*)", case)
    return (int(m.group(1)), m.group(2)) if m else (10**6, case)


def rows(entries: list[dict[str, object]]) -> list[str]:
    """One Markdown row per (case, metric, tier): the last logged result."""
    last: dict[tuple[str, str, str], dict[str, object]] = {}
    for e in entries:
        last[(f"{e['case']}{e.get('label', '')}", str(e["metric"]), str(e["tier"]))] = e
    out = []
    for (case, _metric, tier), e in sorted(last.items(), key=lambda kv: (_key(kv[0][0]), kv[0])):

        def f(name: str, e: dict[str, object] = e) -> float:
            v = e.get(name)
            return float(v) if isinstance(v, int | float) else 0.0

        out.append(
            f"| {case} | {tier} | {int(f('m')):,} | {f('xbar'):.6g} "
            f"| {f('rel_err') * 100:+.2f} % | {f('h') * 100:.2f} % "
            f"| [{f('ci_low'):.6g}, {f('ci_high'):.6g}] | {f('ci_half_rel') * 100:.2f} % "
            f"| {'PASS' if e['passed'] else 'FAIL'} | {int(f('tasks_simulated')):,} "
            f"| {f('cpu_s'):.1f} |"
        )
    return out


def fill(doc: str, table_rows: list[str], tiers: list[str]) -> str:
    """``doc`` with the part between the markers replaced by the table."""
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC}: the markers {BEGIN!r} / {END!r} are missing")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    body = "\n".join(
        [
            BEGIN,
            f"Generated on {when} from a validation log (tiers: {', '.join(tiers)}).",
            "",
            HEADER,
            *table_rows,
            END,
        ]
    )
    return head + body + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("logs", nargs="+", type=Path, help="POOLSIM_VALIDATION_LOG file(s)")
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    entries = []
    for log in args.logs:
        for n, line in enumerate(log.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    print(f"{log}:{n}: not a JSON line", file=sys.stderr)
                    return 2
    if not entries:
        print("no results in the log(s)", file=sys.stderr)
        return 2
    tiers = sorted({str(e["tier"]) for e in entries})
    args.doc.write_text(fill(args.doc.read_text(encoding="utf-8"), rows(entries), tiers))
    print(f"wrote {len(rows(entries))} rows to {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
