"""Faults and maintenance as workloads of their own: random proxy failures
with MTBF/MTTR laws and rotating maintenance, as scenario sections.

Exact where the rules fix the answer (rotation order and times), statistical with a tolerance
from the law's confidence interval where the answer is random (failure counts, law means).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml
from helpers.scenario import exact_calibration, fixed_objects, job, repository, scenario_yaml
from helpers.scenario import tenant as tenant_of

import sim
from sim import defaults as d
from sim.model import rng as streams
from sim.model.lifecycle import draw_duration
from sim.model.world import World
from sim.scenario.schema import DurationLaw, with_units

MB = 1e6
H = 3600.0
Z_9999 = 3.891
"""Two-sided 99.99 % normal quantile: a correct model fails a band this wide once in 10,000."""


def estate(
    *,
    n_proxies: int = 3,
    policy: str = "pull_fifo",
    objects: int = 6,
    failures: list[dict[str, Any]] | None = None,
    rotations: list[dict[str, Any]] | None = None,
    timeline: list[dict[str, Any]] | None = None,
    days: int = 1,
    seed: int = 0,
) -> str:
    names = [f"p{i}" for i in range(n_proxies)]
    text = scenario_yaml(
        tenants=[tenant_of(objects=fixed_objects({"mailbox": (objects, 100 * MB)}))],
        proxies=[{"name": n, "threads": 1} for n in names],
        pools=[{"name": "pool", "members": names, "policy": policy}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r", daily="00:00")],
        calibration=exact_calibration(1 * MB),
        days=days,
        seed=seed,
    )
    data = yaml.safe_load(text)
    if failures:
        data["failures"] = failures
    if rotations:
        data["maintenance_rotations"] = rotations
    if timeline:
        data["timeline"] = timeline
    return yaml.safe_dump(with_units(data), sort_keys=False)


def stepped(text: str, until: float) -> World:
    """A world run to ``until`` seconds whatever its jobs do (failures go on after them)."""
    w = World(sim.load_scenario_text(text))
    w.start()
    w.env.run(until=until)
    return w


def records(w: World, source: str) -> list[tuple[float, str, str, str]]:
    return [
        (r["t"], r["event"], r["proxy"], r["outcome"])
        for r in w.lifecycle.records
        if r["source"] == source
    ]


# -- rotating maintenance ------------------------------------------------------------------------


def test_rotation_takes_each_member_in_turn_for_exactly_its_duration() -> None:
    rot = {"pool": "pool", "at": "00:10", "interval": "1h", "duration": "30min", "cycles": 2}
    w = stepped(estate(rotations=[rot]), until=8 * H)
    got = records(w, "rotation")
    want = []
    for k, m in enumerate(["p0", "p1", "p2"] * 2):
        on = 600.0 + k * H
        want += [(on, "maintenance_on", m, "done"), (on + 1800.0, "maintenance_off", m, "done")]
    assert sorted(got) == want
    # the proxies' states follow: maintenance exactly [on, on + 30 min) per turn
    spans: dict[str, list[tuple[float, float]]] = {}
    start: dict[int, float] = {}
    for t, p, state in w.lifecycle.state_log:
        if state == "maintenance":
            start[p] = t
        elif p in start:
            spans.setdefault(w.proxies[p].name, []).append((start.pop(p), t))
    assert spans == {
        m: [
            (600.0 + k * H, 600.0 + k * H + 1800.0),
            (600.0 + (k + 3) * H, 600.0 + (k + 3) * H + 1800.0),
        ]
        for k, m in enumerate(["p0", "p1", "p2"])
    }


def test_rotation_with_members_in_a_given_order_and_back_to_back_turns() -> None:
    # duration == interval: one member's maintenance_off comes before the next one's on
    rot = {
        "pool": "pool",
        "members": ["p2", "p0"],
        "at": "01:00",
        "day": 1,
        "interval": "2h",
        "duration": "2h",
    }
    w = stepped(estate(rotations=[rot]), until=6 * H)
    assert records(w, "rotation") == [
        (3600.0, "maintenance_on", "p2", "done"),
        (3 * H, "maintenance_off", "p2", "done"),
        (3 * H, "maintenance_on", "p0", "done"),
        (5 * H, "maintenance_off", "p0", "done"),
    ]


def test_rotation_hands_off_the_running_objects() -> None:
    # p0 runs an object from 0 (its scan, then 100 s); at 20 s the rotation takes it: handed
    # off, but every thread is busy (3 members, 6 objects): it resumes on the first thread
    # that frees, at SCAN + 100 s
    rot = {"pool": "pool", "at": "00:00:20", "interval": "1h", "duration": "10min"}
    w = World(sim.load_scenario_text(estate(rotations=[rot])))
    w.run()
    first = w.lifecycle.records[0]
    assert (first["event"], first["source"], first["reassigned"]) == (
        "maintenance_on",
        "rotation",
        1,
    )
    scan = d.CPU_PER_OBJECT_S_OF_WORKLOAD["exchange"]
    assert first["resume_delays"] == pytest.approx([scan + 100.0 - 20.0])


# -- random failures -----------------------------------------------------------------------------


def test_failures_are_deterministic_and_the_same_for_every_policy() -> None:
    fails = [
        {
            "mtbf": {"distribution": "exponential", "mean": "2h"},
            "mttr": {"distribution": "lognormal", "mean": "20min", "sigma": 0.8},
        }
    ]
    a = records(stepped(estate(failures=fails, seed=3), until=48 * H), "failures")
    b = records(stepped(estate(failures=fails, seed=3), until=48 * H), "failures")
    c = records(
        stepped(estate(failures=fails, seed=3, policy="round_robin"), until=48 * H), "failures"
    )
    d = records(stepped(estate(failures=fails, seed=4), until=48 * H), "failures")
    assert len(a) > 20
    assert a == b == c  # common random numbers: the policy does not move a failure
    assert a != d
    # each proxy alternates fail, recover
    for p in ("p0", "p1", "p2"):
        events = [e for _, e, px, _ in a if px == p]
        assert events[::2] == ["fail"] * len(events[::2])
        assert events[1::2] == ["recover"] * len(events[1::2])


def test_failure_count_matches_mtbf_within_its_confidence_interval() -> None:
    # 20 members, exponential up times (mean 10 h), fixed 1 h repairs, over 1,100 h: failures
    # form a renewal process with cycle mean mu = 11 h and variance s2 = 100 h^2, so their count
    # is about normal with mean P T / mu and variance P T s2 / mu^3 (renewal CLT)
    p, mtbf, mttr, horizon = 20, 10 * H, 1 * H, 1100 * H
    fails = [
        {
            "mtbf": {"distribution": "exponential", "mean": "10h"},
            "mttr": {"distribution": "deterministic", "mean": "1h"},
        }
    ]
    w = stepped(estate(n_proxies=p, objects=20, failures=fails, days=1), until=horizon)
    n = sum(1 for _, e, _, o in records(w, "failures") if e == "fail" and o == "done")
    mu = mtbf + mttr
    mean = p * horizon / mu
    sd = math.sqrt(p * horizon * mtbf**2 / mu**3)
    assert abs(n - mean) <= Z_9999 * sd + p, (n, mean, sd)  # + p: the renewal's O(1) end bias


@pytest.mark.parametrize(
    "law",
    [
        DurationLaw(distribution="exponential", mean="2h"),
        DurationLaw(distribution="lognormal", mean="2h", sigma=0.7),
    ],
)
def test_duration_laws_have_their_mean(law: DurationLaw) -> None:
    rng = streams.stream(1, streams.PROXY_FAULTS, 0, 0)
    x = np.array([draw_duration(law, rng) for _ in range(20_000)])
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - law.mean) <= Z_9999 * se
    assert draw_duration(DurationLaw(distribution="deterministic", mean="5s"), rng) == 5.0


def test_a_failure_during_maintenance_does_not_happen() -> None:
    # p0 in maintenance for the whole run: its failures are skipped, the others' happen
    fails = [{"mtbf": {"mean": "1h"}, "mttr": {"mean": "10min", "distribution": "deterministic"}}]
    tl = [{"action": "maintenance_on", "proxy": "p0", "at": "00:00:01"}]
    w = stepped(estate(failures=fails, timeline=tl), until=40 * H)
    got = records(w, "failures")
    assert not [r for r in got if r[2] == "p0"]
    assert [r for r in got if r[2] == "p1"]
    assert all(o == "done" for *_, o in got)


# -- validation ---------------------------------------------------------------------------------


def _problems(text: str) -> str:
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario_text(text, "inc.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("failures", "where", "message"),
    [
        ([{"mtbf": {"mean": "0s"}, "mttr": {"mean": "1h"}}], "failures[0].mtbf.mean", "greater"),
        ([{"mtbf": {"mean": 100}, "mttr": {"mean": "1h"}}], "failures[0].mtbf.mean", "no unit"),
        (
            [{"mtbf": {"mean": "9h", "distribution": "weibull"}, "mttr": {"mean": "1h"}}],
            "failures[0].mtbf.distribution",
            "exponential",
        ),
        (
            [{"mtbf": {"mean": "9h", "distribution": "lognormal"}, "mttr": {"mean": "1h"}}],
            "failures[0].mtbf.distribution",
            "needs 'sigma'",
        ),
        (
            [{"mtbf": {"mean": "9h"}, "mttr": {"mean": "1h", "sigma": 0.5}}],
            "failures[0].mttr.sigma",
            "lognormal law only",
        ),
        (
            [{"proxies": ["p0", "zz"], "mtbf": {"mean": "9h"}, "mttr": {"mean": "1h"}}],
            "failures[0].proxies[1]",
            "unknown proxy 'zz'",
        ),
    ],
)
def test_bad_failures_are_errors_with_file_and_line(
    failures: list[dict[str, Any]], where: str, message: str
) -> None:
    text = estate()
    data = yaml.safe_load(text)
    data["failures"] = failures
    out = _problems(yaml.safe_dump(data, sort_keys=False))
    line = next(ln for ln in out.splitlines() if where in ln)
    assert line.startswith("inc.yaml:") and line.split(":")[1].isdigit(), line
    assert message in line, line


@pytest.mark.parametrize(
    ("rotation", "where", "message"),
    [
        ({"pool": "nope"}, "maintenance_rotations[0].pool", "unknown pool 'nope'"),
        ({"members": ["p0", "x"]}, "maintenance_rotations[0].members[1]", "not a member"),
        ({"duration": "3h"}, "maintenance_rotations[0].duration", "longer than the interval"),
        ({"interval": 100}, "maintenance_rotations[0].interval", "no unit"),
        ({"cycles": 0}, "maintenance_rotations[0].cycles", "greater"),
        ({"cycles": 100}, "maintenance_rotations[0]", "after the simulation horizon"),
    ],
)
def test_bad_rotations_are_errors_with_file_and_line(
    rotation: dict[str, Any], where: str, message: str
) -> None:
    rot = {"pool": "pool", "at": "01:00", "interval": "2h", "duration": "1h", **rotation}
    data = yaml.safe_load(estate())
    data["maintenance_rotations"] = [rot]
    out = _problems(yaml.safe_dump(data, sort_keys=False))
    line = next(ln for ln in out.splitlines() if where in ln)
    assert line.startswith("inc.yaml:") and line.split(":")[1].isdigit(), line
    assert message in line, line


def test_a_rotation_the_product_would_refuse_is_an_error() -> None:
    # p1 and p2 are in maintenance from the timeline: the rotation's turn of p0 would leave
    # the pool without an active member
    tl = [
        {"action": "maintenance_on", "proxy": "p1", "at": "00:30"},
        {"action": "maintenance_on", "proxy": "p2", "at": "00:30"},
    ]
    rot = {"pool": "pool", "at": "01:00", "interval": "2h", "duration": "1h"}
    out = _problems(estate(rotations=[rot], timeline=tl))
    assert "maintenance_rotations[0]" in out
    assert "refused: maintenance_on of p0 at" in out and "last active member" in out
