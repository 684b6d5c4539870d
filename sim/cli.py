"""The ``poolsim`` command line: run, compare, sweep, size, bench, validate, schema, policies.

Bad input exits with status 2 and a message naming file, line, field and what is allowed; it
never prints a traceback. Every command exits with one of the statuses of ``EXIT_STATUSES``.
"""

from __future__ import annotations

import copy
import gc
import json
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from sim.defaults import HORIZON_MARGIN_DAYS
from sim.errors import ScenarioError
from sim.units import format_duration

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from sim.scenario import LoadedScenario

# Everything else is imported inside the command that needs it (rich too), so `poolsim --help`
# loads typer only, and `poolsim validate` loads the scenario layer but not pandas, matplotlib
# or SimPy (tests/test_lazy_imports.py; `poolsim bench speed --only startup` times both).

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_INCOMPLETE, EXIT_PLOTS, EXIT_NO = 0, 1, 2, 3, 4, 5
EXIT_OUT_OF_BAND = EXIT_NO  # == sim.bench.calibration.EXIT_OUT_OF_BAND
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
EXIT_STATUSES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success"),
    (EXIT_BUG, "internal error: a bug in poolsim (please report it with the traceback)"),
    (EXIT_INPUT, "bad input: nothing simulated (the message names file, line, field)"),
    (
        EXIT_INCOMPLETE,
        "results written but incomplete: work unfinished at the simulation horizon "
        f"(simulated days + {HORIZON_MARGIN_DAYS}-day safety margin)",
    ),
    (EXIT_PLOTS, "results written, some plots missing (named on stderr and in manifest.json)"),
    (
        EXIT_NO,
        "ran to the end and the answer is no: `bench check` found a metric outside its "
        "tolerance, `size` found no pool size that meets the target, `bench calibration` a "
        "target out of its published band, `bench speed` a figure that misses its threshold flag",
    ),
    (EXIT_SIGINT, "interrupted by Ctrl-C (one line says what was kept)"),
    (EXIT_SIGTERM, "terminated by SIGTERM (one line says what was kept)"),
)
"""Every command's exit status. When several apply, the first of 1, 3, 5, 4 wins."""

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate Veeam Backup for Microsoft 365 proxy pools.",
    epilog="Exit status: 0 success · 1 internal error (a bug: report it) · 2 bad input (nothing "
    "simulated) · 3 results written but incomplete (work unfinished at the simulation horizon: "
    f"simulated days + {HORIZON_MARGIN_DAYS}-day safety margin) · 4 results written, some plots "
    "missing · 5 the answer is no (bench check: a regression; size: no pool size meets the "
    "target; bench calibration: a target out of band; bench speed: a threshold flag missed) · "
    "130 Ctrl-C, 143 SIGTERM (one line says what was kept). See README.md, 'Exit statuses'.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: Rich's help panels would double the time of --help
)


class _LazyConsole:
    """A Rich ``Console`` made on first use: every attribute is the real console's."""

    __slots__ = ("_console", "_options")

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _real(self) -> Console:
        console = object.__getattribute__(self, "_console")
        if console is None:
            from rich.console import Console

            console = Console(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_console", console)
        return cast("Console", console)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __dict__ of its own: tools see attributes, not a dict
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real(), name, value)

    def __enter__(self) -> Console:  # Rich's Live and Progress enter their console
        return self._real().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._real().__exit__(*exc)


out = cast("Console", _LazyConsole(emoji=False))  # ":100:" in "s.yaml:100:5" is a line, not 💯
err = cast("Console", _LazyConsole(stderr=True, emoji=False))


def escape(text: str) -> str:
    """Rich markup escaped (``[/]`` in a name, path or CSV value is text, not markup)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def Table(*args: Any, **kwargs: Any) -> Any:
    """A Rich ``Table``, imported on first use."""
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


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


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM, raised in the main thread by ``main``'s signal handlers (a
    ``BaseException``, so no ``except Exception`` swallows it) and carrying the exit status."""

    def __init__(self, status: int, what: str) -> None:
        # both in ``args``: SimPy re-raises a failed process's exception as
        # ``type(exc)(*exc.args)``, and pickling rebuilds it the same way
        super().__init__(status, what)
        self.status = status
        self.what = what

    def __str__(self) -> str:
        return self.what


def _integer(low: int) -> Any:
    """An option parser for an integer >= ``low`` that echoes a bad value (typer's own
    ``min=`` and int parsing say only 'Input should be greater than or equal to 1' or
    'unable to parse string as an integer', without the value given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise typer.BadParameter(f"'{text}': allowed: an integer >= {low}") from None
        if value < low:
            raise typer.BadParameter(f"{value}: allowed: an integer >= {low}")
        return value

    return parse


def _version(value: bool) -> None:
    if value:
        from sim import __version__

        out.print(f"poolsim {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Simulate Veeam Backup for Microsoft 365 proxy pools."""
    atomic = sys.modules.get("sim.atomic")  # each command says what *it* kept
    if atomic is not None:
        atomic.PUBLISHED.clear()
    if ctx.invoked_subcommand not in _WITHOUT_GC:
        _resume_gc()


def _fail(message: str) -> typer.Exit:
    err.print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True
    )
    return typer.Exit(EXIT_INPUT)


def _kept_default(exc: BaseException) -> str:
    """What an interrupted command kept when it does not say otherwise: the tables of a folder
    whose plots ``exc`` cut (``_written``), else the folders this process published
    (``sim.atomic.PUBLISHED``; a folder is complete once published), else nothing."""
    written = _written(exc)
    if written is not None:
        return f"tables kept in {written}, plots unfinished"
    atomic = sys.modules.get("sim.atomic")
    published = list(getattr(atomic, "PUBLISHED", [])) if atomic is not None else []
    if not published:
        return "nothing written"
    return "results kept in " + ", ".join(str(p) for p in published)


def _interrupted(exc: BaseException, kept: str | None = None) -> typer.Exit:
    """One line saying what stopped the command and what was kept (``kept``, unless a folder's
    tables were kept; by default ``_kept_default``); the matching status."""
    if _written(exc) is not None or kept is None:
        kept = _kept_default(exc)
    if isinstance(exc, Interrupted):
        status, what = exc.status, exc.what
    else:
        status, what = EXIT_SIGINT, "interrupted (Ctrl-C)"
    err.print(f"[yellow]{escape(what)}:[/] {escape(kept)}", highlight=False, soft_wrap=True)
    return typer.Exit(status)


def _report_plots(folder: Path) -> bool:
    """Name each plot that could not be drawn (stderr); True when some are missing."""
    from sim.report.folders import missing_plots

    missing = missing_plots(folder)
    for name, error in missing.items():
        err.print(
            f"[yellow]plot missing:[/] {escape(name)}: {escape(error)}",
            highlight=False,
            soft_wrap=True,
        )
    return bool(missing)


def _written(exc: BaseException) -> Path | None:
    """The folder already published when ``exc`` interrupted the figures (``report.folders``)."""
    folder = getattr(exc, "poolsim_folder", None)
    return folder if isinstance(folder, Path) else None


def _line(text: str, *, to_err: bool = False, head: str = "", color: str | None = None) -> None:
    """One plain line (``head`` coloured on a terminal only), without Rich: what validate prints
    goes through here, so that `poolsim validate` does not pay for importing Rich."""
    if head:
        typer.secho(head, fg=color, bold=color == "red", err=to_err, nl=False)
    typer.echo(text, err=to_err)


def _scenario_layer() -> None:
    """Import the scenario layer and the built-in policies and build the validators of the
    scenario's models with pydantic's plug-in discovery off (as typer does for its own
    adapters): poolsim's models need no validation plug-ins, and the discovery reads every
    installed package's metadata, a large share of `poolsim validate`'s start-up. The schema's
    models defer their build (``defer_build``) to their first validation, hence the explicit
    build here. Plug-ins still apply to every model built later (a user's policy params)."""
    import os

    schema = sys.modules.get("sim.scenario.schema")
    if schema is not None and schema.Scenario.__pydantic_complete__:
        return
    before = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "1"
    try:
        import sim.policies.builtin  # noqa: F401  (their params models: built when defined)
        from sim.scenario import Scenario

        for model in _built_by_validation(Scenario):
            model.model_rebuild()
    finally:
        if before is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = before


def _built_by_validation(root: type[BaseModel]) -> list[type[BaseModel]]:
    """``root`` and every model that validating it builds on its own: the models that fields
    (of ``root`` and of every model nested in it) use as ``default_factory``, made by calling
    the class when the field is left out."""
    from typing import TypeGuard, get_args

    from pydantic import BaseModel

    def is_model(kind: object) -> TypeGuard[type[BaseModel]]:
        return isinstance(kind, type) and issubclass(kind, BaseModel)

    found, seen, todo = [root], {root}, [root]
    while todo:
        for field in todo.pop().model_fields.values():
            factory = field.default_factory
            if is_model(factory) and factory not in found:
                found.append(factory)
            kinds = [field.annotation]
            while kinds:
                kind = kinds.pop()
                kinds.extend(get_args(kind))
                if is_model(kind) and kind not in seen:
                    seen.add(kind)
                    todo.append(kind)
    return found


def _load(path: Path, overrides: list[str] | None) -> LoadedScenario:
    _scenario_layer()
    from sim.scenario import load_scenario

    try:
        return load_scenario(path, overrides or [])
    except ScenarioError as exc:
        _line(str(exc), to_err=True)
        raise typer.Exit(2) from None


