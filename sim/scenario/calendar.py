"""Calendar: job start times, the 7x24 allowed-hours grid (vb365 fact 35) and timeline times.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.defaults import DAY_S, HOUR_S
from sim.scenario.schema import WEEKDAYS, Scenario, ScheduleSpec

if TYPE_CHECKING:
    import numpy as np  # imported where a grid is built: validating a scenario stays numpy-free

_ENTRY = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2})\s*-\s*(\d{1,2})\s*$")


def parse_allowed_hours(entries: list[str]) -> np.ndarray:
    """A 168-cell grid (weekday x 24 + hour, Monday 0) from entries like 'mon-fri 20-06'.

    A range whose end is not after its start wraps past midnight into the next day
    ('20-06' on Monday allows Monday 20:00-24:00 and Tuesday 00:00-06:00); '00-24' is all day.
    Raises ValueError naming the bad entry and the allowed form.
    """
    import numpy as np

    grid = np.zeros(168, dtype=bool)
    for entry in entries:
        m = _ENTRY.match(entry.lower())
        if not m:
            raise ValueError(
                f"'{entry}' is not an allowed-hours entry; use 'DAY[-DAY] HH-HH', e.g. "
                "'mon-fri 20-06' or 'sat 00-24'"
            )
        d0, d1, h0, h1 = m.group(1), m.group(2) or m.group(1), int(m.group(3)), int(m.group(4))
        for day in (d0, d1):
            if day not in WEEKDAYS:
                raise ValueError(f"'{day}' in '{entry}' is not a weekday ({', '.join(WEEKDAYS)})")
        if not (0 <= h0 <= 23 and 0 <= h1 <= 24):
            raise ValueError(f"hours in '{entry}' must be 0-23 for the start and 0-24 for the end")
        first, last = WEEKDAYS.index(d0), WEEKDAYS.index(d1)
        days = [(first + k) % 7 for k in range((last - first) % 7 + 1)]
        for day in days:
            if h1 > h0:
                grid[day * 24 + h0 : day * 24 + h1] = True
            else:
                grid[day * 24 + h0 : day * 24 + 24] = True
                nxt = (day + 1) % 7
                grid[nxt * 24 : nxt * 24 + h1] = True
    return grid


def allowed_hours_entries(grid: Sequence[bool]) -> list[str]:
    """Entries that ``parse_allowed_hours`` reads back as exactly ``grid`` (168 cells, Monday
    00:00 first): each run of allowed hours as one entry where it fits in a day or wraps past
    one midnight ('mon 20-06'), longer runs split at midnights, and the same hours on
    consecutive days joined ('mon-fri 20-06'). Empty for a grid that allows nothing."""
    cells = [bool(c) for c in grid]
    if len(cells) != 168:
        raise ValueError(f"an allowed-hours grid has 168 cells (7 x 24), not {len(cells)}")
    if all(cells):
        return ["mon-sun 00-24"]
    if not any(cells):
        return []
    pieces: list[tuple[int, int, int]] = []  # (day, start hour, end hour) as an entry reads
    first = cells.index(False)  # walk from a closed hour: no run is cut at the week's end
    k = 0
    while k < 168:
        if not cells[(first + k) % 168]:
            k += 1
            continue
        n = 0
        while k + n < 168 and cells[(first + k + n) % 168]:
            n += 1
        pos, left = (first + k) % 168, n
        while left > 0:
            day, h0 = divmod(pos, 24)
            if h0 + left <= 24:
                pieces.append((day, h0, h0 + left))
                break
            if h0 > 0 and left <= 24:  # past one midnight: an entry that wraps
                pieces.append((day, h0, h0 + left - 24))
                break
            pieces.append((day, h0, 24))
            pos, left = (pos + 24 - h0) % 168, left - (24 - h0)
        k += n
    by_hours: dict[tuple[int, int], list[int]] = {}
    for day, h0, h1 in pieces:
        by_hours.setdefault((h0, h1), []).append(day)
    out: list[tuple[int, str]] = []
    for (h0, h1), days in by_hours.items():
        days.sort()
        i = 0
        while i < len(days):
            j = i
            while j + 1 < len(days) and days[j + 1] == days[j] + 1:
                j += 1
            span = WEEKDAYS[days[i]] if i == j else f"{WEEKDAYS[days[i]]}-{WEEKDAYS[days[j]]}"
            out.append((days[i] * 24 + h0, f"{span} {h0:02d}-{h1:02d}"))
            i = j + 1
    return [entry for _, entry in sorted(out)]


class Calendar:
    """Maps simulated time to weekday hours, given the weekday of day 1."""

    def __init__(self, start_weekday: str) -> None:
        self.first = WEEKDAYS.index(start_weekday)  # type: ignore[arg-type,unused-ignore]

    def weekday(self, day: int) -> str:
        """Weekday name of day ``day`` (0-based)."""
        return WEEKDAYS[(self.first + day) % 7]

    def cell(self, t: float) -> int:
        """Grid cell (weekday x 24 + hour) of time ``t``."""
        hour = int(t // HOUR_S)
        return ((self.first * 24) + hour) % 168

    def next_allowed(self, grid: np.ndarray, t: float) -> float | None:
        """The earliest time >= t inside an allowed hour, or None if the grid allows nothing."""
        if grid[self.cell(t)]:
            return t
        base = math.floor(t / HOUR_S)
        for k in range(1, 169):
            if grid[self.cell((base + k) * HOUR_S)]:
                return (base + k) * HOUR_S
        return None

    def block_end(self, grid: np.ndarray, t: float) -> float:
        """When the allowed block containing ``t`` ends (inf if every hour is allowed)."""
        base = math.floor(t / HOUR_S)
        for k in range(1, 169):
            if not grid[self.cell((base + k) * HOUR_S)]:
                return (base + k) * HOUR_S
        return math.inf


def start_times(spec: ScheduleSpec, days: int, cal: Calendar) -> list[float]:
    """Scheduled start times of a job over ``days`` days (sorted; before allowed-hours shifts)."""
    horizon = days * DAY_S
    if spec.daily is not None:
        wanted = set(spec.days) if spec.days is not None else set(WEEKDAYS)
        return [day * DAY_S + spec.daily for day in range(days) if cal.weekday(day) in wanted]
    if spec.periodic is not None:
        out = []
        t = spec.offset
        while t < horizon:
            out.append(t)
            t += spec.periodic
        return out
    if spec.once is not None:
        t = (spec.on_day - 1) * DAY_S + spec.once
        return [t] if t < horizon else []
    return []


def timeline_times(spec: Scenario) -> list[float]:
    """Absolute time of each timeline event (NaN where it cannot be placed; see problems)."""
    cal = Calendar(spec.simulation.start_weekday)
    jobs = {j.name: j for j in spec.jobs}
    out = []
    for ev in spec.timeline:
        if ev.at is not None:
            out.append((ev.day - 1) * DAY_S + ev.at)
        elif ev.offset is not None and ev.job in jobs:
            starts = start_times(jobs[ev.job].schedule, spec.simulation.days, cal)
            n = ev.session - 1
            out.append(starts[n] + ev.offset if n < len(starts) else math.nan)
        else:
            out.append(math.nan)
    return out
