"""Tests for scenario loading: units, strict keys, error positions, ``--set`` overrides, the
VB365 rules (data-driven from tests/data/bad/*.yaml) and the generated reference."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sim.scenario import (
    LoadedScenario,
    Problem,
    Scenario,
    ScenarioError,
    apply_override,
    load_scenario,
    load_scenario_text,
)
from sim.scenario.reference import json_schema, markdown_reference

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
MINIMAL = DATA / "good" / "minimal.yaml"
GOOD_FILES = sorted((DATA / "good").glob("*.yaml"))
BAD_FILES = sorted((DATA / "bad").glob("*.yaml"))

# The smallest valid scenario, as text, with known line numbers (line 1 is 'name: t').
BASE = """\
name: t
tenants:
  - name: contoso
    users: 10
proxies:
  - name: proxy-01
  - name: proxy-02
pools:
  - name: pool-a
    members: [proxy-01, proxy-02]
repositories:
  - name: s3-main
    owner: pool-a
jobs:
  - name: backup
    tenant: contoso
    repository: s3-main
    schedule:
      daily: "20:00"
      window: 8h
"""


def expectation(path: Path) -> tuple[str, int]:
    """The ``# expect: <substring>`` and ``# line: N`` header comments of a bad file."""
    head = path.read_text(encoding="utf-8").splitlines()[:5]
    expect = next(m.group(1) for s in head if (m := re.match(r"#\s*expect:\s*(.+?)\s*$", s)))
    line = next(int(m.group(1)) for s in head if (m := re.match(r"#\s*line:\s*(\d+)\s*$", s)))
    return expect, line


def problems(text: str, overrides: tuple[str, ...] = (), name: str = "s.yaml") -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, name, overrides=overrides)
    return info.value.problems


def only(text: str, overrides: tuple[str, ...] = ()) -> Problem:
    found = problems(text, overrides)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def with_lines(text: str, after: str, *lines: str) -> str:
    """Insert lines after the (unique) line ``after`` of text."""
    src = text.splitlines(keepends=True)
    idx = [i for i, s in enumerate(src) if s.rstrip("\n") == after]
    assert len(idx) == 1, after
    src[idx[0] + 1 : idx[0] + 1] = [s + "\n" for s in lines]
    return "".join(src)


# --- loading and units ---------------------------------------------------------------------------


def test_quickstart_loads_with_units_converted() -> None:
    loaded = load_scenario(QUICKSTART)
    sc = loaded.spec
    assert isinstance(loaded, LoadedScenario)
    assert loaded.path == QUICKSTART
    assert loaded.base_dir == QUICKSTART.parent
    assert sc.name == "quickstart"
    assert [p.name for p in sc.proxies] == ["proxy-01", "proxy-02", "proxy-03", "proxy-04"]
    assert all(p.os == "linux" and p.cores == 8 for p in sc.proxies)
    assert sc.proxies[0].ram == 32e9
    assert sc.pools[0].members == [p.name for p in sc.proxies]
    assert sc.pools[0].policy == "pull_fifo"
    assert sc.repositories[0].write_bandwidth == 2e9 / 8
    assert sc.jobs[0].schedule.daily == 20 * 3600
    assert sc.jobs[1].schedule.daily == 20.5 * 3600
    assert sc.jobs[0].schedule.window == 12 * 3600
    assert sc.jobs[1].workloads == ["onedrive", "sharepoint", "teams"]
    assert sc.tenants[0].objects["team"].per_user == 0.02
    assert sc.simulation.days == 3
    assert sc.simulation.bucket == 600.0
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.digest)
    json.dumps(loaded.resolved())  # JSON-ready


