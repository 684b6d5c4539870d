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


def test_call_timer_and_run_until_match_call_later_and_env_run() -> None:
    from sim.model.clock import call_timer, run_until

    def order(fast: bool) -> tuple[list[tuple[float, object]], float]:
        env = simpy.Environment()
        seen: list[tuple[float, object]] = []

        def record(event: object) -> None:
            seen.append((env.now, event._value))  # type: ignore[attr-defined]

        until = env.timeout(1.5)
        for k, delay in enumerate((0.5, 1.5, 0.0, 1.5, 2.0)):
            if fast and k % 2:
                call_timer(env, delay, k, (record,))
            else:
                call_later(env, delay, k, record)
        if fast:
            run_until(env, until)
        else:
            env.run(until=until)
        return seen, env.now

    # `until` was scheduled first: the run ends before the other events at 1.5
    assert order(True) == order(False) == ([(0.0, 2), (0.5, 0)], 1.5)


def test_run_until_refuses_an_event_that_never_comes() -> None:
    from sim.model.clock import call_timer, run_until

    env = simpy.Environment()
    call_timer(env, 1.0, None, (lambda _e: None,))
    with pytest.raises(RuntimeError, match="No scheduled events left"):
        run_until(env, env.event())
    with pytest.raises(ValueError, match="Negative delay"):
        call_timer(env, -1.0, None, ())
