"""``poolsim bench calibration``'s output: the Rich table, the details on stderr, the JSON and
markdown files (the command in ``sim/cli.py`` stays a thin caller of this module)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.bench.calibration import Outcome, _num, as_json, counts, exit_status

if TYPE_CHECKING:
    from rich.console import Console

STYLE = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "error": "[bold red]ERROR[/]"}


def write_outputs(
    outcomes: Sequence[Outcome],
    json_out: Path | None,
    markdown_out: Path | None,
    as_markdown: bool,
) -> int:
    """Write the JSON (``-``: stdout) and the markdown (``as_markdown``; to ``markdown_out`` or
    stdout); return the exit status of the outcomes. An unwritable file raises ``OSError``."""
    from sim.atomic import atomic_write_text

    if json_out is not None:
        text = json.dumps(as_json(outcomes), indent=2) + "\n"
        if json_out == Path("-"):
            sys.stdout.write(text)
        else:
            atomic_write_text(json_out, text)
    if as_markdown:
        from sim.bench.calibration.targets import document

        text = document(list(outcomes))  # no wall time: the page is deterministic
        if markdown_out is None:
            sys.stdout.write(text)
        else:
            atomic_write_text(markdown_out, text)
    return exit_status(outcomes)


def render(outcomes: Sequence[Outcome], out: Console, err: Console, table: bool = True) -> None:
    """Each outcome on ``out`` (status, name, measured value, band; quantity; source URL), unless
    ``table`` is False (stdout carries JSON or markdown); then one line per pending, failed or
    broken target and a count on ``err``."""
    from rich.markup import escape

    if table:
        for o in outcomes:
            tg = o.target
            status = STYLE.get(o.status, "[yellow]PENDING[/]")
            measured = "not measured" if o.value is None else f"{_num(o.value)} {tg.unit}"
            out.print(
                f"{status} [bold]{escape(tg.name)}[/]: {escape(measured.strip())}, "
                f"band {escape(tg.band())}",
                highlight=False,
                soft_wrap=True,
            )
            out.print(f"    {escape(tg.quantity)}", highlight=False, soft_wrap=True)
            out.print(f"    source: {escape(tg.source)}", highlight=False, soft_wrap=True)
    for o in outcomes:
        name = escape(o.target.name)
        if o.status == "pending":
            err.print(f"[yellow]PENDING[/] {name}: {escape(o.detail)}", soft_wrap=True)
        elif o.status == "fail":
            err.print(f"[bold red]FAIL[/] {name}: {escape(o.detail)}", soft_wrap=True)
        elif o.status == "error":
            err.print(o.detail, markup=False, highlight=False, soft_wrap=True)
            err.print(
                f"[bold red]ERROR[/] {name}: its measure raised; this is a bug in poolsim, "
                "please report it with the traceback above",
                soft_wrap=True,
            )
    c = counts(outcomes)
    wall = sum(o.wall_s for o in outcomes)
    err.print(
        f"{len(outcomes)} target(s) in {wall:.1f} s: {c['pass']} pass, {c['fail']} fail, "
        f"{c['pending']} pending, {c['error']} error; exit status {exit_status(outcomes)}",
        highlight=False,
        soft_wrap=True,
    )
