"""The backend-neutral journal: an append-only record of every OMS and ccxt record of a run.

:class:`Journal` holds every reader and writer once, in SQL both backends run; a backend
(:mod:`exsdk.journal.sqlite`, the embedded default, or :mod:`exsdk.journal.postgres`, a
server many brokers share) supplies the connection, its transactions, its leases and its
dialect. :meth:`Journal.open` picks the backend from a path or URL.

Rows are never updated or deleted (the database refuses it, by triggers); a child's current
state is its latest event. With the default ``durability="full"`` a row is durable before the
call returns, so a child's intent survives even a power cut before its request leaves.

Raw payloads are scrubbed of anything that looks like a credential before they are
written. The typed readers (models, dicts) need nothing beyond the core; the DataFrame
readers need pandas, from the ``report`` extra (:class:`~exsdk.extras.MissingExtra` says so).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, ParamSpec, Protocol, Self, TypeVar

import attrs

from exsdk._value import Value
from exsdk.errors import JournalUnavailable
from exsdk.extras import require
from exsdk.journal.lease import RunLease
from exsdk.models import CcxtOrder, CcxtTrade, ChildOrder, OmsFill, Order
from exsdk.redaction import SECRET_KEYS, may_name_secret, scrub

_orjson: Any
try:
    import orjson as _orjson
except ImportError:  # not on every platform ccxt supports (ccxt itself falls back too)
    _orjson = None
# Datetimes and dataclasses go through _default, as with the standard library.
_ORJSON_OPTIONS = (
    0
    if _orjson is None
    else _orjson.OPT_SORT_KEYS
    | _orjson.OPT_PASSTHROUGH_DATETIME
    | _orjson.OPT_PASSTHROUGH_DATACLASS
)

if TYPE_CHECKING:
    # Only the DataFrame readers need pandas; importing it costs a third of start-up.
    import numpy as np
    import pandas as pd

__all__ = [
    "EXACT_COLUMNS",
    "EXACT_LIMB",
    "EXACT_SCALE",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SECRET_KEYS",
    "TABLES",
    "TRADE_SUM_KEYS",
    "Journal",
    "RunRecord",
    "exact_columns",
    "exact_limbs",
    "scrub",
]

SCHEMA_VERSION = 4
"""The journal's schema version, in ``meta``. 1: the first schema (trade fees and times, and
a child's symbol, side, amount, limit price and creation time, only inside JSON). 2: those
as typed columns (``trades.timestamp``, ``cost``, ``taker_or_maker``, ``fee_cost``,
``fee_currency``, ``fee_count``; the ``trade_fees`` table for trades with several fees;
``child_events.symbol``, ``side``, ``amount``, ``limit_price``, ``created_at``), so reports
read columns instead of parsing JSON. 3: a trade's amount, notional (amount x price), single
fee and fee notional (fee x price) also as exact integers (:data:`EXACT_COLUMNS`,
:func:`exact_limbs`), and an index over what a report sums, so the database folds a run
with exact integer ``SUM`` s. 4: those sums kept as the trades are written, in
``trade_sums`` (:data:`TRADE_SUM_KEYS`), by a trigger on ``trades`` in the same transaction,
so a report reads one row per child and fee currency instead of summing every trade. An
older journal is migrated on open; a journal of a newer version than this is refused."""

EXACT_SCALE = 18
"""Decimal places of the exact integer columns: a value is ``(hi * 10**9 + lo) / 10**18``."""
EXACT_LIMB = 10**9
"""The base of an exact column's two limbs: its value at :data:`EXACT_SCALE` decimals is
``hi * EXACT_LIMB + lo``; a sum of limbs adds up the same way."""
_INT64 = 2**63

EXACT_COLUMNS = (
    "amount_hi",
    "amount_lo",
    "notional_hi",
    "notional_lo",
    "fee_hi",
    "fee_lo",
    "fee_notional_hi",
    "fee_notional_lo",
)
"""The exact integer columns of ``trades`` (version 3), as :func:`exact_limbs` pairs: the
amount, amount x price, the one fee's cost and cost x price. All eight are NULL when one of
the values does not fit (more than 18 decimals, or 9.2e9 or more), or, for the fee pair,
when the trade has not exactly one fee; a reader folds such a row from its decimal text."""

Durability = Literal["full", "normal"]

# The append-only tables, in the order a copy writes them (a fill before its reported trades).
TABLES = (
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

# Written in SQLite's dialect; the PostgreSQL backend translates the few types that differ.
SCHEMA = """
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
    amount_hi INTEGER,
    amount_lo INTEGER,
    notional_hi INTEGER,
    notional_lo INTEGER,
    fee_hi INTEGER,
    fee_lo INTEGER,
    fee_notional_hi INTEGER,
    fee_notional_lo INTEGER,
    UNIQUE (exchange, symbol, trade_id)
);
CREATE INDEX IF NOT EXISTS trades_report ON trades (run_id, client_order_id, ccxt_order_id,
    exchange, symbol, fee_currency, timestamp, amount_hi, amount_lo, notional_hi, notional_lo,
    fee_hi, fee_lo, fee_notional_hi, fee_notional_lo);
