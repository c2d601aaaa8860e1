"""A version-2 PostgreSQL journal migrates to version 4 (through 3), as a version-2 SQLite
file does.

``journal_v2_demo.pg.sql`` is a real version-2 PostgreSQL journal: the unmodified
version-2 code copied its ``exsdk demo`` run (``tests/broker/journal_v2_demo.sql``) into a
server, and pg_dump wrote it out (see its header). Both migrate on open; every row then
reads back the same from both backends, the exact integer columns included.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from exsdk.journal import SCHEMA_VERSION, Journal
from exsdk.journal import base as journal_base
from exsdk.journal.base import BACKFILL_BATCH
from exsdk.journal.copy import comparable_rows
from tests.broker.test_journal_schema import EXACT, V2_RUN, check_exact_columns, v2_journal
from tests.journal.test_trade_sums import kept_sums, reference_sums

PG_DUMP = Path(__file__).with_name("journal_v2_demo.pg.sql")


def _load_pg_dump(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(PG_DUMP.read_text(encoding="utf-8"))  # type: ignore[arg-type]


@pytest.mark.parametrize("batch", [4, BACKFILL_BATCH], ids=["batches-of-4", "one-batch"])
def test_a_version_2_postgres_journal_migrates(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # Batches of 4 over the 17 trades: the backfill's batch ends and a short last batch.
    monkeypatch.setattr(journal_base, "BACKFILL_BATCH", batch)
    _load_pg_dump(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as pg:
        assert pg.execute("SELECT value FROM meta").fetchone() == ("2",)
        before = pg.execute("SELECT * FROM trades ORDER BY seq").fetchall()
    with Journal.open(pg_url) as server, Journal.open(v2_journal(tmp_path / "v2.sqlite")) as lite:
        assert server.schema_version() == lite.schema_version() == SCHEMA_VERSION == 4
        assert comparable_rows(server, [V2_RUN]) == comparable_rows(lite, [V2_RUN])
        # v2 -> v3 -> v4: the summary built from the trades, the same on both backends.
        assert kept_sums(server, V2_RUN) == reference_sums(server, V2_RUN)
        assert kept_sums(server, V2_RUN) == kept_sums(lite, V2_RUN)
        assert sum(g["trades"] for g in kept_sums(server, V2_RUN).values()) == 17
    with psycopg.connect(pg_url, autocommit=True) as pg:
        after = pg.execute("SELECT * FROM trades ORDER BY seq").fetchall()
        assert [r[: len(before[0])] for r in after] == before
        rows = pg.execute(
            f"SELECT amount, price, fee_cost, fee_count, {EXACT} FROM trades ORDER BY seq"
        ).fetchall()
        assert check_exact_columns(rows) == 17
        # Still append-only, and the report's index is there.
        with pytest.raises(psycopg.errors.RestrictViolation):
            pg.execute("UPDATE trades SET amount_hi = 0")
        assert pg.execute("SELECT to_regclass('trades_report')").fetchone() == ("trades_report",)
        with pytest.raises(psycopg.errors.RestrictViolation):
            pg.execute("DELETE FROM trade_sums")
    Journal.open(pg_url).close()  # opening a current journal again changes nothing


def test_the_migration_is_one_transaction(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails part way leaves the version-2 journal as it was."""
    import exsdk.journal.postgres as postgres

    _load_pg_dump(pg_url)

    def broken(db: psycopg.Connection[object]) -> None:
        db.execute("ALTER TABLE trades ADD COLUMN amount_hi BIGINT")
        raise RuntimeError("killed mid-migration")

    monkeypatch.setitem(postgres._MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError, match="killed") as failed:
        Journal.open(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as pg:
        # The failed opener's connection is closed, not left to the garbage collector
        # while the exception (kept here, as a caller's log or retry loop may) holds it.
        assert failed.tb is not None
        mine = f"exsdk pid {os.getpid()} %"
        left = pg.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE %s",
            (mine,),
        )
        assert left.fetchone() == (0,)
        assert pg.execute("SELECT value FROM meta").fetchone() == ("2",)
        columns = pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'trades'"
        ).fetchall()
        assert ("amount_hi",) not in columns
