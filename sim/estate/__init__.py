"""The estate import: a folder of VB365 REST or PowerShell JSON exports -> a scenario file.

``import_estate(folder, output, options)`` reads every export file (``sim.estate.read``:
resources recognised from their content, camelCase or PascalCase), maps them to a scenario
(``sim.estate.mapping``), writes the YAML with a comment next to every value the export does
not give, and checks that the result loads as a scenario (schema and VB365 rules). Veeam's
job-design advice the imported estate does not follow is acknowledged in the file with
``# lint-ok:`` comments: the file reproduces the estate as configured (docs/calibrate.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.errors import Problem, ScenarioError
from sim.estate.mapping import DEFAULT_DAYS, DEFAULT_USERS, Exclusion, Imported, Options, build
from sim.estate.read import Export, ExportError, read_export
from sim.estate.yamltext import dump

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_USERS",
    "Exclusion",
    "ExportError",
    "ImportResult",
    "Options",
    "import_estate",
    "read_export",
]


@dataclass
class ImportResult:
    """The written scenario's text, what it holds, what was left out, and lint advice."""

    text: str
    imported: Imported
    export: Export
    advice: list[tuple[str, str]]
    """(rule, message) of Veeam's job-design advice the estate does not follow."""


NAMING = {"rest": "REST (camelCase)", "powershell": "PowerShell (PascalCase)"}

_RESOURCE_LABEL = {
    "proxy": "proxies",
    "pool": "proxy pools",
    "repository": "repositories",
    "organization": "organizations",
    "job": "jobs",
    "session": "job sessions",
}


def _header(export: Export, imported: Imported, advice: list[tuple[str, str]]) -> list[str]:
    naming = NAMING.get(imported.naming, imported.naming)
    lines = [
        f"# Imported by `poolsim import` from the VB365 export folder '{export.folder.name}',",
        f"# {naming} property names:",
    ]
    for f in export.files:
        label = _RESOURCE_LABEL[f.resource] if f.resource else "?"
        lines.append(f"#   {f.path.name}: {len(f.records)} {label}")
    for name, why in export.ignored:
        lines.append(f"#   {name}: ignored, {why}")
    if imported.sessions:
        lines.append(
            f"# The {imported.sessions} job sessions are not part of the scenario: compare them "
            "with a run: `poolsim history` (docs/calibrate.md)."
        )
    lines.append(
        "# A comment next to a value says where it came from when the export does not hold it."
    )
    if imported.exclusions:
        lines.append(f"# Left out ({len(imported.exclusions)}):")
        for e in imported.exclusions:
            lines.append(f"#   {e.what} ({e.where}): {e.why}")
    for rule, _message in advice:
        lines.append(
            f"# lint-ok: {rule}: the estate's own job design, imported as configured in VB365"
        )
    return lines


def render(export: Export, imported: Imported, advice: list[tuple[str, str]]) -> str:
    """The scenario YAML: header comments, then the document."""
    return "\n".join([*_header(export, imported, advice), *dump(imported.doc)]) + "\n"


def import_estate(folder: Path | str, output: Path | str, options: Options) -> ImportResult:
    """Read an export folder and return the scenario text for ``output`` (not written here).

    Raises ExportError (a ScenarioError) for an export it cannot use, and ScenarioError when
    the estate breaks a scenario rule (the problems name the written file's lines).
    """
    from sim.scenario.lint import lint
    from sim.scenario.loader import load_scenario_text

    export = read_export(folder)
    imported = build(export, options)
    out = Path(output)
    text = render(export, imported, [])
    try:
        loaded = load_scenario_text(text, str(out))
    except ScenarioError as exc:  # the estate breaks a scenario rule: say so, write nothing
        shown = f"{out} (not written)"
        raise ScenarioError(
            [Problem(shown, p.line, p.column, p.path, p.message) for p in exc.problems],
            shown,
        ) from None
    findings = lint(loaded.spec, out.parent if str(out.parent) else Path.cwd())
    advice: list[tuple[str, str]] = []
    for f in findings:
        if f.rule not in {r for r, _ in advice}:
            advice.append((f.rule, f"{f.message}"))
    if advice:
        text = render(export, imported, advice)
        load_scenario_text(text, str(out))
    return ImportResult(text, imported, export, advice)
