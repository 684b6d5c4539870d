"""Executors: warm workers, chunks, the automatic serial/parallel choice, the parent
helping while workers start (and not after), runs handed over most costly first, Dask's
scatter, and the choice printed and kept in the manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import work
from typer.testing import CliRunner
from validation.oracle import synthetic_scenario

import sim
from sim.cli import app
from sim.experiment import executors
from sim.experiment.executors import (
    AutoExecutor,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    make_executor,
)
from sim.experiment.sweep import sweep


def _collect(it: object) -> list[object]:
    pairs = sorted(it)  # type: ignore[call-overload]
    return [r for _, r in pairs]


def test_workers_start_warm_from_the_preloaded_forkserver() -> None:
    """A worker forked from the forkserver has SimPy and poolsim's run layer already imported
    though the work it runs imports neither (helpers.work is standard library only)."""
    with ProcessExecutor(2, help_start=False) as ex:
        got = _collect(ex.run(work.preloaded, [1, 2, 3]))
    assert got == [(True, True)] * 3


def test_chunks_follow_the_measured_run_time() -> None:
    ex = ProcessExecutor(2, help_start=False, point_s=0.01)
    try:
        # 0.25 s of work a chunk at 10 ms a run: 25 runs, unless balance wants fewer
        assert ex.chunk_size(1000) == 25
        assert ex.chunk_size(40) == 5  # a quarter of each worker's share of what is left
        assert ex.chunk_size(3) == 1
        slow = ProcessExecutor(2, help_start=False, point_s=2.0)
        assert slow.chunk_size(1000) == 1
        slow.close()
        # many tiny runs in chunks come back complete and in their places
        items = list(range(300))
        assert _collect(ex.run(work.square, items)) == [x * x for x in items]
    finally:
        ex.close()


@pytest.fixture
def idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The automatic choice sees an idle 2-CPU machine (the test machine may be busy)."""
    monkeypatch.setattr(executors, "machine_share", lambda workers: (2.0, 1.0, 0.5))


def test_machine_share_counts_only_idle_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "default_jobs", lambda: 2)
    for load, gain, stretch in ((0.2, 2.0, 1.0), (1.0, 2.0, 1.0), (2.0, 1.0, 1.0), (7.0, 1.0, 3.5)):
        monkeypatch.setattr(executors.os, "getloadavg", lambda load=load: (load, 0.0, 0.0))
        assert executors.machine_share(2) == (gain, stretch, load)
    monkeypatch.setattr(executors.os, "getloadavg", lambda: (1.5, 0.0, 0.0))
    assert executors.machine_share(2)[0] == 1.5


@pytest.mark.usefixtures("idle_machine")
def test_shared_objects_reach_every_item_on_every_executor() -> None:
    items = [(k % 3, x) for k, x in enumerate(range(40))]
    shared = [1, 10, 100]
    want = [x * shared[k] for k, x in items]
    for make in (Executor, lambda: ProcessExecutor(2), lambda: AutoExecutor(2, startup_s=0.0)):
        with make() as ex:
            got = [r[0] for r in _collect(ex.run_with(work.scaled, shared, items))]
        assert got == want


def test_the_parent_runs_items_while_the_workers_start() -> None:
    """With help_start, this process takes items until a worker has started; the workers
    (cold forkserver) take the rest. Without it, every item runs in a worker."""
    executors.stop_forkserver()
    items = [(0, x) for x in range(60)]
    with ProcessExecutor(2) as ex:
        pids = {pid for _, pid in _collect(ex.run_with(work.scaled, [1], items))}
    assert os.getpid() in pids and len(pids) >= 2
    with ProcessExecutor(2, help_start=False) as ex:
        pids = {pid for _, pid in _collect(ex.run_with(work.scaled, [1], items))}
    assert os.getpid() not in pids


def test_auto_runs_small_work_serially_and_says_why() -> None:
    heard: list[str] = []
    with AutoExecutor(2, announce=heard.append) as ex:
        assert _collect(ex.run(work.square, list(range(20)))) == [x * x for x in range(20)]
        how = ex.describe()
    assert how["executor"] == "serial" and how["mode"] == "serial"
    assert how["chosen"] == "automatically (no --jobs)"
    assert how["saving_s"] < how["startup_s"] and how["runs"] == 20
    assert how["expected_speedup"] >= 1.0 and how["load_average_1min"] >= 0.0
    assert len(heard) == 1 and heard[0].startswith("executor: serial (20 runs of")
    assert "set --jobs to choose" in heard[0]


