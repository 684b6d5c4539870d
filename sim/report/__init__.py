"""The results folders: manifests, tables, plots, report pages."""

from sim.atomic import atomic_write, atomic_write_text
from sim.report.folders import write_results

__all__ = ["atomic_write", "atomic_write_text", "write_results"]
