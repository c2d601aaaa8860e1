"""Both journal backends behind one interface: a real PostgreSQL server beside SQLite.

The same run is written to a SQLite file and to a PostgreSQL database; every reader must
return the same answer from both. Each backend's database itself refuses UPDATE and DELETE
(asked through the plain driver, not through exsdk), and the PostgreSQL run lease is held
by the server for a process on any host, and freed when that process is killed.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from exsdk.errors import JournalUnavailable, RunLeased
from exsdk.journal import SCHEMA_VERSION, Journal, backend_of
from exsdk.journal.base import TABLES
from exsdk.journal.postgres import PostgresJournal
from exsdk.journal.sqlite import SqliteJournal

from .journal_rows import typed_view, write_run

_FRAMES = ("runs", "run_events", "parents", "child_events", "children", "raw_responses")
_FRAMES += ("trades", "fills", "errors")


def _frame_rows(journal: Journal, name: str, run_id: str) -> list[dict[str, Any]]:
    frame = getattr(journal, name)() if name == "runs" else getattr(journal, name)(run_id)
    # seq and at are the journal's own (numbering, clock); everything else must agree.
    frame = frame.drop(columns=[c for c in ("seq", "at") if c in frame.columns])
    return [{k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]


def test_every_reader_answers_the_same_on_both_backends(tmp_path: Path, pg_url: str) -> None:
    with Journal.open(tmp_path / "j.sqlite") as lite, Journal.open(pg_url) as pg:
        assert isinstance(lite, SqliteJournal) and isinstance(pg, PostgresJournal)
        for journal in (lite, pg):
            write_run(journal, "r1")
            write_run(journal, "r2")
        assert typed_view(pg, "r1") == typed_view(lite, "r1")
        assert typed_view(pg, "r2")["fills"] == typed_view(lite, "r2")["fills"]
        assert pg.run_ids() == lite.run_ids() == ["r1", "r2"]
        for name in _FRAMES:
            assert _frame_rows(pg, name, "r1") == _frame_rows(lite, name, "r1"), name
        assert pg.schema_version() == lite.schema_version() == SCHEMA_VERSION
        view = typed_view(pg, "r1")
    # Not just equal: right (what write_run wrote).
    assert [c.status for c in view["children"]] == ["canceled", "canceled", "rejected"]
    assert [t.id for t in view["trades"]] == ["r11", "r12", "r13"]
    assert view["reported_1"] == {"r11", "r12", "r13"}
    assert (view["empty_1"], view["empty_2"]) == (False, True)
    assert view["errors"][0]["code"] == -4131 and view["errors"][1]["code"] is None


def test_the_database_itself_refuses_update_delete_truncate(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "j.sqlite"
    for where in (path, pg_url):
        with Journal.open(where) as journal:
            write_run(journal, "r1")
    lite = sqlite3.connect(path)
    with psycopg.connect(pg_url, autocommit=True) as pg:
        for table in TABLES:
            for sql in (f"UPDATE {table} SET run_id = 'other'", f"DELETE FROM {table}"):
                with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
                    lite.execute(sql)
                with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                    pg.execute(sql)
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                pg.execute(f"TRUNCATE {table} CASCADE")
        assert pg.execute("SELECT count(*) FROM child_events").fetchone() == (8,)
    assert lite.execute("SELECT count(*) FROM child_events").fetchone() == (8,)
    lite.close()


@pytest.mark.parametrize(("durability", "setting"), [("full", "on"), ("normal", "off")])
def test_postgres_durability(pg_url: str, durability: Any, setting: str) -> None:
    with Journal.open(pg_url, durability=durability) as journal:
        assert isinstance(journal, PostgresJournal)
        # Autocommit: each intent is its own committed transaction before the call returns.
        assert journal._db.autocommit is True
        assert journal._execute("SHOW synchronous_commit").fetchone() == (setting,)
        journal.record_run_event("r", "started")
        # Seen by another session at once: committed, not pending in a transaction.
        with psycopg.connect(pg_url) as other:
            assert other.execute("SELECT count(*) FROM run_events").fetchone() == (1,)


def test_journal_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert backend_of("runs/a.sqlite") == ("sqlite", "runs/a.sqlite")
    assert backend_of("sqlite:///runs/a.sqlite") == ("sqlite", "runs/a.sqlite")
    assert backend_of("sqlite:////abs/a.sqlite") == ("sqlite", "/abs/a.sqlite")
    assert backend_of("postgresql://u@h/db") == ("postgresql", "postgresql://u@h/db")
    assert backend_of("postgres://u@h/db")[0] == "postgresql"
    with pytest.raises(ValueError, match="unknown scheme 'mysql'"):
        backend_of("mysql://u@h/db")
    monkeypatch.chdir(tmp_path)
    with Journal.open("sqlite:///sub/j.sqlite") as journal:
        assert isinstance(journal, SqliteJournal)
    assert (tmp_path / "sub" / "j.sqlite").is_file()


def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(JournalUnavailable) as caught:
        Journal.open("postgresql://exsdk:hunter2@127.0.0.1:1/none", lock_timeout=1)
    message = str(caught.value)
    assert "hunter2" not in message and "postgresql://exsdk:***@127.0.0.1:1/none" in message


_HOLDER = """
import sys, time
from exsdk.journal import Journal
journal = Journal.open(sys.argv[1])
with journal.lease(sys.argv[2]):
    print("held", flush=True)
    time.sleep(120)
