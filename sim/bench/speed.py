"""Speed benchmarks (``poolsim bench speed``), measured in one process and one run.

1. ``synthetic``: M/M/8 at load 0.9 through the real pool model (one pool of two 4-thread
   proxies, pull queue, every trace and summary recorded), in tasks per CPU second, next to the
   idiomatic SimPy model of the same queue (``reference.mmc_simpy``) run in the same process.
2. ``scenario``: a large scenario (``scenarios/enterprise-100k.yaml``): wall and CPU time and
   the process's peak resident memory (``getrusage`` ``ru_maxrss``; it runs first so the peak
   is its own). With ``synthetic`` too, the two run in ``SPEED_ROUNDS`` rounds side by side
   (scenario, then the M/M/8 pair) and every ratio is the median of the rounds' ratios.
3. ``sweep``: two sweeps of the quickstart through ``sim.sweep`` (what ``poolsim sweep`` runs):
   32 tiny points (tens of milliseconds) and 16 points of >= 1 s, each serially, on 2 local
   workers (``-j 2``) and with the automatic choice (no ``-j``), workers started cold, in
   ``SWEEP_ROUNDS`` rounds; the speed-ups are medians of the rounds' ratios.
4. ``startup``: ``poolsim --help`` and ``poolsim validate scenarios/quickstart.yaml`` against
   ``python -c "import typer"``, each in a fresh interpreter, interleaved round by round in one
   run; the medians' ratios are the start-up goals (at most 1.5x and 3x).
5. ``memory`` (on request): the peak RSS of enterprise-100k's tenant scaled to 1,000,000
   objects, run in a fresh interpreter.

``GOALS`` lists every figure with its goal and its threshold flag; ``gate`` checks
thresholds given on the command line.

CPU time (``time.process_time``) is the figure to compare on a shared machine; wall time is
reported beside it with the load average.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.bench.reference import erlang_c_sojourn, mmc_simpy
from sim.defaults import MB
from sim.experiment.executors import AutoExecutor, Executor, ProcessExecutor, stop_forkserver
from sim.experiment.run import simulate
from sim.experiment.sweep import sweep as run_sweep
from sim.provenance import __version__
from sim.scenario import load_scenario, load_scenario_text
from sim.scenario.schema import with_units

MM8_SERVERS = 8
MM8_LOAD = 0.9
MM8_TASKS = 200_000
MM8_TASKS_QUICK = 20_000

SCENARIO_QUICK_SET = ("tenants.contoso.users=20000",)
"""``--quick`` runs enterprise-100k on a fifth of its users (its tenant is named contoso)."""

SWEEP_POINTS = 32
LONG_POINTS = 16
SWEEP_WORKERS = 2
SWEEP_BASE = ("simulation.days=1", "simulation.initial_state=protected")
SWEEP_USERS = 500
SWEEP_USERS_QUICK = 100
LONG_USERS = 45_000
"""Points of at least 1 s: about 1.4 s a point on a 2-core Intel Xeon after the hot-path work
(30,000 users gave 1.3 s before it and 0.93 s after)."""
LONG_USERS_QUICK = 6_000
SWEEP_THREADS = (16, 32, 48, 64)
SWEEP_POLICIES = (
    "pull_fifo",
    "pull_largest_first",
    "round_robin",
    "least_active_threads",
    "jsq",
    "power_of_d",
    "least_work_left",
    "random",
)


@dataclass
class Timing:
    """CPU and wall seconds of a block."""

    cpu_s: float = 0.0
    wall_s: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the CPU (this process) and wall time of a ``with`` block."""
    out = Timing()
    c0, w0 = time.process_time(), time.perf_counter()
    try:
        yield out
    finally:
        out.cpu_s = time.process_time() - c0
        out.wall_s = time.perf_counter() - w0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def mm8_scenario_text(tasks: int) -> str:
    """YAML of the synthetic M/M/8: one pull_fifo pool of two 4-thread proxies, exponential
    1 MB tasks at 1 MB/s per thread (mu = 1/s), Poisson arrivals at 0.9 x 8 per second."""
    doc: dict[str, Any] = {
        "name": "bench-mm8",
        "proxies": [{"name": "p0", "threads": 4}, {"name": "p1", "threads": 4}],
        "pools": [{"name": "pool", "members": ["p0", "p1"], "policy": "pull_fifo"}],
        "synthetic": {
            "arrivals": {"process": "poisson", "rate": MM8_LOAD * MM8_SERVERS},
            "sizes": {"distribution": "exponential", "mean": MB},
            "tasks": tasks,
            "warmup_tasks": 0,
            "service": "threads",
            "thread_rate": MB,
            "target": "pool",
        },
    }
    return yaml.safe_dump(with_units(doc), sort_keys=False)


