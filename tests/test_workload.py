"""Tests for sim.workload: generated inventories and CSV import."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import defaults as d
from sim.errors import ScenarioError
from sim.scenario.schema import TenantSpec, with_units
from sim.workload import ObjectTable, generate_objects, read_inventory_csv
from sim.workload.objects import TYPE_INDEX, tenant_objects


def tenant(users: int = 1000, **objects: dict[str, Any]) -> TenantSpec:
    data = {"name": "t", "users": users, "objects": objects}
    return TenantSpec.model_validate(with_units(data, TenantSpec))


def only(**objects: dict[str, Any]) -> TenantSpec:
    """A tenant holding only the types named (every other type has count 0)."""
    mix: dict[str, dict[str, Any]] = {t: {"count": 0} for t in d.OBJECT_TYPES}
    mix.update(objects)
    return tenant(1, **mix)


def gen(spec: TenantSpec, seed: int = 0) -> ObjectTable:
    return generate_objects(spec, np.random.default_rng(seed))


def counts(table: ObjectTable) -> dict[str, int]:
    return {t: int(np.count_nonzero(table.otype == TYPE_INDEX[t])) for t in d.OBJECT_TYPES}


# -- generation -------------------------------------------------------------------------------


def test_vcsp_blueprint_1000_users() -> None:
    # vb365 fact 15: 1,000 users = 1,000 mailboxes, 500 archives, 75 shared, 1,000 OneDrives,
    # 15 sites = 2,590 objects (no teams by default)
    table = gen(tenant(1000))
    assert len(table) == 2590
    assert counts(table) == {
        "mailbox": 1000,
        "archive_mailbox": 500,
        "shared_mailbox": 75,
        "onedrive": 1000,
        "site": 15,
        "team": 0,
    }
    assert table.licence_units == 2590


def test_columns_are_consistent() -> None:
    table = gen(tenant(300, team={"per_user": 0.1}))
    n = len(table)
    for col in (table.otype, table.size_bytes, table.items, table.daily_change):
        assert col.shape == (n,)
    assert np.all(table.size_bytes > 0)
    expected_workload = [
        d.WORKLOADS.index(d.WORKLOAD_OF_TYPE[d.OBJECT_TYPES[t]]) for t in table.otype
    ]
    assert table.workload.tolist() == expected_workload
    for t in d.OBJECT_TYPES:
        mine = table.daily_change[table.otype == TYPE_INDEX[t]]
        assert np.all(mine == d.DAILY_CHANGE_RATE_OF_TYPE[t])


@pytest.mark.parametrize("otype", list(d.OBJECT_TYPES))
def test_mean_size_per_type(otype: str) -> None:
    # lognormal with mean m and sigma s: sd = m * sqrt(exp(s^2) - 1); accept 4 standard errors
    n = 200_000
    table = gen(only(**{otype: {"count": n}}), seed=11)
    sizes = table.size_bytes
    assert sizes.size == n
    mean = d.MEAN_SIZE_BYTES_OF_TYPE[otype]
    sigma = d.SIZE_SIGMA_OF_TYPE[otype]
    se = mean * math.sqrt(math.expm1(sigma**2)) / math.sqrt(n)
    assert abs(sizes.mean() - mean) <= 4 * se
    # the log of a lognormal is normal(mu, sigma): its sd is sigma (tolerance: 4 SE of an sd)
    assert abs(np.log(sizes).std() - sigma) <= 4 * sigma / math.sqrt(2 * n)


def test_configured_mean_size_and_sigma() -> None:
    n = 100_000
    table = gen(only(site={"count": n, "mean_size": 5e8, "size_sigma": 0.5}), seed=3)
    se = 5e8 * math.sqrt(math.expm1(0.25)) / math.sqrt(n)
    assert abs(table.size_bytes.mean() - 5e8) <= 4 * se


def test_sigma_zero_gives_equal_sizes() -> None:
    table = gen(only(mailbox={"count": 5, "mean_size": 7e6, "size_sigma": 0}))
    np.testing.assert_allclose(table.size_bytes, [7e6] * 5, rtol=1e-12)


def test_count_overrides_per_user() -> None:
    table = gen(tenant(1000, mailbox={"count": 7, "per_user": 3.0}, team={"per_user": 0.5}))
    c = counts(table)
    assert c["mailbox"] == 7
    assert c["team"] == 500  # per_user applies where no count is given
    assert c["archive_mailbox"] == 500


def test_count_zero_removes_a_type() -> None:
    table = gen(tenant(1000, onedrive={"count": 0}))
    assert counts(table)["onedrive"] == 0
    assert len(table) == 1590


def test_items_at_least_one() -> None:
    # 1-byte objects with 1 MB items still hold one item each
    table = gen(only(mailbox={"count": 50, "mean_size": 1, "mean_item_size": 1e6}))
    assert table.items.min() >= 1
    np.testing.assert_array_equal(table.items, 1.0)
    # and items = round(size / mean item size) otherwise
    table = gen(only(onedrive={"count": 50, "mean_size": 1e8, "mean_item_size": 1e6}))
    np.testing.assert_array_equal(table.items, np.maximum(1.0, np.round(table.size_bytes / 1e6)))


def test_no_objects_at_all() -> None:
    table = gen(only())
    assert len(table) == 0
    assert table.licence_units == 0


def test_seeded_generation_is_deterministic() -> None:
    spec = tenant(500, team={"per_user": 0.05})
    a, b = gen(spec, seed=42), gen(spec, seed=42)
    for col in ("otype", "size_bytes", "items", "daily_change"):
        np.testing.assert_array_equal(getattr(a, col), getattr(b, col))
    c = gen(spec, seed=43)
    np.testing.assert_array_equal(a.otype, c.otype)  # counts do not depend on the seed
    assert not np.array_equal(a.size_bytes, c.size_bytes)


def test_licence_units_count_teams_twice() -> None:
    table = gen(tenant(100, team={"count": 10}))
    assert len(table) == 100 + 50 + 8 + 100 + 2 + 10  # 75 x 0.1 = 7.5 -> 8, 1.5 -> 2
    assert table.licence_units == len(table) + 10


# -- CSV import ---------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "inv.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[Any]:
    with pytest.raises(ScenarioError) as info:
        read_inventory_csv(path)
    err = info.value
    assert all(p.file == str(path) for p in err.problems)
    return err.problems


GOOD = """\
type,size,items,daily_change,owner
mailbox,3000000000,40000,0.01,alice
archive_mailbox,2.5 GB,31000,,bob
onedrive,1 GiB,700,0.2,carol
site,1234567,0,,
team,500 MB,25000,0,dave
shared_mailbox,1000000,12,1,
"""


def test_csv_round_trip(tmp_path: Path) -> None:
    table = read_inventory_csv(write(tmp_path, GOOD))
    types = ["mailbox", "archive_mailbox", "onedrive", "site", "team", "shared_mailbox"]
    assert table.otype.tolist() == [TYPE_INDEX[t] for t in types]
    np.testing.assert_array_equal(table.size_bytes, [3e9, 2.5e9, 2**30, 1234567, 5e8, 1e6])
    # items: as given, at least 1 (a site with 0 items still counts as one)
    np.testing.assert_array_equal(table.items, [40000, 31000, 700, 1, 25000, 12])
    # daily_change: as given, else the type's default (vb365 fact 21)
    np.testing.assert_array_equal(
        table.daily_change,
        [
            0.01,
            d.DAILY_CHANGE_RATE_OF_TYPE["archive_mailbox"],
            0.2,
            d.DAILY_CHANGE_RATE_OF_TYPE["site"],
            0.0,
            1.0,
        ],
    )
    assert table.licence_units == 7


def test_csv_columns_in_any_order_with_bom_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes("\ufeff items , type ,size\n5,mailbox,10 MB\n".encode())
    table = read_inventory_csv(path)
    assert table.otype.tolist() == [TYPE_INDEX["mailbox"]]
    assert table.size_bytes.tolist() == [1e7]
    assert table.items.tolist() == [5]


def test_csv_daily_change_column_is_optional(tmp_path: Path) -> None:
    table = read_inventory_csv(write(tmp_path, "type,size,items\nonedrive,100,1\n"))
    assert table.daily_change.tolist() == [d.DAILY_CHANGE_RATE_OF_TYPE["onedrive"]]


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        ("mailboxx,100,1,", "type", "mailboxx"),
        ("Mailbox,100,1,", "type", "Mailbox"),
        (",100,1,", "type", "unknown object type"),
        ("mailbox,lots,1,", "size", "lots"),
        ("mailbox,-5,1,", "size", "-5"),
        ("mailbox,5 parsecs,1,", "size", "parsecs"),
        ("mailbox,,1,", "size", ""),
        ("mailbox,100,1.5,", "items", "1.5"),
        ("mailbox,100,-1,", "items", "-1"),
        ("mailbox,100,many,", "items", "many"),
        ("mailbox,100,,", "items", "whole number"),
        ("mailbox,100,1,1.5", "daily_change", "1.5"),
        ("mailbox,100,1,-0.1", "daily_change", "-0.1"),
        ("mailbox,100,1,often", "daily_change", "often"),
        ("mailbox,100,1,nan", "daily_change", "nan"),
    ],
)
def test_csv_bad_row_names_file_line_and_column(
    tmp_path: Path, row: str, column: str, needle: str
) -> None:
    text = "type,size,items,daily_change\nmailbox,100,1,\nsite,200,2,0.5\n" + row + "\n"
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.line == 4
    assert problem.path == column
    assert needle in problem.message
    assert f"{path}:4" in str(problem)


def test_csv_every_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        "type,size,items\n"  # line 1
        "mailbox,100,1\n"  # 2
        "bogus,100,1\n"  # 3
        "\n"  # 4: blank lines are skipped but still counted
        "mailbox,big,1\n"  # 5
        "mailbox,100,1\n"  # 6
        "mailbox,100,x\n"  # 7
    )
    probs = problems_of(write(tmp_path, text))
    assert [(p.line, p.path) for p in probs] == [(3, "type"), (5, "size"), (7, "items")]


def test_csv_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "type,size,daily_change\nmailbox,100,0.1\n")
    (problem,) = problems_of(path)
    assert problem.line == 1
    assert "items" in problem.message and "missing" in problem.message


@pytest.mark.parametrize("text", ["", "type,size,items\n"])
def test_csv_empty_file(tmp_path: Path, text: str) -> None:
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 1


def test_csv_header_only_has_no_objects(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, "type,size,items\n"))
    assert "no objects" in problem.message


def test_csv_missing_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope.csv")
    assert "cannot read" in problem.message


def test_tenant_inventory_is_resolved_against_the_scenario_folder(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="objects.csv")
    spec = TenantSpec.model_validate({"name": "t", "users": 5, "inventory": "objects.csv"})
    table = tenant_objects(spec, tmp_path, np.random.default_rng(0))
    assert len(table) == 6  # the CSV replaces generation (users are not used for objects)


def test_csv_items_with_a_superscript_digit(tmp_path: Path) -> None:
    # str.isdigit() accepts '²' but float() does not: it must be a row problem, not a crash
    path = write(tmp_path, "type,size,items\nmailbox,100,1\nmailbox,100,\u00b2\n")
    (problem,) = problems_of(path)
    assert problem.line == 3 and problem.path == "items"