CREATE TABLE IF NOT EXISTS trade_sums (
    run_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    ccxt_order_id TEXT NOT NULL,
    exchange TEXT NOT NULL,
    symbol TEXT NOT NULL,
    fee_currency TEXT NOT NULL,
    nulls INTEGER NOT NULL,
    trades INTEGER NOT NULL,
    exact INTEGER NOT NULL,
    amount_hi BLOB NOT NULL,
    amount_lo BLOB NOT NULL,
    notional_hi BLOB NOT NULL,
    notional_lo BLOB NOT NULL,
    neg_amount_hi BLOB NOT NULL,
    neg_amount_lo BLOB NOT NULL,
    neg_notional_hi BLOB NOT NULL,
    neg_notional_lo BLOB NOT NULL,
    fees INTEGER NOT NULL,
    fee_hi BLOB NOT NULL,
    fee_lo BLOB NOT NULL,
    fee_notional_hi BLOB NOT NULL,
    fee_notional_lo BLOB NOT NULL,
    first_ms INTEGER,
    last_ms INTEGER,
    timed INTEGER NOT NULL,
    PRIMARY KEY (run_id, client_order_id, ccxt_order_id, exchange, symbol, fee_currency, nulls)
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


def _ms(value: datetime | None) -> int | None:
    # Epoch milliseconds, rounded as the models serialize their timestamps.
    return None if value is None else round(value.timestamp() * 1000)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_EXACT = Context(prec=1000)  # wide enough that no product or scaling here ever rounds


def exact_limbs(value: Decimal) -> tuple[int, int] | None:
    """``value`` as two integers ``(hi, lo)`` with ``value == (hi * 10**9 + lo) / 10**18``
    and ``0 <= lo < 10**9``; ``None`` when it has more than 18 decimals or ``hi`` would not
    fit a 64-bit integer (``|value|`` of about 9.2e9 or more).

    Two limbs so that SQL ``SUM`` over them is exact integer arithmetic (SQLite raises on
    overflow, PostgreSQL sums BIGINT as numeric) for values of any exponent up to 18
    decimals: the sums of a group are ``SUM(hi) * 10**9 + SUM(lo)`` at one scale.
    """
    if not value.is_finite():
        return None
    scaled = value.scaleb(EXACT_SCALE, context=_EXACT)
    if scaled != scaled.to_integral_value():
        return None
    hi, lo = divmod(int(scaled), EXACT_LIMB)
    if not -_INT64 <= hi < _INT64:
        return None
    return hi, lo


def exact_columns(amount: Decimal, price: Decimal, fee: Decimal | None) -> tuple[int | None, ...]:
    """The :data:`EXACT_COLUMNS` of a trade of ``amount`` at ``price`` with one fee of cost
    ``fee`` (``None``: not exactly one fee): all NULL when any value does not fit."""
    with localcontext(_EXACT):
        values = [amount, amount * price] + ([] if fee is None else [fee, fee * price])
    limbs = [exact_limbs(v) for v in values]
    if any(pair is None for pair in limbs):
        return (None,) * len(EXACT_COLUMNS)
    flat = tuple(part for pair in limbs if pair is not None for part in pair)
    return flat + (None,) * (len(EXACT_COLUMNS) - len(flat))


BACKFILL_BATCH = 10_000
"""Trades read and rewritten at a time by a migration's backfill: its memory is one batch,
not the journal."""


def backfill_exact_columns(
    select: Callable[[int, int], Sequence[tuple[Any, ...]]],
    update: Callable[[list[tuple[Any, ...]]], object],
) -> None:
    """Fill :data:`EXACT_COLUMNS` of every trade, :data:`BACKFILL_BATCH` rows at a time.

    ``select(after, limit)`` returns the next rows ``(seq, amount, price, fee_cost,
    fee_count)`` with ``seq > after`` in ``seq`` order; ``update`` writes ``(*columns,
    seq)`` rows. Batches by ``seq`` instead of one open cursor: neither backend promises
    what a scan sees of rows updated while it is still open.
    """
    after = -1
    while rows := select(after, BACKFILL_BATCH):
        update(
            [
                (
                    *exact_columns(
                        Decimal(amount),
                        Decimal(price),
                        Decimal(fee) if count == 1 and fee is not None else None,
                    ),
                    seq,
                )
                for seq, amount, price, fee, count in rows
            ]
        )
        after = rows[-1][0]


TRADE_SUM_KEYS = (
    "run_id",
    "client_order_id",
    "ccxt_order_id",
    "exchange",
    "symbol",
    "fee_currency",
)
"""What ``trade_sums`` (version 4) groups a run's trades by: one row per (run, child, venue
order, exchange, symbol, fee currency). The three that may be NULL in ``trades`` are kept
as ``''`` with a bit in ``nulls`` (1: client order id, 2: venue order id, 4: fee currency),
so a unique key matches them (SQL's NULLs never equal each other)."""

_NULLABLE_KEYS = ("client_order_id", "ccxt_order_id", "fee_currency")
_LIMB_PAIRS = ("amount", "notional")
_FEE_PAIRS = ("fee", "fee_notional")
_SUM_VALUE_COLUMNS = (
    "trades",
    "exact",
    "amount_hi",
    "amount_lo",
    "notional_hi",
    "notional_lo",
    "neg_amount_hi",
    "neg_amount_lo",
    "neg_notional_hi",
    "neg_notional_lo",
    "fees",
    "fee_hi",
    "fee_lo",
    "fee_notional_hi",
    "fee_notional_lo",
    "first_ms",
    "last_ms",
    "timed",
)
_SUM_KEY_COLUMNS = (*TRADE_SUM_KEYS, "nulls")


def _sum_key_values(p: str) -> list[str]:
    """The summary's key of the trade row ``p`` (``NEW`` in a trigger, an alias in a SELECT)."""
    keys = [f"COALESCE({p}.{k}, '')" if k in _NULLABLE_KEYS else f"{p}.{k}" for k in TRADE_SUM_KEYS]
    nulls = " + ".join(
        f"(CASE WHEN {p}.{k} IS NULL THEN {1 << i} ELSE 0 END)"
        for i, k in enumerate(_NULLABLE_KEYS)
    )
    return [*keys, nulls]


def _sum_row_values(p: str) -> list[str]:
    """One trade row's contribution to its summary row, in :data:`_SUM_VALUE_COLUMNS` order:
    the same counts and limb sums the report once computed with ``GROUP BY`` (a row's NULL
    integers add nothing and are not counted as exact)."""

    def limb(column: str) -> str:
        return f"COALESCE({p}.{column}, 0)"

    def negative(column: str) -> str:
        return f"CASE WHEN {p}.amount_hi < 0 THEN {p}.{column} ELSE 0 END"

    def counted(column: str) -> str:
        return f"CASE WHEN {p}.{column} IS NULL THEN 0 ELSE 1 END"

    return [
        "1",
        counted("amount_hi"),
        *(limb(f"{v}_{part}") for v in _LIMB_PAIRS for part in ("hi", "lo")),
        *(negative(f"{v}_{part}") for v in _LIMB_PAIRS for part in ("hi", "lo")),
        counted("fee_hi"),
        *(limb(f"{v}_{part}") for v in _FEE_PAIRS for part in ("hi", "lo")),
        f"{p}.timestamp",
        f"{p}.timestamp",
        counted("timestamp"),
    ]


def _sum_group_values(p: str) -> list[str]:
    """:func:`_sum_row_values` summed over a ``GROUP BY`` of trade rows ``p`` (PostgreSQL's
    migration: one upsert may not touch a row twice there; its SUMs of BIGINT never
    overflow)."""
    return [
        "COUNT(*)"
        if v == "1"
        else f"MIN({v})"
        if i == 15
        else f"MAX({v})"
        if i == 16
        else f"SUM({v})"
        for i, v in enumerate(_sum_row_values(p))
    ]


# Adding to a summary row: every count and limb sum adds; first and last keep the extremes
# (a NULL, no timestamp yet, gives way to a value).
_SUM_UPSERT = (
    f" ON CONFLICT ({', '.join(_SUM_KEY_COLUMNS)}) DO UPDATE SET "
    + ", ".join(
        f"{c} = trade_sums.{c} + excluded.{c}"
        for c in _SUM_VALUE_COLUMNS
        if c not in ("first_ms", "last_ms")
    )
    + ", first_ms = CASE WHEN excluded.first_ms IS NULL OR trade_sums.first_ms <="
    " excluded.first_ms THEN trade_sums.first_ms ELSE excluded.first_ms END"
    ", last_ms = CASE WHEN excluded.last_ms IS NULL OR trade_sums.last_ms >="
    " excluded.last_ms THEN trade_sums.last_ms ELSE excluded.last_ms END"
)
_SUM_INSERT = f"INSERT INTO trade_sums ({', '.join((*_SUM_KEY_COLUMNS, *_SUM_VALUE_COLUMNS))})"


def trade_sum_upsert(row: str = "NEW") -> str:
    """The statement adding the trade row ``row`` (a trigger's ``NEW``) to its summary row:
    the body of both backends' trigger on ``trades``. On SQLite a limb sum that leaves 64
    bits becomes a REAL and stays one (the columns have no type affinity), which the
    report's reader refuses as inexact; on PostgreSQL the sums are NUMERIC."""
    values = [*_sum_key_values(row), *_sum_row_values(row)]
    return f"{_SUM_INSERT} VALUES ({', '.join(values)}){_SUM_UPSERT}"


def trade_sum_backfill(*, grouped: bool) -> str:
    """The statement adding the trades with ``seq`` in ``(?, ?]`` to the summary (a
    migration to version 4): row by row (SQLite: the trigger's own arithmetic, so an
    overflow turns REAL the same way), or ``grouped`` (PostgreSQL)."""
    keys = _sum_key_values("t")
    values = _sum_group_values("t") if grouped else _sum_row_values("t")
    tail = (
        f" GROUP BY {', '.join(f't.{k}' for k in TRADE_SUM_KEYS)}" if grouped else " ORDER BY t.seq"
    )
    return (
        f"{_SUM_INSERT} SELECT {', '.join([*keys, *values])} FROM trades t"
        f" WHERE t.seq > ? AND t.seq <= ?{tail}{_SUM_UPSERT}"
    )


def backfill_trade_sums(
    bound: Callable[[int, int], int | None], add: Callable[[int, int], object]
) -> None:
    """Build ``trade_sums`` from the trades already journaled, :data:`BACKFILL_BATCH` at a
    time in ``seq`` order: ``bound(after, limit)`` is the ``seq`` of the ``limit``-th trade
    after ``after`` (or the last one; ``None`` for none), ``add(after, upto)`` sums the
    trades in ``(after, upto]`` into the summary (:func:`trade_sum_backfill`)."""
    after = -1
    while (upto := bound(after, BACKFILL_BATCH)) is not None:
        add(after, upto)
        after = upto


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


_CHILD_INSERT = (
    "INSERT INTO child_events (run_id, client_order_id, parent_order_id, wave, status,"
    " ccxt_order_id, filled, reason, child_json, at, symbol, side, amount, limit_price,"
    " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _child_row(run_id: str, child: ChildOrder, at: str) -> tuple[Any, ...]:
    """One ``child_events`` row: the child's state, written ``at``."""
    return (
        run_id,
        child.client_order_id,
        child.parent_order_id,
        child.wave,
        str(child.status),
        child.ccxt_order_id,
        str(child.filled),
        child.reason,
        child.model_dump_json(),
        at,
        *_child_columns(child),
    )


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):  # a mapping that is no dict (json takes dicts only)
        return dict(value)
    return str(value)


def _encode(value: Any) -> str:
    """``value`` as JSON text, keys sorted: orjson's when it is installed (ccxt installs
    it on CPython: ~7x the standard library's speed), the standard library's otherwise
    and for what orjson refuses (keys that are not text, integers beyond 64 bits). Both
    read back (``json.loads``) as the same value; orjson writes a non-finite float, which
    JSON cannot hold, as ``null``."""
    if _orjson is not None:
        try:
            text: str = _orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS).decode()
            return text
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    return json.dumps(value, default=_default, sort_keys=True)


