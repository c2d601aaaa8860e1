"""What every benchmark shares: its result record, peak memory, and the JSON hand-off.

Each benchmark runs in its own process (``python -m bench.<name>``) and prints one line
``BENCH_RESULT {json}`` on stdout; the runner in :mod:`bench.__main__` collects them.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs

RESULT_PREFIX = "BENCH_RESULT "


@attrs.define
class Result:
    """One benchmark's figures.

    ``sdk`` and ``reference`` are seconds (or whatever ``unit`` says); ``ratio`` is the
    figure compared with ``goal`` (lower is better when ``lower_is_better``).
    """

    name: str
    sdk: float | None
    reference: float | None
    ratio: float | None
    goal: str
    passed: bool | None
    unit: str = "s"
    peak_rss_mib: float = 0.0
    notes: list[str] = attrs.field(factory=list)
    display: dict[str, str] = attrs.field(factory=dict)
    """Cell text overriding ``sdk`` / ``reference`` in the table."""
    extra: dict[str, Any] = attrs.field(factory=dict)


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident set size of this process (or of its waited-for children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    # Linux reports kilobytes.
    return resource.getrusage(who).ru_maxrss / 1024.0


def emit(result: Result) -> None:
    """Print the result for the runner (and a readable summary for a person)."""
    if not result.peak_rss_mib:
        result.peak_rss_mib = peak_rss_mib()
    for note in result.notes:
        print(f"  {result.name}: {note}", file=sys.stderr)
    print(RESULT_PREFIX + json.dumps(attrs.asdict(result), default=str), flush=True)


def best_of(fn: Callable[[], float], repeats: int) -> float:
    """The minimum of ``repeats`` timings returned by ``fn`` (the least disturbed run)."""
    return min(fn() for _ in range(repeats))


def median_of(fn: Callable[[], float], repeats: int) -> float:
    """The median of ``repeats`` timings returned by ``fn``."""
    return statistics.median(fn() for _ in range(repeats))


def timed(fn: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
