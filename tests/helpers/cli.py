"""The CLI run in-process, as the tests see it."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

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
