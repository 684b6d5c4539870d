"""The plug-in API: a user's policy by dotted path or by entry point, broken plug-ins, and
policy errors reported at validation time with file and line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.cli import invoke

import sim
import sim.cli
from sim.policies import PolicyError, available, make_policy, registry, resolve
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.schema import with_units

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def scenario(policy: str | dict[str, Any], tasks: int = 200) -> str:
    data = {
        "name": "plug",
        "seed": 2,
        "proxies": [{"name": f"p{i}", "threads": 1} for i in range(3)],
        "pools": [{"name": "pool-a", "members": ["p0", "p1", "p2"], "policy": policy}],
        "synthetic": {
            "target": "pool-a",
            "arrivals": {"rate": "2/s"},
            "sizes": {"distribution": "exponential", "mean": "1 MB"},
            "thread_rate": "1 MB/s",
            "tasks": tasks,
        },
    }
    return yaml.safe_dump(with_units(data), sort_keys=False)


@pytest.fixture(autouse=True)
def private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry points loaded by a test stay out of the registry of the other tests."""
    available()  # the built-ins register once, into the real registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@pytest.fixture
def examples_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


def plugin_dist(root: Path, entries: dict[str, str], dist: str = "poolsim_demo_plugin") -> Path:
    """An installed-looking distribution: ``<dist>-1.0.dist-info`` with entry points."""
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8"
    )
    lines = ["[poolsim.policies]", *(f"{k} = {v}" for k, v in entries.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def module(root: Path, name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module file on sys.path (forgotten again after the test)."""
    (root / f"{name}.py").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, name, raising=False)


cli = invoke


# -- (a) dotted path ----------------------------------------------------------------------------


def test_example_plugin_by_dotted_path(examples_on_path: None) -> None:
    cls = resolve("fewest_bytes_first:FewestBytesFirst")
    assert cls.__name__ == "FewestBytesFirst" and cls.kind == "push"
    r = sim.simulate(sim.load_scenario_text(scenario("fewest_bytes_first:FewestBytesFirst")))
    t = r.tasks.sort_values("ready")
    assert (t["status"] == "done").all() and len(t) == 200
    assert set(t["proxy"].astype(str)) == {"p0", "p1", "p2"}
    # the first task finds every member empty: member order decides
    assert t["proxy"].astype(str).iloc[0] == "p0"


def test_example_plugin_decides_by_outstanding_bytes(examples_on_path: None) -> None:
    from test_policies import FakeView

    pol = make_policy("fewest_bytes_first:FewestBytesFirst", {})
    view = FakeView(range(3), outstanding=[5.0, 2.0, 2.0], busy=[0, 1, 0])
    assert pol.select(0, [0, 1, 2], view) == 2  # type: ignore[attr-defined]
    view.busy[2] = 1
    assert pol.select(0, [0, 1, 2], view) == 1  # type: ignore[attr-defined]


def test_docs_show_the_example(examples_on_path: None) -> None:
    import inspect

    cls = resolve("fewest_bytes_first:FewestBytesFirst")
    docs = (EXAMPLES.parent.parent / "docs" / "policies.md").read_text(encoding="utf-8")
    assert inspect.getsource(cls) in docs


# -- (b) entry point ----------------------------------------------------------------------------


def test_plugin_registered_through_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, examples_on_path: None
) -> None:
    site = plugin_dist(tmp_path, {"fewest_bytes": "fewest_bytes_first:FewestBytesFirst"})
    monkeypatch.syspath_prepend(str(site))
    # a scenario can name it before anything listed the plug-ins
    loaded = sim.load_scenario_text(scenario("fewest_bytes"))
    r = sim.simulate(loaded)
    assert (r.tasks["status"] == "done").all()
    listed = available()
    assert listed["fewest_bytes"].__name__ == "FewestBytesFirst"
    assert "jsq" in listed and "pull_fifo" in listed
    monkeypatch.setattr(sim.cli.out, "width", 200)
    code, out = cli("policies")
    assert code == 0 and re.search(r"fewest_bytes\s+│ push", out)


# -- (c) broken plug-ins ------------------------------------------------------------------------


def test_plugin_module_that_fails_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module(tmp_path, "plug_broken_import", "import not_a_module_xyz\n", monkeypatch)
    with pytest.raises(PolicyError, match=r"cannot import module 'plug_broken_import'.*xyz"):
        make_policy("plug_broken_import:Anything", {})
    with pytest.raises(PolicyError, match=r"cannot import module 'no_such_module_xyz'"):
        make_policy("no_such_module_xyz:Policy", {})


@pytest.mark.parametrize(
    ("source", "ref", "message"),
    [
        ("class NotAPolicy:\n    pass\n", "NotAPolicy", "not a poolsim policy class"),
        ("VALUE = 3\n", "VALUE", "not a poolsim policy class"),
        ("", "Missing", "has no attribute 'Missing'"),
        (
            "from sim.policies import PushPolicy\n"
            "class NoSelect(PushPolicy):\n    name = 'no_select'\n",
            "NoSelect",
            "push policy but does not implement select",
        ),
        (
            "from sim.policies import Policy\nclass Neither(Policy):\n    name = 'neither'\n",
            "Neither",
            "subclass PushPolicy or PullPolicy",
        ),
        (
            "from sim.policies import PushPolicy\n"
            "class Picky(PushPolicy):\n"
            "    def __init__(self):\n        raise RuntimeError('needs a licence key')\n"
            "    def select(self, task, candidates, view):\n        return candidates[0]\n",
            "Picky",
            "cannot create it.*needs a licence key",
        ),
    ],
)
def test_broken_plugin_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, ref: str, message: str
) -> None:
    name = f"plug_{ref.lower()}"
    module(tmp_path, name, source, monkeypatch)
    with pytest.raises(PolicyError, match=message):
        make_policy(f"{name}:{ref}", {})


def test_broken_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module(tmp_path, "plug_ep_target", "class Plain:\n    pass\n", monkeypatch)
    site = plugin_dist(
        tmp_path / "site",
        {"ep_missing": "plug_ep_nowhere_xyz:Thing", "ep_plain": "plug_ep_target:Plain"},
    )
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(PolicyError, match=r"entry point 'ep_missing'.*failed to load"):
        resolve("ep_missing")
    with pytest.raises(PolicyError, match=r"plug_ep_target:Plain \(entry point 'ep_plain'\)"):
        resolve("ep_plain")
    with pytest.raises(PolicyError, match=r"entry point 'ep_"):
        available()
    # a broken plug-in does not stop the others from being used by name
    assert resolve("jsq").name == "jsq"
    code, out = cli("policies")
    assert code == 2 and "entry point 'ep_" in out and "Traceback" not in out


def test_broken_plugin_named_in_a_scenario_is_a_scenario_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module(tmp_path, "plug_scn_broken", "class NotAPolicy:\n    pass\n", monkeypatch)
    path = tmp_path / "s.yaml"
    path.write_text(scenario("plug_scn_broken:NotAPolicy"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.path == "pools[0].policy" and "not a poolsim policy class" in problem.message


# -- policy errors at validation time -----------------------------------------------------------


def policy_line(path: Path, key: str = "policy") -> int:
    return next(
        i for i, s in enumerate(path.read_text().splitlines(), 1) if s.strip().startswith(key)
    )


@pytest.mark.parametrize(
    ("policy", "where", "message"),
    [
        ("no_such_policy", "", "unknown policy 'no_such_policy'; available: jiq, job_affinity"),
        (
            {"name": "power_of_d", "params": {"d": 0}},
            ".params.d",
            r"'power_of_d': Input should be greater than or equal to 1 \(got 0\)",
        ),
        (
            {"name": "jsq", "params": {"depth": 2}},
            ".params.depth",
            "unknown parameter; it takes no parameters",
        ),
        (
            {"name": "weighted_round_robin", "params": {"weights": {"p0": 1, "px": 2}}},
            "",
            "not members: px",
        ),
        (
            {"name": "sticky_hash", "params": {"load_factor": 0.5}},
            ".params.load_factor",
            r"greater than or equal to 1 \(got 0.5\)",
        ),
    ],
)
def test_policy_problem_names_file_and_line(
    tmp_path: Path, policy: str | dict[str, Any], where: str, message: str
) -> None:
    path = tmp_path / "bad-policy.yaml"
    path.write_text(scenario(policy), encoding="utf-8")
    line = policy_line(path, where.rpartition(".")[2] + ":" if where else "policy")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == line
    assert problem.path == "pools[0].policy" + where
    assert re.search(message, problem.message)
    assert f"{path}:{line}:" in str(info.value)

    code, out = cli("validate", str(path))
    assert code == 2
    assert f"{path}:{line}" in out.replace("\n", "") and "Traceback" not in out


def test_wrong_parameter_set_on_the_command_line_is_blamed_on_set(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(scenario({"name": "power_of_d", "params": {"d": 2}}), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["pools.pool-a.policy.params.d=two"])
    (problem,) = info.value.problems
    assert problem.file == "--set" and problem.path == "pools[0].policy.params.d"
    assert "valid integer (got 'two')" in problem.message


def test_policy_set_on_the_command_line_is_blamed_on_set(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(scenario("jsq"), encoding="utf-8")
    load_scenario(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["pools.pool-a.policy=nope"])
    (problem,) = info.value.problems
    assert problem.file == "--set" and "unknown policy 'nope'" in problem.message
    code, out = cli("validate", str(path), "--set", "pools.pool-a.policy=nope")
    assert code == 2 and "unknown policy 'nope'" in out


def test_policy_problems_come_with_rule_problems(tmp_path: Path) -> None:
    data = yaml.safe_load(scenario("nope"))
    data["pools"].append({"name": "pool-b", "members": ["p0"], "policy": "jsq"})
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(with_units(data), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    paths = {p.path for p in info.value.problems}
    assert "pools[0].policy" in paths and any(p.startswith("pools[1].members") for p in paths)
