"""Enum values are case-insensitive; every error echoes the bad value and suggests
the nearest valid key, value or name ("did you mean ...") for unknown keys, enum values, policy
names, references and ``--set`` paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.scenario import load_scenario, load_scenario_text
from sim.scenario.schema import Scenario
from sim.scenario.suggest import did_you_mean, edits, fields_at, nearest, siblings

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"

CASES = """\
name: x
tenants: [{name: t, users: 10, objects: {Mailbox: {count: 1}}}]
proxies: [{name: p, os: Linux, threads: 3}, {name: q, os: WINDOWS}]
pools: [{name: a, members: [p, q], policy: pull_fifo}]
repositories: [{name: r, kind: S3, owner: a, write_bandwidth: 1 Gbps}]
jobs:
  - name: j
    tenant: t
    type: Backup
    workloads: [Exchange]
    repository: r
    schedule: {daily: '22:00', days: [Mon, TUE], allowed_hours: ['Mon-Fri 20-06']}
lifecycle: {in_flight: HandOff}
timeline: [{at: '01:00', day: 1, action: Maintenance_On, proxy: p}]
simulation: {start_weekday: Mon, initial_state: Empty}
"""


def test_enum_values_are_case_insensitive_and_stored_in_lowercase() -> None:
    sc = load_scenario_text(CASES).spec
    assert [p.os for p in sc.proxies] == ["linux", "windows"]
    assert list(sc.tenants[0].objects) == ["mailbox"]
    assert sc.repositories[0].kind == "s3"
    job = sc.jobs[0]
    assert (job.type, job.workloads, job.schedule.days) == ("backup", ["exchange"], ["mon", "tue"])
    assert sc.lifecycle.in_flight == "handoff" and sc.timeline[0].action == "maintenance_on"
    assert (sc.simulation.start_weekday, sc.simulation.initial_state) == ("mon", "empty")
    # the same scenario as written in lowercase: one digest
    lower = CASES.replace("Linux", "linux").replace("WINDOWS", "windows")
    assert load_scenario_text(lower).digest == load_scenario_text(CASES).digest


def problems(text: str, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", overrides or [])
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_a_bad_enum_value_is_echoed_as_given_with_the_nearest() -> None:
    (msg,) = problems(CASES.replace("os: Linux", "os: Linuxx"))
    assert msg == (
        "proxies[0].os: allowed values are 'windows' or 'linux' (got 'Linuxx'; did you mean "
        "'linux'?)"
    )
    (msg,) = problems(CASES.replace("[Exchange]", "[exchnage]"))
    assert "(got 'exchnage'; did you mean 'exchange'?)" in msg


def test_unknown_keys_suggest_the_nearest_field_and_list_the_allowed() -> None:
    (msg,) = problems(CASES.replace("threads: 3", "thredas: 3"))
    assert msg.startswith("proxies[0].thredas: unknown field 'thredas' (did you mean 'threads'?)")
    assert "allowed here: name, vb365_id, dns, os, cores, ram, threads" in msg
    (msg,) = problems(CASES.replace("simulation:", "simulaton:"))
    assert "unknown field 'simulaton' (did you mean 'simulation'?)" in msg
    (msg,) = problems(CASES.replace("{Mailbox:", "{Mailboxes:"))
    assert "unknown key 'Mailboxes' (did you mean 'mailbox'?)" in msg
    assert fields_at(Scenario, ("jobs", 0, "schedule", "x"))[:2] == ["daily", "days"]
    assert fields_at(Scenario, ("nope", "x")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("members: [p, q]", "members: [p, qq]", "unknown proxy 'qq' (did you mean 'q'?)"),
        ("tenant: t", "tenant: T", "unknown tenant 'T' (did you mean 't'?)"),
        ("repository: r", "repository: R", "unknown repository 'R' (did you mean 'r'?)"),
        ("owner: a", "owner: A", "unknown owner 'A' (did you mean 'a'?)"),
        ("proxy: p}]", "proxy: P}]", "unknown proxy 'P' (did you mean 'p'?)"),
        ("policy: pull_fifo", "policy: Pull_Fifo", "unknown policy 'Pull_Fifo' (did you mean"),
        ("policy: pull_fifo", "policy: pull_fifoo", "(did you mean 'pull_fifo'?)"),
    ],
)
def test_references_and_policies_suggest_the_nearest_name(
    old: str, new: str, expected: str
) -> None:
    found = problems(CASES.replace(old, new))
    assert any(expected in m for m in found), found


def test_set_paths_suggest_the_nearest() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(QUICKSTART, ["proxies.proxy-1.threads=3"])
    assert "no item 'proxy-1'" in str(info.value) and "(did you mean 'proxy-01'?)" in str(
        info.value
    )
    r = CliRunner().invoke(app, ["validate", str(QUICKSTART), "--set", "simulation.dayz=2"])
    assert r.exit_code == 2
    assert "unknown field 'dayz' (did you mean 'days'?)" in r.output


def test_run_policy_option_suggests_the_nearest(tmp_path: Path) -> None:
    args = ["run", str(QUICKSTART), "--policy", "Round_Robin", "--results", str(tmp_path)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2
    assert "unknown policy 'Round_Robin' (did you mean 'round_robin'?)" in r.output


def test_nearest() -> None:
    assert nearest("Linux", ["windows", "linux"]) == "linux"  # case first
    assert nearest("threds", ["threads", "cores"]) == "threads"
    assert nearest("zzz", ["threads", "cores"]) is None
    assert nearest("cores", ["cores"]) is None  # nothing to suggest for a valid value
    assert did_you_mean("zzz", ["a"]) == ""


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"pool": "pool-aa"}, "unknown pool 'pool-aa' (did you mean 'pool-a'?)"),
        ({"pool": "pool-b"}, "unknown pool 'pool-b'; pools are: pool-a"),  # another pool
        ({"proxy": "proxy-1"}, "unknown proxy 'proxy-1' (did you mean 'proxy-01'?)"),
        ({"backup_jobs": ["exchang"]}, "unknown job exchang (did you mean 'exchange'?)"),
        ({"target": "windw"}, "unknown target 'windw' (did you mean 'window'?)"),
    ],
)
def test_size_options_suggest_the_nearest(options: dict[str, object], expected: str) -> None:
    from sim.experiment.sizing import size_problem

    with pytest.raises(ScenarioError) as info:
        size_problem(QUICKSTART, **options)  # type: ignore[arg-type]
    assert expected in str(info.value)


# --- references: only the right namespace, only likely typos ------------------------------------

DRILL = (ROOT / "scenarios" / "maintenance-drill.yaml").read_text(encoding="utf-8")
PROXIES = "proxies are: proxy-01, proxy-02, proxy-03, proxy-04, proxy-05, proxy-06"


def drill_problems(old: str, new: str) -> list[str]:
    assert old in DRILL
    return problems(DRILL.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # another member of the numbered series is no typo: no suggestion, the list instead
        ("members: [proxy-01,", "members: [proxy-07,", f"unknown proxy 'proxy-07'; {PROXIES}"),
        ("fail, proxy: proxy-02", "fail, proxy: proxy-09", f"unknown proxy 'proxy-09'; {PROXIES}"),
        # the same number written differently, and a slip, are
        ("fail, proxy: proxy-02", "fail, proxy: proxy-2", "(did you mean 'proxy-02'?)"),
        ("fail, proxy: proxy-02", "fail, proxy: prxy-02", "(did you mean 'proxy-02'?)"),
        # a pool where a proxy is needed is said to be one, not matched to a proxy
        (
            "fail, proxy: proxy-02",
            "fail, proxy: pool-night",
            "unknown proxy 'pool-night' ('pool-night' is a pool, not a proxy)",
        ),
        (
            "members: [proxy-01,",
            "members: [pool-night,",
            "('pool-night' is a pool, not a proxy)",
        ),
        # a repository owner is a pool or a standalone proxy: a pooled proxy is never suggested
        (
            "owner: pool-night",
            "owner: proxy-3",
            "unknown owner 'proxy-3'; a repository is owned by one pool (pool-night)",
        ),
        ("owner: pool-night", "owner: pool-nite", "(did you mean 'pool-night'?)"),
    ],
)
def test_reference_suggestions_come_from_the_right_names(old: str, new: str, expected: str) -> None:
    msgs = drill_problems(old, new)
    assert any(expected in m for m in msgs), msgs
    assert not any("did you mean" in m for m in msgs if "did you mean" not in expected), msgs


def test_a_standalone_proxy_is_suggested_as_an_owner_and_a_failure_target() -> None:
    text = DRILL.replace(
        "pools:", "  - {name: archive-01, os: linux, cores: 8, ram: 32 GB}\n\npools:", 1
    )
    msgs = problems(text.replace("owner: pool-night", "owner: archive-1", 1))
    assert any("unknown owner 'archive-1' (did you mean 'archive-01'?)" in m for m in msgs)
    failures = "failures:\n  - {proxies: [proxy-1], mtbf: {mean: 30d}, mttr: {mean: 1h}}\n"
    msgs = problems(DRILL.replace("timeline:", failures + "\ntimeline:", 1))
    assert any("unknown proxy 'proxy-1' (did you mean 'proxy-01'?)" in m for m in msgs), msgs


def test_siblings_and_edits() -> None:
    assert siblings("proxy-07", "proxy-06") and siblings("pool-b", "pool-a")
    assert siblings("Site B", "site a")
    assert not siblings("proxy-1", "proxy-01") and not siblings("qq", "q")
    assert not siblings("proxy-07", "proxy-07-old")  # parts differ in number: no series
    assert edits("thredas", "threads") == 1  # a swap is one edit
    assert edits("pool-nite", "pool-night") == 3
    assert nearest("jsq_wait", ["jsq_waiting", "jsq"]) == "jsq_waiting"
    assert nearest("pool-a", ["proxy-a"]) is None  # 3 edits in 7 characters: another word
    assert nearest("wset", ["west"]) == "west"  # one slip in a short word stays a typo
    assert nearest("east", ["west"]) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["compare", "{s}", "-p", "jsq", "--executor", "dasky"], "--executor 'dasky' (did you "
         "mean 'dask'?): allowed: local, dask"),
        (["bench", "speed", "--only", "swep"], "--only 'swep' (did you mean 'sweep'?)"),
        (["import", "{e}", "-o", "{o}", "--initial-state", "protcted"], "--initial-state "
         "'protcted' (did you mean 'protected'?): allowed: empty, protected"),
    ],
)  # fmt: skip
def test_option_values_suggest_the_nearest(tmp_path: Path, args: list[str], expected: str) -> None:
    """Options with a fixed list of values echo a bad one with the nearest allowed value."""
    names = {"s": QUICKSTART, "e": ROOT / "examples" / "vb365-export", "o": tmp_path / "x.yaml"}
    r = CliRunner().invoke(app, [a.format(**names) for a in args])
    assert r.exit_code == 2, r.output
    assert expected in " ".join(r.output.split())


def test_option_values_are_case_insensitive(tmp_path: Path) -> None:
    """``--executor LOCAL``, ``--target Window`` and ``--initial-state Empty`` are taken as
    their lowercase values, as enum values in a scenario are."""
    mmc = str(ROOT / "scenarios" / "mmc-pool.yaml")
    res = ["--results", str(tmp_path / "res"), "-j", "1"]
    r = CliRunner().invoke(
        app, ["compare", mmc, "-p", "jsq", "-r", "2", "--executor", "LOCAL", *res]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "x.yaml"
    export = str(ROOT / "examples" / "vb365-export")
    r = CliRunner().invoke(app, ["import", export, "-o", str(out), "--initial-state", "Empty"])
    assert r.exit_code == 0, r.output
    assert "initial_state: empty" in out.read_text(encoding="utf-8")
    args = ["size", str(QUICKSTART), "--target", "Window", "--job", "exchange", "--min", "1"]
    args += ["--max", "1", "-r", "1", "--confidence", "0.5", "--set", "simulation.days=1"]
    r = CliRunner().invoke(app, [*args, *res])
    assert r.exit_code in (0, 5), r.output
    assert "unknown target" not in r.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "{q}", "--seed", "-1"], "'--seed': -1: allowed: an integer >= 0"),
        (["compare", "{q}", "-p", "jsq", "-r", "0"], "-r': 0: allowed: an integer >= 1"),
        (["size", "{q}", "--max", "0"], "'--max': 0: allowed: an integer >= 1"),
        (["sweep", "{q}", "--grid", "seed=1,2", "-j", "0"], "-j': 0: allowed: an integer >= 1"),
        (["run", "{q}", "--seed", "abc"], "'--seed': 'abc': allowed: an integer >= 0"),
    ],
)
def test_integer_options_echo_the_value(args: list[str], expected: str) -> None:
    r = CliRunner().invoke(app, [a.format(q=QUICKSTART) for a in args])
    assert r.exit_code == 2, r.output
    assert expected in " ".join(r.output.split())
