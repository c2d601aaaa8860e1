"""An append-only SQLite journal of every OMS and ccxt record of a run.

One file per caller-chosen path, WAL mode. With the default ``durability="full"`` a row is
on disk before the call returns, so a child's intent survives even a power cut before its
request leaves; ``"normal"`` survives a killed process (what resume needs) but may lose the
last rows to a power cut, for about half the cost per child (``bench/RESULTS.md``). A
process killed at any point leaves a journal that opens and resumes. Rows are never updated or
deleted (triggers refuse it); a child's current state is its latest event.

Raw payloads are scrubbed of anything that looks like a credential before they are
written. The typed readers (models, dicts) need nothing beyond the core; the DataFrame
readers need pandas, from the ``report`` extra (:class:`~exsdk.extras.MissingExtra` says so).
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, Self, TypeVar

import attrs

from exsdk.errors import JournalUnavailable
from exsdk.extras import require
from exsdk.journal.lease import LeaseRegistry, RunLease
from exsdk.models import CcxtOrder, CcxtTrade, ChildOrder, OmsFill, Order
from exsdk.redaction import SECRET_KEYS, scrub

if TYPE_CHECKING:
    # Only the DataFrame readers need pandas; importing it costs a third of start-up.
    import pandas as pd

__all__ = ["SCHEMA_VERSION", "SECRET_KEYS", "Journal", "RunRecord", "scrub"]

SCHEMA_VERSION = 2
"""The journal's schema version, in ``meta``. 1: the first schema (trade fees and times, and
a child's symbol, side, amount, limit price and creation time, only inside JSON). 2: those
as typed columns (``trades.timestamp``, ``cost``, ``taker_or_maker``, ``fee_cost``,
``fee_currency``, ``fee_count``; the ``trade_fees`` table for trades with several fees;
``child_events.symbol``, ``side``, ``amount``, ``limit_price``, ``created_at``), so reports
read columns instead of parsing JSON. A version-1 journal is migrated on open; a journal of
a newer version than this is refused."""


_TABLES = (
    "runs",
    "run_events",
    "parents",
    "child_events",
    "raw_responses",
    "trades",
    "oms_fills",
    "reported_trades",
    "errors",
    "trade_fees",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    adapter TEXT NOT NULL,
    exchange TEXT NOT NULL,
    environment TEXT NOT NULL,
    params TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parents (
    run_id TEXT NOT NULL,
    parent_order_id INTEGER NOT NULL,
    asset_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    diff_num_shares TEXT NOT NULL,
    order_json TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, parent_order_id)
);
CREATE TABLE IF NOT EXISTS child_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    parent_order_id INTEGER NOT NULL,
    wave INTEGER NOT NULL,
    status TEXT NOT NULL,
    ccxt_order_id TEXT,
    filled TEXT NOT NULL,
    reason TEXT,
    child_json TEXT NOT NULL,
    at TEXT NOT NULL,
    symbol TEXT,
    side TEXT,
    amount TEXT,
    limit_price TEXT,
    created_at INTEGER
);
CREATE INDEX IF NOT EXISTS child_events_by_id ON child_events (run_id, client_order_id, seq);
CREATE TABLE IF NOT EXISTS raw_responses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    client_order_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trades (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    exchange TEXT NOT NULL,
    symbol TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    ccxt_order_id TEXT,
    client_order_id TEXT,
    parent_order_id INTEGER,
    side TEXT,
    amount TEXT NOT NULL,
    price TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL,
    timestamp INTEGER,
    cost TEXT,
    taker_or_maker TEXT,
    fee_cost TEXT,
    fee_currency TEXT,
    fee_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (exchange, symbol, trade_id)
);
CREATE TABLE IF NOT EXISTS trade_fees (
    run_id TEXT NOT NULL,
    trade_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    cost TEXT NOT NULL,
    currency TEXT,
    PRIMARY KEY (trade_seq, position)
);
CREATE TABLE IF NOT EXISTS oms_fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    parent_order_id INTEGER NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT,
    fee_in_quote TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reported_trades (
    run_id TEXT NOT NULL,
    parent_order_id INTEGER NOT NULL,
    trade_id TEXT NOT NULL,
    fill_seq INTEGER NOT NULL,
    PRIMARY KEY (run_id, parent_order_id, trade_id)
);
CREATE TABLE IF NOT EXISTS errors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    client_order_id TEXT,
    error_class TEXT NOT NULL,
    code INTEGER,
    message TEXT NOT NULL,
    body TEXT,
    at TEXT NOT NULL
);
"""


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
    return [part.strip() for part in _SCHEMA.split(";") if part.strip()]