def _plugin_raised(exc: BaseException, loaded: LoadedScenario, forced: str | None) -> str | None:
    """The policy whose own code raised exc (a frame of its source file is in the traceback),
    or None when the exception came from poolsim itself."""
    import inspect
    import traceback

    from sim.policies.registry import PolicyError, resolve

    names = {forced} if forced else set()
    for pool in loaded.spec.pools:
        names.add(pool.policy if isinstance(pool.policy, str) else pool.policy.name)
    frames: set[str] = set()
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:  # SimPy re-raises a process's exception
        seen.add(id(link))  # from the original (its __cause__): the plug-in's frame is there
        frames.update(f.filename for f in traceback.extract_tb(link.__traceback__))
        link = link.__cause__ or link.__context__
    sim_dir = str(Path(__file__).resolve().parent)
    for name in sorted(n for n in names if n):
        try:
            source = inspect.getfile(resolve(name))
        except (PolicyError, TypeError, OSError):
            continue
        if not source.startswith(sim_dir) and source in frames:
            return name
    return None


def _plugin_error(
    exc: BaseException,
    loaded: LoadedScenario,
    file: Path,
    forced: str | None = None,
    kept: str = "nothing was written",
) -> typer.Exit | None:
    """When a policy plug-in's own code raised exc: say so, naming the policy and the exception,
    and return the bad-input exit to raise; None when poolsim itself raised (a bug)."""
    culprit = _plugin_raised(exc, loaded, forced)
    if culprit is None:
        return None
    err.print(
        f"error: {file}: policy '{culprit}' raised {type(exc).__name__}: {exc} "
        f"(the policy is user code; {kept})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return typer.Exit(EXIT_INPUT)


def _lint(loaded: LoadedScenario, strict: bool, notes: bool = False) -> int:
    """Print Veeam's job-design advice the scenario does not follow (with ``notes``, also the
    advice the file acknowledges on purpose, docs/lint.md); return how many are not
    acknowledged (errors under --strict)."""
    from sim.scenario.lint import lint_scenario, where

    found = lint_scenario(loaded)
    for f in found:
        if f.acknowledged is not None:
            if notes:
                _line(
                    f"note ({f.rule}, acknowledged in the file): {where(loaded, f)}: "
                    f"{f.message}; reason given: {f.acknowledged}"
                )
        else:
            _line(
                f" ({f.rule}): {where(loaded, f)}: {f.message}",
                to_err=True,
                head="error" if strict else "warning",
                color="red" if strict else "yellow",
            )
    return sum(f.acknowledged is None for f in found)


StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Treat warnings (e.g. events after the last session, Veeam's job-design advice) "
        "as errors.",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Go on even if the run is estimated to need more memory than there is."
    ),
]


def _check_inputs(loaded: LoadedScenario, strict: bool, force: bool, notes: bool = False) -> object:
    """What validate checks beyond loading (run does the same): warnings and Veeam's job-design
    advice (errors under --strict), every inventory and trace CSV, and the memory estimate
    (refused unless --force). Returns the InputCheck."""
    from sim.workload.check import check_inputs, too_big

    for warning in loaded.warnings:
        _line(f"warning: {warning}", to_err=True)
    n = len(loaded.warnings) + _lint(loaded, strict, notes)
    if strict and n:
        _line(
            f"{n} warning{'' if n == 1 else 's'} treated as error{'' if n == 1 else 's'} "
            "(--strict)",
            to_err=True,
        )
        raise typer.Exit(2)
    try:
        check = check_inputs(loaded)
    except ScenarioError as exc:
        _line(str(exc), to_err=True)
        raise typer.Exit(2) from None
    if not check.fits:
        if not force:
            _line(str(too_big(loaded, check)), to_err=True)
            raise typer.Exit(2)
        _line(f"warning: {check.summary()}: going on (--force)", to_err=True)
    return check


def _check_memory(loaded: LoadedScenario, force: bool, label: str) -> None:
    """The CSV and memory checks of ``_check_inputs`` for a variant of an already checked
    scenario (a grid point, a pool size); problems are labelled with ``label``."""
    from sim.workload.check import check_inputs, too_big

    try:
        check = check_inputs(loaded)
    except ScenarioError as exc:
        _line(f"{exc} ({label})", to_err=True)
        raise typer.Exit(2) from None
    if not check.fits:
        if not force:
            _line(f"{too_big(loaded, check)} ({label})", to_err=True)
            raise typer.Exit(2)
        _line(f"warning: {label}: {check.summary()}: going on (--force)", to_err=True)


def _check_points(
    file: Path, overrides: list[str], grid: list[str], strict: bool, force: bool
) -> None:
    """A sweep's input checks before any point runs: the base scenario as `run` checks it,
    then every grid point's CSVs and memory, and its warnings not already shown for the base
    (errors under --strict). A point that does not load is left to the sweep, which names it."""
    from sim.experiment.sweep import grid_points, parse_grid
    from sim.scenario import load_scenario
    from sim.scenario.lint import lint_scenario, where

    base = _load(file, overrides)
    _check_inputs(base, strict, force)
    try:
        parsed = parse_grid(grid)
    except ScenarioError as exc:
        _line(str(exc), to_err=True)
        raise typer.Exit(2) from None
    seen = {f": {w}" for w in base.warnings} | {
        f" ({f.rule}): {where(base, f)}: {f.message}" for f in lint_scenario(base)
    }
    new = 0
    for pt in grid_points(parsed, ""):
        label = "grid point " + ", ".join(f"{k}={v}" for k, v in pt.values.items())
        try:
            loaded = load_scenario(file, [*overrides, *pt.overrides])
        except ScenarioError:
            continue
        found = [f": {w}" for w in loaded.warnings] + [
            f" ({f.rule}): {where(loaded, f)}: {f.message}"
            for f in lint_scenario(loaded)
            if f.acknowledged is None
        ]
        for text in found:
            if text not in seen:
                seen.add(text)
                new += 1
                _line(f"{text} ({label})", to_err=True, head="warning", color="yellow")
        _check_memory(loaded, force, label)
    if strict and new:
        _line(f"{new} warning(s) of grid points treated as error(s) (--strict)", to_err=True)
        raise typer.Exit(2)


