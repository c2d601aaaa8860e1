"""Version 4's ``trade_sums``: whatever trades are written, and however, the summary equals a
GROUP BY over the trades, on both backends.

The reference here is computed in Python from the trade rows themselves (their exact limb
columns, summed as Python integers), not by the SQL that keeps the summary. Writes come
through ``record_trades`` (new trades, duplicates, the same trade re-sent, several batches,
a reconcile's later fetch of a child's trades), through a raw ``INSERT`` (as a copy or a
generator writes), and through ``exsdk journal migrate``'s copy.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exsdk.errors import JournalUnavailable
from exsdk.journal import Journal
from exsdk.journal.copy import copy_journal
from exsdk.models import CcxtTrade

_LIMB = 10**9
_RUNS = itertools.count()
_COUNTED = ("trades", "exact", "amount", "notional", "neg_amount", "neg_notional", "fees")
_COUNTED += ("fee", "fee_notional", "timed")


def _value(hi: Any, lo: Any) -> int:
    return int(hi) * _LIMB + int(lo)


def reference_sums(journal: Journal, run_id: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """GROUP BY (client, venue order, exchange, symbol, fee currency) over the run's trade
    rows, in Python: what ``report_trade_sums`` must say."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for t in journal.table_rows("trades"):
        if t["run_id"] != run_id:
            continue
        key = (t["client_order_id"], t["ccxt_order_id"], t["exchange"], t["symbol"])
        g = groups.setdefault(
            (*key, t["fee_currency"]),
            dict.fromkeys(_COUNTED, 0) | {"first_ms": None, "last_ms": None},
        )
        g["trades"] += 1
        if t["amount_hi"] is not None:
            g["exact"] += 1
            amount = _value(t["amount_hi"], t["amount_lo"])
            notional = _value(t["notional_hi"], t["notional_lo"])
            g["amount"] += amount
            g["notional"] += notional
            if amount < 0:
                g["neg_amount"] += amount
                g["neg_notional"] += notional
        if t["fee_hi"] is not None:
            g["fees"] += 1
            g["fee"] += _value(t["fee_hi"], t["fee_lo"])
            g["fee_notional"] += _value(t["fee_notional_hi"], t["fee_notional_lo"])
        ms = t["timestamp"]
        if ms is not None:
            g["timed"] += 1
            g["first_ms"] = ms if g["first_ms"] is None else min(g["first_ms"], ms)
            g["last_ms"] = ms if g["last_ms"] is None else max(g["last_ms"], ms)
    return groups


