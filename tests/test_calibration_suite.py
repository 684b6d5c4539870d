"""The calibration suite's runner, exit statuses, JSON, markdown and docs.

Runner tests use hand-made targets (no simulation); the registered targets are checked for
their shape and for docs/calibration.md listing exactly them.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.bench.calibration.targets as registered
from sim import cli
from sim.bench.calibration import (
    EXIT_OUT_OF_BAND,
    CalibrationError,
    Target,
    as_json,
    exit_status,
    inferred_defaults,
    judge,
    markdown,
    run,
    select,
)
from sim.bench.calibration.targets import INFERRED_CHECKS, TARGETS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "calibration.md"
URL = "https://example.org/source"
runner = CliRunner()


def target(
    name: str,
    value: float,
    low: float | None = 0.0,
    high: float | None = 1.0,
    pending: str | None = None,
) -> Target:
    def measure() -> float:
        """Hand-made: returns a constant."""
        return value

    return Target(name, f"quantity of {name}", low, high, "fraction", URL, measure, pending)


def raising(name: str, pending: str | None = None) -> Target:
    def measure() -> float:
        raise RuntimeError("boom")

    return Target(name, "q", 0.0, 1.0, "s", URL, measure, pending)


# -- judging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "low", "high", "verdict"),
    [
        (0.5, 0.0, 1.0, "pass"),
        (0.0, 0.0, 1.0, "pass"),  # inclusive
        (1.0, 0.0, 1.0, "pass"),
        (-1e-9, 0.0, 1.0, "fail"),
        (1.0 + 1e-9, 0.0, 1.0, "fail"),
        (1e12, 1.0, None, "pass"),  # unbounded above
        (0.999, 1.0, None, "fail"),
        (-1e12, None, 600.0, "pass"),  # unbounded below
        (600.5, None, 600.0, "fail"),
        (math.nan, None, None, "fail"),  # nothing measured is never a pass
        (math.nan, 0.0, 1.0, "fail"),
    ],
)
def test_judge(value: float, low: float | None, high: float | None, verdict: str) -> None:
    assert judge(target("t", value, low, high), value) == verdict


def test_band_text() -> None:
    assert target("t", 0, 20_000, 40_000).band() == "[20,000, 40,000] fraction"
    assert target("t", 0, None, 600).band() == "<= 600 fraction"
    assert target("t", 0, 1, None).band() == ">= 1 fraction"
    assert target("t", 0, 0.002, 0.05).band() == "[0.002, 0.05] fraction"


# -- running ---------------------------------------------------------------------------------


def test_pass_fail_pending_error() -> None:
    outcomes = run(
        [
            target("in", 0.5),
            target("out", 1.5),
            raising("waits", pending="not built yet"),
            raising("broken"),
        ]
    )
    assert [o.status for o in outcomes] == ["pass", "fail", "pending", "error"]
    assert outcomes[0].value == 0.5 and outcomes[0].detail == ""
    assert outcomes[1].value == 1.5 and "outside [0, 1]" in outcomes[1].detail
    # pending: not measured (its measure would raise), the reason reported
    assert outcomes[2].value is None and outcomes[2].detail == "not built yet"
    assert outcomes[3].value is None and "RuntimeError: boom" in outcomes[3].detail


def test_a_pending_target_never_passes_nor_gates() -> None:
    """Measured on request, a pending target shows its value and stays PENDING, in band or not;
    a pending measure that raises is noted, not an error."""
    outcomes = run(
        [
            target("in", 0.5, pending="item 1"),
            target("out", 7.0, pending="item 3"),
            raising("missing-metric", pending="item 4"),
        ],
        measure_pending=True,
    )
    assert [o.status for o in outcomes] == ["pending"] * 3
    assert [o.value for o in outcomes] == [0.5, 7.0, None]
    assert "in band today" in outcomes[0].detail
    assert "out of band today" in outcomes[1].detail
    assert "measure failed today: RuntimeError: boom" in outcomes[2].detail
    assert exit_status(outcomes) == 0


def test_exit_statuses() -> None:
    ok, bad = target("ok", 0.5), target("bad", 2.0)
    pending_bad = target("p", 2.0, pending="item 3")
    assert exit_status(run([ok])) == 0
    assert exit_status(run([])) == 0
    assert exit_status(run([ok, pending_bad], measure_pending=True)) == 0
    assert exit_status(run([ok, bad])) == EXIT_OUT_OF_BAND == 5
    assert exit_status(run([bad, raising("x")])) == 1  # a bug wins over out of band


def test_progress_lines() -> None:
    lines: list[str] = []
    run([target("a", 0.5), target("b", 0.5, pending="item 3")], progress=lines.append)
    assert lines[0] == "[1/2] a: measuring ..."
    assert lines[1].startswith("[1/2] a: PASS 0.5 fraction (")
    assert lines[2] == "[2/2] b: PENDING"


def test_select() -> None:
    targets = [target("a", 0), target("b", 0), target("c", 0)]
    assert [t.name for t in select(targets, [])] == ["a", "b", "c"]
    assert [t.name for t in select(targets, ["c", "a"])] == ["a", "c"]  # registration order
    with pytest.raises(CalibrationError, match=r"--only 'z'.*known targets: a, b, c"):
        select(targets, ["z"])


def test_json_keys() -> None:
    data = as_json(run([target("a", 0.5), target("b", math.nan), target("c", 1, pending="r")]))
    assert set(data) == {"targets", "counts", "exit_status", "wall_s"}
    keys = {"name", "quantity", "low", "high", "unit", "source", "value", "status", "pending",
            "detail", "wall_s"}  # fmt: skip
    assert all(set(row) == keys for row in data["targets"])
    assert [r["status"] for r in data["targets"]] == ["pass", "fail", "pending"]
    assert data["targets"][1]["value"] is None  # NaN is not valid JSON
    assert data["counts"] == {"pass": 1, "fail": 1, "pending": 1, "error": 0}
    assert data["exit_status"] == 5
    json.dumps(data, allow_nan=False)


# -- markdown and the INFERRED table ---------------------------------------------------------


def test_inferred_defaults_groups_names_under_their_docstring(tmp_path: Path) -> None:
    src = tmp_path / "defaults.py"
    src.write_text(
        '"""module doc, INFERRED nothing."""\n'
        "A = 1\n"
        '"""Sourced (fact 1)."""\n'
        "B = 2\n"
        "C: int = 3\n"
        '"""Both INFERRED."""\n'
        "D = 4\n"
        '"""Partly INFERRED:\n    two lines."""\n'
        "E = 5\n",
        encoding="utf-8",
    )
    found = inferred_defaults(src)
    assert [(f.names, f.doc) for f in found] == [
        (("B", "C"), "Both INFERRED."),
        (("D",), "Partly INFERRED: two lines."),
    ]


def test_markdown() -> None:
    outcomes = run([target("a.in", 0.5), target("b.out", 2.0), target("c.wait", 0, pending="r9")])
    inferred = inferred_defaults()
    checks = {inferred[0].names[0]: (("a.in",), "a note")}
    text = markdown(outcomes, inferred, checks, intro="INTRO TEXT", notes="NOTES TEXT")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `a.in` | quantity of a.in | [0, 1] fraction | 0.5 fraction | pass")
    assert "| **FAIL** |" in rows[1] and f"<{URL}>" in rows[1]
    assert "| - | PENDING |" in rows[2]
    assert "- Status: PENDING: r9" in text
    assert "Hand-made: returns a constant." in text  # the measure's docstring
    assert "INTRO TEXT" in text and text.rstrip().endswith("NOTES TEXT")
    assert "`a.in` (a note)" in text
    for inf in inferred:
        assert f"`{inf.names[0]}`" in text
    assert text.count("no published evidence to check against") == len(inferred) - 1


# -- the registered targets and the generated page -------------------------------------------


def test_registered_targets_are_well_formed() -> None:
    names = [t.name for t in TARGETS]
    assert len(names) == len(set(names))
    for t in TARGETS:
        assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", t.name), t.name
        assert t.source.startswith("https://"), t.name
        assert t.low is not None or t.high is not None, t.name
        assert t.low is None or t.high is None or t.low <= t.high, t.name
        assert t.measure.__doc__, f"{t.name}: its measure's docstring must reason the band"
        assert t.pending is None or t.pending.startswith("issue "), t.name
    # the targets the suite promises are registered
    assert {"inventory.objects_per_1000_users", "sizing.objects_in_8h",
            "maintenance.resume_delay_max_s",
            "throttling.incremental_request_share"} <= set(names)  # fmt: skip


def test_inferred_checks_name_inferred_defaults_and_registered_targets() -> None:
    inferred = {n for inf in inferred_defaults() for n in inf.names}
    names = {t.name for t in TARGETS}
    for default, (tnames, _note) in INFERRED_CHECKS.items():
        assert default in inferred, f"{default} is not an INFERRED default"
        assert set(tnames) <= names, tnames


def test_the_inventory_targets_pass_without_simulating() -> None:
    assert registered.objects_per_1000_users() == 2590
    assert registered.objects_per_50000_users() == 129_500
    assert 5 <= registered.gb_per_user() <= 10


def test_docs_list_exactly_the_registered_targets() -> None:
    """docs/calibration.md is `make calibration`'s output: regenerate it when targets change."""
    text = DOC.read_text(encoding="utf-8")
    summary = text.split("## The targets")[0]
    in_table = re.findall(r"^\| `([^`]+)` \|", summary, flags=re.M)
    headings = re.findall(r"^### `([^`]+)`", text, flags=re.M)
    assert in_table == headings == [t.name for t in TARGETS]
    inferred_part = text.split("## INFERRED defaults")[1]
    for inf in inferred_defaults():
        for name in inf.names:
            assert f"`{name}`" in inferred_part, f"{name}: run `make calibration`"