@pytest.mark.usefixtures("idle_machine")
def test_auto_starts_workers_when_they_pay_and_keeps_them() -> None:
    """Runs of 0.2 s: 2 workers save (n - 1) x 0.2 x 1/2 s = 1.1 s, more than twice
    (``WORKERS_MARGIN``) a start-up of 0.5 s."""
    with AutoExecutor(2, startup_s=0.5) as ex:
        got = _collect(ex.run(work.nap, [0.2] * 12))
        assert got == [0.2] * 12
        how = ex.describe()
        assert how["executor"] == "local" and how["mode"] == "2 local workers"
        assert how["expected_speedup"] == 2.0 and "(load 0.5)" in how["reason"]
        assert ex.workers == 2
        # a later call reuses the pool it started
        pool = ex._pool
        assert _collect(ex.run(work.square, [3, 4])) == [9, 16] and ex._pool is pool
    # one CPU or one run: serial without measuring
    with AutoExecutor(1) as one:
        assert _collect(one.run(work.square, [2, 3])) == [4, 9]
        assert one.describe()["reason"] == "one CPU"


@pytest.mark.usefixtures("idle_machine")
def test_auto_wants_workers_to_save_twice_their_start_up() -> None:
    """Runs of 0.2 s, 8 of them: 2 workers would save 0.7 s, more than a start-up of 0.5 s but
    less than twice it (``WORKERS_MARGIN``): serial, and the reason says so."""
    with AutoExecutor(2, startup_s=0.5) as ex:
        assert _collect(ex.run(work.nap, [0.2] * 8)) == [0.2] * 8
        how = ex.describe()
    assert how["mode"] == "serial", how
    assert how["startup_s"] < how["saving_s"] <= 2 * how["startup_s"]
    assert "less than 2x their start-up" in how["reason"]


@pytest.mark.usefixtures("idle_machine")
def test_auto_starts_the_forkserver_early_only_when_workers_may_pay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forkserver starts ahead of the first run unless the runs' estimated tasks say,
    even at ``TASK_S_HIGH`` a task, that workers could not save twice their start-up: 20 runs
    of 1,000 tasks (at most ~0.09 s each) do not start it; 20 of a million tasks, or runs
    without an estimate, do. The choice itself still comes from the first run's time."""
    started: list[int] = []
    monkeypatch.setattr(executors, "start_forkserver", lambda: started.append(1))
    for tasks, want in ((1_000.0, 0), (1_000_000.0, 1), (None, 1)):
        started.clear()
        with AutoExecutor(2, startup_s=1.0) as ex:
            if tasks is not None:
                ex.expect([tasks] * 20)
            assert _collect(ex.run(work.square, list(range(20)))) == [x * x for x in range(20)]
            assert ex.describe()["mode"] == "serial"
        assert len(started) == want, tasks


def test_make_executor_without_jobs_is_automatic() -> None:
    ex = make_executor("local")
    assert isinstance(ex, AutoExecutor)
    ex.close()
    assert type(make_executor("local", 1)) is Executor
    two = make_executor("local", 2)
    assert isinstance(two, ProcessExecutor) and two.workers == 2
    two.close()


def test_dask_scatters_each_scenario_once(tmp_path: Path) -> None:
    """A real LocalCluster: a sweep of 2 points x 3 replications scatters 2 scenarios (not 6
    copies), and gives the serial numbers."""
    path = tmp_path / "s.yaml"
    path.write_text(synthetic_scenario(rate=1.0, tasks=100, warmup_tasks=0, name="d"))
    grid = ["proxies.p0.threads=1,2"]
    serial = sweep(path, grid, replications=3, seed=2, folder=tmp_path / "serial")
    with DaskExecutor(2) as ex:
        res = sweep(path, grid, replications=3, seed=2, executor=ex, folder=tmp_path / "dask")
        assert ex.scattered == 2
        got = _collect(ex.run_with(work.scaled, [7], [(0, 1), (0, 2)]))
        assert [r[0] for r in got] == [7, 14] and ex.scattered == 3
    pd.testing.assert_frame_equal(serial.table, res.table, check_exact=True)
    assert res.execution == {"executor": "dask", "workers": 2}