def kept_sums(journal: Journal, run_id: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The summary as the report reads it, keyed as :func:`reference_sums`."""
    frame = journal.report_trade_sums(run_id)
    assert frame is not None
    keys = ["client_order_id", "ccxt_order_id", "exchange", "symbol", "fee_currency"]
    out = {}
    for row in frame.to_dict("records"):
        key = tuple(row.pop(k) for k in keys)
        assert key not in out, key  # one summary row per group
        out[key] = {k: (None if v is None else int(v)) for k, v in row.items()}
    return out


_AMOUNTS = st.sampled_from(
    ["0.5", "1", "0.001", "1E+3", "123.456789", "-0.25", "0.0000000000000000001", "9300000000"]
)
_PRICES = st.sampled_from(["3000.5", "0.15", "60000", "1.000000000000000000", "0.123456789"])
_FEES = st.sampled_from(
    [
        [],
        [{"cost": "0.01", "currency": "USDT"}],
        [{"cost": "0.0001", "currency": "BNB"}],
        [{"cost": "-0.002", "currency": "USDT"}],  # a rebate
        [{"cost": "0.5"}],  # no currency: the quote's
        [{"cost": "0.1", "currency": "BNB"}, {"cost": "0.2", "currency": "USDT"}],
        [{"cost": "0.00012345678901234567", "currency": "USDT"}],  # 20 decimals
    ]
)
# A trade's id fixes its venue order and child: the same id is the same trade re-sent.
_TRADE = st.tuples(
    st.integers(0, 11),  # id
    _AMOUNTS,
    _PRICES,
    _FEES,
    st.one_of(st.none(), st.integers(1_704_110_400_000, 1_704_110_500_000)),
)
_BATCH = st.tuples(
    st.sampled_from(["binanceusdm", "bybit"]),
    st.sampled_from(["ETH/USDT:USDT", "BTC/USDT:USDT"]),
    st.lists(_TRADE, max_size=8),
)


def _trade(run: str, n: int, amount: str, price: str, fees: list[Any], ms: int | None) -> Any:
    child = n % 4  # 4 children, the last one no client order id (an orphan trade)
    order = None if n % 5 == 4 else f"o{n % 3}"
    data = {"id": f"{run}-{n}", "order": order, "symbol": "ETH/USDT:USDT", "side": "buy"}
    data |= {"amount": amount, "price": price, "fees": fees, "timestamp": ms}
    return (None if child == 3 else f"{run}-c{child}"), CcxtTrade.from_ccxt(data)


def _write(journal: Journal, run: str, batches: list[Any]) -> None:
    for exchange, symbol, trades in batches:
        made = [_trade(run, *t) for t in trades]
        # One record_trades per child, as the broker (and reconcile) journal a fetch.
        for child, group in itertools.groupby(
            sorted(made, key=lambda m: str(m[0])), lambda m: m[0]
        ):
            journal.record_trades(
                run,
                exchange,
                [t for _, t in group],
                symbol=symbol,
                client_order_id=child,
                parent_order_id=None if child is None else 1,
            )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(_BATCH, max_size=6), resend=st.booleans())
def test_the_summary_is_a_group_by_over_the_trades(
    where: str, batches: list[Any], resend: bool
) -> None:
    run = f"r{next(_RUNS)}"
    with Journal.open(where) as journal:
        _write(journal, run, batches)
        if resend:  # a reconcile fetching every trade again: all known, nothing added
            _write(journal, run, batches)
        assert kept_sums(journal, run) == reference_sums(journal, run)


def test_a_raw_insert_and_a_copy_keep_the_summary(where: str, tmp_path: Path) -> None:
    """A row inserted by SQL of its own (not record_trades) is summed too, and so is every
    trade a copy writes into another journal (SQLite into PostgreSQL or back)."""
    other = str(tmp_path / "copy.sqlite") if where.startswith("postgresql") else None
    with Journal.open(where) as journal:
        _write(
            journal,
            "raw",
            [("binanceusdm", "ETH/USDT:USDT", [(n, "0.5", "3000.5", [], None) for n in range(6)])],
        )
        journal._execute(
            "INSERT INTO trades (run_id, exchange, symbol, trade_id, amount, price, payload, at,"
            " amount_hi, amount_lo, notional_hi, notional_lo, timestamp)"
            " VALUES ('raw', 'binanceusdm', 'ETH/USDT:USDT', 'by-hand', '2', '3', '{}', 'now',"
            " 2000000000, 0, 6000000000, 0, 5)"
        )
        journal.record_run(
            "raw", adapter="a", exchange="binanceusdm", environment="local", params={}
        )
        assert kept_sums(journal, "raw") == reference_sums(journal, "raw")
        assert (
            kept_sums(journal, "raw")[(None, None, "binanceusdm", "ETH/USDT:USDT", None)][
                "first_ms"
            ]
            == 5
        )
        if other is None:
            return
        with Journal.open(other) as target:
            copy_journal(journal, target)
            assert kept_sums(target, "raw") == reference_sums(target, "raw")
            assert kept_sums(target, "raw") == kept_sums(journal, "raw")


def test_the_summary_is_written_in_the_trades_transaction(where: str) -> None:
    """A batch refused part way (its second trade's id is another order's) leaves neither
    its first, new trade nor that trade's sums."""

    def trade(tid: str, order: str) -> CcxtTrade:
        data = {"id": tid, "order": order, "symbol": "ETH/USDT:USDT", "timestamp": 7}
        return CcxtTrade.from_ccxt(data | {"amount": "1", "price": "2"})

    args: dict[str, Any] = {"symbol": "ETH/USDT:USDT", "client_order_id": "c", "parent_order_id": 1}
    with Journal.open(where) as journal:
        journal.record_trades("tx", "x", [trade("0", "oA")], **args)
        before = kept_sums(journal, "tx")
        with pytest.raises(JournalUnavailable, match="journaled already"):
            journal.record_trades("tx", "x", [trade("1", "oA"), trade("0", "oB")], **args)
        assert len(journal.table_rows("trades")) == 1
        assert kept_sums(journal, "tx") == before == reference_sums(journal, "tx")


def test_the_summary_refuses_other_writers(where: str) -> None:
    with Journal.open(where) as journal:
        _write(journal, "w", [("x", "ETH/USDT:USDT", [(0, "1", "2", [], 7)])])
        errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
        if where.startswith("postgresql"):
            import psycopg

            errors = (psycopg.errors.RestrictViolation,)
        for sql in (
            "UPDATE trade_sums SET amount_hi = 0",
            "UPDATE trade_sums SET trades = trades + 1, symbol = 'other'",
            "DELETE FROM trade_sums",
        ):
            with pytest.raises(errors, match="kept by the trades trigger"):
                journal._execute(sql)
        assert kept_sums(journal, "w") == reference_sums(journal, "w")


def test_a_sum_beyond_64_bits_is_never_read_as_exact(tmp_path: Path) -> None:
    """SQLite: a limb sum that leaves 64 bits turns REAL; it stays REAL when later trades
    bring it back in range (an INTEGER column would silently store the rounded value),
    and the report reads the summary as unusable, so the run is folded from its text."""
    # Four trades of one child: the high limbs 9e18 + 1 twice, then -9e18 twice. Their sum
    # is 2; as floats, 1.8e19 + 2 rounds to 1.8e19 and comes back as 0.
    amounts = ["9000000000.000000001"] * 2 + ["-9000000000"] * 2
    trades = [
        CcxtTrade.from_ccxt({"id": str(n), "order": "o", "amount": a, "price": "1"})
        for n, a in enumerate(amounts)
    ]
    with Journal.open(tmp_path / "big.sqlite") as journal:
        args: dict[str, Any] = {"symbol": "E/U", "client_order_id": "c", "parent_order_id": 1}
        journal.record_trades("big", "x", trades, **args)
        assert journal.report_trade_sums("big") is None
        kinds = journal._execute("SELECT typeof(amount_hi), amount_hi FROM trade_sums")
        assert kinds.fetchall() == [("real", 0.0)]


def test_the_report_reads_one_snapshot(where: str) -> None:
    """Inside ``snapshot()`` the reads see the journal as of the first one: a trade another
    connection commits meanwhile is in neither the trades nor the sums."""
    with Journal.open(where) as reader, Journal.open(where) as writer:
        _write(writer, "live", [("x", "ETH/USDT:USDT", [(0, "1", "2", [], 7)])])
        with reader.snapshot():
            first = kept_sums(reader, "live")
            _write(writer, "live", [("x", "ETH/USDT:USDT", [(1, "5", "2", [], 9)])])
            assert kept_sums(reader, "live") == first
            assert len(reader.report_trades("live")) == 1
        assert kept_sums(reader, "live") != first
        assert kept_sums(reader, "live") == reference_sums(reader, "live")
