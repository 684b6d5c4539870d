"""The calibration suite: quantities poolsim measures that must lie in a band a public source gives.

A ``Target`` names the quantity, its band (inclusive; ``None`` is unbounded on that side), its
unit, the public URL whose statement gives the band, and a ``measure`` function that runs what it
needs with fixed seeds and returns the value. A target whose feature is not built yet carries a
``pending`` reason: it is reported as PENDING (measured only on request, ``measure_pending``),
never as a pass, and never gates. The targets are ``TARGETS`` in ``targets.py`` (other topics add
``targets_<topic>.py`` modules whose lists ``targets.py`` joins).

``run`` measures a list of targets and judges each: ``pass`` (in band), ``fail`` (out of band, or
not a number), ``pending``, or ``error`` (a non-pending measure raised: a bug). ``exit_status``
maps outcomes to the command's status: 1 when a measure raised (a bug, as everywhere in poolsim),
else ``EXIT_OUT_OF_BAND`` (5) when a non-pending target is out of band, else 0. ``as_json`` and
``markdown`` render the outcomes (``docs/calibration.md`` is ``markdown``'s output).
"""

from __future__ import annotations

import ast
import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_OUT_OF_BAND",
    "CalibrationError",
    "Inferred",
    "Outcome",
    "Target",
    "as_json",
    "exit_status",
    "inferred_defaults",
    "judge",
    "markdown",
    "run",
    "select",
]

EXIT_OUT_OF_BAND = 5
"""Exit status of ``poolsim bench calibration`` when a non-pending target is out of band (the
README's exit-status table; 1 stays reserved for bugs)."""

EXIT_BUG = 1
"""Exit status when a non-pending target's measure raised (a bug in poolsim)."""

STATUSES = ("pass", "fail", "pending", "error")


class CalibrationError(ValueError):
    """Bad input to the suite (an unknown ``--only`` name): the CLI exits 2 with its message."""


@dataclass(frozen=True)
class Target:
    """One calibration target (the interface other topics' ``targets_<topic>.py`` code against)."""

    name: str
    """Dotted name, e.g. ``maintenance.resume_delay_max_s``."""
    quantity: str
    """One line a planner reads: what is measured, on which scenario."""
    low: float | None
    """Band, inclusive; None = unbounded on that side."""
    high: float | None
    unit: str
    """``s``, ``objects``, ``fraction``, ..."""
    source: str
    """The public URL whose statement gives the band."""
    measure: Callable[[], float]
    """Runs what it needs (fixed seeds) and returns the value; its docstring reasons the band."""
    pending: str | None = None
    """Why it cannot be measured yet (e.g. "CPU cost not modelled yet");
    reported, never gates."""

    def band(self) -> str:
        """The band as text: ``[20,000, 40,000] objects``, ``<= 600 s``, ``>= 1 objects``."""
        if self.low is not None and self.high is not None:
            text = f"[{_num(self.low)}, {_num(self.high)}]"
        elif self.low is not None:
            text = f">= {_num(self.low)}"
        elif self.high is not None:
            text = f"<= {_num(self.high)}"
        else:
            text = "any value"
        return f"{text} {self.unit}".strip()


@dataclass(frozen=True)
class Outcome:
    """One target's result."""

    target: Target
    status: str
    """``pass``, ``fail``, ``pending`` or ``error``."""
    value: float | None
    """The measured value (None when not measured: pending, or the measure raised)."""
    wall_s: float
    detail: str = ""
    """The pending reason, why a value fails, or the traceback of a measure that raised."""


def _num(x: float) -> str:
    """A band edge or value, readable: 20,000 / 0.002 / 6.76."""
    if math.isnan(x):
        return "nan"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def judge(target: Target, value: float) -> str:
    """``pass`` when ``value`` lies in the target's band (inclusive), else ``fail``; a value that
    is not a finite number (NaN: nothing to measure) fails."""
    if not isinstance(value, int | float) or math.isnan(value):
        return "fail"
    if target.low is not None and value < target.low:
        return "fail"
    if target.high is not None and value > target.high:
        return "fail"
    return "pass"


