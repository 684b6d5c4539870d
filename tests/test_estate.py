"""``poolsim import``: VB365 REST and PowerShell exports -> a scenario that validates and runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.estate import ExportError, Options, import_estate, read_export
from sim.estate.read import Record, parse_time
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
REST = ROOT / "examples" / "vb365-export"
PS = REST / "powershell"
runner = CliRunner()


def body(text: str) -> str:
    """The YAML without the header comments (which name the files read)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    return "\n".join(lines[start:])


def copy_export(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.json"):
        shutil.copy(f, dst / f.name)
    return dst


def imported(folder: Path, tmp_path: Path, **kw: Any) -> Any:
    return import_estate(folder, tmp_path / "x.yaml", Options(name="x", **kw))


def spec_of(result: Any, tmp_path: Path) -> Any:
    path = tmp_path / "spec.yaml"
    path.write_text(result.text, encoding="utf-8")
    return load_scenario(path).spec


# --- both namings, any file names ----------------------------------------------------------


def test_rest_and_powershell_import_to_the_same_scenario(tmp_path: Path) -> None:
    rest = imported(REST, tmp_path)
    ps = imported(PS, tmp_path)
    assert rest.imported.naming == "rest" and ps.imported.naming == "powershell"
    assert body(rest.text) == body(ps.text)
    assert spec_of(rest, tmp_path) == spec_of(ps, tmp_path)


def test_resources_are_recognised_from_content_not_file_names(tmp_path: Path) -> None:
    folder = tmp_path / "renamed"
    folder.mkdir()
    for i, f in enumerate(sorted(PS.glob("*.json"))):
        shutil.copy(f, folder / f"export-{i:02d}.JSON")
    assert body(imported(folder, tmp_path).text) == body(imported(PS, tmp_path).text)


def test_utf16_with_bom_as_windows_powershell_writes_it(tmp_path: Path) -> None:
    folder = copy_export(PS, tmp_path / "utf16")
    for f in folder.glob("*.json"):
        f.write_bytes(f.read_text(encoding="utf-8").encode("utf-16"))
    assert body(imported(folder, tmp_path).text) == body(imported(PS, tmp_path).text)


# --- the mapping ----------------------------------------------------------------------------


def test_the_mapping_of_the_example_estate(tmp_path: Path) -> None:
    res = imported(REST, tmp_path)
    sc = spec_of(res, tmp_path)
    proxies = {p.name: p for p in sc.proxies}
    assert set(proxies) == {"vb-px01", "vb-px02", "vb-px03", "vb-px04"}
    assert proxies["vb-px01"].os == "linux" and proxies["vb-px04"].os == "windows"
    assert proxies["vb-px01"].dns == "vb-px01.corp.alderbank.example"
    assert proxies["vb-px04"].threads == 32
    assert proxies["vb-px01"].throttle is None  # throttlingValue 0 / disabled: no throttle
    assert proxies["vb-px04"].throttle == pytest.approx(100e6)  # 100 MBps
    assert [(p.name, p.members) for p in sc.pools] == [
        ("pool-east", ["vb-px01", "vb-px02", "vb-px03"])
    ]
    repos = {r.name: r for r in sc.repositories}
    assert (repos["s3-east"].kind, repos["s3-east"].owner) == ("s3", "pool-east")
    assert (repos["wasabi-labs"].kind, repos["wasabi-labs"].owner) == ("wasabi", "vb-px04")
    jobs = {j.name: j for j in sc.jobs}
    assert "Old test job" not in jobs  # disabled: left out, and reported
    assert [e.why for e in res.imported.exclusions] == ["the job is disabled"]
    assert jobs["Alderbank Exchange"].workloads == ["exchange"]
    assert jobs["Alderbank SharePoint and Teams"].workloads == ["sharepoint", "teams"]
    assert jobs["Alderbank SharePoint and Teams"].schedule.days == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    # EntireOrganization: every workload the organization has (no Teams in Brookfield)
    assert jobs["Brookfield entire organization"].workloads == [
        "exchange",
        "onedrive",
        "sharepoint",
    ]
    assert jobs["Alderbank Exchange"].schedule.daily == 20 * 3600
    assert jobs["Alderbank Exchange"].retry is not None
    assert jobs["Alderbank Exchange"].retry.attempts == 3
    assert jobs["Alderbank Exchange"].retry.wait == 600
    assert jobs["Alderbank OneDrive"].retry is None
    assert {t.name for t in sc.tenants} == {"alderbank", "brookfield-labs"}
    # the backup window: allowed every night 20:00-07:00, the session stops when it exceeds it
    brookfield = jobs["Brookfield entire organization"].schedule
    assert brookfield.allowed_hours == ["mon-sun 20-07"] and brookfield.terminate_on_window
    assert jobs["Alderbank Exchange"].schedule.allowed_hours is None
    # the backup copy job: Immediate, into the archive tier of the same pool
    copy = jobs["Alderbank Exchange copy"]
    assert (copy.type, copy.source_job, copy.repository) == (
        "backup_copy",
        "Alderbank Exchange",
        "glacier-east",
    )
    assert copy.schedule.after_source and copy.tenant == "alderbank"
    assert (repos["glacier-east"].kind, repos["glacier-east"].owner) == ("s3_glacier", "pool-east")
    # the VB365 IDs are kept
    raw = json.loads((REST / "Jobs.json").read_text())["results"]
    assert jobs["Alderbank Exchange"].vb365_id == raw[0]["id"]
    assert sc.pools[0].vb365_id and all(p.vb365_id for p in sc.proxies)
    assert all(r.vb365_id for r in sc.repositories) and all(t.vb365_id for t in sc.tenants)
    assert sc.simulation.initial_state == "protected"


def test_values_not_in_the_export_say_where_they_came_from(tmp_path: Path) -> None:
    text = imported(REST, tmp_path, users={"alderbank": 3000}, proxy_cores=16).text
    assert "cores: 16  # not in the export: --proxy-cores (default 8)" in text
    assert 'ram: "32 GiB"  # not in the export: --proxy-ram (default 32 GiB)' in text
    assert "users: 3000  # not in the export: --users" in text
    assert "users: 1000  # not in the export: poolsim import's placeholder 1000 (INFERRED)" in text
    assert "policy: pull_fifo  # not in the export" in text
    assert "initial_state: protected  # --initial-state" in text


def test_entire_organization_and_no_selected_items_cover_every_workload(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "e")
    jobs = json.loads((folder / "Jobs.json").read_text())
    jobs["results"][0]["backupType"] = "SelectedItems"
    jobs["results"][0]["selectedItems"] = []
    (folder / "Jobs.json").write_text(json.dumps(jobs))
    sc = spec_of(imported(folder, tmp_path), tmp_path)
    assert sc.jobs[0].workloads == ["exchange", "onedrive", "sharepoint", "teams"]


def test_standalone_proxy_of_a_pooled_repository_owner_and_pool_from_pool_id(
    tmp_path: Path,
) -> None:
    """Without a pool file, pools come from the proxies' poolId; a repository whose proxy is
    pooled belongs to the pool."""
    folder = copy_export(REST, tmp_path / "p")
    (folder / "ProxyPools.json").unlink()
    repos = json.loads((folder / "repos.json").read_text())
    del repos["results"][0]["proxyPoolId"]
    repos["results"][0]["proxyId"] = json.loads((folder / "proxies-export.json").read_text())[0][
        "id"
    ]
    (folder / "repos.json").write_text(json.dumps(repos))
    res = imported(folder, tmp_path)
    sc = spec_of(res, tmp_path)
    assert len(sc.pools) == 1 and sc.pools[0].members == ["vb-px01", "vb-px02", "vb-px03"]
    assert sc.pools[0].name.startswith("pool-")
    assert "named from its ID" in res.text
    assert sc.repositories[0].owner == sc.pools[0].name


def test_throttling_disabled_means_no_throttle(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "t")
    proxies = json.loads((folder / "proxies-export.json").read_text())
    proxies[3]["enableNetworkThrottling"] = False
    (folder / "proxies-export.json").write_text(json.dumps(proxies))
    sc = spec_of(imported(folder, tmp_path), tmp_path)
    assert all(p.throttle is None for p in sc.proxies)


# --- the command line: validates and runs as written -----------------------------------------


def test_import_then_validate_then_run(tmp_path: Path) -> None:
    out = tmp_path / "estate.yaml"
    r = runner.invoke(
        app,
        ["import", str(REST), "-o", str(out), "--users", "60", "--days", "2"],
    )
    assert r.exit_code == 0, r.output
    assert f"wrote {out}: 2 tenant(s), 4 proxies, 1 pool(s), 3 repositories, 5 job(s)" in r.stdout
    assert "left out 1:" in r.stdout and "Old test job: the job is disabled" in r.stdout
    assert "4 job sessions found" in r.stdout
    v = runner.invoke(app, ["validate", "--strict", str(out)])
    assert v.exit_code == 0, v.output  # lint advice acknowledged in the file
    run = runner.invoke(app, ["run", str(out), "--results", str(tmp_path / "res"), "--no-plots"])
    assert run.exit_code == 0, run.output
    (folder,) = (tmp_path / "res" / "estate").iterdir()
    sessions = json.loads((folder / "jobsessions.json").read_text())
    ids = {j.vb365_id for j in load_scenario(out).spec.jobs}
    assert sessions["results"] and {s["jobId"] for s in sessions["results"]} <= ids


def test_initial_state_option_and_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "estate.yaml"
    assert (
        runner.invoke(
            app, ["import", str(PS), "-o", str(out), "--initial-state", "empty"]
        ).exit_code
        == 0
    )
    assert load_scenario(out).spec.simulation.initial_state == "empty"
    again = runner.invoke(app, ["import", str(PS), "-o", str(out)])
    assert again.exit_code == 2 and "exists: give --overwrite" in again.stderr
    ok = runner.invoke(app, ["import", str(PS), "-o", str(out), "--overwrite"])
    assert ok.exit_code == 0
    assert load_scenario(out).spec.simulation.initial_state == "protected"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "many"], "--users 'many': expected a whole number >= 1"),
        (["--users", "nobody=10"], "--users nobody=...: no organization of that name"),
        (["--initial-state", "full"], "--initial-state 'full': allowed: empty, protected"),
        (["--proxy-ram", "32"], "--proxy-ram '32': a size needs a unit"),
        (["--proxy-cores", "0"], "--proxy-cores 0: allowed 1-256"),
        (["--inventory", "x.csv"], "--inventory 'x.csv': expected ORGANIZATION=FILE"),
        (["--start", "2026-03-02"], "--start: '2026-03-02' has no time zone"),
        (["--start", "2026-03-02T06:00:00Z"], "is not a midnight"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    r = runner.invoke(app, ["import", str(REST), "-o", str(tmp_path / "x.yaml"), *args])
    assert r.exit_code == 2, r.output
    assert message in r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "x.yaml").exists()


