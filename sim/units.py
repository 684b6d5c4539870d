"""Human units for scenario files: parsing durations, clock times, sizes and rates, and
formatting numbers back for people."""

from __future__ import annotations

import math
import re

__all__ = [
    "UnitError",
    "format_bytes",
    "format_duration",
    "format_rate",
    "parse_clock",
    "parse_count_rate",
    "parse_duration",
    "parse_rate",
    "parse_size",
]


class UnitError(ValueError):
    """A value that cannot be read as the unit asked for; the message names the allowed forms."""


DURATION_FORMS = (
    "a number of seconds or a number with a unit: ms, s, min, h, d, w (e.g. '90s', '8h', '1h30m')"
)
CLOCK_FORMS = "a time of day 'HH:MM' or 'HH:MM:SS' from 00:00 to 24:00 (e.g. '02:30', '18:45:30')"
SIZE_FORMS = (
    "a number of bytes or a number with a unit: B, KB, MB, GB, TB, PB (powers of 1000) "
    "or KiB, MiB, GiB, TiB, PiB (powers of 1024) (e.g. '500 GB', '5TiB')"
)
RATE_FORMS = (
    "a number of bytes per second, a bit rate in bps, Kbps, Mbps, Gbps, Tbps, "
    "or a size per time with B for bytes and b for bits "
    "(e.g. '200 MB/s', '400 GB/h', '1 GiB/s', '10 Gbps', '50 MBps')"
)
COUNT_RATE_FORMS = (
    "a number per second or a number per time unit: /s, /sec, /min, /h, /hour, /day "
    "(e.g. '3500/s', '1200/min', '6000/h')"
)

# One numeric part: commas only in strict thousands groups, so a decimal comma ('1,5') fails
# instead of silently meaning 15; underscores only between digits.
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_NUM = (
    rf"(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|{_DIGITS})(?:\.{_DIGITS})?(?:[eE][-+]?[0-9]+)?"
    rf"|\.{_DIGITS}(?:[eE][-+]?[0-9]+)?"
)
_NUMBER_RE = re.compile(rf"({_NUM})", re.ASCII)
_SIGN_RE = re.compile(r"\s*([-+]?)\s*", re.ASCII)
_DURATION_PART_RE = re.compile(rf"\s*({_NUM})\s*([a-z]+)\s*", re.ASCII | re.IGNORECASE)
_CLOCK_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", re.ASCII)
_SIZE_RE = re.compile(rf"({_NUM})\s*([a-z]*)", re.ASCII | re.IGNORECASE)
_RATE_RE = re.compile(rf"({_NUM})\s*(.*?)", re.ASCII | re.DOTALL)
_RATE_UNIT_RE = re.compile(r"([kmgtp]?)(i?)(b)(?:ps|\s*/\s*([a-z]+))", re.ASCII | re.IGNORECASE)
_COUNT_RATE_RE = re.compile(rf"({_NUM})\s*(?:/\s*([a-z]+))?", re.ASCII | re.IGNORECASE)

_DURATION_UNITS: dict[str, float] = {
    "ms": 0.001,
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
    **dict.fromkeys(("w", "week", "weeks"), 604800.0),
}
_PER_UNITS: dict[str, float] = {
    **dict.fromkeys(("s", "sec", "second"), 1.0),
    **dict.fromkeys(("min", "minute"), 60.0),
    **dict.fromkeys(("h", "hr", "hour"), 3600.0),
    **dict.fromkeys(("d", "day"), 86400.0),
}
_PREFIX_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_SIZE_UNITS: dict[str, float] = {"": 1.0}
for _prefix, _power in _PREFIX_POWER.items():
    _SIZE_UNITS[_prefix + "b"] = 1000.0**_power
    if _prefix:
        _SIZE_UNITS[_prefix + "ib"] = 1024.0**_power


def _show(v: object) -> str:
    if isinstance(v, str):
        return repr(v)
    return f"{v!r} ({type(v).__name__})"


def _error(v: object, what: str, forms: str, detail: str = "") -> UnitError:
    note = f" ({detail})" if detail else ""
    return UnitError(f"{_show(v)} is not {what}{note}; use {forms}")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("_", ""))