def bench_synthetic(tasks: int, seed: int = 1) -> dict[str, float]:
    """poolsim vs the idiomatic SimPy model on the same M/M/8 queue, tasks per CPU second."""
    loaded = load_scenario_text(mm8_scenario_text(tasks))
    with timed() as ours:
        result = simulate(loaded, seed=seed)
    with timed() as ref:
        reference = mmc_simpy(tasks, MM8_SERVERS, MM8_LOAD * MM8_SERVERS, 1.0, seed)
    ours_rate = tasks / ours.cpu_s
    ref_rate = tasks / ref.cpu_s
    return {
        "tasks": float(tasks),
        "poolsim_cpu_s": ours.cpu_s,
        "poolsim_wall_s": ours.wall_s,
        "poolsim_tasks_per_cpu_s": ours_rate,
        "reference_cpu_s": ref.cpu_s,
        "reference_wall_s": ref.wall_s,
        "reference_tasks_per_cpu_s": ref_rate,
        "speedup": ours_rate / ref_rate,
        "poolsim_mean_sojourn_s": float(result.tasks["sojourn_s"].mean()),
        "reference_mean_sojourn_s": reference.mean_sojourn,
        "erlang_c_mean_sojourn_s": erlang_c_sojourn(MM8_SERVERS, MM8_LOAD * MM8_SERVERS, 1.0),
    }


def bench_scenario(path: Path, overrides: Sequence[str] = ()) -> dict[str, float]:
    """Wall and CPU time of one run of a scenario file, and the process's peak RSS after it."""
    loaded = load_scenario(path, list(overrides))
    with timed() as t:
        result = simulate(loaded)
    return {
        "tasks": float(len(result.tasks)),
        "cpu_s": t.cpu_s,
        "wall_s": t.wall_s,
        "peak_rss_mb": peak_rss_mb(),
        "rate_recomputes": result.stats.get("rate_recomputes", 0.0),
        "one_resource_solves": result.stats.get("one_resource_solves", 0.0),
        "throughput_gb_per_h": result.metric("throughput"),
    }


