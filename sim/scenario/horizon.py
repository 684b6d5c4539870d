"""Checks against the simulation horizon: durations that cannot fit in a run, timeline events
that can never happen, and events after every session they could disturb (warnings).

The simulation horizon is the simulated days plus ``defaults.HORIZON_MARGIN_DAYS``.
"""

from __future__ import annotations

import math

from pydantic import BaseModel

from sim import defaults as d
from sim.defaults import DAY_S
from sim.scenario.calendar import Calendar, start_times, timeline_times
from sim.scenario.schema import Scenario, unit_kind
from sim.units import format_duration

Loc = tuple[str | int, ...]


def horizon_s(spec: Scenario) -> float:
    """The simulation horizon in seconds: simulated days plus the safety margin."""
    return (spec.simulation.days + d.HORIZON_MARGIN_DAYS) * DAY_S


def _durations(model: BaseModel, loc: Loc) -> list[tuple[Loc, float]]:
    out: list[tuple[Loc, float]] = []
    for name, info in type(model).model_fields.items():
        if not loc and name == "failures":
            continue  # an MTBF longer than the run is meaningful: few or no failures in it
        value = getattr(model, name)
        here = (*loc, name)
        if unit_kind(info) == "duration":
            if isinstance(value, float):
                out.append((here, value))
            elif isinstance(value, dict):
                out += [((*here, k), v) for k, v in value.items() if isinstance(v, float)]
            continue
        if isinstance(value, BaseModel):
            out += _durations(value, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out += _durations(item, (*here, i))
        elif isinstance(value, dict):
            for k, item in value.items():
                if isinstance(item, BaseModel):
                    out += _durations(item, (*here, k))
    return out


def horizon_problems(spec: Scenario) -> list[tuple[Loc, str]]:
    """Durations longer than the horizon and timeline events after it (errors)."""
    h = horizon_s(spec)
    days = spec.simulation.days
    limit = (
        f"at most the simulation horizon, {format_duration(h)} ({days} simulated day(s) + "
        f"{d.HORIZON_MARGIN_DAYS}-day safety margin)"
    )
    out: list[tuple[Loc, str]] = []
    for loc, value in _durations(spec, ()):
        if value > h:
            out.append((loc, f"{format_duration(value)} is too long; allowed: {limit}"))
    for i, ev in enumerate(spec.timeline):
        if ev.at is not None and ev.day > days + d.HORIZON_MARGIN_DAYS:
            out.append(
                (("timeline", i, "day"), f"day {ev.day} is after the horizon; allowed: {limit}")
            )
    if out:
        return out
    for i, t in enumerate(timeline_times(spec)):
        if not math.isnan(t) and t >= h:
            out.append(
                (
                    ("timeline", i),
                    f"the event is at {format_duration(t)}, after the horizon, so it would never "
                    f"happen; allowed: {limit}",
                )
            )
    return out


def _covered_until(spec: Scenario) -> tuple[float, float]:
    """(the last scheduled session start, the time until which a session may still run
    without overrunning its schedule): each job's last session runs, at most, until the job's
    next scheduled start after the run (a nightly full from 22:00 on the last day still runs
    at 01:00), or until its window ends when ``terminate_on_window`` stops it; a ``once``
    schedule has no next start and counts one day."""
    cal = Calendar(spec.simulation.start_weekday)
    days = spec.simulation.days
    last = until = -math.inf
    for j in spec.jobs:
        s = j.schedule
        if s.after_source:
            continue
        starts = start_times(s, days, cal)
        if not starts:
            continue
        later = [t for t in start_times(s, days + 8, cal) if t > starts[-1]]
        end = later[0] if later else starts[-1] + DAY_S
        if s.terminate_on_window and s.window is not None:
            end = min(end, starts[-1] + s.window)
        last = max(last, starts[-1])
        until = max(until, end)
    return last, until


def horizon_warnings(spec: Scenario) -> list[tuple[Loc, str]]:
    """Timeline events inside the horizon but after every scheduled session could still be
    running (``_covered_until``): they can only disturb a session that overran its schedule
    (an error under --strict)."""
    if spec.synthetic is not None or not spec.timeline:
        return []
    last, until = _covered_until(spec)
    out: list[tuple[Loc, str]] = []
    for i, t in enumerate(timeline_times(spec)):
        if not math.isnan(t) and t > until:
            when = (
                "no session is scheduled"
                if last == -math.inf
                else (
                    f"the last scheduled session starts at {format_duration(last)} and its "
                    f"schedule's next start (or window end) is at {format_duration(until)}"
                )
            )
            out.append(
                (
                    ("timeline", i),
                    f"the event is at {format_duration(t)} but {when}: it can only disturb a "
                    "session that overran (an error under --strict)",
                )
            )
    return out
