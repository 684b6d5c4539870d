"""An object-storage repository: write bandwidth and PUT rate, blob size, compression.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 31: https://repost.aws/knowledge-center/http-5xx-errors-s3
vb365 fact 32: https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account
"""

from __future__ import annotations

from sim import defaults as d
from sim.model.throttle import RequestBudget
from sim.scenario.schema import RepositorySpec


def _request_rate(spec: RepositorySpec, given: float | None, s3_default: float) -> float:
    """The scenario's rate, else the provider default (vb365 facts 31-32): Azure's account
    limit counts every request; S3's per-prefix limits differ for PUT and GET."""
    if given is not None:
        return float(given)
    if spec.kind in ("azure_blob", "azure_archive"):
        return d.AZURE_REQUESTS_PER_S
    return s3_default


def put_rate_per_s(spec: RepositorySpec) -> float:
    """PUT requests per second."""
    return _request_rate(spec, spec.put_rate, d.S3_PUT_PER_S)


def get_rate_per_s(spec: RepositorySpec) -> float:
    """GET requests per second."""
    return _request_rate(spec, spec.get_rate, d.S3_GET_PER_S)


class Repository:
    """Resource indices and per-workload compression of one repository."""

    __slots__ = (
        "compression",
        "idx",
        "name",
        "partitions",
        "put_budget",
        "res_get",
        "res_put",
        "res_read",
        "res_write",
    )

    def __init__(self, idx: int, spec: RepositorySpec) -> None:
        self.idx = idx
        self.name = spec.name
        self.compression = [
            float(spec.compression.get(w, d.COMPRESSION_OF_WORKLOAD[w])) for w in d.WORKLOADS
        ]
        self.res_write = 0
        self.res_put = 0
        self.res_read = 0
        self.res_get = 0
        self.put_budget: RequestBudget | None = None
        """Request-level PUT limit (503 Slow Down), else None (a fluid cap)."""
        self.partitions = spec.slow_down.partitions if spec.slow_down is not None else 1
