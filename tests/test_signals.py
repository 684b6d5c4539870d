"""Ctrl-C and SIGTERM stop every command with one line and the signal's status (130 or 143),
no traceback from this process, its workers or its forkserver, and no worker left behind
(README, "Exit statuses")."""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future
from pathlib import Path

import pytest
from helpers import work
from helpers.cli import run_main

from sim import cli
from sim.atomic import uninterrupted
from sim.experiment import executors
from sim.experiment.executors import ProcessExecutor

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
ENTERPRISE = ROOT / "scenarios" / "enterprise-100k.yaml"
POOLSIM = Path(sys.executable).with_name("poolsim")
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _status_mask(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1], 16)
    return 0


def _session(sid: int) -> set[int]:
    """Live processes of session ``sid`` other than its leader (Linux)."""
    pids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != sid:
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.add(int(d.name))
    return pids


def _until(what: str, ok: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _handles_sigterm(pid: int) -> bool:
    try:
        return bool(_status_mask(pid, "SigCgt") & (1 << (signal.SIGTERM - 1)))
    except OSError:
        return False


def test_interrupted_survives_simpy_and_pickle() -> None:
    """SimPy re-raises a failed process's exception as ``type(exc)(*exc.args)``: with only the
    text in ``args`` that raised TypeError, and a sweep counted the signal as a failed point
    (exit 1, 'point 1 failed: TypeError: Interrupted.__init__() missing ... what')."""
    import simpy

    exc = cli.Interrupted(cli.EXIT_SIGTERM, "terminated (SIGTERM)")
    env = simpy.Environment()

    def cut() -> Generator[
        simpy.Event, None, None
    ]:  # a process the signal cuts, that no one waits for
        yield env.timeout(1)
        raise exc

    env.process(cut())
    with pytest.raises(cli.Interrupted) as raised:
        env.run()
    for copy in (raised.value, pickle.loads(pickle.dumps(exc))):
        assert isinstance(copy, cli.Interrupted)
        assert (copy.status, copy.what, str(copy)) == (143, "terminated (SIGTERM)", exc.what)


def test_a_signal_inside_a_simpy_process_stops_a_serial_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM lands in the second run, inside a SimPy process (where the workload grows the
    task table): 143 and the one line of a stopped sweep, nothing counted as a failed point."""
    from sim.model import tasks

    real_grow = tasks.TaskState.grow
    calls: list[int] = []

    def grow(self: tasks.TaskState, need: int) -> None:
        calls.append(need)
        if len(calls) == 2:  # not the first: the first run's point is then kept
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises here
        real_grow(self, need)

    monkeypatch.setattr(tasks.TaskState, "grow", grow)
    out = tmp_path / "sw"
    args = ["sweep", str(QUICKSTART), "--set", "simulation.days=1", "-r", "1", "-j", "1"]
    code = run_main(monkeypatch, *args, "-g", "simulation.bucket=10m,15m,20m", "--out", out)
    stderr = capsys.readouterr().err
    assert len(calls) >= 2
    assert code == 143, stderr
    assert "Traceback" not in stderr and "failed" not in stderr
    assert "terminated (SIGTERM): finished points are kept" in " ".join(stderr.split())
    assert not (out / "summary.csv").exists()


def test_a_held_signal_is_raised_when_the_section_ends() -> None:
    """A pool's submit may fork a worker; a signal landing before the pool has recorded it left
    a worker that nothing stopped (it printed FileNotFoundError once the command had gone)."""
    exc = cli.Interrupted(cli.EXIT_SIGINT, "interrupted (Ctrl-C)")
    with pytest.raises(cli.Interrupted) as got, uninterrupted():
        with uninterrupted():
            assert uninterrupted.hold(exc)
            assert uninterrupted.hold(cli.Interrupted(cli.EXIT_SIGTERM, "later"))
        reached = True  # the inner end is not the end of the section
    assert reached and got.value is exc  # the first signal wins
    assert not uninterrupted.hold(exc)  # outside a section: the handler raises at once
    with pytest.raises(ValueError), uninterrupted():  # the body's own error wins
        uninterrupted.hold(exc)
        raise ValueError("body")
    assert uninterrupted.held is None and uninterrupted.depth == 0


@LINUX
def test_workers_and_forkserver_never_see_ctrl_c() -> None:
    """Ctrl-C goes to the whole process group: the forkserver, importing poolsim, printed a
    KeyboardInterrupt traceback, and so could idle workers. They start with SIGINT blocked."""
    executors.stop_forkserver()
    executors.start_forkserver()
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    assert pid is not None and _status_mask(pid, "SigBlk") & (1 << (signal.SIGINT - 1))
    with ProcessExecutor(2, help_start=False) as ex:
        assert [r for _, r in ex.run(work.sigint_held, [0, 1, 2])] == [True] * 3


def test_an_interrupted_pool_cancels_nothing_behind_its_manager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CPython 3.11's pool manager thread fails every pending future when it finds its workers
    gone (``abort`` terminates them) and raised InvalidStateError: CANCELLED, a traceback, on
    one the interrupted ``run_with`` had cancelled itself (gh-107219). The pending futures are
    now left to the pool's shutdown, and ``abort`` waits for the manager thread."""
    raised: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    ex = ProcessExecutor(2, help_start=False)
    ex.workers = 8  # 16 runs in flight on 2 processes: most wait in the pool, cancellable
    pool = ex._pool
    gen = ex.run(work.nap, [5.0] * 20)
    stop = cli.Interrupted(cli.EXIT_SIGTERM, "terminated (SIGTERM)")

    def handler(_signum: int, _frame: object) -> None:
        raise stop

    def interrupt() -> None:  # the signal lands while run_with waits for the first result
        _until("no run started", lambda: any(f.running() for f in futures()), 30)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    def futures() -> list[Future[object]]:
        return [w.future for w in list(pool._pending_work_items.values())]

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(cli.Interrupted):
            next(gen)
        waiting = [f for f in futures() if not f.running()]
        assert waiting and not any(f.cancelled() for f in waiting)
    finally:
        signal.signal(signal.SIGUSR1, old)
        ex.abort()
    assert raised == []
    manager = getattr(pool, "_executor_manager_thread", None)
    assert not isinstance(manager, threading.Thread) or not manager.is_alive()


def stop_command(
    argv: list[str],
    sig: signal.Signals,
    *,
    group: bool = False,
    ready: Callable[[int], bool] = lambda pid: True,
    cwd: Path | None = None,
) -> tuple[int, str]:
    """Start ``poolsim argv`` in its own session, wait until its signal handlers are installed
    and ``ready(pid)`` holds, send ``sig`` (to the whole group with ``group``, as a terminal's
    Ctrl-C does), and return its status and stderr once it and every process it started
    are gone."""
    proc = subprocess.Popen(
        [str(POOLSIM), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cwd,
    )
    try:
        _until("poolsim did not start", lambda: _handles_sigterm(proc.pid) and ready(proc.pid))
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        _until(
            f"processes outlived poolsim: {_session(proc.pid)}", lambda: not _session(proc.pid), 10
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, stderr


def busy(cpu_s: float) -> Callable[[int], bool]:
    """Ready once the command has used ``cpu_s`` CPU seconds: past its imports, at work."""
    tick = os.sysconf("SC_CLK_TCK")

    def ready(pid: int) -> bool:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return (int(fields[11]) + int(fields[12])) / tick >= cpu_s  # utime + stime

    return ready


def workers(n: int) -> Callable[[int], bool]:
    """Ready when the forkserver and ``n`` workers run (they are in the command's session)."""
    return lambda pid: len(_session(pid)) >= n + 1


STATUS = {
    signal.SIGTERM: (143, "terminated (SIGTERM)"),
    signal.SIGINT: (130, "interrupted (Ctrl-C)"),
}


def assert_one_line(code: int, stderr: str, sig: signal.Signals, kept: str) -> None:
    status, what = STATUS[sig]
    assert code == status, stderr
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert sum(what in ln for ln in lines) == 1, stderr
    assert f"{what}: {kept}" in " ".join(stderr.split()), stderr


@LINUX
@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGTERM, False), (signal.SIGINT, True)], ids=["sigterm", "ctrl-c"]
)
def test_a_parallel_sweep_stops_with_one_line(
    tmp_path: Path, sig: signal.Signals, group: bool
) -> None:
    out = tmp_path / "sw"
    argv = ["sweep", str(ENTERPRISE), "-g", "simulation.bucket=10m,15m,20m,25m", "-r", "1"]
    code, stderr = stop_command(
        [*argv, "-j", "2", "--out", str(out)], sig, group=group, ready=workers(2)
    )
    assert_one_line(code, stderr, sig, "finished points are kept")
    assert not (out / "summary.csv").exists()


