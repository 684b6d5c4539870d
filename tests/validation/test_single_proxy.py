"""Oracle tests, one proxy: M/M/1, M/G/1-PS, M/M/c, symmetric M/G/c-PS (docs/validation.md, Cases).

Each test runs R = 10 replications through the harness (``oracle.check``): quick tier by default,
full tier (the table's m) under ``-m slow``. The oracle's source is in each docstring.
"""

from __future__ import annotations

import pytest

from . import cases
from .oracle import check

TIERS = [pytest.param("quick", id="quick"), pytest.param("full", id="full", marks=pytest.mark.slow)]


@pytest.mark.parametrize("tier", TIERS)
def test_t1_mm1_lambda_05_mean_sojourn(tier: str) -> None:
    """T1: M/M/1 FCFS, λ=0.5 → E[T] = 1/(μ−λ) = 2.

    Source: Kleinrock, Queueing Systems Vol. 1 (1975) Ch. 3; Gross, Shortle, Thompson & Harris,
    Fundamentals of Queueing Theory (4th ed., 2008) §2.2.
    """
    check(cases.T1, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t2_mm1_lambda_08_mean_sojourn(tier: str) -> None:
    """T2: M/M/1 FCFS, λ=0.8 → E[T] = 5.

    Source: Kleinrock Vol. 1 Ch. 3; Gross et al. §2.2.
    """
    check(cases.T2, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t2p_mm1_lambda_08_p_wait(tier: str) -> None:
    """T2p: M/M/1 FCFS, λ=0.8 → P(wait) = ρ = 0.8 (PASTA).

    Source: Kleinrock Vol. 1 Ch. 3; Gross et al. §2.2. Shares T2's replications.
    """
    check(cases.T2P, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t4_mh2_1_ps_mean_sojourn(tier: str) -> None:
    """T4: M/H₂/1-PS, balanced-means H₂ with SCV 4, λ=0.5 → E[T] = E[S]/(1−ρ) = 2 (FCFS: 3.5).

    Source: M/G/1-PS insensitivity — Kleinrock, Queueing Systems Vol. 2 (1976) Ch. 4;
    Harchol-Balter, Performance Modeling and Design of Computer Systems (2013) Ch. 30;
    Sakata, Noguchi & Oizumi (1971); Kleinrock, J. ACM 14(2) (1967).
    """
    check(cases.T4, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t4s_mh2_1_ps_small_job_slowdown(tier: str) -> None:
    """T4s: same system, E[T/S] over jobs with S < 1 → 1/(1−ρ) = 2 for every size class.

    Source: Kleinrock Vol. 2 Ch. 4; Harchol-Balter (2013) Ch. 30 (E[T | S=x] = x/(1−ρ)).
    Shares T4's replications.
    """
    check(cases.T4S, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t5_md1_ps_mean_sojourn(tier: str) -> None:
    """T5: M/D/1-PS, λ=0.5 → E[T] = 2 (FCFS would give the P-K value 1.5).

    Source: Kleinrock Vol. 2 Ch. 4; Harchol-Balter (2013) Ch. 30.
    """
    check(cases.T5, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t6_mm4_mean_sojourn(tier: str) -> None:
    """T6: one proxy with 4 FCFS threads (M/M/4), ρ=0.8 → E[T] = 1.745541 (Erlang C).

    Source: Erlang (1917); Kleinrock Vol. 1 §3.5; Gross et al. §2.3.
    """
    check(cases.T6, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_t6p_mm4_p_wait(tier: str) -> None:
    """T6p: M/M/4, ρ=0.8 → P(wait) = C(4, 3.2) = 0.596432 (Erlang C).

    Source: Erlang (1917); Kleinrock Vol. 1 §3.5; Gross et al. §2.3. Shares T6's replications.
    """
    check(cases.T6P, tier)


@pytest.mark.slow
def test_t7_mm64_mean_sojourn() -> None:
    """T7 (full tier only): M/M/64, ρ=0.95 → E[T] = 1.183753 (Erlang C).

    Source: Erlang (1917); Kleinrock Vol. 1 §3.5; Gross et al. §2.3.
    """
    check(cases.T7, "full")


@pytest.mark.parametrize("tier", TIERS)
def test_kelly_symmetric_md4_ps_mean_sojourn(tier: str) -> None:
    """Symmetric M/G/c-PS, c=4, ρ=0.8, deterministic sizes: a 4 MB/s PS proxy with a 1 MB/s
    per-task ceiling gives each of k transfers min(1, 4/k) MB/s → E[T] = 1.745541 (M/M/4's),
    for any size law.

    Source: Kelly, Reversibility and Stochastic Networks (1979) Ch. 3; Cohen, Acta Informatica
    12 (1979). κ = 4.1 measured here (no table value).
    """
    check(cases.KELLY, tier)