def _dumps(value: Any) -> str:
    """``value`` as JSON with every credential masked (:func:`exsdk.redaction.scrub`)."""
    text = _encode(value)
    # Serialised once; walked again only when the text names a credential somewhere
    # (almost never: a venue's reply names none), then as the JSON itself says it, so
    # whatever _default made of an object is scrubbed too.
    if not may_name_secret(text):
        return text
    return _encode(scrub(json.loads(text)))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def refuse_newer(version: int | None, path: str) -> None:
    """A journal written by a newer exsdk than this one: one clear line, never a guess."""
    if version is not None and version > SCHEMA_VERSION:
        raise JournalUnavailable(
            f"journal {path} has schema version {version}, newer than this exsdk knows"
            f" ({SCHEMA_VERSION}): open it with a newer exsdk"
        )


class _Cursor(Protocol):
    """What the journal reads from a cursor of either driver."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def _unavailable(journal: Journal, exc: BaseException) -> JournalUnavailable:
    """A driver's failure as the one error the broker stops on."""
    return JournalUnavailable(f"journal {journal.path} cannot be used: {type(exc).__name__}: {exc}")


@contextmanager
def _fail_closed(journal: Journal) -> Iterator[None]:
    """The driver's failures (read-only, disk full, locked past the timeout, corrupt, server
    gone) as one :class:`~exsdk.errors.JournalUnavailable`: the broker stops on it."""
    try:
        yield
    except journal.driver_errors as exc:
        raise _unavailable(journal, exc) from exc


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _differ(known: str | None, new: str | None) -> bool:
    """Two ids that are both known and not equal (a missing id contradicts nothing)."""
    return known is not None and new is not None and str(known) != str(new)


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    # Plain try/except rather than _fail_closed: every journal call of every child runs
    # through here, and a generator-based context manager costs microseconds per use.
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        journal = args[0]
        assert isinstance(journal, Journal)
        try:
            return method(*args, **kwargs)
        except journal.driver_errors as exc:
            failure = _unavailable(journal, exc)
            if journal.failure is None:
                journal.failure = failure
            raise failure from exc
        except JournalUnavailable as exc:
            # Sticky: a journal that failed once is not trusted again in this process,
            # even if its next write would succeed (see Journal.failure).
            if journal.failure is None:
                journal.failure = exc
            raise

    return wrapper


