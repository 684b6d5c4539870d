"""The notebooks are committed stripped and generated from scripts/build_notebooks.py.

They are executed by nbmake in the test command (Makefile: ``pytest --nbmake notebooks``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_five_notebooks() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01-quickstart.ipynb",
        "02-policy-comparison.ipynb",
        "03-maintenance-drill.ipynb",
        "04-capacity-planning.ipynb",
        "05-bring-your-own-inventory.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_uses_the_public_api(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: outputs are not stripped"
            assert cell["execution_count"] is None
            src = "".join(cell["source"])
            assert ("sim._" not in src and "from sim.model.world import World" not in src) or (
                path.name == "03-maintenance-drill.ipynb"
            )
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_notebooks_match_their_builder() -> None:
    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, cells in build.NOTEBOOKS.items():
        committed = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        sources = ["".join(c["source"]) for c in committed["cells"]]
        assert sources == ["".join(c["source"]) for c in cells], (
            f"{name} differs from scripts/build_notebooks.py; run it to regenerate"
        )
