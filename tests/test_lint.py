"""Veeam's job-design advice as a lint: one test per rule, the
acknowledgement comment, the CLI (--strict) and the shipped scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.scenario import job, repository, scenario_yaml
from helpers.scenario import tenant as tenant_section
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.scenario.lint import (
    JOB_DESIGN_URL,
    PROXY_SIZING_URL,
    SIZING_URL,
    acknowledgements,
    job_objects,
    lint,
    lint_scenario,
    tenant_counts,
)

runner = CliRunner()
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _spec(
    users: int = 100,
    jobs: list[dict[str, Any]] | None = None,
    members: int = 1,
    pool: bool = True,
    objects: dict[str, Any] | None = None,
    maintenance: int = 0,
) -> sim.Scenario:
    """One tenant, ``members`` proxies (the last ``maintenance`` of them starting in
    maintenance), in a pool or (``pool=False``) the first standalone."""
    proxies: list[dict[str, Any]] = [{"name": f"p{i + 1}"} for i in range(members)]
    for p in proxies[members - maintenance :]:
        p["state"] = "maintenance"
    owner = "pool" if pool else "p1"
    text = scenario_yaml(
        tenants=[tenant_section(users=users, **({"objects": objects} if objects else {}))],
        proxies=proxies,
        pools=[{"name": "pool", "members": [p["name"] for p in proxies]}] if pool else [],
        repositories=[repository("r", owner)],
        jobs=jobs or [job("j", "r")],
    )
    return sim.load_scenario_text(text).spec


def _rules(spec: sim.Scenario) -> list[str]:
    return [f.rule for f in lint(spec)]


# -- users per job -----------------------------------------------------------------------------
def test_users_per_job() -> None:
    """More than 4,000 users of a user-based workload in one job is flagged, with the source."""
    assert _rules(_spec(users=4_000)) == []
    found = lint(_spec(users=4_001))
    assert [f.rule for f in found] == ["users-per-job"]
    assert "4,001 users" in found[0].message and SIZING_URL in found[0].message
    assert found[0].url == SIZING_URL and found[0].loc == ("jobs", 0)
    # the share a job takes counts, cut exactly as the model cuts it
    halves = [
        job("a", "r", share=0.5, share_offset=0.0),
        job("b", "r", share=0.5, share_offset=0.5),
    ]
    assert _rules(_spec(users=8_000, jobs=halves)) == []
    assert _rules(_spec(users=8_002, jobs=halves)) == ["users-per-job"] * 2
    # SharePoint sites do not belong to users
    site_only = [job("s", "r", workloads=("sharepoint",))]
    assert _rules(_spec(users=10_000, jobs=site_only)) == []


# -- workloads per job -------------------------------------------------------------------------
def test_workloads_per_job() -> None:
    """Exchange, OneDrive and SharePoint + Teams each want their own job."""
    mixed = [job("m", "r", workloads=("exchange", "onedrive"))]
    found = lint(_spec(jobs=mixed))
    assert [f.rule for f in found] == ["workloads-per-job"]
    assert "Exchange and OneDrive" in found[0].message and JOB_DESIGN_URL in found[0].message
    assert found[0].loc == ("jobs", 0, "workloads")
    sp_teams = [job("st", "r", workloads=("sharepoint", "teams"))]
    assert _rules(_spec(jobs=sp_teams)) == []
    every = [job("all", "r", workloads=("exchange", "onedrive", "sharepoint", "teams"))]
    assert "Exchange, OneDrive and SharePoint + Teams" in lint(_spec(jobs=every))[0].message


# -- objects per proxy -------------------------------------------------------------------------
def test_objects_per_proxy_in_a_pool() -> None:
    """A pool spreads its jobs' objects over its members: 2 x 20,000 is fine, 2 x 20,001 not."""
    objects = {"mailbox": {"count": 40_000}, "archive_mailbox": {"count": 0}}
    objects |= {t: {"count": 0} for t in ("shared_mailbox", "onedrive", "site", "team")}
    assert _rules(_spec(objects=objects, members=2)) == []
    objects["mailbox"] = {"count": 40_002}
    found = lint(_spec(objects=objects, members=2))
    assert [f.rule for f in found] == ["objects-per-proxy"]
    assert "about 20,001 objects" in found[0].message
    assert "needs 3 members or more" in found[0].message
    assert PROXY_SIZING_URL in found[0].message and found[0].loc == ("pools", 0, "members")
    # a member that starts in maintenance takes no work: three members, two of them working
    objects["mailbox"] = {"count": 40_000}
    assert _rules(_spec(objects=objects, members=3, maintenance=1)) == []
    assert _rules(_spec(objects=objects, members=3, maintenance=2)) == ["objects-per-proxy"]


