"""Atomic file writes and folder publication: a reader never sees a half-written file.

A file is written to a temporary name in its own directory and renamed onto its final name; a
folder is filled under a hidden private name and renamed when complete (``publish_folder``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


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


def publish_folder(partial: Path, base: Path, run_id: str) -> Path:
    """Rename the finished folder to ``run_id``, or ``run_id-1``, ``-2``... if taken."""
    k = 0
    while True:
        final = base / (run_id if k == 0 else f"{run_id}-{k}")
        if not final.exists():
            try:
                partial.rename(final)
                return final
            except OSError:
                if not final.exists():
                    raise
        k += 1
