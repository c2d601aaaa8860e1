"""``exsdk journal migrate SRC DST``: SQLite into PostgreSQL and back, nothing lost.

Run as the user runs it (the console command in a child process); what is read back from
the target, row by row and through the typed readers, equals what was written to the
source. A target that already holds one of the runs refuses the whole copy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from exsdk.journal import Journal
from exsdk.journal.copy import comparable_rows

from .journal_rows import typed_view, write_run

RUNS = ["r1", "r2"]


def _migrate(source: str, target: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exsdk.app.cli", "journal", "migrate", source, target],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sqlite_to_postgres_and_back(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "source.sqlite"
    with Journal.open(source) as journal:
        for run_id in RUNS:
            write_run(journal, run_id)
        written = comparable_rows(journal, RUNS)
        views = {run_id: typed_view(journal, run_id) for run_id in RUNS}
    # Another broker's run is in the server journal already: the copy goes beside it.
    with Journal.open(pg_url) as server:
        write_run(server, "other")

    there = _migrate(f"sqlite:///{source}", pg_url, tmp_path)
    assert there.returncode == 0, there.stderr
    assert "copied 2 runs" in there.stdout and "read back equal" in there.stdout
    with Journal.open(pg_url) as server:
        assert comparable_rows(server, RUNS) == written
        assert {r: typed_view(server, r) for r in RUNS} == views
        assert server.run_ids() == ["other", "r1", "r2"]  # by start (all T0), then id

    back = tmp_path / "back.sqlite"
    again = _migrate(pg_url, str(back), tmp_path)
    assert again.returncode == 0, again.stderr
    with Journal.open(back) as copy:
        assert comparable_rows(copy, RUNS) == written
        assert {r: typed_view(copy, r) for r in RUNS} == views
        assert sorted(copy.run_ids()) == ["other", "r1", "r2"]


def test_a_run_in_both_journals_refuses_the_copy(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "source.sqlite"
    with Journal.open(source) as journal:
        write_run(journal, "r1")
        write_run(journal, "r2")
    with Journal.open(pg_url) as server:
        write_run(server, "r2")
    refused = _migrate(str(source), pg_url, tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: runs r2 are in {pg_url} already; nothing was copied"
    ]
    with psycopg.connect(pg_url) as pg:
        assert pg.execute("SELECT run_id FROM runs").fetchall() == [("r2",)]
