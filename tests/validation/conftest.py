"""Oracle validation suite: print every oracle check's diagnostic line at the end of the run."""

from __future__ import annotations

from typing import Any

from .oracle import RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    terminalreporter.section("oracle checks (x̄ vs oracle, tolerance h, 99.9% t-interval)")
    for res in RESULTS:
        terminalreporter.write_line(res.line())
