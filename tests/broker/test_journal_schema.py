"""The journal's schema version: typed columns, the migration from version 1, refusals.

The version-1 journal is a real one: ``journal_v1_demo.sql`` is the dump of the file the
unmodified version-1 code wrote for ``exsdk demo`` (see its header).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.errors import JournalUnavailable
from exsdk.journal import SCHEMA_VERSION, Journal
from exsdk.journal import base as journal_base
from exsdk.journal.base import BACKFILL_BATCH
from exsdk.models import CcxtTrade, ChildOrder, Order
from tests.journal.test_trade_sums import kept_sums, reference_sums

V1_DUMP = Path(__file__).with_name("journal_v1_demo.sql")
V1_RUN = "gbewg7tz"
V1_COLUMNS = {
    "trades": [
        "seq",
        "run_id",
        "exchange",
        "symbol",
        "trade_id",
        "ccxt_order_id",
        "client_order_id",
        "parent_order_id",
        "side",
        "amount",
        "price",
        "payload",
        "at",
    ],
    "child_events": [
        "seq",
        "run_id",
        "client_order_id",
        "parent_order_id",
        "wave",
        "status",
        "ccxt_order_id",
        "filled",
        "reason",
        "child_json",
        "at",
    ],
}
TABLES = (
    "meta",
    "runs",
    "run_events",
    "parents",
    "child_events",
    "raw_responses",
    "trades",
    "oms_fills",
    "reported_trades",
    "errors",
)


def v1_journal(path: Path) -> Path:
    """A version-1 journal file at ``path``, as the old code left it."""
    db = sqlite3.connect(path)
    db.executescript(V1_DUMP.read_text(encoding="utf-8"))
    db.close()
    return path


def _select(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _rows(db: sqlite3.Connection, table: str, columns: list[str] | None = None) -> list[Any]:
    cols = ", ".join(columns) if columns else "*"
    order = "" if table == "meta" else " ORDER BY rowid"
    return db.execute(f"SELECT {cols} FROM {table}{order}").fetchall()


def _v1_columns(db: sqlite3.Connection, table: str) -> list[str] | None:
    return V1_COLUMNS.get(table)


def test_a_version_1_journal_migrates_and_reads_back_identically(tmp_path: Path) -> None:
    path = v1_journal(tmp_path / "old.sqlite")
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM meta").fetchone() == ("1",)
    before = {t: _rows(raw, t, _v1_columns(raw, t)) for t in TABLES if t != "meta"}
    # What the version-1 readers returned: models from each row's own JSON.
    old_trades = [
        CcxtTrade.from_ccxt(json.loads(p))
        for (p,) in raw.execute("SELECT payload FROM trades ORDER BY seq")
    ]
    old_parents = [
        (Order.model_validate_json(j), s)
        for j, s in raw.execute("SELECT order_json, symbol FROM parents ORDER BY parent_order_id")
    ]
    payloads = [json.loads(p) for (p,) in raw.execute("SELECT payload FROM trades ORDER BY seq")]
    children = [
        json.loads(j) for (j,) in raw.execute("SELECT child_json FROM child_events ORDER BY seq")
    ]
    last: dict[str, dict[str, Any]] = {}
    for c in children:
        last.setdefault(c["client_order_id"], {}).update(c)  # first-seen order, latest state
    old_latest = [ChildOrder.model_validate(c) for c in last.values()]
    raw.close()
    assert len(old_trades) == 10 and len(children) == 44 and len(old_latest) == 18

    with Journal.open(path) as journal:
        assert journal.trade_models(V1_RUN) == old_trades
        assert journal.parent_orders(V1_RUN) == old_parents
        assert journal.latest_children(V1_RUN) == old_latest
        assert len(journal.latest_fills(V1_RUN)) == 9

    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    # Every version-1 column of every row is untouched.
    for table, rows in before.items():
        assert _rows(raw, table, _v1_columns(raw, table)) == rows, table
    # The typed columns hold what each row's JSON says (read here straight from the JSON).
    typed = raw.execute(
        "SELECT timestamp, cost, taker_or_maker, fee_cost, fee_currency, fee_count FROM trades"
        " ORDER BY seq"
    ).fetchall()
    for (ts, cost, maker, fee_cost, fee_currency, fee_count), p in zip(
        typed, payloads, strict=True
    ):
        assert ts == p["timestamp"] and ts > 0
        assert Decimal(cost) == Decimal(repr(p["cost"]))
        assert maker == p["takerOrMaker"]
        [fee] = p["fees"]
        assert (Decimal(fee_cost), fee_currency, fee_count) == (
            Decimal(repr(fee["cost"])),
            fee["currency"],
            1,
        )
    typed_children = raw.execute(
        "SELECT symbol, side, amount, limit_price, created_at FROM child_events ORDER BY seq"
    ).fetchall()
    for (symbol, side, amount, limit_price, created_at), c in zip(
        typed_children, children, strict=True
    ):
        assert (symbol, side, amount, created_at) == (
            c["symbol"],
            c["side"],
            c["amount"],
            c["created_at"],
        )
        assert limit_price == c["limit_price"]
    # Still append-only, the migrated columns too.
    for sql in (
        "UPDATE trades SET fee_cost = '0'",
        "UPDATE child_events SET side = 'sell'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(sql)
    raw.close()


def _table_shapes(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    shapes = {n: db.execute(f"PRAGMA table_info({n})").fetchall() for n in sorted(names)}
    triggers = sorted(
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    )
    shapes["triggers"] = [(t,) for t in triggers]
    db.close()
    return shapes


def test_a_migrated_journal_has_the_fresh_schema(tmp_path: Path) -> None:
    Journal.open(tmp_path / "fresh.sqlite").close()
    Journal.open(v1_journal(tmp_path / "old.sqlite")).close()
    assert _table_shapes(tmp_path / "old.sqlite") == _table_shapes(tmp_path / "fresh.sqlite")


def test_a_multi_fee_trade_of_version_1_gets_its_fee_rows(tmp_path: Path) -> None:
    path = v1_journal(tmp_path / "old.sqlite")
    payload = {
        "id": "t-2fees",
        "order": "4087922101",
        "symbol": "ETH/USDT:USDT",
        "side": "buy",
        "price": 2978.44,
        "amount": 0.007,
        "fees": [{"cost": 0.001, "currency": "BNB"}, {"cost": 0.0002, "currency": "USDT"}],
        "timestamp": 1796129804999,
    }
    db = sqlite3.connect(path)
    # Version 1's own INSERT (its record_trades).
    db.execute(
        "INSERT OR IGNORE INTO trades (run_id, exchange, symbol, trade_id, ccxt_order_id,"
        " client_order_id, parent_order_id, side, amount, price, payload, at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            V1_RUN,
            "binanceusdm",
            "ETH/USDT:USDT",
            "t-2fees",
            "4087922101",
            "xgbewg7tz-0-0",
            0,
            "buy",
            "0.007",
            "2978.44",
            json.dumps(payload),
            datetime.now(UTC).isoformat(),
        ),
    )
    db.commit()
    db.close()
    Journal.open(path).close()
    [(seq, count, cost, currency)] = _select(
        path, "SELECT seq, fee_count, fee_cost, fee_currency FROM trades WHERE trade_id = 't-2fees'"
    )
    assert (count, cost, currency) == (2, None, None)
    assert _select(path, "SELECT run_id, trade_seq, position, cost, currency FROM trade_fees") == [
        (V1_RUN, seq, 0, "0.001", "BNB"),
        (V1_RUN, seq, 1, "0.0002", "USDT"),
    ]
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM trade_fees")
    db.close()


def test_a_newer_journal_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Journal.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(JournalUnavailable) as caught:
        Journal.open(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message and str(path) in message
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION + 1),)
    db.close()


def _trade(tid: str, **extra: Any) -> CcxtTrade:
    return CcxtTrade.from_ccxt(
        {
            "id": tid,
            "order": "42",
            "symbol": "ETH/USDT:USDT",
            "side": "sell",
            "price": "2000.10",
            "amount": "0.125",
            "cost": "250.0125",
            "takerOrMaker": "maker",
            "timestamp": 1704110400123,
            **extra,
        }
    )


def test_trades_are_written_with_typed_columns(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.record_run("r", adapter="a", exchange="x", environment="local", params={})
        trades = [
            _trade("1", fee={"cost": "-0.00012345678901234567", "currency": "USDT"}),
            _trade("2", fees=[{"cost": "0.1", "currency": "BNB"}, {"cost": "0.2"}]),
            _trade("3", timestamp=None),
        ]
        args = {"symbol": "ETH/USDT:USDT", "client_order_id": "c", "parent_order_id": 7}
        assert journal.record_trades("r", "x", trades, **args) == 3
        assert journal.record_trades("r", "x", trades[1:2], **args) == 0  # known: no new fees
    path = tmp_path / "j.sqlite"
    assert _select(
        path,
        "SELECT trade_id, amount, price, timestamp, cost, taker_or_maker, fee_cost, fee_currency,"
        " fee_count FROM trades ORDER BY seq",
    ) == [
        (
            "1",
            "0.125",
            "2000.10",
            1704110400123,
            "250.0125",
            "maker",
            "-0.00012345678901234567",
            "USDT",
            1,
        ),
        ("2", "0.125", "2000.10", 1704110400123, "250.0125", "maker", None, None, 2),
        ("3", "0.125", "2000.10", None, "250.0125", "maker", None, None, 0),
    ]
    assert _select(path, "SELECT trade_seq, position, cost, currency FROM trade_fees") == [
        (2, 0, "0.1", "BNB"),
        (2, 1, "0.2", None),
    ]


def test_children_are_written_with_typed_columns(tmp_path: Path) -> None:
    child = ChildOrder(
        parent_order_id=3,
        asset_id=1,
        wave=2,
        client_order_id="c-3-2",
        symbol="BTC/USDT:USDT",
        side="sell",
        order_type="limit",
        amount=Decimal("0.010"),
        limit_price=Decimal("60000.5"),
        created_at=datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=UTC),
    )
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.record_child("r", child)
        journal.record_child("r", child.model_copy(update={"limit_price": None}))
    assert _select(
        tmp_path / "j.sqlite",
        "SELECT symbol, side, amount, limit_price, created_at FROM child_events ORDER BY seq",
    ) == [
        ("BTC/USDT:USDT", "sell", "0.010", "60000.5", 1704110400123),
        ("BTC/USDT:USDT", "sell", "0.010", None, 1704110400123),
    ]


# -- version 3: exact integer columns ---------------------------------------------------

V2_DUMP = Path(__file__).with_name("journal_v2_demo.sql")
V2_RUN = "hu4cq2yp"
EXACT = (
    "amount_hi, amount_lo, notional_hi, notional_lo, fee_hi, fee_lo, fee_notional_hi,"
    " fee_notional_lo"
)


def v2_journal(path: Path) -> Path:
    """A version-2 journal file at ``path``, as the version-2 code left it."""
    db = sqlite3.connect(path)
    db.executescript(V2_DUMP.read_text(encoding="utf-8"))
    db.close()
    return path


def _value(hi: int, lo: int) -> Decimal:
    # Read back independently of exact_limbs: hi * 10**9 + lo, at 18 decimals.
    return Decimal(hi * 10**9 + lo).scaleb(-18)


def check_exact_columns(rows: list[tuple[Any, ...]]) -> int:
    """Rows of (amount, price, fee_cost, fee_count, *EXACT): the integers are the decimal
    text's values, or all NULL for a value that cannot be held; the rows that hold them."""
    held = 0
    for amount, price, fee, count, *ints in rows:
        if ints[0] is None:
            assert ints == [None] * 8
            continue
        held += 1
        assert _value(ints[0], ints[1]) == Decimal(amount)
        assert _value(ints[2], ints[3]) == Decimal(amount) * Decimal(price)
        assert all(0 <= lo < 10**9 for lo in ints[1::2] if lo is not None)
        if count == 1:
            assert _value(ints[4], ints[5]) == Decimal(fee)
            assert _value(ints[6], ints[7]) == Decimal(fee) * Decimal(price)
        else:
            assert ints[4:] == [None] * 4
    return held