"""


def test_the_lease_is_held_by_the_server_for_another_process(pg_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_url, "run1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Journal.open(pg_url) as journal:
            with pytest.raises(RunLeased) as caught, journal.lease("run1"):
                pass
            assert f"pid {holder.pid} on " in str(caught.value)
            assert len(str(caught.value).splitlines()) == 1
            with journal.lease("run2"):  # another run is free
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            # The server drops a killed client's session, and its lock with it.
            deadline = time.monotonic() + 10
            while True:
                try:
                    with journal.lease("run1") as lease:
                        assert lease.run_id == "run1"
                    break
                except RunLeased:
                    assert time.monotonic() < deadline, "the dead holder's lease never freed"
                    time.sleep(0.1)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_lost_connection_stops_the_run_that_held_the_lease(pg_url: str) -> None:
    with Journal.open(pg_url) as journal, Journal.open(pg_url) as other, journal.lease("run1"):
        pid = journal._execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # The lease went with the session; so does every write of its holder.
        with pytest.raises(JournalUnavailable):
            journal.record_run_event("run1", "wave")
        assert journal.failure is not None
        with other.lease("run1"):
            pass


def test_a_newer_postgres_journal_is_refused(pg_url: str) -> None:
    Journal.open(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(JournalUnavailable) as caught:
        Journal.open(pg_url)
    assert f"has schema version 99, newer than this exsdk knows ({SCHEMA_VERSION})" in str(
        caught.value
    )


def test_a_batch_is_one_transaction_on_both_backends(tmp_path: Path, pg_url: str) -> None:
    """``Journal.batch``: nothing of it is visible to another connection before it ends, a
    nested batch joins it, and a failure inside takes all of it back (a driver's failure
    as ``JournalUnavailable``, any other error as itself)."""
    path = tmp_path / "j.sqlite"
    for where in (path, pg_url):
        with Journal.open(where) as journal:

            def events(where: Path | str = where) -> int:
                if where == path:
                    with sqlite3.connect(path) as lite:
                        return int(lite.execute("SELECT count(*) FROM run_events").fetchone()[0])
                with psycopg.connect(pg_url, autocommit=True) as pg:
                    row = pg.execute("SELECT count(*) FROM run_events").fetchone()
                    assert row is not None
                    return int(row[0])

            with journal.batch():
                journal.record_run_event("b1", "one")
                with journal.batch():
                    journal.record_run_event("b1", "two")
                assert events() == 0  # the inner batch committed nothing of its own
                journal.record_run_event("b1", "three")
            assert events() == 3
            with pytest.raises(JournalUnavailable, match="cannot be used"), journal.batch():
                journal.record_run_event("b1", "lost")
                journal._execute("INSERT INTO no_such_table VALUES (1)")
            assert events() == 3
            journal.failure = None  # (sticky for the broker; this test goes on)
            with pytest.raises(ValueError, match="not the journal's"), journal.batch():
                journal.record_run_event("b1", "lost too")
                raise ValueError("not the journal's")
            assert events() == 3
            assert journal.run_event_names("b1") == ["one", "two", "three"]