def sweep_grid(quick: bool = False, long: bool = False) -> tuple[list[str], list[str]]:
    """``(--set overrides, --grid items)`` of a benchmark sweep of the quickstart's nightly
    incremental. Tiny: 32 points (4 thread counts x 8 policies) on a ``SWEEP_USERS`` tenant,
    tens of milliseconds each. Long: 16 points (4 x 4) on a ``LONG_USERS`` tenant, >= 1 s each
    at full size."""
    if long:
        users = LONG_USERS_QUICK if quick else LONG_USERS
        policies = SWEEP_POLICIES[: LONG_POINTS // len(SWEEP_THREADS)]
    else:
        users = SWEEP_USERS_QUICK if quick else SWEEP_USERS
        policies = SWEEP_POLICIES
    sets = [*SWEEP_BASE, f"tenants.contoso.users={users}"]
    grid = [
        f"proxies.proxy-01.threads={','.join(map(str, SWEEP_THREADS))}",
        f"pools.pool-a.policy={','.join(policies)}",
    ]
    return sets, grid


def _timed_sweep(
    scenario: Path,
    sets: list[str],
    grid: list[str],
    make: Callable[[], Executor],
    folder: Path,
) -> tuple[float, pd.DataFrame, dict[str, Any]]:
    """Wall seconds of one ``sim.sweep`` (one replication per point), executor made and
    closed inside the timing; its table and the executor's description."""
    w0 = time.perf_counter()
    with make() as executor:
        res = run_sweep(scenario, grid, 1, overrides=sets, executor=executor, folder=folder)
    wall = time.perf_counter() - w0
    table = res.table.drop(columns=["point_id"])
    how = executor.describe()
    if isinstance(executor, ProcessExecutor):
        how["parent_runs"] = executor.helped
    return wall, table, how


SWEEP_ROUNDS = 3
"""Rounds of the sweep part: each round times the serial sweep, ``-j`` and the automatic choice
of the same grid one after the other, and the figures are the medians of the rounds' ratios."""


def pair_ratios(base: Sequence[float], other: Sequence[float]) -> list[float]:
    """``base[r] / other[r]`` of every round ``r``: each ratio compares two timings taken side
    by side, so a slow spell of a shared machine slows both and cancels out."""
    if len(base) != len(other) or not base:
        raise ValueError("pair_ratios needs as many timings on each side, at least one")
    return [b / o for b, o in zip(base, other, strict=True)]


def round_order(names: Sequence[str], r: int, last: str | None = None) -> list[str]:
    """The order of the timings in round ``r``: as given in even rounds, reversed in odd ones,
    so that neither side is always timed first (on a warming or cooling machine). ``last``,
    if named, goes last in every round: the timing after it pays for its aftermath (workers
    exiting, their memory given back), so it follows the previous round's, and the others
    take turns right after it."""
    rest = [n for n in names if n != last]
    order = list(rest) if r % 2 == 0 else list(reversed(rest))
    return [*order, last] if last is not None else order


def bench_sweep(
    scenario: Path,
    workers: int = SWEEP_WORKERS,
    quick: bool = False,
    rounds: int = SWEEP_ROUNDS,
) -> dict[str, Any]:
    """Two sweeps of the quickstart through ``sim.sweep`` (the path ``poolsim sweep`` takes,
    writing its folder), each serially (``-j 1``), with ``workers`` local workers (``-j N``)
    and with the automatic choice (no ``-j``), ``rounds`` times in turn. Every parallel
    measurement starts its workers cold (the forkserver is stopped first), as a fresh command
    does. The tables must be identical.

    The speed-ups (``speedup``, ``auto_speedup``) are the medians over the rounds of each
    round's ratio (``pair_ratios``): on a shared machine two timings of the same sweep an
    hour apart differ by more than the workers gain, the timings of one round much less. The
    rounds' ratios and walls are kept (``speedups``, ``auto_speedups``, ``walls``), and the
    points the calling process ran itself in each ``-j`` sweep (``parallel_parent_runs``)."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="poolsim-bench-") as tmp:
        # warm-up, not timed: this process's first sweep pays lazy imports (pyarrow, policies)
        sets, grid = sweep_grid(quick)
        _timed_sweep(scenario, sets, grid[:1], Executor, Path(tmp) / "warm-up")
        for label, long in (("", False), ("long_", True)):
            sets, grid = sweep_grid(quick, long)
            makers: dict[str, Callable[[], Executor]] = {
                "serial": Executor,
                "parallel": lambda: ProcessExecutor(workers),
                "auto": lambda: AutoExecutor(workers),
            }
            walls: dict[str, list[float]] = {name: [] for name in makers}
            choices: list[str] = []
            parent_runs: list[float] = []
            serial_table: pd.DataFrame | None = None
            for r in range(rounds):
                tables: dict[str, pd.DataFrame] = {}
                for name in round_order(list(makers), r, last="parallel"):
                    stop_forkserver()
                    wall, tables[name], how = _timed_sweep(
                        scenario, sets, grid, makers[name], Path(tmp) / f"{label}{name}-{r}"
                    )
                    walls[name].append(wall)
                    if name == "parallel":
                        parent_runs.append(float(how.get("parent_runs", 0)))
                    if name == "auto":
                        choices.append(str(how.get("mode", "")))
                if serial_table is None:
                    serial_table = tables["serial"]
                for name in makers:
                    if not tables[name].equals(serial_table):
                        raise RuntimeError(
                            f"the {name} sweep gave other numbers than the serial one"
                        )
            assert serial_table is not None
            n = len(serial_table)
            speedups = pair_ratios(walls["serial"], walls["parallel"])
            auto_speedups = pair_ratios(walls["serial"], walls["auto"])
            out[f"{label}points"] = float(n)
            out[f"{label}rounds"] = float(rounds)
            out[f"{label}point_s"] = statistics.median(walls["serial"]) / n
            out[f"{label}serial_wall_s"] = statistics.median(walls["serial"])
            out[f"{label}parallel_wall_s"] = statistics.median(walls["parallel"])
            out[f"{label}speedup"] = statistics.median(speedups)
            out[f"{label}speedups"] = speedups
            out[f"{label}auto_wall_s"] = statistics.median(walls["auto"])
            out[f"{label}auto_speedup"] = statistics.median(auto_speedups)
            out[f"{label}auto_speedups"] = auto_speedups
            out[f"{label}walls"] = walls
            # points the calling process ran itself in each -j sweep, while its workers started
            out[f"{label}parallel_parent_runs"] = parent_runs
            # the choice most rounds made (the first of them on a tie); every round's is kept
            out[f"{label}auto_choice"] = max(choices, key=choices.count)
            out[f"{label}auto_choices"] = choices
    out["workers"] = float(workers)
    return out


MEMORY_OBJECTS = 1_000_000
MEMORY_OBJECTS_QUICK = 200_000
OBJECTS_PER_USER = 2.61
"""enterprise-100k's objects per user: 2.59 by sizing guidance plus its 0.02 teams
(vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing); ``memory_users`` scales its
tenant to a number of objects."""


def memory_users(objects: int) -> int:
    """Users of enterprise-100k's tenant that give about ``objects`` objects."""
    return round(objects / OBJECTS_PER_USER)


_MEMORY_CHILD = """
import json, resource, sys, time
from sim.experiment.run import simulate
from sim.scenario import load_scenario
loaded = load_scenario(sys.argv[1], sys.argv[2:])
c0, w0 = time.process_time(), time.perf_counter()
result = simulate(loaded)
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
tasks = result.tasks
print(json.dumps({
    "tasks": len(tasks),
    "cpu_s": cpu,
    "wall_s": wall,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "tasks_table_mb": float(tasks.memory_usage(deep=True).sum()) / 2**20,
    "tasks_columns": len(tasks.columns),
    "object_columns": int(sum(str(t) == "object" for t in tasks.dtypes)),
}))
"""


def bench_memory(scenario: Path, objects: int) -> dict[str, float]:
    """Peak RSS of one run of ``scenario`` (enterprise-100k) with its tenant scaled to
    ``objects`` objects, in a fresh interpreter so the peak is that run's alone; and the size
    of its task table, which is columnar (one numpy or categorical column per field, no
    per-task Python objects: ``object_columns`` counts columns of Python objects)."""
    users = memory_users(objects)
    cmd = [sys.executable, "-c", _MEMORY_CHILD, str(scenario), f"tenants.contoso.users={users}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the memory run failed: {done.stderr.strip()[-2000:]}")
    doc: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"objects_target": float(objects), "users": float(users), **doc}


