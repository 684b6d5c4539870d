"""Inputs that cannot give right numbers are refused with file:line, field, value and
what is allowed (exit 2), never a traceback; validate reads every file run reads.

The scenario-file refusals are data-driven in tests/data/bad/*.yaml (test_scenario.py); these
are the ones that need files, the command line or a run.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from helpers.cli import invoke

import sim
from sim.errors import ScenarioError
from sim.scenario import load_scenario, load_scenario_text
from sim.scenario.schema import PATTERNS, with_units
from sim.units import parse_count_rate, parse_duration, parse_rate, parse_size
from sim.workload.inventory import read_inventory_csv
from sim.workload.synthetic import read_trace

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = (ROOT / "tests" / "data" / "good" / "minimal.yaml").read_text(encoding="utf-8")


cli = invoke


def with_inventory(tmp_path: Path, csv_bytes: bytes) -> Path:
    (tmp_path / "objects.csv").write_bytes(csv_bytes)
    text = MINIMAL.replace("    users: 10", "    users: 10\n    inventory: objects.csv")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def synthetic_trace(tmp_path: Path, csv_bytes: bytes, days: int = 1) -> Path:
    (tmp_path / "trace.csv").write_bytes(csv_bytes)
    data = {
        "name": "trace",
        "proxies": [{"name": "p0", "threads": 1}],
        "synthetic": {
            "target": "p0",
            "arrivals": {"process": "trace", "trace": "trace.csv"},
            "thread_rate": "1 MB/s",
            "sizes": {"distribution": "deterministic", "mean": "1 MB"},
        },
        "simulation": {"days": days},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- validate reads the CSVs run reads ----------------------------------------------------------


def test_validate_refuses_a_missing_inventory(tmp_path: Path) -> None:
    text = MINIMAL.replace("    users: 10", "    users: 10\n    inventory: nope.csv")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    code, output = cli("validate", str(tmp_path / "s.yaml"))
    assert code == 2
    assert "nope.csv" in output and "file not found" in output
    assert "s.yaml:6:" in output  # the line of tenants[0].inventory


def test_validate_refuses_a_bad_inventory_value_with_its_line(tmp_path: Path) -> None:
    path = with_inventory(tmp_path, b"type,size,items\nmailbox,1 GB,10\nmailbox,inf,10\n")
    code, output = cli("validate", str(path))
    assert code == 2
    assert "objects.csv:3:" in output and "size" in output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"type,size,size,items\nmailbox,1,2,3\n", "duplicate column 'size'"),
        (b"type,size,items\nmailbox,1e300,3\n", "beyond the largest object"),
        (b"type,size,items\nmailbox,nan,3\n", "is not a size"),
        (b"type,size,items\nmailbox,1 GB,99999999999999999999999\n", "not a whole number"),
        (b"type,size,items,daily_change\nmailbox,1 GB,3,nan\n", "not a fraction"),
        (b"type,size,items\nmailbox,1 GB,3\x00\n", "NUL"),
        (b'type,size,items\n"' + b"x" * (200 * 1024) + b'",1,1\n', "field larger than"),
        (b"", "empty"),
        # an unquoted thousands separator: 1 item, the 000 silently dropped, before
        (b"type,size,items\nsite,1 GB,1,000\n", "4 values but the header names 3 columns"),
    ],
)
def test_inventory_csv_refusals(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / "o.csv").write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        read_inventory_csv(tmp_path / "o.csv")
    assert any(needle in p.message for p in info.value.problems), str(info.value)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("cp1252"),
        lambda t: t.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16"],
)
def test_inventory_from_excel_encodings_is_read(tmp_path: Path, encode: object) -> None:
    text = "type,size,items,owner\r\nmailbox,1 GB,10,Bj\u00f6rk M\u00fcller \u20ac\r\n"
    (tmp_path / "o.csv").write_bytes(encode(text))  # type: ignore[operator]
    table = read_inventory_csv(tmp_path / "o.csv")
    assert len(table) == 1 and table.size_bytes[0] == 1e9


def test_undecodable_csv_names_line_and_encodings(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252 and invalid UTF-8
    (tmp_path / "o.csv").write_bytes(b"type,size,items\nmailbox,1 GB,1\nsite\x81,1 GB,1\n")
    with pytest.raises(ScenarioError) as info:
        read_inventory_csv(tmp_path / "o.csv")
    (p,) = info.value.problems
    assert p.line == 3 and "utf-8 or cp1252" in p.message


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (b"time\n1\ninf\n", "not a finite number"),
        (b"time\n1\n1e300\n", "after the simulation horizon"),
        (b"time,size\n1,inf\n", "not a size"),
        (b"time,size\n1,nan\n", "not a size"),
        (b"time,time\n1,2\n", "duplicate column"),
        (b"time\n5\n4\n", "times never decrease"),
    ],
)
def test_trace_refusals_at_validate(tmp_path: Path, rows: bytes, needle: str) -> None:
    code, output = cli("validate", str(synthetic_trace(tmp_path, rows)))
    assert code == 2, output
    assert needle in output
    assert "trace.csv:" in output


def test_read_trace_refuses_overflow_without_horizon(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"time\n1e400\n")
    with pytest.raises(ScenarioError):
        read_trace(tmp_path / "t.csv")


# --- special files ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_scenario_and_csv_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="FIFO"):
        load_scenario(fifo)  # would block forever if it were opened
    with pytest.raises(ScenarioError, match="FIFO"):
        read_inventory_csv(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused() -> None:
    code, output = cli("validate", "/dev/zero")
    assert code == 2 and "not a regular file" in output
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_inventory_csv(Path("/dev/zero"))


# --- sizes beyond the machine -------------------------------------------------------------------


def test_huge_tenant_is_refused_with_the_estimate_and_the_limit() -> None:
    code, output = cli(
        "validate",
        str(ROOT / "scenarios" / "quickstart.yaml"),
        "--set",
        "tenants.0.users=900000000",
    )
    assert code == 2
    assert "would need about" in output and "is available" in output and "--force" in output
    lines = (ROOT / "scenarios" / "quickstart.yaml").read_text().splitlines()
    users_line = next(i for i, t in enumerate(lines, 1) if t.strip().startswith("users:"))
    assert f"quickstart.yaml:{users_line}:" in output


def test_users_1e20_is_a_clean_error() -> None:
    for value in ("1e20", "100000000000000000000"):
        code, output = cli(
            "validate",
            str(ROOT / "scenarios" / "quickstart.yaml"),
            "--set",
            f"tenants.0.users={value}",
        )
        assert code == 2, output
        assert "Traceback" not in output and "tenants[0].users" in output


# --- warnings, --strict, notes ------------------------------------------------------------------


def test_event_after_the_last_session_warns_and_fails_under_strict(tmp_path: Path) -> None:
    # the only session starts 20:00 on day 1; a failure on day 2 can only hit an overrun
    text = MINIMAL + 'timeline:\n  - {action: fail, proxy: proxy-01, at: "03:00", day: 3}\n'
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = cli("validate", str(path))
    assert code == 0, output
    assert "warning:" in output and "s.yaml:22:" in output and "overran" in output
    code, output = cli("validate", str(path), "--strict")
    assert code == 2 and "--strict" in output


def test_ram_is_read_and_noted_when_it_limits_threads(tmp_path: Path) -> None:
    code, output = cli("validate", str(ROOT / "scenarios" / "quickstart.yaml"))
    assert code == 0
    assert "ram is not used by the model yet" not in output
    path = tmp_path / "s.yaml"
    text = MINIMAL.replace("  - name: proxy-01", "  - name: proxy-01\n    ram: 8 GiB", 1)
    path.write_text(text, encoding="utf-8")
    code, output = cli("validate", str(path))
    assert "ram holds" in output, output


def test_plugin_import_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "policies"))
    text = MINIMAL.replace(
        "    members: [proxy-01, proxy-02]",
        "    members: [proxy-01, proxy-02]\n    policy: fewest_bytes_first:FewestBytesFirst",
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = cli("validate", str(path))
    assert code == 0, output
    assert "is user code: validate imported (and so ran) module 'fewest_bytes_first'" in output


# --- a plug-in that raises ----------------------------------------------------------------------

CRASHING = """
from sim.policies import PushPolicy

