"""Benchmarks: regression baselines of key metrics (``regression``) and speed (``speed``)."""
