"""The results folder: manifest, tables, plots."""

from sim.report.results import atomic_write, atomic_write_text, write_results

__all__ = ["atomic_write", "atomic_write_text", "write_results"]
