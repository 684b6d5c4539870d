"""``jobsessions.json``: a run's sessions in the representation of ``GET /v8/JobSessions``."""

from __future__ import annotations

import json
import uuid
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sim.experiment.run import RunResult, simulate
from sim.report.folders import write_results
from sim.report.jobsessions import STATISTICS, _status, job_sessions, job_uuid
from sim.scenario import load_scenario_text

JOB_ID = "6c1f3a8e-3b7e-4d0a-9a51-2f8d0c4e7b19"


def scenario(
    *,
    start: str | None = None,
    job: str = "",
    calibration: str = "",
    days: int = 2,
) -> str:
    sim_start = f"\n  start: '{start}'" if start else ""
    return f"""
name: js
seed: 5
tenants:
  - {{name: contoso, users: 40}}
proxies:
  - {{name: proxy-01, os: linux, cores: 4, threads: 16}}
  - {{name: proxy-02, os: linux, cores: 4, threads: 16}}
pools:
  - {{name: pool-a, members: [proxy-01, proxy-02]}}
repositories:
  - {{name: s3-main, kind: s3, owner: pool-a, write_bandwidth: 1 Gbps}}
jobs:
  - name: mail
    vb365_id: {JOB_ID}
    tenant: contoso
    workloads: [exchange]
    repository: s3-main
    schedule: {{daily: "20:00"}}{job}
  - name: files
    tenant: contoso
    workloads: [onedrive, sharepoint, teams]
    repository: s3-main
    schedule: {{daily: "21:00"}}
{calibration}
simulation:
  days: {days}{sim_start}
"""


def run(text: str) -> RunResult:
    return simulate(load_scenario_text(text))


def parse_utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def base() -> RunResult:
    return run(scenario())


def test_every_session_has_every_field(base: RunResult) -> None:
    page = job_sessions(base)
    assert list(page) == ["offset", "limit", "results"]
    assert page["offset"] == 0 and page["limit"] == len(page["results"])
    ran = base.sessions[~base.sessions["skipped"]]
    assert len(page["results"]) == len(ran) > 0
    for s in page["results"]:
        assert {"id", "jobId", "creationTime", "endTime", "status", "progress"} <= set(s)
        assert list(s["statistics"]) == list(STATISTICS)
        for key in STATISTICS[:-1]:
            value = s["statistics"][key]
            assert isinstance(value, int) and value >= 0, (key, value)
        assert s["statistics"]["bottleneck"] in ("Source", "Target", "NA")
        assert s["poolsim"]["bottleneck"] in ("Source", "Proxy", "Target", "NA")
        assert s["status"] in ("Success", "Warning", "Failed", "Stopped", "Running")
        assert parse_utc(s["endTime"]) >= parse_utc(s["creationTime"])
        assert s["progress"] == s["statistics"]["processedObjects"]
        uuid.UUID(s["id"])
        uuid.UUID(s["jobId"])
    assert len({s["id"] for s in page["results"]}) == len(page["results"])


def test_statistics_agree_with_the_sessions_table(base: RunResult) -> None:
    page = job_sessions(base)
    ran = base.sessions[~base.sessions["skipped"]].reset_index(drop=True)
    for s, row in zip(page["results"], ran.itertuples(), strict=True):
        st = s["statistics"]
        assert st["processedObjects"] == row.objects_done
        assert st["transferredDataBytes"] == round(row.bytes_read)
        duration = (parse_utc(s["endTime"]) - parse_utc(s["creationTime"])).total_seconds()
        assert st["processingRateBytesPS"] == pytest.approx(row.bytes_read / duration, rel=1e-3)
        # read and write rates count only the time objects were in process: never slower
        assert st["readRateBytesPS"] >= st["processingRateBytesPS"] - 1
        assert st["writeRateBytesPS"] <= st["readRateBytesPS"]  # compression < 1


def test_job_id_is_vb365_id_or_a_stable_uuid_of_the_name(base: RunResult) -> None:
    page = job_sessions(base)
    by_name = {s["poolsim"]["jobName"]: s["jobId"] for s in page["results"]}
    assert by_name["mail"] == JOB_ID
    assert by_name["files"] == job_uuid("files")
    assert job_uuid("files") != job_uuid("mail")
    again = job_sessions(run(scenario()))
    assert [s["id"] for s in again["results"]] == [s["id"] for s in page["results"]]


def test_timestamps_are_utc_from_simulation_start() -> None:
    default = job_sessions(run(scenario(days=1)))["results"]
    # default start: Monday 2024-01-01 00:00 UTC; the mail job starts at 20:00
    mail = next(s for s in default if s["poolsim"]["jobName"] == "mail")
    assert mail["creationTime"].startswith("2024-01-01T20:00:0")
    shifted = job_sessions(run(scenario(start="2026-03-02T00:00:00+01:00", days=1)))["results"]
    mail2 = next(s for s in shifted if s["poolsim"]["jobName"] == "mail")
    assert mail2["creationTime"].startswith("2026-03-02T19:00:0")  # 20:00 at +01:00
    a = parse_utc(mail["creationTime"]) - datetime(2024, 1, 1, tzinfo=UTC)
    b = parse_utc(mail2["creationTime"]) - datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert abs((a - b).total_seconds()) < 1e-3
    assert mail2["poolsim"]["scheduledTime"] == "2026-03-02T19:00:00.000Z"


