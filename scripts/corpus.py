"""A large corpus of bad and odd inputs, run through the CLI: right numbers or a clear refusal.

    .venv/bin/python scripts/corpus.py results/corpus [--sample N] [--jobs J] [--timeout S]

Writes mutations of every shipped scenario (wrong types, zero / negative / huge numbers,
unknown keys, deleted keys, broken references, pool-rule violations, malformed and missing
units, YAML junk, other encodings, mistimed timelines), bad inventory and trace CSVs and
special files into OUT/cases/, then runs ``poolsim validate`` on each and ``poolsim run`` on
those validate accepts, each under a timeout, and classifies every outcome:

- ``refused``: exit 2, no traceback, the message names the file (and a line or field);
- ``refused-unclear``: exit 2 without naming the file;
- ``ran``: validate accepted it and run exited 0, 3 or 4 (an input allowed to be valid);
- ``refused-at-run``: validate accepted it and run refused it (validate must read what run reads);
- ``traceback``: a traceback, or exit 1;
- ``hang``: still running at the timeout;
- ``accepted``: validate accepted an input of a category that must be refused;
- ``bad-numbers``: run wrote an infinite value, or a negative time, size or throughput.

Every case is (category, file, must_refuse). The corpus is deterministic for a given --seed;
--sample N runs a random N of the cases (the whole corpus is written either way). The outcome of
every case is in OUT/outcomes.csv; the counts are printed, and the exit status is 1 when any
case is a traceback, a hang, accepted, refused-unclear, refused-at-run or bad-numbers.

The shipped scenarios are first shrunk to one simulated day and a few objects so that an
accepted case runs in seconds. tests/test_corpus.py is the same idea in-process (hypothesis);
this script is the larger corpus through the real command line.
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
POOLSIM = Path(sys.executable).with_name("poolsim")

UNIT_VALUE = re.compile(r"^\s*([0-9][0-9_.,]*)\s*([A-Za-z/][A-Za-z/ ]*)$")
DURATION_UNITS = {"ms", "s", "sec", "min", "m", "h", "d", "w"}
REFERENCE_KEYS = {
    "tenant",
    "repository",
    "owner",
    "target",
    "proxy",
    "pool",
    "source_job",
    "members",
    "proxies",
    "job",
}
ENUM_KEYS = {"policy", "os", "kind", "action", "process", "distribution", "service"}
CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
OUTCOMES = (
    "refused",
    "ran",
    "refused-unclear",
    "refused-at-run",
    "traceback",
    "hang",
    "accepted",
    "bad-numbers",
)
BAD = {"refused-unclear", "refused-at-run", "traceback", "hang", "accepted", "bad-numbers"}


@dataclass(frozen=True)
class Case:
    """One input: its category, the scenario file to give the CLI, and whether it must be
    refused (False: it may be valid and run, or be refused, but never crash or hang)."""

    category: str
    path: Path
    must_refuse: bool


# --- shrinking and walking -----------------------------------------------------------------------


def shrink(data: dict[str, Any]) -> dict[str, Any]:
    """One simulated day and a few objects or tasks, so that an accepted case runs fast."""
    data = copy.deepcopy(data)
    sim_part = data.setdefault("simulation", {})
    sim_part["days"] = 1
    for tenant in data.get("tenants") or []:
        tenant["users"] = min(int(tenant.get("users", 1)), 20)
        for mix in (tenant.get("objects") or {}).values():
            if isinstance(mix, dict) and "count" in mix:
                mix["count"] = min(int(mix["count"]), 10)
    syn = data.get("synthetic")
    if isinstance(syn, dict):
        syn["tasks"] = min(int(syn.get("tasks", 1000)), 50)
        syn["warmup_tasks"] = 0
    for rot in data.get("maintenance_rotations") or []:
        rot.update(cycles=1, interval="1d", duration="1h")
    jobs = data.get("jobs") or []
    if len(jobs) > 6:
        keep = {j["name"] for j in jobs[:4]}
        data["jobs"] = [j for j in jobs if j["name"] in keep or j.get("source_job") in keep]
    events = data.get("timeline") or []
    for event in events:  # the shipped events on day 2 stay inside the 1-day run's horizon
        if isinstance(event, dict) and isinstance(event.get("day"), int):
            event["day"] = min(event["day"], 2)
    return data


def leaves(node: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every node below the top: mappings by key, lists by index."""
    if prefix:
        yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*prefix, i))