def test_the_final_renames_of_a_sweep_are_not_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's last phase renames its files in one burst with the signals masked, but a
    mask holds a signal back from its own thread only: with a progress bar's thread running,
    that thread took SIGTERM, Python ran the handler in the main thread between two renames,
    and the folder showed a summary.csv without the points.csv and manifest that go with it."""
    sweep_mod = importlib.import_module("sim.experiment.sweep")
    monkeypatch.setattr(cli, "_SIGNALLED", [])
    monkeypatch.setattr(cli, "_watchdog", lambda exc, grace: None)
    real = os.replace
    finals: list[str] = []

    def replace(src: str | Path, dst: str | Path) -> None:
        real(src, dst)
        if not Path(dst).name.startswith("."):  # a final name, not an atomic write's temp
            finals.append(Path(dst).name)
            if len(finals) == 1:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.5)  # the other thread takes it; the handler runs after this

    monkeypatch.setattr(os, "replace", replace)
    other = threading.Event()
    threading.Thread(target=other.wait, daemon=True).start()  # as a progress bar's thread
    old = signal.signal(signal.SIGTERM, cli._raise_interrupted)
    names = ["summary.csv", "points.csv", "manifest.json"]
    try:
        with pytest.raises(cli.Interrupted):
            sweep_mod._commit(tmp_path, {n: (lambda p: p.write_text("x")) for n in names})
    finally:
        signal.signal(signal.SIGTERM, old)
        other.set()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


HISTORY = ROOT / "examples" / "calibrate" / "cpu-bound.yaml"
SWEEP_GRID = ["sweep", str(QUICKSTART), "-g", "simulation.bucket=10m,15m,20m,25m", "-r", "2"]


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Observed sessions for `history` and `calibrate`: a run of the example, exported."""
    from sim.experiment.run import simulate
    from sim.report.jobsessions import job_sessions_text

    path = tmp_path_factory.mktemp("observed") / "sessions.json"
    path.write_text(job_sessions_text(simulate(HISTORY)), encoding="utf-8")
    return path