@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda p: p.name)
def test_good_files_load(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.spec.tenants and loaded.spec.jobs


def test_load_scenario_accepts_str_path() -> None:
    assert load_scenario(str(MINIMAL)).spec.name == "minimal"


def test_text_scenario_has_no_path_and_defaults() -> None:
    loaded = load_scenario_text(BASE)
    assert loaded.path is None
    assert loaded.base_dir == Path.cwd()
    sc = loaded.spec
    assert sc.pools[0].policy == "pull_fifo"
    assert sc.repositories[0].kind == "s3"
    assert sc.jobs[0].workloads == ["exchange", "onedrive", "sharepoint", "teams"]
    assert sc.jobs[0].share == 1.0 and sc.jobs[0].share_offset == 0.0
    assert sc.simulation.days == 1


def pick(obj: Any, dotted: str) -> Any:
    """``pick(spec, "jobs.0.schedule.daily")``: attributes, list indices and dict keys."""
    for part in dotted.split("."):
        if part.isdigit():
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("jobs.0.schedule.daily=20:00", 72000.0),
        ("jobs.0.schedule.daily='06:30:15'", 23415.0),
        ("jobs.0.schedule.daily=24:00", 86400.0),
        ("jobs.0.schedule.window=90min", 5400.0),
        ("jobs.0.schedule.window=1h30m", 5400.0),
        ("jobs.0.schedule.window=1d", 86400.0),
        ("jobs.0.schedule.window=3600 s", 3600.0),
        ("simulation.bucket=90s", 90.0),
        ("proxies.0.ram=32 GB", 32e9),
        ("proxies.0.ram=5 TiB", 5 * 1024.0**4),
        ("proxies.0.ram=1024 B", 1024.0),
        ("proxies.0.throttle=1 Gbps", 1.25e8),
        ("proxies.0.processing_rate=400 GB/h", 400e9 / 3600),
        ("repositories.0.write_bandwidth=200 MB/s", 2e8),
        ("repositories.0.put_rate=1200/min", 20.0),
        ("repositories.0.put_rate=3500/s", 3500.0),
        ("tenants.0.objects.mailbox.mean_size=3.5 GB", 3.5e9),
        ("calibration.object_overhead.teams=500ms", 0.5),
    ],
)
def test_units_convert_to_si(override: str, expected: float) -> None:
    spec = load_scenario_text(BASE, overrides=[override]).spec
    assert pick(spec, override.split("=", 1)[0]) == pytest.approx(expected)


def test_units_in_a_file_convert_to_si() -> None:
    text = BASE.replace('daily: "20:00"', "daily: 21:15").replace("window: 8h", "window: 2h 30min")
    text = with_lines(text, "  - name: proxy-01", "    throttle: 200 Mbps", "    ram: 64 GiB")
    sc = load_scenario_text(text).spec
    assert sc.jobs[0].schedule.daily == 21.25 * 3600
    assert sc.jobs[0].schedule.window == 2.5 * 3600
    assert sc.proxies[0].throttle == 200e6 / 8
    assert sc.proxies[0].ram == 64 * 1024**3


def test_digest_is_stable_across_units_and_key_order() -> None:
    a = load_scenario_text(BASE.replace("window: 8h", "window: 480min"))
    b = load_scenario_text(BASE.replace("window: 8h", "window: 28800 s"))
    reordered = BASE.replace("    owner: pool-a\n", "").replace(
        "  - name: s3-main\n", "  - owner: pool-a\n    name: s3-main\n"
    )
    c = load_scenario_text(reordered)
    d = load_scenario_text(BASE.replace("window: 8h", "window: 9h"))
    assert a.digest == b.digest == c.digest == load_scenario_text(BASE).digest
    assert d.digest != a.digest


# --- unknown keys, type errors, syntax errors ----------------------------------------------------


def test_unknown_key_names_file_line_column_and_path() -> None:
    text = with_lines(BASE, "  - name: proxy-02", "    thredas: 32")
    p = only(text)
    assert (p.file, p.line, p.column, p.path) == ("s.yaml", 8, 5, "proxies[1].thredas")
    assert "unknown field" in p.message
    assert str(p).startswith("s.yaml:8:5: proxies[1].thredas: unknown field")


