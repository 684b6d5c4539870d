"""Import a real Microsoft 365 object inventory from CSV, with line-numbered errors.

Columns (header required, any order): ``type`` (one of defaults.OBJECT_TYPES), ``size`` (bytes or
a size such as '3.5 GB'), ``items`` (integer >= 0), optional ``daily_change`` (fraction 0..1;
default by type, vb365 fact 21). Other columns are ignored.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from sim import defaults as d
from sim.scenario.yamlsource import Problem, ScenarioError
from sim.units import UnitError, parse_size
from sim.workload.table import TYPE_INDEX, ObjectTable

REQUIRED = ("type", "size", "items")
_DIGITS = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit() accepts '²', which int() rejects
MAX_PROBLEMS = 20


def read_inventory_csv(path: Path) -> ObjectTable:
    """Read an inventory CSV; raises ScenarioError naming file, line and column of bad rows."""
    file = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError(
            [Problem(file, None, None, "", f"cannot read inventory: {exc.strerror}")]
        ) from None
    problems: list[Problem] = []
    otype: list[int] = []
    size: list[float] = []
    items: list[float] = []
    change: list[float] = []
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ScenarioError(
                [
                    Problem(
                        file,
                        1,
                        None,
                        "header",
                        f"missing column(s) {', '.join(missing)}; required: "
                        f"{', '.join(REQUIRED)} (optional: daily_change)",
                    )
                ]
            )
        for row in reader:
            line = reader.line_num
            if len(problems) >= MAX_PROBLEMS:
                break
            t = (row.get("type") or "").strip()
            if t not in TYPE_INDEX:
                problems.append(
                    Problem(
                        file,
                        line,
                        None,
                        "type",
                        f"unknown object type {t!r}; allowed: {', '.join(d.OBJECT_TYPES)}",
                    )
                )
                continue
            try:
                s = parse_size((row.get("size") or "").strip())
            except UnitError as exc:
                problems.append(Problem(file, line, None, "size", str(exc)))
                continue
            raw_items = (row.get("items") or "").strip()
            if not _DIGITS.match(raw_items):
                problems.append(
                    Problem(
                        file,
                        line,
                        None,
                        "items",
                        f"{raw_items!r} is not a whole number of items (>= 0)",
                    )
                )
                continue
            raw_change = (row.get("daily_change") or "").strip()
            if raw_change:
                try:
                    c = float(raw_change)
                except ValueError:
                    c = -1.0
                if not 0.0 <= c <= 1.0:
                    problems.append(
                        Problem(
                            file,
                            line,
                            None,
                            "daily_change",
                            f"{raw_change!r} is not a fraction between 0 and 1",
                        )
                    )
                    continue
            else:
                c = d.DAILY_CHANGE_RATE_OF_TYPE[t]
            otype.append(TYPE_INDEX[t])
            size.append(s)
            items.append(float(raw_items))
            change.append(c)
    if problems:
        raise ScenarioError(problems)
    if not otype:
        raise ScenarioError([Problem(file, None, None, "", "the inventory has no objects")])
    return ObjectTable(
        otype=np.asarray(otype, dtype=np.int64),
        size_bytes=np.asarray(size),
        items=np.maximum(1.0, np.asarray(items)),
        daily_change=np.asarray(change),
    )
