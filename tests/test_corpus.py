"""The bad-input corpus as a property: every mutation of every shipped scenario, inventory and trace
is either refused with a ScenarioError (never another exception, never a hang) or genuinely
valid (it runs to the end without an exception, within a time bound, and its tables hold only
non-negative, finite times).

Mutations: wrong types, zero / negative / huge numbers, unknown keys, deleted keys, broken
references, malformed and missing units, YAML junk, other encodings; CSVs and traces with junk
values, duplicate columns, encodings and long fields. The shipped scenarios are first shrunk to
one simulated day and a few objects so that an accepted mutation runs in well under a second.
The default run keeps to ~60 s; the ``slow`` tier (CI) runs many more examples.
"""

from __future__ import annotations

import copy
import math
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.yamlsource import load_yaml_file
from sim.workload.check import check_inputs
from sim.workload.inventory import read_inventory_csv
from sim.workload.synthetic import read_trace

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
RUN_LIMIT_S = 20
"""An accepted mutation of a shrunk scenario that runs longer than this is a hang."""

FAST = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SLOW = settings(FAST, max_examples=1000, derandomize=False)

VALUES: list[object] = [
    True,
    False,
    0,
    -1,
    0.0,
    -0.5,
    1e300,
    10**20,
    2**63,
    1e-300,
    "",
    " ",
    "junk",
    "10GB",
    "8",
    "0 s",
    "1e20",
    "inf",
    "-5 MB/s",
    "99999999d",
    "1 Gbps",
    "25:00",
    "00:00",
    "nope",
    "x$\\bogus$",
    "[/]",
    "..",
    "a/b",
    None,
    [],
    {},
    [1, 2],
    {"unknown": 1},
    "\u00e9\u20ac",
    "\x00",
]


def shrink(data: dict[str, Any]) -> dict[str, Any]:
    """One simulated day and a few objects or tasks, so that an accepted mutation runs fast."""
    data = copy.deepcopy(data)
    data.setdefault("simulation", {})
    if isinstance(data["simulation"], dict):
        data["simulation"]["days"] = 1
    for t in data.get("tenants") or []:
        t["users"] = min(int(t.get("users", 1)), 20)
        for mix in (t.get("objects") or {}).values():
            if isinstance(mix, dict) and "count" in mix:
                mix["count"] = min(int(mix["count"]), 10)
    syn = data.get("synthetic")
    if isinstance(syn, dict):
        syn["tasks"] = min(int(syn.get("tasks", 1000)), 50)
        syn["warmup_tasks"] = 0
    for rot in data.get("maintenance_rotations") or []:
        if isinstance(rot, dict):  # one pass, a day apart, inside the one day's horizon
            rot.update(cycles=1, interval="1d", duration="1h")
    jobs = data.get("jobs") or []
    if len(jobs) > 6:  # keep a backup job and whatever references it
        keep = {j["name"] for j in jobs[:4]}
        data["jobs"] = [j for j in jobs if j["name"] in keep or j.get("source_job") in keep]
    return data


BASES = {p.stem: shrink(load_yaml_file(p)[0]) for p in SHIPPED}  # type: ignore[arg-type]