def test_a_proxy_bottleneck_is_na_for_the_product_and_proxy_for_poolsim() -> None:
    """A proxy far too slow: the run ends unfinished, its sessions are Running (no endTime)
    and those that processed anything were limited by the proxy."""
    slow = "calibration:\n  bps_per_core: 10 KB/s\n"
    result = run(scenario(calibration=slow, days=1))
    assert result.truncated
    page = job_sessions(result)
    assert {s["status"] for s in page["results"]} == {"Running"}
    assert all(s["endTime"] is None for s in page["results"])
    measured = [s for s in page["results"] if s["poolsim"]["bottleneckShares"]["proxy"] is not None]
    assert measured
    for s in measured:
        assert s["poolsim"]["bottleneck"] == "Proxy"
        assert s["statistics"]["bottleneck"] == "NA"
        shares = s["poolsim"]["bottleneckShares"]
        assert shares["proxy"] == max(shares.values())
    for s in page["results"]:  # all seven statistics even when nothing was processed
        assert list(s["statistics"]) == list(STATISTICS)


def test_failed_and_warning_sessions() -> None:
    failed = job_sessions(run(scenario(job="\n    failure_probability: 1.0", days=1)))
    mail = next(s for s in failed["results"] if s["poolsim"]["jobName"] == "mail")
    assert mail["status"] == "Failed"
    assert mail["statistics"]["processedObjects"] == 0 and mail["progress"] == 0
    assert mail["statistics"]["processingRateItemsPS"] == 0
    some = job_sessions(run(scenario(job="\n    failure_probability: 0.3", days=1)))
    mail = next(s for s in some["results"] if s["poolsim"]["jobName"] == "mail")
    assert mail["status"] == "Warning" and mail["poolsim"]["objectsFailed"] > 0


def test_stopped_when_terminated_at_the_window() -> None:
    text = scenario().replace(
        'schedule: {daily: "20:00"}', 'schedule: {daily: "20:00", window: 1min, '
        "terminate_on_window: true}"
    )  # fmt: skip
    page = job_sessions(run(text))
    mail = [s for s in page["results"] if s["poolsim"]["jobName"] == "mail"]
    assert mail and all(s["status"] == "Stopped" for s in mail)
    for s in mail:
        span = parse_utc(s["endTime"]) - parse_utc(s["creationTime"])
        assert span <= timedelta(minutes=1, seconds=1)


Row = namedtuple("Row", "end terminated objects objects_failed")


def test_status_rules() -> None:
    assert _status(Row(float("nan"), False, 5, 0)) == "Running"
    assert _status(Row(10.0, True, 5, 0)) == "Stopped"
    assert _status(Row(10.0, False, 5, 5)) == "Failed"
    assert _status(Row(10.0, False, 5, 1)) == "Warning"
    assert _status(Row(10.0, False, 5, 0)) == "Success"
    assert _status(Row(10.0, False, 0, 0)) == "Success"


def test_written_in_every_run_folder(base: RunResult, tmp_path: Path) -> None:
    folder = write_results(base, tmp_path, run_id="r", plots=False)
    page: dict[str, Any] = json.loads((folder / "jobsessions.json").read_text())
    assert page == json.loads(json.dumps(job_sessions(base)))


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-03-02T00:00:00", "has no time zone"),
        ("2026-03-02T20:00:00Z", "is not a midnight"),
        ("Monday", "is not an ISO 8601 date-time"),
    ],
)
def test_bad_simulation_start_names_line_and_field(start: str, message: str) -> None:
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        load_scenario_text(scenario(start=start), "s.yaml")
    text = str(info.value)
    assert "s.yaml:" in text and "simulation.start" in text and message in text


def test_start_sets_the_weekday_and_must_agree_with_it() -> None:
    from sim.errors import ScenarioError

    loaded = load_scenario_text(scenario(start="2026-03-04T00:00:00-05:00"))
    assert loaded.spec.simulation.start_weekday == "wed"
    clash = scenario(start="2026-03-04T00:00:00Z").replace(
        "days: 2", "days: 2\n  start_weekday: mon"
    )
    with pytest.raises(ScenarioError, match="is a wed, but start_weekday is 'mon'"):
        load_scenario_text(clash)


def test_busy_seconds_is_the_length_of_the_union() -> None:
    import numpy as np

    from sim.report.jobsessions import _busy_seconds

    def union(starts: list[float], ends: list[float]) -> float:
        total, cur = 0.0, None
        for a, b in sorted((a, b) for a, b in zip(starts, ends, strict=True) if b > a):
            if cur is None or a > cur[1]:
                total += 0 if cur is None else cur[1] - cur[0]
                cur = [a, b]
            else:
                cur[1] = max(cur[1], b)
        return total + (cur[1] - cur[0] if cur else 0.0)

    assert _busy_seconds(np.array([0.0, 1.0, 10.0]), np.array([5.0, 3.0, 12.0])) == 7.0
    assert _busy_seconds(np.array([np.nan]), np.array([1.0])) == 0.0
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 40))
        s = rng.uniform(0, 100, n)
        e = s + rng.uniform(0, 15, n)
        assert _busy_seconds(s, e) == pytest.approx(union(list(s), list(e)))


def test_day_and_session_are_the_sessions_tables(base: RunResult) -> None:
    """One numbering everywhere (docs/model.md): a session's ``day`` and ``session`` in
    ``jobsessions.json`` are those of ``sessions.csv`` (days from 1), and its statistics come
    from that session's own tasks."""
    page = job_sessions(base)
    ran = base.sessions[~base.sessions["skipped"]]
    assert [(s["poolsim"]["session"], s["poolsim"]["day"]) for s in page["results"]] == [
        (int(r.session), int(r.day)) for r in ran.itertuples()
    ]
    assert {s["poolsim"]["day"] for s in page["results"]} == {1, 2}
    for s in page["results"]:
        mine = base.tasks[base.tasks["session"] == s["poolsim"]["session"]]
        assert s["progress"] == int((mine["status"] == "done").sum())