@pytest.mark.parametrize("batch", [4, BACKFILL_BATCH], ids=["batches-of-4", "one-batch"])
def test_a_version_2_journal_migrates_with_exact_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # Batches of 4 over the 17 trades: the backfill's batch ends and a short last batch.
    monkeypatch.setattr(journal_base, "BACKFILL_BATCH", batch)
    path = v2_journal(tmp_path / "v2.sqlite")
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM meta").fetchone() == ("2",)
    before = {t: _rows(raw, t) for t in TABLES if t != "meta"}
    old_trades = [
        CcxtTrade.from_ccxt(json.loads(p))
        for (p,) in raw.execute("SELECT payload FROM trades ORDER BY seq")
    ]
    raw.close()
    assert len(old_trades) == 17
    with Journal.open(path) as journal:
        assert journal.schema_version() == SCHEMA_VERSION == 4
        assert journal.trade_models(V2_RUN) == old_trades
        # Version 4's summary, built by the migration (in batches of 4 here), is the sums
        # of the trades (and the trigger keeps it so for a trade written after: below).
        assert kept_sums(journal, V2_RUN) == reference_sums(journal, V2_RUN)
        assert sum(g["trades"] for g in kept_sums(journal, V2_RUN).values()) == 17
    raw = sqlite3.connect(path)
    # Every version-2 column of every row is untouched; the new ones come last.
    for table, rows in before.items():
        width = len(rows[0]) if rows else 0
        assert [r[:width] for r in _rows(raw, table)] == rows, table
    rows = raw.execute(
        f"SELECT amount, price, fee_cost, fee_count, {EXACT} FROM trades ORDER BY seq"
    ).fetchall()
    assert check_exact_columns(rows) == 17
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE trades SET amount_hi = 0")
    raw.close()
    # And it has the fresh schema, as does a version-1 journal taken through both steps.
    Journal.open(tmp_path / "fresh.sqlite").close()
    Journal.open(v1_journal(tmp_path / "v1.sqlite")).close()
    fresh = _table_shapes(tmp_path / "fresh.sqlite")
    assert _table_shapes(path) == fresh == _table_shapes(tmp_path / "v1.sqlite")
    for name in ("fresh", "v1", "v2"):
        db = sqlite3.connect(tmp_path / f"{name}.sqlite")
        indexes = db.execute("SELECT sql FROM sqlite_master WHERE name = 'trades_report'")
        assert len(indexes.fetchall()) == 1, name
        db.close()
    with Journal.open(path) as journal:
        journal.record_trades(
            V2_RUN,
            "binanceusdm",
            [old_trades[0].model_copy(update={"id": "after-migration"})],
            symbol=old_trades[0].symbol or "",
            client_order_id=None,
            parent_order_id=None,
        )
        assert kept_sums(journal, V2_RUN) == reference_sums(journal, V2_RUN)


