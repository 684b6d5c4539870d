"""Lazy imports: the command line and the light modules load no heavy package until a command
needs it (docs/architecture.md, "Lazy imports"). Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "matplotlib", "pyarrow", "simpy", "dask", "distributed", "scipy")


def loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["sim.cli", "sim", "sim.units", "sim.policies", "sim.scenario"])
def test_importing_loads_no_heavy_package(module: str) -> None:
    assert not loaded_after(f"import {module}") & set(HEAVY)


def test_cli_import_loads_neither_rich_nor_the_scenario_layer() -> None:
    loaded = loaded_after("import sim.cli")
    assert "rich" not in loaded and "pydantic" not in loaded and "numpy" not in loaded


def test_help_loads_no_heavy_package() -> None:
    code = (
        "import sys\nfrom sim.cli import main\nsys.argv = ['poolsim', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = loaded_after(code)
    assert not loaded & {*HEAVY, "numpy", "pydantic", "yaml"}


def test_validate_loads_no_pandas_matplotlib_or_simpy() -> None:
    code = (
        "import sys\nfrom sim.cli import main\n"
        "sys.argv = ['poolsim', 'validate', 'scenarios/quickstart.yaml']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (None, 0), e.code"
    )
    loaded = loaded_after(code)
    assert "sim" in loaded and not loaded & set(HEAVY)


def test_public_api_is_lazy_and_complete() -> None:
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
        assert name in dir(sim)
    from sim.experiment.run import simulate

    assert sim.simulate is simulate
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sim.nope  # noqa: B018
    assert sim.__version__ == "0.1.0"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{sim.__version__}"' in text


def test_validate_loads_neither_numpy_nor_rich() -> None:
    """`poolsim validate` of a scenario without CSVs needs no numpy (the workload
    stage's modules are imported on first use) and prints without Rich."""
    code = (
        "import sys\nfrom sim.cli import main\n"
        "sys.argv = ['poolsim', 'validate', 'scenarios/quickstart.yaml']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (None, 0), e.code"
    )
    loaded = loaded_after(code)
    assert "sim" in loaded and not loaded & {"numpy", "rich"}


def test_validate_leaves_pydantic_plugins_on_for_later_models() -> None:
    """The scenario layer is imported with pydantic's plug-in discovery off; the switch is
    put back afterwards (a user's own models still see their plug-ins)."""
    code = (
        "import os, sys\nfrom sim.cli import _scenario_layer\n_scenario_layer()\n"
        "assert 'sim.scenario' in sys.modules\n"
        "assert 'PYDANTIC_DISABLE_PLUGINS' not in os.environ"
    )
    loaded_after(code)
