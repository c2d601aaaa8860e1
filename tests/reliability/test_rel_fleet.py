"""Many brokers, one PostgreSQL journal (issue 19), judged by the venue's own records.

- Eight ``exsdk experiment`` processes run TWAPs at once against one simulator process,
  all journaling into one PostgreSQL database, each picking its own run id: eight distinct
  runs, no client order id in two runs, and per run no duplicate venue order, no venue
  trade missing from the journal, every OMS fill the sum of its venue trades, nothing open.
  ``exsdk report`` works on the server journal, and on a SQLite copy of it made by
  ``exsdk journal migrate`` (same table both ways).
- A process killed mid-run leaves its run to another process: ``exsdk resume`` on the server
  journal finishes it.
- Two processes race to resume one run: exactly one drives it, the other refuses in one
  line naming the holder (the server's advisory lock, not a file on one host).

The scenario helpers are the SQLite crash tests' (test_rel_crash), pointed at a URL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from exsdk.journal import Journal
from exsdk.journal.copy import comparable_rows

from .crash_support import ExsdkProcess, SimulatorProcess, run_exsdk
from .rel_support import FLEET, venue_orders
from .test_rel_crash import (
    _experiment_args,
    _judge,
    _kill_after_a_fill,
    _resume_args,
    race_two_resumes,
)

BROKERS = 8
# Process-heavy scenarios run on one xdist worker, one after another (with the crash tests).
pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def sim() -> Any:
    # One venue per test: eight brokers on one API key fill the venue's per-minute request
    # weight, and a test after them on the same venue waited out a 60 s Retry-After.
    process = SimulatorProcess(seed=11, tick_seconds=0.1)
    yield process
    process.stop()


def _without_run_id(args: list[str]) -> list[str]:
    at = args.index("--run-id")
    return args[:at] + args[at + 2 :]


def test_eight_brokers_on_one_postgres_journal(
    sim: SimulatorProcess, tmp_path: Path, pg_url: str
) -> None:
    # Each process picks its own random run id: the journal has to keep them apart.
    args = _without_run_id(_experiment_args(tmp_path, sim, "unused", pg_url))
    started = time.monotonic()
    procs = [ExsdkProcess(args, cwd=tmp_path) for _ in range(BROKERS)]
    try:
        codes = [p.wait(600) for p in procs]
        errors = [p.stderr() for p in procs]
    finally:
        for p in procs:
            p.close()
    wall = time.monotonic() - started
    assert codes == [0] * BROKERS, list(zip(codes, errors, strict=True))

    with Journal.open(pg_url) as journal:
        runs = journal.run_ids()
    assert len(runs) == BROKERS == len(set(runs))
    orders: list[dict[str, Any]] = []
    for run_id in runs:
        # No duplicate order, no lost fill, fills equal to venue trades, nothing open.
        _judge(sim, pg_url, run_id)
        orders += venue_orders(sim.venue_view, run_id)
    ids = [o["clientOrderId"] for o in orders]
    duplicates = len(ids) - len(set(ids))
    trades = sum(len(o["fills"]) for o in orders)
    with psycopg.connect(pg_url) as pg:
        in_two_runs = pg.execute(
            "SELECT client_order_id FROM child_events GROUP BY client_order_id"
            " HAVING count(DISTINCT run_id) > 1"
        ).fetchall()
        journaled = pg.execute("SELECT count(*) FROM trades").fetchone()
    assert in_two_runs == [] and duplicates == 0
    assert journaled == (trades,) and trades > 0  # every venue trade once: none lost
    FLEET.append(
        f"{BROKERS} brokers, one PostgreSQL journal: {len(runs)} runs, {len(orders)} venue "
        f"orders, {trades} trades, duplicates {duplicates}, lost {trades - journaled[0]}, "
        f"wall {wall:.1f} s"
    )

    # The report reads the server journal, and a SQLite copy of it says the same.
    copy = tmp_path / "copy.sqlite"
    migrated = run_exsdk(["journal", "migrate", pg_url, str(copy)], cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with Journal.open(pg_url) as server, Journal.open(copy) as local:
        assert comparable_rows(local, runs) == comparable_rows(server, runs)
    tables = []
    for where in (pg_url, str(copy)):
        out = tmp_path / "report.html"
        report = run_exsdk(["report", runs[0], "--journal", where, "--out", str(out)], tmp_path)
        assert report.returncode == 0, report.stderr
        assert out.is_file()
        tables.append([line for line in report.stdout.splitlines() if "journal" not in line])
    assert tables[0] == tables[1] and len(tables[0]) > 3


def test_a_killed_brokers_run_is_resumed_by_another_process(
    sim: SimulatorProcess, tmp_path: Path, pg_url: str
) -> None:
    run_id = "pgkill1"
    _kill_after_a_fill(tmp_path, sim, run_id, pg_url)  # type: ignore[arg-type]
    resumed = run_exsdk(_resume_args(sim, run_id, pg_url), cwd=tmp_path)  # type: ignore[arg-type]
    assert resumed.returncode == 0, (resumed.stdout, resumed.stderr)
    assert f"run {run_id} resumed" in resumed.stdout
    _judge(sim, pg_url, run_id)  # type: ignore[arg-type]


def test_two_processes_race_to_resume_one_run(
    sim: SimulatorProcess, tmp_path: Path, pg_url: str
) -> None:
    run_id = "pgrace1"
    refused = race_two_resumes(sim, tmp_path, run_id, pg_url)
    assert len(refused.splitlines()) == 1, refused
    assert f"run {run_id} is already being driven by pid" in refused
    assert "advisory lock" in refused
    _judge(sim, pg_url, run_id)  # type: ignore[arg-type]
