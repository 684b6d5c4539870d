"""compare, sweep and size check their input as run does before simulating: every
CSV, the memory estimate (refused unless --force) and --strict; and the exit status 5 of a
check whose answer is no."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.cli import invoke

from sim.cli import EXIT_NO, EXIT_STATUSES

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = str(ROOT / "scenarios" / "quickstart.yaml")

COMMANDS = {
    "compare": ["compare", "--policies", "round_robin,pull_fifo", "-r", "2", "-j", "1"],
    "sweep": ["sweep", "--grid", "simulation.days=1,2", "-r", "1", "-j", "1"],
    "size": ["size", "-r", "5", "--compliance", "0.5", "--max", "4", "-j", "1"],
}


def cli(args: list[str]) -> tuple[int, str]:
    return invoke(*args)


def command(name: str, scenario: str, tmp_path: Path, *extra: str) -> list[str]:
    head, *rest = COMMANDS[name]
    return [head, scenario, *rest, "--results", str(tmp_path / "res"), *extra]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_missing_inventory_is_refused_before_anything_runs(name: str, tmp_path: Path) -> None:
    text = Path(QUICKSTART).read_text(encoding="utf-8")
    text = re.sub(r"(\n    users: \d+)", r"\1\n    inventory: nope.csv", text, count=1)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text, encoding="utf-8")
    code, out = cli(command(name, str(scenario), tmp_path))
    assert code == 2, out
    assert "nope.csv" in out and "file not found" in out
    assert not (tmp_path / "res").exists()  # nothing simulated, nothing written


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_run_too_big_for_memory_is_refused(name: str, tmp_path: Path) -> None:
    big = ["--set", "tenants.0.users=900000000"]
    code, out = cli(command(name, QUICKSTART, tmp_path, *big))
    assert code == 2, out
    assert "would need about" in out and "--force" in out
    assert not (tmp_path / "res").exists()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_strict_turns_warnings_into_errors(name: str, tmp_path: Path) -> None:
    # 5,000 users in one job: Veeam's advice is at most 4,000 (a lint warning)
    code, out = cli(
        command(name, QUICKSTART, tmp_path, "--set", "tenants.0.users=5000", "--strict")
    )
    assert code == 2, out
    assert "users-per-job" in out and "--strict" in out
    assert not (tmp_path / "res").exists()


def test_a_sweep_checks_every_grid_point(tmp_path: Path) -> None:
    args = ["sweep", QUICKSTART, "--grid", "tenants.0.users=10,900000000", "-r", "1", "-j", "1"]
    code, out = cli([*args, "--results", str(tmp_path / "res")])
    assert code == 2, out
    assert "would need about" in out and "(grid point tenants.0.users=900000000)" in out
    assert not (tmp_path / "res").exists()


def test_the_answer_is_no_has_its_own_status() -> None:
    assert EXIT_NO == 5 and dict(EXIT_STATUSES)[EXIT_NO].startswith("ran to the end")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| 5 | ran to the end and the answer is no" in readme
    assert "first of 1, 3, 5, 4 wins" in readme


def test_force_goes_on_past_the_memory_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimate refuses a run that would not fit; --force runs it anyway, saying so."""
    import sim.workload.check

    monkeypatch.setattr(sim.workload.check, "memory_limit", lambda: 1e6)  # a 1 MB machine
    for head in (["validate"], ["run", "--no-plots", "--results", str(tmp_path / "res")]):
        args = [*head, QUICKSTART, "--set", "simulation.days=1"]
        code, out = cli(args)
        assert code == 2 and "would need about" in out, out
        code, out = cli([*args, "--force"])
        assert code == 0, out
        assert "going on (--force)" in " ".join(out.split())
    assert len(list((tmp_path / "res").glob("*/*"))) == 1
