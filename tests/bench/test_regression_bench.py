"""``poolsim bench check | update``: baselines, tolerances, failure messages, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.bench.regression import Tolerance, load_set
from sim.cli import app

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "good" / "tiny.yaml"

SMALL_SET = """\
name: small
baselines: baselines
tolerances:
  window_compliance: {{rel: 0, abs: 0}}
scenarios:
  - name: tiny
    file: {tiny}
    set: [{extra}]
    metrics: [throughput, makespan_max, window_compliance, jain_fairness@pool:pool-a,
              throttled_fraction, redone_bytes]
"""


def write_set(folder: Path, extra: str = "simulation.days=1") -> Path:
    path = folder / "small.yaml"
    path.write_text(SMALL_SET.format(tiny=TINY, extra=extra), encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    return result.exit_code, re.sub(r"\s+", " ", text)


def test_update_then_check_passes(tmp_path: Path) -> None:
    bench = write_set(tmp_path)
    code, text = invoke("bench", "update", str(bench))
    assert code == 0, text
    baseline = tmp_path / "baselines" / "small" / "tiny.json"
    doc = json.loads(baseline.read_text())
    assert set(doc["metrics"]) == {
        "throughput",
        "makespan_max",
        "window_compliance",
        "jain_fairness@pool:pool-a",
        "throttled_fraction",
        "redone_bytes",
    }
    assert not list(baseline.parent.glob("*.tmp"))  # atomic write left nothing behind
    code, text = invoke("bench", "check", str(bench))
    assert code == 0, text
    assert "6 metric(s) of 1 scenario(s) within tolerance" in text


def test_a_model_change_is_caught_with_scenario_metric_old_and_new(tmp_path: Path) -> None:
    bench = write_set(tmp_path)
    assert invoke("bench", "update", str(bench))[0] == 0
    old = json.loads((tmp_path / "baselines" / "small" / "tiny.json").read_text())["metrics"]
    # a deliberate change: half the threads on each proxy lowers the throughput
    fewer = "proxies.proxy-01.threads=2, proxies.proxy-02.threads=2"
    write_set(tmp_path, extra=f"simulation.days=1, {fewer}")
    code, text = invoke("bench", "check", str(bench))
    assert code == 5, text  # the answer is no (README, exit statuses); 1 is kept for bugs
    m = re.search(r"FAIL tiny: throughput changed from (\S+) to (\S+) \(", text)
    assert m is not None, text
    assert float(m.group(1)) == pytest.approx(old["throughput"], rel=1e-9)
    assert float(m.group(2)) < float(m.group(1))
    assert "outside tolerance (rel 1e-06, abs 1e-09)" in text
    assert f"poolsim bench update {bench}" in text


def test_missing_baseline_names_the_refresh_command(tmp_path: Path) -> None:
    bench = write_set(tmp_path)
    code, text = invoke("bench", "check", str(bench))
    assert code == 2
    assert "no baseline for scenario 'tiny'" in text
    assert f"poolsim bench update {bench}" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: x\nscenarios: []\n", "scenarios"),
        ("name: x\nbogus: 1\nscenarios: [{name: a, file: f.yaml}]\n", "bogus"),
        ("name: x\nscenarios: [{name: a, file: f.yaml}, {name: a, file: g.yaml}]\n", "two"),
        (
            "name: x\ntolerances: {throughput: {rel: -1}}\nscenarios: [{name: a, file: f}]\n",
            "rel",
        ),
        ("name: [\n", "problem"),
    ],
)
def test_bad_bench_sets_exit_2_with_a_message(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    code, text = invoke("bench", "check", str(path))
    assert code == 2, text
    assert expected in text
    assert "Traceback" not in text


def test_unknown_metric_and_scenario_and_file(tmp_path: Path) -> None:
    bench = tmp_path / "s.yaml"
    bench.write_text(
        f"name: s\nbaselines: b\nmetrics: [no_such_metric]\n"
        f"scenarios: [{{name: tiny, file: {TINY}, set: [simulation.days=1]}}]\n",
        encoding="utf-8",
    )
    code, text = invoke("bench", "update", str(bench))
    assert code == 2
    assert "no metric 'no_such_metric' in scope 'overall'; available:" in text
    code, text = invoke("bench", "update", str(bench), "--scenario", "nope")
    assert code == 2 and "no scenario named 'nope'" in text
    missing = tmp_path / "m.yaml"
    missing.write_text("name: m\nscenarios: [{name: a, file: nowhere.yaml}]\n", encoding="utf-8")
    code, text = invoke("bench", "update", str(missing))
    assert code == 2 and "nowhere.yaml" in text and "file not found" in text


def test_tolerance_rule() -> None:
    tol = Tolerance(rel=0.01, abs=0.5)
    assert tol.allows(100.0, 100.9)  # rel: 1.0 allowed
    assert not tol.allows(100.0, 101.1)
    assert tol.allows(0.0, 0.4)  # abs
    assert not tol.allows(0.0, 0.6)
    assert tol.allows(float("nan"), float("nan"))
    assert not tol.allows(1.0, float("nan"))


def test_repository_set_is_valid_and_has_baselines() -> None:
    bench = load_set(ROOT / "benchmarks" / "regression.yaml")
    for sc in bench.spec.scenarios:
        assert bench.scenario_path(sc).is_file(), sc.file
        doc = json.loads(bench.baseline_path(sc).read_text())
        assert set(doc["metrics"]) == set(bench.metrics_of(sc)), sc.name


@pytest.mark.slow
def test_repository_benchmarks_match_their_baselines() -> None:
    """The committed baselines are current (about a minute; runs in CI)."""
    code, text = invoke("bench", "check", str(ROOT / "benchmarks" / "regression.yaml"))
    assert code == 0, text