class Crash(PushPolicy):
    name = "crash"
    summary = "raises"

    def select(self, task, candidates, view):
        raise RuntimeError("boom from the plug-in")
"""


def test_a_crashing_plugin_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "crashing_policy.py").write_text(CRASHING, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "crashing_policy", raising=False)
    data = {
        "name": "crash",
        "proxies": [{"name": "p0", "threads": 1}, {"name": "p1", "threads": 1}],
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": "crashing_policy:Crash"}],
        "synthetic": {
            "target": "pool",
            "arrivals": {"rate": 1.0},
            "sizes": {"distribution": "deterministic", "mean": 1e6},
            "thread_rate": 1e6,
            "tasks": 5,
        },
    }
    text = yaml.safe_dump(with_units(data), sort_keys=False)
    # before the fix the RuntimeError became an empty 'successful' (truncated) run
    with pytest.raises(RuntimeError, match="boom from the plug-in"):
        sim.simulate(load_scenario_text(text))
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = cli("run", str(path), "--results", str(tmp_path / "results"), "--no-plots")
    assert code == 2, output
    assert "crashing_policy:Crash" in output and "RuntimeError: boom from the plug-in" in output
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


# --- units: the JSON Schema patterns agree with the parsers ---------------------------------------

GOOD = {
    "duration": (parse_duration, ["90s", "8h", "1h30m", "15 min", "1.5d", "500ms", "2 weeks"]),
    "size": (parse_size, ["500 GB", "5TiB", "1,024 B", "3.5 gb", "1e3 MB"]),
    "rate": (parse_rate, ["1 Gbps", "200 MB/s", "400 GB/h", "1 GiB/s", "50 MBps", "10 Mb/s"]),
    "count rate": (parse_count_rate, ["3500/s", "1200/min", "6000/h", "5 / hour"]),
}
BAD = {
    "duration": ["8", "8 parsecs", "h8"],
    "size": ["500", "10 GB/s", "5 Tb/s"],
    "rate": ["10GB", "10", "1 GiBps/x"],
    "count rate": ["3500", "10 GB"],
}


@pytest.mark.parametrize("kind", list(PATTERNS))
def test_schema_patterns_match_what_the_loader_accepts(kind: str) -> None:
    parse, good = GOOD[kind]
    for text in good:
        assert re.fullmatch(PATTERNS[kind], text), (kind, text)
        parse(text)
    for text in BAD[kind]:
        assert not re.fullmatch(PATTERNS[kind], text), (kind, text)


def test_bare_zero_needs_no_unit_but_other_numbers_do() -> None:
    base = MINIMAL.replace(
        "    owner: pool-a", "    owner: pool-a\n    compression: {exchange: 0.5}"
    )
    load_scenario_text(base.replace("window: 8h", "window: 8h"))
    with pytest.raises(ScenarioError, match="has no unit"):
        load_scenario_text(base, overrides=["simulation.bucket=300"])
    with pytest.raises(ScenarioError, match="has no unit"):
        load_scenario_text(base, overrides=["simulation.bucket='300'"])
    load_scenario_text(base, overrides=["jobs.backup.schedule.offset=0"])


def test_line_100_is_not_an_emoji(tmp_path: Path) -> None:
    text = "\n" * 97 + MINIMAL.replace("name: minimal", "name: minimal\nseed: true")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = cli("validate", str(path))
    assert code == 2 and "s.yaml:100:" in output, output


def test_event_while_the_last_nightly_session_still_runs_is_no_warning(tmp_path: Path) -> None:
    # the session of day 1 starts at 20:00 and may run until the next night's start: an event
    # at 03:00 on day 2 can disturb it without any overrun (scenarios/maintenance-drill.yaml)
    text = MINIMAL + 'timeline:\n  - {action: fail, proxy: proxy-01, at: "03:00", day: 2}\n'
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = cli("validate", str(path))
    assert code == 0, output
    assert "timeline[0]" not in output and "overran" not in output


@pytest.fixture
def crashing_quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quickstart (20 users) whose pool's policy is a plug-in that raises."""
    (tmp_path / "crashing_policy.py").write_text(CRASHING, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "crashing_policy", raising=False)
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("policy: pull_fifo", 'policy: "crashing_policy:Crash"')
    text = text.replace("users: 2000", "users: 20")
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["run", "history", "calibrate"])
def test_a_crashing_plugin_in_a_backup_run_is_named_by_every_command(
    command: str, crashing_quickstart: Path, tmp_path: Path
) -> None:
    """SimPy re-raises a job process's exception from the original: the plug-in's frame is only
    in its cause, so run reported a backup scenario's crashing plug-in as a poolsim bug (exit 1,
    traceback); history and calibrate did for every scenario."""
    args: list[str | Path] = [command, crashing_quickstart, "--results", tmp_path / "res"]
    if command != "run":
        observed = sim.simulate(
            ROOT / "scenarios" / "quickstart.yaml", overrides=["tenants.0.users=20"]
        )
        sessions = tmp_path / "sessions.json"
        from sim.report.jobsessions import job_sessions_text

        sessions.write_text(job_sessions_text(observed), encoding="utf-8")
        args += ["--sessions", sessions]
    if command == "calibrate":
        args += ["--fit", "cpu_per_object", "--budget", "2"]
    code, output = cli(*args)
    assert code == 2, output
    flat = " ".join(output.split())
    assert "policy 'crashing_policy:Crash' raised RuntimeError: boom from the plug-in" in flat