@LINUX
@pytest.mark.parametrize(
    ("argv", "sig", "ready"),
    [
        (
            ["compare", str(ENTERPRISE), "-p", "round_robin,pull_fifo", "-r", "2", "-j", "2"],
            signal.SIGTERM,
            workers(2),
        ),
        (["size", str(QUICKSTART), "-j", "2"], signal.SIGINT, workers(2)),
        # history's whole run is ~1.3 CPU-s on a quiet machine: signal it half-way
        (["history", str(HISTORY), "--sessions", "{observed}"], signal.SIGTERM, busy(0.6)),
        (
            ["calibrate", str(HISTORY), "--sessions", "{observed}", "--budget", "50"],
            signal.SIGINT,
            busy(1.2),
        ),
        (
            ["bench", "check", str(ROOT / "benchmarks" / "regression.yaml")],
            signal.SIGTERM,
            busy(1.2),
        ),
        (["bench", "speed", "--quick", "--only", "sweep"], signal.SIGINT, workers(2)),
        (
            [*SWEEP_GRID, "-j", "2", "--executor", "dask", "--out", "{tmp}/sw"],
            signal.SIGINT,
            workers(2),
        ),
    ],
    ids=["compare", "size", "history", "calibrate", "bench-check", "bench-speed", "dask-sweep"],
)
def test_every_command_stops_with_one_line(
    tmp_path: Path,
    observed: Path,
    argv: list[str],
    sig: signal.Signals,
    ready: Callable[[int], bool],
) -> None:
    """SIGTERM to the process, or Ctrl-C to its process group, once the command has started
    its workers (or used some CPU seconds, for those that have none): the signal's status, the
    one line, no traceback, no process left (before the fix: compare and size printed worker
    tracebacks, `bench speed --only sweep` hung)."""
    if "dask" in argv:
        pytest.importorskip("distributed")
    argv = [a.replace("{observed}", str(observed)).replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] not in ("bench", "sweep"):
        argv += ["--results", str(tmp_path)]
    code, stderr = stop_command(argv, sig, group=sig == signal.SIGINT, ready=ready, cwd=ROOT)
    status, what = STATUS[sig]
    assert code == status, stderr
    assert "Traceback" not in stderr, stderr
    assert sum(what in ln for ln in stderr.splitlines()) == 1, stderr
    # nothing written, unless the signal came after the tables and the line names the folder
    # (a command that finished its work just before it); calibrate keeps its journal
    written = list(tmp_path.glob("*/*"))
    if argv[0] != "calibrate":
        assert all(f"kept in {folder}" in " ".join(stderr.split()) for folder in written), stderr


