"""The notebooks are jupytext ``py:percent`` scripts (``notebooks/*.py``, the source to edit and
review) paired with stripped ``.ipynb`` files (``make notebooks`` writes them).

The ``.ipynb`` are executed by nbmake in the test command (Makefile: ``pytest --nbmake notebooks``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_each_notebook_is_paired_with_its_percent_script() -> None:
    scripts = sorted((ROOT / "notebooks").glob("*.py"))
    assert [p.with_suffix(".ipynb") for p in scripts] == NOTEBOOKS
    config = (ROOT / "notebooks" / "jupytext.toml").read_text(encoding="utf-8")
    assert 'formats = "ipynb,py:percent"' in config


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_sync_with_its_script(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    script = jupytext.read(path.with_suffix(".py"), fmt="py:percent")
    committed = json.loads(path.read_text(encoding="utf-8"))

    def cells(nb_cells: list[Any]) -> list[tuple[str, str]]:
        return [(c["cell_type"], "".join(c["source"]).strip()) for c in nb_cells]

    assert cells(committed["cells"]) == cells(script.cells), (
        f"{path.name} differs from {path.with_suffix('.py').name}; run `make notebooks`"
    )
