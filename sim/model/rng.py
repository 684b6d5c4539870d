"""Named, independent random streams derived from one root seed.

Each stream is ``SeedSequence(seed, spawn_key=(STREAM, *ids))``: the same scenario and seed give the
same draws on any machine and executor, and a stream does not shift when another is used more.
Workload and change streams do not depend on the policy, so policies compared on the same seed
see the same objects and the same daily changes (common random numbers).
"""

from __future__ import annotations

import numpy as np

WORKLOAD, CHANGE, POLICY, FAILURE, ARRIVALS, SIZES, VACATION, INTERRUPTION = 1, 2, 3, 4, 5, 6, 7, 8
"""Stream kinds. VACATION (synthetic vacation lengths) and INTERRUPTION (per proxy: up and down
times) have their own kinds; they used to borrow FAILURE with magic ids (2_000_000, 1_000_000 +
proxy), which drew different numbers."""
PROXY_FAULTS = 9
"""A scenario's random proxy failures: ids (failures entry, proxy), up and repair times."""


def stream(seed: int, kind: int, *ids: int) -> np.random.Generator:
    """The generator of stream ``kind`` for ``ids`` (tenant, job, session, pool, ...)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(kind, *ids)))
