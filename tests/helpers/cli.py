"""The CLI run in-process, as the tests see it."""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import cli
from sim.cli import app

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    """Run ``poolsim ARGS`` in-process: the exit code and stdout+stderr without colour codes.
    An exception other than the command's exit is re-raised (a traceback is a bug)."""
    result = _runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, _ANSI.sub("", result.output)


def run_main(
    monkeypatch: pytest.MonkeyPatch,
    *args: str | Path,
    watchdog: Callable[[cli.Interrupted, float], None] | None = None,
) -> int:
    """Run ``poolsim ARGS`` through ``sim.cli.main`` in-process (its signal handlers and its
    handling of ``Interrupted``), with no signal seen yet, and pytest's handlers restored after;
    the exit status. The signal watchdog is ``watchdog`` (default: none, as the real one would
    end pytest itself)."""
    monkeypatch.setattr(cli, "_SIGNALLED", [])
    monkeypatch.setattr(cli, "_watchdog", watchdog or (lambda exc, grace: None))
    monkeypatch.setattr(sys, "argv", ["poolsim", *map(str, args)])
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as stop:
            cli.main()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    code = stop.value.code
    assert isinstance(code, int)
    return code
