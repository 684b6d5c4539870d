"""The console a planner touches first (issue 15, section 2, in part): --version, the policy in
the run header and the run folder's name, progress in simulated time with an ETA."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import _SimClock, app

runner = CliRunner()
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"poolsim {sim.__version__}"


@pytest.mark.parametrize(
    ("extra", "policy"), [([], "pull_fifo"), (["--policy", "round_robin"], "round_robin")]
)
def test_run_header_and_folder_name_the_policy_used(
    tmp_path: Path, extra: list[str], policy: str
) -> None:
    """The scenario's own policy (pull_fifo) names the folder, not the word 'scenario'."""
    args = ["run", str(SCENARIOS / "mmc-pool.yaml"), "--no-plots", "--results", str(tmp_path)]
    r = runner.invoke(app, [*args, *extra])
    assert r.exit_code == 0, r.output
    assert f"policy {policy}," in r.output
    (folder,) = (tmp_path / "mmc-pool").iterdir()
    assert folder.name.endswith(f"-s42-{policy}") or folder.name.endswith(f"-{policy}")


def _clock(days: int = 4) -> _SimClock:
    loaded = sim.load_scenario(SCENARIOS / "quickstart.yaml", [f"simulation.days={days}"])
    return _SimClock(loaded, delay_s=0.0, every_s=0.0)


def test_progress_text_has_simulated_time_and_eta() -> None:
    c = _clock(4)
    assert c.text(86_400.0, 10.0) == "quickstart: simulated 1.0 of 4 days (25%), ETA 30s"
    assert "ETA -" in c.text(0.0, 1.0)
    assert "last sessions finishing" in c.text(5 * 86_400.0, 10.0)
    assert "building the result tables" in c.text(2 * 86_400.0, 10.0, still_s=2.0)


def test_progress_lines_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a terminal the clock prints plain lines; it reads the world's clock, nothing more."""
    world = SimpleNamespace(env=SimpleNamespace(now=0.0))
    with _clock(4) as c:
        c.watch(world)
        for day in (1, 2, 3):
            world.env.now = day * 86_400.0
            time.sleep(0.3)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "simulated" in ln]
    assert any("simulated 1.0 of 4 days" in ln for ln in lines)
    assert any("simulated 3.0 of 4 days (75%)" in ln and "ETA" in ln for ln in lines)
