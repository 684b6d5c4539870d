"""The body of ``poolsim import`` (the CLI keeps only its options and printing)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sim import defaults as d
from sim.estate import NAMING, ImportResult, Options, import_estate
from sim.estate.mapping import DEFAULT_USERS, parse_ram, plain
from sim.estate.yamltext import Note

_SCENARIO_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class OptionError(ValueError):
    """A bad command-line value (the message names the option)."""


@dataclass
class Report:
    """What import printed: lines for stdout and warnings for stderr."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _pairs(values: list[str], option: str, number: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for raw in values:
        org, sep, value = raw.rpartition("=")
        key = org.strip() if sep else "*"
        text = value.strip()
        if number:
            if not text.isdigit() or int(text) < 1:
                raise OptionError(
                    f"{option} {raw!r}: expected a whole number >= 1, alone (every "
                    "organization) or as ORGANIZATION=N"
                )
            out[key] = int(text)
        else:
            if not text or not sep:
                raise OptionError(f"{option} {raw!r}: expected ORGANIZATION=FILE")
            out[key] = text
    return out


def import_command(
    export: Path,
    output: Path,
    *,
    name: str | None = None,
    users: list[str] | None = None,
    inventory: list[str] | None = None,
    proxy_cores: int = d.PROXY_CORES,
    proxy_ram: str = "32 GiB",
    initial_state: str = "protected",
    days: int = 7,
    start: str | None = None,
    overwrite: bool = False,
) -> tuple[ImportResult, Report]:
    """Import ``export`` into ``output`` (written atomically) and say what happened.

    Raises OptionError for a bad option, ExportError/ScenarioError for a bad export."""
    from sim.atomic import atomic_write_text

    if initial_state not in ("empty", "protected"):
        raise OptionError(f"--initial-state {initial_state!r}: allowed: empty, protected")
    if not 1 <= proxy_cores <= 256:
        raise OptionError(f"--proxy-cores {proxy_cores}: allowed 1-256")
    if not 1 <= days <= 366:
        raise OptionError(f"--days {days}: allowed 1-366")
    try:
        parse_ram(proxy_ram)
    except ValueError as exc:
        raise OptionError(f"--proxy-ram {proxy_ram!r}: {exc}") from None
    if start is not None:
        from pydantic import ValidationError

        from sim.scenario.schema import SimulationSpec

        try:
            SimulationSpec.model_validate({"start": start})
        except ValidationError as exc:
            first = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise OptionError(f"--start: {first}") from None
    if output.exists() and not overwrite:
        raise OptionError(f"{output} exists: give --overwrite to replace it")
    inventories = _pairs(inventory or [], "--inventory", False)
    for key, value in inventories.items():
        path = Path(str(value))
        if not path.is_file():
            raise OptionError(f"--inventory {key}={value}: file not found")
        # the scenario names it relative to itself
        inventories[key] = os.path.relpath(path.resolve(), output.resolve().parent)
    scenario_name = name or _SCENARIO_NAME.sub("-", output.stem).strip("-.") or "imported"
    opts = Options(
        name=scenario_name,
        users=_pairs(users or [], "--users", True),  # type: ignore[arg-type]
        inventory=inventories,  # type: ignore[arg-type]
        proxy_cores=proxy_cores,
        proxy_ram=proxy_ram,
        initial_state=initial_state,
        days=days,
        start=start,
    )
    result = import_estate(export, output, opts)
    _check_keys(opts, result)
    try:
        atomic_write_text(output, result.text)
    except OSError as exc:
        raise OptionError(f"cannot write {output}: {exc.strerror or exc}") from None
    return result, _report(result, output, opts)


def _check_keys(opts: Options, result: ImportResult) -> None:
    """An ``ORG=`` of --users or --inventory that names no organization is an error."""
    names = set()
    for t in result.imported.doc["tenants"]:
        names.add(str(plain(t["name"])).lower())
    raw_names = {
        str(r.get("name", "Name") or "").lower() for r in result.export.records("organization")
    }
    for option, table in (("--users", opts.users), ("--inventory", opts.inventory)):
        for key in table:
            if key != "*" and key.lower() not in names | raw_names:
                raise OptionError(
                    f"{option} {key}=...: no organization of that name in the export "
                    f"(organizations: {', '.join(sorted(names))})"
                )


def _report(result: ImportResult, output: Path, opts: Options) -> Report:
    rep = Report()
    c = result.imported.counts
    naming = NAMING.get(result.imported.naming, result.imported.naming)
    rep.lines.append(
        f"wrote {output}: {c['tenants']} tenant(s), {c['proxies']} proxies, {c['pools']} "
        f"pool(s), {c['repositories']} repositories, {c['jobs']} job(s) from "
        f"{len(result.export.files)} {naming} export files"
    )
    for name, why in result.export.ignored:
        rep.lines.append(f"ignored {name}: {why}")
    if result.imported.sessions:
        rep.lines.append(
            f"{result.imported.sessions} job sessions found: not part of the scenario "
            "(compare them with a run: poolsim history SCENARIO --sessions FILE)"
        )
    if result.imported.exclusions:
        rep.lines.append(f"left out {len(result.imported.exclusions)}:")
        for e in result.imported.exclusions:
            rep.lines.append(f"  {e.what}: {e.why} ({e.where})")
    defaulted = [
        plain(t["name"])
        for t in result.imported.doc["tenants"]
        if isinstance(t["users"], Note) and "placeholder" in t["users"].comment
    ]
    if defaulted:
        rep.warnings.append(
            f"users per tenant are not in the export: {len(defaulted)} tenant(s) got the "
            f"placeholder {DEFAULT_USERS} ({', '.join(defaulted)}); give --users N or "
            "--users ORGANIZATION=N"
        )
    for rule, message in result.advice:
        rep.lines.append(f"note ({rule}, acknowledged in {output}): {message}")
    return rep