@pytest.mark.usefixtures("idle_machine")
def test_cli_sweep_prints_and_records_the_automatic_choice(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(synthetic_scenario(rate=1.0, tasks=50, warmup_tasks=0, name="tiny"))
    out = tmp_path / "sw"
    r = CliRunner().invoke(
        app, ["sweep", str(path), "-g", "proxies.p0.threads=1,2,3", "-r", "2", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "executor: serial (6 runs of" in text and "(serial); results:" in text
    manifest = json.loads((out / "manifest.json").read_text())
    how = manifest["execution"]
    assert how["mode"] == "serial" and how["chosen"] == "automatically (no --jobs)"
    assert how["runs"] == 6 and how["run_s"] > 0
    # an explicit -j N uses N workers whatever the cost, and says so
    out2 = tmp_path / "sw2"
    args = ["sweep", str(path), "-g", "proxies.p0.threads=1,2", "-r", "1", "-j", "2"]
    r = CliRunner().invoke(app, [*args, "--out", str(out2)])
    assert r.exit_code == 0, r.output
    assert "(2 local workers)" in " ".join(r.output.split())
    assert json.loads((out2 / "manifest.json").read_text())["execution"] == {
        "executor": "local",
        "workers": 2,
    }
    first = pd.read_parquet(out / "sweep.parquet")
    assert (first["status"] == "ok").all()


@pytest.mark.usefixtures("idle_machine")
@pytest.mark.parametrize("jobs", [None, 2])
def test_same_numbers_with_or_without_workers(tmp_path: Path, jobs: int | None) -> None:
    """The automatic executor (forced to start workers) and -j 2 give the serial table."""
    path = tmp_path / "s.yaml"
    path.write_text(synthetic_scenario(rate=1.0, tasks=200, warmup_tasks=0, name="same"))
    grid = ["proxies.p0.threads=1,2", "synthetic.arrivals.rate=0.6/s,0.9/s"]
    serial = sweep(path, grid, replications=2, seed=5, folder=tmp_path / "a")
    ex = AutoExecutor(2, startup_s=0.0) if jobs is None else ProcessExecutor(jobs)
    with ex:
        other = sweep(path, grid, replications=2, seed=5, executor=ex, folder=tmp_path / "b")
    pd.testing.assert_frame_equal(serial.table, other.table, check_exact=True)
    assert sim.load_scenario(path).spec.name == "same"


def test_the_parent_runs_no_items_once_the_workers_run() -> None:
    """Once a worker has started, this process takes no item itself: on one CPU per worker it
    would be a runner too many. The pool's first call started the workers; the second call's
    items all run in them."""
    items = [(0, x) for x in range(40)]
    with ProcessExecutor(2) as ex:
        _collect(ex.run_with(work.scaled, [1], items))
        assert ex.workers_up() >= 1
        helped = ex.helped
        pids = {pid for _, pid in _collect(ex.run_with(work.scaled, [1], items))}
        assert os.getpid() not in pids and ex.helped == helped


def test_the_parent_helps_only_until_a_worker_has_started() -> None:
    """With a cold forkserver, the first submits wait for its imports in a thread while this
    process runs items (20 ms each, 6 s in all); once a worker has started it takes no more,
    and the workers run the rest."""
    executors.stop_forkserver()
    items = [(0, 0.02)] * 300
    with ProcessExecutor(2) as ex:
        got = _collect(ex.run_with(work.nap_where, [None], items))
        ran_here = sum(1 for r in got if r[1] == os.getpid())  # type: ignore[index]
        assert ran_here == ex.helped and 0 < ex.helped < 250


class _Recording(Executor):
    """Runs serially and records the order in which the items were handed over."""

    def __init__(self) -> None:
        self.seeds: list[int] = []

    def run_with(self, fn, shared, items):  # type: ignore[no-untyped-def]
        self.seeds.extend(job.seed for _, job in items)
        return super().run_with(fn, shared, items)


def test_runs_go_most_costly_first_and_results_keep_their_places(tmp_path: Path) -> None:
    """A sweep whose points differ in size: the executor gets the biggest point's runs first
    (estimated tasks, ``sim.experiment.cost``), and the table is the one of any other executor,
    in grid order."""
    path = tmp_path / "s.yaml"
    path.write_text(synthetic_scenario(rate=1.0, tasks=100, warmup_tasks=0, name="order"))
    grid = ["synthetic.tasks=100,400,200"]
    rec = _Recording()
    ordered = sweep(path, grid, replications=2, seed=3, executor=rec, folder=tmp_path / "a")
    seeds = ordered.table["seed"].tolist()  # two replications a point, in grid order
    assert ordered.table["synthetic.tasks"].tolist() == [100, 100, 400, 400, 200, 200]
    # handed over: 400 (point 1), then 200 (point 2), then 100 (point 0); replications in order
    assert rec.seeds == [seeds[2], seeds[3], seeds[4], seeds[5], seeds[0], seeds[1]]
    with ProcessExecutor(2) as ex:
        other = sweep(path, grid, replications=2, seed=3, executor=ex, folder=tmp_path / "b")
    pd.testing.assert_frame_equal(ordered.table, other.table, check_exact=True)


def test_run_cost_counts_the_work_of_a_scenario(tmp_path: Path) -> None:
    from sim.experiment.cost import lpt_order, run_cost

    path = tmp_path / "s.yaml"
    path.write_text(synthetic_scenario(rate=1.0, tasks=300, warmup_tasks=0, name="cost"))
    assert run_cost(sim.load_scenario(path)) == 300.0
    quick = Path("scenarios/quickstart.yaml")
    one = run_cost(sim.load_scenario(quick, ["simulation.days=1"]))
    assert run_cost(sim.load_scenario(quick, ["simulation.days=2"])) == 2 * one
    bigger = sim.load_scenario(quick, ["simulation.days=1", "tenants.contoso.users=4000"])
    assert run_cost(bigger) > one
    # equal costs keep their order: the same order on every machine
    assert lpt_order([1.0, 3.0, 2.0, 3.0, 1.0]) == [1, 3, 2, 0, 4]
