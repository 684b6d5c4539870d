"""Tests for the ``poolsim`` command line and for the atomicity of the results folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.cli import invoke

import sim
import sim.report.plots
from sim.experiment.run import RunResult
from sim.report.folders import write_results
from sim.scenario.reference import json_schema, markdown_reference

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MINIMAL = DATA / "good" / "minimal.yaml"
TINY = DATA / "good" / "tiny.yaml"
BAD_FILES = sorted((DATA / "bad").glob("*.yaml"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POLICIES = ("least_active_threads", "pull_fifo", "round_robin")

# Columns documented in the docstrings of sim.metrics.tables (task_frame, proxy_frame,
# timeseries_frame) and written to the Parquet files.
TASK_COLUMNS = {
    "task",
    "job",
    "session",
    "tenant",
    "workload",
    "otype",
    "proxy",
    "status",
    "full",
    "ready",
    "start",
    "end",
    "bytes_read",
    "bytes_written",
    "wait_s",
    "sojourn_s",
    "bottleneck",
    "throttled_s",
}
PROXY_COLUMNS = {
    "proxy",
    "pool",
    "threads",
    "capacity_bps",
    "tasks",
    "bytes_read",
    "busy_thread_s",
    "final_state",
}
TIMESERIES_COLUMNS = {"t_start", "proxy", "bytes", "rate_bps"}
SESSION_COLUMNS = {"job", "session", "day", "makespan_s", "window_s", "within_window", "objects"}


def expectation(path: Path) -> tuple[str, int]:
    head = path.read_text(encoding="utf-8").splitlines()[:5]
    expect = next(m.group(1) for s in head if (m := re.match(r"#\s*expect:\s*(.+?)\s*$", s)))
    line = next(int(m.group(1)) for s in head if (m := re.match(r"#\s*line:\s*(\d+)\s*$", s)))
    return expect, line


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*") if p.is_dir())


# --- validate ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MINIMAL, TINY, ROOT / "scenarios" / "quickstart.yaml"])
def test_validate_good_file(path: Path) -> None:
    code, out = invoke("validate", path)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("ok ")  # after any lint warnings (docs/lint.md)
    assert path.name in out
    assert "Traceback" not in out


def test_validate_summarises_the_scenario() -> None:
    code, out = invoke("validate", MINIMAL)
    assert code == 0
    flat = " ".join(out.split())
    assert "1 tenant(s), 2 proxies, 1 pool(s), 1 repositories, 1 job(s), 1 day(s)" in flat
    assert re.search(r"sha256 [0-9a-f]{12}", flat)


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_validate_bad_file(path: Path) -> None:
    expect, line = expectation(path)
    code, out = invoke("validate", path)
    assert code == 2, out
    assert f"{path}:{line}:" in out
    assert expect in out
    assert "Traceback" not in out


def test_validate_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code, out = invoke("validate", missing)
    assert code == 2
    assert f"{missing}: (top level): file not found" in out
    assert "Traceback" not in out


def test_validate_directory(tmp_path: Path) -> None:
    code, out = invoke("validate", tmp_path)
    assert code == 2
    assert "is a directory, not a file" in out


def test_validate_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ntenants:\n  - {name: a, users: 3\n  - {name: b}\n", encoding="utf-8")
    code, out = invoke("validate", path)
    assert code == 2
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: .*invalid YAML", out)
    assert "Traceback" not in out


def test_validate_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, out = invoke("validate", path)
    assert code == 2
    assert "not valid UTF-8" in out


def test_validate_with_set() -> None:
    code, out = invoke("validate", MINIMAL, "--set", "simulation.days=3", "-s", "proxies.0.cores=2")
    assert code == 0, out
    assert "3 day(s)" in " ".join(out.split())


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        (
            "proxies.proxy-01.threads=abc",
            "--set: proxies[0].threads: Input should be a valid integer",
        ),
        ("proxies[7].threads=3", "--set: proxies: no item '7' in this list"),
        ("nothing", "expected KEY=VALUE"),
        ("proxies[0].thredas=3", "--set: proxies[0].thredas: unknown field"),
    ],
)
def test_validate_with_bad_set(override: str, needle: str) -> None:
    code, out = invoke("validate", MINIMAL, "--set", override)
    assert code == 2
    assert "1 problem in --set:" in out
    assert needle in out
    assert "Traceback" not in out


def test_validate_unknown_policy() -> None:
    code, out = invoke("validate", MINIMAL, "--set", "pools.pool-a.policy=fastest")
    assert code == 2
    assert "unknown policy 'fastest'; available: " in out
    for name in POLICIES:
        assert name in out


def test_validate_checks_policy_parameters_like_run_does() -> None:
    code, out = invoke(
        "validate", MINIMAL, "--set", "pools[0].policy={name: round_robin, params: {speed: 3}}"
    )
    assert code == 2
    assert "pools[0].policy.params.speed: policy 'round_robin': unknown parameter" in out
    assert "Traceback" not in out


def test_real_poolsim_executable_validates() -> None:
    exe = Path(sys.executable).with_name("poolsim")
    if not exe.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    proc = subprocess.run(
        [str(exe), "validate", str(MINIMAL)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok ")
    assert "minimal.yaml" in proc.stdout
    assert "Traceback" not in proc.stderr


# --- schema and policies -------------------------------------------------------------------------


def test_schema_prints_json() -> None:
    code, out = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema == json.loads(json.dumps(json_schema()))
    assert "$schema" in schema


def test_schema_markdown_to_file(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "ref.md"
    code, out = invoke("schema", "--markdown", "-o", target)
    assert code == 0
    assert "wrote" in out
    assert target.read_text(encoding="utf-8") == markdown_reference()
    assert [p.name for p in target.parent.iterdir()] == ["ref.md"]  # no temporary left


def test_schema_json_to_file(tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    code, _ = invoke("schema", "--output", target)
    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "poolsim scenario"


def test_schema_to_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, out = invoke("schema", "-o", blocker / "schema.json")
    assert code == 2
    assert "cannot write" in out
    assert "Traceback" not in out


def test_policies_lists_builtins() -> None:
    code, out = invoke("policies")
    assert code == 0
    for name in POLICIES:
        assert name in out
    assert "push" in out and "pull" in out


# --- run -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """One CLI run of the tiny scenario, shared by the tests that inspect its results."""
    root = tmp_path_factory.mktemp("results")
    code, out = invoke("run", TINY, "--results", root)
    return code, out, root


def test_run_exits_zero_and_prints_the_summary(tiny_run: tuple[int, str, Path]) -> None:
    code, out, root = tiny_run
    assert code == 0, out
    assert "Traceback" not in out
    for label in ("objects processed", "throughput", "window compliance", "Jain fairness"):
        assert label in out
    assert "Sessions" in out
    (folder,) = run_folders(root)
    assert "results:" in out
    assert folder.name in "".join(out.split())


def test_run_writes_every_result_file(tiny_run: tuple[int, str, Path]) -> None:
    _, _, root = tiny_run
    (folder,) = run_folders(root)
    assert folder.parent.name == "tiny"
    for name in (
        "manifest.json",
        "summary.csv",
        "sessions.csv",
        "jobsessions.json",
        "limits.csv",
        "tasks.parquet",
        "proxies.parquet",
        "timeseries.parquet",
        "plots/proxy_load.png",
        "plots/throughput.png",
    ):
        path = folder / name
        assert path.is_file(), name
        assert path.stat().st_size > 0, name
    for png in ("proxy_load.png", "throughput.png"):
        assert (folder / "plots" / png).read_bytes()[:8] == PNG_MAGIC


def test_run_leaves_no_partial_or_temporary_files(tiny_run: tuple[int, str, Path]) -> None:
    _, _, root = tiny_run
    leftovers = [p for p in root.rglob("*") if p.name.endswith((".partial", ".tmp"))]
    assert leftovers == []
    assert [p.name for p in (root / "tiny").iterdir() if p.name.startswith(".")] == []


def test_result_files_get_the_usual_permissions(tiny_run: tuple[int, str, Path]) -> None:
    """Written atomically through a temporary file, but with the mode a plain ``open()``
    gives under the process's umask (not the temporary file's owner-only 0600)."""
    import os

    _, _, root = tiny_run
    mask = os.umask(0o022)
    os.umask(mask)
    (folder,) = run_folders(root)
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path.name


def test_run_manifest(tiny_run: tuple[int, str, Path]) -> None:
    _, _, root = tiny_run
    (folder,) = run_folders(root)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario_name"] == "tiny"
    assert manifest["seed"] == 3
    assert manifest["policies"] == {"pool-a": "pull_fifo"}
    assert manifest["overrides"] == []
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["scenario_sha256"])
    assert manifest["resolved_scenario"]["name"] == "tiny"
    assert manifest["truncated"] is False


def test_run_tables_read_back(tiny_run: tuple[int, str, Path]) -> None:
    _, _, root = tiny_run
    (folder,) = run_folders(root)
    tasks = pd.read_parquet(folder / "tasks.parquet")
    proxies = pd.read_parquet(folder / "proxies.parquet")
    ts = pd.read_parquet(folder / "timeseries.parquet")
    sessions = pd.read_csv(folder / "sessions.csv")
    summary = pd.read_csv(folder / "summary.csv")
    assert set(tasks.columns) >= TASK_COLUMNS
    assert set(proxies.columns) >= PROXY_COLUMNS
    assert set(ts.columns) >= TIMESERIES_COLUMNS
    assert set(sessions.columns) >= SESSION_COLUMNS
    assert list(summary.columns) == ["scope", "metric", "value", "unit"]
    assert len(tasks) > 0 and tasks["task"].is_unique
    assert sorted(proxies["proxy"]) == ["proxy-01", "proxy-02"]
    assert set(proxies["pool"]) == {"pool-a"}
    assert set(ts["proxy"]) <= {"proxy-01", "proxy-02"}
    assert len(sessions) == 1  # one job, one day
    assert sessions["objects"].iloc[0] == len(tasks)
    # the read volume agrees between the task and proxy tables
    assert proxies["bytes_read"].sum() == pytest.approx(tasks["bytes_read"].sum(), rel=1e-9)


def test_run_with_unknown_policy_lists_available(tmp_path: Path) -> None:
    code, out = invoke("run", TINY, "--policy", "nonexistent", "--results", tmp_path)
    assert code == 2
    assert "unknown policy 'nonexistent'" in out
    assert "available:" in out
    for name in POLICIES:
        assert name in out
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == []


def test_run_with_bad_scenario_exits_2(tmp_path: Path) -> None:
    bad = DATA / "bad" / "unknown_job_tenant.yaml"
    code, out = invoke("run", bad, "--results", tmp_path)
    assert code == 2
    assert f"{bad}:16:" in out
    assert list(tmp_path.iterdir()) == []


def test_run_with_set_policy_seed_and_no_plots(tmp_path: Path) -> None:
    code, out = invoke(
        "run",
        TINY,
        "--set",
        "pools.pool-a.policy=round_robin",
        "-s",
        "proxies.proxy-02.threads=8",
        "--seed",
        "5",
        "--no-plots",
        "--results",
        tmp_path,
    )
    assert code == 0, out
    (folder,) = run_folders(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["overrides"] == [
        "pools.pool-a.policy=round_robin",
        "proxies.proxy-02.threads=8",
    ]
    assert manifest["policies"] == {"pool-a": "round_robin"}
    assert manifest["seed"] == 5
    assert manifest["resolved_scenario"]["proxies"][1]["threads"] == 8
    assert not (folder / "plots").exists()
    proxies = pd.read_parquet(folder / "proxies.parquet")
    assert dict(zip(proxies["proxy"], proxies["threads"], strict=True)) == {
        "proxy-01": 16,
        "proxy-02": 8,
    }


def test_run_with_bad_set_exits_2(tmp_path: Path) -> None:
    code, out = invoke("run", TINY, "--set", "pools.pool-z.policy=x", "--results", tmp_path)
    assert code == 2
    assert "no item 'pool-z'" in out
    assert list(tmp_path.iterdir()) == []


def test_run_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    code, out = invoke("run", TINY, "--seed", "-1", "--results", tmp_path)
    assert code == 2
    assert "--seed" in out
    assert "Traceback" not in out


def test_run_into_unwritable_results_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("not a folder", encoding="utf-8")
    code, out = invoke("run", TINY, "--no-plots", "--results", blocker)
    assert code == 2
    assert "cannot write results" in out
    assert "Traceback" not in out


# --- results atomicity ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_result() -> RunResult:
    return sim.simulate(TINY)


def test_write_results_without_plots(tiny_result: RunResult, tmp_path: Path) -> None:
    folder = write_results(tiny_result, tmp_path, run_id="r1", plots=False)
    assert folder == tmp_path / "tiny" / "r1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "events.csv",
        "jobsessions.json",
        "lifecycle.csv",
        "limits.csv",
        "manifest.json",
        "proxies.parquet",
        "sessions.csv",
        "states.csv",
        "summary.csv",
        "tasks.parquet",
        "timeseries.parquet",
    ]
    again = write_results(tiny_result, tmp_path, run_id="r1", plots=False)
    assert again == tmp_path / "tiny" / "r1-1"  # an existing run is never overwritten


def test_failure_while_plotting_keeps_the_tables(
    tiny_result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables are written and published first; a figure that fails is named in the manifest
    and costs neither the tables nor the other figures (a failing plot once deleted the
    whole results folder)."""
    from sim.report.folders import missing_plots

    def failing(result: RunResult, path: Path) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sim.report.plots, "plot_sessions", failing)
    folder = write_results(tiny_result, tmp_path, run_id="r2")
    assert folder == tmp_path / "tiny" / "r2"
    assert (folder / "summary.csv").is_file() and (folder / "tasks.parquet").is_file()
    assert missing_plots(folder) == {"sessions.png": "RuntimeError: disk on fire"}
    assert (folder / "plots" / "proxy_load.png").is_file()
    assert not (folder / "plots" / "sessions.png").exists()
    man = json.loads((folder / "manifest.json").read_text())
    assert man["plots"]["status"] == "done"
    assert [p.name for p in (tmp_path / "tiny").iterdir()] == ["r2"]


