"""Scenario files: schema, loading with positions, overrides and VB365 rules."""

from sim.scenario.loader import LoadedScenario, apply_override, load_scenario, load_scenario_text
from sim.scenario.schema import Scenario
from sim.scenario.yamlsource import Problem, ScenarioError

__all__ = [
    "LoadedScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "apply_override",
    "load_scenario",
    "load_scenario_text",
]