@pytest.mark.parametrize(
    ("after", "line", "line_no", "column", "path"),
    [
        ("name: t", "tenant: x", 2, 1, "tenant"),
        ("name: t", "Tenants: 3", 2, 1, "Tenants"),  # capitalised: not a pydantic union tag
        ("      window: 8h", "      windw: 9h", 21, 7, "jobs[0].schedule.windw"),
        ("    users: 10", "    usres: 10", 5, 5, "tenants[0].usres"),
        ("  - name: pool-a", "    Policy: round_robin", 10, 5, "pools[0].Policy"),
    ],
)
def test_unknown_keys_are_located(
    after: str, line: str, line_no: int, column: int, path: str
) -> None:
    p = only(with_lines(BASE, after, line))
    assert (p.line, p.column, p.path) == (line_no, column, path)
    assert "unknown field" in p.message


def test_unknown_map_key_lists_allowed_keys() -> None:
    text = with_lines(BASE, "    users: 10", "    workload_caps: {Exchnage: 1 Gbps}")
    p = only(text)
    assert p.path == "tenants[0].workload_caps.Exchnage"
    assert (p.line, p.column) == (5, 21)
    assert p.message == (
        "unknown key 'Exchnage' (did you mean 'exchange'?); allowed keys are 'exchange', "
        "'onedrive', 'sharepoint' or 'teams'"
    )
    # enum values are case-insensitive, as keys of a map too
    text = with_lines(BASE, "    users: 10", "    workload_caps: {Exchange: 1 Gbps}")
    assert load_scenario_text(text).spec.tenants[0].workload_caps == {"exchange": 125e6}


def test_unknown_object_type_key() -> None:
    text = with_lines(BASE, "    users: 10", "    objects:", "      mailboxes: {per_user: 1}")
    p = only(text)
    assert p.path == "tenants[0].objects.mailboxes"
    assert p.line == 6
    assert "unknown key 'mailboxes'" in p.message and "'archive_mailbox'" in p.message


@pytest.mark.parametrize(
    ("after", "line", "path", "line_no", "needles"),
    [
        (
            "  - name: s3-main",
            "    kind: s4",
            "repositories[0].kind",
            13,
            [
                "allowed values are 's3', 's3_compatible', 'azure_blob', 'wasabi', 'ibm_cos', "
                "'s3_glacier', 'azure_archive' or 'local'"
            ],
        ),
        (
            "  - name: proxy-01",
            "    os: solaris",
            "proxies[0].os",
            7,
            ["allowed values are 'windows' or 'linux'"],
        ),
        (
            "  - name: proxy-01",
            "    state: paused",
            "proxies[0].state",
            7,
            ["allowed values are 'active' or 'maintenance'"],
        ),
        (
            "    tenant: contoso",
            "    workloads: [exchange, email]",
            "jobs[0].workloads[1]",
            17,
            ["allowed values are 'exchange', 'onedrive', 'sharepoint' or 'teams'"],
        ),
        (
            "  - name: proxy-01",
            "    threads: 0",
            "proxies[0].threads",
            7,
            ["greater than or equal to 1", "(got 0)"],
        ),
        (
            "  - name: proxy-01",
            "    threads: lots",
            "proxies[0].threads",
            7,
            ["valid integer", "(got 'lots')"],
        ),
        (
            "  - name: proxy-01",
            "    ram: plenty",
            "proxies[0].ram",
            7,
            ["'plenty' is not a size", "GB", "KiB"],
        ),
        (
            "  - name: proxy-01",
            "    throttle: fast",
            "proxies[0].throttle",
            7,
            ["'fast' is not a data rate", "Gbps", "MB/s"],
        ),
        (
            "  - name: proxy-01",
            "    default: maybe",
            "proxies[0].default",
            7,
            ["valid boolean"],
        ),
        (
            "    owner: pool-a",
            "    put_rate: 3500 per second",
            "repositories[0].put_rate",
            14,
            ["'3500 per second' is not a count rate", "/min"],
        ),
        (
            "    repository: s3-main",
            "    share: 1.5",
            "jobs[0].share",
            18,
            ["less than or equal to 1"],
        ),
    ],
)
def test_type_errors_name_the_field_and_what_is_allowed(
    after: str, line: str, path: str, line_no: int, needles: list[str]
) -> None:
    p = only(with_lines(BASE, after, line))
    assert (p.file, p.path, p.line) == ("s.yaml", path, line_no)
    for needle in needles:
        assert needle in p.message


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('"25:00"', "'25:00' is not a time of day"),
        ('"8pm"', "'8pm' is not a time of day"),
        ("3h", "is not a time of day"),
    ],
)
def test_bad_clock_time(value: str, needle: str) -> None:
    p = only(BASE.replace('daily: "20:00"', f"daily: {value}"))
    assert p.path == "jobs[0].schedule.daily"
    assert p.line == 19
    assert needle in p.message
    assert "HH:MM" in p.message