@app.command()
def validate(
    file: FileArg, set_: SetOpt = None, strict: StrictOpt = False, force: ForceOpt = False
) -> None:
    """Check a scenario file, its VB365 rules and every CSV it names; estimate the run's size.

    A 'module:Class' policy is the user's own Python code: validate imports it, and so runs it.
    """
    loaded = _load(file, set_)  # loading also builds every pool's policy with its params
    check = _check_inputs(loaded, strict, force, notes=True)
    from sim.workload.check import InputCheck

    assert isinstance(check, InputCheck)
    for note in loaded.notes:
        _line(f"note: {note}")
    for name in check.plugins:
        _line(
            f"note: policy '{name}' is user code: validate imported (and so ran) module "
            f"'{name.split(':', 1)[0]}'"
        )
    sc = loaded.spec
    _line(
        f" {file}: {len(sc.tenants)} tenant(s), "
        f"{len(sc.proxies)} proxies, "
        f"{len(sc.pools)} pool(s), {len(sc.repositories)} repositories, {len(sc.jobs)} job(s), "
        f"{sc.simulation.days} day(s); {check.summary()}; sha256 {loaded.digest[:12]}",
        head="ok",
        color="green",
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
        from sim.atomic import atomic_write_text

        try:
            atomic_write_text(output, text)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename and str(exc.filename) != str(output) else ""
            raise _fail(f"cannot write {output}: {where}{exc.strerror or exc}") from None
        out.print(f"wrote {output}", markup=False)


@app.command()
def policies() -> None:
    """List the available distribution policies with their parameters and defaults."""
    from rich.table import Table

    from sim.policies.registry import PolicyError, available, parameters

    table = Table(title="Distribution policies")
    table.add_column("name", overflow="fold")
    table.add_column("kind", overflow="fold")
    table.add_column("definition", overflow="fold")
    table.add_column("params (default)", overflow="fold")
    try:
        items = available()
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    for name, cls in items.items():
        params = "\n".join(
            f"{p.name}: {p.type} = {p.default!r}".replace(":  =", " =") for p in parameters(cls)
        )
        table.add_row(escape(name), cls.kind, escape(cls.summary), escape(params) or "–")
    out.print(table)


@app.command()
def run(
    file: FileArg,
    set_: SetOpt = None,
    seed: Annotated[
        int | None,
        typer.Option(parser=_integer(0), help="Seed, >= 0 (default: the scenario's)."),
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Use this policy in every pool.")] = None,
    results: Annotated[Path, typer.Option(help="Results root folder.")] = Path("results"),
    plots: Annotated[bool, typer.Option(help="Write PNG plots.")] = True,
    strict: StrictOpt = False,
    force: ForceOpt = False,
) -> None:
    """Run a scenario once; print a summary and write the results folder."""
    from sim.experiment.run import simulate
    from sim.policies.registry import PolicyError
    from sim.report.folders import write_results

    loaded = _load(file, set_)
    _check_inputs(loaded, strict, force)
    try:
        with _SimClock(loaded) as clock:
            result = simulate(loaded, seed=seed, policy=policy, on_world=clock.watch)
    except (PolicyError, ScenarioError) as exc:
        raise _fail(f"{file}: {exc}") from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    except Exception as exc:
        signalled = _signalled()
        if signalled is not None:
            raise _interrupted(signalled) from None
        refusal = _plugin_error(exc, loaded, file, policy)
        if refusal is None:
            raise
        raise refusal from None
    try:
        folder = write_results(result, results, command=sys.argv, plots=plots)
    except OSError as exc:
        where = exc.filename or results
        raise _fail(
            f"cannot write results under {results}: {where}: {exc.strerror or exc}"
        ) from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    print_summary(result)
    out.print(f"results: [bold]{escape(str(folder))}[/]", soft_wrap=True)
    plots_missing = _report_plots(folder)
    if result.truncated:
        raise typer.Exit(EXIT_INCOMPLETE)
    if plots_missing:
        raise typer.Exit(EXIT_PLOTS)


def _eta(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    return f"{max(1, round(seconds))}s" if seconds < 60 else format_duration(seconds)


class _SimClock:
    """A run's progress in simulated time with an ETA, on stderr.

    A thread reads the world's clock four times a second: nothing is added to the simulation,
    so results and the hot path are untouched. A live line on a terminal, shown once the run
    has taken ``delay_s``; elsewhere (pipes, CI logs) a plain line every ``every_s``.
    """

    def __init__(self, loaded: LoadedScenario, delay_s: float = 2.0, every_s: float = 10.0) -> None:
        import threading

        self.name = loaded.spec.name
        self.days = float(loaded.spec.simulation.days)
        self.synthetic = loaded.spec.synthetic is not None
        self.delay_s, self.every_s = delay_s, every_s
        self.world: object | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="poolsim-progress", daemon=True)

    def watch(self, world: object) -> None:
        """``simulate(on_world=...)``: remember the world whose clock to read."""
        self.world = world

    def __enter__(self) -> _SimClock:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def text(self, now_s: float, elapsed_s: float, still_s: float = 0.0) -> str:
        """The progress line at simulated time ``now_s`` after ``elapsed_s`` of wall time, the
        clock having stood still for ``still_s`` (the run is over: tables are being built)."""
        days = now_s / 86_400.0
        if still_s >= 1.0:
            return f"{self.name}: simulated {days:.1f} days; building the result tables"
        if self.synthetic:
            return f"{self.name}: simulated {now_s / 3600.0:,.1f} h"
        if days >= self.days:
            return f"{self.name}: simulated {days:.1f} days; last sessions finishing"
        eta = (self.days - days) * elapsed_s / days if days > 0 else float("nan")
        return (
            f"{self.name}: simulated {days:.1f} of {self.days:.0f} days ({days / self.days:.0%}), "
            f"ETA {_eta(eta)}"
        )

    def _loop(self) -> None:
        import time

        from rich.live import Live
        from rich.text import Text

        t0 = time.monotonic()
        last = t0 - self.every_s + 2.5 * self.delay_s  # the first plain line after 5 s
        live: Live | None = None
        seen, moved = -1.0, t0
        try:
            while not self._stop.wait(0.25):
                env = getattr(self.world, "env", None)
                now = time.monotonic()
                if env is None:
                    continue
                sim_now = float(env.now)
                if sim_now != seen:
                    seen, moved = sim_now, now
                if now - t0 < self.delay_s:
                    continue
                line = self.text(sim_now, now - t0, now - moved)
                if err.is_terminal:
                    if live is None:
                        live = Live(console=err, transient=True, auto_refresh=False)
                        live.start()
                    live.update(Text(line), refresh=True)
                elif time.monotonic() - last >= self.every_s:
                    err.print(line, highlight=False, soft_wrap=True)
                    last = time.monotonic()
        finally:
            if live is not None:
                live.stop()


ReplicationsOpt = Annotated[
    int,
    typer.Option(
        "--replications",
        "-r",
        parser=_integer(1),
        help="Replications per policy / point / size.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        parser=_integer(0), help="Root seed of the replications, >= 0 (default: the scenario's)."
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        parser=_integer(1),
        help="Worker processes; 1 runs in-process (default: serial or one per CPU, chosen from "
        "the first run's time and printed).",
    ),
]
ExecutorOpt = Annotated[
    str, typer.Option("--executor", help="Where runs execute: 'local' processes or 'dask'.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address, e.g. tcp://host:8786 (default: a LocalCluster of --jobs "
        "workers).",
    ),
]
ResultsOpt = Annotated[Path, typer.Option(help="Results root folder.")]
ConfidenceOpt = Annotated[float, typer.Option(help="Confidence of the intervals (0 < c < 1).")]


def _choice(flag: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    """An option's value from a fixed list, case ignored (``--executor Dask``); otherwise exit
    2 echoing the value with the nearest allowed one."""
    if value.lower() in allowed:
        return value.lower()
    from sim.scenario.suggest import did_you_mean

    raise _fail(f"{flag} '{value}'{did_you_mean(value, allowed)}: allowed: {', '.join(allowed)}")


def _executor(kind: str, jobs: int | None, scheduler: str | None, announce: Any = None) -> object:
    from sim.experiment.executors import EXECUTORS, ExecutorError, make_executor

    kind = _choice("--executor", kind, EXECUTORS)
    try:
        return make_executor(kind, jobs, scheduler, announce)
    except ExecutorError as exc:
        raise _fail(str(exc)) from None


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise _fail(f"--confidence must be between 0 and 1 (exclusive), got {confidence}")


def _progress() -> object:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@app.command()
def compare(
    file: FileArg,
    policies: Annotated[
        str, typer.Option("--policies", "-p", help="Comma-separated policy names to compare.")
    ],
    replications: ReplicationsOpt = 10,
    set_: SetOpt = None,
    seed: SeedOpt = None,
    jobs: JobsOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    results: ResultsOpt = Path("results"),
    confidence: ConfidenceOpt = 0.95,
    strict: StrictOpt = False,
    force: ForceOpt = False,
) -> None:
    """Compare policies over replications (common random numbers); write plots and a report."""
    import time

    from rich.progress import Progress

    from sim.experiment.compare import check_policies
    from sim.experiment.compare import compare as run_compare
    from sim.experiment.executors import Executor
    from sim.policies.registry import PolicyError
    from sim.report.folders import write_comparison
    from sim.report.tables import comparison_table

    _check_confidence(confidence)
    loaded = _load(file, set_)
    _check_inputs(loaded, strict, force)  # what run checks: CSVs, memory, --strict
    names = policies.split(",")
    try:
        names = check_policies(loaded, names)
    except PolicyError as exc:
        raise _fail(f"--policies: {exc}") from None
    ex = _executor(executor, jobs, scheduler)
    assert isinstance(ex, Executor)
    t0 = time.perf_counter()
    bar = _progress()
    assert isinstance(bar, Progress)
    try:
        with ex, bar:
            task = bar.add_task(
                f"{len(names)} policies x {replications}", total=len(names) * replications
            )
            result = run_compare(
                loaded,
                names,
                replications,
                seed,
                executor=ex,
                confidence=confidence,
                on_done=lambda i, r: _advance_unless_signalled(bar, task),
            )
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    wall = time.perf_counter() - t0
    table = comparison_table(result)
    title = (
        f"{escape(loaded.spec.name)}: {replications} replications per policy, "
        f"mean ± {confidence:.0%} half-width ({wall:.1f} s wall)"
    )
    # as many policies per table as fit the console, each table with the metric column
    _print_fitting(
        title,
        [(escape(str(c)), "left" if c == "metric" else "right") for c in table.columns],
        [[escape(str(v)) for v in row] for row in table.itertuples(index=False)],
    )
    diff = result.differences
    if not diff.empty:
        from sim.report.tables import HEADLINE, fmt

        heads = {(s, m): label for s, m, label in HEADLINE}
        sig = diff[diff["significant"]]
        for r in sig.itertuples():
            label = heads.get((r.scope, r.metric))
            if label is not None:
                out.print(
                    _wrap(
                        f"{r.policy} vs {r.baseline}: {label} {fmt(r.mean_diff)} "
                        f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}] (paired, significant)",
                        max(40, out.width),
                    ),
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
    for e in result.errors:
        err.print(f"[yellow]failed run:[/] {escape(e)}", highlight=False, soft_wrap=True)
    for e in result.incomplete:
        err.print(
            f"[yellow]incomplete run:[/] {escape(e)}: work unfinished at the simulation horizon",
            highlight=False,
            soft_wrap=True,
        )
    try:
        folder = write_comparison(result, results, sys.argv, wall, ex.name)
    except OSError as exc:
        raise _fail(f"cannot write results under {results}: {exc.strerror or exc}") from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    out.print(
        f"results: [bold]{escape(str(folder))}[/]  (report: {escape(str(folder / 'report.html'))})",
        soft_wrap=True,
    )
    plots_missing = _report_plots(folder)
    if result.errors:  # a run that raised is a bug; the others' numbers are written
        raise typer.Exit(EXIT_BUG)
    if result.incomplete:
        raise typer.Exit(EXIT_INCOMPLETE)
    if plots_missing:
        raise typer.Exit(EXIT_PLOTS)


_FOLD_AFTER = re.compile(r"[^./_ ]+[./_ ]?|[./_ ]")


def _fold_header(header: str, limit: int) -> str:
    """``header`` (Rich markup) on lines of at most ``limit`` cells where it can break: after a
    '.', '/', '_' or space, never inside a word (a part longer than ``limit`` keeps its line)."""
    from rich.text import Text

    lines: list[str] = []
    for part in _FOLD_AFTER.findall(header):
        if lines and Text.from_markup((lines[-1] + part).rstrip()).cell_len <= limit:
            lines[-1] += part
        else:
            lines.append(part)
    return "\n".join(line.rstrip() for line in lines)


def _print_fitting(
    title: str | None,
    columns: list[tuple[str, str]],
    rows: list[list[str]],
    lead: int = 1,
    tail: int = 0,
) -> None:
    """Print a table as several tables that each fit the console (80 columns in pipes and CI
    logs): the first ``lead`` and last ``tail`` columns (what a row is) are repeated in each,
    the others are shared out in order, so that no header, name or figure is cut. A table
    still too wide (one metric beside long grid keys) folds its longest headers between words
    (``steady_state/`` over ``sojourn_mean (s)``); a title wider than its table is printed
    on its own line above it instead of being folded to the table's width.
    ``columns`` are (header, justify) in Rich markup; cells are Rich markup too."""
    from rich.table import Table
    from rich.text import Text

    def width(markup: str) -> int:
        return max(Text.from_markup(line).cell_len for line in markup.split("\n"))

    def cells(k: int) -> int:  # the widest body cell of column k
        return max((width(r[k]) for r in rows), default=0)

    def need(k: int, header: str | None = None) -> int:  # with its padding and border
        return max(width(header if header is not None else columns[k][0]), cells(k)) + 3

    n = len(columns)
    fixed = [*range(lead), *range(n - tail, n)]
    base = sum(need(k) for k in fixed) + 1
    groups: list[list[int]] = [[]]
    used = base
    for k in range(lead, n - tail):
        if groups[-1] and used + need(k) > out.width:
            groups.append([])
            used = base
        groups[-1].append(k)
        used += need(k)
    for g, middle in enumerate(groups):
        chosen = [*range(lead), *middle, *range(n - tail, n)]
        headers = {k: columns[k][0] for k in chosen}
        total = sum(need(k, headers[k]) for k in chosen) + 1
        while total > out.width:  # fold the header with the most room over its cells
            k = max(chosen, key=lambda c: width(headers[c]) - cells(c))
            over = total - out.width
            folded = _fold_header(headers[k], max(cells(k), width(headers[k]) - over))
            if width(folded) >= width(headers[k]):
                break  # nothing left to fold between words: Rich folds the cells
            total -= need(k, headers[k]) - need(k, folded)
            headers[k] = folded
        heading = title if g == 0 else None
        if heading is not None and width(heading) > total - 4:
            out.print(heading, highlight=False)
            heading = None
        t = Table(title=heading)
        for k in chosen:
            t.add_column(headers[k], justify=columns[k][1], overflow="fold")
        for r in rows:
            t.add_row(*(r[k] for k in chosen))
        out.print(t)


@app.command()
def sweep(
    file: FileArg,
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            "-g",
            help="KEY=VALUES: any --set key; values a,b,c or lo..hi[:step] or a YAML list "
            "[[a,b],[c]]. Repeat for more keys (full factorial).",
        ),
    ],
    replications: ReplicationsOpt = 3,
    set_: SetOpt = None,
    seed: SeedOpt = None,
    policy: Annotated[str | None, typer.Option(help="Use this policy in every pool.")] = None,
    jobs: JobsOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    results: ResultsOpt = Path("results"),
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Sweep folder (default: results/<scenario>/sweep-<hash>)."),
    ] = None,
    confidence: ConfidenceOpt = 0.95,
    strict: StrictOpt = False,
    force: ForceOpt = False,
) -> None:
    """Run a full-factorial grid of scenario keys; resumable; a failing point is recorded.

    Every point is checked as `run` checks its scenario (CSVs, memory, --strict) first."""
    from rich.progress import Progress

    from sim.experiment.executors import Executor
    from sim.experiment.sweep import SweepProgress
    from sim.experiment.sweep import sweep as run_sweep
    from sim.policies.registry import PolicyError

    _check_confidence(confidence)
    _check_points(file, set_ or [], grid, strict, force)  # the base's own errors first
    if policy is not None:
        loaded = _load(file, set_)
        try:
            from sim.experiment.compare import check_policies

            check_policies(loaded, [policy])
        except PolicyError as exc:
            raise _fail(f"--policy: {exc}") from None
    # without --jobs the executor chooses serial or workers from the first run's time: say so
    ex = _executor(executor, jobs, scheduler, lambda line: err.print(escape(line), highlight=False))
    assert isinstance(ex, Executor)
    bar = _progress()
    assert isinstance(bar, Progress)
    task = None

    def show(p: SweepProgress) -> None:
        nonlocal task
        _stop_if_signalled()
        if task is None:
            if p.skipped:
                out.print(f"resuming: {p.skipped} of {p.points_total} points already done")
            task = bar.add_task("sweep", total=p.runs_total)
        desc = f"points {p.points_done}/{p.points_total}" + (
            f" ([red]{p.failed_points} failed[/])" if p.failed_points else ""
        )
        bar.update(task, completed=p.runs_done, description=desc)

    try:
        with ex, bar:
            result = run_sweep(
                file,
                grid,
                replications,
                seed,
                policy,
                set_ or [],
                ex,
                out_dir,
                results,
                confidence,
                show,
                sys.argv,
            )
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        where = exc.filename or (out_dir if out_dir is not None else results)
        raise _fail(f"cannot write the sweep: {where}: {exc.strerror or exc}") from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(
            exc, "finished points are kept; run the same command again to resume"
        ) from None
    _print_sweep(result, confidence)
    if result.failed:
        raise typer.Exit(EXIT_BUG)
    if result.incomplete:
        raise typer.Exit(EXIT_INCOMPLETE)