def test_failure_while_writing_a_table_leaves_nothing_behind(
    tiny_result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_to_parquet(self: pd.DataFrame, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken_to_parquet)
    with pytest.raises(OSError, match="No space left"):
        write_results(tiny_result, tmp_path, run_id="r3", plots=False)
    assert list((tmp_path / "tiny").iterdir()) == []


def test_concurrent_runs_with_the_same_run_id_both_survive(
    tiny_result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sim.report.plots.write_plots
    inner: list[Path] = []

    def write_plots_while_another_run_writes(result: RunResult, folder: Path) -> list[Path]:
        if not inner:  # a second process starts the same run id while this one is writing
            inner.append(write_results(result, tmp_path, run_id="same", plots=False))
        return real(result, folder)

    monkeypatch.setattr(sim.report.plots, "write_plots", write_plots_while_another_run_writes)
    outer = write_results(tiny_result, tmp_path, run_id="same")
    assert {outer, inner[0]} == {tmp_path / "tiny" / "same", tmp_path / "tiny" / "same-1"}
    assert (outer / "manifest.json").is_file()
    assert (inner[0] / "manifest.json").is_file()


def test_simulate_rejects_negative_seed_clearly() -> None:
    with pytest.raises(ValueError, match="seed"):
        sim.simulate(MINIMAL, seed=-1)
