"""Scenario files: schema, loading with positions, overrides and VB365 rules."""

from sim.errors import Problem, ScenarioError
from sim.scenario.loader import LoadedScenario, load_scenario, load_scenario_text
from sim.scenario.overrides import apply_override
from sim.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "apply_override",
    "load_scenario",
    "load_scenario_text",
]
