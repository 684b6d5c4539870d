"""Speed benchmarks (``poolsim bench speed``), measured in one process and one run.

1. ``synthetic``: M/M/8 at load 0.9 through the real pool model (one pool of two 4-thread
   proxies, pull queue, every trace and summary recorded), in tasks per CPU second, next to the
   idiomatic SimPy model of the same queue (``reference.mmc_simpy``) run in the same process.
2. ``scenario``: a large scenario (``scenarios/enterprise-100k.yaml``): wall and CPU time and
   the process's peak resident memory (``getrusage`` ``ru_maxrss``; it runs first so the peak
   is its own).
3. ``sweep``: a 32-point sweep run serially and on a ``ProcessPoolExecutor`` of local workers.
   The sweep command of issue 6 is not on this branch; ``sweep_points`` and ``run_point`` are
   the seam where it will plug in (a point is a set of ``--set`` overrides plus a policy).
4. ``startup``: ``poolsim --help`` and ``poolsim validate scenarios/quickstart.yaml`` against
   ``python -c "import typer"``, each in a fresh interpreter, interleaved round by round in one
   run; the medians' ratios are the goals of issue 16 (at most 1.5x and 3x).

CPU time (``time.process_time``) is the figure to compare on a shared machine; wall time is
reported beside it with the load average.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.bench.reference import erlang_c_sojourn, mmc_simpy
from sim.defaults import MB
from sim.experiment.run import simulate
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
SWEEP_WORKERS = 2
SWEEP_BASE = ("simulation.days=1", "simulation.initial_state=protected")
SWEEP_USERS = 500
SWEEP_USERS_QUICK = 100
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


def sweep_points(quick: bool = False) -> list[tuple[tuple[str, ...], str]]:
    """The 32 points: quickstart's nightly incremental at 4 thread counts x 8 policies, on a
    smaller tenant (``SWEEP_USERS``) so a point takes about a second."""
    users = SWEEP_USERS_QUICK if quick else SWEEP_USERS
    points = []
    for threads in SWEEP_THREADS:
        sets = (
            *SWEEP_BASE,
            f"tenants.contoso.users={users}",
            *(f"proxies[{i}].threads={threads}" for i in range(4)),
        )
        for policy in SWEEP_POLICIES:
            points.append((sets, policy))
    assert len(points) == SWEEP_POINTS
    return points


def run_point(scenario: str, sets: tuple[str, ...], policy: str) -> float:
    """One sweep point: its overall throughput (GB/h). Top level, so workers can pickle it."""
    return simulate(scenario, policy=policy, overrides=sets).metric("throughput")


def bench_sweep(
    scenario: Path, workers: int = SWEEP_WORKERS, quick: bool = False
) -> dict[str, float]:
    """The same 32 points serially, then on ``workers`` local processes; same results."""
    points = sweep_points(quick)
    path = str(scenario)
    with timed() as serial:
        serial_out = [run_point(path, sets, pol) for sets, pol in points]
    with timed() as parallel, ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_point, path, sets, pol) for sets, pol in points]
        parallel_out = [f.result() for f in futures]
    if serial_out != parallel_out:
        raise RuntimeError("the parallel sweep gave other numbers than the serial one")
    return {
        "points": float(len(points)),
        "workers": float(workers),
        "serial_wall_s": serial.wall_s,
        "parallel_wall_s": parallel.wall_s,
        "speedup": serial.wall_s / parallel.wall_s,
    }


STARTUP_ROUNDS = 9
STARTUP_ROUNDS_QUICK = 5
STARTUP_GOALS = {"help": 1.5, "validate": 3.0}
"""Issue 16: `poolsim --help` at most 1.5x, `poolsim validate` at most 3x `import typer`."""


def _cli(*args: str) -> list[str]:
    """The command line of ``poolsim ARGS`` in a fresh interpreter (what the console script
    runs: ``sim.cli:main``)."""
    code = f"import sys\nfrom sim.cli import main\nsys.argv = {['poolsim', *args]!r}\nmain()"
    return [sys.executable, "-c", code]


def _child_cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def bench_startup(
    validate_scenario: Path = Path("scenarios/quickstart.yaml"), rounds: int = STARTUP_ROUNDS
) -> dict[str, float]:
    """CPU and wall seconds (medians over ``rounds``) of ``import typer``, ``poolsim --help``
    and ``poolsim validate``, run in turn in each round so that they see the same machine, and
    the ratios of the CPU medians to ``import typer``. CPU time (user + system of the child) is
    the figure of the goals: on a shared machine wall time carries the others' load."""
    # poolsim's own bytecode first, as installing a wheel does: with PYTHONDONTWRITEBYTECODE set
    # (CI, containers) every run would otherwise compile the package's sources again
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent, quiet=2)
    commands = {
        "typer": [sys.executable, "-c", "import typer"],
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
    return out


@dataclass
class SpeedReport:
    """Every figure of one ``bench speed`` run, and where it ran."""

    quick: bool
    synthetic: dict[str, float] = field(default_factory=dict)
    scenario: dict[str, float] = field(default_factory=dict)
    scenario_file: str = ""
    scenario_set: list[str] = field(default_factory=list)
    sweep: dict[str, float] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "synthetic_mm8": self.synthetic,
            "scenario": {"file": self.scenario_file, "set": self.scenario_set, **self.scenario},
            "sweep": self.sweep,
            "startup": self.startup,
            "machine": self.machine,
        }


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


def run_speed(
    scenario: Path,
    sweep_scenario: Path,
    quick: bool = False,
    parts: Sequence[str] = ("scenario", "synthetic", "sweep", "startup"),
    progress: Callable[[str], None] = lambda _msg: None,
    scenario_set: Sequence[str] = (),
) -> SpeedReport:
    """Run the chosen parts (the scenario first, so the peak memory is its own);
    ``scenario_set`` are ``--set`` overrides of the scenario part."""
    report = SpeedReport(quick=quick, scenario_file=str(scenario))
    report.scenario_set = list(scenario_set)
    if "scenario" in parts:
        progress(f"scenario {scenario}")
        report.scenario = bench_scenario(scenario, scenario_set)
    if "synthetic" in parts:
        n = MM8_TASKS_QUICK if quick else MM8_TASKS
        progress(f"synthetic M/M/8, {n:,} tasks, and the SimPy reference")
        report.synthetic = bench_synthetic(n)
    if "sweep" in parts:
        progress(f"{SWEEP_POINTS}-point sweep, serial then {SWEEP_WORKERS} workers")
        report.sweep = bench_sweep(sweep_scenario, quick=quick)
    if "startup" in parts:
        rounds = STARTUP_ROUNDS_QUICK if quick else STARTUP_ROUNDS
        progress(f"startup: --help and validate vs import typer, {rounds} rounds")
        report.startup = bench_startup(sweep_scenario, rounds=rounds)
    report.machine = machine_info()
    return report
