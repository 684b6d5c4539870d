"""Job types, schedules, retries, growth and incrementals (sim/model/job.py, scenario/calendar.py).

Scenarios are tiny and exact (``exact_calibration``: no overhead, resolve, metadata or restore
point time unless a test sets one, no change noise, unlimited proxies, items and repositories),
with equal object sizes and fixed item sizes, so expected times and bytes are exact. Sources:
vb365 facts 11, 16, 21, 28, 30, 33-36 and 38.

The proxy's per-object scan CPU and the per-object change probability stay at their shipped
defaults: a backup object holds a core for ``SCAN`` seconds before its bytes move, and an
incremental reads only the objects that changed (``incremental``). Tests that measure a rate
over a busy span leave the scan out (``NO_SCAN_CPU``), since it opens a gap in the span.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers.scenario import (
    HUGE,
    NO_SCAN_CPU,
    exact_calibration,
    fixed_objects,
    ram_for,
    repository,
    run,
    tenant,
)

import sim
from sim import defaults as d
from sim.scenario import ScenarioError
from sim.scenario.schema import with_units

MB = 1e6
DAY = 86_400.0
HOUR = 3_600.0
SCAN = d.CPU_PER_OBJECT_S_OF_WORKLOAD["exchange"]
"""Seconds a mailbox's scan holds a core of a Windows proxy before its bytes move."""


def incremental(
    size: np.ndarray, rate: float, elapsed: np.ndarray, p: float, changed: np.ndarray
) -> np.ndarray:
    """Bytes an incremental reads (change_sigma 0): an object changes on a day with probability
    ``p``, so over ``elapsed`` days with q = 1 - (1 - p)^elapsed; one that changed carries
    ``rate x elapsed / q`` of its size (the expected change stays ``rate`` per day), one that
    did not, nothing."""
    q = 1.0 - (1.0 - p) ** elapsed
    return np.where(changed, size * rate * elapsed / q, 0.0)


def backup(name: str = "b", repo: str = "r", **schedule: Any) -> dict[str, Any]:
    """A backup job of every workload of tenant 't' (daily 00:00 unless a schedule is given)."""
    return {
        "name": name,
        "tenant": "t",
        "repository": repo,
        "schedule": schedule or {"daily": "00:00"},
    }


def estate(
    objects: dict[str, Any],
    jobs: list[dict[str, Any]],
    *,
    threads: int = 64,
    repos: list[dict[str, Any]] | None = None,
    tenant_kw: dict[str, Any] | None = None,
    cal: dict[str, Any] | None = None,
    days: int = 1,
    start_weekday: str = "mon",
    seed: int = 0,
    extra_pools: list[dict[str, Any]] | None = None,
    extra_proxies: list[dict[str, Any]] | None = None,
    proxy_kw: dict[str, Any] | None = None,
) -> str:
    """One tenant 't' (RU budget out of the way), one pool 'pool' of one proxy 'p1' (with
    ``threads`` and ``proxy_kw``), repository 'r'."""
    data = {
        "name": "jobs",
        "seed": seed,
        "tenants": [
            tenant(objects=objects, **{"sharepoint_ru_per_min": HUGE, **(tenant_kw or {})})
        ],
        "proxies": [
            {"name": "p1", "threads": threads, **(proxy_kw or {})},
            *(extra_proxies or []),
        ],
        "pools": [{"name": "pool", "members": ["p1"]}, *(extra_pools or [])],
        "repositories": repos or [repository("r", "pool")],
        "jobs": jobs,
        "calibration": cal if cal is not None else exact_calibration(1 * MB),
        "simulation": {"days": days, "start_weekday": start_weekday, "bucket": 300},
    }
    return yaml.safe_dump(with_units(data), sort_keys=False)


