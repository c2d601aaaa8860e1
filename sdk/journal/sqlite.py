"""The embedded SQLite journal: one file per caller-chosen path, WAL mode, the default.

With the default ``durability="full"`` a row is on disk before the call returns;
``"normal"`` survives a killed process (what resume needs) but may lose the last rows to a
power cut, for about half the cost per child (``bench/RESULTS.md``). A process killed at
any point leaves a journal that opens and resumes. Triggers refuse every UPDATE and DELETE.
The readers and writers are :class:`~exsdk.journal.base.Journal`'s.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, Self

from exsdk.journal.base import (
    EXACT_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    SECRET_KEYS,
    TABLES,
    TRADE_SUM_KEYS,
    Durability,
    Journal,
    RunRecord,
    _child_columns,
    _Cursor,
    _trade_columns,
    _unavailable,
    backfill_exact_columns,
    backfill_trade_sums,
    refuse_newer,
    scrub,
    trade_sum_backfill,
    trade_sum_upsert,
)
from exsdk.journal.lease import LeaseRegistry, RunLease
from exsdk.models import CcxtTrade, ChildOrder

__all__ = ["SCHEMA_VERSION", "SECRET_KEYS", "Journal", "RunRecord", "SqliteJournal", "scrub"]


# Columns version 2 added, in the order a fresh version-2 table has them (after the
# version-1 columns), so a migrated table reads back column for column like a fresh one.
_V2_COLUMNS = (
    ("child_events", "symbol", "TEXT"),
    ("child_events", "side", "TEXT"),
    ("child_events", "amount", "TEXT"),
    ("child_events", "limit_price", "TEXT"),
    ("child_events", "created_at", "INTEGER"),
    ("trades", "timestamp", "INTEGER"),
    ("trades", "cost", "TEXT"),
    ("trades", "taker_or_maker", "TEXT"),
    ("trades", "fee_cost", "TEXT"),
    ("trades", "fee_currency", "TEXT"),
    ("trades", "fee_count", "INTEGER NOT NULL DEFAULT 0"),
)


def _schema_statements() -> list[str]:
    # One statement at a time: executescript() would commit the open transaction first.
    return [part.strip() for part in SCHEMA.split(";") if part.strip()]


def _table_statement(table: str) -> str:
    """The schema's CREATE TABLE of one table (a step that adds a table runs only its own:
    the rest of the current schema may name columns a later step adds)."""
    [statement] = [
        s for s in _schema_statements() if s.startswith(f"CREATE TABLE IF NOT EXISTS {table} ")
    ]
    return statement


def _append_only_triggers() -> list[str]:
    parts = []
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    return parts


def _summary_triggers() -> list[str]:
    """Version 4's summary: every trade row inserted, by whichever statement, is added to
    its ``trade_sums`` row in the same transaction (an ignored duplicate fires nothing).
    The summary is updated only so: a DELETE is refused, and so is an UPDATE that does not
    add exactly one trade (SQLite cannot tell a trigger's statement from a caller's)."""
    changed = " OR ".join(f"NEW.{k} <> OLD.{k}" for k in (*TRADE_SUM_KEYS, "nulls"))
    return [
        "CREATE TRIGGER IF NOT EXISTS trades_sum AFTER INSERT ON trades"
        f" BEGIN {trade_sum_upsert('NEW')}; END",
        "CREATE TRIGGER IF NOT EXISTS trade_sums_no_delete BEFORE DELETE ON trade_sums"
        " BEGIN SELECT RAISE(ABORT, 'trade_sums is kept by the trades trigger alone'); END",
        "CREATE TRIGGER IF NOT EXISTS trade_sums_no_update BEFORE UPDATE ON trade_sums"
        f" WHEN NEW.trades <> OLD.trades + 1 OR {changed}"
        " BEGIN SELECT RAISE(ABORT, 'trade_sums is kept by the trades trigger alone'); END",
    ]


def _stored_version(db: sqlite3.Connection) -> int | None:
    """The schema version the file says it has; ``None`` for a file without a journal."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None:
            return int(row[0])
    # Version 1 wrote its tables before its version row: a file killed in between.
    return 1 if "trades" in tables else None


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Add version 2's typed columns and fill them from each row's own JSON.

    The values come from the same models and helpers the writers use, so a migrated row
    holds exactly what version 2 would have written. The update triggers are dropped for
    the backfill and created again before the transaction commits.
    """
    for table, column, kind in _V2_COLUMNS:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    db.execute("DROP TRIGGER IF EXISTS trades_no_update")
    db.execute("DROP TRIGGER IF EXISTS child_events_no_update")
    db.execute(_table_statement("trade_fees"))
    updates: list[tuple[Any, ...]] = []
    fee_rows: list[tuple[Any, ...]] = []
    for seq, run_id, payload in db.execute("SELECT seq, run_id, payload FROM trades"):
        columns, several = _trade_columns(CcxtTrade.from_ccxt(json.loads(payload)))
        updates.append((*columns, seq))
        fee_rows.extend((run_id, seq, *fee) for fee in several)
    db.executemany(
        "UPDATE trades SET timestamp = ?, cost = ?, taker_or_maker = ?, fee_cost = ?,"
        " fee_currency = ?, fee_count = ? WHERE seq = ?",
        updates,
    )
    db.executemany("INSERT INTO trade_fees VALUES (?, ?, ?, ?, ?)", fee_rows)
    children = [
        (*_child_columns(ChildOrder.model_validate_json(text)), seq)
        for seq, text in db.execute("SELECT seq, child_json FROM child_events")
    ]
    db.executemany(
        "UPDATE child_events SET symbol = ?, side = ?, amount = ?, limit_price = ?,"
        " created_at = ? WHERE seq = ?",
        children,
    )


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Add version 3's exact integer columns and fill them from each row's decimal text.

    The values come from :func:`~exsdk.journal.base.exact_columns`, the writer's own helper,
    so a migrated row holds what version 3 writes. The index comes with the schema after
    the last step; the update trigger is created again before the transaction commits.
    """
    for column in EXACT_COLUMNS:
        db.execute(f"ALTER TABLE trades ADD COLUMN {column} INTEGER")
    db.execute("DROP TRIGGER IF EXISTS trades_no_update")
    assignments = ", ".join(f"{column} = ?" for column in EXACT_COLUMNS)
    backfill_exact_columns(
        lambda after, limit: db.execute(
            "SELECT seq, amount, price, fee_cost, fee_count FROM trades"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall(),
        lambda rows: db.executemany(f"UPDATE trades SET {assignments} WHERE seq = ?", rows),
    )


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """Add version 4's ``trade_sums`` and build it from the trades journaled already,
    :data:`~exsdk.journal.base.BACKFILL_BATCH` trades at a time, each added as the trigger
    adds a new one (the same statement), so a migrated summary is the one version 4 keeps.
    The trigger itself comes with the schema after the last step."""
    db.execute(_table_statement("trade_sums"))
    add = trade_sum_backfill(grouped=False)
    backfill_trade_sums(
        lambda after, limit: db.execute(
            "SELECT MAX(seq) FROM (SELECT seq FROM trades WHERE seq > ? ORDER BY seq LIMIT ?)",
            (after, limit),
        ).fetchone()[0],
        lambda after, upto: db.execute(add, (after, upto)),
    )


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
}
"""Version n -> the step that takes a journal from n to n + 1, in one transaction."""


