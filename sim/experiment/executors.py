"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor runs a module-level function over a list of picklable items and yields
``(index, result)`` as runs finish; ``run_with`` also hands each item one of a few shared
objects (a point's scenario), sent once rather than with every item. Results are put back in
item order by the callers, and each run's randomness comes only from its own seed, so the
numbers do not depend on the executor. Workers are started with ``forkserver`` (``spawn`` where
unavailable), never ``fork``: the parent may run threads (the progress bar, Dask's event loop).
The forkserver imports poolsim once (``PRELOAD``) and outlives pools, so workers start warm.
Without ``--jobs``, ``AutoExecutor`` runs serially when workers would not pay their start-up.

Ctrl-C and SIGTERM are the command's to handle: the forkserver and the workers never see Ctrl-C
(the terminal sends it to the whole process group), and the command stops the workers itself
(``abort``), so an interrupted command prints one line, not the tracebacks of its workers.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
from typing import Any, Literal, TypeVar

from sim.atomic import uninterrupted

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

ExecutorKind = Literal["local", "dask"]
EXECUTORS: tuple[str, ...] = ("local", "dask")


class ExecutorError(ValueError):
    """An executor that cannot be used as asked (bad name, jobs or scheduler address)."""


def default_jobs() -> int:
    """Worker processes when not told: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


PARENT_POLL_S = 0.5
"""How often a worker checks that the process that started it still lives."""


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours to signal
        return True
    return True


def exit_with_parent(parent: int) -> None:
    """Worker initializer: the worker exits as soon as the process that started it dies, even
    by SIGKILL, so a killed sweep leaves no workers behind holding memory and its stdout.

    On Linux the kernel delivers SIGKILL when the worker's parent (the forkserver, which itself
    exits when the main process goes) dies (``prctl(PR_SET_PDEATHSIG)``). Everywhere, a daemon
    thread polls every ``PARENT_POLL_S``: a changed parent pid (re-parented) or a vanished main
    process ends the worker.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the poll remains
            pass
    # Ctrl-C reaches the whole process group: the command decides (it stops the workers), a
    # worker must not print a KeyboardInterrupt traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    first_ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != first_ppid or not _parent_alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="poolsim-parent-watch", daemon=True).start()


def _worker_start(parent: int, started: Any) -> None:
    """Worker initializer of ``ProcessExecutor``: ``exit_with_parent``, then one release of the
    ``started`` semaphore, so the parent knows a worker is up and stops running items itself."""
    exit_with_parent(parent)
    started.release()


class Executor:
    """Runs ``fn`` over items; a context manager that owns its workers."""

    name = "serial"
    workers = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def abort(self) -> None:
        """Stop at once (an error or an interruption): unfinished runs are thrown away."""
        self.close()

    def close(self) -> None:
        """Release the workers."""

    def describe(self) -> dict[str, Any]:
        """Where the runs went, for a manifest: executor name, workers, and how it was chosen."""
        return {"executor": self.name, "workers": self.workers}

    def expect(self, tasks: Sequence[float]) -> None:
        """The estimated tasks of each run of the next ``run_with`` (``cost.run_cost``): an
        executor that chooses may use them; ignored here."""

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(item))`` as runs finish."""
        return self.run_with(_Plain(fn), [None], [(0, item) for item in items])

    def run_with(
        self, fn: Callable[[S, T], R], shared: Sequence[S], items: Sequence[tuple[int, T]]
    ) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(shared[key], item))`` for every ``(key, item)`` as runs finish.

        ``shared`` holds the large objects many items use (a sweep point's scenario, used by
        all its replications): each is sent to the workers once per chunk (local processes)
        or once per cluster (Dask's ``scatter``) instead of once per item. Here: in order, in
        this process."""
        for i, (key, item) in enumerate(items):
            yield i, fn(shared[key], item)