def problems(text: str) -> list[str]:
    """The messages of the ScenarioError raised by loading ``text``."""
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario_text(text)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def of_job(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame[(frame["job"] == name).to_numpy()]


# -- backup copy (facts 11, 28, 30, 33) ----------------------------------------------------------


def copy_job(
    source: str = "b", repo: str = "g", name: str = "c", **schedule: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "backup_copy",
        "source_job": source,
        "tenant": "t",
        "repository": repo,
        "schedule": schedule or {"after_source": True},
    }


COPY_OBJECTS = fixed_objects({"mailbox": (4, 100 * MB), "onedrive": (2, 100 * MB)}, 1 * MB, 0.01)


def copy_run(kind: str = "s3_glacier", days: int = 3) -> Any:
    cal = exact_calibration(1 * MB, restore_point=30, metadata_ios_per_object=2500)
    text = estate(
        COPY_OBJECTS,
        [backup(), copy_job()],
        repos=[repository("r", "pool"), repository("g", "pool", kind=kind)],
        cal=cal,
        days=days,
    )
    return run(text)


def test_backup_copy_runs_right_after_each_source_session() -> None:
    r = copy_run()
    src, cp = of_job(r.sessions, "b"), of_job(r.sessions, "c")
    assert len(src) == len(cp) == 3
    assert (cp["type"] == "backup_copy").all()
    # each copy starts when its source session ends (after metadata and the restore point)
    np.testing.assert_allclose(cp["start"].to_numpy(), src["end"].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(cp["scheduled"].to_numpy(), src["end"].to_numpy(), atol=1e-9)
    assert (src["end"] - src["start"] >= 30.0).all()
    assert not cp["skipped"].any()


def test_backup_copy_copies_stored_bytes_not_yet_copied() -> None:
    r = copy_run()
    t = r.tasks
    src = t[(t["job"] == "b").to_numpy()]
    cp = t[(t["job"] == "c").to_numpy()]
    sessions = sorted(src["session"].unique())
    copies = sorted(cp["session"].unique())
    for k, (s_id, c_id) in enumerate(zip(sessions, copies, strict=True)):
        written = src[src["session"] == s_id].set_index("object")["bytes_written"]
        copied = cp[cp["session"] == c_id].set_index("object")["work_bytes"]
        # first copy: everything the source wrote (the fulls); later: only the new restore point,
        # of the objects that changed (an object the source wrote nothing of is not copied)
        if k > 0:
            assert (written == 0).any()  # this seed leaves an object unchanged
        written = written[written > 0]
        pd.testing.assert_series_equal(
            copied.sort_index(), written.sort_index(), check_names=False, rtol=1e-12
        )
        if k == 0:
            comp = np.where(
                src[src["session"] == s_id]["workload"] == "exchange",
                d.COMPRESSION_OF_WORKLOAD["exchange"],
                d.COMPRESSION_OF_WORKLOAD["onedrive"],
            )
            assert copied.sum() == pytest.approx(float((100 * MB * comp).sum()))
            assert cp[cp["session"] == c_id]["full"].all()
        else:
            assert copied.sum() < 0.05 * src[src["session"] == sessions[0]]["bytes_written"].sum()
            assert not cp[cp["session"] == c_id]["full"].any()
    # a copy reads stored bytes and writes them as they are
    np.testing.assert_allclose(cp["bytes_read"], cp["work_bytes"], rtol=1e-12)
    np.testing.assert_allclose(cp["bytes_written"], cp["bytes_read"], rtol=1e-12)
    assert (cp["status"] == "done").all()
    # over all sessions the copy holds exactly what the source stored
    assert cp["bytes_read"].sum() == pytest.approx(src["bytes_written"].sum(), rel=1e-12)


@pytest.mark.parametrize("kind", ["s3", "azure_blob", "s3_glacier", "azure_archive"])
def test_backup_copy_may_target_any_object_storage_tier(kind: str) -> None:
    r = copy_run(kind, days=1)
    assert (of_job(r.tasks, "c")["status"] == "done").all()


def test_backup_copy_writes_256_mb_blobs() -> None:
    # 0.1 PUT/s on the copy target with one metadata object per blob: 0.1 x 256 MB / 2 = 12.8 MB/s
    # of stored bytes (the 50 MB/s copy thread alone would exceed it)
    objects = fixed_objects({"mailbox": (2, 1000 * MB)}, 1 * MB)
    text = estate(
        objects,
        [backup(), copy_job()],
        repos=[
            repository("r", "pool"),
            repository("g", "pool", kind="s3_glacier", put_rate=0.1),
        ],
        cal=exact_calibration(100 * MB, **NO_SCAN_CPU),  # a rate over the busy span
    )
    r = run(text)
    cp = of_job(r.tasks, "c")
    span = float(cp["end"].max() - cp["start"].min())
    expected = 0.1 * d.BACKUP_COPY_BLOB_BYTES / (1 + d.METADATA_OBJECTS_PER_BLOB)
    assert float(cp["bytes_read"].sum()) / span == pytest.approx(expected, rel=0.01)
    assert of_job(r.sessions, "c").iloc[0]["bottleneck_target"] == pytest.approx(1.0)


def test_backup_to_an_archive_tier_is_a_validation_error() -> None:
    for kind in ("s3_glacier", "azure_archive"):
        text = estate(COPY_OBJECTS, [backup(repo="g")], repos=[repository("g", "pool", kind=kind)])
        msgs = problems(text)
        assert any("jobs[0].repository" in m and "archive tier" in m for m in msgs), msgs


def test_copy_source_and_target_must_share_the_owner() -> None:
    text = estate(
        COPY_OBJECTS,
        [backup(), copy_job()],
        repos=[repository("r", "pool"), repository("g", "pool2", kind="s3_glacier")],
        extra_proxies=[{"name": "p2"}],
        extra_pools=[{"name": "pool2", "members": ["p2"]}],
    )
    msgs = problems(text)
    assert any(
        "jobs[1].repository" in m and "same proxy or pool" in m and "pool2" in m for m in msgs
    ), msgs


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        ([backup(), {**copy_job(), "source_job": None}], "needs 'source_job'"),
        ([backup(), copy_job(source="nope")], "'nope' is not a backup job"),
        ([backup(), copy_job(repo="r")], "cannot target its own source"),
        ([backup(), {**backup("x"), "source_job": "b"}], "only backup_copy jobs"),
        ([backup(after_source=True)], "after_source is for backup_copy jobs only"),
    ],
)
def test_invalid_backup_copy_jobs(jobs: list[dict[str, Any]], expected: str) -> None:
    repos = [repository("r", "pool"), repository("g", "pool", kind="s3_glacier")]
    msgs = problems(estate(COPY_OBJECTS, jobs, repos=repos))
    assert any(expected in m for m in msgs), msgs