STARTUP_ROUNDS = 9
STARTUP_ROUNDS_QUICK = 5
STARTUP_GOALS = {"help": 1.5, "validate": 3.0}
"""Start-up goals: `poolsim --help` at most 1.5x, `poolsim validate` at most 3x `import typer`."""


def _cli(*args: str) -> list[str]:
    """The command line of ``poolsim ARGS`` in a fresh interpreter (what the console script
    runs: ``sim.cli:console_main``)."""
    code = (
        f"import sys\nfrom sim.cli import console_main\nsys.argv = {['poolsim', *args]!r}\n"
        "console_main()"
    )
    return [sys.executable, "-c", code]


_TYPER_APP = """\
from pathlib import Path
from typing import Annotated, Optional
import typer
app = typer.Typer()
@app.command()
def validate(
    file: Path,
    set_: Annotated[Optional[list[str]], typer.Option("--set", "-s")] = None,
    strict: bool = False,
    force: bool = False,
) -> None:
    print(file)
@app.command()
def run() -> None:
    pass
app()
"""
"""A minimal typer app whose one command takes ``validate``'s kinds of parameters: what typer
itself costs to parse a command line (typer coerces every parameter through a pydantic
``TypeAdapter``, so this loads pydantic too). ``validate``'s figure over this one is
poolsim's own work."""