@pytest.mark.parametrize("where", ["write", "lines"])
def test_history_says_what_it_kept_when_stopped_after_its_work(
    tmp_path: Path, observed: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A signal while `history` writes its plots, or once the folder is complete and it prints
    its lines: the line names the folder kept (not "nothing written"), the signal's status."""
    from helpers.cli import invoke

    import sim.report.history as history

    def stop(*args: object, **kwargs: object) -> None:
        raise cli.Interrupted(143, "terminated (SIGTERM)")

    if where == "write":
        monkeypatch.setattr(history, "plot_history", stop)
    else:
        monkeypatch.setattr(history, "history_lines", stop)
    code, text = invoke(
        "history",
        HISTORY,
        "--sessions",
        observed,
        "--results",
        tmp_path,
        "--set",
        "simulation.days=2",
    )
    assert code == 143, text
    (folder,) = tmp_path.glob("*/*")
    kept = "tables kept in" if where == "write" else "results kept in"
    assert f"{kept} {folder}" in " ".join(text.split()), text
    assert "nothing written" not in text


def test_a_signal_after_the_folder_is_published_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` stopped while it prints its summary (the results folder is complete): the line
    says the results were kept and where, not "nothing written"; a next command in the same
    process that writes nothing says nothing written again."""
    import sim.experiment.run

    def stop(*args: object, **kwargs: object) -> None:
        raise cli.Interrupted(143, "terminated (SIGTERM)")

    def main(*argv: str | Path) -> tuple[int, str]:
        code = run_main(monkeypatch, *argv)
        return code, " ".join(capsys.readouterr().err.split())

    monkeypatch.setattr(cli, "print_summary", stop)
    code, err = main("run", QUICKSTART, "--set", "simulation.days=1", "--results", tmp_path)
    assert code == 143, err
    (folder,) = tmp_path.glob("*/*")
    assert f"terminated (SIGTERM): results kept in {folder}" in err, err
    monkeypatch.setattr(sim.experiment.run, "simulate", stop)
    code, err = main("run", QUICKSTART, "--results", tmp_path)
    assert code == 143 and "terminated (SIGTERM): nothing written" in err, err
