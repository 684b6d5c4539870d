"""Import a real Microsoft 365 object inventory from CSV, with line-numbered errors.

Columns (header required, any order): ``type`` (one of defaults.OBJECT_TYPES), ``size`` (bytes or
a size such as '3.5 GB'), ``items`` (integer >= 0), optional ``daily_change`` (fraction 0..1;
default by type, vb365 fact 21). Other columns are ignored.

Every CSV poolsim reads (inventories, arrival traces) goes through ``read_csv``: only regular
files are opened (a FIFO or /dev/zero given as a CSV is refused without reading it); UTF-8, UTF-8
with BOM, UTF-16 with BOM and Excel's Windows-1252 are read (anything else is refused with the
encoding tried); duplicate column names, empty headers and malformed rows (including fields over
the csv module's 128 KiB limit, and rows with more values than the header has columns, as
``site,1 GB,1,000`` for 1,000 items) are errors with their line.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 21: https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sim import defaults as d
from sim.errors import Problem, ScenarioError
from sim.textfile import UndecodableText, decode_text
from sim.units import UnitError, parse_size
from sim.workload.table import TYPE_INDEX, ObjectTable

REQUIRED = ("type", "size", "items")
_DIGITS = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit() accepts '²', which int() rejects
MAX_PROBLEMS = 20
MAX_OBJECT_BYTES = 1e15
"""Largest object size accepted (1 PB): far above any Microsoft 365 object (the largest, a
SharePoint site, holds at most 25 TB), so a bigger value is a typo or an overflow (INFERRED)."""
MAX_ITEMS = 10**12
"""Most items accepted per object (INFERRED bound, like MAX_OBJECT_BYTES)."""


def _fail(file: str, line: int | None, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(file, line, None, path, message)])


def regular_file(path: Path, what: str) -> None:
    """Raise ScenarioError unless path is an existing regular file (checked before opening, so
    a FIFO or a device is never read)."""
    file = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(file, None, "", f"cannot read {what}: file not found") from None
    except OSError as exc:
        raise _fail(file, None, "", f"cannot read {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(file, None, "", f"{what} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or special file"
        raise _fail(file, None, "", f"{what} is {kind}, not a regular file; give a file")


def _decode(raw: bytes, file: str) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (BOM optional), UTF-16 with BOM, else Windows-1252
    (``sim.textfile.decode_text``, the rule every reader of other tools' files shares)."""
    try:
        return decode_text(raw, fallbacks=("cp1252",))
    except UndecodableText as exc:
        raise _fail(
            file,
            exc.line,
            "",
            f"cannot decode {exc.byte} as {' or '.join(exc.encodings)}; save the "
            "file as UTF-8 (or Windows-1252 CSV from Excel)",
        ) from None


def read_csv(path: Path, what: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The stripped header and an iterator of (line, row) of a CSV file; ScenarioError for a
    file that is not a regular file, cannot be decoded, has no header, duplicate or empty column
    names, or a malformed row."""
    file = str(path)
    regular_file(path, what)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(file, None, "", f"cannot read {what}: {exc.strerror or exc}") from None
    text, _ = _decode(raw, file)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _fail(file, line, "", f"the {what} contains a NUL character; is it a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise _fail(file, reader.line_num, "header", f"malformed CSV: {exc}") from None
    if first is None:
        raise _fail(file, None, "", f"the {what} is empty; it needs a header line")
    header = [h.strip() for h in first]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise _fail(file, 1, "header", f"duplicate column {name!r}; each column once")
        if not name:
            raise _fail(file, 1, "header", "an empty column name; name every column")
        seen.add(name)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            try:
                values = next(reader, None)
            except csv.Error as exc:
                raise _fail(file, reader.line_num, "", f"malformed CSV: {exc}") from None
            if values is None:
                return
            if not values:
                continue
            if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
                raise _fail(
                    file,
                    reader.line_num,
                    "",
                    f"{len(values)} values but the header names {len(header)} columns "
                    f'({", ".join(header)}); quote a value that holds a comma ("1,000")',
                )
            yield reader.line_num, dict(zip(header, values, strict=False))

    return header, rows()


def _finite(text: str) -> float | None:
    """A finite float from text, or None."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def read_inventory_csv(path: Path) -> ObjectTable:
    """Read an inventory CSV; raises ScenarioError naming file, line and column of bad rows."""
    file = str(path)
    header, rows = read_csv(path, "inventory")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise _fail(
            file,
            1,
            "header",
            f"missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED)} "
            "(optional: daily_change)",
        )
    problems: list[Problem] = []
    otype: list[int] = []
    size: list[float] = []
    items: list[float] = []
    change: list[float] = []
    for line, row in rows:
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
                    f"unknown object type {t[:40]!r}; allowed: {', '.join(d.OBJECT_TYPES)}",
                )
            )
            continue
        try:
            s = parse_size((row.get("size") or "").strip())
        except UnitError as exc:
            problems.append(Problem(file, line, None, "size", str(exc)))
            continue
        if s > MAX_OBJECT_BYTES:
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    "size",
                    f"{row.get('size')!r} is beyond the largest object accepted "
                    f"({MAX_OBJECT_BYTES:.0e} bytes = 1 PB)",
                )
            )
            continue
        raw_items = (row.get("items") or "").strip()
        if not _DIGITS.match(raw_items) or len(raw_items) > 13 or int(raw_items) > MAX_ITEMS:
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    "items",
                    f"{raw_items[:40]!r} is not a whole number of items (0 to {MAX_ITEMS:,})",
                )
            )
            continue
        raw_change = (row.get("daily_change") or "").strip()
        if raw_change:
            fc = _finite(raw_change)
            c = -1.0 if fc is None else fc
            if not 0.0 <= c <= 1.0:
                problems.append(
                    Problem(
                        file,
                        line,
                        None,
                        "daily_change",
                        f"{raw_change[:40]!r} is not a fraction between 0 and 1",
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
