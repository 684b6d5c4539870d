"""Start-up of the command line: only the command that runs is built, the garbage collector is
held off while the command line starts, pydantic's plug-in discovery is off for poolsim's own
models, and the console script ends its process as a normal exit would, less the teardown
(docs/performance.md, "Start-up"). No timing here: `poolsim bench speed --only startup` times it.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_main
from typer.testing import CliRunner

from sim import cli

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
_runner = CliRunner()


def _names(app: Any) -> list[str]:
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    return sorted(commands + [g.name for g in app.registered_groups])


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--help"],
        ["validate"],
        ["validate", "--bogus", "x.yaml"],
        ["validate", str(QUICKSTART), "--set", "nope"],
        ["run", "--seed", "-1", str(QUICKSTART)],
        ["import", "--help"],
        ["bench", "--help"],
        ["bench", "speed", "--help"],
        ["bench", "nope"],
    ],
)
def test_a_command_alone_says_what_it_says_in_the_whole_app(args: list[str]) -> None:
    alone = cli._app_for(args)
    assert alone is not cli.app and _names(alone) == [args[0]]
    whole = _runner.invoke(cli.app, args)
    one = _runner.invoke(alone, args)
    assert (one.exit_code, one.output) == (whole.exit_code, whole.output)


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["validat", "x.yaml"], ["-x"]])
def test_no_command_named_first_gets_the_whole_app(args: list[str]) -> None:
    assert cli._app_for(args) is cli.app


def test_validate_runs_without_the_collector_and_main_turns_it_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    check = cli._check_inputs

    def watched(*args: Any, **kwargs: Any) -> object:
        seen.append(gc.isenabled())
        return check(*args, **kwargs)

    monkeypatch.setattr(cli, "_check_inputs", watched)
    assert gc.isenabled()
    assert run_main(monkeypatch, "validate", QUICKSTART) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_other_commands_run_with_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.scenario.reference as reference

    seen: list[bool] = []
    schema = reference.json_schema

    def watched() -> dict[str, Any]:
        seen.append(gc.isenabled())
        return schema()

    monkeypatch.setattr(reference, "json_schema", watched)
    assert run_main(monkeypatch, "schema") == 0
    assert seen == [True]
    assert gc.isenabled()


def test_end_now_leaves_the_exit_to_python_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        cli._end_now(0)  # returns: ending here would cut the thread short (and end pytest)
    finally:
        stop.set()
        thread.join()


def test_end_now_leaves_the_exit_to_python_when_stdout_cannot_be_flushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Broken())
    cli._end_now(0)  # returns: Python's own exit reports the broken pipe


_CONSOLE = """
import atexit, os, sys, threading, time
from pathlib import Path
from sim.cli import console_main

class Witness:
    def __del__(self):
        os.write(2, b"torn down\\n")  # only when the interpreter frees the module's globals

witness = Witness()
marks = Path(sys.argv[1])
atexit.register(lambda: marks.write_text(marks.read_text() + "atexit\\n"))
if sys.argv[3] == "thread":
    def late():
        time.sleep(0.3)
        marks.write_text(marks.read_text() + "thread\\n")
    threading.Thread(target=late).start()
sys.stdout.write("x" * 100_000 + "\\n")  # still in the buffer when the command ends
sys.argv = ["poolsim", "validate", sys.argv[2]]
console_main()
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
@pytest.mark.parametrize(("scenario", "status"), [(QUICKSTART, 0), (Path("nope.yaml"), 2)])
def test_the_console_script_ends_as_a_normal_exit_would(
    tmp_path: Path, thread: str, scenario: Path, status: int
) -> None:
    """Everything printed arrives, the exit handlers run, a running thread is waited for, and
    the status is the command's; the interpreter is torn down only when a thread still ran."""
    marks = tmp_path / "marks"
    marks.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", _CONSOLE, str(marks), str(scenario), thread],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert done.stdout.startswith("x" * 100_000 + "\n")
    assert ("ok " in done.stdout) == (status == 0)
    assert ("file not found" in done.stderr) == (status != 0)
    assert "Traceback" not in done.stderr
    expected = ["thread", "atexit"] if thread == "thread" else ["atexit"]
    assert marks.read_text().split() == expected
    assert ("torn down" in done.stderr) == (thread == "thread")


_DISCOVERY = """
import importlib.metadata, os, sys
import pydantic.plugin._loader as loader

scans = []
real = importlib.metadata.entry_points

def entry_points(**kwargs):
    scans.append(kwargs.get("group"))
    return real(**kwargs)

loader.entry_points = entry_points
from sim.cli import main
sys.argv = ["poolsim", "validate", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    assert exc.code in (None, 0), exc.code
assert "pydantic" not in scans, scans
assert "PYDANTIC_DISABLE_PLUGINS" not in os.environ
from pydantic import BaseModel

class Later(BaseModel):
    x: int = 0

Later()
assert scans == ["pydantic"], scans
print("checked")
"""


def test_validate_builds_poolsim_models_without_plugin_discovery() -> None:
    """The scenario's models (their deferred validators, the default sections made by calling
    the class) and the built-in policies' params are built with pydantic's plug-in discovery
    off; a model built later (a user's) still gets it."""
    done = subprocess.run(
        [sys.executable, "-c", _DISCOVERY, str(QUICKSTART)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked")


def test_every_model_a_validation_builds_alone_is_found() -> None:
    from sim.scenario.schema import (
        CalibrationSpec,
        LifecycleSpec,
        Scenario,
        SimulationSpec,
        SizeDistribution,
    )

    found = cli._built_by_validation(Scenario)
    assert found[0] is Scenario
    assert {CalibrationSpec, LifecycleSpec, SimulationSpec, SizeDistribution} <= set(found)
