"""Journal write latency per intent: SQLite beside PostgreSQL (issue 19).

What the broker waits for before each child's request leaves: one ``record_child`` of an
intent, committed durably, on its own (no batch). Timed per call, the median and the 95th
percentile, for the SQLite file (WAL, ``synchronous=FULL``, then ``NORMAL``) and for a
PostgreSQL server on loopback (``synchronous_commit=on``, then ``off``), a throwaway
cluster started from ``tests/pg_server.py`` with the server's default ``fsync=on``. The
ratio is PostgreSQL's median over SQLite's, both at ``full``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Result, emit
from exsdk.journal import Journal
from exsdk.models import ChildStatus
from tests.journal.journal_rows import child
from tests.pg_server import cluster


def _latencies(journal: Journal, count: int) -> list[float]:
    children = [child("bench", 1, wave, ChildStatus.INTENT, "0") for wave in range(count + 20)]
    for intent in children[:20]:  # warm up: prepared statements, page cache
        journal.record_child("bench", intent)
    out = []
    for intent in children[20:]:
        start = time.perf_counter()
        journal.record_child("bench", intent)
        out.append(time.perf_counter() - start)
    return out


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    count = 60 if parser.parse_args().quick else 400
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for durability in ("full", "normal"):
            path = Path(tmp) / f"{durability}.sqlite"
            with Journal.open(path, durability=durability) as journal:
                figures[f"sqlite {durability}"] = _latencies(journal, count)
    with cluster() as pg:
        for durability in ("full", "normal"):
            with Journal.open(pg.new_database(), durability=durability) as journal:
                figures[f"postgresql {durability}"] = _latencies(journal, count)
    median = {k: statistics.median(v) for k, v in figures.items()}
    notes = [
        f"{k}: median {median[k] * 1e6:.0f} us, p95 {_p95(v) * 1e6:.0f} us per intent"
        f" ({len(v)} intents)"
        for k, v in figures.items()
    ]
    emit(
        Result(
            name="journal write per intent (PostgreSQL vs SQLite, durable)",
            sdk=median["postgresql full"],
            reference=median["sqlite full"],
            ratio=median["postgresql full"] / median["sqlite full"],
            goal="(measured)",
            passed=None,
            notes=notes,
            extra={k: {"median_s": median[k], "p95_s": _p95(v)} for k, v in figures.items()},
        )
    )


if __name__ == "__main__":
    main()