def select(targets: Sequence[Target], only: Sequence[str]) -> list[Target]:
    """The targets named in ``only`` (all when empty), in registration order; an unknown name is a
    ``CalibrationError`` listing the known ones."""
    if not only:
        return list(targets)
    known = [t.name for t in targets]
    for name in only:
        if name not in known:
            raise CalibrationError(
                f"--only {name!r}: no such calibration target; known targets: {', '.join(known)}"
            )
    return [t for t in targets if t.name in set(only)]


def run_one(target: Target, measure_pending: bool = False) -> Outcome:
    """Measure and judge one target. A pending target is measured only with ``measure_pending``
    and stays ``pending`` whatever its value (a measure that raises then is noted, not an
    error: the metric it reads may not exist yet)."""
    t0 = time.perf_counter()
    if target.pending is not None:
        if not measure_pending:
            return Outcome(target, "pending", None, 0.0, target.pending)
        try:
            value = float(target.measure())
        except Exception as exc:  # the feature it waits for is not there: expected
            wall = time.perf_counter() - t0
            return Outcome(
                target,
                "pending",
                None,
                wall,
                f"{target.pending} (measure failed today: {type(exc).__name__}: {exc})",
            )
        verdict = judge(target, value)
        note = "in band today" if verdict == "pass" else "out of band today"
        return Outcome(
            target, "pending", value, time.perf_counter() - t0, f"{target.pending} ({note})"
        )
    try:
        value = float(target.measure())
    except Exception:
        return Outcome(target, "error", None, time.perf_counter() - t0, traceback.format_exc())
    wall = time.perf_counter() - t0
    verdict = judge(target, value)
    detail = "" if verdict == "pass" else f"{_num(value)} {target.unit} is outside {target.band()}"
    return Outcome(target, verdict, value, wall, detail)


def run(
    targets: Sequence[Target],
    *,
    measure_pending: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Measure and judge every target in order; ``progress`` gets one line before and one after
    each target."""
    outcomes = []
    n = len(targets)
    for i, target in enumerate(targets, 1):
        measuring = target.pending is None or measure_pending
        if progress is not None and measuring:
            progress(f"[{i}/{n}] {target.name}: measuring ...")
        outcome = run_one(target, measure_pending)
        if progress is not None:
            value = "" if outcome.value is None else f" {_num(outcome.value)} {target.unit}"
            took = f" ({outcome.wall_s:.1f} s)" if measuring else ""
            progress(f"[{i}/{n}] {target.name}: {outcome.status.upper()}{value}{took}")
        outcomes.append(outcome)
    return outcomes


def exit_status(outcomes: Sequence[Outcome]) -> int:
    """1 when a measure raised (a bug), else 5 when a non-pending target is out of band, else 0."""
    statuses = {o.status for o in outcomes}
    if "error" in statuses:
        return EXIT_BUG
    if "fail" in statuses:
        return EXIT_OUT_OF_BAND
    return 0


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """How many outcomes have each status (every status present, 0 when none)."""
    return {s: sum(o.status == s for o in outcomes) for s in STATUSES}


def as_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The outcomes as a JSON-ready dict: ``targets`` (one dict per target), ``counts``,
    ``exit_status``, ``wall_s``."""
    rows = []
    for o in outcomes:
        t = o.target
        value = None if o.value is None or math.isnan(o.value) else o.value
        rows.append(
            {
                "name": t.name,
                "quantity": t.quantity,
                "low": t.low,
                "high": t.high,
                "unit": t.unit,
                "source": t.source,
                "value": value,
                "status": o.status,
                "pending": t.pending,
                "detail": o.detail,
                "wall_s": round(o.wall_s, 3),
            }
        )
    return {
        "targets": rows,
        "counts": counts(outcomes),
        "exit_status": exit_status(outcomes),
        "wall_s": round(sum(o.wall_s for o in outcomes), 3),
    }


# -- INFERRED defaults -----------------------------------------------------------------------


@dataclass(frozen=True)
class Inferred:
    """One group of defaults of ``sim/defaults.py`` whose docstring says INFERRED."""

    names: tuple[str, ...]
    """The names the docstring documents (consecutive assignments share the next docstring)."""
    doc: str


def inferred_defaults(path: Path | None = None) -> list[Inferred]:
    """Every default of ``sim/defaults.py`` (or ``path``) whose docstring contains INFERRED, in
    file order. A docstring documents the assignments since the previous docstring."""
    if path is None:
        from sim import defaults

        path = Path(defaults.__file__)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Inferred] = []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for tgt in targets:
                elts = tgt.elts if isinstance(tgt, ast.Tuple) else [tgt]
                names.extend(e.id for e in elts if isinstance(e, ast.Name))
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            doc = " ".join(node.value.value.split())
            if names and "INFERRED" in doc:
                found.append(Inferred(tuple(names), doc))
            names = []
    return found


