"""Capacity search: bounds, the lower-bound decision, early stops that name the bottleneck,
progress, and the results folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    scenario_yaml,
)
from helpers.scenario import tenant as tenant_section
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.sizing import (
    SizeProgress,
    SizeStep,
    compliance_bounds,
    replications_needed,
    size,
)
from sim.experiment.stats import wilson_interval
from sim.provenance import model_fingerprint
from sim.report.folders import write_size
from sim.report.plots import plot_size_curve
from sim.scenario import ScenarioError

runner = CliRunner()


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _scenario(
    members: int = 2,
    mailboxes: int = 12,
    size_bytes: float = 3.6e9,
    window: str = "3.5h",
    repo: dict[str, float] | None = None,
    tenant_kw: dict[str, float] | None = None,
) -> str:
    """``mailboxes`` equal mailboxes on one-thread proxies at 1 MB/s: one takes size/1e6 s."""
    proxies = [{"name": f"p{i + 1}", "threads": 1} for i in range(members)]
    return scenario_yaml(
        name="fixed",
        tenants=[
            tenant_section(
                objects=fixed_objects({"mailbox": (mailboxes, size_bytes)}), **(tenant_kw or {})
            )
        ],
        proxies=proxies,
        pools=[{"name": "pool", "members": [p["name"] for p in proxies], "policy": "pull_fifo"}],
        repositories=[repository("r", "pool", **(repo or {}))],
        jobs=[job("j", "r", window=window)],
        calibration=exact_calibration(1e6),
    )


# -- bounds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 5, 20, 30, 100])
def test_bounds_are_clamped_around_the_point(n: int) -> None:
    """0 % and 100 % give exact 0 / 1 ends (wilson_interval(0, n) has a 1e-17 lower end);
    every bound brackets the point estimate inside [0, 1]."""
    assert wilson_interval(0, 5)[0] >= 0.0  # the raw interval may sit a rounding error above 0
    for k in range(n + 1):
        low, high = compliance_bounds(k, n, 0.95)
        assert 0.0 <= low <= k / n <= high <= 1.0
    assert compliance_bounds(0, n, 0.95)[0] == 0.0
    assert compliance_bounds(n, n, 0.95)[1] == 1.0
    assert compliance_bounds(3, n if n >= 3 else 3, 0.5)[0] == pytest.approx(3 / max(n, 3))


def test_one_sided_bound_matches_the_wilson_formula() -> None:
    """The one-sided 95 % bound is the lower end of the two-sided 90 % interval: 20/20 gives
    0.881, so 20 replications cannot show 90 %; 25 are the fewest that can."""
    assert compliance_bounds(20, 20, 0.95)[0] == pytest.approx(0.8812, abs=1e-3)
    assert compliance_bounds(20, 20, 0.95)[0] == pytest.approx(wilson_interval(20, 20, 0.90)[0])
    assert replications_needed(0.9, 0.95) == 25
    assert compliance_bounds(25, 25, 0.95)[0] >= 0.9 > compliance_bounds(24, 24, 0.95)[0]


def test_too_few_replications_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario())
    with pytest.raises(ScenarioError, match="use --replications 25 or more"):
        size(path, compliance=0.9, replications=5)
    with pytest.raises(ScenarioError, match=r"--confidence.*\[0.5, 1\)"):
        size(path, confidence=0.3)
    with pytest.raises(ScenarioError, match="--compliance"):
        size(path, compliance=0.0)


# -- the decision ------------------------------------------------------------------------------
def test_decides_on_the_lower_bound(tmp_path: Path) -> None:
    """12 one-hour mailboxes, 3.5 h window: 4 one-thread proxies is the smallest pool whose
    every run meets it. 3/3 met has a 95 % lower bound of 0.53: enough for a 50 % target, not
    for 60 %, which needs more replications (an input error, before anything runs)."""
    path = _write(tmp_path, _scenario())
    res = size(path, compliance=0.5, replications=3, max_size=16)
    assert res.answer == 4 and res.stop_reason is None and res.error is None
    curve = res.curve.set_index("pool_size")
    assert curve.loc[4, "compliance"] == 1.0
    assert curve.loc[4, "wilson_low"] == pytest.approx(compliance_bounds(3, 3, 0.95)[0])
    assert curve.loc[4, "wilson_low"] < 1.0  # the decision is not on the point estimate
    assert curve.loc[3, "wilson_low"] == 0.0 and not curve.loc[3, "passes"]
    with pytest.raises(ScenarioError, match="cannot show compliance >= 60%"):
        size(path, compliance=0.6, replications=3)
    # at confidence 0.5 the bound is the point estimate
    point = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=16)
    assert point.answer == 4


def test_progress_and_steps(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario())
    steps: list[SizeStep] = []
    seen: list[SizeProgress] = []
    res = size(
        path,
        compliance=1.0,
        confidence=0.5,
        replications=2,
        max_size=16,
        on_size=steps.append,
        on_progress=seen.append,
    )
    assert sorted(s.pool_size for s in steps) == sorted(res.curve["pool_size"])
    assert [s.pool_size for s in steps][:2] == [2, 4]  # today's size, then doubling
    assert len(seen) == 2 * len(steps)
    assert [p.runs_done for p in seen] == list(range(1, len(seen) + 1))
    assert all(p.runs_bound >= p.runs_done for p in seen)
    assert all(p.runs_bound <= 2 * 16 for p in seen)  # never more sizes than exist


# -- stopping early ----------------------------------------------------------------------------
def test_stops_when_the_tenant_is_the_bottleneck(tmp_path: Path) -> None:
    """A tenant egress cap of 0.2 MB/s holds 12 mailboxes that want 1 MB/s each: more proxies
    change nothing, so the search stops at today's size and names the tenant."""
    path = _write(tmp_path, _scenario(tenant_kw={"egress_cap": 2e5}))
    res = size(path, compliance=1.0, confidence=0.5, replications=2, max_size=64)
    assert res.answer is None
    assert list(res.curve["pool_size"]) == [2]  # no doubling to 64
    assert res.stop_reason is not None
    assert "adding proxies cannot meet the window" in res.stop_reason
    assert "tenant 't'" in res.stop_reason and "2 of 2 replications" in res.stop_reason
    b = res.blockers
    assert set(b["kind"]) == {"tenant"} and (b["share"] >= 0.95).all()


