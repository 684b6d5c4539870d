"""Which model produced a result: poolsim's version and a fingerprint of its own source code.

Two runs with the same scenario, seed and fingerprint give the same numbers. Resumable work (a
sweep's per-point files) is keyed on it, so a rerun after a model change recomputes instead of
reusing numbers from the old model.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__version__ = "0.1.0"
"""poolsim's version (``sim.__version__``; keep it equal to pyproject.toml's)."""

_ROOT = Path(__file__).resolve().parent
"""The ``sim`` package folder (this module lives at its top; no ``import sim``)."""


@cache
def model_fingerprint() -> str:
    """SHA-256 of every ``.py`` file of the ``sim`` package (sorted relative paths and bytes)."""
    import hashlib  # here, so that `import sim` stays light

    root = _ROOT
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
