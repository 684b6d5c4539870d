"""A small YAML writer for imported scenarios: plain mappings and lists, with a comment next
to any value (``Note``), so the written file says where each value came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/ ]*[A-Za-z0-9_.)/]$|^[A-Za-z_]$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


@dataclass(frozen=True)
class Note:
    """A value with the comment written after it on its line."""

    value: Any
    comment: str


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if (
        not _GUID.match(text)
        and _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and ": " not in text
    ):
        return text
    return json.dumps(text)


def _comment(text: str) -> str:
    return "  # " + " ".join(text.split())


def _flow(values: list[Any]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def dump(doc: dict[str, Any], indent: int = 0) -> list[str]:
    """Lines of a YAML mapping whose values may be ``Note``s."""
    pad = " " * indent
    lines: list[str] = []
    for key, raw in doc.items():
        note = raw.comment if isinstance(raw, Note) else None
        value = raw.value if isinstance(raw, Note) else raw
        tail = _comment(note) if note else ""
        if isinstance(value, list) and all(_is_scalar(v) for v in value):
            lines.append(f"{pad}{key}: {_flow(value)}{tail}")
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:{tail}")
            for item in value:
                inner = dump(item, indent + 4)
                lines.append(f"{pad}  - {inner[0].lstrip()}")
                lines.extend(inner[1:])
        elif isinstance(value, dict):
            if not value:
                lines.append(f"{pad}{key}: {{}}{tail}")
                continue
            lines.append(f"{pad}{key}:{tail}")
            lines.extend(dump(value, indent + 2))
        else:
            lines.append(f"{pad}{key}: {scalar(value)}{tail}")
    return lines
