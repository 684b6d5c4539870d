"""Tests for sim.scenario.yamlsource: strict YAML loading with source positions."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.errors import Problem, ScenarioError
from sim.scenario.yamlsource import (
    Positions,
    format_path,
    load_yaml,
    load_yaml_file,
    position_of,
)

SCENARIO = """\
name: demo
pools:
  - name: pool-a
    members: [p1, p2, p3]
proxies:
  - name: p1
    threads: 64
  - {name: p2, threads: 32}
window: 02:30
"""


def load(text: str) -> object:
    return load_yaml(text, "s.yaml")[0]


def problems(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_yaml(text, "s.yaml")
    return info.value.problems


def test_nested_values_and_positions() -> None:
    data, positions = load_yaml(SCENARIO, "s.yaml")
    assert data == {
        "name": "demo",
        "pools": [{"name": "pool-a", "members": ["p1", "p2", "p3"]}],
        "proxies": [{"name": "p1", "threads": 64}, {"name": "p2", "threads": 32}],
        "window": "02:30",
    }
    assert positions[()] == (1, 1)
    assert positions[("name",)] == (1, 1)
    assert positions[("pools",)] == (2, 1)
    assert positions[("pools", 0)] == (3, 5)
    assert positions[("pools", 0, "members")] == (4, 5)
    assert positions[("pools", 0, "members", 2)] == (4, 23)
    assert positions[("proxies", 0, "threads")] == (7, 5)
    assert positions[("proxies", 1)] == (8, 5)
    assert positions[("proxies", 1, "threads")] == (8, 16)
    assert positions[("window",)] == (9, 1)


def test_position_of_falls_back_to_longest_present_prefix() -> None:
    _, positions = load_yaml(SCENARIO, "s.yaml")
    assert position_of(positions, ("proxies", 0, "threads")) == (7, 5)
    assert position_of(positions, ("proxies", 0, "missing", 3)) == (6, 5)
    assert position_of(positions, ("nothing",)) == (1, 1)
    assert position_of(positions, ()) == (1, 1)
    empty: Positions = {}
    assert position_of(empty, ("a",)) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("02:30", "02:30"),
        ("1:30:00", "1:30:00"),
        ("'5'", "5"),
        ('"true"', "true"),
        ("'null'", "null"),
        ("null", None),
        ("Null", None),
        ("~", None),
        ("", None),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("42", 42),
        ("-42", -42),
        ("+7", 7),
        ("1_000", 1000),
        ("0777", 777),
        ("0x1f", "0x1f"),
        ("0o17", "0o17"),
        ("1.5", 1.5),
        ("-2e3", -2000.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1.", 1.0),
        ("1,200", "1,200"),
        ("8h", "8h"),
        ("500 GB", "500 GB"),
        ("inf", "inf"),
        ("2024-01-01", "2024-01-01"),
        ("!!str 123", "123"),
        ("|\n  text\n", "text\n"),
    ],
)
def test_scalar_rules(text: str, value: object) -> None:
    result = load(f"v: {text}\n")
    assert isinstance(result, dict)
    assert result["v"] == value
    assert type(result["v"]) is type(value)


@pytest.mark.parametrize("text", [".inf", "-.inf", "+.INF", ".nan", ".NaN", "1e400"])
def test_special_floats_are_rejected(text: str) -> None:
    [problem] = problems(f"a:\n  b: {text}\n")
    assert (problem.line, problem.column, problem.path) == (2, 6, "a.b")
    assert text in problem.message


def test_duplicate_keys_name_both_lines() -> None:
    [problem] = problems("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert problem.path == "b.c"
    assert (problem.line, problem.column) == (4, 3)
    assert "'c'" in problem.message
    assert "lines 3 and 4" in problem.message


@pytest.mark.parametrize("text", ["1: a\n", "true: a\n", "~: a\n", "[1]: a\n", "{a: 1}: b\n"])
def test_non_string_keys_are_rejected(text: str) -> None:
    [problem] = problems(text)
    assert "keys must be strings" in problem.message
    assert (problem.line, problem.column) == (1, 1)


def test_quoted_keys_are_strings() -> None:
    assert load("'1': a\n\"true\": b\n") == {"1": "a", "true": "b"}


def test_all_problems_are_collected() -> None:
    found = problems("a: .inf\nb: 1\nb: 2\nc: [.nan]\n")
    assert [(p.line, p.path) for p in found] == [(1, "a"), (3, "b"), (4, "c[0]")]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, 2),
        ("a: 1\nb: 'open\n", 3, 1),
        ("a:\n\tb: 1\n", 2, 1),
        ("a: b: c\n", 1, 5),
        ("a: 1\n b: 2\n", 2, 3),
    ],
)
def test_syntax_errors_carry_position(text: str, line: int, column: int) -> None:
    [problem] = problems(text)
    assert (problem.line, problem.column) == (line, column)
    assert problem.message.startswith("invalid YAML: ")
    assert problem.path == ""


def test_syntax_error_includes_context() -> None:
    [problem] = problems("a: 1\nb: [1, 2\nc: 3\n")
    assert "while parsing a flow sequence at line 2" in problem.message


def test_unprintable_character_is_a_problem() -> None:
    [problem] = problems("a: 1\nb: x\x01y\n")
    assert (problem.line, problem.column) == (2, 5)


def test_multiple_documents_are_rejected() -> None:
    [problem] = problems("a: 1\n---\nb: 2\n")
    assert "2 YAML documents" in problem.message


@pytest.mark.parametrize("text", ["", "# just a comment\n", "---\n", "--- ~\n"])
def test_empty_document_is_none(text: str) -> None:
    assert load_yaml(text, "s.yaml") == (None, {(): (1, 1)})


def test_anchors_aliases_and_merge_keys() -> None:
    text = "base: &b {x: 1, y: 2}\nlist: &l [1, 2]\nthing:\n  <<: *b\n  y: 3\n  l: *l\n"
    data, positions = load_yaml(text, "s.yaml")
    assert data == {
        "base": {"x": 1, "y": 2},
        "list": [1, 2],
        "thing": {"x": 1, "y": 3, "l": [1, 2]},
    }
    assert positions[("thing", "y")] == (5, 3)
    assert positions[("thing", "x")] == (1, 11)


def test_merge_of_list_prefers_earlier_mappings() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n"
    data = load(text)
    assert isinstance(data, dict)
    assert data["c"] == {"x": 1, "z": 3}


def test_merge_of_scalar_is_a_problem() -> None:
    [problem] = problems("a:\n  <<: 5\n")
    assert "'<<'" in problem.message


def test_recursive_alias_is_a_problem() -> None:
    [problem] = problems("a: &x [1, *x]\n")
    assert problem.path == "a[1]"


def test_alias_expansion_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    [problem] = problems("\n".join(lines) + "\n")
    assert "expands" in problem.message


@pytest.mark.parametrize("text", ["a: !foo bar\n", "a: !!float 1\n", "a: !!set {x}\n"])
def test_tags_other_than_str_are_rejected(text: str) -> None:
    [problem] = problems(text)
    assert "not supported" in problem.message


def test_problem_str() -> None:
    assert str(Problem("s.yaml", 3, 5, "pools[0].members[2]", "bad")) == (
        "s.yaml:3:5: pools[0].members[2]: bad"
    )
    assert str(Problem("s.yaml", 3, None, "a", "bad")) == "s.yaml:3: a: bad"
    assert str(Problem("s.yaml", None, None, "", "bad")) == "s.yaml: (top level): bad"
    assert str(Problem("", None, None, "a", "bad")) == "a: bad"


def test_scenario_error_str_and_pickle() -> None:
    error = ScenarioError(
        [Problem("s.yaml", 1, 1, "a", "one"), Problem("s.yaml", 2, 3, "b", "two")]
    )
    assert str(error) == "2 problems in s.yaml:\ns.yaml:1:1: a: one\ns.yaml:2:3: b: two"
    assert str(ScenarioError([Problem("s.yaml", 1, 1, "a", "one")])).startswith(
        "1 problem in s.yaml:\n"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ScenarioError)
    assert copy.problems == error.problems
    assert str(copy) == str(error)


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), ""),
        (("pools", 0, "members", 2), "pools[0].members[2]"),
        (("proxies", 1, "threads"), "proxies[1].threads"),
        ((0, "a"), "[0].a"),
        (("my pool", "x-y"), "['my pool'].x-y"),
    ],
)
def test_format_path(loc: tuple[str | int, ...], text: str) -> None:
    assert format_path(loc) == text


def test_load_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    data, positions = load_yaml_file(path)
    assert isinstance(data, dict)
    assert data["window"] == "02:30"
    assert positions[("window",)] == (9, 1)


def test_load_yaml_file_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_yaml_file(path)
    assert str(info.value).startswith(f"1 problem in {path}:\n{path}:2:1: a: duplicate key")


def test_load_yaml_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_yaml_file(tmp_path / "nope.yaml")


def test_load_yaml_file_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="directory"):
        load_yaml_file(tmp_path)


def test_load_yaml_file_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(ScenarioError) as info:
        load_yaml_file(path)
    [problem] = info.value.problems
    assert problem.line == 2
    assert "UTF-8" in problem.message


_KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in ("null", "true", "false", "y", "n")
)
_SCALARS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.none(),
    st.text(alphabet="abcxyz 0123456789:-", max_size=12),
)


@given(st.dictionaries(_KEYS, _SCALARS, max_size=8))
def test_flat_mapping_round_trip(data: dict[str, object]) -> None:
    def dump(v: object) -> str:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v) + "'"

    text = "".join(f"{k}: {dump(v)}\n" for k, v in data.items())
    loaded, positions = load_yaml(text, "s.yaml")
    assert loaded == (data or None)
    for line, key in enumerate(data, start=1):
        assert positions[(key,)] == (line, 1)
