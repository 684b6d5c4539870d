"""The table of capacity limits (``sim.model.limits``): validation, and that building, demand
rows and limits.csv all read it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import defaults as d
from sim.metrics.tables import limits_frame
from sim.model import limits
from sim.model.limits import (
    LIMITS,
    SHARED,
    BurstBudget,
    ConcurrencyCap,
    CpuCost,
    FluidRate,
    Limit,
    RequestLimit,
    Source,
    Use,
)
from sim.model.world import World
from sim.scenario.loader import load_scenario_text

SCENARIO = """
name: t
tenants:
  - {name: a, users: 50, egress_cap: 1 Gbps, throttling: request}
proxies:
  - {name: p1, cores: 8, throttle: 1 Gbps}
  - {name: p2, cores: 8}
pools:
  - {name: pool, members: [p1, p2]}
repositories:
  - {name: r, kind: s3, owner: pool, slow_down: {}}
jobs:
  - {name: j, tenant: a, workloads: [exchange, onedrive], repository: r, schedule: {daily: "20:00"}}
simulation: {days: 1}
"""


def world() -> World:
    return World(load_scenario_text(SCENARIO), seed=1)


def fluid_record(**changes: object) -> Limit:
    base = Limit(
        name="example",
        owner="tenant",
        unit="B/s",
        source=Source("tenants[].example", None, None, inferred=True),
        capacity=lambda ts, _cal: None,
        semantics=FluidRate(),
        bottleneck=limits.CLS_SOURCE,
        uses=(Use(("backup",), "tenant", lambda rows, _o: np.ones(rows.work.shape[0])),),
        attr="res_example",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_shipped_table_is_valid_and_has_no_duplicate_names() -> None:
    limits.validate(LIMITS)
    assert len({rec.name for rec in LIMITS}) == len(LIMITS)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": Source("tenants[].example", None, None)}, "public source URL or INFERRED"),
        ({"source": Source("x", None, "http://example.com")}, "not an https:// URL"),
        ({"source": Source("x", "NO_SUCH_DEFAULT", None, True)}, "sim.defaults has no"),
        ({"uses": (Use(("backup",), "target", lambda r, o: r.work),)}, "role 'target'"),
        ({"uses": (Use(("nightly",), "tenant", lambda r, o: r.work),)}, "unknown job type"),  # type: ignore[arg-type]
        ({"owner": "cluster"}, "owner 'cluster'"),
    ],
)
def test_validate_refuses_a_bad_record(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        limits.validate([*LIMITS, fluid_record(**changes)])


def test_validate_refuses_a_duplicate_name() -> None:
    with pytest.raises(ValueError, match="used twice"):
        limits.validate([*LIMITS, fluid_record(name="sharepoint_ru")])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConcurrencyCap(per="mailbox", limit=0), "integer >= 1"),
        (lambda: ConcurrencyCap(per="galaxy", limit=4), "unknown owner"),  # type: ignore[arg-type]
        (lambda: BurstBudget(max_burst=0.0, recharge_per_s=1.0), "max_burst > 0"),
        (lambda: BurstBudget(max_burst=5.0, recharge_per_s=1.0, cutoff=1.0), "cutoff"),
        (lambda: CpuCost(per_byte_s=0.0, per_object_s=(0.0,) * 4), "limits nothing"),
        (lambda: CpuCost(per_byte_s=-1.0, per_object_s=(0.0,) * 4), ">= 0"),
        (lambda: CpuCost(per_byte_s=1.0, per_object_s=(1.0,)), "one value per"),
        (
            lambda: RequestLimit(
                status=418,
                burst_s=1.0,
                reject_cost=0.0,
                enabled=lambda s: True,
                retry_after=lambda s: 1.0,
                counter="throttled_requests",
                budget_attr="b",
            ),
            "429 or 503",
        ),
    ],
)
def test_semantics_validate_their_fields(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_not_yet_run_semantics_say_so() -> None:
    assert FluidRate.executed and RequestLimit.executed and CpuCost.executed
    assert BurstBudget.executed and ConcurrencyCap.executed  # EWS budgets


def test_build_creates_one_resource_per_record_and_owner_with_its_capacity() -> None:
    w = world()
    sc = w.scenario
    pairs = [("proxy", w.proxies, sc.proxies), ("tenant", w.tenants, sc.tenants)]
    pairs.append(("repository", w.repositories, sc.repositories))
    for kind, owners, specs in pairs:
        for owner, spec in zip(owners, specs, strict=True):
            for rec in limits.of_owner(kind):  # type: ignore[arg-type]
                value = rec.capacity(spec, sc.calibration)
                if value is None or rec.per_workload:
                    continue
                r = getattr(owner, rec.attr)
                assert r > 0, (rec.name, owner.name)
                assert w.capacity[r] == pytest.approx(float(value) / rec.window_s)  # type: ignore[arg-type]
    assert w.proxies[1].res_throttle == 0  # no throttle set: no resource
    assert w.capacity[w.tenants[0].res_ru] == pytest.approx(1200.0 / 60.0)  # RU per minute


def test_demand_rows_follow_the_table() -> None:
    w = world()
    w.start()
    w.env.run(until=20 * 3600 + 600)  # the session has created its tasks
    tasks = w.tasks
    n = tasks.n
    assert n > 0
    tn, repo = w.tenants[0], w.repositories[0]
    col = {rec.name: i for i, rec in enumerate(SHARED)}
    res, coef = w.state.res[:n], w.state.coef[:n]
    wl = tasks.workload[:n]
    ex = wl == 0
    od = wl == 1
    assert (res[:, col["egress"]] == tn.res_egress).all()
    np.testing.assert_allclose(
        coef[ex, col["put_requests"]], 2.0 / d.BLOB_BYTES_OF_WORKLOAD["exchange"]
    )
    np.testing.assert_allclose(
        coef[od, col["put_requests"]], 2.0 / d.BLOB_BYTES_OF_WORKLOAD["onedrive"]
    )
    np.testing.assert_allclose(coef[:, col["write_bandwidth"]], np.asarray(repo.compression)[wl])
    work, items = tasks.work_bytes[:n], tasks.items[:n]
    # RU per kind (vb365 fact 26): downloads, delta pages (per object and per 1,000 items) and,
    # on a full, a permission read of 5 RU
    full = tasks.full[:n][od]
    ru = items[od] + 1.0 + items[od] / 1000.0 + 5.0 * full
    np.testing.assert_allclose(coef[od, col["sharepoint_ru"]], ru / work[od])
    assert (res[ex, col["sharepoint_ru"]] == 0).all() and (
        coef[ex, col["sharepoint_ru"]] == 0
    ).all()
    assert (res[:, col["read_bandwidth"]] == 0).all()  # backups do not read the repository
    # on the EWS path (the default) the Graph limits do not apply; the EWS budget is charged
    # (server ms per byte, one number per tenant) and the connections gate, not a row column
    assert (coef[:, col["ews_connections"]] == 0).all()
    assert (coef[ex, col["ews_budget"]] > 0).all() and (coef[od, col["ews_budget"]] == 0).all()
    assert len(set(coef[ex, col["ews_budget"]].tolist())) == 1
    assert (coef[ex, col["graph_app_requests"]] == 0).all()
    assert w.state.ews[:n][ex].all() and not w.state.ews[:n][od].any()


def test_limits_frame_lists_the_request_capable_records_per_owner() -> None:
    w = world()
    w.run()
    frame = limits_frame(w)
    expected = [
        ("tenant", "a", name)
        for name in ("sharepoint_ru", "ews_budget", "graph_app_requests", "teams_requests")
    ]
    expected.append(("repository", "r", "put_requests"))
    assert list(frame[["owner", "name", "limit"]].itertuples(index=False, name=None)) == expected
    assert (frame["semantics"] == "request").all()
