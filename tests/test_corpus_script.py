"""scripts/corpus.py, the larger corpus run through the real command line, stays runnable: it
writes at least 400 cases of every category of bad input, and a small sample of them runs to a
clean verdict (the whole corpus is run by hand: its docstring)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "corpus.py"


def corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_corpus_covers_every_category(tmp_path: Path) -> None:
    cases = corpus().build(tmp_path, 14)
    assert len(cases) >= 400
    categories = Counter(c.category for c in cases)
    for needed in (
        "wrong-type",
        "zero",
        "negative",
        "huge",
        "unknown-key",
        "deleted-key",
        "broken-reference",
        "pool-rule",
        "bare-number",
        "malformed-unit",
        "yaml-junk",
        "encoding",
        "special-scenario",
        "special-inventory",
        "special-trace",
        "csv-value",
        "csv-duplicate-column",
        "trace-value",
        "mistimed-timeline",
        "empty-schedule",
        "retry",
        "beyond-horizon",
        "bad-name",
    ):
        assert categories[needed] > 0, needed
    shipped = {c.path.stem for c in cases if c.category == "shipped"}
    assert shipped == {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}


def test_a_sample_runs_to_a_clean_verdict(tmp_path: Path) -> None:
    """Special files and broken CSVs through `poolsim validate`: every one refused cleanly."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--only", "special", "--sample", "6"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refused          6" in done.stdout, done.stdout
    assert (tmp_path / "outcomes.csv").is_file()