def _append_only_triggers() -> list[str]:
    parts = []
    for table in _TABLES:
        for op in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    return parts


def _ms(value: datetime | None) -> int | None:
    # Epoch milliseconds, rounded as the models serialize their timestamps.
    return None if value is None else round(value.timestamp() * 1000)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _trade_columns(
    trade: CcxtTrade,
) -> tuple[tuple[Any, ...], list[tuple[int, str, str | None]]]:
    """The typed columns of a trade (``timestamp`` .. ``fee_count``) and, for a trade with
    several fees, its fees as (position, cost, currency) rows of ``trade_fees``."""
    fees = trade.all_fees()
    one = fees[0] if len(fees) == 1 else None
    columns = (
        _ms(trade.timestamp),
        _text(trade.cost),
        _text(trade.taker_or_maker),
        None if one is None else str(one.cost),
        None if one is None else one.currency,
        len(fees),
    )
    several = [(i, str(f.cost), f.currency) for i, f in enumerate(fees)] if len(fees) > 1 else []
    return columns, several


def _child_columns(child: ChildOrder) -> tuple[Any, ...]:
    """The typed columns of a child's state (``symbol`` .. ``created_at``)."""
    return (
        child.symbol,
        str(child.side),
        str(child.amount),
        _text(child.limit_price),
        _ms(child.created_at),
    )


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
    for statement in _schema_statements():  # trade_fees
        db.execute(statement)
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


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}
"""Version n -> the step that takes a journal from n to n + 1, in one transaction."""


