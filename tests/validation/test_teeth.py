"""The suite has teeth: a wrong policy under the name of the right one fails the T11 check."""

from __future__ import annotations

import dataclasses

from sim.policies import PushPolicy, available, register

from . import cases
from .oracle import DEFAULT_R, evaluate, tolerance


def _impostor() -> type[PushPolicy]:
    """The built-in ``random`` policy, subclassed under a JSQ-like name (the bug a rename
    hides)."""
    random_cls = available()["random"]
    return type(
        "RandomPosingAsJsq",
        (random_cls,),
        {"name": "jsq_impostor", "summary": "random dispatch posing as JSQ (tests only)"},
    )


IMPOSTOR_M = 5_000
"""Smaller than T11's quick m to save time; h grows by the formula (4.9% → 12.5%), so a policy
caught here is caught a fortiori by the real T11 check. (At this m the T11 check would itself
refuse to run: it could not separate LWL's 1.746 from 1.953 — the power assertion — so the
comparison is made with ``evaluate``, the same computation without that guard.)"""


def test_random_posing_as_jsq_fails_t11() -> None:
    """Random dispatch gives 4 independent M/M/1 (E[T] = 5), not JSQ's 1.953134 (exact CTMC):
    the T11 harness (same oracle, κ, R, warm-up and tolerance formula) must reject it."""
    register(_impostor())
    case = dataclasses.replace(
        cases.t11(policy="jsq_impostor", case_id="T11[jsq_impostor]"), m_quick=IMPOSTOR_M
    )
    res = evaluate(case, "quick")
    assert not res.passed, res.line()
    assert abs(res.xbar - case.oracle) > res.h * case.oracle
    # what ran is random dispatch: its own oracle (4 independent M/M/1, E[T] = 5, κ = 10.3 as
    # for T8) fits instead, so the failure is the policy, not a broken run
    h_random = tolerance(10.3, DEFAULT_R, IMPOSTOR_M)
    assert abs(res.xbar - 5.0) <= h_random * 5.0, res.line()