def _child_cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def bench_startup(
    validate_scenario: Path = Path("scenarios/quickstart.yaml"), rounds: int = STARTUP_ROUNDS
) -> dict[str, float]:
    """CPU and wall seconds (medians over ``rounds``) of ``import typer``, a minimal typer app
    (``_TYPER_APP``), ``poolsim --help`` and ``poolsim validate``, run in turn in each round
    so that they see the same machine, and the ratios of the CPU medians to ``import typer``.
    CPU time (user + system of the child) is the figure of the goals: on a shared machine wall
    time carries the others' load."""
    # poolsim's own bytecode first, as installing a wheel does: with PYTHONDONTWRITEBYTECODE set
    # (CI, containers) every run would otherwise compile the package's sources again
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent, quiet=2)
    commands = {
        "typer": [sys.executable, "-c", "import typer"],
        "typer_app": [sys.executable, "-c", _TYPER_APP, "validate", str(validate_scenario)],
        "help": _cli("--help"),
        "validate": _cli("validate", str(validate_scenario)),
    }
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    wall: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(rounds):
        for key, command in commands.items():
            c0, w0 = _child_cpu_s(), time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
            wall[key].append(time.perf_counter() - w0)
            cpu[key].append(_child_cpu_s() - c0)
    out: dict[str, float] = {"rounds": float(rounds)}
    for key in commands:
        out[f"{key}_cpu_s"] = statistics.median(cpu[key])
        out[f"{key}_wall_s"] = statistics.median(wall[key])
    for key in STARTUP_GOALS:
        out[f"{key}_ratio"] = out[f"{key}_cpu_s"] / out["typer_cpu_s"]
        out[f"{key}_wall_ratio"] = out[f"{key}_wall_s"] / out["typer_wall_s"]
    out["typer_app_ratio"] = out["typer_app_cpu_s"] / out["typer_cpu_s"]
    out["validate_app_ratio"] = out["validate_cpu_s"] / out["typer_app_cpu_s"]
    return out


@dataclass
class SpeedReport:
    """Every figure of one ``bench speed`` run, and where it ran."""

    quick: bool
    synthetic: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    scenario_file: str = ""
    scenario_set: list[str] = field(default_factory=list)
    sweep: dict[str, Any] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    full_size: bool = True
    """The default sizes and scenario: the goals are judged only then."""

    def figures(self) -> dict[str, dict[str, Any]]:
        """The measured parts by their JSON name."""
        return {
            "synthetic_mm8": self.synthetic,
            "scenario": self.scenario,
            "sweep": self.sweep,
            "startup": self.startup,
            "memory": self.memory,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "synthetic_mm8": self.synthetic,
            "scenario": {"file": self.scenario_file, "set": self.scenario_set, **self.scenario},
            "sweep": self.sweep,
            "startup": self.startup,
            "memory": self.memory,
            "machine": self.machine,
            "goals": [g.as_dict() for g in judge(self)],
        }


@dataclass(frozen=True)
class Goal:
    """A figure with its goal and its command-line threshold flag."""

    flag: str
    part: str
    key: str
    label: str
    op: str
    goal: float | None
    """The issue's goal (None: reported, no goal)."""
    unit: str = "x"

    def value(self, report: SpeedReport) -> float | None:
        """The figure in this report (None when its part did not run)."""
        section = self.key.split(".", 1)
        doc = report.figures()[section[0]]
        v = doc.get(section[1])
        return float(v) if isinstance(v, int | float) else None

    def holds(self, value: float, limit: float) -> bool:
        """``value`` meets ``limit`` (at least for ``>=``, at most for ``<=``)."""
        return value >= limit if self.op == ">=" else value <= limit