class _Batch:
    """:meth:`Journal.batch` as a class: it runs twice per child on the submit path, where
    a generator-based context manager (three of them nested, before) costs microseconds."""

    __slots__ = ("journal", "tx")

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.tx: AbstractContextManager[object] | None = None

    def __enter__(self) -> None:
        journal = self.journal
        try:
            if journal._in_transaction():
                return  # inside another batch: join its transaction
            tx = journal._transaction()
            tx.__enter__()
        except journal.driver_errors as exc:
            raise _unavailable(journal, exc) from exc
        self.tx = tx

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        tx, self.tx = self.tx, None
        if tx is None:
            return  # joined: the outer batch commits or rolls back
        journal = self.journal
        try:
            # The backend's transaction rolls back on an error, commits otherwise.
            tx.__exit__(kind, exc, tb)  # type: ignore[arg-type]
        except journal.driver_errors as failed:
            raise _unavailable(journal, failed) from failed
        if isinstance(exc, journal.driver_errors):
            raise _unavailable(journal, exc) from exc


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


# Per (child, venue order, exchange, symbol, fee currency): the run's summary rows
# (version 4), keys as the trades hold them (NULL again where ``nulls`` says so).
_REPORT_SUM_COLUMNS = (
    "client_order_id",
    "ccxt_order_id",
    "exchange",
    "symbol",
    "fee_currency",
    "trades",
    "exact",
    "amount",
    "notional",
    "neg_amount",
    "neg_notional",
    "fees",
    "fee",
    "fee_notional",
    "first_ms",
    "last_ms",
    "timed",
)
_REPORT_SUMS_SQL = (
    "SELECT CASE WHEN (nulls & 1) <> 0 THEN NULL ELSE client_order_id END,"
    " CASE WHEN (nulls & 2) <> 0 THEN NULL ELSE ccxt_order_id END, exchange, symbol,"
    " CASE WHEN (nulls & 4) <> 0 THEN NULL ELSE fee_currency END, "
    + ", ".join(_SUM_VALUE_COLUMNS)
    + " FROM trade_sums WHERE run_id = ?"
)


_REPORT_SUM_PAIRS = ("amount", "notional", "neg_amount", "neg_notional", "fee", "fee_notional")
"""The limb sums :meth:`Journal.report_trade_sums` makes one exact integer each."""


