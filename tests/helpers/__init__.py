"""Shared helpers for the poolsim test suite."""