# -- restore (facts 22, 25) ----------------------------------------------------------------------


def restore_job(name: str = "rs", repo: str = "r", **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "restore",
        "tenant": "t",
        "workloads": ["exchange"],
        "repository": repo,
        "schedule": {"once": "00:00"},
        **kw,
    }


def test_restore_writes_each_mailbox_at_the_upload_ceiling() -> None:
    # Graph: 150 MB upload per 5 min per mailbox = 0.5 MB/s; thread_rate (100 MB/s) is for reads.
    # No scan CPU: a task's duration is its transfer's alone
    objects = fixed_objects({"mailbox": (3, 10 * MB)}, 1 * MB)
    r = run(estate(objects, [restore_job()], cal=exact_calibration(100 * MB, **NO_SCAN_CPU)))
    t = r.tasks
    assert pytest.approx(0.5 * MB) == d.MAILBOX_UPLOAD_BPS
    np.testing.assert_allclose(t["end"] - t["start"], 10 * MB / (0.5 * MB), rtol=1e-9)
    np.testing.assert_allclose(t["bytes_written"], t["work_bytes"], rtol=1e-12)
    np.testing.assert_allclose(t["bytes_read"], 10 * MB, rtol=1e-12)
    s = r.sessions.iloc[0]
    assert s["type"] == "restore"
    assert s["full_objects"] == 3 and s["objects_done"] == 3
    assert s["bottleneck_source"] == pytest.approx(1.0)  # the Microsoft 365 side


def test_restore_reads_stored_bytes_from_the_repository() -> None:
    # read bandwidth 0.5 MB/s of stored bytes at compression 0.5 = 1 MB/s restored, below the
    # 8 x 0.5 MB/s the mailboxes could take: the repository is the bottleneck
    objects = fixed_objects({"mailbox": (8, 10 * MB)}, 1 * MB)
    repo = repository("r", "pool", read_bandwidth="0.5 MB/s", compression={"exchange": 0.5})
    cal = exact_calibration(100 * MB, **NO_SCAN_CPU)  # a rate over the busy span
    r = run(estate(objects, [restore_job()], repos=[repo], cal=cal))
    t = r.tasks
    span = float(t["end"].max() - t["start"].min())
    assert float(t["bytes_read"].sum()) / span == pytest.approx(1 * MB, rel=0.01)
    assert r.sessions.iloc[0]["bottleneck_target"] == pytest.approx(1.0)


def test_restore_reads_from_its_source_repository() -> None:
    objects = fixed_objects({"mailbox": (8, 10 * MB)}, 1 * MB)
    repos = [
        repository("r", "pool"),
        repository("slow", "pool", read_bandwidth="0.5 MB/s", compression={"exchange": 0.5}),
    ]
    job = restore_job(source_repository="slow")
    cal = exact_calibration(100 * MB, **NO_SCAN_CPU)  # a rate over the busy span
    t = run(estate(objects, [job], repos=repos, cal=cal)).tasks
    span = float(t["end"].max() - t["start"].min())
    assert float(t["bytes_read"].sum()) / span == pytest.approx(1 * MB, rel=0.01)


def test_unknown_restore_source_repository_is_a_validation_error() -> None:
    objects = fixed_objects({"mailbox": (1, 10 * MB)}, 1 * MB)
    msgs = problems(estate(objects, [restore_job(source_repository="nope")]))
    assert any("source_repository" in m and "nope" in m for m in msgs), msgs


# -- schedules (fact 35) -------------------------------------------------------------------------

SMALL = fixed_objects({"mailbox": (2, 10 * MB)}, 1 * MB, 0.01)


def sessions_of(schedule: dict[str, Any], days: int = 1, **kw: Any) -> pd.DataFrame:
    return run(estate(kw.pop("objects", SMALL), [backup(**schedule)], days=days, **kw)).sessions


@pytest.mark.parametrize(
    ("start_weekday", "expected_days"),
    [("sun", [2, 4, 9, 11, 16]), ("mon", [1, 3, 8, 10, 15]), ("thu", [5, 7, 12, 14])],
)
def test_daily_schedule_runs_only_on_its_weekdays(
    start_weekday: str, expected_days: list[int]
) -> None:
    s = sessions_of(
        {"daily": "22:00", "days": ["mon", "wed"]}, days=16, start_weekday=start_weekday
    )
    assert s["day"].tolist() == expected_days
    np.testing.assert_allclose(s["scheduled"], [(k - 1) * DAY + 22 * HOUR for k in expected_days])
    np.testing.assert_allclose(s["start"], s["scheduled"])
    assert not s["skipped"].any()


