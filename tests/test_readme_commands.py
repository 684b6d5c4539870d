"""README's commands run as printed: every line of 'Using it' names a command and options the
CLI has and files that exist (or that an earlier line writes), and the estate's import,
history and validate lines run as printed (the slow ones are checked by their parse only)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import invoke
from typer.main import get_command

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
SHARED = ("scenarios", "examples", "benchmarks")


def using_it() -> list[list[str]]:
    """The poolsim command lines of README's 'Using it' block, as argument lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Using it", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [ln.split("  #", 1)[0].strip() for ln in block.splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith(".venv/bin/poolsim ")]


def parse(args: list[str]) -> Any:
    """Parse args as the CLI would (options, choices, required values) without running: the
    context of the innermost command."""
    command: Any = get_command(app)
    ctx = command.make_context("poolsim", list(args))
    while hasattr(command, "resolve_command"):  # a group: on to its subcommand
        rest = [*(getattr(ctx, "_protected_args", None) or ctx.protected_args or []), *ctx.args]
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command, ctx = sub, sub.make_context(name, rest, parent=ctx)
    assert ctx.command.callback is not None
    return ctx


def test_using_it_lines_parse_and_name_existing_files() -> None:
    lines = using_it()
    assert len(lines) >= 10
    written: set[str] = set()
    for args in lines:
        ctx = parse(args)
        assert ctx.info_name == args[1 if args[0] == "bench" else 0]
        for name, value in ctx.params.items():
            if not isinstance(value, Path) or name in ("output", "results", "out_dir"):
                continue
            assert str(value) in written or (ROOT / value).exists(), (args, name, value)
        for flag in ("-o", "--output"):
            if flag in args:
                written.add(args[args.index(flag) + 1])


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder that sees the repository's scenarios and examples, as README's reader
    does from the repository's root; what the commands write stays in tmp_path."""
    for name in SHARED:
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_estate_lines_run_as_printed(checkout: Path) -> None:
    """validate, import then history, exactly as printed (history found no observed night in
    the imported scenario's days before its import line gave --start and --days, and its
    --sessions file was not where it said)."""
    lines = {args[0]: args for args in using_it()}
    for command in ("validate", "import", "history", "policies"):
        code, text = invoke(*lines[command])
        assert code == 0, (lines[command], text)
    written = Path(lines["import"][lines["import"].index("-o") + 1])
    assert (checkout / written).is_file()
    assert len(list((checkout / "results" / written.stem).glob("history-*"))) == 1
