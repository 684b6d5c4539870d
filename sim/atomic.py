"""Atomic file writes and folder publication: a reader never sees a half-written file.

A file is written to a temporary name in its own directory and renamed onto its final name; a
folder is filled under a hidden private name and renamed when complete (``publish_folder``).
A section that a signal must not cut half-way (starting a worker process) runs under
``uninterrupted``: the command line's signal handler holds its exception until the section ends.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid check stands in for the lock
    fcntl = None  # type: ignore[assignment]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()
"""The mode ``open()`` would give a new file (``mkstemp`` makes it owner-only)."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then rename ``tmp`` onto ``path`` (same directory, so atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write text atomically."""

    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    atomic_write(path, write)


PUBLISHED: list[Path] = []
"""Every folder this process has published (``publish_folder``), in order: what an interrupted
command can say it kept."""


def publish_folder(partial: Path, base: Path, run_id: str) -> Path:
    """Rename the finished folder to ``run_id``, or ``run_id-1``, ``-2``... if taken."""
    k = 0
    while True:
        final = base / (run_id if k == 0 else f"{run_id}-{k}")
        if not final.exists():
            try:
                partial.rename(final)
                PUBLISHED.append(final)
                return final
            except OSError:
                if not final.exists():
                    raise
        k += 1


OWNER_FILE = ".owner"
"""Inside a ``.partial`` folder: the writer's pid and host, locked (``flock``) while it lives."""


class PartialFolder:
    """A private hidden ``.partial`` folder under ``base``, owned by this process until closed.

    The owner holds an exclusive ``flock`` on ``<partial>/.owner`` (which also names its pid and
    host). The kernel releases the lock when the process dies, even by SIGKILL, so another run
    can tell an abandoned folder from a live sibling's (``remove_abandoned``).
    """

    def __init__(self, base: Path, name: str) -> None:
        self.path = base / f".{name}.{uuid.uuid4().hex[:12]}.partial"
        self.path.mkdir(parents=True)
        self._fd: int | None = None
        owner = self.path / OWNER_FILE
        fd = os.open(owner, os.O_WRONLY | os.O_CREAT, 0o644)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        self._fd = fd

    def publish(self, run_id: str) -> Path:
        """Drop the owner file (its lock is kept until ``close``) and publish the folder."""
        (self.path / OWNER_FILE).unlink(missing_ok=True)
        return publish_folder(self.path, self.path.parent, run_id)

    def close(self) -> None:
        """Release the lock (the folder is published or removed by then)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _owner_gone(partial: Path) -> bool:
    """True only when the folder's owner is provably dead: its lock can be taken, or (without
    ``flock``) its pid on this host no longer exists. No owner file proves nothing."""
    owner = partial / OWNER_FILE
    try:
        fd = os.open(owner, os.O_RDONLY)
    except OSError:
        return False
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # held: the owner lives
            return True
        info = json.loads(os.read(fd, 4096) or b"{}")
        if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
            return False
        try:
            os.kill(info["pid"], 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)


def remove_abandoned(base: Path) -> list[Path]:
    """Remove the ``.partial`` folders under ``base`` whose owner is provably gone (a killed
    run's); never a live writer's. Returns what was removed."""
    removed: list[Path] = []
    try:
        candidates = [
            p for p in base.iterdir() if p.name.startswith(".") and p.name.endswith(".partial")
        ]
    except OSError:
        return removed
    for p in candidates:
        if p.is_dir() and not p.is_symlink() and _owner_gone(p):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class uninterrupted:
    """``with uninterrupted():`` a section of the main thread that a signal must not cut.

    The command line's handlers of Ctrl-C and SIGTERM raise their exception wherever the main
    thread is. Inside such a section, one that would leave a half-done state behind (a worker
    process forked but not yet recorded by its pool, which then outlives the command and prints
    a traceback of its own), the handler calls ``hold`` instead, and the exception is raised
    when the outermost section ends. Sections nest; an exception from the body wins."""

    depth = 0
    held: BaseException | None = None

    def __enter__(self) -> None:
        uninterrupted.depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        uninterrupted.depth -= 1
        if uninterrupted.depth == 0 and uninterrupted.held is not None:
            held, uninterrupted.held = uninterrupted.held, None
            if exc_type is None:
                raise held

    @staticmethod
    def hold(exc: BaseException) -> bool:
        """For a signal handler: keep ``exc`` until the current section ends (the first one
        kept wins). False outside a section: the handler raises it at once."""
        if uninterrupted.depth == 0:
            return False
        if uninterrupted.held is None:
            uninterrupted.held = exc
        return True