def test_objects_per_standalone_proxy_and_teams_count_twice() -> None:
    """A standalone proxy gets all its repositories' objects; a team counts as two objects."""
    objects = {t: {"count": 0} for t in ("mailbox", "archive_mailbox", "shared_mailbox")}
    objects |= {"onedrive": {"count": 0}, "site": {"count": 0}, "team": {"count": 10_001}}
    teams = [job("t", "r", workloads=("teams",))]
    found = lint(_spec(objects=objects, pool=False, jobs=teams))
    assert [f.rule for f in found] == ["objects-per-proxy"]
    assert "20,002 objects" in found[0].message and found[0].loc == ("proxies", 0)
    objects["team"] = {"count": 10_000}
    assert _rules(_spec(objects=objects, pool=False, jobs=teams)) == []


def test_job_objects_match_the_model() -> None:
    """The lint's per-job object count is the model's (a run's session sizes), and a team
    counts twice in the weighted count."""
    jobs = [
        job("a", "r", workloads=("exchange", "onedrive"), share=0.37),
        job("b", "r", workloads=("onedrive", "sharepoint", "teams"), share_offset=0.2, share=0.5),
        job("c", "r", workloads=("teams",)),
    ]
    text = scenario_yaml(
        tenants=[tenant_section(users=300, objects={"team": {"per_user": 0.1}})],
        proxies=[{"name": "p1"}],
        pools=[{"name": "pool", "members": ["p1"]}],
        repositories=[repository("r", "pool")],
        jobs=jobs,
    )
    loaded = sim.load_scenario_text(text)
    counts = tenant_counts(loaded.spec.tenants[0])
    assert counts is not None and counts["team"] == 30
    run = sim.simulate(loaded)
    for j in loaded.spec.jobs:
        model = int(run.sessions[run.sessions["job"] == j.name]["objects"].iloc[0])
        assert job_objects(j, counts, weighted=False) == model, j.name
    a, _, c = loaded.spec.jobs
    assert job_objects(a, counts) == job_objects(a, counts, weighted=False)
    assert job_objects(c, counts) == 2 * 30


# -- acknowledgements, CLI, shipped scenarios --------------------------------------------------
def test_acknowledgements_parse() -> None:
    text = (
        "# lint-ok: users-per-job: the first line\n"
        "#   and its continuation\n"
        "# an ordinary comment\n"
        "#   not a continuation any more\n"
        "# lint-ok: no-such-rule: ignored\n"
        "name: x\n"
    )
    assert acknowledgements(text) == {"users-per-job": "the first line and its continuation"}


def _write(tmp_path: Path, users: int, ack: str = "") -> Path:
    text = scenario_yaml(
        name="lint",
        tenants=[tenant_section(users=users)],
        proxies=[{"name": "p1"}],
        pools=[{"name": "pool", "members": ["p1"]}],
        repositories=[repository("r", "pool")],
        jobs=[job("j", "r")],
    )
    path = tmp_path / "lint.yaml"
    path.write_text(ack + text, encoding="utf-8")
    return path


def test_cli_warns_and_strict_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, 5_000)
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0, r.output
    assert "warning (users-per-job)" in r.output and SIZING_URL in r.output
    assert f"{path}:" in r.output and "jobs[0]" in r.output
    r = runner.invoke(app, ["validate", str(path), "--strict"])
    assert r.exit_code == 2 and "error (users-per-job)" in r.output
    res = tmp_path / "res"
    r = runner.invoke(app, ["run", str(path), "--strict", "--results", str(res)])
    assert r.exit_code == 2 and not res.exists()  # refused before anything ran
    r = runner.invoke(app, ["run", str(path), "--no-plots", "--results", str(res)])
    assert r.exit_code == 0 and "warning (users-per-job)" in r.output


def test_acknowledged_advice_passes_strict(tmp_path: Path) -> None:
    path = _write(tmp_path, 5_000, "# lint-ok: users-per-job: a test of the comment\n")
    loaded = sim.load_scenario(path)
    assert [f.acknowledged for f in lint_scenario(loaded)] == ["a test of the comment"]
    r = runner.invoke(app, ["validate", str(path), "--strict"])
    assert r.exit_code == 0, r.output
    assert "acknowledged in the file" in r.output and "a test of the comment" in r.output


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_pass_or_say_why(path: Path) -> None:
    """Every shipped scenario follows the advice or gives its reason in a comment, and has no
    warning: it validates (and so runs) under --strict."""
    loaded = sim.load_scenario(path)
    for f in lint_scenario(loaded):
        assert f.acknowledged, f"{path.name}: {f.message}"
        assert len(f.acknowledged) > 20, "a reason, not just the rule"
    assert [w.message for w in loaded.warnings] == []
    r = runner.invoke(app, ["validate", str(path), "--strict"])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load(path.read_text(encoding="utf-8"))  # still plain YAML