GOALS: tuple[Goal, ...] = (
    Goal("min-ratio", "synthetic", "synthetic_mm8.speedup", "M/M/8 poolsim / SimPy", ">=", 3.0),
    Goal(
        "min-scenario-ratio",
        "scenario",
        "scenario.rate_ratio",
        "enterprise-100k task rate / SimPy M/M/8 rate",
        ">=",
        0.7,
    ),
    Goal(
        "max-rss-mb",
        "scenario",
        "scenario.peak_rss_mb",
        "enterprise-100k peak RSS",
        "<=",
        1024.0,
        "MB",
    ),
    Goal(
        "min-tiny-sweep-ratio",
        "sweep",
        "sweep.auto_speedup",
        "tiny sweep: default (no -j) / serial",
        ">=",
        0.95,
    ),
    Goal(
        "min-sweep-speedup",
        "sweep",
        "sweep.long_speedup",
        "16 points >= 1 s: -j 2 / serial",
        ">=",
        1.8,
    ),
    Goal(
        "max-help-ratio",
        "startup",
        "startup.help_ratio",
        "poolsim --help / import typer",
        "<=",
        STARTUP_GOALS["help"],
    ),
    Goal(
        "max-validate-ratio",
        "startup",
        "startup.validate_ratio",
        "poolsim validate / import typer",
        "<=",
        STARTUP_GOALS["validate"],
    ),
    Goal(
        "max-memory-rss-mb",
        "memory",
        "memory.peak_rss_mb",
        "1,000,000-object tenant peak RSS",
        "<=",
        None,
        "MB",
    ),
)
"""Every gated figure. The tiny sweep's goal, "never slower than serial", allows 5 % of timing
noise (two timings of the same serial work on a shared machine differ by that much)."""


@dataclass(frozen=True)
class Verdict:
    """One goal judged on one report."""

    goal: Goal
    value: float | None
    met: bool | None
    """None: not measured, no goal, or not at full size."""

    def as_dict(self) -> dict[str, Any]:
        g = self.goal
        return {
            "key": g.key,
            "label": g.label,
            "value": self.value,
            "goal": None if g.goal is None else f"{g.op} {g.goal:g}",
            "met": self.met,
        }


def judge(report: SpeedReport) -> list[Verdict]:
    """Every goal against this report's figures (goals hold for the full sizes only)."""
    out = []
    for g in GOALS:
        v = g.value(report)
        met = None
        if v is not None and g.goal is not None and report.full_size and not report.quick:
            met = g.holds(v, g.goal)
        out.append(Verdict(g, v, met))
    return out