def test_stops_when_the_repository_is_the_bottleneck(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario(repo={"write_bandwidth": 1e5}))
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=64)
    assert res.answer is None and list(res.curve["pool_size"]) == [2]
    assert res.stop_reason is not None and "repository 'r' (target)" in res.stop_reason


def test_stops_when_one_object_outlasts_the_window(tmp_path: Path) -> None:
    """One 10-hour mailbox and a 3.5 h window: no pool size splits an object."""
    path = _write(tmp_path, _scenario(mailboxes=1, size_bytes=3.6e10))
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=64)
    assert res.answer is None and list(res.curve["pool_size"]) == [2]
    assert res.stop_reason is not None
    assert "one mailbox takes 10.0 h on its own" in res.stop_reason


def test_a_thread_bound_miss_is_not_a_stop(tmp_path: Path) -> None:
    """Objects waiting for threads are helped by proxies: the search goes on (and finds 4)."""
    path = _write(tmp_path, _scenario(members=1))
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=64)
    assert res.stop_reason is None and res.answer == 4
    assert res.blockers.empty


# -- plot and folder ---------------------------------------------------------------------------
def test_size_plot_takes_0_and_100_percent(tmp_path: Path) -> None:
    """An earlier crash: a bound a rounding error past the point gave a negative yerr."""
    path = _write(tmp_path, _scenario())
    res = size(path, compliance=1.0, confidence=0.5, replications=1, max_size=16)
    res.curve = pd.DataFrame(
        {
            "pool_size": [1, 2],
            "replications": [5, 5],
            "met": [0, 5],
            "compliance": [0.0, 1.0],
            "wilson_low": [2.8e-17, 0.6],
            "wilson_high": [0.4, 1.0 - 1e-16],
            "passes": [False, True],
            "makespan_max_h_mean": [5.0, 3.0],
            "blocked": [0, 0],
        }
    )
    out = tmp_path / "curve.png"
    plot_size_curve(res, out)
    assert out.stat().st_size > 1000