def test_incremental_reads_the_change_since_the_last_backup() -> None:
    # mon and wed: the wednesday session reads two days of change, the next monday five
    r = run(estate(SMALL, [backup(daily="00:00", days=["mon", "wed"])], days=8))
    s = r.sessions
    assert s["day"].tolist() == [1, 3, 8]
    size = 10 * MB
    p = d.CHANGE_PROBABILITY_OF_TYPE["mailbox"]
    t = r.tasks
    expected = [2 * size]
    for sid, days in ((1, 2), (2, 5)):
        g = t[t["session"] == sid]
        changed = g["changed"].to_numpy()
        work = incremental(np.full(len(g), size), 0.01, np.full(len(g), float(days)), p, changed)
        np.testing.assert_allclose(g["work_bytes"], work, rtol=1e-9)
        expected.append(float(work.sum()))
    np.testing.assert_allclose(s["bytes_read"], expected, rtol=1e-9)


def test_periodic_every_4h_with_offset() -> None:
    s = sessions_of({"periodic": "4h", "offset": "10min"}, days=2)
    expected = [600.0 + k * 4 * HOUR for k in range(12)]
    np.testing.assert_allclose(s["scheduled"], expected)
    np.testing.assert_allclose(s["start"], expected)
    assert s["day"].tolist() == [1] * 6 + [2] * 6
    assert (s["end"] > s["start"]).all()


def test_a_run_due_while_the_previous_session_runs_is_skipped() -> None:
    # every 5 min, a first session of SCAN + 400 s: the 00:05 run is skipped, 00:10 runs
    objects = fixed_objects({"mailbox": (2, 400 * MB)}, 1 * MB)
    s = sessions_of({"periodic": "5min"}, objects=objects)
    assert len(s) == 288  # every 5 min of the day is recorded
    first = s.iloc[:3]
    assert first["skipped"].tolist() == [False, True, False]
    assert first["scheduled"].tolist() == [0.0, 300.0, 600.0]
    assert first["end"].iloc[0] == pytest.approx(SCAN + 400.0)
    assert 300.0 < SCAN + 400.0 < 600.0  # so the 00:05 run is due while the first one runs
    skipped = first.iloc[1]
    assert math.isnan(skipped["start"]) and skipped["objects"] == 0
    assert not bool(skipped["within_window"])
    assert s["skipped"].sum() == 1
    assert s["session"].tolist() == list(range(288))


def test_once_on_day() -> None:
    s = sessions_of({"once": "13:00", "on_day": 2}, days=3)
    assert len(s) == 1
    assert s.iloc[0]["scheduled"] == DAY + 13 * HOUR
    assert s.iloc[0]["day"] == 2  # the day the scenario names: days count from 1 everywhere
    # a 'once' after the simulated days never runs
    assert sessions_of({"once": "13:00", "on_day": 4}, days=3).empty


LONG = fixed_objects({"mailbox": (3, 20_000 * MB)}, 1 * MB)
"""Three objects of SCAN + 20,000 s on one thread: over 60,000 s, longer than a 20:00-06:00 block
(36,000 s)."""


def test_allowed_hours_shift_the_start_and_terminate_at_the_block_end() -> None:
    r = run(
        estate(
            LONG,
            [backup(daily="12:00", allowed_hours=["mon-sun 20-06"], terminate_on_window=True)],
            threads=1,
        )
    )
    s = r.sessions.iloc[0]
    assert s["scheduled"] == 12 * HOUR
    assert s["start"] == 20 * HOUR
    assert s["end"] == pytest.approx(DAY + 6 * HOUR)
    assert bool(s["terminated"]) and not bool(s["within_window"])
    t = r.tasks.sort_values("task")
    assert t["status"].tolist() == ["done", "cancelled", "cancelled"]
    first_end = 20 * HOUR + SCAN + 20_000
    np.testing.assert_allclose(t["end"].iloc[:2], [first_end, DAY + 6 * HOUR])
    # what the stopped object moved (after its scan) is kept (fact 36); the queued one never
    # started
    moved = (DAY + 6 * HOUR - first_end - SCAN) * MB
    assert t["bytes_read"].iloc[1] == pytest.approx(moved)
    assert t["bytes_written"].iloc[1] > 0
    assert math.isnan(t["start"].iloc[2]) and t["bytes_read"].iloc[2] == 0
    assert s["objects_done"] == 1 and s["objects_failed"] == 0


def test_allowed_hours_without_terminate_let_the_session_finish_outside_them() -> None:
    r = run(estate(LONG, [backup(daily="12:00", allowed_hours=["mon-sun 20-06"])], threads=1))
    s = r.sessions.iloc[0]
    assert s["start"] == 20 * HOUR
    assert s["end"] == pytest.approx(20 * HOUR + 3 * (SCAN + 20_000))
    assert not bool(s["terminated"]) and not bool(s["within_window"])
    assert (r.tasks["status"] == "done").all()


