"""``--set`` overrides: dotted keys into raw scenario data, list items by index or by name."""

from __future__ import annotations

import re
from typing import Any

from sim.errors import Problem, ScenarioError
from sim.scenario.suggest import did_you_mean
from sim.scenario.yamlsource import format_path, load_yaml

__all__ = ["apply_override", "parse_override"]

_KEY = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``dotted.key[0].x=value`` into path parts and a YAML-typed value."""
    if "=" not in text:
        raise ScenarioError(
            [Problem("--set", None, None, text, "expected KEY=VALUE, e.g. proxies[0].threads=32")]
        )
    key, value = text.split("=", 1)
    parts = [m.group(1) or m.group(2) for m in _KEY.finditer(key.strip())]
    if not parts or "".join(f"{p}" for p in parts) == "":
        raise ScenarioError([Problem("--set", None, None, text, "empty key")])
    parsed, _ = load_yaml(value, "--set")
    return parts, parsed


def apply_override(data: dict[str, Any], text: str) -> tuple[str | int, ...]:
    """Apply one ``--set`` to raw scenario data in place; returns the path it set.

    List items may be chosen by index or by their ``name``.
    """
    parts, value = parse_override(text)
    node: Any = data
    walked: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            idx = _list_index(node, part)
            if idx is None:
                names = [x.get("name") for x in node if isinstance(x, dict)]
                raise ScenarioError(
                    [
                        Problem(
                            "--set",
                            None,
                            None,
                            format_path(tuple(walked)),
                            f"no item '{part}' in this list (indices 0..{len(node) - 1}"
                            + (f", names {', '.join(map(str, names))})" if names else ")")
                            + did_you_mean(part, [n for n in names if n]),
                        )
                    ]
                )
            walked.append(idx)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            walked.append(part)
            if last:
                node[part] = value
            else:
                if node.get(part) is None:  # absent or an empty section such as 'calibration:'
                    node[part] = {}
                node = node[part]
        else:
            raise ScenarioError(
                [
                    Problem(
                        "--set",
                        None,
                        None,
                        format_path(tuple(walked)),
                        f"'{format_path(tuple(walked))}' is a value, not a section; cannot set "
                        f"'{part}' inside it",
                    )
                ]
            )
    return tuple(walked)


def _list_index(node: list[Any], part: str) -> int | None:
    if part.isdigit():
        idx = int(part)
        return idx if idx < len(node) else None
    for j, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == part:
            return j
    return None
