"""Test-wide switches.

Issue 17 item 3 added fidelity defaults that change every backup's timing: a per-object CPU
cost on the proxy's cores, a per-object change probability and threads limited by RAM. The
tests written before them check other mechanisms with exact figures (a 2-second overhead, every
object changed, 256 threads), so they run with the three switched off (cpu_per_object 0, change
probability 1, threads as given): the model as it was (``validate`` still notes a proxy whose
ram holds fewer threads). Test modules listed in FIDELITY, and tests marked
``@pytest.mark.fidelity`` (the calibration bands, which only mean something with the whole
model), run with the shipped defaults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim import defaults as d
from sim.model import build

FIDELITY = {"test_proxy_resources", "test_regression_bench"}
"""Modules that test the fidelity defaults themselves, and the regression baselines (made with
the shipped defaults)."""


@pytest.fixture(autouse=True)
def _fidelity_defaults(request: pytest.FixtureRequest) -> Iterator[None]:
    if (
        request.module.__name__.rsplit(".", 1)[-1] in FIDELITY
        or request.node.get_closest_marker("fidelity") is not None
    ):
        yield
        return
    mp = pytest.MonkeyPatch()
    mp.setattr(d, "CPU_PER_OBJECT_S_OF_WORKLOAD", dict.fromkeys(d.WORKLOADS, 0.0))
    mp.setattr(d, "CHANGE_PROBABILITY_OF_TYPE", dict.fromkeys(d.OBJECT_TYPES, 1.0))
    mp.setattr(build, "ram_threads", lambda proxy, _cal: proxy.threads)
    try:
        yield
    finally:
        mp.undo()