class _Plain:
    """``fn(item)`` called as ``fn(shared, item)`` (picklable when ``fn`` is module-level)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, _shared: object, item: Any) -> Any:
        return self.fn(item)


def _run_chunk(
    fn: Callable[[Any, Any], Any], shared: dict[int, Any], chunk: list[tuple[int, int, Any]]
) -> tuple[list[tuple[int, Any]], float]:
    """Worker side: run a chunk of items; their results and the chunk's wall seconds."""
    t0 = time.perf_counter()
    out = [(i, fn(shared[key], item)) for i, key, item in chunk]
    return out, time.perf_counter() - t0


PRELOAD = ("sim.experiment.replicate",)
"""Modules the forkserver imports once: every worker forked from it starts with poolsim, SimPy,
numpy and pandas loaded, instead of importing them itself (about a second each)."""

CHUNK_TARGET_S = 0.25
"""Aim of a chunk's run time: items estimated below it are sent to a worker together, so the
per-message cost (pickling, a pipe round trip: about a millisecond) stays below 1 %."""

WORKER_START_S = 1.0
"""Estimated wall seconds before cold workers deliver: the forkserver importing ``PRELOAD``
(0.6-1.4 s wall, 0.45 CPU-s measured on a 2-core Intel Xeon, fresh interpreter). INFERRED:
machine-dependent; the automatic choice records the value it used."""

HELP_GRACE_S = 0.2
"""How long this process waits for a worker to start before it runs an item itself: a warm
forkserver starts workers in about 0.1 s (a fork and a handshake), and an item begun then would
share the CPUs with the workers for all its length."""

RUN_S_HIGH = 0.05
TASK_S_HIGH = 40e-6
"""A generous estimate of a run's wall seconds: ``RUN_S_HIGH`` plus ``TASK_S_HIGH`` per task
(measured on a 2-CPU AMD EPYC: about 0.04 s of building and tables plus 13-15 us per task of
the quickstart's and enterprise-100k's nights, so about three times that per task). INFERRED,
machine-dependent. Only ``AutoExecutor`` reads it, to skip starting the forkserver ahead of
the first run when even this estimate says workers could not pay; it never decides the
executor (the first run's measured time does)."""

WORKERS_MARGIN = 2.0
"""Workers are chosen only when they would save this many times their estimated start-up. The
start-up is an estimate (``WORKER_START_S`` is machine-dependent: 1.0 s measured once, 1.2-1.5 s
on the same machine with more of poolsim to import) and the goal is asymmetric: a sweep of tiny
points must never be slower than serial, while a sweep that could gain runs serially only when
the gain would be small anyway."""


def _pool_context() -> Any:
    """``forkserver`` with ``PRELOAD`` (``spawn`` where there is no forkserver); never ``fork``."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return mp.get_context("spawn")  # pragma: no cover - no forkserver (Windows, macOS spawn)


@contextmanager
def _no_ctrl_c() -> Iterator[None]:
    """Start processes (and threads) with SIGINT blocked, a mask they inherit: Ctrl-C, which
    the terminal sends to the whole process group, then reaches only this process, which stops
    them itself, instead of each printing a KeyboardInterrupt traceback of its own. SIGTERM
    stays deliverable (``abort`` stops workers with it). CPython starts its resource tracker
    the same way; starting it unblocks SIGINT when done, so it is started first."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):  # pragma: no cover - a library caller's thread, or not POSIX
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start_forkserver() -> None:
    """Start the forkserver now (it imports ``PRELOAD`` in the background), so its imports
    overlap with the caller's own work (loading a sweep's grid) instead of delaying the first
    runs. Harmless where there is no forkserver or when it already runs."""
    ctx = _pool_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        # a Ctrl-C while it imports PRELOAD would print a KeyboardInterrupt traceback; a
        # signal cutting the start half-way would leave it unrecorded
        with _no_ctrl_c(), uninterrupted():
            forkserver.ensure_running()


def stop_forkserver() -> None:
    """Stop this process's forkserver, so the next pool starts cold (what a fresh ``poolsim``
    command pays). For benchmarks; uses ``ForkServer._stop``, there since Python 3.8."""
    if "forkserver" in mp.get_all_start_methods():
        from multiprocessing import forkserver

        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()


