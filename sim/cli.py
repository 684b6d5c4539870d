"""The ``poolsim`` command line: run, validate, schema, policies.

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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