def _print_sweep(result: object, confidence: float = 0.95) -> None:

    from sim.experiment.sweep import SweepResult
    from sim.report.tables import interval_text

    assert isinstance(result, SweepResult)
    keys = [k for k, _ in result.grid]
    s = result.summary
    metrics = set(s["metric"]) if "metric" in s else set()  # none when every point failed
    wanted = [
        m
        for m in ("throughput", "window_compliance", "makespan_max", "steady_state/sojourn_mean")
        if m in metrics
    ]
    title = f"sweep: {len(result.points)} points, mean ± {confidence:.0%} half-width " + (
        escape("(or [low, high])")
    )
    units = dict(zip(s["metric"], s["unit"], strict=True)) if "unit" in s else {}
    columns = [(escape(k), "left") for k in keys]
    for m in wanted:
        unit = units.get(m, "")
        columns.append((escape(f"{m} ({unit})" if unit else m), "right"))
    columns.append(("status", "left"))
    rows: list[list[str]] = []
    for p in result.points.to_dict("records"):
        row = [escape(str(p[k])) for k in keys]
        for m in wanted:
            r = s[(s["point"] == p["point"]) & (s["metric"] == m)]
            if r.empty or r["n"].iloc[0] == 0:
                row.append("-")
            else:
                row.append(
                    interval_text(
                        float(r["mean"].iloc[0]),
                        float(r["half_width"].iloc[0]),
                        float(r["ci_low"].iloc[0]),
                        float(r["ci_high"].iloc[0]),
                    )
                )
        if p["status"] == "error":
            row.append(f"[red]{p['failed']} failed[/]")
        elif p["status"] == "incomplete":
            row.append(f"[yellow]incomplete ({p['incomplete']})[/]")
        else:
            row.append("ok")
        rows.append(row)
    # as many metrics per table as fit the console, each table with the grid keys and status
    _print_fitting(title, columns, rows, lead=len(keys), tail=1)
    for p in result.points.itertuples(index=False):
        if p.status == "error":
            err.print(
                f"[yellow]point {p.point} failed:[/] {escape(str(p.error))}",
                highlight=False,
                soft_wrap=True,
            )
        elif p.status == "incomplete":
            err.print(
                f"[yellow]point {p.point} incomplete:[/] {p.incomplete} replication(s) left "
                "work unfinished at the simulation horizon",
                highlight=False,
                soft_wrap=True,
            )
    how = result.execution
    where = how.get("mode") or (
        f"{how.get('workers')} {how.get('executor')} workers"
        if how.get("executor") != "serial"
        else "serial"
    )
    out.print(
        f"ran {result.ran} point(s), skipped {result.skipped} already done, "
        f"{result.failed} failed, {result.incomplete} incomplete ({escape(str(where))}); "
        f"results: [bold]{escape(str(result.folder))}[/]",
        soft_wrap=True,
    )