def _prepare(db: sqlite3.Connection, path: str) -> None:
    """Create the schema, or migrate an older one, in one transaction; refuse a newer one.

    A journal of the current version is left as it is, not even locked (opening it writes
    nothing). Otherwise ``BEGIN IMMEDIATE`` first and the version read again inside: two
    processes opening one old file migrate it once.
    """
    version = _stored_version(db)
    refuse_newer(version, path)
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _stored_version(db)
        refuse_newer(version, path)
        while version is not None and version < SCHEMA_VERSION:
            _MIGRATIONS[version](db)
            version += 1
        triggers = [*_append_only_triggers(), *_summary_triggers()]
        for statement in [*_schema_statements(), *triggers]:
            db.execute(statement)
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class _SqliteTransaction:
    """``BEGIN IMMEDIATE`` .. ``COMMIT`` (``ROLLBACK`` when the block raises); a class, not a
    generator: two of them per child on the submit path."""

    __slots__ = ("journal",)

    def __init__(self, journal: SqliteJournal) -> None:
        self.journal = journal

    def __enter__(self) -> None:
        self.journal._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        db = self.journal._db
        if exc is not None:
            # A journal that failed mid-transaction may refuse the rollback too; the
            # transaction is then gone with the connection, and the first error counts.
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            return
        try:
            db.execute("COMMIT")
        except sqlite3.Error as failed:
            raise _unavailable(self.journal, failed) from failed


class _SqliteRead:
    """``BEGIN`` (deferred: no lock until the first read, which fixes the WAL snapshot every
    later read of the transaction sees) .. ``COMMIT``."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(sqlite3.Error):  # a read has nothing to lose
            self.db.execute("COMMIT")


class SqliteJournal(Journal):
    """The journal in one SQLite file (or ``:memory:``)."""

    driver_errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        super().__init__(path)
        self._db = connection
        self._leases = LeaseRegistry(None if path == ":memory:" else Path(path))

    @classmethod
    def connect(
        cls, path: str | Path, *, durability: Durability = "full", lock_timeout: float = 10.0
    ) -> Self:
        """Open (creating when needed) the file at ``path``; see :meth:`Journal.open`."""
        text = str(path)
        if text != ":memory:":
            Path(text).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: every statement commits at once unless inside _tx().
        db = sqlite3.connect(
            text, isolation_level=None, check_same_thread=False, timeout=lock_timeout
        )
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: an intent is on disk before the order request leaves.
        db.execute(f"PRAGMA synchronous={durability.upper()}")
        db.execute("PRAGMA foreign_keys=ON")
        try:
            _prepare(db, text)
        except BaseException:
            db.close()
            raise
        return cls(db, text)

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> _Cursor:
        return self._db.execute(sql, args)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _in_transaction(self) -> bool:
        return self._db.in_transaction

    def _transaction(self) -> AbstractContextManager[object]:
        return _SqliteTransaction(self)

    def _read_transaction(self) -> AbstractContextManager[object]:
        return _SqliteRead(self._db)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def lease(self, run_id: str) -> AbstractContextManager[RunLease]:
        """Hold the run's exclusive lease for the block (reentrant in one process).

        An OS file lock next to the journal (:mod:`exsdk.journal.lease`), released by the
        kernel when its holder exits however it exits.
        """
        return self._leases.hold(run_id)
