"""The object table of a tenant (one row per Microsoft 365 object, columnar) and the type and
workload indices every layer uses.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim import defaults as d

TYPE_INDEX = {t: i for i, t in enumerate(d.OBJECT_TYPES)}
WORKLOAD_INDEX = {w: i for i, w in enumerate(d.WORKLOADS)}
WORKLOAD_OF_TYPE_IDX = np.array(
    [WORKLOAD_INDEX[d.WORKLOAD_OF_TYPE[t]] for t in d.OBJECT_TYPES], dtype=np.int64
)


@dataclass(frozen=True)
class ObjectTable:
    """One row per Microsoft 365 object of one tenant (columnar)."""

    otype: np.ndarray
    """Object type index into ``defaults.OBJECT_TYPES``."""
    size_bytes: np.ndarray
    items: np.ndarray
    daily_change: np.ndarray
    """Fraction of the object's bytes changed per day (mean)."""

    def __len__(self) -> int:
        return int(self.otype.shape[0])

    @cached_property
    def workload(self) -> np.ndarray:
        """Workload index into ``defaults.WORKLOADS`` (computed once: the table is frozen and
        its columns are never written)."""
        out: np.ndarray = WORKLOAD_OF_TYPE_IDX[self.otype]
        return out

    @property
    def licence_units(self) -> int:
        """Objects as counted for licensing and sizing: a team counts twice (vb365 fact 15)."""
        return int(len(self) + np.count_nonzero(self.otype == TYPE_INDEX["team"]))