@app.command()
def size(
    file: FileArg,
    target: Annotated[str, typer.Option(help="What must be met: 'window'.")] = "window",
    compliance: Annotated[
        float,
        typer.Option(
            help="Required share of replications meeting the target (0 < c <= 1), shown by "
            "the lower confidence bound, not the point estimate."
        ),
    ] = 0.9,
    confidence: Annotated[
        float,
        typer.Option(
            help="Confidence of that lower bound (one-sided Wilson), 0.5 <= c < 1; 0.5 decides "
            "on the point estimate."
        ),
    ] = 0.95,
    replications: Annotated[
        int,
        typer.Option("--replications", "-r", parser=_integer(1), help="Replications per size."),
    ] = 30,
    pool: Annotated[str | None, typer.Option(help="Pool to size (default: the only one).")] = None,
    proxy: Annotated[
        str | None, typer.Option(help="Template of added proxies (default: first member).")
    ] = None,
    job: Annotated[
        list[str] | None,
        typer.Option(
            "--job",
            help="Only these jobs' windows count (default: every job with a "
            "window writing through the pool). Repeatable.",
        ),
    ] = None,
    min_size: Annotated[
        int, typer.Option("--min", parser=_integer(1), help="Smallest pool size.")
    ] = 1,
    max_size: Annotated[
        int, typer.Option("--max", parser=_integer(1), help="Largest pool size.")
    ] = 64,
    set_: SetOpt = None,
    seed: SeedOpt = None,
    jobs: JobsOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    results: ResultsOpt = Path("results"),
    strict: StrictOpt = False,
    force: ForceOpt = False,
) -> None:
    """Find the smallest pool that meets the backup window, decided on a lower confidence bound;
    stop early, naming the bottleneck, when more proxies cannot help (exit status 5 when no
    size meets the target). The scenario is checked as `run` checks it first."""
    from rich.progress import Progress
    from rich.table import Table

    from sim.experiment.executors import Executor
    from sim.experiment.sizing import (
        TARGETS,
        SizeProgress,
        SizeStep,
        check_size_options,
        size_problem,
    )
    from sim.experiment.sizing import size as run_size
    from sim.report.folders import write_size
    from sim.report.tables import SIZE_COLUMNS, size_evidence

    if target.lower() in TARGETS:  # case ignored; a bad one is echoed as given, below
        target = target.lower()
    try:
        prob = size_problem(file, set_ or [], pool, proxy, job or [], target)
        # the option checks (ranges, enough replications) before any worker starts
        check_size_options(compliance, confidence, replications, min_size, max_size)
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    # what run checks (CSVs, memory, --strict) on today's pool; memory again at the largest size
    _check_inputs(_load(file, set_), strict, force)
    _check_memory(prob.scenario(max(max_size, prob.current)), force, f"pool size {max_size}")
    ex = _executor(executor, jobs, scheduler)
    assert isinstance(ex, Executor)
    bar = _progress()
    assert isinstance(bar, Progress)
    task = bar.add_task("size", total=None)

    def shown(st: SizeStep) -> None:
        mark = "[green]meets[/]" if st.passes else "[red]misses[/]"
        bar.console.print(
            f"  pool size {st.pool_size:>3}: {st.met}/{st.replications} met, compliance "
            f"{st.compliance:.0%}, lower bound {st.lower:.0%} {mark}",
            highlight=False,
        )

    def progress(p: SizeProgress) -> None:
        bar.update(
            task,
            completed=p.runs_done,
            total=p.runs_bound,
            description=f"size {p.pool_size} (runs, at most)",
        )

    try:
        with ex, bar:
            result = run_size(
                file,
                compliance,
                replications,
                target,
                pool,
                proxy,
                job or [],
                min_size,
                max_size,
                seed,
                set_ or [],
                ex,
                shown,
                confidence=confidence,
                on_progress=progress,
            )
            done = bar.tasks[0].completed
            bar.update(task, total=done, completed=done, description="size: done")
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    t = Table(title=f"Evidence: window compliance vs size of pool '{escape(result.pool)}'")
    for col in SIZE_COLUMNS:
        t.add_column(col, justify="right", overflow="fold")
    for row in size_evidence(result):
        verdict = row[-1]
        t.add_row(*row[:-1], f"[green]{verdict}[/]" if verdict == "meets" else f"[red]{verdict}[/]")
    out.print(t)
    if not result.monotone:
        out.print(
            "[yellow]warning: compliance is not monotone in pool size; more replications "
            "would settle it"
        )
    bound = f"lower {confidence:.0%} confidence bound"
    if result.error is not None:
        err.print(f"[bold red]error:[/] {escape(result.error)}", highlight=False, soft_wrap=True)
    elif result.stop_reason is not None:
        _verdict(result.stop_reason, "red")
    elif result.answer is None:
        _verdict(
            f"no pool size up to {max_size} meets the window of {', '.join(result.jobs)}: the "
            f"{bound} of compliance stays below {compliance:.0%}",
            "red",
        )
    else:
        extra = (
            f" ({result.answer - result.current:+d} vs today's {result.current})"
            if result.answer != result.current
            else " (today's size)"
        )
        row = result.curve.set_index("pool_size").loc[result.answer]
        _verdict(
            f"answer: {result.answer} {'proxy' if result.answer == 1 else 'proxies'} "
            f"in pool '{result.pool}'{extra} "
            f"{'meets' if result.answer == 1 else 'meet'} the window of {', '.join(result.jobs)} "
            f"in {row['compliance']:.0%} of {replications} "
            f"replications ({bound} {row['wilson_low']:.0%} >= {compliance:.0%}); added "
            f"proxies are copies of '{result.template}'"
        )
    try:
        folder = write_size(result, results, sys.argv)
    except OSError as exc:
        raise _fail(f"cannot write results under {results}: {exc.strerror or exc}") from None
    out.print(
        f"results: [bold]{escape(str(folder))}[/]  (report: {escape(str(folder))}/report.html)",
        soft_wrap=True,
    )
    plots_missing = _report_plots(folder)
    if result.error is not None:  # a run raised: a bug (or a plug-in's), as in compare/sweep
        raise typer.Exit(EXIT_BUG)
    if result.answer is None:
        raise typer.Exit(EXIT_NO)
    if plots_missing:
        raise typer.Exit(EXIT_PLOTS)