# -- markdown --------------------------------------------------------------------------------

STATUS_LABEL = {"pass": "pass", "fail": "**FAIL**", "pending": "PENDING", "error": "**ERROR**"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(doc: str) -> str:
    """A docstring as Markdown: paragraphs joined into lines, ``code`` as `code`, each "fact N"
    linked to its public source."""
    from sim.sources import link_facts

    paragraphs = [" ".join(p.split()) for p in doc.strip().split("\n\n") if p.strip()]
    return link_facts("\n\n".join(paragraphs).replace("``", "`"))


def _measure_doc(target: Target) -> str:
    return _prose(target.measure.__doc__ or "")


def markdown(
    outcomes: Sequence[Outcome],
    inferred: Sequence[Inferred] = (),
    checks: dict[str, tuple[tuple[str, ...], str]] | None = None,
    intro: str = "",
    notes: str = "",
    wall_s: float | None = None,
) -> str:
    """The calibration document: the targets table, each target's reasoning (its measure's
    docstring), the INFERRED defaults with the target that checks each, then ``notes``.

    ``checks`` maps a default's name to (target names, note); a default without an entry has "no
    published evidence to check against"."""
    checks = checks or {}
    lines = [
        "# Calibration: poolsim against published figures",
        "",
        "<!-- Generated by `make calibration` (poolsim bench calibration --measure-pending "
        "--markdown -o docs/calibration.md) from sim/bench/calibration/; do not edit by hand. -->",
        "",
    ]
    if intro:
        lines += [intro.strip(), ""]
    c = counts(outcomes)
    took = f" in {wall_s:.0f} s of wall time" if wall_s is not None else ""
    lines += [
        f"{len(outcomes)} targets{took}: {c['pass']} pass, {c['fail']} fail, "
        f"{c['pending']} pending, {c['error']} error. A PENDING target waits for the feature "
        "named; its figure (when shown) is today's measurement, for information: it does not "
        "gate.",
        "",
        "| target | quantity | band | measured | status | source |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        t = o.target
        value = "-" if o.value is None else f"{_num(o.value)} {t.unit}".strip()
        lines.append(
            f"| `{t.name}` | {_cell(t.quantity)} | {_cell(t.band())} | {_cell(value)} | "
            f"{STATUS_LABEL[o.status]} | <{t.source}> |"
        )
    lines += ["", "## The targets", ""]
    for o in outcomes:
        t = o.target
        lines += [f"### `{t.name}`", "", f"{t.quantity}", ""]
        lines.append(f"- Band: {t.band()}, from <{t.source}>")
        if o.value is not None:
            lines.append(f"- Measured: {_num(o.value)} {t.unit}".rstrip())
        status = STATUS_LABEL[o.status]
        if o.status in ("pending", "fail"):
            status += f": {o.detail}"
        elif o.status == "error":
            status += ": the measure raised (see `poolsim bench calibration --only " + t.name + "`)"
        lines += [f"- Status: {status}", ""]
        doc = _measure_doc(t)
        if doc:
            lines += [doc, ""]
    if inferred:
        lines += [
            "## INFERRED defaults and what checks them",
            "",
            "Every default of `sim/defaults.py` that no public source states is labelled "
            "INFERRED and is a scenario parameter. This table lists each with the calibration "
            "target that checks it against published evidence, or says that there is none.",
            "",
            "| default | what it is | checked by |",
            "|---|---|---|",
        ]
        for inf in inferred:
            names = ", ".join(f"`{n}`" for n in inf.names)
            first = _prose(inf.doc)
            by: list[str] = []
            note = ""
            for n in inf.names:
                if n in checks:
                    tnames, note = checks[n]
                    by += [f"`{x}`" for x in tnames if f"`{x}`" not in by]
            checked = ", ".join(by) if by else "no published evidence to check against"
            if note:
                checked += f" ({note})"
            lines.append(f"| {names} | {_cell(first)} | {_cell(checked)} |")
        lines.append("")
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)
