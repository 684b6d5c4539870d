"""The JSON Schema of scenario files and the Markdown reference generated from it."""

from __future__ import annotations

from typing import Any

from sim.scenario.schema import Scenario
from sim.sources import link_facts

HEADER = """# Scenario file reference

Generated from the schema by `poolsim schema --markdown -o docs/scenario-reference.md`; do not edit
by hand (a test fails when this file is stale).

**Units.** Every dimensional value needs its unit; a bare number other than 0 is an error
(`window: 8` would be 8 seconds, `write_bandwidth: 10` 10 bytes/s):
durations '90s', '15min', '8h', '1h30m', '1d'; clock times 'HH:MM'; sizes '500 GB', '5 TiB'
(decimal and binary units; '1024 B' for bytes); rates '1 Gbps', '200 MB/s', '400 GB/h'; request
rates '3500/s', '1200/min'. The JSON Schema carries one pattern per unit type, so an editor flags
'10GB' given for a rate. CSV columns keep their documented units.

**Numbers.** `true`/`false` are not numbers and `1e20` is not an integer. Capacities, rates, mean
sizes, windows, the bucket and compression ratios must be > 0; a proxy `throttle` of 0 is refused
(leave the key out for no throttle). No duration may exceed the simulation horizon (the simulated
days plus a 7-day safety margin); timeline events after it are errors, and events after every
session could still be running (each job's last session until its schedule's next start, or its
window's end with `terminate_on_window`) are warnings (errors under `--strict`). `validate` also
opens and checks every inventory and trace CSV, estimates the memory the run needs and refuses a
scenario that would not fit (`--force` goes on anyway), and says when a `module:Class` policy
imports (and so runs) the user's own Python code.

Unknown keys are errors. Every value can be overridden on the command line with
`--set dotted.key=value` (list items by index or by name, e.g. `--set proxies.proxy-01.threads=32`).
"""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "poolsim scenario"
    _add_policy_params(schema)
    return schema


def _add_policy_params(schema: dict[str, Any]) -> None:
    """Each built-in policy's typed parameters: a ``params.<policy>`` definition, and on
    ``PolicySpec`` one if/then per policy that ties ``params`` to its ``name``."""
    from sim.policies.registry import params_schemas

    defs = schema["$defs"]
    rules = []
    for name, params in params_schemas().items():
        if params.get("properties"):
            params.pop("title", None)
            params["description"] = (
                f"Parameters of the policy `{name}`: `policy: {{name: {name}, params: {{...}}}}`"
                " (`poolsim policies` lists them)."
            )
            defs[f"params.{name}"] = params
            then: dict[str, Any] = {"$ref": f"#/$defs/params.{name}"}
        else:
            then = {"type": "object", "maxProperties": 0}
        rules.append(
            {
                "if": {"properties": {"name": {"const": name}}, "required": ["name"]},
                "then": {"properties": {"params": then}},
            }
        )
    defs["PolicySpec"]["allOf"] = rules


def _type_of(prop: dict[str, Any] | bool, defs: dict[str, Any]) -> str:
    if not isinstance(prop, dict) or not prop:
        return "any"
    if "$ref" in prop:
        return f"[{prop['$ref'].split('/')[-1]}](#{prop['$ref'].split('/')[-1].lower()})"
    if "x-unit" in prop:
        return str(prop["x-unit"])
    if "anyOf" in prop:
        return " or ".join(_type_of(p, defs) for p in prop["anyOf"])
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    t = prop.get("type")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "array":
        return f"list of {_type_of(prop.get('items', {}), defs)}"
    if t == "object" and "additionalProperties" in prop:
        keys = prop.get("propertyNames", {})
        key = _type_of(keys, defs) if keys else "name"
        return f"map {key} → {_type_of(prop['additionalProperties'], defs)}"
    return str(t or "any")


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in prop:
        return "(empty)" if prop.get("type") in ("array", "object") else "(see description)"
    v = prop["default"]
    return "–" if v is None else f"`{v}`"


def _limits(prop: dict[str, Any]) -> str:
    parts = []
    for key, sym in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("minItems", "items ≥"),
        ("pattern", "pattern"),
    ):
        if key in prop:
            parts.append(f"{sym} `{prop[key]}`")
    return ", ".join(parts)


def _section(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    lines = [f"## {name}", "", schema.get("description", "").strip(), ""]
    lines += ["| key | type | default | limits | description |", "|---|---|---|---|---|"]
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        desc = prop.get("description", "")
        if ("$ref" in prop or "anyOf" in prop) and "x-unit" not in prop:
            inner = prop.get("anyOf", [prop])
            for p in inner:
                if "description" in p and not desc:
                    desc = p["description"]
        lines.append(
            f"| `{key}` | {_type_of(prop, defs)} | {_default(prop, key in required)} "
            f"| {_limits(prop)} | {desc.replace('|', '/')} |"
        )
    lines.append("")
    return lines


def markdown_reference() -> str:
    """The scenario reference in Markdown, one table per section."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    lines = [HEADER]
    lines += _section("Scenario", schema, defs)
    for name in sorted(defs):
        lines += _section(name, defs[name], defs)
    return link_facts("\n".join(lines).rstrip() + "\n")  # "vb365 fact N" -> its source URL