def _verdict(text: str, style: str | None = None) -> None:
    """Plain ``text`` wrapped between words at the console's width (80 in pipes and CI logs):
    a line starting ``  - `` continues under its text; names and paths are never split."""
    import textwrap

    lines: list[str] = []
    for line in text.splitlines():
        hang = "    " if line.startswith("  - ") else ""
        lines += textwrap.wrap(
            line,
            width=max(40, out.width),
            subsequent_indent=hang,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    out.print("\n".join(lines), style=style, markup=False, highlight=False, soft_wrap=True)


def _wrap(line: str, width: int) -> str:
    """``line`` indented and wrapped at ``width`` between its '; '-separated parts (a part
    longer than a line is wrapped between words), so that 80 columns cut no figure."""
    import textwrap

    lead, rest = "  ", "      "
    rows: list[str] = []
    current = lead
    for k, part in enumerate(line.split("; ")):
        piece = part + ("; " if k < line.count("; ") else "")
        if len(current) + len(piece.rstrip()) <= width or current.strip() == "":
            current += piece
            continue
        rows.append(current.rstrip())
        current = rest + piece
    rows.append(current.rstrip())
    wrapped: list[str] = []
    for k, row in enumerate(rows):
        indent = lead if k == 0 else rest
        wrapped += textwrap.wrap(
            row.strip(),
            width=width,
            initial_indent=indent,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return "\n".join(wrapped)


def print_summary(result: object) -> None:
    """The Rich summary table of one run."""
    from rich.table import Table

    from sim.experiment.run import RunResult
    from sim.units import format_bytes, format_duration

    assert isinstance(result, RunResult)
    sc = result.scenario.spec
    s = result.summary
    overall = {r.metric: r.value for r in s[s["scope"] == "overall"].itertuples()}
    from sim.report.tables import policy_label

    t = Table(
        title=f"{escape(sc.name)} (seed {result.seed}, policy {escape(policy_label(result))}, "
        f"{result.wall_s:.1f} s wall)"
    )
    t.add_column("metric", overflow="fold")
    t.add_column("value", justify="right", overflow="fold")
    rows = [
        ("objects processed", f"{overall.get('objects_done', 0):,.0f} / {overall['objects']:,.0f}"),
        ("data read", format_bytes(overall["bytes_read"] * 1e9)),
        ("data written", format_bytes(overall["bytes_written"] * 1e9)),
        ("throughput", f"{overall['throughput']:,.1f} GB/h"),
        (
            "transfer rate (redone work included)",
            f"{overall.get('transfer_rate', overall['throughput']):,.1f} GB/h",
        ),
        ("object rate", f"{overall['object_rate']:,.0f} objects/h"),
        ("window compliance", f"{overall.get('window_compliance', float('nan')):.0%}"),
        (
            "longest session",
            ("at least " if overall.get("makespan_max_unfinished", 0.0) else "")
            + format_duration(overall.get("makespan_max", 0.0) * 3600)
            + (" (unfinished)" if overall.get("makespan_max_unfinished", 0.0) else ""),
        ),
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
    from sim.report.tables import lifecycle_story, sessions_in_order, skipped_line

    st = Table(title="Sessions (day 1 = the first simulated day)")
    for col in ("day", "job", "objects", "read", "makespan", "window"):
        st.add_column(
            col,
            justify="left" if col == "job" else "right",
            overflow="fold",
            no_wrap=col != "job",
        )
    ran = sessions_in_order(result.sessions)
    for r in ran[~ran["skipped"].astype(bool)].itertuples():
        if r.within_window:
            verdict = "[green]met[/]"
        else:
            verdict = "[red]missed[/]" + (" (stopped)" if r.terminated else "")
        st.add_row(
            str(r.day),
            escape(str(r.job)),
            f"{r.objects_done:,}/{r.objects:,}",
            format_bytes(r.bytes_read),
            format_duration(r.makespan_s) if r.makespan_s == r.makespan_s else "-",
            verdict,
        )
    if st.row_count:
        out.print(st)
    skipped = skipped_line(result.sessions)
    if skipped:
        out.print(f"[yellow]skipped:[/] {escape(skipped)}", highlight=False, soft_wrap=True)
    story = lifecycle_story(result)
    if story:
        out.print("[bold]Lifecycle[/] (pool throughput around each event)", highlight=False)
        for line in story:
            out.print(
                _wrap(line, max(40, out.width)), highlight=False, markup=False, soft_wrap=True
            )
    if result.truncated:
        out.print(
            "[yellow]incomplete: work was left unfinished at the simulation horizon "
            f"({sc.simulation.days} simulated day(s) + {HORIZON_MARGIN_DAYS}-day safety margin)"
        )


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
    """Run a bench set and compare its metrics with the baselines; exit 5 on a regression."""
    from rich.table import Table

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
        table.add_column(
            col,
            justify="right" if col in ("baseline", "new", "change") else "left",
            overflow="fold",
        )
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
        raise typer.Exit(EXIT_NO)
    n = sum(len(r.checks) for r in results)
    out.print(f"[green]ok[/] {n} metric(s) of {len(results)} scenario(s) within tolerance")


@bench_app.command("update")
def bench_update(
    bench_set: SetFileArg = DEFAULT_SET,
    scenario: OnlyOpt = None,
    baselines: BaselinesOpt = None,
) -> None:
    """Run a bench set and write its baselines (after an intended model change)."""
    from rich.table import Table

    from sim.bench.regression import BenchError, LoadedSet, run_scenario, write_baseline

    bench = _load_set(bench_set, baselines)
    assert isinstance(bench, LoadedSet)
    table = Table(title=f"bench update: {bench.spec.name} ({bench_set})")
    for col in ("scenario", "metric", "value"):
        table.add_column(col, justify="right" if col == "value" else "left", overflow="fold")
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
        out.print(f"wrote {path}", markup=False)


def _threshold(flag: str, what: str) -> Any:
    return typer.Option(f"--{flag}", help=f"Exit {EXIT_NO} unless {what}.")


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
        Path, typer.Option(help="The scenario the sweeps vary and startup validates.")
    ] = Path("scenarios/quickstart.yaml"),
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only this part: scenario, synthetic, sweep, startup, memory "
            "(repeatable; memory runs only when named here or with --memory).",
        ),
    ] = None,
    memory: Annotated[
        bool,
        typer.Option("--memory", help="Also run the 1,000,000-object tenant (about 20 s, 2 GB)."),
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    goals: Annotated[
        bool,
        typer.Option("--goals", help=f"Exit {EXIT_NO} unless every goal of the table is met."),
    ] = False,
    min_ratio: Annotated[
        float | None, _threshold("min-ratio", "M/M/8 poolsim / SimPy is at least this")
    ] = None,
    min_scenario_ratio: Annotated[
        float | None,
        _threshold("min-scenario-ratio", "the scenario's tasks/CPU-s / SimPy's is at least this"),
    ] = None,
    max_rss_mb: Annotated[
        float | None, _threshold("max-rss-mb", "the scenario's peak RSS is at most this (MB)")
    ] = None,
    min_tiny_sweep_ratio: Annotated[
        float | None,
        _threshold("min-tiny-sweep-ratio", "the tiny sweep's default / serial is at least this"),
    ] = None,
    min_sweep_speedup: Annotated[
        float | None,
        _threshold("min-sweep-speedup", "the 1-second sweep's -j 2 / serial is at least this"),
    ] = None,
    max_help_ratio: Annotated[
        float | None, _threshold("max-help-ratio", "--help / import typer is at most this")
    ] = None,
    max_validate_ratio: Annotated[
        float | None,
        _threshold("max-validate-ratio", "validate / import typer is at most this"),
    ] = None,
    max_memory_rss_mb: Annotated[
        float | None,
        _threshold("max-memory-rss-mb", "the 1,000,000-object run's peak RSS is at most this"),
    ] = None,
) -> None:
    """Measure speed against its goals (docs/performance.md); thresholds gate the exit.

    Without threshold flags it exits 0 whatever the figures; with them, 5 when a figure misses
    its threshold (each named on stderr)."""
    from sim.bench.speed import (
        DEFAULT_PARTS,
        GOALS,
        LONG_POINTS,
        PARTS,
        SCENARIO_QUICK_SET,
        SWEEP_POINTS,
        SWEEP_WORKERS,
        gate,
        judge,
        run_speed,
    )

    parts = [_choice("--only", p, PARTS) for p in only or DEFAULT_PARTS]
    if memory and "memory" not in parts:
        parts.append("memory")
    given = {
        "min-ratio": min_ratio,
        "min-scenario-ratio": min_scenario_ratio,
        "max-rss-mb": max_rss_mb,
        "min-tiny-sweep-ratio": min_tiny_sweep_ratio,
        "min-sweep-speedup": min_sweep_speedup,
        "max-help-ratio": max_help_ratio,
        "max-validate-ratio": max_validate_ratio,
        "max-memory-rss-mb": max_memory_rss_mb,
    }
    thresholds = {k: v for k, v in given.items() if v is not None}
    if goals:
        for g in GOALS:
            if g.goal is not None and g.part in parts:
                thresholds.setdefault(g.flag, g.goal)
    for g in GOALS:
        if g.flag in thresholds and g.part not in parts:
            raise _fail(f"--{g.flag} needs the {g.part} part (--only {g.part})")
        if g.flag == "min-scenario-ratio" and g.flag in thresholds and "synthetic" not in parts:
            raise _fail("--min-scenario-ratio needs the synthetic part too (--only synthetic)")
    scenario_set = list(set_ or [])
    default_scenario = scenario == Path("scenarios/enterprise-100k.yaml")
    if quick and not scenario_set and default_scenario:
        scenario_set = list(SCENARIO_QUICK_SET)
    for needed, path, sets in (
        ("scenario", scenario, scenario_set),
        ("memory", scenario, []),
        ("sweep", sweep_scenario, []),
        ("startup", sweep_scenario, []),
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
            full_size=not scenario_set
            and default_scenario
            and sweep_scenario == Path("scenarios/quickstart.yaml"),
        )
    verdicts = {v.goal.key: v for v in judge(report)}

    def goal(key: str) -> str:
        v = verdicts[key]
        g = v.goal
        if g.goal is None:
            return "(reported)"
        text = f"{'≥' if g.op == '>=' else '≤'} {g.goal:g}{' MB' if g.unit == 'MB' else '×'}"
        if v.met is None:
            return f"{text} (judged at full size)"
        return f"[green]{text} met[/]" if v.met else f"[red]{text} not met[/]"

    def _rounds_of(ratios: list[float]) -> str:
        """`` (rounds: a, b, c×)`` when a figure is the median of several rounds."""
        if len(ratios) < 2:
            return ""
        return f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)}×; median)"

    t = Table(title=f"poolsim bench speed{' --quick' if quick else ''}")
    t.add_column("benchmark", overflow="fold")
    t.add_column("figure", justify="right", overflow="fold")
    t.add_column("goal", overflow="fold")
    syn = report.synthetic
    if syn:
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
            f"  ratio{_rounds_of(syn.get('speedups', []))}",
            f"{syn['speedup']:.2f}×",
            goal("synthetic_mm8.speedup"),
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
            f"{escape(label)}: {sc['tasks']:,.0f} tasks",
            f"{sc['wall_s']:,.1f} s wall (CPU {sc['cpu_s']:,.1f} s)",
            "",
        )
        if "rate_ratio" in sc:
            t.add_row(
                "  task rate / SimPy M/M/8 rate (CPU; wall)"
                + _rounds_of(sc.get("rate_ratios", [])),
                f"{sc['rate_ratio']:.2f}× ({sc['wall_rate_ratio']:.2f}×)",
                goal("scenario.rate_ratio"),
            )
        t.add_row(
            "  peak RSS of the process",
            f"{sc['peak_rss_mb']:,.0f} MB",
            goal("scenario.peak_rss_mb"),
        )
    sw = report.sweep
    if sw:
        w = int(sw["workers"])
        for pre, n, what in (("", SWEEP_POINTS, "tiny"), ("long_", LONG_POINTS, "≥ 1 s")):
            rounds = int(sw.get(f"{pre}rounds", 1))
            ratios = ", ".join(f"{x:.2f}" for x in sw.get(f"{pre}speedups", []))
            t.add_row(
                f"{n}-point sweep ({what}: {sw[f'{pre}point_s']:.2f} s a point), "
                f"medians of {rounds} rounds: serial",
                f"{sw[f'{pre}serial_wall_s']:,.1f} s wall",
                "",
            )
            t.add_row(
                f"  -j {w} (rounds: {ratios}×)" if ratios else f"  -j {w}",
                f"{sw[f'{pre}parallel_wall_s']:,.1f} s = {sw[f'{pre}speedup']:.2f}×",
                goal("sweep.long_speedup") if pre else "",
            )
            t.add_row(
                f"  default, chose {escape(str(sw[f'{pre}auto_choice']))}",
                f"{sw[f'{pre}auto_wall_s']:,.1f} s = {sw[f'{pre}auto_speedup']:.2f}×",
                "" if pre else goal("sweep.auto_speedup"),
            )
    st = report.startup
    if st:
        t.add_row(
            f"startup ({st['rounds']:.0f} rounds, medians): python -c 'import typer'",
            f"{st['typer_cpu_s'] * 1000:,.0f} ms CPU ({st['typer_wall_s'] * 1000:,.0f} wall)",
            "",
        )
        if "typer_app_cpu_s" in st:
            t.add_row(
                "  a minimal typer app, validate's parameters",
                f"{st['typer_app_cpu_s'] * 1000:,.0f} ms CPU = {st['typer_app_ratio']:.2f}×",
                "",
            )
        for key, label in (("help", "poolsim --help"), ("validate", "poolsim validate quickstart")):
            t.add_row(
                f"  {label}",
                f"{st[f'{key}_cpu_s'] * 1000:,.0f} ms CPU = {st[f'{key}_ratio']:.2f}× "
                f"(wall {st[f'{key}_wall_ratio']:.2f}×)",
                goal(f"startup.{key}_ratio"),
            )
        if "validate_app_ratio" in st:
            t.add_row(
                "  validate / the minimal typer app",
                f"{st['validate_app_ratio']:.2f}×",
                "",
            )
    mem = report.memory
    if mem:
        t.add_row(
            f"{mem['tasks']:,.0f}-object tenant ({scenario.name}, {mem['users']:,.0f} users)",
            f"{mem['wall_s']:,.1f} s wall, peak RSS {mem['peak_rss_mb']:,.0f} MB",
            goal("memory.peak_rss_mb"),
        )
        t.add_row(
            "  task table (columnar)",
            f"{mem['tasks_table_mb']:,.0f} MB, {mem['tasks_columns']:.0f} columns, "
            f"{mem['object_columns']:.0f} of Python objects",
            "",
        )
    out.print(t)
    m = report.machine
    load = m.get("load_average") or []
    before = m.get("load_average_before") or []
    out.print(
        f"machine: {m['cpu_model']}, {m['cpus']} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in before) or 'n/a'} before, "
        f"{' '.join(f'{x:.2f}' for x in load) or 'n/a'} after; Python {m['python']}; "
        f"{SWEEP_WORKERS} workers in the sweeps",
        highlight=False,
    )
    if json_out is not None:
        from sim.atomic import atomic_write_text

        try:
            atomic_write_text(json_out, json.dumps(report.as_dict(), indent=2) + "\n")
        except OSError as exc:
            raise _fail(f"cannot write {json_out}: {exc.strerror or exc}") from None
        out.print(f"wrote {json_out}", markup=False)
    missed = gate(report, thresholds)
    for line in missed:
        err.print(f"[red]threshold missed:[/] {escape(line)}", highlight=False, soft_wrap=True)
    if missed:
        raise typer.Exit(EXIT_NO)


