"""``call_later`` builds the same timeout as ``env.timeout`` (same heap entry, same order)."""

from __future__ import annotations

import pytest
import simpy

from sim.model.clock import call_later


def test_call_later_matches_env_timeout() -> None:
    seen: list[tuple[float, object]] = []

    def record(event: simpy.Event) -> None:
        seen.append((event.env.now, event.value))

    env_a, env_b = simpy.Environment(), simpy.Environment()
    for env, fast in ((env_a, False), (env_b, True)):
        env.run(until=1.0)
        for k, delay in enumerate((0.5, 0.0, 0.5, 2.25)):
            if fast:
                ev = call_later(env, delay, k, record)
            else:
                ev = env.timeout(delay, value=k)
                ev.callbacks.append(record)
            assert isinstance(ev, simpy.Timeout) and ev.triggered and ev.ok
    assert [(t, p, e) for t, p, e, _ in sorted(env_a._queue)] == [
        (t, p, e) for t, p, e, _ in sorted(env_b._queue)
    ]
    env_a.run()
    a = list(seen)
    seen.clear()
    env_b.run()
    assert seen == a == [(1.0, 1), (1.5, 0), (1.5, 2), (3.25, 3)]


def test_call_later_refuses_negative_delay() -> None:
    with pytest.raises(ValueError, match="Negative delay"):
        call_later(simpy.Environment(), -1.0, None, lambda _e: None)