def test_terminated_objects_are_fulls_next_time() -> None:
    # a 10 h window stops the session; the objects not done stay due (fact 38)
    r = run(
        estate(
            LONG,
            [backup(daily="00:00", window="10h", terminate_on_window=True)],
            threads=1,
            days=2,
            cal=exact_calibration(1 * MB, change_sigma=0),
        )
    )
    s = r.sessions
    assert s["terminated"].tolist() == [True, True]
    t = r.tasks
    second = t[t["session"] == 1].sort_values("object")
    assert second["full"].tolist() == [False, True, True]
    assert second["status"].tolist() == ["done", "done", "cancelled"]


@pytest.mark.parametrize(
    ("schedule", "where", "message"),
    [
        ({"daily": "20:00", "allowed_hours": ["mon-fry 20-06"]}, "allowed_hours", "not a weekday"),
        ({"daily": "20:00", "allowed_hours": ["monday 20-06"]}, "allowed_hours", "DAY[-DAY] HH-HH"),
        ({"daily": "20:00", "allowed_hours": ["mon 25-06"]}, "allowed_hours", "must be 0-23"),
        ({"daily": "20:00", "allowed_hours": ["mon 20-20"]}, None, None),  # wraps: a full day
        ({"periodic": "3h"}, "periodic", "allowed periods"),
        ({"periodic": "45min"}, "periodic", "allowed periods"),
        ({"periodic": "1h", "offset": "70min"}, "offset", "0-59 minutes"),
        ({"periodic": "1h", "days": ["mon"]}, "days", "daily schedules only"),
        ({"daily": "20:00", "periodic": "1h"}, "schedule", "exactly one of"),
        ({"window": "8h"}, "schedule", "exactly one of"),
        ({"daily": "20:00", "terminate_on_window": True}, "terminate_on_window", "needs a window"),
        ({"daily": "20:00", "allowed_hours": []}, "allowed_hours", "allows no hour at all"),
        ({"daily": "20:00", "days": ["funday"]}, "days", ""),
        ({"once": "10:00", "on_day": 0}, "on_day", ""),
    ],
)
def test_invalid_schedules_are_validation_errors(
    schedule: dict[str, Any], where: str | None, message: str | None
) -> None:
    text = estate(SMALL, [{**backup(), "schedule": schedule}])
    if where is None:
        sim.load_scenario_text(text)
        return
    msgs = problems(text)
    assert any(where in m and message in m for m in msgs), msgs


def test_allowed_hours_wrap_past_midnight() -> None:
    from sim.scenario.calendar import parse_allowed_hours

    grid = parse_allowed_hours(["mon-sun 20-06"])
    assert grid.sum() == 7 * 10
    assert grid[0 * 24 + 20] and grid[1 * 24 + 5] and not grid[1 * 24 + 6]
    assert grid[6 * 24 + 23] and grid[0 * 24 + 0]  # sunday night wraps into monday


# -- retries and failures (facts 35, 38) ---------------------------------------------------------

RETRY_OBJECTS = fixed_objects({"mailbox": (60, 100 * MB)}, 1 * MB)
"""60 objects of SCAN + 100 s on 64 threads with a core each: a round of attempts is one wave."""


def failing(retry: dict[str, Any] | None, seed: int = 3, days: int = 1) -> Any:
    j = {**backup(), "failure_probability": 0.3}
    if retry is not None:
        j["retry"] = retry
    return run(estate(RETRY_OBJECTS, [j], seed=seed, days=days, proxy_kw={"cores": 64}))


def test_failed_objects_are_retried_after_the_wait() -> None:
    r = failing({"attempts": 3, "wait": "10min"})
    t, s = r.tasks, r.sessions.iloc[0]
    rounds = sorted(t["attempts"].unique())
    assert rounds[0] == 1 and rounds[-1] <= 1 + 3
    assert len(rounds) >= 2  # this seed needs retries
    assert s["retries"] == len(rounds) - 1
    starts = [t[t["attempts"] == k]["start"].unique() for k in rounds]
    assert all(len(x) == 1 for x in starts)  # one wave per round
    for k in range(1, len(rounds)):
        # a round ends with its successful attempts (SCAN + 100 s); the next starts 10 min later
        assert (t[t["attempts"] == rounds[k - 1]]["status"] == "done").any()
        assert starts[k][0] == pytest.approx(starts[k - 1][0] + SCAN + 100.0 + 600.0)
    # retried attempts redo the object from the start: the failed share is counted again
    assert s["redone_bytes"] > 0
    done = t[t["status"] == "done"]
    assert s["bytes_read"] == pytest.approx(done["work_bytes"].sum() + s["redone_bytes"])
    assert (t[t["attempts"] > 1]["redone_bytes"] > 0).all()
    assert (t[t["attempts"] == 1]["redone_bytes"] == 0).all()
    assert s["objects_done"] + s["objects_failed"] == 60