def paths(node: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the data: mappings by key, lists by index."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, (*prefix, i))


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """YAML bytes of base with one to three mutations (structure, values, text, encoding)."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        all_paths = [p for p in paths(data) if p]
        path = draw(st.sampled_from(all_paths))
        parent = parent_of(data, path)
        op = draw(st.sampled_from(["value", "value", "value", "delete", "unknown", "number"]))
        if op == "value":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(VALUES)))  # never share
        elif op == "number":
            parent[path[-1]] = draw(
                st.one_of(
                    st.integers(-(10**30), 10**30),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["1 B", "1 B/s", "1/s", "1 ms", "0.001 s", "5 PB", "1 Tbps"]),
                )
            )
        elif op == "delete":
            if isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list):
                parent.pop(path[-1])
        else:
            target = parent[path[-1]]
            if isinstance(target, dict):
                target[draw(st.sampled_from(["Name", "thredas", "x", "proxy", "day"]))] = 1
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if draw(st.integers(0, 4)) == 0:  # YAML junk at a random place
        at = draw(st.integers(0, len(text)))
        junk = draw(
            st.sampled_from(["\t", ": :", "- [", "{", "&a *a", "!!python/object", "\ufeff"])
        )
        text = text[:at] + junk + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "cp1252", "latin-1"]))
    return text.encode(encoding, errors="replace")


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"hang: still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def outcome(path: Path) -> str:
    """'refused', or 'ran' after checking the run; any other exception fails the test."""
    with time_limit(RUN_LIMIT_S):
        try:
            loaded = load_scenario(path)
            check = check_inputs(loaded)
        except ScenarioError as exc:
            assert exc.problems, "a ScenarioError must name at least one problem"
            for p in exc.problems:
                assert p.message and p.file
            return "refused"
        if not check.fits:
            return "refused"
        result = sim.simulate(loaded)
    for table in (result.tasks, result.sessions):
        for column in ("start", "end", "start_s", "end_s"):
            if column in table:
                values = table[column].to_numpy(dtype=float)
                values = values[~np.isnan(values)]
                assert np.all(values >= 0) and np.all(np.isfinite(values)), column
    values = result.summary["value"].to_numpy(dtype=float)
    assert not np.any(np.isinf(values)), "an infinite summary value"
    assert math.isfinite(result.wall_s)
    return "ran"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def _scenario_property(name: str, workdir: Path, blob: bytes) -> None:
    folder = workdir / name
    folder.mkdir(exist_ok=True)
    path = folder / "s.yaml"
    path.write_bytes(blob)
    outcome(path)


@pytest.mark.parametrize("name", sorted(BASES))
def test_shrunk_shipped_scenarios_run(name: str, workdir: Path) -> None:
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(BASES[name], sort_keys=False), encoding="utf-8")
    assert outcome(path) == "ran"


@pytest.mark.parametrize("name", sorted(BASES))
@FAST
@given(data=st.data())
def test_mutated_scenario_is_refused_or_valid(
    name: str, workdir: Path, data: st.DataObject
) -> None:
    _scenario_property(name, workdir, data.draw(mutated(BASES[name])))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASES))
@SLOW
@given(data=st.data())
def test_mutated_scenario_is_refused_or_valid_many(
    name: str, workdir: Path, data: st.DataObject
) -> None:
    _scenario_property(name, workdir, data.draw(mutated(BASES[name])))


# --- CSVs and traces ----------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(
        ["mailbox", "site", "team", "1 GB", "0", "-1", "inf", "nan", "1e300", "1e-300", "", " "]
    ),
    st.sampled_from(["1_000", "1,000", "\u00e9", "\ufeff", '"', "x" * 140_000, "\r", "\n"]),
    st.integers(-(10**25), 10**25).map(str),
    st.floats().map(repr),
    st.text(max_size=8),
)
HEADERS = st.lists(
    st.sampled_from(["type", "size", "items", "daily_change", "time", "owner", "", "size"]),
    min_size=0,
    max_size=5,
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, max_size=5), max_size=6))
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    blob = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        blob += draw(st.binary(max_size=16))
    return blob


def _csv_property(tmp: Path, blob: bytes) -> None:
    path = tmp / "x.csv"
    path.write_bytes(blob)
    with time_limit(RUN_LIMIT_S):
        try:
            table = read_inventory_csv(path)
            assert np.all(np.isfinite(table.size_bytes)) and np.all(table.size_bytes >= 0)
            assert np.all(np.isfinite(table.items))
        except ScenarioError:
            pass
        try:
            times, sizes = read_trace(path, horizon=8 * 86_400.0)
            assert np.all(np.isfinite(times)) and np.all(np.diff(times) >= 0)
            assert sizes is None or np.all(np.isfinite(sizes))
        except ScenarioError:
            pass


@settings(FAST, max_examples=200)
@given(blob=csv_bytes())
def test_mutated_csv_is_read_or_refused(workdir: Path, blob: bytes) -> None:
    _csv_property(workdir, blob)


@pytest.mark.slow
@settings(SLOW, max_examples=3000)
@given(blob=csv_bytes())
def test_mutated_csv_is_read_or_refused_many(workdir: Path, blob: bytes) -> None:
    _csv_property(workdir, blob)
