"""Benchmark 6: ``exsdk report`` at scale (issue 18 goal 4).

A journal of 1,000,000 trades in 1,000 TWAP parents (10 waves, one child each, 100 trades
per child; :mod:`bench.journal_gen`, cached under ``.bench-cache/`` since writing it takes a
minute) is reported by the command a user runs, ``exsdk report RUN --journal FILE`` in a
fresh process: reading the journal, folding, the console table and the HTML report with its
charts. Figures:

* end to end: trades / wall seconds of that process, and its peak RSS (``wait4``);
* in process: :func:`exsdk.app.quality.execution_quality` alone, and the same run's bare
  read of the columns it needs (one ``SELECT`` and ``fetchall``), the floor any reader
  of this SQLite file pays from Python;
* reference: the row-by-row path :func:`exsdk.app.quality.execution_quality_rows` (the
  one ``exsdk report`` used before) on a 20,000-trade journal of the same shape, as trades
  per second; the ratio is the vectorised end-to-end rate over it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result, emit
from bench.journal_gen import RUN_ID, build_journal

GOAL_RATE = 500_000
GOAL_MIB = 1024
CACHE = Path(".bench-cache")


def _journal(parents: int) -> Path:
    from exsdk.journal import SCHEMA_VERSION

    path = CACHE / f"report-{parents}p-v{SCHEMA_VERSION}-g1.sqlite"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build_journal(partial, parents=parents)
        partial.rename(path)
    return path


def _cli(path: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``exsdk report`` in its own process."""
    exe = Path(sys.executable).with_name("exsdk")
    cmd = [str(exe), "report", RUN_ID, "--journal", str(path), "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"exsdk report failed: {err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024


def _read_floor(path: Path) -> float:
    import sqlite3

    from exsdk.journal.sqlite import _REPORT_TRADES_SQL

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    start = time.perf_counter()
    rows = db.execute(_REPORT_TRADES_SQL, (RUN_ID,)).fetchall()
    elapsed = time.perf_counter() - start
    del rows
    db.close()
    return elapsed


def _in_process(path: Path) -> float:
    from exsdk.app.quality import execution_quality
    from exsdk.journal import Journal

    with Journal.open(path) as journal:
        start = time.perf_counter()
        execution_quality(journal, RUN_ID)
        return time.perf_counter() - start


def _rows_rate(path: Path, trades: int) -> float:
    from exsdk.app.quality import execution_quality_rows
    from exsdk.journal import Journal

    with Journal.open(path) as journal:
        start = time.perf_counter()
        execution_quality_rows(journal, RUN_ID)
        return trades / (time.perf_counter() - start)


def run(quick: bool = False) -> Result:
    parents = 100 if quick else 1000
    trades = parents * 1000
    path = _journal(parents)
    small = _journal(20)
    out = CACHE / "report.html"
    cli_wall, cli_rss = _cli(path, out)
    floor = _read_floor(path)
    inner = _in_process(path)
    rows_rate = _rows_rate(small, 20 * 1000)
    rate = trades / cli_wall
    passed = rate >= GOAL_RATE and cli_rss < GOAL_MIB
    notes = [
        f"{trades:,} trades, {parents} parents: `exsdk report` {cli_wall:.2f} s end to end "
        f"({rate:,.0f} trades/s), peak RSS {cli_rss:.0f} MiB, "
        f"HTML {out.stat().st_size / 1e6:.1f} MB",
        f"in process: execution_quality {inner:.2f} s ({trades / inner:,.0f} trades/s); the bare "
        f"read of its columns (SELECT + fetchall) {floor:.2f} s ({trades / floor:,.0f} trades/s) "
        f"is {floor / inner:.0%} of it",
        f"row-by-row reference (execution_quality_rows, 20,000 trades): {rows_rate:,.0f} trades/s;"
        f" end to end is {rate / rows_rate:.1f}x that",
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores during the run",
    ]
    return Result(
        name="6 report at scale",
        sdk=cli_wall,
        reference=trades / rows_rate,
        ratio=rate / rows_rate,
        goal=f">= {GOAL_RATE:,} trades/s end to end, < 1 GiB",
        passed=passed,
        peak_rss_mib=max(cli_rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        notes=notes,
        display={
            "sdk": f"{cli_wall:.2f} s ({rate / 1000:,.0f}k trades/s)",
            "reference": f"{trades / rows_rate:.1f} s (row path, {rows_rate / 1000:,.1f}k/s)",
        },
        extra={
            "trades": trades,
            "trades_per_s": rate,
            "cli_peak_rss_mib": cli_rss,
            "in_process_s": inner,
            "read_floor_s": floor,
            "rows_trades_per_s": rows_rate,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