# -- the command -----------------------------------------------------------------------------


def invoke(monkeypatch: pytest.MonkeyPatch, targets: list[Target], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(registered, "TARGETS", targets)
    r = runner.invoke(cli.app, ["bench", "calibration", *args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


def test_command_exit_statuses(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, bad = target("t.ok", 0.5), target("t.bad", 3.0)
    wait = raising("t.wait", pending="to be built")
    code, out = invoke(monkeypatch, [ok, wait])
    assert code == 0, out
    assert "t.ok" in out and URL in out and "PENDING" in out and "to be built" in out
    code, out = invoke(monkeypatch, [ok, bad, wait])
    assert code == 5 and "FAIL t.bad: 3 fraction is outside [0, 1] fraction" in out
    code, out = invoke(monkeypatch, [ok, raising("t.broken")])
    assert code == 1 and "RuntimeError: boom" in out
    code, out = invoke(monkeypatch, [ok], "--only", "t.nope")
    assert code == 2 and "no such calibration target" in out
    code, out = invoke(monkeypatch, [ok], "-o", "x.md")
    assert code == 2 and "add --markdown" in out


def test_command_only_json_markdown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    targets = [target("t.a", 0.5), target("t.b", 0.25)]
    code, out = invoke(monkeypatch, targets, "--only", "t.b", "--json", str(tmp_path / "c.json"))
    assert code == 0, out
    data = json.loads((tmp_path / "c.json").read_text())
    assert [r["name"] for r in data["targets"]] == ["t.b"]
    assert "[1/1] t.b: PASS 0.25 fraction" in out  # the progress line
    md = tmp_path / "c.md"
    code, out = invoke(monkeypatch, targets, "--markdown", "-o", str(md))
    assert code == 0, out
    assert re.findall(r"^### `([^`]+)`", md.read_text(), flags=re.M) == ["t.a", "t.b"]


def test_exit_status_is_in_the_table() -> None:
    assert cli.EXIT_OUT_OF_BAND == EXIT_OUT_OF_BAND
    assert EXIT_OUT_OF_BAND in dict(cli.EXIT_STATUSES)


def test_topic_modules_join_the_targets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A ``targets_<topic>.py`` beside targets.py adds its ``TARGETS`` without editing it."""
    import sys

    import sim.bench.calibration as package

    (tmp_path / "targets_zz_probe.py").write_text(
        "from sim.bench.calibration import Target\n"
        "TARGETS = [Target('probe.one', 'q', 0, 1, 'x', 'https://e.org', lambda: 0.5)]\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "sim.bench.calibration.targets_zz_probe", raising=False)
    try:
        assert [t.name for t in registered.topic_targets()][-1] == "probe.one"
    finally:
        sys.modules.pop("sim.bench.calibration.targets_zz_probe", None)