@pytest.mark.parametrize("command", ["compare", "sweep", "size"])
def test_a_crashing_plugin_in_compare_or_sweep_is_a_failed_run_not_a_traceback(
    command: str, crashing_quickstart: Path, tmp_path: Path
) -> None:
    """Every run of one policy (compare) or of every point (sweep) failing left no row to
    print: IndexError in compare's table, KeyError 'metric' in the sweep's. Now the failed
    runs are named with the plug-in's exception, the results written, and the status is 1
    (a run that raised, README's exit statuses), as size's."""
    days = ["--set", "simulation.days=1"]
    if command == "compare":
        more = ["-r", "1", "-p", "crashing_policy:Crash,round_robin", "--results", tmp_path / "res"]
    elif command == "sweep":
        more = ["-r", "1", "-g", "simulation.bucket=10min,20min", "--out", tmp_path / "res"]
    else:  # size, whose runs all fail: the pool size and the exception are named
        more = ["-r", "5", "--compliance", "0.5", "--max", "5", "--results", tmp_path / "res"]
    code, output = cli(command, crashing_quickstart, *days, "-j", "1", *more)
    assert code == 1, output
    assert "RuntimeError: boom from the plug-in" in " ".join(output.split())
    assert any((tmp_path / "res").rglob("*.csv"))


