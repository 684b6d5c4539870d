"""What poolsim depends on: Dask as an extra with a clear error when missing, SimPy capped below
its next minor version, constraints.txt pinning every transitive package without registry
addresses, and the stdlib normal quantile."""

from __future__ import annotations

import math
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from sim.experiment import executors
from sim.experiment.stats import normal_quantile

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_dask_is_an_extra_and_dev_installs_it() -> None:
    assert "dask" not in names(PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]
    assert "dask" in names(extras["dask"]) and "dask" in names(extras["dev"])
    assert {str(Requirement(r)) for r in extras["dask"]} <= {
        str(Requirement(r)) for r in extras["dev"]
    }


def test_simpy_is_capped_below_the_next_minor() -> None:
    (simpy,) = [Requirement(r) for r in PROJECT["dependencies"] if r.startswith("simpy")]
    assert "4.1.2" in simpy.specifier and "4.2.0" not in simpy.specifier


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.importlib.import_module

    def no_distributed(name: str, *args: Any) -> Any:
        if name == "distributed":
            raise ImportError("No module named 'distributed'")
        return real(name, *args)

    monkeypatch.setattr(executors.importlib, "import_module", no_distributed)
    with pytest.raises(executors.ExecutorError, match=r"pip install 'poolsim\[dask\]'"):
        executors.DaskExecutor(1)


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            out[canonical(name)] = version
    return out


def test_constraints_have_no_registry_address() -> None:
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "://" not in text and "--" not in text and "@" not in text


def test_constraints_pin_every_transitive_package() -> None:
    """The closure of poolsim[dev,dask]'s requirements in this environment is all pinned, at the
    installed versions (``make constraints`` regenerates the file)."""
    pinned = pins()
    todo = [(canonical("poolsim"), frozenset({"dev", "dask"}))]
    seen: set[tuple[str, frozenset[str]]] = set()
    needed: set[str] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            dep = canonical(req.name)
            if dep != "poolsim":
                needed.add(dep)
            todo.append((dep, frozenset(req.extras)))
    missing = sorted(needed - set(pinned))
    assert not missing, f"not in constraints.txt (run `make constraints`): {missing}"
    stale = {
        n: (pinned[n], metadata.version(n)) for n in needed if pinned[n] != metadata.version(n)
    }
    assert not stale, f"constraints.txt differs from what is installed: {stale}"
    assert pinned["simpy"] == "4.1.2"


@pytest.mark.parametrize("p", [1e-12, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999])
def test_normal_quantile_inverts_the_normal_cdf(p: float) -> None:
    z = normal_quantile(p)
    assert 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_normal_quantile_refuses_p_outside_0_1() -> None:
    for p in (0.0, 1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="must be in"):
            normal_quantile(p)