@bench_app.command("calibration")
def bench_calibration(
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Run only this target (repeatable), e.g. inventory.gb_per_user."
        ),
    ] = None,
    measure_pending: Annotated[
        bool,
        typer.Option(
            "--measure-pending", help="Also measure PENDING targets (shown, never gating)."
        ),
    ] = False,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the outcomes as JSON to this file (- for stdout)."),
    ] = None,
    as_markdown: Annotated[
        bool,
        typer.Option("--markdown", help="Write docs/calibration.md's text instead of a table."),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File for --markdown (default stdout).")
    ] = None,
) -> None:
    """Run the calibration targets (bands from public sources); exit 5 if one is out of band."""
    from sim.bench.calibration import CalibrationError, run, select
    from sim.bench.calibration.console import render, write_outputs
    from sim.bench.calibration.targets import TARGETS

    if output is not None and not as_markdown:
        raise _fail("-o/--output is the file of --markdown: add --markdown (or use --json FILE)")
    try:
        chosen = select(TARGETS, only or [])
    except CalibrationError as exc:
        raise _fail(str(exc)) from None
    outcomes = run(
        chosen,
        measure_pending=measure_pending,
        progress=lambda msg: err.print(msg, highlight=False, markup=False),
    )
    try:
        status = write_outputs(outcomes, json_out, output if as_markdown else None, as_markdown)
    except OSError as exc:
        raise _fail(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    render(outcomes, out, err, table=json_out != Path("-") and not (as_markdown and output is None))
    raise typer.Exit(status)


@app.command(name="import")
def import_(
    export: Annotated[
        Path, typer.Argument(help="Folder of VB365 REST or PowerShell JSON exports.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scenario file to write.")],
    users: Annotated[
        list[str] | None,
        typer.Option(help="Users per tenant: N, or ORGANIZATION=N (repeatable)."),
    ] = None,
    inventory: Annotated[
        list[str] | None,
        typer.Option(help="Inventory CSV of an organization: ORGANIZATION=FILE (repeatable)."),
    ] = None,
    proxy_cores: Annotated[int, typer.Option(help="Cores of every proxy.")] = 8,
    proxy_ram: Annotated[str, typer.Option(help="RAM of every proxy.")] = "32 GiB",
    initial_state: Annotated[
        str, typer.Option(help="empty (day 1 is a full) or protected.")
    ] = "protected",
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 7,
    start: Annotated[
        str | None, typer.Option(help="simulation.start, e.g. 2026-03-02T00:00:00+01:00.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Scenario name (default: from -o).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Write a scenario from a VB365 estate's JSON exports (docs/calibrate.md)."""
    from sim.estate.command import OptionError, import_command

    try:
        _, report = import_command(
            export,
            output,
            name=name,
            users=users,
            inventory=inventory,
            proxy_cores=proxy_cores,
            proxy_ram=proxy_ram,
            initial_state=_choice("--initial-state", initial_state, ("empty", "protected")),
            days=days,
            start=start,
            overwrite=overwrite,
        )
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except OptionError as exc:
        raise _fail(str(exc)) from None
    for line in report.warnings:
        err.print(f"warning: {line}", highlight=False, markup=False, soft_wrap=True)
    for line in report.lines:
        out.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command()
def history(
    file: FileArg,
    sessions: Annotated[
        Path,
        typer.Option(help="Observed sessions: a GET /JobSessions or Get-VBOJobSession export."),
    ],
    set_: SetOpt = None,
    seed: Annotated[
        int | None, typer.Option(parser=_integer(0), help="Seed (default: the scenario's).")
    ] = None,
    results: Annotated[Path, typer.Option(help="Results root folder.")] = Path("results"),
    plots: Annotated[bool, typer.Option(help="Write the PNG plot.")] = True,
) -> None:
    """Simulated versus observed nights per job: duration, objects, bytes, bottleneck."""
    from sim.estate.sessions import read_sessions
    from sim.report.history import compare_history, history_lines, write_history

    loaded = _load(file, set_)
    _check_inputs(loaded, strict=False, force=False)
    try:
        found = compare_history(loaded, read_sessions(sessions), seed)
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    except Exception as exc:
        signalled = _signalled()
        if signalled is not None:
            raise _interrupted(signalled) from None
        refusal = _plugin_error(exc, loaded, file)
        if refusal is None:
            raise
        raise refusal from None
    try:
        folder = write_history(found, results, command=sys.argv, plots=plots)
    except OSError as exc:
        raise _fail(f"cannot write results under {results}: {exc.strerror or exc}") from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc) from None
    try:
        for line in history_lines(found):
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        out.print(f"results: [bold]{escape(str(folder))}[/]")
    except (KeyboardInterrupt, Interrupted) as exc:  # the folder is complete: says so
        raise _interrupted(exc) from None
    plots_missing = _report_plots(folder)
    if found.result.truncated:  # the simulated nights were cut off: their numbers say so
        days = loaded.spec.simulation.days
        out.print(
            "[yellow]incomplete: simulated work was left unfinished at the simulation horizon "
            f"({days} simulated day(s) + {HORIZON_MARGIN_DAYS}-day safety margin)"
        )
        raise typer.Exit(EXIT_INCOMPLETE)
    if plots_missing:
        raise typer.Exit(EXIT_PLOTS)


@app.command()
def calibrate(
    file: FileArg,
    sessions: Annotated[
        Path,
        typer.Option(help="Observed sessions: a GET /JobSessions or Get-VBOJobSession export."),
    ],
    fit: Annotated[
        str | None,
        typer.Option(
            help="Parameters to fit, comma-separated (default: cpu_per_object, bps_per_core, "
            "object_overhead, thread_rate, items_per_s, resolve_per_object, "
            "resolve_cpu_per_object, metadata_ios_per_object, and where they can bind "
            "tenants.ews_recharge_ms_per_h, tenants.sharepoint_ru_per_min, tenants.retry_after)."
        ),
    ] = None,
    budget: Annotated[
        int,
        typer.Option(
            help="Simulations at most (>= 1); each candidate is one run of the scenario, so the "
            "time is at most the budget times one run's."
        ),
    ] = 200,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Also write the calibrated scenario here."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing -o file.")] = False,
    seed: Annotated[
        int | None,
        typer.Option(parser=_integer(0), help="Seed of every candidate (default: the scenario's)."),
    ] = None,
    results: Annotated[Path, typer.Option(help="Results root folder.")] = Path("results"),
    set_: SetOpt = None,
    plots: Annotated[bool, typer.Option(help="Write the PNG plot.")] = True,
) -> None:
    """Fit the scenario's INFERRED calibration parameters to observed sessions (docs/calibrate.md).

    Interrupted (Ctrl-C), it keeps its journal: the same command again continues the fit."""
    from sim.calibrate.fit import Progress
    from sim.calibrate.fit import calibrate as fit_sessions
    from sim.calibrate.output import calibrated_yaml, summary_lines, write_calibration
    from sim.estate.sessions import read_sessions

    if budget < 1:
        raise _fail(f"--budget {budget}: at least 1 simulation")
    if output is not None and output.exists() and not overwrite:
        raise _fail(f"{output} exists: choose another -o, or add --overwrite")
    loaded = _load(file, set_)
    _check_inputs(loaded, strict=False, force=False)
    names = [n for n in (fit or "").split(",") if n.strip()] or None
    t0 = time.monotonic()
    last = [0.0]

    def show(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and p.used < p.budget:
            return
        last[0] = now
        left = max(p.budget - p.used, 0) * p.sim_wall_s
        err.print(
            f"calibrate: {p.used}/{p.budget} simulations ({p.phase}; {p.replayed} replayed), "
            f"loss {p.loss:.4f}, best {p.best:.4f}, {now - t0:.0f} s, "
            f"ETA at most {_eta(left)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    journal_note = "journal kept: the same command again continues the fit"
    try:
        found = fit_sessions(
            loaded, read_sessions(sessions), names, budget, seed, results, progress=show
        )
    except ScenarioError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc, journal_note) from None
    except Exception as exc:
        signalled = _signalled()
        if signalled is not None:
            raise _interrupted(signalled, journal_note) from None
        refusal = _plugin_error(exc, loaded, file, kept=journal_note)
        if refusal is None:
            raise
        raise refusal from None
    lines = summary_lines(found)
    text = calibrated_yaml(found, str(sessions))
    try:
        folder = write_calibration(
            found, text, results, command=sys.argv, console=lines, plots=plots
        )
        if output is not None:
            from sim.atomic import atomic_write_text

            atomic_write_text(output, text)
    except OSError as exc:
        where = exc.filename or results
        raise _fail(f"cannot write results: {where}: {exc.strerror or exc}") from None
    except (KeyboardInterrupt, Interrupted) as exc:
        raise _interrupted(exc, journal_note) from None
    for line in lines:
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    if output is not None:
        out.print(f"calibrated scenario: [bold]{escape(str(output))}[/]")
    out.print(f"results: [bold]{escape(str(folder))}[/]")
    if _report_plots(folder):
        raise typer.Exit(EXIT_PLOTS)


_SIGNALLED: list[Interrupted] = []
"""The first signal this process received (empty until one arrives)."""

SIGNAL_GRACE_S = 20.0
"""Seconds a command has, after a signal, to stop on its own and say what it kept; then the
process ends anyway (the watchdog of ``_raise_interrupted``)."""


def _watchdog(exc: Interrupted, grace_s: float) -> None:
    """End the process ``grace_s`` after a signal if the command has not stopped by then.

    A signal raises ``Interrupted`` wherever the main thread is; where that is inside a SimPy
    process (which turns it into a failed process) or a callback whose exceptions Python only
    reports, the command may not see it and run on, or spin on state the exception left half
    updated. Results are written through ``sim.atomic`` (a hidden folder published by one
    rename, removed by the next run once its owner is gone), so ending here loses nothing that
    looked complete.
    """
    import os
    import threading

    def end() -> None:
        time.sleep(grace_s)
        try:
            sys.stderr.write(f"{exc.what}: nothing written (stopped {grace_s:g} s after it)\n")
            sys.stderr.flush()
        finally:
            os._exit(exc.status)

    threading.Thread(target=end, name="poolsim-signal-watchdog", daemon=True).start()


def _raise_interrupted(signum: int, _frame: object) -> None:
    if signum == signal.SIGTERM:
        exc = Interrupted(EXIT_SIGTERM, "terminated (SIGTERM)")
    else:
        exc = Interrupted(EXIT_SIGINT, "interrupted (Ctrl-C)")
    if _SIGNALLED:  # a second signal: stop now
        import os

        sys.stderr.write(f"{exc.what} again: nothing more written\n")
        sys.stderr.flush()
        os._exit(_SIGNALLED[0].status)
    _SIGNALLED.append(exc)
    _watchdog(exc, SIGNAL_GRACE_S)
    # inside a section that must not be cut (sim.atomic.uninterrupted: only open once that
    # module is loaded, which ``import sim.cli`` does not do), the exception waits for its end
    atomic = sys.modules.get("sim.atomic")
    if atomic is not None and atomic.uninterrupted.hold(exc):
        return
    raise exc


def _signalled() -> Interrupted | None:
    """The signal that stopped this process, if one arrived.

    A signal raises ``Interrupted`` wherever the main thread is, which may be inside a SimPy
    process half-way through an update: SimPy turns the exception into a failed process, and
    another process can meet the half-updated state first and raise something else. Once a
    signal has arrived, any exception that follows is the interruption, not a bug.
    """
    return _SIGNALLED[0] if _SIGNALLED else None


def _stop_if_signalled() -> None:
    """Raise the signal that arrived, if one did: between runs of a sweep or a comparison.

    A run in this process that a signal cut may have ended as a failed run (another SimPy
    process met the half-updated state first, see ``_signalled``); the command stops there
    rather than go on and count the failure as a bug."""
    signalled = _signalled()
    if signalled is not None:
        raise signalled


def _advance_unless_signalled(bar: Any, task: Any) -> None:
    _stop_if_signalled()
    bar.advance(task)


_WITHOUT_GC = frozenset({"validate"})
"""Commands that run to their end without the cyclic garbage collector (``main``): short, and
making no garbage cycles worth collecting (validate reads a scenario and its CSVs)."""

_GC_HELD: list[bool] = []
"""True while ``main`` holds the cyclic garbage collector off for start-up."""


def _resume_gc() -> None:
    """Turn the cyclic garbage collector back on if ``main`` turned it off."""
    if _GC_HELD:
        _GC_HELD.clear()
        gc.enable()


def _app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command that ``args`` name first, when they do: typer builds the
    click command of every registered command before parsing, and those of the commands that
    will not run are a tenth of `poolsim validate`'s start-up. Anything else (no arguments, an
    option first, a name that is no command) gets the whole ``app``, whose help and errors
    list every command; a command's own help, usage and errors do not depend on the others."""
    if not args or args[0].startswith("-"):
        return app
    name = args[0]
    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None
        and (c.name or c.callback.__name__.lower().replace("_", "-")) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands = commands
    one.registered_groups = groups
    return one


def main() -> None:
    """Run the command line of ``sys.argv`` in this process; raises SystemExit with one of the
    exit statuses of ``EXIT_STATUSES``.

    Ctrl-C and SIGTERM raise ``Interrupted`` in the main thread; a command that has written
    something says what it kept, any other gets one line "nothing written". An unexpected
    exception is a bug: its traceback and a line asking to report it, status 1.

    Start-up (parsing the command line, importing what the command needs) runs without the
    cyclic garbage collector: it makes tens of thousands of objects and no garbage cycles, and
    the collector's passes over them cost `poolsim validate` about a twentieth of its time.
    The command turns it back on before its work (``_main``), except those of ``_WITHOUT_GC``;
    it is on again when ``main`` returns.
    """
    try:
        _run()
    finally:
        _resume_gc()


def _run() -> None:
    """``main`` but for turning the garbage collector back on at the end."""
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    if gc.isenabled():
        gc.disable()
        _GC_HELD.append(True)
    try:
        _app_for(sys.argv[1:])()
    except Interrupted as exc:
        err.print(
            f"[yellow]{exc.what}:[/] {escape(_kept_default(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.status)
    except Exception:
        signalled = _signalled()
        if signalled is not None:
            err.print(
                f"[yellow]{signalled.what}:[/] {escape(_kept_default(signalled))}",
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(signalled.status)
        traceback.print_exc()
        err.print(
            "[bold red]internal error:[/] this is a bug in poolsim; please report it with the "
            "traceback above and the command line",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_BUG)


def console_main() -> None:
    """The ``poolsim`` console script: ``main``, then the process ends at once with its status
    (``_end_now``) instead of tearing the interpreter down. A command of ``_WITHOUT_GC`` runs
    to the process's end without the garbage collector: turned back on, its first pass would
    go over every object start-up made, for nothing."""
    try:
        _run()
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code
        if isinstance(code, int):
            _end_now(code)
        raise
    _end_now(EXIT_OK)


def _end_now(status: int) -> None:
    """End the process with ``status`` as a normal exit would, less the teardown.

    The exit handlers (``atexit``: logging, multiprocessing, temporary folders) run and stdout
    and stderr are flushed, as at a normal exit; what is skipped is the interpreter's teardown,
    which frees one by one every module and object start-up made (typer, pydantic, the schema)
    and is a sixth of `poolsim validate`'s CPU time. Returns, leaving the exit to Python, when
    another thread is still running (Python waits for it) or a stream cannot be flushed
    (Python reports it).
    """
    import atexit
    import os
    import threading

    def flushed() -> bool:
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):
            return False
        return True

    if threading.active_count() > 1 or not flushed():
        return
    atexit._run_exitfuncs()  # runs each handler once and forgets it, as the normal exit does
    if flushed():
        os._exit(status)


if __name__ == "__main__":
    console_main()
