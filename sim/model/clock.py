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
from heapq import heappop, heappush
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


def call_timer(
    env: simpy.Environment,
    delay: float,
    value: Any,
    callbacks: Sequence[Callable[[Any], None]],
) -> Timer:
    """``call_later`` with a ``Timer``: the same heap entry, no ``Timeout`` (for a timer that
    only its callbacks see). ``callbacks`` may be one tuple shared by many timers: ``step``
    only iterates it."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    ev = _new(Timer)
    ev._value = value
    ev.callbacks = callbacks
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))  # type: ignore[misc]
    return ev


def run_until(env: simpy.Environment, until: simpy.Event) -> None:
    """``env.run(until=until)`` with ``Environment.step`` inlined (SimPy 4.1): the same events
    in the same order, each popped, its callbacks called, a failed event nobody defused
    raised; it returns once ``until`` has been processed (all of its callbacks called).

    Raises ``RuntimeError`` like ``env.run`` when the events run out before ``until``.
    """
    queue = env._queue
    while until.callbacks is not None:
        if not queue:
            raise RuntimeError(
                f'No scheduled events left but "until" event was not triggered: {until}'
            )
        env._now, _, _, event = heappop(queue)
        callbacks: Sequence[Callable[[Any], None]] = event.callbacks
        event.callbacks = None  # type: ignore[assignment]  # what step does: processed
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