def _checked(v: object, result: float, what: str, forms: str) -> float:
    if not math.isfinite(result):
        raise _error(v, what, forms, "too large")
    return result


def _split_sign(v: object, text: str, what: str, forms: str) -> str:
    """Strip a leading sign from text; raise for a negative value other than zero."""
    m = _SIGN_RE.match(text)
    assert m is not None
    rest = text[m.end() :]
    if m.group(1) == "-":
        num = _NUMBER_RE.match(rest)
        if num is None or _number(num.group(1)) != 0.0:
            raise _error(v, what, forms, "must not be negative")
    return rest


def _plain_number(v: object, what: str, forms: str) -> float | None:
    """Return v as a float if it is a real number, None if it is a str; raise otherwise."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise _error(v, what, forms)
    if isinstance(v, str):
        return None
    try:
        result = float(v)
    except OverflowError:
        raise _error(v, what, forms, "too large") from None
    if math.isnan(result):
        raise _error(v, what, forms, "not a number")
    if result < 0:
        raise _error(v, what, forms, "must not be negative")
    return _checked(v, result, what, forms)


def parse_duration(v: object) -> float:
    """Return a duration in seconds from a number of seconds or a string like '1h30m'."""
    what, forms = "a duration", DURATION_FORMS
    number = _plain_number(v, what, forms)
    if number is not None:
        return number
    assert isinstance(v, str)
    text = _split_sign(v, v.strip(), what, forms).strip()
    if not text:
        raise _error(v, what, forms, "empty")
    if _NUMBER_RE.fullmatch(text):
        return _checked(v, _number(text), what, forms)
    total = 0.0
    pos = 0
    last_scale = math.inf
    while pos < len(text):
        m = _DURATION_PART_RE.match(text, pos)
        if m is None:
            raise _error(v, what, forms)
        unit = m.group(2).lower()
        scale = _DURATION_UNITS.get(unit)
        if scale is None:
            raise _error(v, what, forms, f"unknown unit {m.group(2)!r}")
        # '1m30m' or '30s1h' is more likely a typo than a meant sum.
        if scale >= last_scale:
            raise _error(v, what, forms, "units must go from largest to smallest, each once")
        last_scale = scale
        total += _number(m.group(1)) * scale
        pos = m.end()
    return _checked(v, total, what, forms)


def parse_clock(v: object) -> float:
    """Return seconds since midnight from 'HH:MM' or 'HH:MM:SS' ('24:00' gives 86400)."""
    what, forms = "a time of day", CLOCK_FORMS
    if not isinstance(v, str):
        raise _error(v, what, forms)
    m = _CLOCK_RE.fullmatch(v.strip())
    if m is None:
        raise _error(v, what, forms)
    hours, minutes = int(m.group(1)), int(m.group(2))
    seconds = int(m.group(3)) if m.group(3) is not None else 0
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and (minutes or seconds)):
        raise _error(v, what, forms, "out of range")
    return float(hours * 3600 + minutes * 60 + seconds)


def parse_size(v: object) -> float:
    """Return a size in bytes from a number of bytes or a string like '500 GB' or '5 TiB'."""
    what, forms = "a size", SIZE_FORMS
    number = _plain_number(v, what, forms)
    if number is not None:
        return number
    assert isinstance(v, str)
    text = _split_sign(v, v.strip(), what, forms)
    m = _SIZE_RE.fullmatch(text)
    if m is None:
        raise _error(v, what, forms, "empty" if not text else "")
    scale = _SIZE_UNITS.get(m.group(2).lower())
    if scale is None:
        raise _error(v, what, forms, f"unknown unit {m.group(2)!r}")
    return _checked(v, _number(m.group(1)) * scale, what, forms)


def parse_rate(v: object) -> float:
    """Return bytes per second from a number, a bit rate ('1 Gbps') or a byte rate ('200 MB/s').

    The case of the letter b decides: 'b' is bits ('Mbps', 'Mb/s'), 'B' is bytes ('MBps', 'MB/s').
    """
    what, forms = "a data rate", RATE_FORMS
    number = _plain_number(v, what, forms)
    if number is not None:
        return number
    assert isinstance(v, str)
    text = _split_sign(v, v.strip(), what, forms)
    m = _RATE_RE.fullmatch(text)
    if m is None:
        raise _error(v, what, forms, "empty" if not text else "")
    value, unit = _number(m.group(1)), m.group(2)
    if not unit:
        return _checked(v, value, what, forms)
    u = _RATE_UNIT_RE.fullmatch(unit)
    if u is None:
        raise _error(v, what, forms, f"unknown unit {unit!r}")
    prefix, binary, is_bits = u.group(1).lower(), bool(u.group(2)), u.group(3) == "b"
    per = 1.0
    if u.group(4) is not None:
        per_unit = _PER_UNITS.get(u.group(4).lower())
        if per_unit is None:
            raise _error(v, what, forms, f"unknown time unit {u.group(4)!r}")
        per = per_unit
    if binary and not prefix:
        raise _error(v, what, forms, f"unknown unit {unit!r}")
    if is_bits:
        if binary:
            raise _error(v, what, forms, "bit rates take decimal prefixes only")
        scale = 1000.0 ** _PREFIX_POWER[prefix] / 8.0
    else:
        scale = (1024.0 if binary else 1000.0) ** _PREFIX_POWER[prefix]
    return _checked(v, value * scale / per, what, forms)


def parse_count_rate(v: object) -> float:
    """Return events per second from a number per second or a string like '1200/min'."""
    what, forms = "a count rate", COUNT_RATE_FORMS
    number = _plain_number(v, what, forms)
    if number is not None:
        return number
    assert isinstance(v, str)
    text = _split_sign(v, v.strip(), what, forms)
    m = _COUNT_RATE_RE.fullmatch(text)
    if m is None:
        raise _error(v, what, forms, "empty" if not text else "")
    per = 1.0
    if m.group(2) is not None:
        per_unit = _PER_UNITS.get(m.group(2).lower())
        if per_unit is None:
            raise _error(v, what, forms, f"unknown time unit {m.group(2)!r}")
        per = per_unit
    return _checked(v, _number(m.group(1)) / per, what, forms)


# Stops at PB so that every formatted size reads back through parse_size.
_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def _sig3(x: float) -> str:
    """Format a non-negative x with 3 significant digits and no exponent."""
    rounded = float(f"{x:.3g}")
    if rounded == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(rounded)))
    return f"{rounded:.{decimals}f}"


def format_bytes(b: float) -> str:
    """Format bytes with decimal units and 3 significant digits, e.g. '1.23 TB'."""
    if not math.isfinite(b):
        return f"{b} B"
    sign, x = ("-" if b < 0 else ""), abs(b)
    index = 0
    while x >= 1000 and index < len(_BYTE_UNITS) - 1:
        x /= 1000
        index += 1
    text = _sig3(x)
    # Rounding can carry into the next unit: 999.6 KB is shown as 1.00 MB.
    if float(text) >= 1000 and index < len(_BYTE_UNITS) - 1:
        x = float(text) / 1000
        index += 1
        text = _sig3(x)
    if index == 0 and x == int(x):
        text = str(int(x))
    return f"{sign}{text} {_BYTE_UNITS[index]}"


def format_rate(bps: float) -> str:
    """Format bytes per second with decimal units, e.g. '123 MB/s'."""
    return f"{format_bytes(bps)}/s"


def format_duration(s: float) -> str:
    """Format seconds for people: '45.0s', '5m 03s', '2h 05m 10s', '3d 04h 00m'."""
    if not math.isfinite(s):
        return f"{s}s"
    sign, x = ("-" if s < 0 else ""), abs(s)
    if 0 < x < 0.1:
        return f"{sign}{x * 1000:.1f}ms"
    if round(x, 1) < 60:
        return f"{sign}{x:.1f}s"
    total = round(x)
    if total < 86400:
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{sign}{hours}h {minutes:02d}m {seconds:02d}s"
        return f"{sign}{minutes}m {seconds:02d}s"
    days, rest = divmod(round(x / 60), 1440)
    hours, minutes = divmod(rest, 60)
    return f"{sign}{days}d {hours:02d}h {minutes:02d}m"
