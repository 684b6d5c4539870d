"""``poolsim bench speed``: runs, reports, and refuses bad input with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
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
    for key in ("help", "validate", "typer_app"):
        assert st[f"{key}_ratio"] == st[f"{key}_cpu_s"] / st["typer_cpu_s"]
    assert st["validate_app_ratio"] == st["validate_cpu_s"] / st["typer_app_cpu_s"]
    assert "a minimal typer app" in result.output
    # the yardstick parses a command line through typer: it costs more than importing typer
    assert st["typer_app_cpu_s"] > st["typer_cpu_s"], st
    # a loose guard (the goal is 1.5x): an eager import of pandas or matplotlib costs > 5x
    assert st["help_ratio"] < 2.5, st
    assert doc["machine"]["cpu_model"]


def test_thresholds_gate_with_exit_5_and_goals_are_reported(tmp_path: Path) -> None:
    """Without threshold flags bench speed exits 0 whatever the figures; a missed threshold
    exits 5 (README's exit-status table) and is named; a threshold on a part that did not run
    is bad input (2). The JSON keeps its keys and adds the goals beside them."""
    runner = CliRunner()
    out = tmp_path / "s.json"
    base = ["bench", "speed", "--quick", "--only", "synthetic", "--json", str(out)]
    result = runner.invoke(app, [*base, "--min-ratio", "1000"])
    assert result.exit_code == 5, result.output
    assert "threshold missed: --min-ratio 1000: M/M/8 poolsim / SimPy is" in " ".join(
        result.output.split()
    )
    doc = json.loads(out.read_text())
    syn = doc["synthetic_mm8"]
    for key in ("poolsim_tasks_per_cpu_s", "reference_tasks_per_cpu_s", "speedup"):
        assert syn[key] > 0
    goal = next(g for g in doc["goals"] if g["key"] == "synthetic_mm8.speedup")
    assert goal["goal"] == ">= 3" and goal["met"] is None  # --quick: judged at full size only
    assert goal["value"] == syn["speedup"]
    assert runner.invoke(app, [*base, "--min-ratio", "0.01"]).exit_code == 0
    bad = runner.invoke(app, ["bench", "speed", "--only", "synthetic", "--max-rss-mb", "10"])
    assert bad.exit_code == 2 and "needs the scenario part" in bad.output


def test_memory_part_reports_a_fresh_process_peak_and_a_columnar_table() -> None:
    from sim.bench.speed import bench_memory, memory_users

    assert memory_users(1_000_000) == 383_142
    mem = bench_memory(Path("scenarios/enterprise-100k.yaml"), 3_000)
    assert abs(mem["tasks"] - 3_000) < 100, mem  # one task per object, one night
    assert 50 < mem["peak_rss_mb"] < 2_000
    assert mem["object_columns"] == 0 and mem["tasks_columns"] > 10
    assert 0 < mem["tasks_table_mb"] < mem["peak_rss_mb"]


def test_sweep_speedups_are_medians_of_side_by_side_ratios(monkeypatch: Any) -> None:
    """Each round times serial and the automatic choice in turn (swapped every other round),
    then -j (last: the timing after it would pay for its workers' exit, so serial and the
    automatic choice take turns after the previous round's); a speed-up is the median of the
    rounds' ratios, not a ratio of medians, and a sweep that gives other numbers than the serial
    one is an error."""
    import pandas as pd

    from sim.bench import speed

    # wall seconds by (grid size, executor, round): round 1 is a slow spell for everybody
    walls = {
        "serial": [20.0, 40.0, 30.0],
        "parallel": [10.0, 25.0, 12.0],
        "auto": [11.0, 20.0, 12.5],
    }
    calls: list[tuple[str, int]] = []
    table = pd.DataFrame({"point": [0, 1], "x": [1.0, 2.0]})

    def fake(scenario: Path, sets: list[str], grid: list[str], make: Any, folder: Path) -> Any:
        if not folder.name.startswith("long_"):  # the warm-up and the tiny sweep
            return 1.0, table, {"mode": "serial"}
        name, r = folder.name.removeprefix("long_").rsplit("-", 1)
        calls.append((name, int(r)))
        return walls[name][int(r)], table, {"mode": "2 local workers"}

    monkeypatch.setattr(speed, "_timed_sweep", fake)
    monkeypatch.setattr(speed, "stop_forkserver", lambda: None)
    out = speed.bench_sweep(Path("unused.yaml"), rounds=3)
    assert calls == [
        ("serial", 0),
        ("auto", 0),
        ("parallel", 0),
        ("auto", 1),
        ("serial", 1),
        ("parallel", 1),
        ("serial", 2),
        ("auto", 2),
        ("parallel", 2),
    ]
    assert out["long_speedups"] == [2.0, 1.6, 2.5]
    assert out["long_speedup"] == 2.0  # the ratio of the medians would be 30 / 12 = 2.5
    assert out["long_auto_speedups"] == [20.0 / 11.0, 2.0, 30.0 / 12.5]
    assert out["long_auto_speedup"] == 2.0
    assert out["long_serial_wall_s"] == 30.0 and out["long_rounds"] == 3.0
    assert out["long_auto_choice"] == "2 local workers"
    assert out["long_auto_choices"] == ["2 local workers"] * 3
    assert out["auto_speedup"] == 1.0 and out["rounds"] == 3.0
    assert speed.pair_ratios([4.0, 6.0], [2.0, 2.0]) == [2.0, 3.0]
    with pytest.raises(ValueError):
        speed.pair_ratios([1.0], [])

    other = table.assign(x=[1.0, 2.5])

    def differs(scenario: Path, sets: list[str], grid: list[str], make: Any, folder: Path) -> Any:
        return 1.0, other if "parallel" in folder.name else table, {}

    monkeypatch.setattr(speed, "_timed_sweep", differs)
    with pytest.raises(RuntimeError, match="parallel sweep gave other numbers"):
        speed.bench_sweep(Path("unused.yaml"), rounds=1)


def test_scenario_and_mm8_ratios_are_medians_of_rounds_side_by_side(monkeypatch: Any) -> None:
    """With both parts, each of ``SPEED_ROUNDS`` rounds times the scenario and then the M/M/8
    pair; the scenario's ratio is each round's task rate over that round's SimPy rate, and the
    figure is the median round's (a slow spell in one round moves both sides of its ratio);
    the peak RSS is the first round's. Without the M/M/8 part the scenario runs once."""
    from sim.bench import speed

    calls: list[str] = []
    # round 1 is a slow spell for everybody: CPU seconds up, rates down, ratios about the same
    cpu = iter([4.0, 6.0, 3.0])
    ref = iter([100_000.0, 70_000.0, 120_000.0])
    ours = iter([400_000.0, 260_000.0, 420_000.0])
    rss = iter([370.0, 390.0, 395.0])

    def scenario(path: Path, sets: Any = ()) -> dict[str, float]:
        calls.append("scenario")
        c = next(cpu)
        return {"tasks": 261_000.0, "cpu_s": c, "wall_s": c, "peak_rss_mb": next(rss)}

    def synthetic(n: int, seed: int = 1) -> dict[str, float]:
        calls.append("synthetic")
        o, r = next(ours), next(ref)
        return {"poolsim_tasks_per_cpu_s": o, "reference_tasks_per_cpu_s": r, "speedup": o / r}

    monkeypatch.setattr(speed, "bench_scenario", scenario)
    monkeypatch.setattr(speed, "bench_synthetic", synthetic)
    report = speed.run_speed(Path("s.yaml"), Path("q.yaml"), parts=("scenario", "synthetic"))
    assert calls == ["scenario", "synthetic"] * speed.SPEED_ROUNDS
    sc, syn = report.scenario, report.synthetic
    ratios = [261_000.0 / 4.0 / 100_000.0, 261_000.0 / 6.0 / 70_000.0, 261_000.0 / 3.0 / 120_000.0]
    assert sc["rate_ratios"] == pytest.approx(ratios)
    assert sc["rate_ratio"] == pytest.approx(sorted(ratios)[1])
    assert sc["cpu_s"] == 4.0 and sc["cpu_s_rounds"] == [4.0, 6.0, 3.0]  # the median round's
    assert sc["peak_rss_mb"] == 370.0 and sc["rounds"] == 3.0
    assert syn["speedups"] == pytest.approx([4.0, 260 / 70, 3.5])
    assert syn["speedup"] == pytest.approx(3.7142857, rel=1e-6)
    assert syn["poolsim_tasks_per_cpu_s"] == 260_000.0  # the figures of the median round

    calls.clear()
    cpu = iter([4.0])
    rss = iter([370.0])
    report = speed.run_speed(Path("s.yaml"), Path("q.yaml"), parts=("scenario",))
    assert calls == ["scenario"] and "rate_ratio" not in report.scenario