def gate(report: SpeedReport, thresholds: dict[str, float]) -> list[str]:
    """The thresholds (flag name -> limit) this report misses, one line each."""
    missed = []
    for g in GOALS:
        if g.flag not in thresholds:
            continue
        limit = thresholds[g.flag]
        v = g.value(report)
        if v is None:
            missed.append(f"--{g.flag}: {g.label} was not measured")
        elif not g.holds(v, limit):
            missed.append(f"--{g.flag} {limit:g}: {g.label} is {v:,.3g} {g.unit}")
    return missed


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, Any]:
    """Where the figures were measured: CPU model and count, load average, Python, poolsim."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "poolsim": __version__,
    }


SPEED_ROUNDS = 3
"""Rounds of the scenario and the M/M/8 pair when both run: each round times the scenario,
then poolsim's M/M/8 and the SimPy reference, and each ratio is the median of the rounds'
ratios (this shared machine's speed drifts by 20 % within a minute; one round's timings sit
seconds apart)."""


def median_round(rounds: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    """The figures of the round whose ``key`` is the median (the lower middle of an even
    count), with every round's ``key`` beside them (``<key>s``) and ``rounds``."""
    order = sorted(range(len(rounds)), key=lambda i: rounds[i][key])
    out = dict(rounds[order[(len(order) - 1) // 2]])
    out[f"{key}s"] = [r[key] for r in rounds]
    out["rounds"] = float(len(rounds))
    return out


def scenario_rounds(
    scenarios: Sequence[dict[str, Any]], synthetics: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The scenario's figures: with the M/M/8 pair beside it, each round's task rate over that
    round's SimPy reference rate, and the round of the median ratio; the peak RSS is the
    first round's (the process's own peak before anything else ran)."""
    peak = scenarios[0]["peak_rss_mb"]
    rounds = [dict(sc) for sc in scenarios]
    for sc in rounds:
        sc["tasks_per_cpu_s"] = sc["tasks"] / sc["cpu_s"]
    if len(synthetics) == len(rounds):
        for sc, syn in zip(rounds, synthetics, strict=True):
            ref = syn["reference_tasks_per_cpu_s"]
            sc["rate_ratio"] = sc["tasks_per_cpu_s"] / ref
            sc["wall_rate_ratio"] = sc["tasks"] / sc["wall_s"] / ref
        out = median_round(rounds, "rate_ratio")
        out["cpu_s_rounds"] = [sc["cpu_s"] for sc in rounds]
    else:
        out = dict(rounds[0])
    out["peak_rss_mb"] = peak
    return out


PARTS = ("scenario", "synthetic", "sweep", "startup", "memory")
DEFAULT_PARTS = ("scenario", "synthetic", "sweep", "startup")
"""``memory`` (a 1,000,000-object run, about 20 s and 2 GB) runs when asked for."""


def run_speed(
    scenario: Path,
    sweep_scenario: Path,
    quick: bool = False,
    parts: Sequence[str] = DEFAULT_PARTS,
    progress: Callable[[str], None] = lambda _msg: None,
    scenario_set: Sequence[str] = (),
    full_size: bool = True,
) -> SpeedReport:
    """Run the chosen parts (the scenario first, so the peak memory is its own);
    ``scenario_set`` are ``--set`` overrides of the scenario part."""
    report = SpeedReport(quick=quick, scenario_file=str(scenario), full_size=full_size)
    report.scenario_set = list(scenario_set)
    report.machine = machine_info()  # the load average before the run, and again after
    scenarios: list[dict[str, Any]] = []
    synthetics: list[dict[str, Any]] = []
    n = MM8_TASKS_QUICK if quick else MM8_TASKS
    for r in range(SPEED_ROUNDS if {"scenario", "synthetic"} <= set(parts) else 1):
        if "scenario" in parts:
            progress(f"scenario {scenario} (round {r + 1})")
            scenarios.append(bench_scenario(scenario, scenario_set))
        if "synthetic" in parts:
            progress(f"synthetic M/M/8, {n:,} tasks, and the SimPy reference (round {r + 1})")
            synthetics.append(bench_synthetic(n))
    if synthetics:
        report.synthetic = median_round(synthetics, "speedup")
    if scenarios:
        report.scenario = scenario_rounds(scenarios, synthetics)
    if "sweep" in parts:
        progress(
            f"sweeps: {SWEEP_POINTS} and {LONG_POINTS} points, serial, -j, automatic, "
            f"{SWEEP_ROUNDS} rounds"
        )
        report.sweep = bench_sweep(sweep_scenario, quick=quick)
    if "startup" in parts:
        rounds = STARTUP_ROUNDS_QUICK if quick else STARTUP_ROUNDS
        progress(f"startup: --help and validate vs import typer, {rounds} rounds")
        report.startup = bench_startup(sweep_scenario, rounds=rounds)
    if "memory" in parts:
        objects = MEMORY_OBJECTS_QUICK if quick else MEMORY_OBJECTS
        progress(f"memory: {scenario.name} scaled to {objects:,} objects")
        report.memory = bench_memory(scenario, objects)
    before = report.machine["load_average"]
    report.machine = machine_info()
    report.machine["load_average_before"] = before
    return report
