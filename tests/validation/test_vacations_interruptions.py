"""Oracle tests with server vacations and load-independent interruptions (validation.md T20/T21).

Each test runs R = 10 replications through the harness (``oracle.check``): quick tier by default,
full tier under ``-m slow``. The oracle's source is in each docstring.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sim.scenario.schema import with_units

from .oracle import MB, Case, check

TIERS = [pytest.param("quick", id="quick"), pytest.param("full", id="full", marks=pytest.mark.slow)]


def _mm1(extra: dict[str, Any], service: str) -> Any:
    def build(tasks: int, warmup: int) -> str:
        proxy: dict[str, Any] = {"name": "p0", "threads": 1}
        syn: dict[str, Any] = {
            "target": "p0",
            "arrivals": {"process": "poisson", "rate": 0.5},
            "sizes": {"distribution": "exponential", "mean": MB},
            "tasks": tasks,
            "warmup_tasks": warmup,
            "service": service,
            **extra,
        }
        if service == "threads":
            syn["thread_rate"] = MB
        else:
            proxy["processing_rate"] = MB
        return yaml.safe_dump(with_units({"name": "oracle", "proxies": [proxy], "synthetic": syn}))

    return build


T20 = Case(
    id="T20",
    title="M/M/1 + multiple vacations V ~ exp(mean 0.5), λ=0.5",
    metric="mean_sojourn",
    oracle=2.5,
    kappa=2.4,
    warmup_time=250,
    arrival_rate=0.5,
    build=_mm1({"vacations": {"distribution": "exponential", "mean": 0.5}}, "threads"),
    m_quick=5_000,
    m_full=50_000,
    source="Fuhrmann & Cooper, Oper. Res. 33(5), 1985",
    bug=2.0,
    bug_label="no vacations",
)
T20D = Case(
    id="T20d",
    title="M/M/1 + multiple vacations V = 1 constant, λ=0.5",
    metric="mean_sojourn",
    oracle=2.5,
    kappa=2.4,
    warmup_time=250,
    arrival_rate=0.5,
    build=_mm1({"vacations": {"distribution": "deterministic", "mean": 1.0}}, "threads"),
    m_quick=5_000,
    m_full=50_000,
    source="Fuhrmann & Cooper, Oper. Res. 33(5), 1985",
    bug=2.0,
    bug_label="no vacations",
)
T21 = Case(
    id="T21",
    title="M/M/1 up/down (α=0.1, β=1), λ=0.5",
    metric="mean_sojourn",
    oracle=2.646465,
    kappa=4.2,
    kappa_note="measured here (3 runs of 100k tasks: relative SE 1.3 %); the table's 2.2 is "
    "for another configuration and would make h too tight",
    warmup_time=300,
    arrival_rate=0.5,
    build=_mm1({"interruptions": {"mean_up": 10.0, "mean_down": 1.0}}, "processor_sharing"),
    m_quick=5_000,
    m_full=50_000,
    source="Avi-Itzhak & Naor, Oper. Res. 11(3), 1963; Yechiali & Naor, Oper. Res. 19(3), 1971",
    bug=2.0,
    bug_label="no interruptions",
)


@pytest.mark.parametrize("tier", TIERS)
def test_t20_vacations_exponential(tier: str) -> None:
    """T20: M/M/1 with multiple vacations V ~ exp(mean 0.5), λ=0.5 → E[T] = 2 + E[V²]/(2E[V])
    = 2.5 (Fuhrmann–Cooper decomposition).

    Source: Fuhrmann & Cooper, Oper. Res. 33(5), 1985; Levy & Yechiali, Mgmt Sci 22(2), 1975.
    """
    check(T20, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t20_vacations_deterministic(tier: str) -> None:
    """T20 variant: constant V = 1 → E[T] = 2 + 1/2 = 2.5.

    Source: Fuhrmann & Cooper, Oper. Res. 33(5), 1985; Takagi, Queueing Analysis Vol. 1, 1991.
    """
    check(T20D, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t21_up_down_interruptions(tier: str) -> None:
    """T21: M/M/1 whose server alternates up exp(α=0.1) and down exp(β=1), preemptive resume,
    λ=0.5 → E[T] = 2.646465 (two-phase generating-function closed form, cross-checked by CTMC).

    Source: Avi-Itzhak & Naor, Oper. Res. 11(3), 1963; Yechiali & Naor, Oper. Res. 19(3), 1971.
    """
    check(T21, tier)
