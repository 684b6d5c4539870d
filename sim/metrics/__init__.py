"""Traces to tables and summaries: throughput, window compliance, fairness, waits."""

from sim.metrics.summary import busy_hours, jain_index, summarize
from sim.metrics.tables import (
    events_frame,
    lifecycle_frame,
    limits_frame,
    proxy_frame,
    session_frame,
    states_frame,
    task_frame,
    timeseries_frame,
)

__all__ = [
    "busy_hours",
    "events_frame",
    "jain_index",
    "lifecycle_frame",
    "limits_frame",
    "proxy_frame",
    "session_frame",
    "states_frame",
    "summarize",
    "task_frame",
    "timeseries_frame",
]