def put(data: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def drop(data: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def field_of(path: tuple[Any, ...]) -> str:
    """The nearest key name on the path (a list item takes its list's key)."""
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def unit_kind(value: str) -> str | None:
    """'duration', 'rate', 'size' or 'count rate' for a shipped value with a unit."""
    match = UNIT_VALUE.match(value)
    if match is None:
        return None
    unit = match.group(2).strip()
    if unit.startswith("/"):
        return "count rate"
    if "/" in unit or unit.lower().endswith("bps"):
        return "rate"
    if unit in DURATION_UNITS:
        return "duration"
    if unit.upper().rstrip("I").endswith("B") or unit.endswith("iB"):
        return "size"
    return None


# --- mutations --------------------------------------------------------------------------------

WRONG_KIND = {"duration": "10 GB", "rate": "10GB", "size": "10 MB/s", "count rate": "8h"}


def value_mutations(path: tuple[Any, ...], value: object) -> Iterator[tuple[str, object, bool]]:
    """(category, new value, must_refuse) for one leaf of a shipped scenario."""
    key = field_of(path)
    if isinstance(value, bool):
        yield "wrong-type", "junk", True
        return
    if isinstance(value, (int, float)):
        if key in {"seed", "day", "on_day", "days"} and value == 0:
            return
        yield "wrong-type", True, True
        yield "wrong-type", "junk", True
        yield "wrong-type", [1, 2], True
        yield "negative", -1, key not in {"seed"}
        yield "zero", 0, False
        yield "huge", 10**20, key in {"users", "count", "tasks", "cores", "threads", "days"}
        yield "huge", 1e300, True
        if isinstance(value, int):
            yield "wrong-type", 1.5, key in {"users", "count", "tasks", "cores", "threads", "days"}
        return
    if not isinstance(value, str):
        return
    kind = unit_kind(value)
    if kind is not None:
        number = UNIT_VALUE.match(value).group(1)  # type: ignore[union-attr]
        unit = UNIT_VALUE.match(value).group(2).strip()  # type: ignore[union-attr]
        if number.replace(".", "").strip("0_,") != "":
            yield "bare-number", float(number.replace("_", "").replace(",", "")), True
            yield "bare-number", number, True
        yield "malformed-unit", WRONG_KIND[kind], True
        yield "malformed-unit", f"{number} parsecs", True
        yield "malformed-unit", f"{number}{unit}{unit}", True
        yield "negative", f"-{number} {unit}", True
        yield "zero", f"0 {unit}", kind in {"rate", "size", "count rate"}
        yield "huge", f"1e300 {unit}", kind == "size"  # a finite huge rate is no limit
        if kind == "duration":
            yield "beyond-horizon", "99999d", True
        yield "wrong-type", True, True
        return
    if CLOCK.match(value):
        yield "malformed-clock", "25:00", True
        yield "malformed-clock", "20:61", True
        yield "malformed-clock", "8pm", True
        return
    if key in REFERENCE_KEYS:
        yield "broken-reference", "nope-not-defined", True
        return
    if key in ENUM_KEYS:
        yield "bad-enum", "nope", True
        return
    if key == "name" and len(path) == 1:
        yield "bad-name", "..", True
        yield "bad-name", "a/b", True
        yield "bad-name", "a\\b", True
        yield "bad-name", "tab\there", True
        return
    if key == "name":
        yield "odd-text", "x$\\bogus$", False
        yield "odd-text", "[/]", False
        yield "odd-text", "caf\u00e9 \u20ac", False


def scenario_mutations(base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(category, mutated data, must_refuse) for one shrunk shipped scenario."""
    for path, value in list(leaves(base)):
        for category, new, refuse in value_mutations(path, value):
            yield category, put(base, path, new), refuse
        if isinstance(value, dict):
            yield "unknown-key", put(base, (*path, "thredas"), 1), True
        if len(path) >= 2 and isinstance(path[-1], str):
            yield "deleted-key", drop(base, path), False
    yield "unknown-key", {**copy.deepcopy(base), "Name": "x"}, True
    for i, job in enumerate(base.get("jobs") or []):
        schedule = job.get("schedule")
        if isinstance(schedule, dict):
            yield "empty-schedule", put(base, ("jobs", i, "schedule"), {"days": []}), True
            yield "retry", put(base, ("jobs", i, "retry"), {"wait": "1000min"}), True
            yield "retry", put(base, ("jobs", i, "retry"), {"wait": "30s"}), True
    pools = base.get("pools") or []
    proxies = base.get("proxies") or []
    for i, pool in enumerate(pools):
        members = pool.get("members") or []
        if members:
            yield "pool-rule", put(base, ("pools", i, "members"), [*members, members[0]]), True
            yield "pool-rule", put(base, ("pools", i, "members"), []), True
        if len(pools) == 1 and len(proxies) > len(members) and not members:
            continue
        if proxies:
            twice = copy.deepcopy(base)
            twice["pools"].append({"name": "other-pool", "members": [members[0]]})
            yield "pool-rule", twice, True
    if proxies:
        dup = copy.deepcopy(base)
        dup["proxies"].append(copy.deepcopy(proxies[0]))
        yield "pool-rule", dup, True
        for field, bad in (("cores", True), ("ram", 0), ("ram", "0 GB"), ("cores", 0)):
            yield "zero", put(base, ("proxies", 0, field), bad), True
    for i in range(len(base.get("tenants") or [])):
        yield "huge", put(base, ("tenants", i, "users"), 900_000_000), True
        yield "huge", put(base, ("tenants", i, "users"), 10**20), True
        yield "wrong-type", put(base, ("tenants", i, "users"), "1e20"), True
    yield "wrong-type", put(base, ("seed",), True), True
    yield "zero", put(base, ("simulation", "bucket"), 0), True
    yield "zero", put(base, ("simulation", "bucket"), "0 s"), True
    yield "huge", put(base, ("simulation", "bucket"), "1 ms"), True
    timeline = base.get("timeline") or []
    for i, event in enumerate(timeline):
        if isinstance(event, dict):
            yield "mistimed-timeline", put(base, ("timeline", i, "day"), 40), True
            yield "mistimed-timeline", put(base, ("timeline", i, "day"), 0), True
            yield "mistimed-timeline", put(base, ("timeline", i, "day"), -3), True
            yield "mistimed-timeline", put(base, ("timeline", i, "at"), "24:01"), True
            yield "mistimed-timeline", put(base, ("timeline", i, "at"), "24:00"), False
    if proxies and not timeline:
        name = proxies[-1]["name"]
        late = [{"at": "01:00", "day": 30, "action": "maintenance_on", "proxy": name}]
        yield "mistimed-timeline", {**copy.deepcopy(base), "timeline": late}, True


def yaml_text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


JUNK = ["\t", ": :", "- [", "{", "&a *a", "!!python/object:os.system", "\ufeff", "\x00", "%YAML 9"]


def text_mutations(text: str, rng: random.Random) -> Iterator[tuple[str, bytes, bool]]:
    """(category, file bytes, must_refuse): YAML junk at random places, other encodings."""
    for junk in JUNK:
        at = rng.randrange(len(text))
        blob = (text[:at] + junk + text[at:]).encode("utf-8")
        yield "yaml-junk", blob, junk in {"\x00", "!!python/object:os.system", "%YAML 9"}
    for encoding in ("utf-16", "utf-8-sig", "cp1252", "latin-1", "utf-32"):
        yield "encoding", text.replace("name: ", "name: caf\u00e9-", 1).encode(encoding), False
    yield "encoding", b"\xff\xfe\xfd not text \x81\x8d", True
    yield "yaml-junk", text[: len(text) // 2].encode("utf-8"), False
    yield "yaml-junk", (text + "\n" + text).encode("utf-8"), True  # duplicate keys
    yield "yaml-junk", b"- just\n- a list\n", True
    yield "yaml-junk", b"42\n", True
    yield "yaml-junk", b"", True


# --- CSVs, traces, special files --------------------------------------------------------------

INVENTORY_GOOD = "type,size,items\nmailbox,1 GB,100\nonedrive,2 GB,50\n"
INVENTORIES: list[tuple[str, bytes, bool]] = [
    ("csv-ok", INVENTORY_GOOD.encode("utf-8"), False),
    ("csv-encoding", INVENTORY_GOOD.encode("utf-8-sig"), False),
    ("csv-encoding", INVENTORY_GOOD.encode("utf-16"), False),
    ("csv-encoding", (INVENTORY_GOOD + "site,1 GB,1,\n").encode("cp1252"), False),
    ("csv-encoding", "type,size,items\nmailbox,1 GB,1 \u20ac\n".encode("cp1252"), True),
    ("csv-encoding", b"\xff\xfe\xfd\x00\x81 junk\n", True),
    ("csv-duplicate-column", b"type,size,items,size\nmailbox,1 GB,1,2 GB\n", True),
    ("csv-empty-column", b"type,size,items,\nmailbox,1 GB,1,\n", True),
    ("csv-missing-column", b"type,size\nmailbox,1 GB\n", True),
    ("csv-value", b"type,size,items\nmailbox,inf,1\n", True),
    ("csv-value", b"type,size,items\nmailbox,nan,1\n", True),
    ("csv-value", b"type,size,items\nmailbox,1e300,1\n", True),
    ("csv-value", b"type,size,items\nmailbox,-1 GB,1\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 GB,-1\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 GB,1e300\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 GB,1.5\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 GB,nan\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 Gbps,1\n", True),
    ("csv-value", b"type,size,items\nnot_a_type,1 GB,1\n", True),
    ("csv-value", b"type,size,items,daily_change\nmailbox,1 GB,1,2\n", True),
    ("csv-value", b"type,size,items,daily_change\nmailbox,1 GB,1,nan\n", True),
    ("csv-value", b"type,size,items\nmailbox,1 GB,99999999999999999999999\n", True),
    ("csv-malformed", b'type,size,items\nmailbox,"1 GB,1\n', True),
    ("csv-malformed", b"type,size,items\nmailbox,1 GB\n", True),
    ("csv-malformed", b"type,size,items\nmailbox,1 GB,1,extra,extra\n", True),
    ("csv-long-field", b"type,size,items\nmailbox,1 GB,1\n" + b"x" * 140_000 + b",1,1\n", True),
    ("csv-empty", b"", True),
    ("csv-header-only", b"type,size,items\n", False),
    ("csv-markup", b"type,size,items\n[/]mailbox,1 GB,1\n", True),
]
TRACES: list[tuple[str, bytes, bool]] = [
    ("trace-ok", b"time,size\n0,1000000\n1.5,2000000\n3,500000\n", False),
    ("trace-ok", b"time\n0\n1\n2\n", False),
    ("trace-value", b"time\n0\ninf\n", True),
    ("trace-value", b"time\n0\nnan\n", True),
    ("trace-value", b"time\n0\n1e300\n", True),
    ("trace-value", b"time\n-1\n", True),
    ("trace-value", b"time\n5\n1\n", True),
    ("trace-value", b"time\n99999999\n", True),
    ("trace-value", b"time,size\n0,inf\n", True),
    ("trace-value", b"time,size\n0,-5\n", True),
    ("trace-value", b"time,size\n0,1e300\n", True),
    ("trace-value", b"time\n0\njunk\n", True),
    ("trace-duplicate-column", b"time,time\n0,1\n", True),
    ("trace-missing-column", b"size\n100\n", True),
    ("trace-encoding", "time\n0\n1\n".encode("utf-16"), False),
    ("trace-encoding", b"\xff\xfe\xfd\x81 junk", True),
    ("trace-empty", b"", True),
    ("trace-long-field", b"time\n" + b"9" * 140_000 + b"\n", True),
]


def special_file(kind: str, where: Path) -> Path:
    """A special file of the given kind at where (a FIFO, a symlink to a device, a directory)."""
    if kind == "fifo":
        os.mkfifo(where)
    elif kind == "dev-zero":
        where.symlink_to("/dev/zero")
    elif kind == "dev-null":
        where.symlink_to("/dev/null")
    elif kind == "directory":
        where.mkdir()
    elif kind == "dangling":
        where.symlink_to(where.parent / "does-not-exist")
    elif kind == "huge":
        with open(where, "wb") as handle:
            handle.truncate(17 * 2**20)
    return where


SPECIALS = ("fifo", "dev-zero", "dev-null", "directory", "dangling", "huge")


# --- writing the corpus -------------------------------------------------------------------------


class Writer:
    """Writes the cases into OUT/cases/, one numbered file (and its CSVs) per case."""

    def __init__(self, out: Path) -> None:
        self.cases_dir = out / "cases"
        if self.cases_dir.exists():
            shutil.rmtree(self.cases_dir)
        self.cases_dir.mkdir(parents=True)
        self.cases: list[Case] = []

    def folder(self, category: str) -> Path:
        folder = self.cases_dir / f"{len(self.cases):04d}-{category}"
        folder.mkdir()
        return folder

    def add(self, category: str, blob: bytes, must_refuse: bool, stem: str = "s") -> Path:
        folder = self.folder(category)
        path = folder / f"{stem}.yaml"
        path.write_bytes(blob)
        self.cases.append(Case(category, path, must_refuse))
        return folder

    def add_path(self, category: str, path: Path, must_refuse: bool) -> None:
        self.cases.append(Case(category, path, must_refuse))


def with_inventory(base: dict[str, Any], name: str) -> dict[str, Any]:
    data = copy.deepcopy(base)
    tenant = data["tenants"][0]
    tenant.pop("objects", None)
    tenant["inventory"] = name
    return data


def with_trace(base: dict[str, Any], name: str) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data["synthetic"]["arrivals"] = {"process": "trace", "trace": name}
    return data


def build(out: Path, seed: int) -> list[Case]:
    rng = random.Random(seed)
    writer = Writer(out)
    bases = {p.stem: shrink(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in SHIPPED}
    for stem, base in bases.items():
        writer.add("shipped", yaml_text(base).encode("utf-8"), False, stem)
        for category, data, refuse in scenario_mutations(base):
            writer.add(category, yaml_text(data).encode("utf-8"), refuse, stem)
        for category, blob, refuse in text_mutations(yaml_text(base), rng):
            writer.add(category, blob, refuse, stem)
    tenant_base = bases["quickstart"]
    for category, blob, refuse in INVENTORIES:
        folder = writer.folder(category)
        (folder / "objects.csv").write_bytes(blob)
        path = folder / "s.yaml"
        path.write_text(yaml_text(with_inventory(tenant_base, "objects.csv")), encoding="utf-8")
        writer.add_path(category, path, refuse)
    trace_base = bases["mmc-pool"]
    for category, blob, refuse in TRACES:
        folder = writer.folder(category)
        (folder / "trace.csv").write_bytes(blob)
        path = folder / "s.yaml"
        path.write_text(yaml_text(with_trace(trace_base, "trace.csv")), encoding="utf-8")
        writer.add_path(category, path, refuse)
    for kind in SPECIALS:
        folder = writer.folder("special-scenario")
        writer.add_path("special-scenario", special_file(kind, folder / "s.yaml"), True)
        for what, base, attach in (
            ("inventory", tenant_base, with_inventory),
            ("trace", trace_base, with_trace),
        ):
            folder = writer.folder(f"special-{what}")
            special_file(kind, folder / "x.csv")
            path = folder / "s.yaml"
            path.write_text(yaml_text(attach(base, "x.csv")), encoding="utf-8")
            writer.add_path(f"special-{what}", path, True)
    folder = writer.folder("missing-csv")
    path = folder / "s.yaml"
    path.write_text(yaml_text(with_inventory(tenant_base, "nope.csv")), encoding="utf-8")
    writer.add_path("missing-csv", path, True)
    folder = writer.folder("missing-csv")
    path = folder / "s.yaml"
    path.write_text(yaml_text(with_trace(trace_base, "nope.csv")), encoding="utf-8")
    writer.add_path("missing-csv", path, True)
    writer.add_path("missing-scenario", writer.cases_dir / "does-not-exist.yaml", True)
    return writer.cases


# --- running --------------------------------------------------------------------------------------


def call(args: list[str], timeout: float, cwd: Path) -> tuple[int | None, str]:
    """(exit status or None on a timeout, stdout + stderr) of one poolsim command."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            [str(POOLSIM), *args],
            capture_output=True,
            timeout=timeout,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode("utf-8", "replace")
        return None, text + (exc.stderr or b"").decode("utf-8", "replace")
    text = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    return done.returncode, text


def names_the_file(case: Case, text: str) -> bool:
    """The refusal names the scenario or one of its CSVs (wrapped lines joined)."""
    flat = "".join(text.split())
    names = [case.path.name, "objects.csv", "trace.csv", "x.csv", "nope.csv"]
    return any(name in flat for name in names)


def classify(case: Case, out: Path, timeout: float) -> tuple[str, str]:
    """(outcome, the output that decided it) of one case."""
    cwd = case.path.parent if case.path.parent.exists() else out
    code, text = call(["validate", str(case.path)], timeout, cwd)
    if code is None:
        return "hang", f"validate still running after {timeout:.0f} s\n{text}"
    if "Traceback" in text or code == 1:
        return "traceback", text
    if code == 2:
        return ("refused" if names_the_file(case, text) else "refused-unclear"), text
    if code != 0:
        return "traceback", f"validate exited {code}\n{text}"
    if case.must_refuse:
        return "accepted", text
    results = out / "runs" / case.path.parent.name
    code, text = call(["run", str(case.path), "--results", str(results)], timeout, cwd)
    bad = [
        f"{row['scope']} {row['metric']} = {row['value']}"
        for summary in results.glob("*/*/summary.csv")
        for row in csv.DictReader(summary.open(encoding="utf-8"))
        if row["value"].strip().lower() in {"inf", "-inf"}
        or (row["unit"] in {"s", "h", "B", "GB/h"} and row["value"].startswith("-"))
    ]
    shutil.rmtree(results, ignore_errors=True)
    if bad:
        return "bad-numbers", "; ".join(bad) + "\n" + text
    if code is None:
        return "hang", f"run still running after {timeout:.0f} s\n{text}"
    if "Traceback" in text or code == 1:
        return "traceback", text
    if code == 2:
        return "refused-at-run", text
    if code in (0, 3, 4):
        return "ran", text
    return "traceback", f"run exited {code}\n{text}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder for the corpus and its outcomes")
    ap.add_argument("--sample", type=int, default=0, help="run a random N of the cases (0: all)")
    ap.add_argument("--seed", type=int, default=14, help="seed of the corpus and the sample")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="cases run at once")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per command")
    ap.add_argument("--only", default="", help="run only categories containing this text")
    args = ap.parse_args()
    out: Path = args.out.resolve()
    cases = build(out, args.seed)
    print(f"wrote {len(cases)} cases in {out / 'cases'}", flush=True)
    chosen = [c for c in cases if args.only in c.category]
    if args.sample and args.sample < len(chosen):
        chosen = random.Random(args.seed).sample(chosen, args.sample)
    started = time.monotonic()
    done: list[int] = []

    def one(case: Case) -> tuple[str, str]:
        found = classify(case, out, args.timeout)
        done.append(1)
        if len(done) % 50 == 0:
            print(f"  {len(done)}/{len(chosen)} ({time.monotonic() - started:.0f} s)", flush=True)
        return found

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(one, chosen))
    shutil.rmtree(out / "runs", ignore_errors=True)
    with open(out / "outcomes.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "category", "must_refuse", "outcome", "output"])
        for case, (outcome, text) in zip(chosen, outcomes, strict=True):
            rel = case.path.relative_to(out / "cases")
            writer.writerow([rel, case.category, case.must_refuse, outcome, text[-2000:]])
    counts = Counter(outcome for outcome, _ in outcomes)
    wall = time.monotonic() - started
    print(f"ran {len(chosen)} of {len(cases)} cases in {wall:.0f} s (outcomes.csv):")
    for name in OUTCOMES:
        print(f"  {name:16} {counts.get(name, 0)}")
    for case, (outcome, text) in zip(chosen, outcomes, strict=True):
        if outcome in BAD:
            last = text.strip().splitlines()[-1:] or [""]
            print(f"{outcome}: {case.path.relative_to(out)} ({case.category}): {last[0][:160]}")
    return 1 if any(o in BAD for o, _ in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
