"""The journal: append-only, durable across reopen, scrubbed of secrets, DataFrames out."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from exsdk.errors import JournalUnavailable, LiquidityRejected
from exsdk.journal import Journal, scrub
from exsdk.models import CcxtTrade, ChildOrder, ChildStatus

from .conftest import ETH_ID, parent


def _child(status: ChildStatus, filled: str = "0") -> ChildOrder:
    return ChildOrder(
        parent_order_id=1,
        asset_id=ETH_ID,
        wave=0,
        client_order_id="xr-1-0",
        symbol="ETH/USDT:USDT",
        side="buy",
        order_type="limit",
        amount=Decimal("0.5"),
        limit_price=Decimal("2000.1"),
        status=status,
        filled=Decimal(filled),
        ccxt_order_id=None if status == ChildStatus.INTENT else "42",
    )


def _trade(tid: str) -> CcxtTrade:
    return CcxtTrade(
        id=tid, order="42", symbol="ETH/USDT:USDT", price=Decimal(2000), amount=Decimal("0.1")
    )


def test_rows_are_append_only(journal: Journal) -> None:
    journal.record_run("r", adapter="a", exchange="x", environment="prod", params={})
    journal.record_child("r", _child(ChildStatus.INTENT))
    for sql in ("UPDATE child_events SET status = 'closed'", "DELETE FROM runs"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            journal._db.execute(sql)


def test_latest_state_survives_reopen(journal_path: Path) -> None:
    j = Journal.open(journal_path)
    j.record_run("r", adapter="a", exchange="x", environment="prod", params={"twap": {"waves": 3}})
    j.record_parents("r", [(parent(1, ETH_ID, "0.5"), "ETH/USDT:USDT")])
    j.record_child("r", _child(ChildStatus.INTENT))
    j.record_child("r", _child(ChildStatus.OPEN))
    j.record_child("r", _child(ChildStatus.CANCELED, "0.2"))
    j.close()
    again = Journal.open(journal_path)
    assert again.run("r").params == {"twap": {"waves": 3}}
    [(order, symbol)] = again.parent_orders("r")
    assert order.diff_num_shares == Decimal("0.5") and symbol == "ETH/USDT:USDT"
    [latest] = again.latest_children("r")
    assert latest.status == ChildStatus.CANCELED and latest.filled == Decimal("0.2")
    history = again.child_events("r")
    assert isinstance(history, pd.DataFrame)
    assert list(history["status"]) == ["intent", "open", "canceled"]
    assert list(again.children("r")["status"]) == ["canceled"]
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_trades_are_recorded_once(journal: Journal) -> None:
    kw = {"symbol": "ETH/USDT:USDT", "client_order_id": "xr-1-0", "parent_order_id": 1}
    assert journal.record_trades("r", "binanceusdm", [_trade("1"), _trade("2")], **kw) == 2
    assert journal.record_trades("r", "binanceusdm", [_trade("2"), _trade("3")], **kw) == 1
    assert list(journal.trades("r")["trade_id"]) == ["1", "2", "3"]
    assert [t.id for t in journal.trade_models("r", parent_order_id=1)] == ["1", "2", "3"]


def test_another_orders_trade_under_a_known_id_stops_the_run(journal: Journal) -> None:
    """Two venues under one exchange name (testnet beside live, two simulators) can reuse
    trade ids: the second one's trade is refused loudly, not dropped as a repeat."""
    kw = {"symbol": "ETH/USDT:USDT", "parent_order_id": 1}
    assert journal.record_trades("r", "binanceusdm", [_trade("7")], client_order_id="xr-1-0", **kw)
    other_venue = _trade("7").model_copy(update={"order": "99"})
    with pytest.raises(JournalUnavailable, match="trade 7 of ETH/USDT:USDT on binanceusdm"):
        journal.record_trades("s", "binanceusdm", [other_venue], client_order_id="xs-1-0", **kw)
    assert journal.failure is not None  # sticky: the broker stops before its next request
    assert list(journal.trades("r")["trade_id"]) == ["7"] and journal.trades("s").empty


@pytest.mark.parametrize(
    ("order", "client_order_id"), [("99", "xr-1-0"), ("42", "xq-1-0")], ids=["order", "client"]
)
def test_either_id_differing_is_another_trade(
    journal: Journal, order: str, client_order_id: str
) -> None:
    kw = {"symbol": "ETH/USDT:USDT", "parent_order_id": 1}
    journal.record_trades("r", "binanceusdm", [_trade("7")], client_order_id="xr-1-0", **kw)
    clash = _trade("7").model_copy(update={"order": order})
    with pytest.raises(JournalUnavailable, match="two venues report under one exchange name"):
        journal.record_trades("r", "binanceusdm", [clash], client_order_id=client_order_id, **kw)


def test_a_repeat_without_a_client_id_is_the_same_trade(journal: Journal) -> None:
    kw = {"symbol": "ETH/USDT:USDT", "parent_order_id": 1}
    journal.record_trades("r", "binanceusdm", [_trade("7")], client_order_id="xr-1-0", **kw)
    assert journal.record_trades("r", "binanceusdm", [_trade("7")], client_order_id=None, **kw) == 0


def test_no_secrets_reach_the_file(journal_path: Path) -> None:
    j = Journal.open(journal_path)
    payload = {
        "apiKey": "KEY123",
        "info": {"secret": "SEC456", "X-MBX-APIKEY": "KEY123"},
        "url": "https://fapi/order?symbol=X&signature=abcdef0123&timestamp=1",
    }
    j.record_raw("r", "create_order", payload, client_order_id="c")
    j.record_error("r", LiquidityRejected("bad apiKey=KEY123 in text", code=-4131))
    j.close()
    wal = Path(str(journal_path) + "-wal")  # checkpointed into the main file on close
    raw = journal_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for secret in (b"KEY123", b"SEC456", b"abcdef0123"):
        assert secret not in raw
    assert scrub({"nested": [{"signature": "s"}]}) == {"nested": [{"signature": "***"}]}
