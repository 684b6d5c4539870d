"""The SharePoint/OneDrive RU budget is charged per request kind (vb365 fact 26): a file
download 1 RU, a delta page 1 RU (one per object and per 1,000 items), a permission read 5 RU
(one per object on a full, INFERRED count); a restore's write 2 RU."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    repository,
    run,
    scenario_yaml,
    tenant,
)

MB = 1e6


def _onedrives(
    items_per_object: int,
    n: int,
    *,
    changed: float | None = None,
    throttling: str = "fluid",
) -> Any:
    """A night of n OneDrives of ``items_per_object`` 1 MB files on a budget of 1 RU/s, no scan
    CPU: read in full, or (``changed`` given) an incremental night from the protected state
    where each object changed with that probability."""
    extra: dict[str, Any] = {} if changed is None else {"change_probability": {"onedrive": changed}}
    data = yaml.safe_load(
        scenario_yaml(
            tenants=[
                tenant(
                    objects=fixed_objects({"onedrive": (n, items_per_object * MB)}, item=1 * MB),
                    sharepoint_ru_per_min=60,
                    throttling=throttling,
                )
            ],
            proxies=[{"name": "p1"}],
            repositories=[repository("r", "p1")],
            jobs=[
                {
                    "name": "od",
                    "tenant": "t",
                    "workloads": ["onedrive"],
                    "repository": "r",
                    "schedule": {"daily": "00:00"},
                }
            ],
            calibration=exact_calibration(
                1e12, cpu_per_object={"onedrive": 0}, resolve_cpu_per_object=0, **extra
            ),
        )
    )
    if changed is not None:
        data["simulation"]["initial_state"] = "protected"
    return run(yaml.safe_dump(data, sort_keys=False))


def _full(items_per_object: int, n: int = 10) -> Any:
    """n OneDrives of ``items_per_object`` 1 MB files, read in full on a budget of 1 RU/s."""
    return _onedrives(items_per_object, n)


def test_a_permission_read_costs_five_downloads() -> None:
    """One-file OneDrives on a full: 1 (download) + 1 + 1/1000 (delta) + 5 (permissions) =
    7.001 RU each. Ten of them share 1 RU/s max-min fairly and all end at 70.01 s, not at the
    10 s that downloads alone would take."""
    t = _full(1).tasks
    assert t["end"].to_numpy() == pytest.approx(70.01, rel=1e-9)


def test_the_per_object_requests_weigh_less_on_big_objects() -> None:
    """100-file OneDrives: 100 + 1.1 + 5 = 106.1 RU each; ten end at 1,061 s."""
    t = _full(100).tasks
    assert t["end"].to_numpy() == pytest.approx(1061.0, rel=1e-9)


def _incremental(changed: float, throttling: str = "fluid", n: int = 12) -> Any:
    """An incremental night (protected state) of ``n`` 10-file OneDrives, each changed with
    probability ``changed``; a budget of 1 RU/s, no scan CPU."""
    return _onedrives(10, n, changed=changed, throttling=throttling)


def _ru_used(result: Any) -> float:
    lim = result.limits
    return float(lim.loc[lim["limit"] == "sharepoint_ru", "consumed"].sum())


@pytest.mark.parametrize("throttling", ["fluid", "request"])
def test_an_unchanged_object_still_pays_its_delta_request(throttling: str) -> None:
    """Nothing changed: each OneDrive asks for its delta once (1 RU) and moves nothing; the RU
    used and the requests issued count them."""
    r = _incremental(0.0, throttling)
    t = r.tasks
    assert (t["changed"] == 0).all() and (t["bytes_read"] == 0).all()
    assert (t["status"] == "done").all()
    assert _ru_used(r) == pytest.approx(12.0, rel=1e-9)
    assert r.metric("throttled_request_share") == 0.0


def test_changed_objects_pay_their_requests_unchanged_ones_one_delta() -> None:
    """Some changed: the changed ones pay their downloads and delta pages (as on a full, less
    the permission reads), the others 1 RU each."""
    r = _incremental(0.5)
    t = r.tasks
    changed = t[t["changed"] == 1]
    unchanged = len(t) - len(changed)
    assert 0 < len(changed) < len(t)
    per_changed = changed["items"] + 1.0 + changed["items"] / 1000.0
    assert _ru_used(r) == pytest.approx(float(per_changed.sum()) + unchanged, rel=1e-9)
