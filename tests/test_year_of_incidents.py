"""The shipped year of incidents (scenarios/year-of-incidents.yaml) runs to its end: 365 nights
of failures and patching. Late in a year-long run one ulp of the clock (t ~ 3e7 s) is longer
than the fluid's 1 ns completion tolerance; a completion closer than that must be due at once,
or the timer fires again at the same instant for ever (it did, at day 196)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

pytestmark = pytest.mark.slow

YEAR = Path(__file__).resolve().parents[1] / "scenarios" / "year-of-incidents.yaml"


def test_a_year_of_incidents_runs_every_night() -> None:
    r = sim.simulate(sim.load_scenario(YEAR))
    assert not r.truncated
    s = r.sessions
    assert len(s) == 365 and s["end"].notna().all()
    assert (s["objects_done"] == s["objects"]).all()
    events = r.lifecycle["event"].value_counts()
    assert events["maintenance_on"] == 52  # 26 cycles over two members, one a week
    assert events["fail"] >= 1
