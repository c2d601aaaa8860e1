"""Reliability tests: the fault matrix is printed at the end of the session."""

from __future__ import annotations

import pytest

from .rel_support import FUZZ_COUNTS, MATRIX, TOTALS, render_matrix


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MATRIX:
        terminalreporter.section("fault matrix (fault x operation x adapter -> outcome)")
        for line in render_matrix().splitlines():
            terminalreporter.write_line(line)
    if TOTALS:
        terminalreporter.section("chaos through the fault proxy (all runs of the session)")
        terminalreporter.write_line(", ".join(f"{k} {v}" for k, v in TOTALS.items()))
    if FUZZ_COUNTS:
        terminalreporter.section("fuzz examples run")
        for name, count in sorted(FUZZ_COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