def test_start_and_users_per_organization(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    r = runner.invoke(
        app,
        [
            "import", str(REST), "-o", str(out), "--start", "2026-03-02T00:00:00+01:00",
            "--users", "alderbank.onmicrosoft.com=2500", "--users", "brookfield-labs=700",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    sc = load_scenario(out).spec
    assert sc.simulation.start == "2026-03-02T00:00:00+01:00"
    assert sc.simulation.start_weekday == "mon"
    assert {t.name: t.users for t in sc.tenants} == {"alderbank": 2500, "brookfield-labs": 700}
    assert "placeholder" not in r.stderr


# --- bad input: a clear error naming file and field, or a counted, reported exclusion -------


def write(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def error_of(folder: Path, tmp_path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        imported(folder, tmp_path)
    return str(info.value)


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "m")
    write(folder, "Jobs.json", '{"offset": 0,\n "results": [ {"id": 1,} ]}')
    msg = error_of(folder, tmp_path)
    assert "Jobs.json:2:" in msg and "malformed JSON" in msg


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "e")
    write(folder, "more.json", "  \n")
    msg = error_of(folder, tmp_path)
    assert "more.json" in msg and "empty file" in msg


def test_empty_collection_and_other_files_are_reported(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "c")
    write(folder, "nothing.json", '{"offset": 0, "limit": 30, "results": []}')
    write(folder, "notes.txt", "exported on Monday")
    res = imported(folder, tmp_path)
    assert ("nothing.json", "holds no records (an empty collection)") in res.export.ignored
    assert ("notes.txt", "not a .json file") in res.export.ignored
    assert "#   nothing.json: ignored, holds no records" in res.text


def test_missing_field_names_file_record_and_field(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "f")
    proxies = json.loads((folder / "proxies-export.json").read_text())
    del proxies[2]["hostName"]
    del proxies[2]["fqdn"]
    (folder / "proxies-export.json").write_text(json.dumps(proxies))
    msg = error_of(folder, tmp_path)
    assert "proxies-export.json: [2].hostName: missing field 'hostName'" in msg


def test_unknown_record_and_mixed_file(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "u")
    write(folder, "odd.json", '[{"colour": "blue"}]')
    assert "odd.json: [0]: cannot tell which VB365 resource this is (its fields: colour)" in (
        error_of(folder, tmp_path)
    )
    (folder / "odd.json").unlink()
    proxies = json.loads((folder / "proxies-export.json").read_text())
    org = json.loads((folder / "Organizations.json").read_text())["results"][0]
    write(folder, "proxies-export.json", json.dumps([*proxies, org]))
    assert "[4]: this record is a organization but the file's first record is a proxy" in (
        error_of(folder, tmp_path)
    )


BAD_PROXIES: list[tuple[dict[str, Any], str]] = [
    (
        {"throttlingValue": 5, "throttlingUnit": "Furlongs", "enableNetworkThrottling": True},
        "[0].throttlingUnit: unknown throttling unit 'Furlongs'",
    ),
    ({"operatingSystem": 1}, "[0].operatingSystem: unknown operating system 1"),
    ({"threadsNumber": "lots"}, "[0].threadsNumber: 'lots' is not a whole number"),
    ({"id": "SAME"}, "[1].id: proxy ID"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_PROXIES)
def test_bad_proxy_values(tmp_path: Path, edit: Any, message: str) -> None:
    folder = copy_export(REST, tmp_path / "b")
    proxies = json.loads((folder / "proxies-export.json").read_text())
    if edit.get("id") == "SAME":
        proxies[1]["id"] = proxies[0]["id"]
    else:
        proxies[0].update(edit)
    (folder / "proxies-export.json").write_text(json.dumps(proxies))
    assert message in error_of(folder, tmp_path)


def test_enum_numbers_are_refused_with_the_way_out(tmp_path: Path) -> None:
    folder = copy_export(PS, tmp_path / "n")
    jobs = json.loads((folder / "get-vbojob.json").read_text())
    jobs[0]["SchedulePolicy"]["DailyType"] = 0
    (folder / "get-vbojob.json").write_text(json.dumps(jobs))
    msg = error_of(folder, tmp_path)
    assert "[0].SchedulePolicy.DailyType: 0 is an enum number" in msg
    assert "-EnumsAsStrings" in msg


def test_references_to_missing_resources(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "r")
    jobs = json.loads((folder / "Jobs.json").read_text())
    jobs["results"][1]["repositoryId"] = "00000000-1111-2222-3333-444444444444"
    (folder / "Jobs.json").write_text(json.dumps(jobs))
    assert "Jobs.json: results[1].repositoryId: repository '00000000-1111" in error_of(
        folder, tmp_path
    )
    (folder / "Organizations.json").unlink()
    assert "no organizations in the export" in error_of(folder, tmp_path) or "organization" in (
        error_of(folder, tmp_path)
    )


def test_not_a_folder_and_no_exports(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found: expected a folder"):
        read_export(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="no JSON export files"):
        read_export(tmp_path / "empty")


def test_cli_bad_export_exits_2_without_traceback(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "cli")
    write(folder, "Jobs.json", "[")
    r = runner.invoke(app, ["import", str(folder), "-o", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2
    assert "Jobs.json:1:2: (top level): malformed JSON" in r.stderr
    assert "Traceback" not in r.output


def rec(**data: Any) -> Record:
    return Record("s.json", "[0]", data)


def test_timestamps_with_zones_compare_in_utc() -> None:
    a = parse_time(rec(creationTime="2026-03-02T20:00:00+01:00"), "creationTime")
    b = parse_time(rec(CreationTime="2026-03-02T19:00:00Z"), "creationTime")
    c = parse_time(rec(CreationTime="/Date(1772478000000)/"), "creationTime")
    assert a == b == c
    with pytest.raises(ExportError, match=r"s.json: \[0\].creationTime: .* has no time zone"):
        parse_time(rec(creationTime="2026-03-02T20:00:00"), "creationTime")
    with pytest.raises(ExportError, match="is not an ISO 8601 date-time"):
        parse_time(rec(creationTime="yesterday"), "creationTime")


def test_an_estate_breaking_a_scenario_rule_is_not_written(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "rule")
    proxies = json.loads((folder / "proxies-export.json").read_text())
    for p in proxies[:3]:
        p["maintenanceModeState"] = "Enabled"  # the whole pool in maintenance
    (folder / "proxies-export.json").write_text(json.dumps(proxies))
    out = tmp_path / "x.yaml"
    r = runner.invoke(app, ["import", str(folder), "-o", str(out)])
    assert r.exit_code == 2
    assert f"{out} (not written):" in r.stderr and "pools[0].members" in r.stderr
    assert "no active member" in r.stderr
    assert not out.exists()


def test_inventory_option_is_written_relative_to_the_scenario(tmp_path: Path) -> None:
    inv = tmp_path / "data" / "alder.csv"
    inv.parent.mkdir()
    inv.write_text("type,size,items\nmailbox,1 GB,1000\nonedrive,2 GB,500\n")
    out = tmp_path / "scen" / "x.yaml"
    out.parent.mkdir()
    r = runner.invoke(app, ["import", str(REST), "-o", str(out), "--inventory", f"alderbank={inv}"])
    assert r.exit_code == 0, r.output
    spec = load_scenario(out).spec
    assert {t.name: t.inventory for t in spec.tenants}["alderbank"] == "../data/alder.csv"
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    missing = runner.invoke(
        app,
        ["import", str(REST), "-o", str(tmp_path / "y.yaml"), "--inventory", "alderbank=no.csv"],
    )
    assert (
        missing.exit_code == 2 and "--inventory alderbank=no.csv: file not found" in missing.stderr
    )


# --- backup windows and backup copy jobs ------------------------------------------------------

NIGHTS = [(h % 24) >= 20 or (h % 24) < 7 for h in range(168)]  # Sunday 00:00 first


def edit_json(folder: Path, name: str, edit: Any) -> None:
    data = json.loads((folder / name).read_text(encoding="utf-8"))
    edit(data)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def jobs_of(folder: Path, tmp_path: Path) -> tuple[dict[str, Any], Any]:
    res = imported(folder, tmp_path)
    return {j.name: j for j in spec_of(res, tmp_path).jobs}, res


def test_the_window_grid_starts_on_sunday_and_becomes_allowed_hours(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "w")
    grid = [False] * 168
    for h in range(22, 24):  # Sunday 22:00-24:00 and Monday 00:00-05:00: one block
        grid[h] = True
    for h in range(24, 29):
        grid[h] = True
    grid[6 * 24 + 9] = True  # Saturday 09:00-10:00

    def window(data: Any) -> None:
        pol = data["results"][0]["schedulePolicy"]
        pol["backupWindowEnabled"] = True
        pol["backupWindowSettings"] = {"backupWindow": grid, "minuteOffset": -300}

    edit_json(folder, "Jobs.json", window)
    jobs, res = jobs_of(folder, tmp_path)
    sched = jobs["Alderbank Exchange"].schedule
    assert sched.allowed_hours == ["sat 09-10", "sun 22-05"]
    assert sched.terminate_on_window
    assert "INFERRED order; the server's local time, minuteOffset -300" in res.text


@pytest.mark.parametrize(
    ("settings", "outcome"),
    [
        (None, "the backup window is enabled but its settings"),
        ({"backupWindow": [True] * 24}, "24 values: expected 168 true/false values"),
        ({"backupWindow": ["yes"] * 168}, "expected 168 true/false values"),
        ({"backupWindow": [False] * 168}, "excluded: its backup window allows no hour"),
    ],
)
def test_bad_backup_windows(tmp_path: Path, settings: Any, outcome: str) -> None:
    folder = copy_export(REST, tmp_path / "b")

    def window(data: Any) -> None:
        pol = data["results"][0]["schedulePolicy"]
        pol["backupWindowEnabled"] = True
        if settings is not None:
            pol["backupWindowSettings"] = settings

    edit_json(folder, "Jobs.json", window)
    if outcome.startswith("excluded: "):
        res = imported(folder, tmp_path)
        why = outcome.removeprefix("excluded: ")
        assert any(
            e.what == "job Alderbank Exchange" and e.why.startswith(why)
            for e in res.imported.exclusions
        )
        assert "Alderbank Exchange copy" in res.text  # its copy is then left out too
        assert "its backup job 350393bf" in res.text
    else:
        msg = error_of(folder, tmp_path)
        assert "Jobs.json: results[0].schedulePolicy" in msg and outcome in msg


def test_a_disabled_window_is_not_imported(tmp_path: Path) -> None:
    folder = copy_export(PS, tmp_path / "d")

    def off(data: Any) -> None:
        data[3]["SchedulePolicy"]["BackupWindowEnabled"] = False

    edit_json(folder, "get-vbojob.json", off)
    jobs, _ = jobs_of(folder, tmp_path)
    sched = jobs["Brookfield entire organization"].schedule
    assert sched.allowed_hours is None and not sched.terminate_on_window


def test_copy_job_schedules_in_both_namings(tmp_path: Path) -> None:
    rest = copy_export(REST, tmp_path / "rest")
    ps = copy_export(PS, tmp_path / "ps")

    def rest_daily(data: Any) -> None:
        pol = data["results"][0]["schedulePolicy"]
        pol.update(type="DailyAtTime", dailyType="Weekends", dailyTime="06:00:00")
        pol.update(backupCopyWindowEnabled=True)
        pol["backupCopyWindowSettings"] = {"backupWindow": NIGHTS, "minuteOffset": 60}

    def ps_daily(data: Any) -> None:
        pol = data[0]["SchedulePolicy"]
        pol.update(Type="Daily", DailyType="Weekends")
        pol["DailyTime"] = {"Hours": 6, "Minutes": 0, "TotalSeconds": 21600.0}
        pol["BackupWindowSettings"] = {"BackupWindow": NIGHTS, "MinuteOffset": 60}

    edit_json(rest, "CopyJobs.json", rest_daily)
    edit_json(ps, "get-vbocopyjob.json", ps_daily)
    assert body(imported(rest, tmp_path).text) == body(imported(ps, tmp_path).text)
    jobs, _ = jobs_of(rest, tmp_path)
    sched = jobs["Alderbank Exchange copy"].schedule
    assert (sched.daily, sched.days, sched.after_source) == (6 * 3600, ["sat", "sun"], False)
    assert sched.allowed_hours == ["mon-sun 20-07"] and sched.terminate_on_window

    def periodic(data: Any) -> None:
        data["results"][0]["schedulePolicy"] = {
            "type": "Periodically",
            "periodicallyEvery": "Hours4",
        }

    edit_json(rest, "CopyJobs.json", periodic)
    jobs, _ = jobs_of(rest, tmp_path)
    assert jobs["Alderbank Exchange copy"].schedule.periodic == 4 * 3600


def test_copy_jobs_left_out_and_refused(tmp_path: Path) -> None:
    folder = copy_export(REST, tmp_path / "c")

    def disabled(data: Any) -> None:
        data["results"][0]["isEnabled"] = False

    edit_json(folder, "CopyJobs.json", disabled)
    res = imported(folder, tmp_path)
    assert [(e.what, e.why) for e in res.imported.exclusions][-1] == (
        "backup copy job Alderbank Exchange copy",
        "the job is disabled",
    )
    # the copy of a disabled backup job is left out with it
    folder = copy_export(REST, tmp_path / "s")

    def of_old_job(data: Any) -> None:
        data["results"][0]["backupJobId"] = "f8fbc67b-d608-52bc-a1db-ae12b4d4c43d"

    edit_json(folder, "CopyJobs.json", of_old_job)
    res = imported(folder, tmp_path)
    assert any(e.why.startswith("its backup job f8fbc67b-") for e in res.imported.exclusions), (
        res.imported.exclusions
    )

    # a backup job or a target repository the export does not hold is an error
    def of_unknown_job(data: Any) -> None:
        data["results"][0]["backupJobId"] = "00000000-1111-2222-3333-444444444444"

    edit_json(folder, "CopyJobs.json", of_unknown_job)
    assert "CopyJobs.json: results[0].backupJobId: backup job '00000000-1111" in error_of(
        folder, tmp_path
    )
    folder = copy_export(PS, tmp_path / "u")

    def to_unknown_repository(data: Any) -> None:
        data[0]["Repository"] = {"Id": "00000000-1111-2222-3333-444444444444", "Name": "nowhere"}

    edit_json(folder, "get-vbocopyjob.json", to_unknown_repository)
    assert "[0].Repository: repository '00000000-1111" in error_of(folder, tmp_path)
    # a target the import leaves out (a JET repository of a pool) leaves the copy out
    folder = copy_export(REST, tmp_path / "j")

    def jet(data: Any) -> None:
        del data["results"][2]["objectStorage"]

    edit_json(folder, "repos.json", jet)
    res = imported(folder, tmp_path)
    assert [e.why for e in res.imported.exclusions][-1].startswith("its target repository d4f6")
    # a schedule type is required and must be one VB365 has
    folder = copy_export(REST, tmp_path / "t")

    def no_type(data: Any) -> None:
        del data["results"][0]["schedulePolicy"]["type"]

    edit_json(folder, "CopyJobs.json", no_type)
    msg = error_of(folder, tmp_path)
    assert "CopyJobs.json: results[0].schedulePolicy.type: missing field 'type'" in msg

    def bad_type(data: Any) -> None:
        data["results"][0]["schedulePolicy"]["type"] = "Hourly"

    edit_json(folder, "CopyJobs.json", bad_type)
    assert "unknown value 'Hourly'; allowed: Immediate, DailyAtTime" in error_of(folder, tmp_path)


def test_allowed_hours_entries_read_back_as_the_grid() -> None:
    import numpy as np

    from sim.scenario.calendar import allowed_hours_entries, parse_allowed_hours

    rng = np.random.default_rng(18)
    for trial in range(3000):
        if trial % 2:
            grid = rng.random(168) < rng.random()
        else:  # one block anywhere in the week, up to the whole week
            grid = np.zeros(168, dtype=bool)
            grid[(rng.integers(168) + np.arange(rng.integers(1, 169))) % 168] = True
        entries = allowed_hours_entries(grid.tolist())
        if grid.any():
            assert (parse_allowed_hours(entries) == grid).all(), entries
        else:
            assert entries == []
    assert allowed_hours_entries([True] * 168) == ["mon-sun 00-24"]
