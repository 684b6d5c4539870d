"""An example plug-in policy: send each task to the member with the fewest bytes left to do.

Use it from a scenario without installing anything, with this folder on ``PYTHONPATH``::

    pools:
      - name: pool-a
        members: [proxy-01, proxy-02]
        policy: fewest_bytes_first:FewestBytesFirst

or register it by name from your own package's ``pyproject.toml``::

    [project.entry-points."poolsim.policies"]
    fewest_bytes_first = "fewest_bytes_first:FewestBytesFirst"
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies import PoolView, PushPolicy


class FewestBytesFirst(PushPolicy):
    """The candidate with the fewest outstanding bytes (``view.outstanding_bytes``); ties go to
    the one with the fewest tasks in system (``view.in_system``), then to member order."""

    name = "fewest_bytes_first"
    summary = "fewest outstanding bytes; ties by fewest tasks, then member order"

    def select(self, task: int, candidates: Sequence[int], view: PoolView) -> int:
        return min(candidates, key=lambda p: (view.outstanding_bytes(p), view.in_system(p)))