def test_without_retry_failed_objects_stay_failed() -> None:
    r = failing(None, days=2)
    t = r.tasks
    first = t[t["session"] == 0]
    assert (first["attempts"] == 1).all()
    failed = first[first["status"] == "failed"]
    assert 0 < len(failed) < 60
    assert (r.sessions["retries"] == 0).all()
    s = r.sessions.iloc[0]
    assert s["objects_failed"] == len(failed)
    # a failed attempt stopped part-way: its bytes are read, counted as redone, nothing is kept
    assert ((failed["bytes_read"] > 0) & (failed["bytes_read"] < failed["work_bytes"])).all()
    np.testing.assert_allclose(failed["redone_bytes"], failed["bytes_read"])
    assert s["bytes_read"] == pytest.approx(
        first[first["status"] == "done"]["work_bytes"].sum() + s["redone_bytes"]
    )
    # the next session backs them up in full: their last good state never existed (fact 38)
    second = t[t["session"] == 1].set_index("object")
    assert second.loc[failed["object"], "full"].all()
    ok = first[first["status"] == "done"]["object"]
    assert not second.loc[ok, "full"].any()


def test_failure_probability_is_per_attempt() -> None:
    # 1,000 objects, no retry: the failed fraction is Binomial(1000, 0.3) / 1000
    objects = fixed_objects({"mailbox": (1000, 1 * MB)}, 1 * MB)
    j = {**backup(), "failure_probability": 0.3}
    t = run(estate(objects, [j], threads=1000, seed=7)).tasks
    share = float((t["status"] == "failed").mean())
    se = math.sqrt(0.3 * 0.7 / 1000)
    assert abs(share - 0.3) < 4 * se
    # each failing attempt stops after a uniform share of its bytes: mean 1/2
    frac = (t["bytes_read"] / t["work_bytes"])[t["status"] == "failed"]
    assert abs(float(frac.mean()) - 0.5) < 4 * math.sqrt(1 / 12 / len(frac))


@pytest.mark.parametrize("retry", [None, {"attempts": 1, "wait": "1min"}, {"attempts": 5}])
def test_every_object_ends_done_or_failed_once_per_session(retry: dict[str, Any] | None) -> None:
    r = failing(retry, seed=11, days=2)
    t = r.tasks
    for sid, g in t.groupby("session"):
        assert g["object"].is_unique, sid
        assert set(g["status"]) <= {"done", "failed"}
        assert len(g) == 60
    for _, s in r.sessions.iterrows():
        assert s["objects_done"] + s["objects_failed"] == s["objects"] == 60
        attempts = t[t["session"] == s.name]["attempts"]
        limit = 1 + (retry or {"attempts": 0}).get("attempts", d.RETRY_ATTEMPTS)
        assert attempts.max() <= limit
        assert s["retries"] == attempts.max() - 1


def test_failures_are_reproducible_with_the_seed() -> None:
    a, b = failing({"attempts": 2}), failing({"attempts": 2})
    pd.testing.assert_frame_equal(a.tasks, b.tasks)
    c = failing({"attempts": 2}, seed=4)
    assert not a.tasks["attempts"].equals(c.tasks["attempts"])


# -- growth and incrementals (facts 21, 34) ------------------------------------------------------

GROW = fixed_objects({"mailbox": (100, 10 * MB), "onedrive": (100, 10 * MB)}, 1 * MB)


def test_grown_objects_are_fulls_on_later_days() -> None:
    text = estate(
        GROW,
        [backup()],
        tenant_kw={"growth_per_day": 0.05},
        days=3,
        threads=256,
        proxy_kw={"ram": ram_for(256)},  # every object starts at once: one day elapses
        cal=exact_calibration(100 * MB),
    )
    r = run(text)
    s = r.sessions
    per_day = round(0.05 * 200)
    assert s["objects"].tolist() == [200, 210, 220]
    assert s["full_objects"].tolist() == [200, per_day, per_day]
    t = r.tasks
    assert (t[t["session"] == 0]["start"] == 0).all()  # so one day elapses for every object
    size = t[t["full"]].set_index("object")["work_bytes"]  # a full reads the whole object
    assert size.index.is_unique and len(size) == 220
    for sid in (1, 2):
        g = t[t["session"] == sid]
        new = g[g["full"]]
        # only the objects grown that day, read whole
        assert sorted(new["object"]) == list(range(190 + per_day * sid, 200 + per_day * sid))
        np.testing.assert_allclose(new["bytes_read"], new["work_bytes"])
        # everything else is an incremental of one day's change (0.5 %, change_sigma 0)
        old = g[~g["full"]]
        p = np.where(
            old["workload"] == "exchange",
            d.CHANGE_PROBABILITY_OF_TYPE["mailbox"],
            d.CHANGE_PROBABILITY_OF_TYPE["onedrive"],
        )
        changed = old["changed"].to_numpy()
        assert 0 < changed.sum() < len(old)
        expected = incremental(size.loc[old["object"]].to_numpy(), 0.005, 1.0, p, changed)
        np.testing.assert_allclose(old["work_bytes"], expected, rtol=1e-9)