def _limb_array(column: np.ndarray) -> np.ndarray | None:
    """One limb sum column as the driver gave it: int64 when every value is an integer
    that fits, else Python ints (object); ``None`` when one is not an integer (a float is
    never exact)."""
    import numpy as np

    kinds = set(map(type, column.tolist()))
    if kinds <= {int}:  # SQLite: ints, or a REAL where a sum left 64 bits
        try:
            return column.astype(np.int64)
        except OverflowError:  # pragma: no cover - SQLite's integers are 64-bit
            return column
    if float in kinds:
        return None
    # PostgreSQL: NUMERIC sums (Decimal, integral), which may pass 64 bits.
    exact = np.empty(len(column), dtype=object)
    exact[:] = [int(v) for v in column.tolist()]
    try:
        return exact.astype(np.int64)
    except OverflowError:
        return exact


def _object_frame(rows: list[Any], names: Sequence[str]) -> pd.DataFrame:
    """Rows of a query as a frame of object columns, values as the driver gave them.

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


@attrs.frozen(repr=False, eq=False)
class RunRecord(Value):
    """One run as journaled: what it ran against and with which parameters."""

    run_id: str
    started_at: datetime
    adapter: str
    exchange: str
    environment: str
    params: dict[str, Any]


_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


def backend_of(where: str | Path) -> tuple[Literal["sqlite", "postgresql"], str]:
    """Which backend a journal path or URL names, and what that backend opens.

    A path or ``sqlite:///PATH`` (``sqlite:////abs/path``, as SQLAlchemy spells it) is a
    SQLite file; ``postgresql://...`` (or ``postgres://``) is a PostgreSQL server.
    """
    text = str(where)
    match = _URL_SCHEME.match(text)
    if match is None:
        return "sqlite", text
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        return "sqlite", text[len(match.group(0)) :].removeprefix("/") or ":memory:"
    if scheme in ("postgresql", "postgres"):
        return "postgresql", text
    raise ValueError(
        f"journal {text!r}: unknown scheme {scheme!r}; "
        "give a file path, sqlite:///PATH or postgresql://USER@HOST/DB"
    )


class Journal:
    """The append-only journal. Open with :meth:`open`; one connection, short writes.

    Subclasses supply the connection (``_execute``, ``_executemany``, ``_transaction``,
    ``_in_transaction``, ``close``), the run leases (``lease``) and the driver's error types.
    """

    driver_errors: ClassVar[tuple[type[Exception], ...]] = ()
    """What the driver raises for a storage failure (turned into JournalUnavailable)."""

    def __init__(self, path: str) -> None:
        self.path = path
        """Where the journal is, for messages (a file path or a URL without its password)."""
        self.failure: JournalUnavailable | None = None
        """The first storage failure of this journal, if any: the broker sends nothing after it,
        whichever call met it and even if later writes would succeed."""

    @staticmethod
    def open(
        where: str | Path,
        *,
        durability: Durability = "full",
        lock_timeout: float = 10.0,
    ) -> Journal:
        """Open (creating when needed) the journal at a path or URL; ``:memory:`` for tests.

        A path or ``sqlite:///PATH`` opens a SQLite file; ``postgresql://USER@HOST/DB`` a
        PostgreSQL database that many brokers on many hosts may share.

        ``durability``: ``full`` (the default) makes every row durable before the call
        returns (SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``);
        ``normal`` survives a killed process but not a power cut or a server crash.
        ``lock_timeout`` is how long a write waits for another connection's lock (or a
        server to answer) before the journal counts as unavailable
        (:class:`~exsdk.errors.JournalUnavailable`).
        """
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', not {durability!r}")
        backend, target = backend_of(where)
        if backend == "postgresql":
            from exsdk.journal.postgres import PostgresJournal

            return PostgresJournal.connect(target, durability=durability, lock_timeout=lock_timeout)
        from exsdk.journal.sqlite import SqliteJournal

        return SqliteJournal.connect(target, durability=durability, lock_timeout=lock_timeout)

    # -- what a backend supplies ------------------------------------------------------

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> _Cursor:
        """Run one statement (``?`` placeholders) and return its cursor."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[object]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        raise NotImplementedError

    def _in_transaction(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError

    def lease(self, run_id: str) -> AbstractContextManager[RunLease]:
        """Hold the run's exclusive lease for the block (reentrant in one process).

        Another live process holding it, on this host or another, makes this raise
        :class:`~exsdk.errors.RunLeased` naming the holder; a crashed holder's lease is
        free again as soon as the holder is gone.
        """
        raise NotImplementedError

    # -- shared plumbing -------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batch(self) -> AbstractContextManager[None]:
        """Write the rows inside as one transaction: one durable commit instead of one per row.

        Reentrant: inside another batch it joins the outer transaction.
        """
        return _Batch(self)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read the block's queries from one state of the journal, as of its first read: a
        broker writing the run meanwhile adds nothing half-way (a trade's summary row
        without its fees, a child's trades without its latest state). Holds no write lock.
        Inside a transaction it reads that transaction's state."""
        if self._in_transaction():
            yield
            return
        with _fail_closed(self), self._read_transaction():
            yield

    def _read_transaction(self) -> AbstractContextManager[object]:
        """A transaction that only reads, from one snapshot."""
        return self._transaction()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with _fail_closed(self), self._transaction():
            yield

    def schema_version(self) -> int:
        """The schema version the journal's data is written in."""
        row = self._execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one append-only table as a dict, in the order it was written.

        For copying a journal (``exsdk journal migrate``) and checking a copy.
        """
        if table not in TABLES:
            raise ValueError(f"no table {table!r} in the journal; one of {', '.join(TABLES)}")
        order = {
            "runs": "started_at, run_id",
            "parents": "run_id, parent_order_id",
            "reported_trades": "run_id, parent_order_id, trade_id",
            "trade_fees": "trade_seq, position",
        }.get(table, "seq")
        cursor = self._execute(f"SELECT * FROM {table} ORDER BY {order}")
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

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
        self._execute(
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
        self._execute(
            "INSERT INTO run_events (run_id, event, detail, at) VALUES (?, ?, ?, ?)",
            (run_id, event, None if detail is None else _dumps(detail), _now()),
        )

    @_guarded
    def record_parents(self, run_id: str, parents: Iterable[tuple[Order, str]]) -> None:
        """Record parent orders with their resolved symbols; re-recording is a no-op."""
        with self._tx():
            for order, symbol in parents:
                self._execute(
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
        self._execute(_CHILD_INSERT, _child_row(run_id, child, _now()))

    @_guarded
    def record_children(self, run_id: str, children: Sequence[ChildOrder]) -> None:
        """Append one state of each child, in order, as one statement (a wave's intents)."""
        at = _now()
        with self.batch():  # one transaction, also when called outside one
            self._executemany(_CHILD_INSERT, [_child_row(run_id, c, at) for c in children])

    @_guarded
    def record_raw(
        self, run_id: str, kind: str, payload: Any, *, client_order_id: str | None = None
    ) -> None:
        """Append one raw venue response (scrubbed), e.g. a create or fetch order reply."""
        if isinstance(payload, CcxtOrder):
            # ccxt's reply as received (the model keeps it), not rebuilt from the model.
            payload = payload.unified
        elif isinstance(payload, CcxtTrade):
            payload = payload.to_ccxt()
        self._execute(
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
        with self._tx():
            for t in trades:
                columns, several = _trade_columns(t)
                fees = t.all_fees()
                exact = exact_columns(t.amount, t.price, fees[0].cost if len(fees) == 1 else None)
                cur = self._execute(
                    "INSERT OR IGNORE INTO trades (run_id, exchange, symbol, trade_id,"
                    " ccxt_order_id, client_order_id, parent_order_id, side, amount, price,"
                    " payload, at, timestamp, cost, taker_or_maker, fee_cost, fee_currency,"
                    f" fee_count, {', '.join(EXACT_COLUMNS)})"
                    f" VALUES ({', '.join('?' * (18 + len(EXACT_COLUMNS)))}) RETURNING seq",
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
                        *exact,
                    ),
                )
                # RETURNING gives the new row's seq, and no row for a trade known already.
                row = cur.fetchone()
                if row is None:
                    self._check_same_trade(exchange, t.symbol or symbol, t, client_order_id)
                if row is not None and several:
                    self._executemany(
                        "INSERT INTO trade_fees VALUES (?, ?, ?, ?, ?)",
                        [(run_id, row[0], *fee) for fee in several],
                    )
                new += row is not None
        return new

    def _check_same_trade(
        self, exchange: str, symbol: str, trade: CcxtTrade, client_order_id: str | None
    ) -> None:
        """A trade id known already must be the same trade: of the same venue order and
        client order. Another order's trade under that id (a second venue reporting under
        the same exchange name, e.g. a testnet or a second simulator beside the first in one
        journal) would otherwise be dropped without a word, and its parent's fill would
        lack it; the run stops instead."""
        known = self._execute(
            "SELECT ccxt_order_id, client_order_id, run_id FROM trades"
            " WHERE exchange = ? AND symbol = ? AND trade_id = ?",
            (exchange, symbol, trade.id),
        ).fetchone()
        if known is None:
            return
        order_id, client_id, run_id = known
        if _differ(order_id, trade.order) or _differ(client_id, client_order_id):
            raise JournalUnavailable(
                f"journal {self.path}: trade {trade.id} of {symbol} on {exchange} is journaled"
                f" already for order {order_id} (client id {client_id}, run {run_id}), not for"
                f" order {trade.order} (client id {client_order_id}): two venues report under"
                f" one exchange name; give each venue (live, testnet, a simulator) its own journal"
            )

    @_guarded
    def record_fill(self, run_id: str, fill: OmsFill, trade_ids: Iterable[str] = ()) -> None:
        """Append one OMS fill as reported to the caller, and the trades it reported.

        One transaction: a fill is in the journal exactly when its trades count as
        reported, so a fill is never reported twice, whatever is killed and resumed.
        """
        with self._tx():
            cur = self._execute(
                "INSERT INTO oms_fills (run_id, parent_order_id, quantity, price, fee_in_quote,"
                " payload, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
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
            fill_seq = cur.fetchone()[0]
            self._executemany(
                "INSERT OR IGNORE INTO reported_trades VALUES (?, ?, ?, ?)",
                [(run_id, fill.parent_order_id, str(t), fill_seq) for t in trade_ids],
            )

    @_guarded
    def reported_trade_ids(self, run_id: str, parent_order_id: int) -> set[str]:
        """The ids of the parent's trades already reported in an OMS fill."""
        rows = self._execute(
            "SELECT trade_id FROM reported_trades WHERE run_id = ? AND parent_order_id = ?",
            (run_id, parent_order_id),
        ).fetchall()
        return {r[0] for r in rows}

    @_guarded
    def reported_empty(self, run_id: str, parent_order_id: int) -> bool:
        """Whether the parent was already reported as a fill without trades."""
        rows = self._execute(
            "SELECT payload FROM oms_fills WHERE run_id = ? AND parent_order_id = ?",
            (run_id, parent_order_id),
        ).fetchall()
        return any(json.loads(r[0]).get("num_trades") == 0 for r in rows)

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
        self._execute(
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
        row = self._execute(
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
        rows = self._execute(
            "SELECT order_json, symbol FROM parents WHERE run_id = ? ORDER BY parent_order_id",
            (run_id,),
        ).fetchall()
        return [(Order.model_validate_json(r[0]), r[1]) for r in rows]

    @_guarded
    def latest_children(self, run_id: str) -> list[ChildOrder]:
        """Every child of the run in its latest state, in the order they were first written."""
        rows = self._execute(
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
        rows = self._execute(sql + " ORDER BY seq", args).fetchall()
        return [CcxtTrade.from_ccxt(json.loads(r[0])) for r in rows]

    @_guarded
    def last_activity(self, run_id: str, client_order_id: str) -> datetime | None:
        """When the journal last wrote anything about a child (a state, a reply, an error).

        A request for the child can only have left before that moment; ``None`` when the
        child is unknown.
        """
        row = self._execute(
            "SELECT MAX(at) FROM ("
            " SELECT at FROM child_events WHERE run_id = ? AND client_order_id = ?"
            " UNION ALL SELECT at FROM errors WHERE run_id = ? AND client_order_id = ?"
            " UNION ALL SELECT at FROM raw_responses WHERE run_id = ? AND client_order_id = ?) u",
            (run_id, client_order_id) * 3,
        ).fetchone()
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def run_ids(self) -> list[str]:
        """Every run id, oldest first."""
        return [r[0] for r in self._execute("SELECT run_id FROM runs ORDER BY started_at, run_id")]

    def latest_fills(self, run_id: str) -> list[OmsFill]:
        """Each parent's last reported OMS fill, by parent order id."""
        rows = self._execute(
            "SELECT parent_order_id, payload FROM oms_fills WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        last = {int(r[0]): r[1] for r in rows}
        return [OmsFill.model_validate_json(last[pid]) for pid in sorted(last)]

    def run_event_names(self, run_id: str) -> list[str]:
        """The names of one run's events, oldest first."""
        rows = self._execute(
            "SELECT event FROM run_events WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        return [r[0] for r in rows]

    def run_event_details(self, run_id: str, event: str) -> list[Any]:
        """The decoded ``detail`` of each ``event`` of one run, oldest first."""
        rows = self._execute(
            "SELECT detail FROM run_events WHERE run_id = ? AND event = ? ORDER BY seq",
            (run_id, event),
        )
        return [None if r[0] is None else json.loads(r[0]) for r in rows]

    def error_records(self, run_id: str) -> list[dict[str, Any]]:
        """Errors met during the run as dicts (the columns of :meth:`errors`), in order."""
        cursor = self._execute("SELECT * FROM errors WHERE run_id = ? ORDER BY seq", (run_id,))
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    # -- DataFrame readers (pandas, from the report extra) --------------------------

    def _frame(self, sql: str, args: tuple[Any, ...] = ()) -> pd.DataFrame:
        require("pandas", "report", "the journal's DataFrame readers")
        import pandas as pd

        cursor = self._execute(sql, args)
        columns = [c[0] for c in cursor.description]
        # What pandas.read_sql_query does, for either driver's connection.
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns, coerce_float=True)

    def runs(self) -> pd.DataFrame:
        """All runs."""
        return self._frame("SELECT * FROM runs ORDER BY started_at, run_id")

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
        """The rows of ``sql`` as a frame of object columns, values as the driver gave them
        (text stays text, NULL is ``None``), without pandas' per-column type inference."""
        require("pandas", "report", "the journal's DataFrame readers")
        import numpy as np
        import pandas as pd

        with _fail_closed(self):
            rows = self._execute(sql, args).fetchall()
        if not rows:
            return pd.DataFrame({n: np.empty(0, dtype=object) for n in names})
        return _object_frame(rows, names)

    def report_trade_chunks(self, run_id: str, rows: int) -> Iterator[pd.DataFrame]:
        """:meth:`report_trades` in frames of at most ``rows`` rows (one query, read on as
        the frames are used), each indexed by its rows' positions in the whole result."""
        require("pandas", "report", "the journal's DataFrame readers")
        import pandas as pd

        names = _REPORT_TRADE_COLUMNS
        with _fail_closed(self):
            cursor = self._execute(_REPORT_TRADES_SQL, (run_id,))
        done = 0
        while True:
            with _fail_closed(self):
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

    def report_trade_sums(self, run_id: str) -> pd.DataFrame | None:
        """The run's trades summed exactly, as the journal keeps them (``trade_sums``,
        version 4): one row per (client order id, venue order id, exchange, symbol, fee
        currency) with the number of trades, of those with exact integers (``exact``), of
        those with one fee (``fees``), the exact sums over them of the amount, notional, fee
        and fee notional (``amount`` .. ``fee_notional``, Python ints at
        :data:`EXACT_SCALE` decimals, from :data:`EXACT_COLUMNS`' limbs; ``neg_amount`` and
        ``neg_notional`` over the negative amounts alone), and the first and last venue
        timestamps (``timed`` trades have one).

        ``None`` when a sum does not fit the database's integers (on SQLite a limb sum
        beyond 64 bits is kept as a REAL, never exact; PostgreSQL's are NUMERIC): the
        caller folds the run from its decimal text instead. Rows without exact integers (a
        value that does not fit them, or one written before version 3) are counted here but
        summed by the caller from :meth:`report_inexact_trades`.
        """
        columns = self.report_trade_sum_limbs(run_id)
        if columns is None:
            return None
        require("pandas", "report", "the journal's DataFrame readers")
        import pandas as pd

        values = {name: columns[name].tolist() for name in _REPORT_SUM_COLUMNS[:7]}
        for name in _REPORT_SUM_PAIRS:
            values[name] = [
                h * EXACT_LIMB + lo
                for h, lo in zip(
                    columns[f"{name}_hi"].tolist(), columns[f"{name}_lo"].tolist(), strict=True
                )
            ]
        for name in ("fees", "first_ms", "last_ms", "timed"):
            values[name] = columns[name].tolist()
        return pd.DataFrame(
            {name: pd.Series(values[name], dtype=object) for name in _REPORT_SUM_COLUMNS}
        )

    def report_trade_sum_limbs(self, run_id: str) -> dict[str, np.ndarray] | None:
        """:meth:`report_trade_sums` as arrays, each limb sum as it is kept (``amount_hi``,
        ``amount_lo`` .. ``fee_notional_lo``: the exact sum is ``hi * 10**9 + lo`` at
        :data:`EXACT_SCALE` decimals), for a reader that adds them up by group itself.

        Keys (``client_order_id`` .. ``fee_currency``), ``first_ms`` and ``last_ms`` are
        object arrays as the driver gave them; the counts (``trades``, ``exact``, ``fees``,
        ``timed``) int64; a limb column int64 when every value is an integer that fits, else
        an object array of Python ints (PostgreSQL's NUMERIC sums beyond 64 bits). ``None``
        when a sum is not an integer (a REAL where a limb sum left 64 bits on SQLite).
        """
        require("numpy", "report", "the journal's DataFrame readers")
        import numpy as np

        with _fail_closed(self):
            rows = self._execute(_REPORT_SUMS_SQL, (run_id,)).fetchall()
        names = (*_REPORT_SUM_COLUMNS[:5], *_SUM_VALUE_COLUMNS)
        # One 2-D object array from the row tuples (numpy's C loop), then column views.
        table = np.empty((len(rows), len(names)), dtype=object)
        if rows:
            table[:] = rows
        out: dict[str, np.ndarray] = {}
        for i, name in enumerate(names):
            column = np.ascontiguousarray(table[:, i])
            if name in ("trades", "exact", "fees", "timed"):
                out[name] = column.astype(np.int64)
            elif name.endswith(("_hi", "_lo")):
                limbs = _limb_array(column)
                if limbs is None:
                    return None
                out[name] = limbs
            else:
                out[name] = column
        return out

    def report_inexact_trades(self, run_id: str) -> pd.DataFrame:
        """:meth:`report_trades` of the trades without exact integers, with ``exchange``
        and ``symbol``, in journal order."""
        names = (*_REPORT_TRADE_COLUMNS, "exchange", "symbol")
        sql = _REPORT_TRADES_SQL.replace(
            " FROM trades WHERE run_id = ?",
            ", exchange, symbol FROM trades WHERE run_id = ? AND amount_hi IS NULL",
        )
        return self._columns(sql, (run_id,), names)

    def report_untimed_trades(self, run_id: str) -> pd.DataFrame:
        """The client order id and journaled time of each trade without a venue timestamp."""
        return self._columns(
            "SELECT client_order_id, at FROM trades WHERE run_id = ? AND timestamp IS NULL"
            " ORDER BY seq",
            (run_id,),
            ("client_order_id", "at"),
        )

    def report_trades_of(self, run_id: str, client_order_ids: Sequence[str]) -> pd.DataFrame:
        """:meth:`report_trades` of the trades of these children only, in journal order."""
        import pandas as pd

        frames = []
        ids = list(dict.fromkeys(client_order_ids))
        for start in range(0, len(ids), 500):  # below every driver's parameter limit
            part = ids[start : start + 500]
            sql = _REPORT_TRADES_SQL.replace(
                " ORDER BY seq",
                f" AND client_order_id IN ({', '.join('?' * len(part))}) ORDER BY seq",
            ).replace("SELECT ", "SELECT seq, ", 1)
            frames.append(self._columns(sql, (run_id, *part), ("seq", *_REPORT_TRADE_COLUMNS)))
        if not frames:
            return self._columns(
                _REPORT_TRADES_SQL.replace("WHERE run_id = ?", "WHERE 1 = 0 AND run_id = ?"),
                (run_id,),
                _REPORT_TRADE_COLUMNS,
            )
        joined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if len(frames) > 1:
            joined = joined.sort_values("seq", kind="stable").reset_index(drop=True)
        return joined.drop(columns=["seq"])

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

    def report_child_rows(self, run_id: str) -> list[tuple[Any, ...]]:
        """Each child of the run in its latest state, in the order the children were first
        written (as :meth:`latest_children`), as the driver's row tuples of the columns
        selected below, for a reader that makes one record of each row itself."""
        sql = (
            "SELECT e.client_order_id, e.parent_order_id, e.wave, e.status, e.ccxt_order_id,"
            " e.filled, e.reason, e.symbol, e.side, e.amount, e.limit_price, e.created_at"
            " FROM child_events e JOIN ("
            "  SELECT client_order_id, MAX(seq) AS last, MIN(seq) AS first FROM child_events"
            "  WHERE run_id = ? GROUP BY client_order_id) m"
            " ON e.seq = m.last ORDER BY m.first"
        )
        with _fail_closed(self):
            rows: list[tuple[Any, ...]] = self._execute(sql, (run_id,)).fetchall()
        return rows

    def raw_payloads(self, run_id: str, kind: str) -> list[Any]:
        """The decoded payloads of one kind of raw response (e.g. ``mid_sample``), in order."""
        with _fail_closed(self):
            rows = self._execute(
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
