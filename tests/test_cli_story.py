"""The console a planner touches first (in part): --version, the policy in
the run header and the run folder's name, progress in simulated time with an ETA."""

from __future__ import annotations

import re
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


def test_run_tells_the_lifecycle_story_at_80_columns(tmp_path: Path) -> None:
    """Each maintenance, fault and role move, objects reassigned, the dip and
    its recovery; nothing truncated at 80 columns (Rich marks a cut with '…')."""
    args = ["run", str(SCENARIOS / "maintenance-drill.yaml"), "--no-plots"]
    r = runner.invoke(app, [*args, "--results", str(tmp_path)], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    text = r.output
    assert "…" not in text
    shown = [ln for ln in text.splitlines() if not ln.startswith(("warning", "results:"))]
    assert max(len(line) for line in shown) <= 80  # warnings are single lines for grep
    story = text[text.index("Lifecycle") :]
    assert "day 2 01:00  maintenance_on proxy-03: 16 objects reassigned (handoff)" in story
    assert "day 2 02:00  fail proxy-02: 16 objects lost in flight" in story
    assert "orchestrator role of pool-night: proxy-02 -> proxy-04" in story
    first = story.splitlines()[1:4]  # the maintenance event's lines
    dip = r"\(dip \d+%\), (recovered in (\d+h )?\d+m \d+s|no recovery needed)"
    assert re.search(dip, " ".join(first)), first
    # the handoff as documented: handed-off objects resume within minutes, not hours
    assert re.search(r"resume delay p50 \d+m \d+s, max \d+m \d+s", " ".join(first)), first
    assert story.index("maintenance_on") < story.index("fail") < story.index("  recover proxy-02")
    assert "results: " + str(tmp_path) in text  # the folder on one line, whole


def test_story_prints_the_resume_delay_when_the_table_has_it() -> None:
    from sim.report.tables import lifecycle_story

    result = sim.simulate(SCENARIOS / "maintenance-drill.yaml")
    without = result.lifecycle.drop(columns=["resume_delay_p50_s", "resume_delay_max_s"])
    result.lifecycle = without
    assert not any("resume delay" in line for line in lifecycle_story(result))
    result.lifecycle["resume_delay_p50_s"] = 90.0
    result.lifecycle["resume_delay_max_s"] = 600.0
    lines = lifecycle_story(result)
    assert any("resume delay p50 1m 30s, max 10m 00s" in line for line in lines)


def test_one_day_and_session_numbering() -> None:
    """Days count from 1 everywhere, as the scenario's ``on_day``/``day`` do; a session's
    number is the same id in the sessions and task tables; ``run`` counts a job's runs from 1
    as the timeline's ``session: N`` does."""
    from sim.report.tables import day_clock

    result = sim.simulate(SCENARIOS / "quickstart.yaml")
    s, t = result.sessions, result.tasks
    assert s["day"].min() == 1 and s["day"].max() == result.scenario.spec.simulation.days
    assert (s["day"] == (s["scheduled"] // 86_400).astype(int) + 1).all()
    ran = s[~s["skipped"]]
    for row in ran.itertuples():
        rows = t[t["session"] == row.session]
        assert len(rows) == row.objects and set(rows["job"]) == {row.job}
    for _job, g in s.groupby("job"):
        assert g.sort_values("scheduled")["run"].tolist() == list(range(1, len(g) + 1))
    assert day_clock(86_400.0 + 3600.0) == "day 2 01:00"


def test_skipped_sessions_in_one_line_and_rows_by_day_then_job() -> None:
    import pandas as pd

    from sim.report.tables import sessions_in_order, skipped_line

    s = pd.DataFrame(
        {
            "job": ["b", "a", "b", "a", "b"],
            "day": [2, 2, 1, 1, 3],
            "scheduled": [2.0, 2.0, 1.0, 1.0, 3.0],
            "skipped": [True, False, False, False, True],
        }
    )
    assert list(zip(*(sessions_in_order(s)[c] for c in ("day", "job")), strict=True)) == [
        (1, "a"), (1, "b"), (2, "a"), (2, "b"), (3, "b")
    ]  # fmt: skip
    line = skipped_line(s)
    assert line == "2 sessions (b on days 2, 3): the job's previous one still running"
    assert skipped_line(s[~s["skipped"]]) == ""


def test_the_skipped_line_names_every_day_in_runs() -> None:
    """Long lists of days are written as runs (``2-8``), never cut with '...'; jobs skipped on
    the same days share one entry, in the order of their first skipped day."""
    import pandas as pd

    from sim.report.tables import skipped_line

    days = {"x": [2, 3, 5, 6, 7, 8], "y": list(range(2, 9)), "z": list(range(2, 9)), "w": [4]}
    rows = [(job, d) for job, ds in days.items() for d in ds]
    s = pd.DataFrame(
        {
            "job": [j for j, _ in rows],
            "day": [d for _, d in rows],
            "scheduled": [86_400.0 * d for _, d in rows],
            "skipped": True,
        }
    )
    line = skipped_line(s)
    assert "..." not in line and "…" not in line
    assert line == (
        "21 sessions (x on days 2, 3, 5-8; y, z on days 2-8; w on day 4): the job's "
        "previous one still running"
    )


def test_compare_and_sweep_tables_cut_nothing_at_80_columns(tmp_path: Path) -> None:
    """Wide tables fold their cells at 80 columns (pipes, CI logs) instead of cutting names."""
    pols = "least_loaded_capacity,least_active_threads,weighted_round_robin,pull_fifo"
    scenario = str(SCENARIOS / "mmc-pool.yaml")
    env = {"COLUMNS": "80"}
    res = ["--results", str(tmp_path), "-j", "1"]
    r = runner.invoke(app, ["compare", scenario, "-p", pols, "-r", "2", *res], env=env)
    assert r.exit_code == 0, r.output
    assert "…" not in r.output
    for name in pols.split(","):
        assert name in r.output  # whole, on one line: the policies are split over tables
    assert r.output.count("┃ metric") == 2  # two tables, each with the metric column
    for line in r.output.splitlines():
        assert len(line) <= 80 or line.startswith("results: ")
    assert f"results: {tmp_path}" in r.output  # the folder on one line
    args = ["sweep", scenario, "--grid", "proxies.0.threads=1,2", "-r", "2", *res]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    assert "…" not in r.output


def _headers(output: str) -> list[list[str]]:
    """Each table's header cells, a cell's lines joined (a folded header has several)."""
    tables: list[list[str]] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        rows = []
        for head in lines[i + 1 :]:
            if not head.startswith("┃"):
                break
            rows.append([c.strip() for c in head.strip("┃").split("┃")])
        tables.append([" ".join(p for p in parts if p) for parts in zip(*rows, strict=True)])
    return tables


def test_headers_and_titles_fold_between_words_at_80_columns(tmp_path: Path) -> None:
    """The documented sweep (two long grid keys and a long metric) at 80 columns: a header too
    wide for its table folds after a '.', '/' or ' ' and never inside a word; the title stays
    on one line; the half-width is the one asked for (--confidence)."""
    scenario = str(SCENARIOS / "mmc-pool.yaml")
    grid = [
        "--grid",
        "pools.pool.policy=pull_fifo,jsq",
        "--grid",
        "synthetic.arrivals.rate=2.4/s,3.2/s",
    ]
    args = ["sweep", scenario, *grid, "-r", "2", "-j", "1", "--results", str(tmp_path)]
    r = runner.invoke(app, [*args, "--confidence", "0.9"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    wanted = {
        "pools.pool.policy",
        "synthetic.arrivals.rate",
        "throughput (GB/h)",
        "steady_state/sojourn_mean (s)",
        "status",
    }
    seen = {h.replace(". ", ".").replace("/ ", "/") for t in _headers(r.output) for h in t}
    assert seen == wanted, _headers(r.output)
    assert "sweep: 4 points, mean ± 90% half-width (or [low, high])" in r.output
    for line in r.output.splitlines():
        assert len(line) <= 80 or line.startswith("ran "), line

    pols = "least_loaded_capacity,least_active_threads,weighted_round_robin,pull_fifo"
    res = ["--results", str(tmp_path), "-j", "1"]
    r = runner.invoke(
        app, ["compare", scenario, "-p", pols, "-r", "2", *res], env={"COLUMNS": "80"}
    )
    assert r.exit_code == 0, r.output
    assert re.search(
        r"mmc-pool: 2 replications per policy, mean ± 95% half-width \(\d+\.\d s wall\)", r.output
    )