def test_bad_duration() -> None:
    p = only(BASE.replace("window: 8h", "window: 8 parsecs"))
    assert (p.path, p.line, p.column) == ("jobs[0].schedule.window", 20, 7)
    assert "'8 parsecs' is not a duration" in p.message
    assert "'90s', '8h'" in p.message


def test_missing_required_field_points_at_its_parent() -> None:
    p = only(BASE.replace("    repository: s3-main\n", ""))
    assert p.path == "jobs[0].repository"
    assert p.line == 15  # the job item
    assert p.message == "Field required"


def test_scenario_name_pattern() -> None:
    p = only(BASE.replace("name: t\n", "name: my scenario\n"))
    assert (p.path, p.line) == ("name", 1)
    assert "should match pattern" in p.message


def test_empty_sections_are_rejected() -> None:
    p = only(BASE.replace("    members: [proxy-01, proxy-02]", "    members: []"))
    assert p.path == "pools[0].members"
    assert "at least 1 item" in p.message


def test_policy_typo_reports_only_the_real_problem() -> None:
    text = with_lines(BASE, "    members: [proxy-01, proxy-02]", "    policy: {name: x, parms: {}}")
    p = only(text)
    assert p.path == "pools[0].policy.parms"
    assert (p.line, p.column) == (11, 23)
    assert "unknown field" in p.message


def test_policy_of_wrong_type_gives_one_merged_message() -> None:
    p = only(with_lines(BASE, "    members: [proxy-01, proxy-02]", "    policy: 3"))
    assert p.path == "pools[0].policy"
    assert p.line == 11
    assert "valid string or a valid dictionary" in p.message
    assert "PolicySpec" not in p.message


def test_policy_mapping_form_is_accepted() -> None:
    text = with_lines(
        BASE, "    members: [proxy-01, proxy-02]", "    policy: {name: round_robin, params: {}}"
    )
    policy = load_scenario_text(text).spec.pools[0].policy
    assert not isinstance(policy, str)
    assert policy.name == "round_robin"


def test_every_problem_is_reported_at_once() -> None:
    text = with_lines(BASE, "  - name: proxy-02", "    thredas: 32")
    text = text.replace("users: 10", "users: -3")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml")
    err = info.value
    assert [p.path for p in err.problems] == ["tenants[0].users", "proxies[1].thredas"]
    assert str(err).splitlines()[0] == "2 problems in s.yaml:"
    assert "s.yaml:4:5: tenants[0].users:" in str(err)
    assert "s.yaml:8:5: proxies[1].thredas:" in str(err)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "42\n"])
def test_scenario_must_be_a_mapping(text: str) -> None:
    p = only(text)
    assert (p.line, p.column) == (1, 1)
    assert "a scenario is a mapping of sections" in p.message


def test_yaml_syntax_error_has_line_and_column() -> None:
    p = only("name: t\ntenants: [a\nproxies: []\n")
    assert p.file == "s.yaml"
    assert p.line is not None and p.column is not None
    assert p.line >= 2
    assert p.message.startswith("invalid YAML:")
    assert re.match(r"s\.yaml:\d+:\d+: ", str(p))