def test_grown_objects_stay_with_one_job_of_a_split_tenant() -> None:
    jobs = [
        {**backup("a"), "share": 0.5},
        {**backup("b"), "share": 0.5, "share_offset": 0.5},
    ]
    text = estate(
        GROW,
        jobs,
        tenant_kw={"growth_per_day": 0.05},
        days=4,
        threads=256,
        cal=exact_calibration(100 * MB),
    )
    r = run(text)
    t = r.tasks
    owner: dict[int, str] = {}
    for _, row in t.iterrows():
        assert owner.setdefault(int(row["object"]), str(row["job"])) == row["job"], row["object"]
    fulls = r.sessions.groupby("day")["full_objects"].sum()
    assert fulls.tolist() == [200, 10, 10, 10]


def test_incremental_is_exactly_the_change_of_the_changed_objects_without_noise() -> None:
    objects = fixed_objects(
        {"mailbox": (10, 100 * MB), "onedrive": (10, 200 * MB)}, 1 * MB, daily_change=0.02
    )
    r = run(estate(objects, [backup()], days=3, cal=exact_calibration(100 * MB)))
    t = r.tasks
    assert (t[t["session"] == 0]["start"] == 0).all()  # 20 objects on 64 threads
    for sid in (1, 2):
        g = t[t["session"] == sid].sort_values("object")
        exchange = (g["workload"] == "exchange").to_numpy()
        size = np.where(exchange, 100 * MB, 200 * MB)
        p = np.where(
            exchange,
            d.CHANGE_PROBABILITY_OF_TYPE["mailbox"],
            d.CHANGE_PROBABILITY_OF_TYPE["onedrive"],
        )
        changed = g["changed"].to_numpy()
        assert changed[exchange].any() and not changed[~exchange].all()
        work = incremental(size, 0.02, 1.0, p, changed)
        np.testing.assert_allclose(g["work_bytes"], work, rtol=1e-12)
        items = np.where(changed, np.maximum(1, np.round(work / MB)), 0)
        np.testing.assert_allclose(g["items"], items)
        assert not g["full"].any()


def test_incremental_mean_matches_the_daily_change_with_noise() -> None:
    # change_sigma 0.5: a mailbox changes with probability p, and one that changed carries
    # size x 0.5 % / p x eps, eps lognormal of mean 1. Per mailbox, x = work / (size x 0.5 %)
    # is B eps / p (B Bernoulli(p)): mean 1, variance e^(sigma^2) / p - 1; the mean of x over n
    # mailboxes is within 4 standard errors of 1 (the expected change is the daily change)
    n, sigma, rate = 500, 0.5, 0.005
    p = d.CHANGE_PROBABILITY_OF_TYPE["mailbox"]
    objects = fixed_objects({"mailbox": (n, 100 * MB)}, 1 * MB, daily_change=rate)
    cal = exact_calibration(100 * MB, change_sigma=sigma)
    r = run(
        estate(
            objects,
            [backup()],
            days=2,
            threads=n,
            proxy_kw={"ram": ram_for(n)},  # every mailbox starts at once
            cal=cal,
            seed=1,
        )
    )
    t = r.tasks
    assert (t[t["session"] == 0]["start"] == 0).all()  # so exactly one day elapsed
    second = t[t["session"] == 1]
    x = second["work_bytes"].to_numpy() / (100 * MB * rate)
    tol = 4 * math.sqrt(math.exp(sigma**2) / p - 1) / math.sqrt(n)
    assert abs(x.mean() - 1) < tol
    assert r.sessions.iloc[1]["bytes_read"] == pytest.approx(n * 100 * MB * rate, rel=tol)
    # the changed ones: eps = x p, lognormal of mean 1 and the configured spread; the sample sd
    # of a lognormal (sigma 0.5, kurtosis ~8.9) has a relative standard error of
    # sqrt((kurtosis - 1) / 4m) ~ 6 %; 4 of them
    changed = second["changed"].to_numpy()
    assert (x[~changed] == 0).all()
    eps = x[changed] * p
    sd = math.sqrt(math.exp(sigma**2) - 1)  # of a lognormal with mean 1
    assert abs(eps.mean() - 1) < 4 * sd / math.sqrt(len(eps))
    assert eps.std() == pytest.approx(sd, rel=0.25)


def _db_scenario(connections: int) -> str:
    return f"""
name: db
seed: 1
tenants:
  - name: t
    users: 10
    objects:
      mailbox: {{count: 4, size_sigma: 0, mean_size: 10 MB, mean_item_size: 1 MB}}
      archive_mailbox: {{count: 0}}
      shared_mailbox: {{count: 0}}
      onedrive: {{count: 4, size_sigma: 0, mean_size: 10 MB, mean_item_size: 1 MB}}
      site: {{count: 0}}
proxies: [{{name: p1}}]
repositories: [{{name: r, owner: p1}}]
jobs:
  - {{name: a, tenant: t, workloads: [exchange], repository: r, schedule: {{daily: "01:00"}}}}
  - {{name: b, tenant: t, workloads: [onedrive], repository: r, schedule: {{daily: "01:00"}}}}
calibration:
  object_overhead: {{exchange: 0, onedrive: 0}}
  thread_rate: {{exchange: 1 MB/s, onedrive: 1 MB/s}}
  items_per_s: {{exchange: 100, onedrive: 100}}
  resolve_cpu_per_object: 0
  metadata_cpu_per_object: 0
  metadata_ios_per_object: 1000
  db_iops: 10
  db_connections: {connections}
"""


