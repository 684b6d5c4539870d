"""Experiments: replications, common random numbers, compare, sweep (resume, broken points),
capacity search, executors (serial, local processes, a real Dask LocalCluster) and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.scenario import exact_calibration, fixed_objects, job, repository, scenario_yaml
from helpers.scenario import tenant as tenant_section
from typer.testing import CliRunner
from validation.oracle import synthetic_scenario

import sim
from sim import defaults as d
from sim.cli import app
from sim.experiment import replication_seeds
from sim.experiment.executors import DaskExecutor, Executor, ProcessExecutor
from sim.experiment.sizing import size
from sim.experiment.sweep import SweepProgress, parse_grid, parse_values, sweep
from sim.scenario import ScenarioError

runner = CliRunner()


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def pool_yaml(tasks: int = 300, rate: float = 1.2) -> str:
    """Two single-thread proxies (mu = 1 each) in a round-robin pool, Poisson arrivals."""
    return synthetic_scenario(
        n_proxies=2, rate=rate, tasks=tasks, warmup_tasks=0, policy="round_robin", name="pair"
    )


# -- replications and common random numbers ----------------------------------------------------
def test_replicate_summarises_with_intervals() -> None:
    rep = sim.replicate(sim.load_scenario_text(pool_yaml()), replications=4, seed=5)
    assert len(rep.seeds) == 4 and rep.errors == []
    assert set(rep.runs["replication"]) == {0, 1, 2, 3}
    mean, low, high = rep.metric("sojourn_mean")
    assert low < mean < high
    # steady-state scope: MSER-5 truncation and batch means for a Poisson synthetic scenario
    ss = rep.summary[rep.summary["scope"] == "steady_state"].set_index("metric")
    assert {"sojourn_mean", "wait_mean", "mser_truncated", "sojourn_bm_half_width"} <= set(ss.index)
    # the same seeds give the same numbers
    again = sim.replicate(sim.load_scenario_text(pool_yaml()), replications=4, seed=5)
    pd.testing.assert_frame_equal(rep.runs, again.runs)


def test_single_replication_uses_batch_means_for_steady_state() -> None:
    rep = sim.replicate(sim.load_scenario_text(pool_yaml(tasks=2000)), replications=1, seed=2)
    row = rep.summary.set_index(["scope", "metric"]).loc[("steady_state", "sojourn_mean")]
    assert row["interval"] == "batch means"
    assert row["half_width"] > 0


def test_common_random_numbers_synthetic() -> None:
    """Same replication seed, different policies: identical arrivals and sizes."""
    loaded = sim.load_scenario_text(pool_yaml())
    seed = replication_seeds(9, 1)[0]
    a = sim.simulate(loaded, seed=seed, policy="round_robin").tasks
    b = sim.simulate(loaded, seed=seed, policy="random").tasks
    assert a["ready"].tolist() == b["ready"].tolist()
    assert a["work_bytes"].tolist() == b["work_bytes"].tolist()
    assert a["proxy"].tolist() != b["proxy"].tolist()  # the policies did decide differently


def _backup_yaml(members: int = 2, window: str | None = "3.5h", mailboxes: int = 12) -> str:
    proxies = [{"name": f"p{i + 1}", "threads": 1} for i in range(members)]
    return scenario_yaml(
        name="fixed",
        tenants=[tenant_section(objects=fixed_objects({"mailbox": (mailboxes, 3.6e9)}))],
        proxies=proxies,
        pools=[{"name": "pool", "members": [p["name"] for p in proxies], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", **({"window": window} if window else {}))],
        calibration=exact_calibration(1e6),
    )


def test_common_random_numbers_backup_workload() -> None:
    """A generated inventory with random sizes: the objects and their sizes do not depend on
    the policy; compare() gives every policy the same replication seeds."""
    text = scenario_yaml(
        name="crn",
        tenants=[tenant_section(users=30)],
        proxies=[{"name": "p1", "threads": 4}, {"name": "p2", "threads": 4}],
        pools=[{"name": "pool", "members": ["p1", "p2"], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", workloads=("exchange", "onedrive"))],
    )
    loaded = sim.load_scenario_text(text)
    cmp = sim.compare(loaded, ["round_robin", "least_work_left"], replications=2, seed=4)
    assert cmp.errors == []
    for p in cmp.policies:
        assert [r.seed for r in cmp.records[p]] == cmp.seeds
    for seed in cmp.seeds:
        a = sim.simulate(loaded, seed=seed, policy="round_robin").tasks
        b = sim.simulate(loaded, seed=seed, policy="least_work_left").tasks
        key = ["job", "object", "work_bytes", "items", "full"]
        ta = a.sort_values(["object"])[key].reset_index(drop=True)
        tb = b.sort_values(["object"])[key].reset_index(drop=True)
        pd.testing.assert_frame_equal(ta, tb)
    # paired differences exist for the second policy
    assert set(cmp.differences["policy"]) == {"least_work_left"}


def test_compare_rejects_bad_policy() -> None:
    loaded = sim.load_scenario_text(pool_yaml())
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        sim.compare(loaded, ["round_robin", "nope"], replications=2)


# -- executors -------------------------------------------------------------------------------------
def test_identical_results_serial_processes_dask(tmp_path: Path) -> None:
    """The tidy tables are exactly equal in-process, in 2 local processes and on a real Dask
    LocalCluster (2 worker processes, 1 thread each)."""
    path = _write(tmp_path, pool_yaml(tasks=200))
    loaded = sim.load_scenario(path)
    grid = ["synthetic.arrivals.rate=0.8/s,1.4/s", "proxies.p1.threads=1,2"]
    tables: dict[str, pd.DataFrame] = {}
    runs: dict[str, pd.DataFrame] = {}
    executors: dict[str, Any] = {
        "serial": lambda: Executor(),
        "processes": lambda: ProcessExecutor(2),
        "dask": lambda: DaskExecutor(2),
    }
    for name, make in executors.items():
        with make() as ex:
            res = sweep(path, grid, replications=2, seed=3, executor=ex, folder=tmp_path / name)
            tables[name] = res.table
            runs[name] = sim.compare(
                loaded, ["round_robin", "jsq"], replications=2, seed=8, executor=ex
            ).runs
    assert len(tables["serial"]) == 8
    for name in ("processes", "dask"):
        pd.testing.assert_frame_equal(tables["serial"], tables[name], check_exact=True)
        pd.testing.assert_frame_equal(runs["serial"], runs[name], check_exact=True)


# -- sweeps ----------------------------------------------------------------------------------------
def test_grid_parsing() -> None:
    assert parse_values("2..8:2") == [2, 4, 6, 8]
    assert parse_values("1..3") == [1, 2, 3]
    assert parse_values("0.5..0.9:0.2") == [0.5, 0.7, 0.9]
    assert parse_values("round_robin, jsq") == ["round_robin", "jsq"]
    assert parse_values("[[a, b], [a, b, c]]") == [["a", "b"], ["a", "b", "c"]]
    assert parse_values("8h,12h") == ["8h", "12h"]
    for bad in ("", "1,,2", "5..1", "1..3:0", "[]"):
        with pytest.raises(ScenarioError):
            parse_values(bad)
    with pytest.raises(ScenarioError, match="KEY=VALUES"):
        parse_grid(["threads"])
    with pytest.raises(ScenarioError, match="twice"):
        parse_grid(["a=1", "a=2"])


def test_sweep_bad_key_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, pool_yaml())
    with pytest.raises(ScenarioError) as exc:
        sweep(path, ["proxies.p1.thread=1,2"], replications=1, folder=tmp_path / "o")
    text = str(exc.value)
    assert "proxies[1].thread" in text and "unknown field" in text and "grid point" in text
    with pytest.raises(ScenarioError, match="no item 'p9'"):
        sweep(path, ["proxies.p9.threads=1,2"], replications=1, folder=tmp_path / "o")
    with pytest.raises(ScenarioError, match="greater than or equal to 1"):
        sweep(path, ["proxies.p1.threads=0,1"], replications=1, folder=tmp_path / "o")


def test_sweep_resumes_without_redoing_points(tmp_path: Path) -> None:
    path = _write(tmp_path, pool_yaml(tasks=200))
    grid = ["synthetic.arrivals.rate=0.6/s,1.0/s,1.4/s"]
    out = tmp_path / "sw"

    class Stop(Exception):
        pass

    def interrupt(p: SweepProgress) -> None:
        if p.points_done >= 2:
            raise Stop

    with pytest.raises(Stop):
        sweep(path, grid, replications=2, seed=1, folder=out, progress=interrupt)
    assert len(list((out / "points").glob("*.parquet"))) == 2
    assert not (out / "sweep.parquet").exists()  # an interrupted sweep does not look complete
    assert '"status": "running"' in (out / "manifest.json").read_text()

    seen: list[SweepProgress] = []
    res = sweep(path, grid, replications=2, seed=1, folder=out, progress=seen.append)
    assert (res.skipped, res.ran, res.failed) == (2, 1, 0)
    assert seen[0].runs_total == 2  # only the missing point's two replications ran
    assert '"status": "complete"' in (out / "manifest.json").read_text()
    fresh = sweep(path, grid, replications=2, seed=1, folder=tmp_path / "fresh")
    pd.testing.assert_frame_equal(res.table, fresh.table, check_exact=True)
    again = sweep(path, grid, replications=2, seed=1, folder=out)
    assert (again.skipped, again.ran) == (3, 0)
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 6
    assert list(table.columns[:3]) == ["point", "point_id", "synthetic.arrivals.rate"]


def test_sweep_records_a_broken_point(tmp_path: Path) -> None:
    """A point whose trace file is missing fails at run time; it is recorded, the others run."""
    (tmp_path / "ok.csv").write_text("time,size\n0,1000000\n1,1000000\n2,2000000\n")
    text = synthetic_scenario(rate=1.0, tasks=10, warmup_tasks=0, name="tr").replace(
        "process: poisson\n    rate: 1.0", "process: trace\n    trace: ok.csv"
    )
    assert "trace: ok.csv" in text
    path = _write(tmp_path, text)
    res = sweep(
        path,
        ["synthetic.arrivals.trace=ok.csv,missing.csv", "proxies.p0.threads=1,2"],
        replications=2,
        folder=tmp_path / "sw",
    )
    assert res.failed == 2 and len(res.table) == 8
    bad = res.table[res.table["synthetic.arrivals.trace"] == "missing.csv"]
    assert (bad["status"] == "error").all()
    assert bad["error"].str.contains("cannot read trace").all()
    good = res.table[res.table["synthetic.arrivals.trace"] == "ok.csv"]
    assert (good["status"] == "ok").all() and (good["objects_done"] == 3).all()
    assert set(res.points["status"]) == {"ok", "error"}


# -- capacity search -------------------------------------------------------------------------------
def test_size_finds_the_known_answer(tmp_path: Path) -> None:
    """12 one-hour mailboxes on one-thread proxies, 3.5 h window: n proxies finish in
    ceil(12/n) x (1 h + the scan's CPU seconds), so 4 is the smallest pool that meets it (3
    needs over 4 h)."""
    hours = 1.0 + d.CPU_PER_OBJECT_S_OF_WORKLOAD["exchange"] / 3600.0  # per mailbox
    path = _write(tmp_path, _backup_yaml(members=2))
    res = size(path, compliance=0.5, replications=3, max_size=16)
    assert res.answer == 4 and res.monotone
    curve = res.curve.set_index("pool_size")
    assert curve.loc[3, "compliance"] == 0.0 and curve.loc[4, "compliance"] == 1.0
    assert curve.loc[4, "makespan_max_h_mean"] == pytest.approx(3 * hours, rel=1e-6)
    assert curve.loc[3, "makespan_max_h_mean"] == pytest.approx(4 * hours, rel=1e-6)
    assert 2 in curve.index  # today's size was evaluated
    # from a larger pool it searches down to the same answer
    big = _write(tmp_path, _backup_yaml(members=7), "b.yaml")
    assert size(big, compliance=1.0, confidence=0.5, replications=2).answer == 4


def test_size_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, _backup_yaml(members=2))
    with pytest.raises(ScenarioError, match="unknown target 'speed'"):
        size(path, target="speed")
    with pytest.raises(ScenarioError, match="unknown pool 'x'"):
        size(path, pool="x")
    with pytest.raises(ScenarioError, match="unknown job"):
        size(path, backup_jobs=["nope"])
    no_window = _write(tmp_path, _backup_yaml(members=2, window=None), "n.yaml")
    with pytest.raises(ScenarioError, match="has a backup window"):
        size(no_window)
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=3)
    assert res.answer is None


# -- command line ----------------------------------------------------------------------------------
def test_cli_compare_sweep_size(tmp_path: Path) -> None:
    syn = _write(tmp_path, pool_yaml(tasks=150))
    res, sw = str(tmp_path / "res"), str(tmp_path / "sw")
    r = runner.invoke(
        app,
        ["compare", str(syn), "-p", "round_robin,jsq", "-r", "2", "-j", "1", "--results", res],
    )
    assert r.exit_code == 0, r.output
    assert "round_robin" in r.output and "steady-state sojourn" in r.output
    folder = next((tmp_path / "res" / "pair").glob("compare-*"))
    for f in ("report.html", "summary.csv", "runs.parquet", "differences.csv", "manifest.json"):
        assert (folder / f).exists()
    for f in ("metrics.png", "proxy_load.png", "throughput.png"):
        assert (folder / "plots" / f).stat().st_size > 1000
    assert not list((tmp_path / "res" / "pair").glob(".*partial"))

    r = runner.invoke(
        app,
        [
            "sweep",
            str(syn),
            "-g",
            "synthetic.arrivals.rate=0.5/s,1.0/s",
            "-r",
            "2",
            "-j",
            "1",
            "--out",
            sw,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "ran 2 point(s), skipped 0" in r.output
    assert (tmp_path / "sw" / "sweep.parquet").exists()

    fixed = _write(tmp_path, _backup_yaml(members=2), "f.yaml")
    r = runner.invoke(
        app,
        ["size", str(fixed), "-r", "2", "--confidence", "0.5", "-j", "1", "--results", res],
    )
    assert r.exit_code == 0, r.output
    assert "answer: 4 proxies" in r.output
    (folder,) = (tmp_path / "res" / "fixed").glob("size-*")
    assert (folder / "plots" / "size_curve.png").exists()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "4 proxies (+2 vs today&#x27;s 2)" in page and "data:image/png;base64," in page
    assert "<td>4</td><td>2/2</td><td>100%</td>" in page  # the evidence table
    assert "report.html" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "{syn}", "-p", "round_robin,nope"], "unknown policy 'nope'"),
        (["compare", "{syn}", "-p", "round_robin", "--executor", "spark"], "--executor 'spark'"),
        (["compare", "{syn}", "-p", "jsq", "--scheduler", "tcp://x:1"], "needs --executor dask"),
        (["compare", "{syn}", "-p", "jsq", "--confidence", "1.5"], "--confidence"),
        (["sweep", "{syn}", "--grid", "proxies.p0.bogus=1,2"], "unknown field"),
        (["sweep", "{syn}", "--grid", "synthetic.tasks=5..1"], "lo <= hi"),
        (["sweep", "{syn}", "--grid", "proxies.p0.threads"], "KEY=VALUES"),
        (["size", "{fixed}", "--target", "speed"], "unknown target 'speed'"),
        (["size", "{syn}"], "has a backup window"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    syn = _write(tmp_path, pool_yaml(tasks=50))
    fixed = _write(tmp_path, _backup_yaml(), "f.yaml")
    argv = [a.format(syn=syn, fixed=fixed) for a in args] + ["-j", "1"]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_cli_sweep_interrupted_by_ctrl_c_resumes(tmp_path: Path) -> None:
    """A real interruption: SIGINT to the command's process group (as Ctrl-C does) once two
    points are on disk. It exits 130 without a traceback, leaves no sweep.parquet, and the rerun
    skips the finished points and ends with the same table as an uninterrupted sweep."""
    import os
    import signal
    import subprocess
    import sys
    import time

    syn = _write(tmp_path, pool_yaml(tasks=10000))  # long enough for SIGINT to land mid-sweep
    out = tmp_path / "sw"
    poolsim = Path(sys.executable).with_name("poolsim")
    grid = "synthetic.arrivals.rate=0.4..1.8:0.2/s"
    cmd = [str(poolsim), "sweep", str(syn), "-g", grid, "-r", "2", "-j", "2", "--out", str(out)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while len(list((out / "points").glob("*.parquet"))) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "no point finished in time"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    kept = len(list((out / "points").glob("*.parquet")))
    assert 2 <= kept < 8 and not (out / "sweep.parquet").exists()

    r = runner.invoke(app, ["sweep", str(syn), "-g", grid, "-r", "2", "-j", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"ran {8 - kept} point(s), skipped {kept} already done" in r.output
    fresh = sweep(syn, [grid], replications=2, folder=tmp_path / "fresh")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), fresh.table)


def test_sweep_does_not_reuse_points_of_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim import provenance

    path = _write(tmp_path, pool_yaml(tasks=100))
    grid = ["synthetic.arrivals.rate=0.6/s,1.0/s"]
    out = tmp_path / "sw"
    first = sweep(path, grid, replications=1, seed=1, folder=out)
    assert (first.skipped, first.ran) == (0, 2)
    again = sweep(path, grid, replications=1, seed=1, folder=out)
    assert (again.skipped, again.ran) == (2, 0)
    # a changed model (any edit to poolsim's source) gives other point ids: everything reruns
    monkeypatch.setattr(provenance, "model_fingerprint", lambda: "another model")
    changed = sweep(path, grid, replications=1, seed=1, folder=out)
    assert (changed.skipped, changed.ran) == (0, 2)
    assert '"model_sha256": "another model"' in (out / "manifest.json").read_text()


def test_model_fingerprint_is_stable_and_in_run_manifests(tmp_path: Path) -> None:
    from sim.provenance import model_fingerprint
    from sim.report.folders import manifest

    fp = model_fingerprint()
    assert len(fp) == 64 and fp == model_fingerprint()
    res = sim.simulate(_write(tmp_path, pool_yaml(tasks=50)))
    assert manifest(res, ["x"])["model_sha256"] == fp
