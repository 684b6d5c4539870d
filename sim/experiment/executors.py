"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor runs a module-level function over a list of picklable items and yields
``(index, result)`` as runs finish. Results are put back in item order by the callers, and each
run's randomness comes only from its own seed, so the numbers do not depend on the executor.
Workers are started with ``forkserver`` (``spawn`` where unavailable), never ``fork``: the
parent may run threads (the progress bar, Dask's event loop).
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, TypeVar

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
    first_ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != first_ppid or not _parent_alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="poolsim-parent-watch", daemon=True).start()


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

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Yield ``(index, fn(item))`` as runs finish (here: in order, in this process)."""
        for i, item in enumerate(items):
            yield i, fn(item)


class ProcessExecutor(Executor):
    """A pool of local worker processes (``--jobs N``)."""

    name = "local"

    def __init__(self, jobs: int) -> None:
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
        self.workers = jobs
        self._pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=ctx,
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        # waiting for the runs in flight could take minutes after a Ctrl-C or a SIGTERM
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        # at most 2 x workers in flight, so an interrupted sweep has few runs to throw away
        pending: dict[Future[R], int] = {}
        it = iter(enumerate(items))
        limit = 2 * self.workers
        try:
            while True:
                while len(pending) < limit:
                    nxt = next(it, None)
                    if nxt is None:
                        break
                    pending[self._pool.submit(fn, nxt[1])] = nxt[0]
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield pending.pop(fut), fut.result()
        finally:
            for fut in pending:
                fut.cancel()


class DaskExecutor(Executor):
    """A Dask distributed cluster: ``scheduler`` address, or a LocalCluster of ``jobs`` worker
    processes (one thread each) when no address is given."""

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

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def run(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        futures = [self._client.submit(fn, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in self._dist.as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()


def make_executor(
    kind: str = "local", jobs: int | None = None, scheduler: str | None = None
) -> Executor:
    """The executor named ``kind`` ('local' or 'dask'); ``local`` with one job runs in-process."""
    if kind not in EXECUTORS:
        raise ExecutorError(f"unknown executor '{kind}'; allowed: {', '.join(EXECUTORS)}")
    if jobs is not None and jobs < 1:
        raise ExecutorError(f"--jobs must be >= 1, got {jobs}")
    if scheduler and kind != "dask":
        raise ExecutorError("--scheduler needs --executor dask")
    n = jobs if jobs is not None else default_jobs()
    if kind == "dask":
        return DaskExecutor(n, scheduler)
    return Executor() if n == 1 else ProcessExecutor(n)