def test_yaml_syntax_error_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: t\nproxies:\n  - {name: p1\n  - {name: p2}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert p.file == str(path)
    assert p.line == 4 and p.column is not None
    assert "invalid YAML" in p.message
    assert f"{path}:4:" in str(info.value)


def test_duplicate_yaml_key_is_an_error() -> None:
    p = only(BASE.replace("    users: 10\n", "    users: 10\n    users: 20\n"))
    assert p.line == 5
    assert "duplicate key 'users' (lines 4 and 5)" in p.message


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    (p,) = info.value.problems
    assert p.file == str(missing)
    assert p.message == "file not found"


# --- --set overrides -----------------------------------------------------------------------------


def raw() -> dict[str, Any]:
    return {
        "proxies": [{"name": "proxy-01", "threads": 64}, {"name": "proxy-02"}],
        "pools": [{"name": "pool-a", "members": ["proxy-01", "proxy-02"]}],
        "simulation": {"days": 1},
    }


@pytest.mark.parametrize(
    ("text", "walked", "value"),
    [
        ("proxies[0].threads=32", ("proxies", 0, "threads"), 32),
        ("proxies.0.threads=32", ("proxies", 0, "threads"), 32),
        ("proxies.1.threads=8", ("proxies", 1, "threads"), 8),
        ("proxies.proxy-01.threads=32", ("proxies", 0, "threads"), 32),
        ("proxies[proxy-02].os=linux", ("proxies", 1, "os"), "linux"),
        ("pools.pool-a.policy=round_robin", ("pools", 0, "policy"), "round_robin"),
        ("pools.pool-a.members[1]=proxy-03", ("pools", 0, "members", 1), "proxy-03"),
        ("simulation.days=3", ("simulation", "days"), 3),
        (
            "calibration.thread_rate.exchange=2MB/s",
            ("calibration", "thread_rate", "exchange"),
            "2MB/s",
        ),
        ("proxies[0].default=true", ("proxies", 0, "default"), True),
        ("proxies[0].throttle=null", ("proxies", 0, "throttle"), None),
        ("proxies[0].dns='007'", ("proxies", 0, "dns"), "007"),
        ("pools[0].members=[proxy-02]", ("pools", 0, "members"), ["proxy-02"]),
        ("pools[0].policy={name: round_robin}", ("pools", 0, "policy"), {"name": "round_robin"}),
        (" simulation.days = 4", ("simulation", "days"), 4),
    ],
)
def test_apply_override(text: str, walked: tuple[str | int, ...], value: object) -> None:
    data = raw()
    assert apply_override(data, text) == walked
    node: Any = data
    for part in walked:
        node = node[part]
    assert node == value


def test_apply_override_creates_nested_sections_and_keeps_siblings() -> None:
    data = raw()
    apply_override(data, "calibration.thread_rate.exchange=2MB/s")
    apply_override(data, "calibration.thread_rate.teams=1MB/s")
    assert data["calibration"] == {"thread_rate": {"exchange": "2MB/s", "teams": "1MB/s"}}
    apply_override(data, "simulation.bucket=5min")
    assert data["simulation"] == {"days": 1, "bucket": "5min"}


def test_apply_override_into_an_empty_section() -> None:
    data: dict[str, Any] = {**raw(), "calibration": None}  # 'calibration:' with nothing under it
    apply_override(data, "calibration.thread_rate.exchange=2MB/s")
    assert data["calibration"] == {"thread_rate": {"exchange": "2MB/s"}}


@pytest.mark.parametrize(
    ("text", "path", "needle"),
    [
        (
            "proxies[5].threads=3",
            "proxies",
            "no item '5' in this list (indices 0..1, names proxy-01, proxy-02)",
        ),
        ("proxies.proxy-09.threads=3", "proxies", "no item 'proxy-09' in this list"),
        ("pools.pool-z.policy=round_robin", "pools", "names pool-a"),
        (
            "simulation.days.x=3",
            "simulation.days",
            "'simulation.days' is a value, not a section; cannot set 'x'",
        ),
        ("proxies[0].threads.max=3", "proxies[0].threads", "is a value, not a section"),
        (
            "proxies[0].threads",
            "proxies[0].threads",
            "expected KEY=VALUE, e.g. proxies[0].threads=32",
        ),
        ("=3", "=3", "empty key"),
    ],
)
def test_bad_override_path_is_a_clear_error(text: str, path: str, needle: str) -> None:
    with pytest.raises(ScenarioError) as info:
        apply_override(raw(), text)
    (p,) = info.value.problems
    assert (p.file, p.line, p.column) == ("--set", None, None)
    assert p.path == path
    assert needle in p.message
    assert str(info.value).startswith("1 problem in --set:")


def test_override_value_with_bad_yaml() -> None:
    with pytest.raises(ScenarioError) as info:
        apply_override(raw(), "pools[0].members=[proxy-01")
    (p,) = info.value.problems
    assert p.file == "--set"
    assert "invalid YAML" in p.message


def test_overrides_change_the_loaded_scenario() -> None:
    sets = (
        "proxies[0].threads=32",
        "proxies.1.threads=16",
        "proxies.proxy-01.cores=12",
        "pools.pool-a.policy=round_robin",
        "calibration.thread_rate.exchange=2MB/s",
        "jobs.backup.schedule.window=10h",
    )
    loaded = load_scenario_text(BASE, overrides=sets)
    sc = loaded.spec
    assert sc.proxies[0].threads == 32 and sc.proxies[0].cores == 12
    assert sc.proxies[1].threads == 16
    assert sc.pools[0].policy == "round_robin"
    assert sc.calibration.thread_rate == {"exchange": 2e6}
    assert sc.jobs[0].schedule.window == 10 * 3600
    assert loaded.overrides == sets
    assert loaded.digest != load_scenario_text(BASE).digest


def test_overrides_in_load_scenario_from_file() -> None:
    loaded = load_scenario(MINIMAL, overrides=["proxies.proxy-02.state=maintenance"])
    assert loaded.spec.proxies[1].state == "maintenance"
    assert loaded.path == MINIMAL


def test_override_by_index_and_by_name_agree() -> None:
    a = load_scenario_text(BASE, overrides=["proxies[1].threads=7"])
    b = load_scenario_text(BASE, overrides=["proxies.1.threads=7"])
    c = load_scenario_text(BASE, overrides=["proxies.proxy-02.threads=7"])
    assert a.digest == b.digest == c.digest


def test_override_into_empty_section_of_a_file() -> None:
    text = BASE + "calibration:\n"
    loaded = load_scenario_text(text, overrides=["calibration.thread_rate.exchange=2MB/s"])
    assert loaded.spec.calibration.thread_rate["exchange"] == 2e6


@pytest.mark.parametrize(
    ("override", "path", "needle"),
    [
        ("proxies.proxy-01.threads=abc", "proxies[0].threads", "valid integer"),
        ("proxies[0].thredas=5", "proxies[0].thredas", "unknown field"),
        ("jobs[0].schedule.daily=25:00", "jobs[0].schedule.daily", "is not a time of day"),
        ("repositories[0].kind=tape", "repositories[0].kind", "allowed values are 's3'"),
        (
            "calibration.thread_rate.email=2MB/s",
            "calibration.thread_rate.email",
            "unknown key 'email'",
        ),
        ("proxies[0]={name: proxy-01, thredas: 3}", "proxies[0].thredas", "unknown field"),
        ("jobs[0].tenant=fabrikam", "jobs[0].tenant", "unknown tenant 'fabrikam'"),
        # a misspelt section the --set created: not the file's line 1
        ("simulaton.days=1", "simulaton", "did you mean 'simulation'?"),
        ("calibraton.x=1", "calibraton", "unknown field 'calibraton'"),
    ],
)
def test_invalid_overridden_value_is_reported_against_set(
    override: str, path: str, needle: str
) -> None:
    p = only(BASE, (override,))
    assert (p.file, p.line, p.column) == ("--set", None, None)
    assert p.path == path
    assert needle in p.message
    assert str(p).startswith(f"--set: {path}: ")


def test_file_and_override_problems_are_kept_apart() -> None:
    text = with_lines(BASE, "  - name: proxy-02", "    thredas: 32")
    found = problems(text, ("proxies[0].threads=-1",))
    by_path = {p.path: p for p in found}
    assert by_path["proxies[0].threads"].file == "--set"
    assert by_path["proxies[0].threads"].line is None
    assert by_path["proxies[1].thredas"].file == "s.yaml"
    assert by_path["proxies[1].thredas"].line == 8


def test_rule_problem_outside_the_override_keeps_its_file_line() -> None:
    # the override makes proxy-01 the default proxy; the problem is its pool membership, which
    # is written in the file
    p = only(BASE, ("proxies.proxy-01.default=true",))
    assert (p.file, p.line, p.path) == ("s.yaml", 10, "pools[0].members[0]")
    assert "default proxy" in p.message


# --- VB365 rules ---------------------------------------------------------------------------------


def test_bad_files_exist_with_headers() -> None:
    assert len(BAD_FILES) >= 15
    for path in BAD_FILES:
        expect, line = expectation(path)
        assert expect and line > 0


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_reports_expected_problem(path: Path) -> None:
    expect, line = expectation(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    matching = [p for p in err.problems if expect in p.message]
    assert matching, f"no problem contains {expect!r}: {[str(p) for p in err.problems]}"
    assert any(p.line == line for p in matching), [str(p) for p in matching]
    assert all(p.file == str(path) for p in matching)
    assert f"{path}:{line}:" in str(err)


def test_default_proxy_may_stand_alone_and_own_a_local_repository() -> None:
    text = with_lines(BASE, "  - name: proxy-02", "  - {name: local, default: true}")
    text = with_lines(text, "    owner: pool-a", "  - {name: disk, kind: local, owner: local}")
    loaded = load_scenario_text(text)
    assert loaded.spec.proxies[2].default
    assert loaded.spec.repositories[1].kind == "local"


def test_standalone_proxy_may_own_object_storage() -> None:
    text = with_lines(BASE, "  - name: proxy-02", "  - {name: solo}")
    text = with_lines(text, "    owner: pool-a", "  - {name: s3-solo, owner: solo}")
    load_scenario_text(text)


def test_archive_tier_may_exist_when_no_backup_job_targets_it() -> None:
    text = with_lines(
        BASE, "    owner: pool-a", "  - {name: vault, kind: azure_archive, owner: pool-a}"
    )
    load_scenario_text(text)


def test_archive_tier_as_target_is_an_error_for_azure_archive_too() -> None:
    text = with_lines(
        BASE, "    owner: pool-a", "  - {name: vault, kind: azure_archive, owner: pool-a}"
    )
    p = only(text.replace("repository: s3-main", "repository: vault"))
    assert p.path == "jobs[0].repository"
    assert "repository 'vault' is azure_archive, an archive tier" in p.message


def test_pool_with_one_active_member_is_fine() -> None:
    loaded = load_scenario_text(BASE, overrides=["proxies.proxy-01.state=maintenance"])
    assert [p.state for p in loaded.spec.proxies] == ["maintenance", "active"]


def test_pool_with_every_member_in_maintenance() -> None:
    sets = ("proxies[0].state=maintenance", "proxies[1].state=maintenance")
    p = only(BASE, sets)
    assert p.path == "pools[0].members"
    assert (p.file, p.line) == ("s.yaml", 10)
    assert "pool 'pool-a' has no active member at the start" in p.message


@pytest.mark.parametrize(
    ("dns1", "dns2"),
    [
        ("vbo.corp.example", "vbo.corp.example"),
        ("vbo.corp.example", "VBO.Corp.Example"),  # DNS names are case-insensitive
        ("vbo.corp.example", "vbo.corp.example."),  # the root dot names the same host
    ],
)
def test_pool_members_need_distinct_dns_names(dns1: str, dns2: str) -> None:
    sets = (f"proxies[0].dns={dns1}", f"proxies[1].dns={dns2}")
    found = problems(BASE, sets)
    pool = [p for p in found if p.path == "pools[0].members"]
    assert len(pool) == 1
    assert pool[0].line == 10
    assert "pool 'pool-a' has 2 members with DNS name 'vbo.corp.example'" in pool[0].message
    assert "members must be reachable by distinct DNS names" in pool[0].message


def test_proxy_dns_defaults_to_its_name() -> None:
    p = problems(BASE, ("proxies[1].dns=proxy-01",))
    assert any("DNS name 'proxy-01' is also used by proxies[0]" in x.message for x in p)


@pytest.mark.parametrize(
    ("share_offset", "share", "ok"),
    [(0.0, 1.0, True), (0.5, 0.5, True), (0.3, 0.7, True), (0.7, 0.3, True), (0.5, 0.6, False)],
)
def test_share_offset_plus_share(share_offset: float, share: float, ok: bool) -> None:
    sets = (f"jobs[0].share_offset={share_offset}", f"jobs[0].share={share}")
    if ok:
        load_scenario_text(BASE, overrides=sets)
    else:
        p = only(BASE, sets)
        assert p.path == "jobs[0].share"
        assert p.message == "share_offset + share must not exceed 1"


def test_share_error_without_share_key_points_at_the_job() -> None:
    text = with_lines(BASE, "    repository: s3-main", "    share_offset: 0.25")
    text = text.replace("    share_offset: 0.25", "    share_offset: 0.25\n    share: 0.8")
    p = only(text)
    assert (p.path, p.line) == ("jobs[0].share", 19)


@pytest.mark.parametrize(
    ("section", "override", "needle"),
    [
        ("tenants", "tenants[0]={name: contoso, users: 3}", None),
        ("pools", "pools[0].name=pool-a", None),
    ],
)
def test_valid_overrides_do_not_trip_rules(section: str, override: str, needle: None) -> None:
    assert getattr(load_scenario_text(BASE, overrides=[override]).spec, section)


def test_problems_carry_file_names_through_str() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BASE.replace("tenant: contoso", "tenant: nobody"), "estate.yaml")
    assert str(info.value) == (
        "1 problem in estate.yaml:\n"
        "estate.yaml:16:5: jobs[0].tenant: unknown tenant 'nobody'; tenants are: contoso"
    )


# --- schema and reference ------------------------------------------------------------------------


def test_scenario_reference_doc_is_not_stale() -> None:
    doc = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert doc == markdown_reference(), (
        "docs/scenario-reference.md is stale; regenerate it with "
        "`poolsim schema --markdown -o docs/scenario-reference.md`"
    )


def test_markdown_reference_lists_every_top_level_key() -> None:
    md = markdown_reference()
    assert md.startswith("# Scenario file reference")
    for key in Scenario.model_fields:
        assert f"| `{key}` |" in md


def test_json_schema_is_valid_json_with_every_key() -> None:
    schema = json.loads(json.dumps(json_schema()))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object"
    assert set(Scenario.model_fields) <= set(schema["properties"])
    assert "name" in schema["required"]
    assert schema.get("additionalProperties") is False
    defs = schema["$defs"]
    for ref in re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(schema)):
        assert ref in defs


def test_json_schema_describes_units() -> None:
    props = json_schema()["$defs"]["ProxySpec"]["properties"]
    assert props["ram"]["anyOf"][0]["type"] == "string"
    assert props["ram"]["anyOf"][0]["pattern"]
    assert props["ram"]["anyOf"][1] == {"const": 0}
    assert props["ram"]["description"]
    assert props["os"]["enum"] == ["windows", "linux"]
