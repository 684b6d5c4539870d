"""``poolsim bench speed``: runs, reports, and refuses bad input with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sim.bench.reference import erlang_c_sojourn, mmc_simpy
from sim.bench.speed import LONG_POINTS, SWEEP_POINTS, sweep_grid
from sim.cli import app


def test_synthetic_part_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    result = CliRunner().invoke(
        app, ["bench", "speed", "--quick", "--only", "synthetic", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    syn = doc["synthetic_mm8"]
    assert syn["tasks"] == 20_000
    assert syn["poolsim_tasks_per_cpu_s"] > 0 and syn["reference_tasks_per_cpu_s"] > 0
    # both models run the same queue: mean sojourns near Erlang C (20,000 tasks at rho 0.9)
    for key in ("poolsim_mean_sojourn_s", "reference_mean_sojourn_s"):
        assert abs(syn[key] / syn["erlang_c_mean_sojourn_s"] - 1.0) < 0.2, (key, syn)
    assert doc["machine"]["cpus"] >= 1


def test_reference_model_is_an_mmc_queue() -> None:
    run = mmc_simpy(20_000, servers=1, arrival_rate=0.5, service_rate=1.0, seed=3)
    assert abs(run.mean_sojourn - erlang_c_sojourn(1, 0.5, 1.0)) < 0.15  # M/M/1: 2.0
    assert erlang_c_sojourn(1, 0.5, 1.0) == 2.0


def test_sweeps_have_32_and_16_distinct_points() -> None:
    from sim.experiment.sweep import parse_grid

    for long, n in ((False, SWEEP_POINTS), (True, LONG_POINTS)):
        _sets, grid = sweep_grid(long=long)
        parsed = parse_grid(grid)  # distinct values per key, so distinct points
        assert len(parsed[0][1]) * len(parsed[1][1]) == n


def test_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "speed", "--only", "nonsense"])
    assert result.exit_code == 2
    missing = tmp_path / "none.yaml"
    result = runner.invoke(
        app, ["bench", "speed", "--only", "scenario", "--scenario", str(missing)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_startup_part_reports_both_ratios(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    result = CliRunner().invoke(
        app, ["bench", "speed", "--quick", "--only", "startup", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "poolsim --help" in result.output and "poolsim validate" in result.output
    doc = json.loads(out.read_text())
    st = doc["startup"]
    assert st["rounds"] == 5 and st["typer_cpu_s"] > 0
    for key in ("help", "validate"):
        assert st[f"{key}_ratio"] == st[f"{key}_cpu_s"] / st["typer_cpu_s"]
    # a loose guard (the goal is 1.5x): an eager import of pandas or matplotlib costs > 5x
    assert st["help_ratio"] < 2.5, st
    assert doc["machine"]["cpu_model"]