def test_metadata_phases_share_the_configuration_database() -> None:
    """Two sessions whose processing ends together sync 4 objects x 1,000 I/Os each on a
    10-IOPS database (400 s alone). With two connections they share the IOPS (processor
    sharing) and both end 800 s later; with one, the second waits for the first's connection:
    400 s and 800 s."""
    one = sim.simulate(sim.load_scenario_text(_db_scenario(1))).sessions
    two = sim.simulate(sim.load_scenario_text(_db_scenario(2))).sessions
    ends_one = sorted(one["end"].tolist())
    ends_two = sorted(two["end"].tolist())
    assert ends_two[0] == pytest.approx(ends_two[1], abs=1e-6)
    assert ends_one[1] - ends_one[0] == pytest.approx(400.0, abs=1e-6)
    assert ends_two[0] - ends_one[0] == pytest.approx(400.0, abs=1e-6)
    assert ends_two[1] == pytest.approx(ends_one[1], abs=1e-6)


def test_removed_database_fields_say_what_replaces_them() -> None:
    """calibration.db_concurrent_sessions and metadata_per_object were the database model
    before its IOPS and connections were: a scenario still setting them is told what to set."""
    text = _db_scenario(1).replace("  db_connections: 1\n", "  db_concurrent_sessions: 4\n")
    with pytest.raises(Exception, match=r"db_concurrent_sessions was removed.*db_iops"):
        sim.load_scenario_text(text)


def test_first_copy_after_protected_initial_state_copies_the_latest_restore_point() -> None:
    """With ``initial_state: protected`` the copy target already holds the stored
    state, so the first copy moves what the first backup session wrote on top of it (the latest
    restore point); it copied 0 objects because 'already copied' was read after that session."""
    cal = exact_calibration(1 * MB, restore_point=30, metadata_ios_per_object=2500)
    data = yaml.safe_load(
        estate(
            COPY_OBJECTS,
            [backup(), copy_job()],
            repos=[repository("r", "pool"), repository("g", "pool")],
            cal=cal,
            days=2,
        )
    )
    data["simulation"]["initial_state"] = "protected"
    r = run(yaml.safe_dump(data, sort_keys=False))
    t = r.tasks
    for s_id, c_id in zip(
        sorted(t[t["job"] == "b"]["session"].unique()),
        sorted(t[t["job"] == "c"]["session"].unique()),
        strict=True,
    ):
        src = t[(t["session"] == s_id) & (t["bytes_written"] > 0)]
        cp = t[t["session"] == c_id]
        assert len(cp) == len(src) > 0  # every object the backup wrote is copied
        assert cp["work_bytes"].sum() == pytest.approx(src["bytes_written"].sum(), rel=1e-12)
        assert not cp["full"].any()  # incremental: the target held the initial state


def test_last_successful_backups_keep_to_the_objects_a_job_uses() -> None:
    """A job's last successful backups (``JobBook.last_ok``) are kept over the window of
    object ids it has used, not over every object of the run: objects of its scope start at
    the day before (``initial_state: protected``), others at NaN (never), and the window grows
    either way without losing what it held."""
    from sim.model.job import DAY_S, job_scope
    from sim.model.world import World

    world = World(
        sim.load_scenario("scenarios/quickstart.yaml", ["simulation.initial_state=protected"])
    )
    book = world.book
    job = 0
    scope = job_scope(world, job)
    daily = world.scenario.jobs[job].schedule.daily or 0.0
    np.testing.assert_array_equal(book.last_ok(job, scope), np.full(scope.size, daily - DAY_S))
    lo, values = book._last_ok[job]
    assert lo == scope.min() and values.size == scope.max() + 1 - scope.min()
    assert values.size < world.n_objects
    book.set_last_ok(job, scope[:3], np.array([1.0, 2.0, 3.0]))
    others = np.setdiff1d(np.arange(world.n_objects), scope)
    outside = others[[0, -1]]  # below and above the scope (the job's slice of the tenant)
    assert outside[0] < scope.min() or outside[1] > scope.max()
    assert np.isnan(book.last_ok(job, outside)).all()  # the window grew: never backed up
    np.testing.assert_array_equal(book.last_ok(job, scope[:3]), [1.0, 2.0, 3.0])
    lo, values = book._last_ok[job]
    assert lo == min(outside[0], scope.min())
    assert lo + values.size == max(outside[1], scope.max()) + 1
    assert book.last_ok(job, np.array([], dtype=np.int64)).size == 0
