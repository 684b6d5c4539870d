"""Cheap SimPy timeouts for the per-task hot path.

``env.timeout(delay, value=v).callbacks.append(cb)`` costs about 1.5 us: the bound-class call,
``Timeout.__init__`` and ``Environment.schedule`` are three Python frames. ``call_later`` builds
the same ``Timeout`` (same attributes, same ``(time, priority, event id, event)`` heap entry, so
the same event order) in one frame, about twice as fast.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL

_new = object.__new__
_Timeout = simpy.Timeout


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
