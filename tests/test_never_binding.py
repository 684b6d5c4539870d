"""Never-binding resources: a proxy or repository capacity that no load of the run can reach.

Such a resource cannot constrain the max-min allocation, so a transfer whose finite resources are
all of this kind runs at its ceiling and is simulated as a fixed-rate server, outside the shared
fluid (``demand.never_binding``). The analysis must be conservative (a resource that could
saturate stays shared), must leave alone what can change at run time (request budgets, tenant
limits), and must not change any result but the order of simultaneous completions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    run,
    scenario_yaml,
    tenant,
)

import sim
import sim.model.build
import sim.model.world
from sim.model.world import World
from sim.scenario.schema import with_units

MB = 1e6


def backup(
    *,
    processing: float = 100 * MB,
    threads: int = 4,
    write: float = 1e12,
    n_proxies: int = 2,
    objects: int = 40,
    extra: dict[str, Any] | None = None,
) -> str:
    """Mailboxes at 1 MB/s per thread through a pull pool into one S3 bucket. Each proxy's
    ``processing_rate`` is its 8 cores at the calibration's ``bps_per_core``, so an object's
    scan holds a core for the shipped per-object CPU seconds."""
    names = [f"p{i}" for i in range(n_proxies)]
    sizes = {"mailbox": (objects, 30 * MB), "onedrive": (objects // 2, 20 * MB)}
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects(sizes), sharepoint_ru_per_min=1e9)],
        proxies=[{"name": n, "threads": threads, "processing_rate": processing} for n in names],
        pools=[{"name": "pool", "members": names, "policy": "pull_fifo"}],
        repositories=[repository("r", "pool", write_bandwidth=write, put_rate=1e6)],
        jobs=[job("j", "r", workloads=["exchange", "onedrive"])],
        calibration=exact_calibration(1 * MB, bps_per_core=processing / 8),
    )
    data = yaml.safe_load(text)
    data.update(extra or {})
    return yaml.safe_dump(with_units(data), sort_keys=False)


def world(text: str) -> World:
    return World(sim.load_scenario_text(text))


def test_capacity_no_load_can_reach_leaves_the_fluid() -> None:
    w = world(backup())
    repo = w.repositories[0]
    tn = w.tenants[0]
    nb = set(np.flatnonzero(w._never_binding).tolist())
    # 4 threads x 1 MB/s never reach 100 MB/s; 8 threads never reach the bucket's limits
    assert {px.res_processing for px in w.proxies} <= nb
    assert {repo.res_write, repo.res_put} <= nb
    # tenant limits are never taken, however large
    assert tn.res_ru not in nb and tn.res_teams not in nb
    w.run()
    # the mailboxes were fixed-rate servers; only the OneDrive transfers (they use the RU
    # budget) were in the fluid: one start and one end each
    assert w.sharing.local_updates == 2 * 20 and w.sharing.recomputes == 0


@pytest.mark.parametrize(
    ("kw", "shared"),
    [
        ({"processing": 3.5 * MB}, "processing"),  # 4 threads x 1 MB/s > 3.5 MB/s
        ({"write": 6 * MB}, "write"),  # 8 threads x 1 MB/s x compression > 6 MB/s
    ],
)
def test_a_capacity_the_load_could_reach_stays_shared(kw: dict[str, Any], shared: str) -> None:
    w = world(backup(**kw))
    nb = w._never_binding
    if shared == "processing":
        assert not nb[[px.res_processing for px in w.proxies]].any()
    else:
        assert not nb[w.repositories[0].res_write]
    w.run()
    assert w.sharing.local_updates > 0


def test_request_budgets_are_never_taken() -> None:
    """A bucket with S3 503 Slow Down semantics changes its capacity at run time."""
    text = backup()
    data = yaml.safe_load(text)
    data["repositories"][0]["slow_down"] = {"partitions": 1}
    w = world(yaml.safe_dump(with_units(data), sort_keys=False))
    assert not w._never_binding[w.repositories[0].res_put]


def test_a_timeline_makes_every_proxy_count() -> None:
    """Pool A's 2 x 4 threads cannot reach its bucket's 10 MB/s; with pool B's four proxies
    (which a timeline may move into pool A) they could, so it stays shared."""
    text = backup(write=10 * MB / 0.6)  # exchange compression 0.6: 10 MB/s of source bytes
    data = yaml.safe_load(text)
    data["proxies"] += [{"name": f"b{i}", "threads": 4} for i in range(4)]
    data["pools"].append({"name": "pool-b", "members": [f"b{i}" for i in range(4)]})
    w = world(yaml.safe_dump(with_units(data), sort_keys=False))
    assert w._never_binding[w.repositories[0].res_write]
    data["timeline"] = [{"at": "00:30", "action": "remove", "proxy": "b0"}]
    w = world(yaml.safe_dump(with_units(data), sort_keys=False))
    assert not w._never_binding[w.repositories[0].res_write]


def test_leaving_the_fluid_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """One proxy (so the order of simultaneous completions cannot move work between proxies):
    the same end times, bytes, bottleneck seconds and PUT requests with and without the
    shortcut."""
    text = backup(n_proxies=1, objects=60)
    fast = run(text)
    _no_never_binding(monkeypatch)
    slow = run(text)
    for col in ("end", "bytes_read", "bytes_written", "thread_s", "source_s"):
        np.testing.assert_allclose(
            np.sort(fast.tasks[col].to_numpy(float)),
            np.sort(slow.tasks[col].to_numpy(float)),
            rtol=1e-9,
            atol=1e-9,
        )
    np.testing.assert_allclose(
        fast.limits["consumed"].to_numpy(float), slow.limits["consumed"].to_numpy(float), rtol=1e-9
    )


def added_mid_run(monkeypatch: pytest.MonkeyPatch | None) -> tuple[World, list[bool]]:
    """Pool p0 (2 threads) writes 1.2 MB/s into a 2 MB/s bucket: never binding. At t = 45 s a
    standalone proxy with 2 more threads joins the pool through the API: 2.4 MB/s could reach
    it, so the bucket is shared again, with the transfers running on it then. 80 % of the
    attempts fail part-way (redone bytes must count the part moved before the move)."""
    if monkeypatch is not None:
        _no_never_binding(monkeypatch)
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (30, 50 * MB)}))],
        proxies=[{"name": "p0", "threads": 2}, {"name": "s0", "threads": 2}],
        pools=[{"name": "pool", "members": ["p0"], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool", write_bandwidth=2 * MB, put_rate=1e6)],
        jobs=[job("j", "r", failure_probability=0.8)],
        calibration=exact_calibration(1 * MB),
    )
    w = World(sim.load_scenario_text(text))
    procs = w.start()
    w.env.run(until=45.0)
    before = [bool(w._never_binding[w.repositories[0].res_write]), bool(w.proxies[0].direct)]
    assert w.lifecycle.request("add", "s0", "pool") is None
    w.env.run(until=w.env.all_of(procs))
    return w, before


def test_a_proxy_joining_through_the_api_brings_the_bucket_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sim.metrics.tables import limits_frame, task_frame

    w, before = added_mid_run(None)
    assert before == [True, True]  # never binding, and transfers ran as fixed-rate servers
    assert not w._never_binding[w.repositories[0].res_write]
    tasks = task_frame(w)
    assert (tasks["status"] == "failed").any() and tasks["redone_bytes"].sum() > 0.0
    assert tasks["target_s"].sum() > 0.0  # the shared bucket limited them after the join
    ref, _ = added_mid_run(monkeypatch)  # the same run, every transfer in the fluid
    ref_tasks = task_frame(ref)
    cols = ("end", "bytes_read", "bytes_written", "redone_bytes", "thread_s", "target_s")
    assert (tasks.sort_values("end")["status"] == ref_tasks.sort_values("end")["status"]).all()
    for col in cols:
        np.testing.assert_allclose(
            tasks.sort_values("end")[col].to_numpy(float),
            ref_tasks.sort_values("end")[col].to_numpy(float),
            rtol=1e-9,
            atol=1e-6,
        )
    np.testing.assert_allclose(
        limits_frame(w)["consumed"].to_numpy(float),
        limits_frame(ref)["consumed"].to_numpy(float),
        rtol=1e-9,
    )


def _all_fluid(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_never_binding(monkeypatch)


def test_work_left_counts_a_failing_attempt_as_the_fluid_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """least_work_left places by the bytes a proxy still has to move; a fixed-rate attempt
    that will fail part-way counts its share only, like a fluid one, so the placement is the
    same with and without the shortcut."""
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (40, 30 * MB)}))],
        proxies=[{"name": f"p{i}", "threads": 2, "processing_rate": 100 * MB} for i in range(3)],
        pools=[{"name": "pool", "members": ["p0", "p1", "p2"], "policy": "least_work_left"}],
        repositories=[repository("r", "pool", write_bandwidth=1e12, put_rate=1e6)],
        jobs=[job("j", "r", failure_probability=0.5)],
        calibration=exact_calibration(1 * MB, bps_per_core=100 * MB / 8),  # 8 cores: 100 MB/s
    )
    data = yaml.safe_load(text)
    data["tenants"][0]["objects"]["mailbox"]["size_sigma"] = 1.0
    text = yaml.safe_dump(with_units(data), sort_keys=False)
    fast = run(text)
    _all_fluid(monkeypatch)
    slow = run(text)
    assert (fast.tasks["proxy"].to_numpy() == slow.tasks["proxy"].to_numpy()).all()
    np.testing.assert_allclose(fast.tasks["end"], slow.tasks["end"], rtol=1e-12)


def test_a_run_cut_at_the_horizon_counts_the_running_transfers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One 1 TB mailbox at 1 MB/s outlasts the safety horizon: the PUT requests and the time
    series hold what it moved up to the cut, as they do when it shares the fluid."""
    text = scenario_yaml(
        tenants=[tenant(objects=fixed_objects({"mailbox": (1, 1e12)}))],
        proxies=[{"name": "p0", "threads": 1, "processing_rate": 100 * MB}],
        pools=[{"name": "pool", "members": ["p0"], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool", write_bandwidth=100 * MB, put_rate=1000)],
        jobs=[job("j", "r")],
        calibration=exact_calibration(1 * MB, bps_per_core=100 * MB / 8),  # 8 cores: 100 MB/s
    )
    fast = sim.simulate(sim.load_scenario_text(text))
    _all_fluid(monkeypatch)
    slow = sim.simulate(sim.load_scenario_text(text))
    assert fast.truncated and slow.truncated
    put = fast.limits["limit"] == "put_requests"
    assert float(fast.limits[put]["consumed"].iloc[0]) > 0.0
    np.testing.assert_allclose(
        fast.limits["consumed"].to_numpy(float), slow.limits["consumed"].to_numpy(float), rtol=1e-9
    )
    assert fast.timeseries["bytes"].sum() == pytest.approx(slow.timeseries["bytes"].sum(), rel=1e-9)
    assert fast.timeseries["bytes"].sum() > 1e11


def _no_never_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every resource stays in the fluid: the analysis finds nothing (build and members_grew)."""

    def nothing(world: World) -> np.ndarray:
        return np.zeros(len(world.capacity), dtype=bool)

    monkeypatch.setattr(sim.model.build, "never_binding", nothing)
    monkeypatch.setattr(sim.model.world, "never_binding", nothing)
