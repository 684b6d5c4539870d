"""Tests for sim.units: parsing human units and formatting them back."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.units import (
    UnitError,
    format_bytes,
    format_duration,
    format_rate,
    parse_clock,
    parse_count_rate,
    parse_duration,
    parse_rate,
    parse_size,
)

KIB = 1024


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        (2.5, 2.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("90 s", 90.0),
        ("90 sec", 90.0),
        ("90 secs", 90.0),
        ("1 second", 1.0),
        ("2 seconds", 2.0),
        ("15min", 900.0),
        ("15 m", 900.0),
        ("15 mins", 900.0),
        ("1 minute", 60.0),
        ("8h", 28800.0),
        ("8 hr", 28800.0),
        ("8 hrs", 28800.0),
        ("8 hours", 28800.0),
        ("8H", 28800.0),
        ("2d", 172800.0),
        ("1 day", 86400.0),
        ("1w", 604800.0),
        ("2 weeks", 1209600.0),
        ("1.5h", 5400.0),
        (".5h", 1800.0),
        ("1h30m", 5400.0),
        ("2h 15min 10s", 8110.0),
        ("1d12h", 129600.0),
        ("1s500ms", 1.5),
        ("500ms", 0.5),
        ("500MS", 0.5),
        ("  45s  ", 45.0),
        ("1,200s", 1200.0),
        ("1_200 s", 1200.0),
        ("1,200", 1200.0),
        ("-0s", 0.0),
    ],
)
def test_parse_duration_good(given: object, seconds: float) -> None:
    assert parse_duration(given) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "given",
    [
        "",
        "   ",
        "-5s",
        "-1h30m",
        -1,
        -0.5,
        math.inf,
        math.nan,
        True,
        False,
        None,
        [1],
        "8 hours ago",
        "5 fortnights",
        "h",
        "1h30",
        "1m30m",
        "30s 1h",
        "1,5s",
        "1,20s",
        "1__0s",
        "1.2.3s",
        "1e400s",
    ],
)
def test_parse_duration_bad(given: object) -> None:
    with pytest.raises(UnitError):
        parse_duration(given)


def test_unit_error_message_names_value_and_forms() -> None:
    with pytest.raises(UnitError) as info:
        parse_duration("8 hours ago")
    message = str(info.value)
    assert message.startswith("'8 hours ago' is not a duration")
    assert "use a number of seconds or a number with a unit: ms, s, min, h, d, w" in message
    assert "'1h30m'" in message


def test_unit_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        parse_size("-1 GB")


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("00:00", 0.0),
        ("02:30", 9000.0),
        ("2:30", 9000.0),
        ("18:45:30", 67530.0),
        ("23:59:59", 86399.0),
        ("24:00", 86400.0),
        ("24:00:00", 86400.0),
        (" 07:05 ", 25500.0),
    ],
)
def test_parse_clock_good(given: object, seconds: float) -> None:
    assert parse_clock(given) == seconds


@pytest.mark.parametrize(
    "given",
    ["24:01", "24:00:01", "25:00", "12:60", "12:00:60", "12", "12:5", "1230", "", "noon", 150,
     9000.0, None, True, "-01:00", "12:00:00:00", "12h30"],
)  # fmt: skip
def test_parse_clock_bad(given: object) -> None:
    with pytest.raises(UnitError, match="time of day"):
        parse_clock(given)


@pytest.mark.parametrize(
    ("given", "size"),
    [
        (0, 0),
        (1000, 1000),
        (1.5, 1.5),
        ("1000", 1000),
        ("1 B", 1),
        ("1b", 1),
        ("1 KB", 1000),
        ("1kb", 1000),
        ("1.5 MB", 1_500_000),
        ("500 GB", 500 * 1000**3),
        ("500 gb", 500 * 1000**3),
        ("2 TB", 2 * 1000**4),
        ("1 PB", 1000**5),
        ("1 KiB", KIB),
        ("1kib", KIB),
        ("3 MiB", 3 * KIB**2),
        ("1 GiB", KIB**3),
        ("5 TiB", 5 * KIB**4),
        ("5TiB", 5 * KIB**4),
        ("5 TIB", 5 * KIB**4),
        ("1 PiB", KIB**5),
        ("1,200 GB", 1200 * 1000**3),
        ("1_200 GB", 1200 * 1000**3),
        ("1e3 MB", 1000**3),
    ],
)
def test_parse_size_good(given: object, size: float) -> None:
    assert parse_size(given) == pytest.approx(size)


@pytest.mark.parametrize(
    "given",
    ["", "GB", "-1 GB", -1, "5 XB", "5 KIBB", "5 GB/s", "5 G", "1,5 GB", None, True, math.nan],
)
def test_parse_size_bad(given: object) -> None:
    with pytest.raises(UnitError, match="is not a size"):
        parse_size(given)


@pytest.mark.parametrize(
    ("given", "rate"),
    [
        (0, 0),
        (125, 125),
        ("125", 125),
        ("1 bps", 0.125),
        ("8 Kbps", 1000),
        ("8 kbps", 1000),
        ("100 Mbps", 12_500_000),
        ("1 Gbps", 125_000_000),
        ("10Gbps", 1_250_000_000),
        ("1 Tbps", 125_000_000_000),
        ("8 Mb/s", 1_000_000),
        ("1 B/s", 1),
        ("200 MB/s", 200_000_000),
        ("200MB/s", 200_000_000),
        ("200 MB / s", 200_000_000),
        ("10 MB/sec", 10_000_000),
        ("10 MBps", 10_000_000),
        ("60 GB/min", 1_000_000_000),
        ("400 GB/h", 400e9 / 3600),
        ("400 GB/hour", 400e9 / 3600),
        ("1 GiB/s", KIB**3),
        ("1 GiBps", KIB**3),
        ("1,000 MB/s", 1_000_000_000),
    ],
)
def test_parse_rate_good(given: object, rate: float) -> None:
    assert parse_rate(given) == pytest.approx(rate)


@pytest.mark.parametrize(
    "given",
    ["", "Gbps", "-1 Gbps", -5, "1 Gibps", "1 Gib/s", "5 GB", "5 GB/fortnight", "5 XBps", "1 iB/s",
     "5 GB per s", None, False],
)  # fmt: skip
def test_parse_rate_bad(given: object) -> None:
    with pytest.raises(UnitError, match="is not a data rate"):
        parse_rate(given)


@pytest.mark.parametrize(
    ("given", "rate"),
    [
        (0, 0),
        (3500, 3500),
        (0.5, 0.5),
        ("3500", 3500),
        ("3500/s", 3500),
        ("3500/sec", 3500),
        ("1200/min", 20),
        ("1,200 / min", 20),
        ("1_200/min", 20),
        ("6000/h", 6000 / 3600),
        ("6000/hour", 6000 / 3600),
        ("8640/day", 0.1),
    ],
)
def test_parse_count_rate_good(given: object, rate: float) -> None:
    assert parse_count_rate(given) == pytest.approx(rate)


@pytest.mark.parametrize(
    "given", ["", "/s", "-5/s", -5, "5 per s", "5/fortnight", "5/", "5/s/s", "5 items/s", None]
)
def test_parse_count_rate_bad(given: object) -> None:
    with pytest.raises(UnitError, match="is not a count rate"):
        parse_count_rate(given)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (5, "5 B"),
        (512, "512 B"),
        (0.5, "0.500 B"),
        (999.6, "1.00 KB"),
        (1234, "1.23 KB"),
        (5e9, "5.00 GB"),
        (12.34e9, "12.3 GB"),
        (123.4e9, "123 GB"),
        (1.234e12, "1.23 TB"),
        (999_600_000, "1.00 GB"),
        (-2048, "-2.05 KB"),
    ],
)
def test_format_bytes(size: float, text: str) -> None:
    assert format_bytes(size) == text


def test_format_rate() -> None:
    assert format_rate(123e6) == "123 MB/s"
    assert format_rate(1.25e9) == "1.25 GB/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.0s"),
        (0.05, "50.0ms"),
        (45, "45.0s"),
        (59.94, "59.9s"),
        (59.96, "1m 00s"),
        (303, "5m 03s"),
        (7510, "2h 05m 10s"),
        (86399.6, "1d 00h 00m"),
        (273600, "3d 04h 00m"),
        (-90, "-1m 30s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_duration_seconds_round_trip(n: int) -> None:
    assert parse_duration(f"{n}s") == n
    assert parse_duration(f"{n:,}s") == n
    assert parse_duration(f"{n:_} sec") == n


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
)
def test_duration_compound_matches_sum(d: int, h: int, m: int, s: int) -> None:
    assert parse_duration(f"{d}d {h}h {m}min {s}s") == d * 86400 + h * 3600 + m * 60 + s


@given(st.integers(min_value=0, max_value=86399))
def test_clock_round_trip(n: int) -> None:
    hours, rest = divmod(n, 3600)
    assert parse_clock(f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}") == n


@given(st.floats(min_value=0, max_value=1e24, allow_nan=False, allow_infinity=False))
def test_format_bytes_reads_back_within_rounding(b: float) -> None:
    back = parse_size(format_bytes(b))
    assert back == pytest.approx(b, rel=5e-3, abs=5e-3)


_PARSERS: list[Callable[[object], float]] = [parse_duration, parse_size, parse_rate]


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_plain_decimal_strings_parse_as_base_units(x: object) -> None:
    for parse in _PARSERS:
        assert parse(str(x)) == pytest.approx(float(str(x)))