def _refuse_newer(version: int | None, path: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise JournalUnavailable(
            f"journal {path} has schema version {version}, newer than this exsdk knows"
            f" ({SCHEMA_VERSION}): open it with a newer exsdk"
        )


def _prepare(db: sqlite3.Connection, path: str) -> None:
    """Create the schema, or migrate an older one, in one transaction; refuse a newer one.

    A journal of the current version is left as it is, not even locked (opening it writes
    nothing). Otherwise ``BEGIN IMMEDIATE`` first and the version read again inside: two
    processes opening one old file migrate it once.
    """
    version = _stored_version(db)
    _refuse_newer(version, path)
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _stored_version(db)
        _refuse_newer(version, path)
        while version is not None and version < SCHEMA_VERSION:
            _MIGRATIONS[version](db)
            version += 1
        for statement in [*_schema_statements(), *_append_only_triggers()]:
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


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(scrub(value), default=_default, sort_keys=True)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@contextmanager
def _fail_closed(path: str) -> Iterator[None]:
    """SQLite's failures (read-only, disk full, locked past the timeout, corrupt) as
    one :class:`~exsdk.errors.JournalUnavailable`: the broker stops on it."""
    try:
        yield
    except sqlite3.Error as exc:
        raise JournalUnavailable(
            f"journal {path} cannot be used: {type(exc).__name__}: {exc}"
        ) from exc


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        journal = args[0]
        try:
            with _fail_closed(getattr(journal, "path", "?")):
                return method(*args, **kwargs)
        except JournalUnavailable as exc:
            # Sticky: a journal that failed once is not trusted again in this process,
            # even if its next write would succeed (see Journal.failure).
            if isinstance(journal, Journal) and journal.failure is None:
                journal.failure = exc
            raise

    return wrapper


_REPORT_TRADE_COLUMNS = (
    "client_order_id",
    "ccxt_order_id",
    "trade_id",
    "amount",
    "price",
    "fee_cost",
    "fee_currency",
    "fee_count",
    "timestamp",
    "at",
    "side",
    "taker_or_maker",
)
_REPORT_TRADES_SQL = (
    "SELECT client_order_id, ccxt_order_id, trade_id, amount, price, fee_cost, fee_currency,"
    " fee_count, timestamp, CASE WHEN timestamp IS NULL THEN at END, side, taker_or_maker"
    " FROM trades WHERE run_id = ? ORDER BY seq"
)


def _object_frame(rows: list[Any], names: Sequence[str]) -> pd.DataFrame:
    """Rows of a query as a frame of object columns, values as SQLite gave them.

    One 2-D object array from the row tuples (numpy's C loop, a third of the cost of
    transposing in Python), then contiguous columns as object Series: pandas would
    otherwise scan and copy every text column into its string dtype.
    """
    import numpy as np
    import pandas as pd

    table = np.empty((len(rows), len(names)), dtype=object)
    table[:] = rows
    return pd.DataFrame(
        {
            n: pd.Series(np.ascontiguousarray(table[:, i]), dtype=object)
            for i, n in enumerate(names)
        },
        copy=False,
    )


@attrs.frozen
class RunRecord:
    """One run as journaled: what it ran against and with which parameters."""

    run_id: str
    started_at: datetime
    adapter: str
    exchange: str
    environment: str
    params: dict[str, Any]


class Journal:
    """The append-only journal. Open with :meth:`open`; one connection, short writes."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._db = connection
        self.path = path
        self.failure: JournalUnavailable | None = None
        """The first storage failure of this journal, if any: the broker sends nothing after it,
        whichever call met it and even if later writes would succeed."""
        self._leases = LeaseRegistry(None if path == ":memory:" else Path(path))

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        durability: Literal["full", "normal"] = "full",
        lock_timeout: float = 10.0,
    ) -> Self:
        """Open (creating when needed) the journal at ``path``; ``:memory:`` for tests.

        ``durability`` is SQLite's ``synchronous`` setting: ``full`` (the default) syncs
        every row to disk, ``normal`` survives a killed process but not a power cut.
        ``lock_timeout`` is how long a write waits for another connection's lock before
        the journal counts as unavailable (:class:`~exsdk.errors.JournalUnavailable`).
        """
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', not {durability!r}")
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

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """Write the rows inside as one transaction: one disk sync instead of one per row.

        Reentrant: inside another batch it joins the outer transaction.
        """
        if self._db.in_transaction:
            yield self._db
            return
        with self._tx() as db:
            yield db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with _fail_closed(self.path):
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            # A journal that failed mid-transaction may refuse the rollback too; the
            # transaction is then gone with the connection, and the first error counts.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        with _fail_closed(self.path):
            self._db.execute("COMMIT")

    def lease(self, run_id: str) -> AbstractContextManager[RunLease]:
        """Hold the run's exclusive lease for the block (reentrant in one process).

        Another live process holding it makes this raise
        :class:`~exsdk.errors.RunLeased` naming the holder; a crashed holder's lease is
        free again (an OS file lock next to the journal, released by the kernel).
        """
        return self._leases.hold(run_id)

    # -- writers -------------------------------------------------------------------

    @_guarded
    def record_run(
        self,
        run_id: str,
        *,
        adapter: str,
        exchange: str,
        environment: str,
        params: Mapping[str, Any],
        started_at: datetime | None = None,
    ) -> None:
        """Record a run once; recording the same run again (a resume) is a no-op."""
        self._db.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                (started_at or datetime.now(UTC)).isoformat(),
                adapter,
                exchange,
                environment,
                _dumps(dict(params)),
            ),
        )

    @_guarded
    def record_run_event(self, run_id: str, event: str, detail: Any = None) -> None:
        """Append a run-level event (started, resumed, finished, wave skipped...)."""
        self._db.execute(
            "INSERT INTO run_events (run_id, event, detail, at) VALUES (?, ?, ?, ?)",
            (run_id, event, None if detail is None else _dumps(detail), _now()),
        )

    @_guarded
    def record_parents(self, run_id: str, parents: Iterable[tuple[Order, str]]) -> None:
        """Record parent orders with their resolved symbols; re-recording is a no-op."""
        with self._tx() as db:
            for order, symbol in parents:
                db.execute(
                    "INSERT OR IGNORE INTO parents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        order.order_id,
                        order.asset_id,
                        symbol,
                        str(order.type_),
                        str(order.diff_num_shares),
                        order.model_dump_json(),
                        _now(),
                    ),
                )

    @_guarded
    def record_child(self, run_id: str, child: ChildOrder) -> None:
        """Append one state of a child (the first one is its intent)."""
        self._db.execute(
            "INSERT INTO child_events (run_id, client_order_id, parent_order_id, wave, status,"
            " ccxt_order_id, filled, reason, child_json, at, symbol, side, amount, limit_price,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                run_id,
                child.client_order_id,
                child.parent_order_id,
                child.wave,
                str(child.status),
                child.ccxt_order_id,
                str(child.filled),
                child.reason,
                child.model_dump_json(),
                _now(),
                *_child_columns(child),
            ),
        )

    @_guarded
    def record_raw(
        self, run_id: str, kind: str, payload: Any, *, client_order_id: str | None = None
    ) -> None:
        """Append one raw venue response (scrubbed), e.g. a create or fetch order reply."""
        if isinstance(payload, CcxtOrder | CcxtTrade):
            payload = payload.to_ccxt()
        self._db.execute(
            "INSERT INTO raw_responses (run_id, client_order_id, kind, payload, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, client_order_id, kind, _dumps(payload), _now()),
        )

    @_guarded
    def record_trades(
        self,
        run_id: str,
        exchange: str,
        trades: Sequence[CcxtTrade],
        *,
        symbol: str,
        client_order_id: str | None,
        parent_order_id: int | None,
    ) -> int:
        """Record trades; one already known (same exchange, symbol, id) is ignored.

        Returns how many were new.
        """
        new = 0
        with self._tx() as db:
            for t in trades:
                columns, several = _trade_columns(t)
                cur = db.execute(
                    "INSERT OR IGNORE INTO trades (run_id, exchange, symbol, trade_id,"
                    " ccxt_order_id, client_order_id, parent_order_id, side, amount, price,"
                    " payload, at, timestamp, cost, taker_or_maker, fee_cost, fee_currency,"
                    " fee_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        exchange,
                        t.symbol or symbol,
                        t.id,
                        t.order,
                        client_order_id,
                        parent_order_id,
                        None if t.side is None else str(t.side),
                        str(t.amount),
                        str(t.price),
                        _dumps(t.to_ccxt()),
                        _now(),
                        *columns,
                    ),
                )
                if cur.rowcount and several:
                    db.executemany(
                        "INSERT INTO trade_fees VALUES (?, ?, ?, ?, ?)",
                        [(run_id, cur.lastrowid, *fee) for fee in several],
                    )
                new += cur.rowcount
        return new

    @_guarded
    def record_fill(self, run_id: str, fill: OmsFill, trade_ids: Iterable[str] = ()) -> None:
        """Append one OMS fill as reported to the caller, and the trades it reported.

        One transaction: a fill is in the journal exactly when its trades count as
        reported, so a fill is never reported twice, whatever is killed and resumed.
        """
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO oms_fills (run_id, parent_order_id, quantity, price, fee_in_quote,"
                " payload, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    fill.parent_order_id,
                    str(fill.quantity),
                    None if fill.price is None else str(fill.price),
                    str(fill.fee_in_quote),
                    fill.model_dump_json(),
                    _now(),
                ),
            )
            db.executemany(
                "INSERT OR IGNORE INTO reported_trades VALUES (?, ?, ?, ?)",
                [(run_id, fill.parent_order_id, str(t), cur.lastrowid) for t in trade_ids],
            )

    @_guarded
    def reported_trade_ids(self, run_id: str, parent_order_id: int) -> set[str]:
        """The ids of the parent's trades already reported in an OMS fill."""
        rows = self._db.execute(
            "SELECT trade_id FROM reported_trades WHERE run_id = ? AND parent_order_id = ?",
            (run_id, parent_order_id),
        ).fetchall()
        return {r[0] for r in rows}

    @_guarded
    def reported_empty(self, run_id: str, parent_order_id: int) -> bool:
        """Whether the parent was already reported as a fill without trades."""
        row = self._db.execute(
            "SELECT 1 FROM oms_fills WHERE run_id = ? AND parent_order_id = ?"
            " AND json_extract(payload, '$.num_trades') = 0 LIMIT 1",
            (run_id, parent_order_id),
        ).fetchone()
        return row is not None

    @_guarded
    def record_error(
        self,
        run_id: str,
        error: BaseException,
        *,
        client_order_id: str | None = None,
    ) -> None:
        """Append an error: its class, the venue's code and body when there are."""
        code = getattr(error, "code", None)
        body = getattr(error, "body", None)
        self._db.execute(
            "INSERT INTO errors (run_id, client_order_id, error_class, code, message, body, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                client_order_id,
                type(error).__name__,
                code if isinstance(code, int) else None,
                scrub(str(error)),
                None if body is None else scrub(str(body)),
                _now(),
            ),
        )

    # -- typed readers (for the broker) ----------------------------------------

    @_guarded
    def run(self, run_id: str) -> RunRecord:
        """The run record; ``KeyError`` when the journal has no such run."""
        row = self._db.execute(
            "SELECT run_id, started_at, adapter, exchange, environment, params FROM runs"
            " WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in journal {self.path}")
        return RunRecord(
            run_id=row[0],
            started_at=datetime.fromisoformat(row[1]),
            adapter=row[2],
            exchange=row[3],
            environment=row[4],
            params=json.loads(row[5]),
        )

    @_guarded
    def parent_orders(self, run_id: str) -> list[tuple[Order, str]]:
        """The run's parents with their symbols, in order id order."""
        rows = self._db.execute(
            "SELECT order_json, symbol FROM parents WHERE run_id = ? ORDER BY parent_order_id",
            (run_id,),
        ).fetchall()
        return [(Order.model_validate_json(r[0]), r[1]) for r in rows]

    @_guarded
    def latest_children(self, run_id: str) -> list[ChildOrder]:
        """Every child of the run in its latest state, in the order they were first written."""
        rows = self._db.execute(
            "SELECT e.child_json FROM child_events e JOIN ("
            "  SELECT client_order_id, MAX(seq) AS last, MIN(seq) AS first FROM child_events"
            "  WHERE run_id = ? GROUP BY client_order_id) m"
            " ON e.seq = m.last ORDER BY m.first",
            (run_id,),
        ).fetchall()
        return [ChildOrder.model_validate_json(r[0]) for r in rows]

    @_guarded
    def trade_models(self, run_id: str, *, parent_order_id: int | None = None) -> list[CcxtTrade]:
        """The run's trades as models, optionally of one parent, in journal order."""
        sql = "SELECT payload FROM trades WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if parent_order_id is not None:
            sql += " AND parent_order_id = ?"
            args = (run_id, parent_order_id)
        rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [CcxtTrade.from_ccxt(json.loads(r[0])) for r in rows]

    @_guarded
    def last_activity(self, run_id: str, client_order_id: str) -> datetime | None:
        """When the journal last wrote anything about a child (a state, a reply, an error).

        A request for the child can only have left before that moment; ``None`` when the
        child is unknown.
        """
        row = self._db.execute(
            "SELECT MAX(at) FROM ("
            " SELECT at FROM child_events WHERE run_id = ? AND client_order_id = ?"
            " UNION ALL SELECT at FROM errors WHERE run_id = ? AND client_order_id = ?"
            " UNION ALL SELECT at FROM raw_responses WHERE run_id = ? AND client_order_id = ?)",
            (run_id, client_order_id) * 3,
        ).fetchone()
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def run_ids(self) -> list[str]:
        """Every run id, oldest first."""
        return [r[0] for r in self._db.execute("SELECT run_id FROM runs ORDER BY started_at")]

    def latest_fills(self, run_id: str) -> list[OmsFill]:
        """Each parent's last reported OMS fill, by parent order id."""
        rows = self._db.execute(
            "SELECT parent_order_id, payload FROM oms_fills WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        last = {int(r[0]): r[1] for r in rows}
        return [OmsFill.model_validate_json(last[pid]) for pid in sorted(last)]

    def run_event_names(self, run_id: str) -> list[str]:
        """The names of one run's events, oldest first."""
        rows = self._db.execute(
            "SELECT event FROM run_events WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        return [r[0] for r in rows]

    def run_event_details(self, run_id: str, event: str) -> list[Any]:
        """The decoded ``detail`` of each ``event`` of one run, oldest first."""
        rows = self._db.execute(
            "SELECT detail FROM run_events WHERE run_id = ? AND event = ? ORDER BY seq",
            (run_id, event),
        )
        return [None if r[0] is None else json.loads(r[0]) for r in rows]

    def error_records(self, run_id: str) -> list[dict[str, Any]]:
        """Errors met during the run as dicts (the columns of :meth:`errors`), in order."""
        cursor = self._db.execute("SELECT * FROM errors WHERE run_id = ? ORDER BY seq", (run_id,))
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    # -- DataFrame readers (pandas, from the report extra) --------------------------

    def _frame(self, sql: str, args: tuple[Any, ...] = ()) -> pd.DataFrame:
        require("pandas", "report", "the journal's DataFrame readers")
        import pandas as pd

        return pd.read_sql_query(sql, self._db, params=args)

    def runs(self) -> pd.DataFrame:
        """All runs."""
        return self._frame("SELECT * FROM runs ORDER BY started_at")

    def run_events(self, run_id: str) -> pd.DataFrame:
        """Run-level events of one run."""
        return self._frame("SELECT * FROM run_events WHERE run_id = ? ORDER BY seq", (run_id,))

    def parents(self, run_id: str) -> pd.DataFrame:
        """Parent orders of one run."""
        return self._frame(
            "SELECT * FROM parents WHERE run_id = ? ORDER BY parent_order_id", (run_id,)
        )

    def child_events(self, run_id: str) -> pd.DataFrame:
        """Every state change of every child, in order (the append-only log)."""
        return self._frame("SELECT * FROM child_events WHERE run_id = ? ORDER BY seq", (run_id,))

    def children(self, run_id: str) -> pd.DataFrame:
        """Each child in its latest state."""
        return self._frame(
            "SELECT e.* FROM child_events e JOIN ("
            "  SELECT MAX(seq) AS last FROM child_events WHERE run_id = ?"
            "  GROUP BY client_order_id) m ON e.seq = m.last ORDER BY e.parent_order_id, e.wave",
            (run_id,),
        )

    def raw_responses(self, run_id: str) -> pd.DataFrame:
        """Every raw venue response of one run."""
        return self._frame("SELECT * FROM raw_responses WHERE run_id = ? ORDER BY seq", (run_id,))

    def trades(self, run_id: str) -> pd.DataFrame:
        """ccxt trades of one run (each venue trade once)."""
        return self._frame("SELECT * FROM trades WHERE run_id = ? ORDER BY seq", (run_id,))

    def trade_fees(self, run_id: str) -> pd.DataFrame:
        """The fees of the run's trades that have several (one row per fee, by position).

        A trade with one fee has it in ``trades.fee_cost`` and ``fee_currency``; with none,
        ``fee_count`` is 0.
        """
        return self._frame(
            "SELECT * FROM trade_fees WHERE run_id = ? ORDER BY trade_seq, position", (run_id,)
        )

    # -- the report's columns (one query per table, no JSON) ---------------------------

    def _columns(self, sql: str, args: tuple[Any, ...], names: Sequence[str]) -> pd.DataFrame:
        """The rows of ``sql`` as a frame of object columns, values as SQLite gave them
        (text stays text, NULL is ``None``), without pandas' per-column type inference."""
        require("pandas", "report", "the journal's DataFrame readers")
        import numpy as np
        import pandas as pd

        with _fail_closed(self.path):
            rows = self._db.execute(sql, args).fetchall()
        if not rows:
            return pd.DataFrame({n: np.empty(0, dtype=object) for n in names})
        return _object_frame(rows, names)

    def report_trade_chunks(self, run_id: str, rows: int) -> Iterator[pd.DataFrame]:
        """:meth:`report_trades` in frames of at most ``rows`` rows (one query, read on as
        the frames are used), each indexed by its rows' positions in the whole result."""
        require("pandas", "report", "the journal's DataFrame readers")
        import pandas as pd

        names = _REPORT_TRADE_COLUMNS
        with _fail_closed(self.path):
            cursor = self._db.execute(_REPORT_TRADES_SQL, (run_id,))
        done = 0
        while True:
            with _fail_closed(self.path):
                batch = cursor.fetchmany(rows)
            if not batch:
                return
            frame = _object_frame(batch, names)
            frame.index = pd.RangeIndex(done, done + len(batch))
            done += len(batch)
            yield frame

    def report_trades(self, run_id: str) -> pd.DataFrame:
        """The typed columns of the run's trades a report folds, in journal order.

        ``client_order_id``, ``ccxt_order_id``, ``trade_id``, ``amount``, ``price`` (decimal
        text), ``fee_cost``, ``fee_currency`` (the one fee; ``None`` when ``fee_count`` is
        not 1), ``fee_count``, ``timestamp`` (epoch ms or ``None``), ``at`` (the journaled
        time, only where ``timestamp`` is ``None``), ``side``, ``taker_or_maker``.
        """
        return self._columns(_REPORT_TRADES_SQL, (run_id,), _REPORT_TRADE_COLUMNS)

    def report_trade_fees(self, run_id: str) -> pd.DataFrame:
        """Each fee of the run's trades with several, beside its trade's columns."""
        names = (
            "trade_seq",
            "position",
            "cost",
            "currency",
            "client_order_id",
            "ccxt_order_id",
            "trade_id",
            "price",
        )
        sql = (
            "SELECT f.trade_seq, f.position, f.cost, f.currency, t.client_order_id,"
            " t.ccxt_order_id, t.trade_id, t.price FROM trade_fees f"
            " JOIN trades t ON t.seq = f.trade_seq WHERE f.run_id = ?"
            " ORDER BY f.trade_seq, f.position"
        )
        return self._columns(sql, (run_id,), names)

    def report_children(self, run_id: str) -> pd.DataFrame:
        """Each child of the run in its latest state, typed columns only, in the order
        the children were first written (as :meth:`latest_children`)."""
        names = (
            "client_order_id",
            "parent_order_id",
            "wave",
            "status",
            "ccxt_order_id",
            "filled",
            "reason",
            "symbol",
            "side",
            "amount",
            "limit_price",
            "created_at",
        )
        sql = (
            "SELECT e.client_order_id, e.parent_order_id, e.wave, e.status, e.ccxt_order_id,"
            " e.filled, e.reason, e.symbol, e.side, e.amount, e.limit_price, e.created_at"
            " FROM child_events e JOIN ("
            "  SELECT client_order_id, MAX(seq) AS last, MIN(seq) AS first FROM child_events"
            "  WHERE run_id = ? GROUP BY client_order_id) m"
            " ON e.seq = m.last ORDER BY m.first"
        )
        return self._columns(sql, (run_id,), names)

    def raw_payloads(self, run_id: str, kind: str) -> list[Any]:
        """The decoded payloads of one kind of raw response (e.g. ``mid_sample``), in order."""
        with _fail_closed(self.path):
            rows = self._db.execute(
                "SELECT payload FROM raw_responses WHERE run_id = ? AND kind = ? ORDER BY seq",
                (run_id, kind),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def fills(self, run_id: str) -> pd.DataFrame:
        """OMS fills reported to the caller."""
        return self._frame("SELECT * FROM oms_fills WHERE run_id = ? ORDER BY seq", (run_id,))

    def errors(self, run_id: str) -> pd.DataFrame:
        """Errors met during the run, retried or not."""
        return self._frame("SELECT * FROM errors WHERE run_id = ? ORDER BY seq", (run_id,))
