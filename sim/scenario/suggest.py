"""'Did you mean ...?': the nearest valid key, value or name for a misspelt one (difflib).

Every error about an unknown key, enum value, policy, reference (job, pool, proxy, tenant,
repository) or ``--set`` path echoes the bad value and, when one is close enough, suggests it.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["did_you_mean", "fields_at", "nearest"]

CUTOFF = 0.6
"""difflib's similarity ratio a suggestion needs (its own default)."""


def nearest(value: object, choices: Iterable[object]) -> str | None:
    """The valid choice closest to ``value``: one that differs only in case first, then the
    best difflib match of at least ``CUTOFF``; None when nothing is close."""
    text = str(value)
    names = [str(c) for c in choices]
    if not names or text in names:
        return None
    same = [n for n in names if n.lower() == text.lower()]
    if same:
        return same[0]
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=CUTOFF)
    return lowered[close[0]] if close else None


def did_you_mean(
    value: object, choices: Iterable[object], form: str = " (did you mean {}?)"
) -> str:
    """``" (did you mean 'x'?)"`` (or ``form`` with the quoted choice) for the nearest choice,
    or ``""`` when none is close."""
    best = nearest(value, choices)
    return form.format(f"'{best}'") if best is not None else ""


def _unwrap(tp: Any) -> list[Any]:
    """The alternatives of a field type, Annotated and Optional removed."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in get_args(tp):
            if arg is not type(None):
                out += _unwrap(arg)
        return out
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    """The type found under ``part`` (a field name, a list index, a dict key) of ``tp``."""
    for alt in _unwrap(tp):
        origin = get_origin(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            field = alt.model_fields.get(str(part))
            if field is not None:
                return field.annotation
        elif origin in (list, tuple) and isinstance(part, int):
            return get_args(alt)[0]
        elif origin is dict:
            return get_args(alt)[1]
    return None


def fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names of the section holding ``loc`` (its last part is a key there); empty
    when the path does not lead to a section."""
    tp: Any = model
    for part in loc[:-1]:
        tp = _step(tp, part)
        if tp is None:
            return []
    for alt in _unwrap(tp):
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            return list(alt.model_fields)
    return []
