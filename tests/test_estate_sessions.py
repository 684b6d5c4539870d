"""Observed job sessions (REST or PowerShell) and ``poolsim history``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.estate import ExportError
from sim.estate.sessions import read_sessions
from sim.experiment.run import simulate
from sim.report.history import compare_history
from sim.report.jobsessions import job_sessions_text
from sim.scenario import load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
REST = ROOT / "examples" / "vb365-export" / "JobSessions.json"
PS = ROOT / "examples" / "vb365-export" / "powershell" / "get-vbojobsession.json"
runner = CliRunner()


def test_rest_and_powershell_sessions_read_alike() -> None:
    rest, ps = read_sessions(REST), read_sessions(PS)
    assert len(rest.used) == len(ps.used) == 3
    assert rest.counts() == ps.counts() == {"status Running": 1}
    for a, b in zip(rest.used, ps.used, strict=True):
        assert (a.job_id, a.creation, a.end, a.status) == (b.job_id, b.creation, b.end, b.status)
        assert a.processed_objects == b.processed_objects
        assert a.bottleneck == b.bottleneck
        # PowerShell's strings carry one decimal: '38.4 GB', '10.9 MB/s'
        assert b.transferred_bytes == pytest.approx(a.transferred_bytes, rel=5e-3)
        assert b.processing_bps == pytest.approx(a.processing_bps, rel=1e-2)
    assert rest.used[0].creation.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert rest.used[0].creation.isoformat() == "2026-03-02T19:00:04+00:00"


def sessions_file(tmp_path: Path, edit: Any, source: Path = REST) -> Path:
    page = json.loads(source.read_text())
    items = page["results"] if isinstance(page, dict) else page
    edit(items)
    out = tmp_path / "s.json"
    out.write_text(json.dumps(page))
    return out


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("Failed", "status Failed"),
        ("Stopped", "status Stopped"),
        ("Queued", "unknown status 'Queued'"),
    ],
)
def test_statuses_left_out_are_counted(tmp_path: Path, status: str, why: str) -> None:
    path = sessions_file(tmp_path, lambda s: s[0].update(status=status))
    read = read_sessions(path)
    assert len(read.used) == 2 and read.counts()[why] == 1


def test_warning_sessions_are_used(tmp_path: Path) -> None:
    read = read_sessions(REST)
    assert [s.status for s in read.used] == ["Success", "Success", "Warning"]


def test_offsets_compare_in_utc(tmp_path: Path) -> None:
    def edit(s: list[dict[str, Any]]) -> None:
        s[1]["creationTime"] = "2026-03-03T14:00:03.000-05:00"  # = 20:00:03+01:00
        s[1]["endTime"] = "2026-03-03T14:56:31.000-05:00"

    a = read_sessions(REST).used[1]
    b = read_sessions(sessions_file(tmp_path, edit)).used[1]
    assert (a.creation, a.end) == (b.creation, b.end)


BAD = [
    (lambda s: s[0].update(creationTime="2026-03-02T20:00"), "[0].creationTime", "no time zone"),
    (lambda s: s[0].pop("jobId"), "results[0].jobId", "missing field 'jobId'"),
    (lambda s: s[0]["statistics"].update(readRateBytesPS="fast"), "readRateBytesPS", "not a rate"),
    (lambda s: s[0]["statistics"].update(bottleneck="Network"), "bottleneck", "unknown bottleneck"),
    (lambda s: s[0].update(endTime="2026-03-01T00:00:00Z"), "endTime", "ends before it starts"),
    (lambda s: s[0].update(endTime=None), "endTime", "a Success session without an end time"),
    (lambda s: s[0].update(status=3), "status", "-EnumsAsStrings"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "where", "what"), BAD)
def test_bad_sessions_name_file_and_field(tmp_path: Path, edit: Any, where: str, what: str) -> None:
    path = sessions_file(tmp_path, edit)
    with pytest.raises(ExportError) as info:
        read_sessions(path)
    msg = str(info.value)
    assert "s.json" in msg and where in msg and what in msg


def test_bad_powershell_strings(tmp_path: Path) -> None:
    path = sessions_file(
        tmp_path, lambda s: s[0]["Statistics"].update(TransferredData="lots"), source=PS
    )
    with pytest.raises(ExportError, match=r"\[0\].Statistics.TransferredData: 'lots' is not an"):
        read_sessions(path)


def test_not_a_sessions_file(tmp_path: Path) -> None:
    proxies = ROOT / "examples" / "vb365-export" / "proxies-export.json"
    with pytest.raises(ExportError, match="is a proxy, not a job session"):
        read_sessions(proxies)
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(ExportError, match="empty file"):
        read_sessions(tmp_path / "empty.json")
    (tmp_path / "none.json").write_text('{"offset": 0, "limit": 30, "results": []}')
    with pytest.raises(ExportError, match="holds no sessions"):
        read_sessions(tmp_path / "none.json")
    with pytest.raises(ExportError, match="file not found"):
        read_sessions(tmp_path / "missing.json")


# --- history ---------------------------------------------------------------------------------


def imported_scenario(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "estate.yaml"
    args = ["import", str(REST.parent), "-o", str(out), "--users", "80", *extra]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return out


def test_history_of_the_example(tmp_path: Path) -> None:
    scenario = imported_scenario(tmp_path, "--start", "2026-03-02T00:00:00+01:00", "--days", "2")
    r = runner.invoke(
        app,
        ["history", str(scenario), "--sessions", str(REST), "--results", str(tmp_path / "r")],
    )
    assert r.exit_code == 0, r.output
    assert "3 observed sessions used; left out: 1 status Running" in r.stdout
    (folder,) = (tmp_path / "r" / "estate").iterdir()
    table = pd.read_csv(folder / "history.csv")
    observed = table[table["observed_status"].notna()]
    assert list(observed["job"]) == [
        "Alderbank Exchange",
        "Brookfield entire organization",
        "Alderbank Exchange",
    ]
    assert list(observed["day"]) == [1, 1, 2]
    assert (folder / "plots" / "history.png").stat().st_size > 0
    assert json.loads((folder / "jobsessions.json").read_text())["results"]


def test_history_without_overlapping_days_says_how_to_align(tmp_path: Path) -> None:
    scenario = imported_scenario(tmp_path)  # default start: 2024-01-01
    with pytest.raises(ScenarioError, match=r"set simulation\.start to the first night"):
        compare_history(load_scenario(scenario), read_sessions(REST))
    r = runner.invoke(app, ["history", str(scenario), "--sessions", str(REST)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_sessions_of_other_jobs_and_days_are_counted(tmp_path: Path) -> None:
    scenario = imported_scenario(tmp_path, "--start", "2026-03-02T00:00:00+01:00", "--days", "1")

    def edit(s: list[dict[str, Any]]) -> None:
        s[2]["jobId"] = "99999999-0000-0000-0000-000000000000"

    h = compare_history(load_scenario(scenario), read_sessions(sessions_file(tmp_path, edit)))
    assert h.left_out == {
        "status Running": 1,
        "a job the scenario does not have": 1,
        "outside the simulated days": 1,
    }
    assert h.used == 3


def test_a_run_compared_with_its_own_sessions_has_no_error(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "good" / "tiny.yaml").read_text()
    text = text.replace("days: 1", "days: 2")
    loaded = load_scenario_text(text)
    own = tmp_path / "own.json"
    own.write_text(job_sessions_text(simulate(loaded)))
    h = compare_history(loaded, read_sessions(own))
    assert h.left_out == {} and h.used == len(h.table) > 0
    for col in ("duration_error_pct", "objects_error_pct", "bytes_error_pct"):
        assert h.summary[col].abs().max() < 0.01, col
    assert (h.summary["bottleneck_agreement"] == 1.0).all()
