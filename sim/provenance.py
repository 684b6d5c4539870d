"""Which model produced a result: a fingerprint of poolsim's own source code.

Two runs with the same scenario, seed and fingerprint give the same numbers. Resumable work (a
sweep's per-point files) is keyed on it, so a rerun after a model change recomputes instead of
reusing numbers from the old model.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
"""The ``sim`` package folder (this module lives at its top; no ``import sim``)."""


@cache
def model_fingerprint() -> str:
    """SHA-256 of every ``.py`` file of the ``sim`` package (sorted relative paths and bytes)."""
    root = _ROOT
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
