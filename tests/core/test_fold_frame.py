"""``fold_frame`` gives exactly what ``fold_fill`` gives, parent by parent, on random data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

import pandas as pd
import pytest

from exsdk.fills import FOLD_FRAME_COLUMNS, fold_fill, fold_frame
from exsdk.models import CcxtTrade, ChildOrder, Order

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT", "DOGE/USDT:USDT")
RATES = {"BNB": Decimal("312.5")}


def _parent(pid: int, diff: str) -> Order:
    return Order(
        order_id=pid,
        creation_timestamp=T0,
        asset_id=1000 + pid,
        type_="price@twap",
        start_timestamp=T0,
        end_timestamp=T0 + timedelta(minutes=5),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
    )


def _child(pid: int, k: int, symbol: str) -> ChildOrder:
    return ChildOrder(
        parent_order_id=pid,
        asset_id=1000 + pid,
        wave=k,
        client_order_id=f"xr-{pid}-{k}",
        symbol=symbol,
        side="buy",
        order_type="limit",
        amount=Decimal(1),
        ccxt_order_id=f"o{pid}-{k}",
        created_at=T0,
    )


def _text(rng: random.Random, digits: int, places: int, *, style: str) -> Any:
    value = Decimal(rng.randrange(0, 10**digits)).scaleb(-places)
    if style == "decimal":
        return value
    if style == "exponent":
        return f"{value:E}"
    if style == "long":
        text = format(value, "f")
        # Trailing zeros past the fast path's length limit: the exact path runs.
        return text + ("" if "." in text else ".") + "0" * 12
    return format(value, "f")


def _scenario(seed: int, *, style: str = "text", parents: int = 6) -> tuple[Any, ...]:
    rng = random.Random(seed)
    orders, kids, trades, rows, sym_of = [], {}, {}, [], {}
    for pid in range(1, parents + 1):
        symbol = rng.choice(SYMBOLS)
        sym_of[pid] = symbol
        base = symbol.split("/")[0]
        orders.append(_parent(pid, rng.choice(["3", "-2.5", "0.001", "-7"])))
        kids[pid] = [_child(pid, k, symbol) for k in range(rng.randrange(0, 4))]
        trades[pid] = []
        for child in kids[pid]:
            for t in range(rng.randrange(0, 6)):
                amount = _text(rng, 6, rng.choice([0, 3, 5]), style=style)
                price = _text(rng, 8, rng.choice([1, 2, 4]), style=style)
                currency = rng.choice(["USDT", "USDT", base, "BNB", "XYZ", None])
                cost = _text(rng, 9, 8, style=style)
                if rng.random() < 0.2 and style == "text":
                    cost = "-" + str(cost)  # a maker rebate
                stamp = int(T0.timestamp() * 1000) + rng.randrange(0, 10**6)
                tid = f"t{t}"
                fee = {"cost": str(cost), "currency": currency}
                trade = CcxtTrade.from_ccxt(
                    {
                        "id": tid,
                        "order": child.ccxt_order_id,
                        "symbol": symbol,
                        "side": "buy",
                        "price": str(price),
                        "amount": str(amount),
                        "fee": fee,
                        "timestamp": stamp,
                    }
                )
                copies = 2 if rng.random() < 0.1 else 1  # the same trade fetched twice
                for _ in range(copies):
                    trades[pid].append(trade)
                    rows.append(
                        {
                            "parent_order_id": pid,
                            "ccxt_order_id": child.ccxt_order_id,
                            "trade_id": tid,
                            "amount": amount,
                            "price": price,
                            "fee_cost": cost,
                            "fee_currency": currency,
                            "timestamp": stamp,
                        }
                    )
    frame = pd.DataFrame(
        rows,
        columns=[
            "parent_order_id",
            "ccxt_order_id",
            "trade_id",
            "amount",
            "price",
            "fee_cost",
            "fee_currency",
            "timestamp",
        ],
    )
    parent_frame = pd.DataFrame(
        {
            "parent_order_id": [o.order_id for o in orders],
            "symbol": [sym_of[o.order_id] for o in orders],
            "diff_num_shares": [str(o.diff_num_shares) for o in orders],
        }
    )
    return orders, kids, trades, sym_of, frame, parent_frame


@pytest.mark.parametrize("style", ["text", "decimal", "exponent", "long"])
@pytest.mark.parametrize("seed", range(12))
def test_fold_frame_matches_fold_fill(seed: int, style: str) -> None:
    orders, kids, trades, sym_of, frame, parent_frame = _scenario(seed, style=style)
    folded = fold_frame(frame, parent_frame, quote="USDT", fee_conversion=RATES)
    assert list(folded.columns) == list(FOLD_FRAME_COLUMNS)
    assert list(folded.index) == [o.order_id for o in orders]
    for order in orders:
        pid = order.order_id
        want = fold_fill(
            order,
            symbol=sym_of[pid],
            quote="USDT",
            children=kids[pid],
            trades=trades[pid],
            fee_conversion=RATES,
        )
        got = folded.loc[pid]
        assert got["quantity"] == want.quantity
        assert got["price"] == want.price
        assert got["notional"] == want.notional
        assert got["fee_in_quote"] == want.fee_in_quote
        assert got["fees"] == want.fees
        assert got["num_trades"] == want.num_trades
        assert got["first_trade_at"] == want.first_trade_at
        assert got["last_trade_at"] == want.last_trade_at


def test_empty_frame_gives_empty_fills() -> None:
    parents = pd.DataFrame(
        {"parent_order_id": [1], "symbol": ["BTC/USDT"], "diff_num_shares": ["1"]}
    )
    trades = pd.DataFrame(
        columns=["parent_order_id", "ccxt_order_id", "trade_id", "amount", "price"]
    )
    row = fold_frame(trades, parents).loc[1]
    assert row["quantity"] == 0 and row["price"] is None and row["num_trades"] == 0


def test_values_beyond_int64_stay_exact() -> None:
    parents = pd.DataFrame(
        {"parent_order_id": [1], "symbol": ["BTC/USDT"], "diff_num_shares": ["-1"]}
    )
    trades = pd.DataFrame(
        {
            "parent_order_id": [1, 1],
            "ccxt_order_id": ["o", "o"],
            "trade_id": ["a", "b"],
            "amount": ["123456789012.123456789", "0.000000000001"],
            "price": ["98765432109.87654321", "1"],
        }
    )
    row = fold_frame(trades, parents).loc[1]
    amount = Decimal("123456789012.123456789") + Decimal("0.000000000001")
    assert row["quantity"] == -amount
    with localcontext(prec=100):  # the fold is exact; compare with exact arithmetic
        notional = Decimal("123456789012.123456789") * Decimal("98765432109.87654321")
        assert row["notional"] == notional + Decimal("0.000000000001")
