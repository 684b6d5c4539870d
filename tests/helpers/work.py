"""Module-level work for executor tests: picklable by reference and importing nothing but the
standard library, so a worker that has poolsim loaded got it from the forkserver's preload."""

from __future__ import annotations

import os
import sys
import time


def square(x: int) -> int:
    return x * x


def scaled(factor: int, x: int) -> tuple[int, int]:
    """``run_with`` work: the item times the shared factor, with the process that ran it."""
    return x * factor, os.getpid()


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def preloaded(_x: object) -> tuple[bool, bool]:
    """Whether SimPy and poolsim's run layer were already imported in this process."""
    return "simpy" in sys.modules, "sim.experiment.replicate" in sys.modules


def sigint_held(_x: object) -> bool:
    """Whether Ctrl-C (SIGINT) is blocked or ignored in this process (Linux: /proc)."""
    bit = 1 << 1  # SIGINT is signal 2
    with open("/proc/self/status", encoding="ascii") as f:
        masks = dict(line.split(":", 1) for line in f if line.startswith(("SigBlk", "SigIgn")))
    return any(int(v.strip(), 16) & bit for v in masks.values())


def nap_where(_shared: object, seconds: float) -> tuple[float, int]:
    """``run_with`` work that takes time: sleeps, then says which process ran it."""
    time.sleep(seconds)
    return seconds, os.getpid()