def _limited() -> None:
    """A child that would read /dev/zero for ever stops at 3 GB instead of filling the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def poolsim_bounded(*args: str | Path, cwd: Path) -> tuple[int | None, str]:
    """poolsim in a child with a memory limit; (status or None after 60 s, output)."""
    import subprocess

    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("poolsim")), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
            preexec_fn=_limited,
        )
    except subprocess.TimeoutExpired:
        return None, "hang"
    return done.returncode, done.stdout + done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_special_file_is_never_opened_by_validate_or_history(kind: str, tmp_path: Path) -> None:
    """validate's job-design advice counted an inventory's objects with a plain open() before
    the input check refused the file: an inventory that is a FIFO or a link to /dev/zero hung
    validate and run; history and calibrate read a --sessions FIFO or /dev/zero for ever."""
    special = tmp_path / "objects.csv"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to("/dev/zero")
    scenario = tmp_path / "s.yaml"
    inventory = "    users: 10\n    inventory: objects.csv"
    scenario.write_text(MINIMAL.replace("    users: 10", inventory), encoding="utf-8")
    code, output = poolsim_bounded("validate", scenario, cwd=tmp_path)
    assert code == 2, output
    assert "objects.csv" in output and "not a regular file" in output
    plain = tmp_path / "plain.yaml"
    plain.write_text(MINIMAL, encoding="utf-8")
    code, output = poolsim_bounded("history", plain, "--sessions", special, cwd=tmp_path)
    assert code == 2, output
    assert "objects.csv" in output and "not a regular file" in output


def test_trailing_empty_values_of_a_spreadsheet_are_no_extra_column(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_bytes(b"type,size,items\nsite,1 GB,7,,\n")
    assert list(read_inventory_csv(tmp_path / "o.csv").items) == [7]
