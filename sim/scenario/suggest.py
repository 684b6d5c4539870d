"""'Did you mean ...?': the nearest valid key, value or name for a misspelt one.

Every error about an unknown key, enum value, policy, reference (job, pool, proxy, tenant,
repository) or ``--set`` path echoes the bad value and, when one is close enough, suggests it.
A suggestion is a likely typo of the value, never merely a similar name:

- only names of the kind the reference needs are offered (the callers pass that namespace: a
  repository owner is a pool or a standalone proxy, never a pooled one);
- close enough means a spelling that differs only in case, or at most ``MAX_EDITS_PER_CHAR``
  edits per character (insert, delete, replace, swap two neighbours; at least one edit);
- a sibling is no typo: a name that differs in a number (``proxy-07`` is not ``proxy-06``;
  ``proxy-1`` is ``proxy-01``) or in a one-letter part (``pool-b`` is not ``pool-a``) is not
  suggested;
- a name of another kind given where this kind is needed (a pool where a proxy is) is said so.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["did_you_mean", "edits", "fields_at", "nearest", "siblings"]

MAX_EDITS_PER_CHAR = 0.3
"""Edits allowed per character of the longer spelling, rounded down (at least one): 1 edit up
to 6 characters, 2 up to 9, 3 up to 13. Typos are a slip or two, or a word spelt by ear
(``pool-nite``); more is another word."""

_TOKENS = re.compile(r"[a-z]+|[0-9]+")


def edits(a: str, b: str) -> int:
    """Edits turning ``a`` into ``b``: inserts, deletes, replacements and swaps of two
    neighbouring characters (the optimal string alignment distance)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def siblings(a: str, b: str) -> bool:
    """Whether two names are different members of one numbered or lettered series: split into
    letter and digit runs, they have as many parts, and at some place both parts are numbers of
    different value or both single letters that differ (case ignored)."""
    ta, tb = _TOKENS.findall(a.lower()), _TOKENS.findall(b.lower())
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb, strict=True):
        if x.isdigit() and y.isdigit() and int(x) != int(y):
            return True
        if len(x) == len(y) == 1 and x.isalpha() and y.isalpha() and x != y:
            return True
    return False


def nearest(value: object, choices: Iterable[object]) -> str | None:
    """The valid choice most likely meant by ``value``: one that differs only in case first,
    then the one with the fewest edits within ``MAX_EDITS_PER_CHAR`` that is no sibling of it
    (ties: the first in ``choices``); None when nothing is close."""
    text = str(value)
    names = [str(c) for c in choices]
    if not names or text in names:
        return None
    low = text.lower()
    same = [n for n in names if n.lower() == low]
    if same:
        return same[0]
    best: tuple[int, str] | None = None
    for name in names:
        limit = max(1, int(MAX_EDITS_PER_CHAR * max(len(low), len(name))))
        if abs(len(name) - len(low)) > limit or siblings(text, name):
            continue
        n = edits(low, name.lower())
        if n <= limit and (best is None or n < best[0]):
            best = (n, name)
    return best[1] if best is not None else None


def did_you_mean(
    value: object,
    choices: Iterable[object],
    form: str = " (did you mean {}?)",
    *,
    kind: str = "",
    elsewhere: Mapping[str, Iterable[object]] | None = None,
) -> str:
    """``" (did you mean 'x'?)"`` (or ``form`` with the quoted choice) for the nearest choice,
    or ``""`` when none is close. With ``elsewhere`` ({kind: names}), a value that is the name
    of another kind says so instead: ``" ('x' is a pool, not a proxy)"`` (``kind`` names the
    kind wanted)."""
    for other, names in (elsewhere or {}).items():
        if str(value) in {str(n) for n in names}:
            wanted = f", not a {kind}" if kind else ""
            return f" ('{value}' is a {other}{wanted})"
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
