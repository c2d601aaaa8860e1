"""Folding child trades into one OMS fill per parent, and the cross-check."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exsdk.fills import FillDiscrepancy, base_of, cross_check, fold_fill
from exsdk.models import CcxtOrder, CcxtTrade, ChildOrder, Order
from exsdk.orders_text import load_orders

from .helpers import EXAMPLES, futures_exchange, load_sample

D = Decimal
SYMBOL = "ETH/USDT:USDT"
T0 = 1_659_710_204_976  # 2022-08-05 14:36:44.976 UTC, the DEFAULT_ORDERS' start


def _parent(sell: bool = False) -> Order:
    orders = load_orders(EXAMPLES / "default_orders.txt")
    return orders[4] if sell else orders[0]  # LINK -33.958, ETH +0.121


def _child(wave: int, ccxt_id: str | None, parent: Order | None = None) -> ChildOrder:
    parent = parent or _parent()
    return ChildOrder(
        parent_order_id=parent.order_id,
        asset_id=parent.asset_id,
        wave=wave,
        client_order_id=f"x-{parent.order_id}-{wave}",
        symbol=SYMBOL,
        side="buy" if parent.diff_num_shares > 0 else "sell",
        order_type="market",
        amount=D("0.004"),
        ccxt_order_id=ccxt_id,
    )


def _trade(
    trade_id: str,
    order: str,
    amount: str,
    price: str,
    fee: tuple[str, str | None] | None = ("0.001", "USDT"),
    ts: int = T0,
) -> CcxtTrade:
    data: dict[str, Any] = {
        "id": trade_id,
        "order": order,
        "symbol": SYMBOL,
        "side": "buy",
        "price": price,
        "amount": amount,
        "timestamp": ts,
    }
    if fee is not None:
        data["fee"] = {"cost": fee[0], "currency": fee[1]}
    return CcxtTrade.from_ccxt(data)


def test_fold_two_children_several_trades() -> None:
    parent = _parent()
    children = [_child(0, "100"), _child(1, "101"), _child(2, None)]
    trades = [
        _trade("1", "100", "0.002", "1650", ts=T0 + 5),
        _trade("2", "100", "0.002", "1651", ts=T0 + 3),
        _trade("3", "101", "0.004", "1660", fee=("0.00001", "ETH"), ts=T0 + 60_000),
        _trade("4", "999", "1", "1", ts=T0),  # another parent's child
        _trade("1", "100", "0.002", "1650", ts=T0 + 5),  # fetched twice
    ]
    fill = fold_fill(parent, symbol=SYMBOL, quote="USDT", children=children, trades=trades)
    assert fill.quantity == D("0.008")
    assert fill.notional == D("3.3") + D("3.302") + D("6.64") == D("13.242")
    assert fill.price == D("13.242") / D("0.008")
    assert fill.fees == {"USDT": D("0.002"), "ETH": D("0.00001")}
    assert fill.fee_in_quote == D("0.002") + D("0.00001") * D("1660")
    assert fill.num_trades == 3
    assert fill.first_trade_at == datetime.fromtimestamp((T0 + 3) / 1000, UTC)
    assert fill.last_trade_at == datetime.fromtimestamp((T0 + 60_000) / 1000, UTC)
    assert fill.child_client_order_ids == ("x-0-0", "x-0-1", "x-0-2")
    assert (fill.parent_order_id, fill.asset_id, fill.symbol, fill.quote) == (
        0, 1464553467, SYMBOL, "USDT",
    )  # fmt: skip
    assert not fill.is_empty


def test_sell_parent_gives_negative_quantity() -> None:
    parent = _parent(sell=True)
    fill = fold_fill(
        parent,
        symbol=SYMBOL,
        quote="USDT",
        children=[_child(0, "7", parent)],
        trades=[_trade("1", "7", "1.5", "8.2")],
    )
    assert fill.quantity == D("-1.5")
    assert fill.price == D("8.2")
    assert fill.notional == D("12.30")


def test_no_trades() -> None:
    fill = fold_fill(_parent(), symbol=SYMBOL, quote="USDT", children=[_child(0, "1")], trades=[])
    assert fill.quantity == 0 and fill.price is None and fill.fees == {}
    assert fill.fee_in_quote == 0 and fill.notional == 0 and fill.is_empty
    assert fill.first_trade_at is None and fill.last_trade_at is None
    assert fill.child_client_order_ids == ("x-0-0",)


def test_fee_conversion_and_unconvertible_fees() -> None:
    trades = [
        _trade("1", "1", "0.004", "1650", fee=("0.0002", "BNB")),
        _trade("2", "1", "0.004", "1650", fee=("0.5", "XYZ")),
        _trade("3", "1", "0.004", "1650", fee=("0.01", None)),  # no currency: quote
    ]
    fill = fold_fill(
        _parent(),
        symbol=SYMBOL,
        quote="USDT",
        children=[_child(0, "1")],
        trades=trades,
        fee_conversion={"BNB": D("300")},
    )
    assert fill.fees == {"BNB": D("0.0002"), "XYZ": D("0.5"), "USDT": D("0.01")}
    # XYZ has no rate: kept in fees, left out of fee_in_quote.
    assert fill.fee_in_quote == D("0.06") + D("0.01")


def test_fees_list_wins_over_fee() -> None:
    trade = CcxtTrade.from_ccxt(
        {
            "id": "1",
            "order": "1",
            "price": "10",
            "amount": "1",
            "fee": {"cost": "0.3", "currency": "USDT"},
            "fees": [{"cost": "0.1", "currency": "USDT"}, {"cost": "0.2", "currency": "USDT"}],
        }
    )
    fill = fold_fill(
        _parent(), symbol=SYMBOL, quote="USDT", children=[_child(0, "1")], trades=[trade]
    )
    assert fill.fees == {"USDT": D("0.3")}
    assert fill.num_trades == 1 and fill.first_trade_at is None


def test_real_futures_trade_folds() -> None:
    ex = futures_exchange("futures_exchange_info_2025-11_selected.json")
    (raw,) = ex.parse_trades(load_sample("futures_user_trades_real_btcusdt.json"))
    trade = CcxtTrade.from_ccxt(raw)
    parent = load_orders(EXAMPLES / "default_orders.txt")[1]  # BTC +0.011
    child = _child(0, trade.order, parent)
    fill = fold_fill(parent, symbol="BTC/USDT:USDT", quote="USDT", children=[child], trades=[trade])
    assert fill.quantity == trade.amount == D("0.01")
    assert fill.price == trade.price
    assert trade.fee is not None and fill.fees == {"USDT": trade.fee.cost}
    assert fill.fee_in_quote == trade.fee.cost


def test_base_of() -> None:
    assert base_of("ETH/USDT:USDT") == "ETH" == base_of("ETH/USDT")


# --- cross-check -----------------------------------------------------------------------


def _order(order_id: str, filled: str | None) -> CcxtOrder:
    return CcxtOrder.from_ccxt(
        {"id": order_id, "symbol": SYMBOL, "side": "buy", "filled": filled, "amount": "1"}
    )


def test_cross_check_agrees() -> None:
    fill = fold_fill(
        _parent(),
        symbol=SYMBOL,
        quote="USDT",
        children=[_child(0, "1"), _child(1, "2")],
        trades=[_trade("a", "1", "0.003", "1650"), _trade("b", "2", "0.001", "1650")],
    )
    orders = [_order("1", "0.003"), _order("2", "0.001"), _order("2", "0.001")]
    assert cross_check(fill, orders) is None


def test_cross_check_reports_a_missing_trade() -> None:
    parent = _parent(sell=True)
    fill = fold_fill(
        parent,
        symbol=SYMBOL,
        quote="USDT",
        children=[_child(0, "1", parent)],
        trades=[_trade("a", "1", "1", "8")],
    )
    found = cross_check(fill, [_order("1", "1.5"), _order("3", None)])
    assert found == FillDiscrepancy(4, D(1), D("1.5"), D("-0.5"))
    assert cross_check(fill, [_order("1", "1.5")], tolerance=D("0.5")) is None


# --- properties ------------------------------------------------------------------------

_amounts = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
_prices = st.decimals(min_value=D("0.0001"), max_value=D(100000), places=4)
_fees = st.tuples(
    st.decimals(min_value=D(0), max_value=D(10), places=6),
    st.sampled_from(["USDT", "BNB", "ETH"]),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2), _amounts, _prices, _fees), max_size=20),
    sell=st.booleans(),
)
def test_fold_properties(
    rows: list[tuple[int, Decimal, Decimal, tuple[Decimal, str]]], sell: bool
) -> None:
    parent = _parent(sell)
    children = [_child(w, str(100 + w), parent) for w in range(3)]
    trades = [
        _trade(str(i), str(100 + child), str(amount), str(price), fee=(str(fee[0]), fee[1]))
        for i, (child, amount, price, fee) in enumerate(rows)
    ]
    fill = fold_fill(parent, symbol=SYMBOL, quote="USDT", children=children, trades=trades)
    total = sum((r[1] for r in rows), D(0))
    assert abs(fill.quantity) == total
    assert fill.num_trades == len(rows)
    if rows:
        assert (fill.quantity < 0) == sell
        assert fill.price is not None
        assert min(r[2] for r in rows) <= fill.price <= max(r[2] for r in rows)
        assert fill.notional == sum((r[1] * r[2] for r in rows), D(0))
    else:
        assert fill.quantity == 0 and fill.price is None and fill.fees == {}
    for currency in ("USDT", "BNB", "ETH"):
        expected = sum((r[3][0] for r in rows if r[3][1] == currency), D(0))
        assert fill.fees.get(currency, D(0)) == expected
    # BNB has no conversion rate here, so only USDT and ETH (at each trade's price) count.
    assert fill.fee_in_quote == sum(
        (r[3][0] * (r[2] if r[3][1] == "ETH" else 1) for r in rows if r[3][1] != "BNB"), D(0)
    )
    assert cross_check(fill, [_order(str(100 + w), None) for w in range(3)]) == (
        None if total == 0 else FillDiscrepancy(parent.order_id, total, D(0), total)
    )


@pytest.mark.parametrize("sell", [False, True])
def test_trades_of_unsent_children_do_not_count(sell: bool) -> None:
    parent = _parent(sell)
    fill = fold_fill(
        parent,
        symbol=SYMBOL,
        quote="USDT",
        children=[_child(0, None, parent)],
        trades=[_trade("1", "1", "1", "1")],
    )
    assert fill.is_empty and fill.quantity == 0
    assert str(fill.quantity) == "0"  # no signed zero for sells
