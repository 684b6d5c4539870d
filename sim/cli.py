"""The ``poolsim`` command line: run, validate, schema, policies, bench.

Bad input exits with status 2 and a message naming file, line, field and what is allowed; it
never prints a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sim.policies.registry import PolicyError
from sim.scenario import LoadedScenario, ScenarioError, load_scenario
from sim.units import format_bytes, format_duration

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate Veeam Backup for Microsoft 365 proxy pools.",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a scenario key: dotted.key=value (list items by index or name), "
        "e.g. --set proxies.proxy-01.threads=32. Repeatable.",
    ),
]
FileArg = Annotated[Path, typer.Argument(help="Scenario file (YAML).", show_default=False)]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(2)


def _load(path: Path, overrides: list[str] | None) -> LoadedScenario:
    try:
        return load_scenario(path, overrides or [])
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def validate(file: FileArg, set_: SetOpt = None) -> None:
    """Check a scenario file and its VB365 rules; print what it describes."""
    loaded = _load(file, set_)  # loading also builds every pool's policy with its params
    sc = loaded.spec
    out.print(
        f"[green]ok[/] {file}: {len(sc.tenants)} tenant(s), {len(sc.proxies)} proxies, "
        f"{len(sc.pools)} pool(s), {len(sc.repositories)} repositories, {len(sc.jobs)} job(s), "
        f"{sc.simulation.days} day(s); sha256 {loaded.digest[:12]}",
        soft_wrap=True,
    )


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The scenario reference in Markdown.")
    ] = False,
) -> None:
    """Print the scenario JSON Schema (or the Markdown reference generated from it)."""
    from sim.scenario.reference import json_schema, markdown_reference

    text = markdown_reference() if markdown else json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from sim.report.results import atomic_write_text

        try:
            atomic_write_text(output, text)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename and str(exc.filename) != str(output) else ""
            raise _fail(f"cannot write {output}: {where}{exc.strerror or exc}") from None
        out.print(f"wrote {output}")


@app.command()
def policies() -> None:
    """List the available distribution policies."""
    from sim.policies.registry import available

    table = Table(title="Distribution policies")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("definition")
    try:
        items = available()
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    for name, cls in items.items():
        table.add_row(name, cls.kind, cls.summary)
    out.print(table)


@app.command()
def run(
    file: FileArg,
    set_: SetOpt = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed, >= 0 (default: the scenario's).")
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Use this policy in every pool.")] = None,
    results: Annotated[Path, typer.Option(help="Results root folder.")] = Path("results"),
    plots: Annotated[bool, typer.Option(help="Write PNG plots.")] = True,
) -> None:
    """Run a scenario once; print a summary and write the results folder."""
    from sim.experiment.run import simulate
    from sim.report.results import write_results

    loaded = _load(file, set_)
    try:
        with err.status(f"simulating {loaded.spec.name} ..."):
            result = simulate(loaded, seed=seed, policy=policy)
    except (PolicyError, ScenarioError) as exc:
        raise _fail(f"{file}: {exc}") from None
    try:
        folder = write_results(result, results, command=sys.argv, plots=plots)
    except OSError as exc:
        where = exc.filename or results
        raise _fail(
            f"cannot write results under {results}: {where}: {exc.strerror or exc}"
        ) from None
    print_summary(result)
    out.print(f"results: [bold]{folder}[/]")


def print_summary(result: object) -> None:
    """The Rich summary table of one run."""
    from sim.experiment.run import RunResult

    assert isinstance(result, RunResult)
    sc = result.scenario.spec
    s = result.summary
    overall = {r.metric: r.value for r in s[s["scope"] == "overall"].itertuples()}
    t = Table(title=f"{sc.name} (seed {result.seed}, {result.wall_s:.1f} s wall)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("objects processed", f"{overall.get('objects_done', 0):,.0f} / {overall['objects']:,.0f}"),
        ("data read", format_bytes(overall["bytes_read"] * 1e9)),
        ("data written", format_bytes(overall["bytes_written"] * 1e9)),
        ("throughput", f"{overall['throughput']:,.1f} GB/h"),
        ("object rate", f"{overall['object_rate']:,.0f} objects/h"),
        ("window compliance", f"{overall.get('window_compliance', float('nan')):.0%}"),
        ("longest session", format_duration(overall.get("makespan_max", 0.0) * 3600)),
        (
            "wait p50 / p95",
            f"{format_duration(overall.get('wait_p50', 0.0))} / "
            f"{format_duration(overall.get('wait_p95', 0.0))}",
        ),
        ("Jain fairness (all proxies)", f"{overall.get('jain_fairness', float('nan')):.4f}"),
        ("throttled share of transfer time", f"{overall.get('throttled_fraction', 0.0):.1%}"),
        (
            "bottleneck source / proxy / target",
            f"{overall.get('bottleneck_source', 0):.0%} / {overall.get('bottleneck_proxy', 0):.0%}"
            f" / {overall.get('bottleneck_target', 0):.0%}",
        ),
    ]
    for k, v in rows:
        t.add_row(k, v)
    out.print(t)
    st = Table(title="Sessions")
    for col in ("job", "day", "objects", "read", "makespan", "window"):
        st.add_column(col, justify="right" if col != "job" else "left")
    for r in result.sessions.itertuples():
        if r.skipped:
            verdict = "[yellow]skipped[/] (previous run still going)"
        elif r.within_window:
            verdict = "[green]met[/]"
        else:
            verdict = "[red]missed[/]" + (" (stopped)" if r.terminated else "")
        st.add_row(
            str(r.job),
            str(r.day + 1),
            f"{r.objects_done:,}/{r.objects:,}" if not r.skipped else "-",
            format_bytes(r.bytes_read) if not r.skipped else "-",
            format_duration(r.makespan_s) if r.makespan_s == r.makespan_s else "-",
            verdict,
        )
    out.print(st)
    if result.truncated:
        out.print("[yellow]warning: the run hit its safety horizon; some sessions are unfinished")


# -- benchmarks ------------------------------------------------------------------------------
bench_app = typer.Typer(
    no_args_is_help=True,
    help="Regression benchmarks against committed baselines, and speed benchmarks.",
)
app.add_typer(bench_app, name="bench")

SetFileArg = Annotated[
    Path,
    typer.Argument(help="Bench-set file (YAML).", show_default=True),
]
OnlyOpt = Annotated[
    list[str] | None,
    typer.Option("--scenario", help="Only this scenario of the set (repeatable)."),
]
BaselinesOpt = Annotated[
    Path | None,
    typer.Option(
        help="Baseline root folder (default: the set's 'baselines', else results/baselines)."
    ),
]
DEFAULT_SET = Path("benchmarks/regression.yaml")


def _load_set(path: Path, baselines: Path | None) -> object:
    from sim.bench.regression import BenchError, load_set

    try:
        return load_set(path, baselines)
    except BenchError as exc:
        raise _fail(str(exc)) from None


@bench_app.command("check")
def bench_check(
    bench_set: SetFileArg = DEFAULT_SET,
    scenario: OnlyOpt = None,
    baselines: BaselinesOpt = None,
) -> None:
    """Run a bench set and compare its metrics with the baselines; exit 1 on a regression."""
    from sim.bench.regression import (
        BenchError,
        LoadedSet,
        compare,
        read_baseline,
        run_scenario,
    )

    bench = _load_set(bench_set, baselines)
    assert isinstance(bench, LoadedSet)
    refresh = f"poolsim bench update {bench_set}"
    try:
        chosen = bench.select(scenario or [])
        # every baseline must exist before anything runs
        base = {sc.name: read_baseline(bench, sc, refresh) for sc in chosen}
        results = []
        for sc in chosen:
            with err.status(f"bench {bench.spec.name}: {sc.name} ..."):
                run, metrics = run_scenario(bench, sc)
            res = compare(bench, sc, base[sc.name], metrics)
            res.wall_s = run.wall_s
            results.append(res)
    except BenchError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"bench check: {bench.spec.name} ({bench_set})")
    for col in ("scenario", "metric", "baseline", "new", "change", "tolerance", ""):
        table.add_column(col, justify="right" if col in ("baseline", "new", "change") else "left")
    for res in results:
        for c in res.checks:
            change = f"{c.change * 100:+.3g} %" if c.change == c.change else "-"
            verdict = "[green]ok[/]" if c.ok else "[bold red]FAIL[/]"
            table.add_row(
                c.scenario,
                c.metric,
                f"{c.old:.6g}",
                f"{c.new:.6g}",
                change,
                c.tolerance.describe(),
                verdict,
            )
        for m in res.missing:
            table.add_row(res.scenario, m, "-", "-", "-", "-", "[bold red]no baseline[/]")
    out.print(table)
    failed = [c for r in results for c in r.checks if not c.ok]
    missing = [(r.scenario, m) for r in results for m in r.missing]
    if failed or missing:
        for c in failed:
            err.print(f"[bold red]FAIL[/] {c.message()}", highlight=False, soft_wrap=True)
        for name, m in missing:
            err.print(
                f"[bold red]FAIL[/] {name}: metric {m} is not in the baseline",
                highlight=False,
                soft_wrap=True,
            )
        err.print(
            f"{len(failed) + len(missing)} check(s) failed. If the change is intended, "
            f"refresh the baselines with `{refresh}` and commit them.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    n = sum(len(r.checks) for r in results)
    out.print(f"[green]ok[/] {n} metric(s) of {len(results)} scenario(s) within tolerance")


@bench_app.command("update")
def bench_update(
    bench_set: SetFileArg = DEFAULT_SET,
    scenario: OnlyOpt = None,
    baselines: BaselinesOpt = None,
) -> None:
    """Run a bench set and write its baselines (after an intended model change)."""
    from sim.bench.regression import BenchError, LoadedSet, run_scenario, write_baseline

    bench = _load_set(bench_set, baselines)
    assert isinstance(bench, LoadedSet)
    table = Table(title=f"bench update: {bench.spec.name} ({bench_set})")
    for col in ("scenario", "metric", "value"):
        table.add_column(col, justify="right" if col == "value" else "left")
    written = []
    try:
        for sc in bench.select(scenario or []):
            with err.status(f"bench {bench.spec.name}: {sc.name} ..."):
                _run, metrics = run_scenario(bench, sc)
            try:
                written.append(write_baseline(bench, sc, metrics))
            except OSError as exc:
                raise _fail(
                    f"cannot write baseline {bench.baseline_path(sc)}: {exc.strerror or exc}"
                ) from None
            for k, v in metrics.items():
                table.add_row(sc.name, k, f"{v:.6g}")
    except BenchError as exc:
        raise _fail(str(exc)) from None
    out.print(table)
    for path in written:
        out.print(f"wrote {path}")


@bench_app.command("speed")
def bench_speed(
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller sizes (20,000 synthetic tasks, ...).")
    ] = False,
    scenario: Annotated[
        Path, typer.Option(help="The large scenario timed for wall time and peak memory.")
    ] = Path("scenarios/enterprise-100k.yaml"),
    set_: SetOpt = None,
    sweep_scenario: Annotated[
        Path, typer.Option(help="The scenario the 32-point sweep varies.")
    ] = Path("scenarios/quickstart.yaml"),
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this part: scenario, synthetic, sweep (repeatable)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
) -> None:
    """Measure speed: M/M/8 vs an idiomatic SimPy model, a large scenario, a sweep."""
    from sim.bench.speed import SCENARIO_QUICK_SET, SWEEP_POINTS, SWEEP_WORKERS, run_speed

    parts = list(only or ["scenario", "synthetic", "sweep"])
    bad = [p for p in parts if p not in ("scenario", "synthetic", "sweep")]
    if bad:
        raise _fail(f"--only {bad[0]!r}: expected scenario, synthetic or sweep")
    scenario_set = list(set_ or [])
    if quick and not scenario_set and scenario == Path("scenarios/enterprise-100k.yaml"):
        scenario_set = list(SCENARIO_QUICK_SET)
    for needed, path, sets in (
        ("scenario", scenario, scenario_set),
        ("sweep", sweep_scenario, []),
    ):
        if needed in parts:
            _load(path, sets)  # a bad or missing file exits 2 before anything runs
    with err.status("benchmarking ...") as status:
        report = run_speed(
            scenario,
            sweep_scenario,
            quick=quick,
            parts=parts,
            scenario_set=scenario_set,
            progress=lambda msg: status.update(f"benchmarking: {msg} ..."),
        )
    t = Table(title=f"poolsim bench speed{' --quick' if quick else ''}")
    # the goals of issue 7 are stated for the full sizes only
    full_scenario = not scenario_set and scenario == Path("scenarios/enterprise-100k.yaml")

    def goal(verdict: str, applies: bool) -> str:
        return verdict if applies else "(goal: full size)"

    t.add_column("benchmark")
    t.add_column("figure", justify="right")
    t.add_column("goal")
    syn = report.synthetic
    if syn:
        ok = syn["speedup"] >= 2.0
        t.add_row(
            f"M/M/8 ρ=0.9, {syn['tasks']:,.0f} tasks: poolsim",
            f"{syn['poolsim_tasks_per_cpu_s']:,.0f} tasks/CPU-s",
            "",
        )
        t.add_row(
            "  idiomatic SimPy (Resource, process per customer)",
            f"{syn['reference_tasks_per_cpu_s']:,.0f} tasks/CPU-s",
            "",
        )
        t.add_row(
            "  ratio",
            f"{syn['speedup']:.2f}×",
            goal("[green]≥ 2× met[/]" if ok else "[red]≥ 2× not met[/]", not quick),
        )
        t.add_row(
            "  mean sojourn poolsim / SimPy / Erlang C",
            f"{syn['poolsim_mean_sojourn_s']:.3f} / {syn['reference_mean_sojourn_s']:.3f}"
            f" / {syn['erlang_c_mean_sojourn_s']:.3f} s",
            "",
        )
    sc = report.scenario
    if sc:
        label = scenario.name + (f" ({', '.join(scenario_set)})" if scenario_set else "")
        t.add_row(
            f"{label}: {sc['tasks']:,.0f} tasks, wall",
            f"{sc['wall_s']:,.1f} s (CPU {sc['cpu_s']:,.1f} s)",
            goal(
                "[green]< 15 s met[/]" if sc["wall_s"] < 15 else "[red]< 15 s not met[/]",
                full_scenario,
            ),
        )
        t.add_row(
            "  peak RSS of the process",
            f"{sc['peak_rss_mb']:,.0f} MB",
            goal(
                "[green]< 2 GB met[/]" if sc["peak_rss_mb"] < 2048 else "[red]< 2 GB not met[/]",
                full_scenario,
            ),
        )
    sw = report.sweep
    if sw:
        t.add_row(f"{SWEEP_POINTS}-point sweep: serial", f"{sw['serial_wall_s']:,.1f} s wall", "")
        t.add_row(
            f"  {SWEEP_WORKERS} local workers",
            f"{sw['parallel_wall_s']:,.1f} s wall",
            f"speed-up {sw['speedup']:.2f}×",
        )
    out.print(t)
    load = report.machine.get("load_average") or []
    out.print(
        f"{report.machine['cpus']} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in load) or 'n/a'}; Python {report.machine['python']}"
    )
    if json_out is not None:
        from sim.report.results import atomic_write_text

        try:
            atomic_write_text(json_out, json.dumps(report.as_dict(), indent=2) + "\n")
        except OSError as exc:
            raise _fail(f"cannot write {json_out}: {exc.strerror or exc}") from None
        out.print(f"wrote {json_out}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