def test_cli_keeps_the_folder_without_an_answer(tmp_path: Path) -> None:
    """The issue's repro shape (one size, every run misses): exit 1, the evidence table, the
    stop message, and a results folder whose manifest records the overrides and model hash."""
    path = _write(tmp_path, _scenario(tenant_kw={"egress_cap": 2e5}))
    res = tmp_path / "res"
    r = runner.invoke(
        app,
        [
            "size",
            str(path),
            "--set",
            "simulation.days=1",
            "--min",
            "1",
            "--max",
            "1",
            "-r",
            "5",
            "--compliance",
            "0.5",
            "-j",
            "1",
            "--results",
            str(res),
        ],
    )
    assert r.exit_code == 5, r.output  # ran to the end; the answer is no (1 is a bug)
    assert "0/5 met" in r.output and "lower bound" in r.output
    assert "adding proxies cannot meet the window" in r.output
    folder = next((res / "fixed").glob("size-*"))
    man = json.loads((folder / "manifest.json").read_text())
    assert man["overrides"] == ["simulation.days=1"]
    assert man["model_sha256"] == model_fingerprint()
    assert man["answer"] is None and "tenant 't'" in man["stop_reason"]
    assert (folder / "plots" / "size_curve.png").stat().st_size > 1000
    assert (folder / "report.html").exists()


def test_cli_refuses_too_few_replications(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario())
    r = runner.invoke(app, ["size", str(path), "-r", "5", "--results", str(tmp_path / "r")])
    assert r.exit_code == 2
    assert "use --replications 25 or more" in r.output
    assert not (tmp_path / "r").exists()


def test_write_size_with_an_answer(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario())
    res = size(path, compliance=0.5, replications=3, max_size=16, overrides=["seed=3"])
    folder = write_size(res, tmp_path / "out", command=["test"])
    man = json.loads((folder / "manifest.json").read_text())
    assert man["answer"] == 4 and man["compliance"] == 0.5 and man["confidence"] == 0.95
    assert man["overrides"] == ["seed=3"] and man["root_seed"] == 3


def test_cli_no_size_up_to_max_keeps_the_folder(tmp_path: Path) -> None:
    """The issue's repro as it stands (``--min 1 --max 1``, every run misses, but for want of
    threads, so no early stop): exit 5, both the point estimate and the lower bound, the
    'no pool size up to 1' line and a complete results folder."""
    path = _write(tmp_path, _scenario(members=1))
    res = tmp_path / "res"
    args = ["size", str(path), "--min", "1", "--max", "1", "-r", "5", "--confidence", "0.5"]
    r = runner.invoke(app, [*args, "-j", "1", "--results", str(res)])
    assert r.exit_code == 5, r.output
    assert "0/5 met, compliance 0%, lower bound 0% misses" in r.output
    assert "no pool size up to 1 meets the window of j" in " ".join(r.output.split())
    folder = next((res / "fixed").glob("size-*"))
    assert {p.name for p in folder.iterdir()} >= {"curve.csv", "runs.csv", "manifest.json"}
    assert (folder / "plots" / "size_curve.png").stat().st_size > 1000
    assert json.loads((folder / "manifest.json").read_text())["answer"] is None


def test_cli_answer_of_one_proxy_is_singular(tmp_path: Path) -> None:
    path = _write(tmp_path, _scenario(members=2, mailboxes=1, size_bytes=3.6e9))
    args = ["size", str(path), "--min", "1", "-r", "2", "--confidence", "0.5", "-j", "1"]
    r = runner.invoke(app, [*args, "--results", str(tmp_path / "res")])
    assert r.exit_code == 0, r.output
    assert "answer: 1 proxy in pool 'pool' (-1 vs today's 2)" in " ".join(r.output.split())


def test_cli_verdicts_fit_80_columns(tmp_path: Path) -> None:
    """The stop message (its bullets with a hanging indent) and the answer are wrapped between
    words at the console's width, not printed as lines of 150 characters."""
    path = _write(tmp_path, _scenario(tenant_kw={"egress_cap": 2e5}))
    args = ["size", str(path), "-r", "2", "--confidence", "0.5", "--compliance", "1", "-j", "1"]
    env = {"COLUMNS": "80"}
    r = runner.invoke(app, [*args, "--results", str(tmp_path / "a")], env=env)
    assert r.exit_code == 5, r.output
    assert "adding proxies cannot meet the window" in r.output
    stopped = r.output
    args[1] = str(_write(tmp_path, _scenario(), "b.yaml"))
    r = runner.invoke(app, [*args, "--results", str(tmp_path / "b")], env=env)
    assert r.exit_code == 0, r.output
    assert "answer: 4 proxies" in r.output
    for text in (stopped, r.output):
        for line in text.splitlines():
            assert len(line) <= 80 or line.startswith("results: "), line
    lines = stopped.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("  - "))
    last = next(i for i, ln in enumerate(lines) if ln.startswith("results: "))
    assert all(ln.startswith(("  - ", "    ")) for ln in lines[first:last])  # hanging indent