def test_a_version_1_journal_gets_exact_columns_too(tmp_path: Path) -> None:
    path = v1_journal(tmp_path / "v1.sqlite")
    Journal.open(path).close()
    rows = _select(
        path, f"SELECT amount, price, fee_cost, fee_count, {EXACT} FROM trades ORDER BY seq"
    )
    assert check_exact_columns(rows) == 10


def test_trades_are_written_with_exact_columns(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        trades = [
            _trade("1", fee={"cost": "0.0001", "currency": "USDT"}),
            _trade("2", fee={"cost": "-0.00012345678901234567", "currency": "USDT"}),  # 20 dp
            _trade("3", fees=[{"cost": "0.1", "currency": "BNB"}, {"cost": "0.2"}]),
            _trade("4", amount="9300000000"),  # 9.3e9: beyond the high limb
            _trade("5", amount="-0.000000000000000001", price="0.5"),  # 1e-18 x 0.5: 19 dp
            _trade("6", amount="1E+3", price="1.000000000000000000"),  # exponents of any sign
        ]
        args = {"symbol": "ETH/USDT:USDT", "client_order_id": "c", "parent_order_id": 7}
        assert journal.record_trades("r", "x", trades, **args) == 6
    rows = _select(
        tmp_path / "j.sqlite",
        f"SELECT amount, price, fee_cost, fee_count, {EXACT} FROM trades ORDER BY seq",
    )
    assert check_exact_columns(rows) == 3
    assert [r[4] is None for r in rows] == [False, True, False, True, True, False]
    assert rows[0][4:] == (125_000_000, 0, 250_012_500_000, 0, 100_000, 0, 200_010_000, 0)
