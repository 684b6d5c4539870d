"""Cheap SimPy timeouts for the per-task hot path.

``env.timeout(delay, value=v).callbacks.append(cb)`` costs about 1.5 us: the bound-class call,
``Timeout.__init__`` and ``Environment.schedule`` are three Python frames. ``call_later`` builds
the same ``Timeout`` (same attributes, same ``(time, priority, event id, event)`` heap entry, so
the same event order) in one frame, about twice as fast.

``Timer`` is lighter still, for a timer nobody but its own callback ever sees (the fixed-rate
transfer's end, ``World._start``): ``Environment.step`` reads ``callbacks`` and ``_ok`` of what
it pops (and ``_value`` of a failed event), and a ``Timer`` has just those, in slots, with the
same heap entry. A caller pushes it itself: ``heappush(env._queue, (env._now + delay, NORMAL,
next(env._eid), timer))``, exactly what ``call_later`` pushes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL

_new = object.__new__
_Timeout = simpy.Timeout


class Timer:
    """An event-like object that ``Environment.step`` processes like a triggered ``Timeout``:
    it calls ``callbacks`` with the timer (the callback reads ``_value``). Not a
    ``simpy.Event``: nothing may yield it, wait on it or add a callback to it."""

    __slots__ = ("_value", "callbacks")

    _ok = True
    """Always succeeded (what ``step`` checks after the callbacks)."""

    def __init__(self, value: Any, callback: Callable[[Any], None]) -> None:
        self._value = value
        self.callbacks: Sequence[Callable[[Any], None]] | None = [callback]


def call_later(
    env: simpy.Environment,
    delay: float,
    value: Any,
    callback: Callable[[simpy.Event], None],
) -> simpy.Timeout:
    """``env.timeout(delay, value)`` with ``callback`` as its one callback.

    Exactly what ``Timeout.__init__`` does (SimPy 4.1), without its frames: the event is
    scheduled at ``env.now + delay`` with NORMAL priority and the next event id.
    """
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    ev = _new(_Timeout)
    ev.env = env
    ev.callbacks = [callback]
    ev._value = value
    ev._delay = delay
    ev._ok = True
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))
    return ev