class ProcessExecutor(Executor):
    """A pool of warm local worker processes (``--jobs N``), kept across calls of ``run``.

    Workers fork from a forkserver that has imported poolsim once (``PRELOAD``). Items go out in
    chunks sized from the measured run time (``CHUNK_TARGET_S``; at most a quarter of a
    worker's share of what is left, so the end stays balanced), at most ``2 x workers`` chunks
    in flight, handed to whichever worker comes free first. With ``help_start`` (the
    default), this process runs items itself, one at a time, while no worker has started yet
    (each worker says so once it runs, ``_worker_start``): the workers' start-up (a second or
    so of imports in a cold forkserver) is not time lost. Once a worker runs, this process
    takes no more items: on a machine with one CPU per worker it would be a runner too many,
    and the item it took would finish late, alone at the end of the work.
    """

    name = "local"

    def __init__(self, jobs: int, help_start: bool = True, point_s: float | None = None) -> None:
        self.workers = jobs
        self.help_start = help_start
        self._runs = 0
        self._run_s = 0.0
        if point_s is not None:
            self._runs, self._run_s = 1, point_s
        self.helped = 0
        """Items this process ran itself while the workers started."""
        self._up = 0
        self._starter: threading.Thread | None = None
        start_forkserver()
        ctx = _pool_context()
        self._started = ctx.Semaphore(0)
        self._pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=ctx,
            initializer=_worker_start,
            initargs=(os.getpid(), self._started),
        )

    def _join_starter(self) -> None:
        """Wait for the thread of the first submits (forks in progress are then recorded)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None

    def close(self) -> None:
        self._join_starter()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        # waiting for the runs in flight could take minutes after a Ctrl-C or a SIGTERM; a
        # second signal must not cut the stop half-way (workers left behind)
        with uninterrupted():
            self._join_starter()
            procs = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
            for proc in procs:
                proc.join(timeout=5)
            # the pool's manager thread sees the workers gone and fails the futures still
            # pending; once it has ended, no future changes state behind this process's back
            manager = getattr(self._pool, "_executor_manager_thread", None)
            if isinstance(manager, threading.Thread) and manager is not threading.current_thread():
                manager.join(timeout=5)

    def workers_up(self, wait_s: float = 0.0) -> int:
        """Workers started so far; waits up to ``wait_s`` for the first one."""
        if self._up == 0 and wait_s > 0 and self._started.acquire(timeout=wait_s):
            self._up += 1
        while self._started.acquire(block=False):
            self._up += 1
        return self._up

    @property
    def point_s(self) -> float | None:
        """Mean wall seconds of one item so far (None before the first)."""
        return self._run_s / self._runs if self._runs else None

    def chunk_size(self, left: int) -> int:
        """Items in the next chunk when ``left`` are still to send."""
        est = self.point_s
        if est is None or left <= 0:
            return 1
        want = math.ceil(CHUNK_TARGET_S / max(est, 1e-6))
        balance = max(1, left // (4 * self.workers))
        return max(1, min(want, balance))

    def _submit(
        self, fn: Callable[[S, T], R], shared: Sequence[S], chunk: list[tuple[int, int, T]]
    ) -> Future[tuple[list[tuple[int, R]], float]]:
        needed = {key: shared[key] for _, key, _ in chunk}
        return self._pool.submit(_run_chunk, fn, needed, chunk)

    def _start_workers(
        self,
        fn: Callable[[S, T], R],
        shared: Sequence[S],
        batch: list[list[tuple[int, int, T]]],
        pending: dict[Future[tuple[list[tuple[int, R]], float]], int],
        errors: list[BaseException],
    ) -> None:
        """Thread of the first submits: the first one waits for a cold forkserver's imports
        (it forks a worker). Signals reach the main thread only, so none cuts a fork here."""
        try:
            for chunk in batch:
                pending[self._submit(fn, shared, chunk)] = len(chunk)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    def run_with(
        self, fn: Callable[[S, T], R], shared: Sequence[S], items: Sequence[tuple[int, T]]
    ) -> Iterator[tuple[int, R]]:
        todo = deque((i, key, item) for i, (key, item) in enumerate(items))
        pending: dict[Future[tuple[list[tuple[int, R]], float]], int] = {}
        limit = 2 * self.workers

        def next_chunk() -> list[tuple[int, int, T]]:
            n = self.chunk_size(len(todo))
            return [todo.popleft() for _ in range(min(n, len(todo)))]

        try:
            if self.help_start and todo and self.workers_up() == 0:
                # no worker runs yet: the first submits go from a thread while this process
                # runs items itself, until a worker has started
                batch: list[list[tuple[int, int, T]]] = []
                while todo and len(batch) < limit:
                    batch.append(next_chunk())
                errors: list[BaseException] = []
                self._starter = threading.Thread(
                    target=self._start_workers,
                    args=(fn, shared, batch, pending, errors),
                    name="poolsim-pool-start",
                    daemon=True,
                )
                self._starter.start()
                grace = HELP_GRACE_S  # a warm forkserver's workers start within it
                while todo and self.workers_up(grace) == 0:
                    grace = 0.0
                    i, key, item = todo.popleft()
                    t0 = time.perf_counter()
                    result = fn(shared[key], item)
                    self._runs += 1
                    self._run_s += time.perf_counter() - t0
                    self.helped += 1
                    yield i, result
                self._starter.join()
                self._starter = None
                if errors:
                    raise errors[0]
            while True:
                while len(pending) < limit and todo:
                    chunk = next_chunk()
                    # a submit may fork a worker: a signal landing before the pool has
                    # recorded it would leave a worker that ``abort`` does not know
                    with uninterrupted():
                        fut = self._submit(fn, shared, chunk)
                    pending[fut] = len(chunk)
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    count = pending.pop(fut)
                    results, elapsed = fut.result()
                    self._runs += count
                    self._run_s += elapsed
                    yield from results
        except GeneratorExit:  # the caller stopped early: the pool lives on, drop the rest
            self._join_starter()
            for fut in pending:
                fut.cancel()
            raise
        # on an error or a signal, the futures are left to ``abort`` (the pool's shutdown
        # cancels them in its manager thread): cancelling them here races with that thread,
        # which fails every pending future when it finds the workers gone, and a cancelled
        # one raises InvalidStateError there (CPython before 3.12, gh-107219), a traceback


def machine_share(workers: int) -> tuple[float, float, float]:
    """``(speed-up, stretch, load)``: what ``workers`` processes are expected to gain over one
    on this machine now, how much slower than on an idle machine a process runs, and the
    1-minute load average both come from.

    ``L = max(0, load - 1)`` other runnable processes (the load counts this one) hold CPUs.
    Only idle CPUs help: the speed-up is ``min(W, max(1, C - L))`` for ``C`` CPUs. Sharing a
    busy CPU gains nothing where the kernel shares the CPUs per session (Linux autogroup, on
    by default): measured on 2 CPUs at load 8, a 16-point sweep of 5 s points took 86 s on 2
    workers and 81 s serially. The stretch, ``max(1, (L + 1) / C)``, scales the start-up."""
    cpus = float(default_jobs())
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # pragma: no cover - not Unix
        load = 0.0
    others = max(0.0, load - 1.0)
    gain = min(float(workers), max(1.0, cpus - others))
    return gain, max(1.0, (others + 1.0) / cpus), load


class AutoExecutor(Executor):
    """Local runs without ``--jobs``: serial or ``workers`` warm processes, whichever is
    estimated faster for the items at hand.

    The first item runs in this process and is timed (``t``). With ``n`` items, the workers
    would save about ``(n - 1) * t * (1 - 1/g)`` seconds, ``g`` their expected speed-up
    (``machine_share``: ``W`` on an idle machine, less when other processes hold the CPUs), and
    cost their start-up (``WORKER_START_S``, a cold start, stretched like every run by the
    machine's load); workers win only when they save more than ``WORKERS_MARGIN`` times that
    start-up. The estimate is the same whatever this process ran before (a forkserver left warm
    by an earlier pool starts workers faster, but the choice does not depend on that history),
    so the same items on the same machine get the same choice. Small points
    (a point below the start-up cost) therefore run serially unless there are enough of them to
    pay for the workers. Once started, the pool is kept for later calls. ``choice`` (and
    ``describe()``) say what was chosen and why; ``announce`` hears it as one line.
    """

    name = "auto"

    def __init__(
        self,
        jobs: int | None = None,
        announce: Callable[[str], None] | None = None,
        startup_s: float | None = None,
    ) -> None:
        self.max_workers = jobs or default_jobs()
        self.workers = 1
        self.announce = announce
        self.startup_s = startup_s
        self.choice: dict[str, Any] = {}
        self._pool: ProcessExecutor | None = None
        self._expected: list[float] | None = None

    def expect(self, tasks: Sequence[float]) -> None:
        self._expected = [float(x) for x in tasks]

    def _workers_may_pay(self, n: int) -> bool:
        """Whether workers could pay for themselves by the generous estimate of the runs'
        time (``TASK_S_HIGH``; True without an estimate): if not, the forkserver is not
        started ahead of the first run (its start and imports would only slow this process
        on a machine whose other CPUs are not quite idle)."""
        expected, self._expected = self._expected, None
        if expected is None or len(expected) != n:
            return True
        gain, stretch, _ = machine_share(self.max_workers)
        start = self.startup_s if self.startup_s is not None else WORKER_START_S * stretch
        runs_s = sorted((RUN_S_HIGH + TASK_S_HIGH * x for x in expected), reverse=True)
        saving = sum(runs_s[1:]) * (1.0 - 1.0 / gain)  # the first runs here in any case
        return saving > start * WORKERS_MARGIN

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.abort()

    def describe(self) -> dict[str, Any]:
        return {
            "executor": "local" if self._pool is not None else "serial",
            "workers": self.workers,
            "chosen": "automatically (no --jobs)",
            **self.choice,
        }

    def _decide(self, mode: str, reason: str, **figures: float) -> None:
        self.choice = {"mode": mode, "reason": reason, **figures}
        if self.announce is not None:
            self.announce(f"executor: {mode} ({reason}; set --jobs to choose)")

    def run_with(
        self, fn: Callable[[S, T], R], shared: Sequence[S], items: Sequence[tuple[int, T]]
    ) -> Iterator[tuple[int, R]]:
        if self._pool is not None:
            yield from self._pool.run_with(fn, shared, items)
            return
        n = len(items)
        if n == 0:
            return
        if n == 1 or self.max_workers == 1:
            why = "one run" if n == 1 else "one CPU"
            self._decide("serial", why, runs=float(n))
            yield from super().run_with(fn, shared, items)
            return
        if self._workers_may_pay(n) and machine_share(self.max_workers)[0] > 1.0:
            start_forkserver()  # an idle CPU imports for the workers while the first run goes
        key, item = items[0]
        t0 = time.perf_counter()
        first = fn(shared[key], item)
        t = time.perf_counter() - t0
        yield 0, first
        w = self.max_workers
        gain, stretch, load = machine_share(w)
        start = self.startup_s
        if start is None:
            start = WORKER_START_S * stretch
        saving = (n - 1) * t * (1.0 - 1.0 / gain)
        figures = {
            "runs": float(n),
            "run_s": t,
            "startup_s": start,
            "saving_s": saving,
            "expected_speedup": gain,
            "load_average_1min": load,
        }
        if saving <= start * WORKERS_MARGIN:
            self._decide(
                "serial",
                f"{n} runs of ~{t:.2g} s: {w} workers would save ~{saving:.2g} s, "
                f"less than {WORKERS_MARGIN:g}x their start-up ~{start:.2g} s (load {load:.1f})",
                **figures,
            )
            for i in range(1, n):
                k, it = items[i]
                yield i, fn(shared[k], it)
            return
        self._decide(
            f"{w} local workers",
            f"{n} runs of ~{t:.2g} s: {w} workers save ~{saving:.2g} s, "
            f"more than their start-up ~{start:.2g} s (load {load:.1f})",
            **figures,
        )
        self._pool = ProcessExecutor(w, point_s=t)
        self.workers = w
        for i, result in self._pool.run_with(fn, shared, items[1:]):
            yield i + 1, result


class DaskExecutor(Executor):
    """A Dask distributed cluster: ``scheduler`` address, or a LocalCluster of ``jobs`` worker
    processes (one thread each) when no address is given. Shared objects (a point's scenario)
    are scattered to the cluster once per call, and the runs refer to them."""

    name = "dask"

    def __init__(self, jobs: int, scheduler: str | None = None) -> None:
        try:
            dist: Any = importlib.import_module("distributed")
        except ImportError as exc:  # Dask is the optional extra poolsim[dask]
            raise ExecutorError(
                f"the dask executor needs dask[distributed]: pip install 'poolsim[dask]' ({exc})"
            ) from None
        self._dist = dist
        self._cluster: Any = None
        try:
            if scheduler:
                self._client: Any = dist.Client(scheduler, timeout="20s")
            else:
                with _no_ctrl_c():  # its event loop's thread starts the worker processes
                    self._cluster = dist.LocalCluster(
                        n_workers=jobs,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                    )
                self._client = dist.Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            where = scheduler or "a local cluster"
            raise ExecutorError(f"cannot connect to the Dask scheduler {where}: {exc}") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or jobs)
        self.scattered = 0
        """Shared objects scattered so far (each once per call of ``run_with``)."""

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def abort(self) -> None:
        """A local cluster's workers are killed first (SIGKILL: silently): closed gracefully
        while runs are in flight, each logs its cancelled runs and lost heartbeats, tracebacks
        on a command that was asked to stop. The cluster's own logging in this process (its
        nannies, its scheduler) is silenced for the close."""
        with uninterrupted():
            if self._cluster is not None:
                for name in ("distributed", "asyncio", "tornado"):
                    logging.getLogger(name).setLevel(logging.CRITICAL + 1)
                for nanny in list(getattr(self._cluster, "workers", {}).values()):
                    pid = getattr(nanny, "pid", None)
                    if isinstance(pid, int) and pid > 0:
                        with suppress(OSError):
                            os.kill(pid, signal.SIGKILL)
            with suppress(Exception):
                self.close()

    def run_with(
        self, fn: Callable[[S, T], R], shared: Sequence[S], items: Sequence[tuple[int, T]]
    ) -> Iterator[tuple[int, R]]:
        used = sorted({key for key, _ in items})
        scattered = self._client.scatter([shared[k] for k in used], hash=False)
        remote = dict(zip(used, scattered, strict=True))
        self.scattered += len(used)
        futures = [self._client.submit(fn, remote[key], item, pure=False) for key, item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in self._dist.as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()


def make_executor(
    kind: str = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> Executor:
    """The executor named ``kind`` ('local' or 'dask'). ``local``: one job runs in-process,
    ``N`` jobs on N warm worker processes, no ``jobs`` an ``AutoExecutor`` that chooses between
    serial and one worker per CPU from the measured cost of the first run (``announce``
    hears its choice)."""
    if kind not in EXECUTORS:
        raise ExecutorError(f"unknown executor '{kind}'; allowed: {', '.join(EXECUTORS)}")
    if jobs is not None and jobs < 1:
        raise ExecutorError(f"--jobs must be >= 1, got {jobs}")
    if scheduler and kind != "dask":
        raise ExecutorError("--scheduler needs --executor dask")
    if kind == "dask":
        return DaskExecutor(jobs if jobs is not None else default_jobs(), scheduler)
    if jobs is None:
        return AutoExecutor(announce=announce)
    return Executor() if jobs == 1 else ProcessExecutor(jobs)
