"""YAML loading that keeps the source position of every value, with strict scalar rules."""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import TypeAlias

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError
from yaml.resolver import Resolver

from sim.errors import Problem, ScenarioError

__all__ = [
    "Positions",
    "format_path",
    "load_yaml",
    "load_yaml_file",
    "position_of",
]

Loc: TypeAlias = tuple[str | int, ...]
Positions: TypeAlias = dict[tuple[str | int, ...], tuple[int, int]]


_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def format_path(loc: tuple[str | int, ...]) -> str:
    """Return a readable path: ('pools', 0, 'members', 2) gives 'pools[0].members[2]'."""
    out: list[str] = []
    for part in loc:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _BARE_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def position_of(positions: Positions, loc: tuple[str | int, ...]) -> tuple[int, int] | None:
    """Return the position of the longest prefix of loc that has one, or None."""
    for end in range(len(loc), -1, -1):
        pos = positions.get(loc[:end])
        if pos is not None:
            return pos
    return None


_INT_RE = re.compile(r"[-+]?[0-9][0-9_]*", re.ASCII)
_FLOAT_RE = re.compile(
    r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*|[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?", re.ASCII
)
_SPECIAL_FLOAT_RE = re.compile(r"[-+]?\.(?:inf|nan)", re.ASCII | re.IGNORECASE)
_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
# Alias expansion can blow a tiny file up exponentially ("billion laughs").
_MAX_NODES = 1_000_000
MAX_FILE_BYTES = 16 * 2**20
"""Largest scenario file read (16 MiB; the shipped ones are a few KB)."""
_RESOLVER = Resolver()
_resolve: Callable[[type[Node], str, tuple[bool, bool]], str] = _RESOLVER.resolve


class _TooLargeError(Exception):
    """The document expands to more than _MAX_NODES values."""


def _mark(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


def _has_explicit_tag(node: ScalarNode) -> bool:
    plain = node.style is None
    return node.tag != _resolve(ScalarNode, node.value, (plain, not plain))


class _Converter:
    """Turns a composed node tree into plain Python values, recording positions and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: Positions = {(): (1, 1)}
        self.problems: list[Problem] = []
        self._seen: set[tuple[int | None, int | None, str]] = set()
        self._active: set[int] = set()
        self._count = 0

    def problem(self, pos: tuple[int, int] | None, loc: Loc, message: str) -> None:
        line, column = pos if pos is not None else (None, None)
        # An aliased node is visited once per use; report its faults once.
        key = (line, column, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.problems.append(Problem(self.file, line, column, format_path(loc), message))

    def value(self, node: Node, loc: Loc) -> object:
        self._count += 1
        if self._count > _MAX_NODES:
            raise _TooLargeError
        if isinstance(node, ScalarNode):
            return self.scalar(node, loc)
        if id(node) in self._active:
            self.problem(_mark(node), loc, "an alias refers to a node that contains it")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _TAG + "seq":
                    self.problem(_mark(node), loc, f"tag {node.tag!r} is not supported")
                items: list[object] = []
                for index, item in enumerate(node.value):
                    item_loc = (*loc, index)
                    self.positions[item_loc] = _mark(item)
                    items.append(self.value(item, item_loc))
                return items
            if isinstance(node, MappingNode):
                if node.tag != _TAG + "map":
                    self.problem(_mark(node), loc, f"tag {node.tag!r} is not supported")
                return self.mapping(node, loc, frozenset())
        finally:
            self._active.discard(id(node))
        self.problem(_mark(node), loc, f"unsupported YAML node {type(node).__name__}")
        return None

    def scalar(self, node: ScalarNode, loc: Loc) -> object:
        text: str = node.value
        plain = node.style is None
        if _has_explicit_tag(node):
            if node.tag == _TAG + "str":
                return text
            self.problem(
                _mark(node), loc, f"tag {node.tag!r} is not supported (quote strings instead)"
            )
            return None
        if not plain:
            return text
        if text in ("", "~") or text.lower() == "null":
            return None
        if text.lower() == "true":
            return True
        if text.lower() == "false":
            return False
        if _INT_RE.fullmatch(text):
            return int(text.replace("_", ""))
        if _SPECIAL_FLOAT_RE.fullmatch(text):
            self.problem(_mark(node), loc, f"{text} is not allowed; use a finite number")
            return None
        if _FLOAT_RE.fullmatch(text):
            number = float(text.replace("_", ""))
            if not math.isfinite(number):
                self.problem(_mark(node), loc, f"{text} is out of range for a number")
                return None
            return number
        return text

    def key(self, node: Node, loc: Loc) -> str | None:
        """Return a mapping key as str, or None after reporting why it is not one."""
        if isinstance(node, ScalarNode):
            value = self.scalar(node, loc)
            if isinstance(value, str):
                return value
            if _has_explicit_tag(node):
                return None
            if value is None:
                shown = f"null {node.value}" if node.value else "an empty key"
            else:
                shown = f"{type(value).__name__} {node.value}"
            self.problem(_mark(node), loc, f"keys must be strings, got {shown} (quote it)")
            return None
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        self.problem(_mark(node), loc, f"keys must be strings, got {kind}")
        return None

    def merge_sources(self, node: Node, loc: Loc) -> Iterator[MappingNode]:
        if isinstance(node, MappingNode):
            yield node
        elif isinstance(node, SequenceNode) and all(
            isinstance(item, MappingNode) for item in node.value
        ):
            yield from node.value
        else:
            self.problem(_mark(node), loc, "'<<' must merge a mapping or a list of mappings")

    def mapping(self, node: MappingNode, loc: Loc, skip: frozenset[str]) -> dict[str, object]:
        """Convert a mapping, leaving out keys in skip (those set by a merging mapping)."""
        explicit: list[tuple[str, Node, Node]] = []
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            name = self.key(key_node, loc)
            if name is None:
                continue
            line = _mark(key_node)[0]
            if name in first_line:
                self.problem(
                    _mark(key_node),
                    (*loc, name),
                    f"duplicate key {name!r} (lines {first_line[name]} and {line})",
                )
                continue
            first_line[name] = line
            explicit.append((name, key_node, value_node))
        taken = set(skip) | set(first_line)
        result: dict[str, object] = {}
        for merge_node in merges:
            for source in self.merge_sources(merge_node, loc):
                if id(source) in self._active:
                    self.problem(_mark(source), loc, "an alias refers to a node that contains it")
                    continue
                self._active.add(id(source))
                try:
                    merged = self.mapping(source, loc, frozenset(taken))
                finally:
                    self._active.discard(id(source))
                taken.update(merged)
                result.update(merged)
        for name, key_node, value_node in explicit:
            if name in skip:
                continue
            value_loc = (*loc, name)
            self.positions[value_loc] = _mark(key_node)
            result[name] = self.value(value_node, value_loc)
        return result


def _syntax_problem(error: yaml.YAMLError, text: str, file: str) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "invalid YAML"
        if error.problem and error.context:
            context = error.context
            cmark = error.context_mark
            if cmark is not None and (mark is None or cmark.line != mark.line):
                context += f" at line {cmark.line + 1}"
            message += f" ({context})"
        if mark is None:
            return Problem(file, None, None, "", f"invalid YAML: {message}")
        return Problem(file, mark.line + 1, mark.column + 1, "", f"invalid YAML: {message}")
    if isinstance(error, ReaderError) and isinstance(error.position, int):
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        char = error.character
        shown = f"#x{ord(char):04x}" if isinstance(char, str) else f"#x{char:02x}"
        return Problem(file, line, column, "", f"invalid YAML: character {shown}: {error.reason}")
    return Problem(file, None, None, "", f"invalid YAML: {error}")


def load_yaml(text: str, file: str) -> tuple[object, Positions]:
    """Parse one YAML document into plain values and the position of each value.

    Raises ScenarioError listing every problem found.
    """
    converter = _Converter(file)
    data: object = None
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        if documents:
            data = converter.value(documents[0], ())
        if len(documents) > 1:
            converter.problem(
                _mark(documents[1]),
                (),
                f"found {len(documents)} YAML documents; a scenario file holds exactly one",
            )
    except yaml.YAMLError as error:
        raise ScenarioError([_syntax_problem(error, text, file)], file) from None
    except RecursionError:
        message = "the document is nested too deeply"
        raise ScenarioError([Problem(file, None, None, "", message)], file) from None
    except _TooLargeError:
        message = f"the document expands to more than {_MAX_NODES:,} values (through aliases)"
        raise ScenarioError([Problem(file, None, None, "", message)], file) from None
    if converter.problems:
        ordered = sorted(converter.problems, key=lambda p: (p.line or 0, p.column or 0))
        raise ScenarioError(ordered, file)
    return data, converter.positions


def load_yaml_file(path: str | os.PathLike[str]) -> tuple[object, Positions]:
    """Read a UTF-8 YAML file and load it as load_yaml does."""
    file = os.fspath(path)
    try:
        st = os.stat(file)  # before opening: a FIFO or /dev/zero is never read
    except FileNotFoundError:
        raise ScenarioError([Problem(file, None, None, "", "file not found")], file) from None
    except OSError as error:
        message = f"cannot read file: {error.strerror or error}"
        raise ScenarioError([Problem(file, None, None, "", message)], file) from None
    if not stat.S_ISDIR(st.st_mode) and not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or special file"
        message = f"is {kind}, not a regular file; give a scenario file"
        raise ScenarioError([Problem(file, None, None, "", message)], file)
    if st.st_size > MAX_FILE_BYTES:
        message = f"is {st.st_size:,} bytes; a scenario file is at most {MAX_FILE_BYTES:,} bytes"
        raise ScenarioError([Problem(file, None, None, "", message)], file)
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ScenarioError([Problem(file, None, None, "", "file not found")], file) from None
    except IsADirectoryError:
        message = "is a directory, not a file"
        raise ScenarioError([Problem(file, None, None, "", message)], file) from None
    except OSError as error:
        message = f"cannot read file: {error.strerror or error}"
        raise ScenarioError([Problem(file, None, None, "", message)], file) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        message = f"not valid UTF-8 (byte {error.start} is {raw[error.start]:#04x})"
        raise ScenarioError([Problem(file, line, None, "", message)], file) from None
    return load_yaml(text, file)
