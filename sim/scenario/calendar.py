"""Calendar: job start times, the 7x24 allowed-hours grid (vb365 fact 35) and timeline times."""

from __future__ import annotations

import math
import re

import numpy as np

from sim.scenario.schema import WEEKDAYS, Scenario, ScheduleSpec

DAY_S = 86_400.0
HOUR_S = 3_600.0
_ENTRY = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2})\s*-\s*(\d{1,2})\s*$")


def parse_allowed_hours(entries: list[str]) -> np.ndarray:
    """A 168-cell grid (weekday x 24 + hour, Monday 0) from entries like 'mon-fri 20-06'.

    A range whose end is not after its start wraps past midnight into the next day
    ('20-06' on Monday allows Monday 20:00-24:00 and Tuesday 00:00-06:00); '00-24' is all day.
    Raises ValueError naming the bad entry and the allowed form.
    """
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
