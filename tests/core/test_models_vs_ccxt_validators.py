"""Property: any dict ccxt's own structure validators accept, the models accept.

The validators are the ones ccxt runs on every exchange's parsed replies
(``ccxt/test/exchange/base/test_order.py``, ``test_trade.py``, ``test_position.py``,
``test_balance.py``, ``test_order_book.py``, ``test_ticker.py`` in the installed package).
Hypothesis builds candidate structures of the unified shape, keeps those a validator
accepts, and each kept one must go through the matching model and keep its values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest
from ccxt.test.exchange.base.test_balance import test_balance as check_balance
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book
from ccxt.test.exchange.base.test_position import test_position as check_position
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exsdk.models import Balances, CcxtOrder, CcxtTrade, OrderBook, Position, Ticker

# ccxt's validators compare currencies against loaded currencies, which offline we lack.
SKIP = {"currency": True}
EXCHANGE = ccxt.binance()
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def accepted(check: Any, *args: Any) -> bool:
    """Whether ccxt's validator accepts the structure (it asserts, or trips, when not)."""
    try:
        check(EXCHANGE, dict(SKIP), *args)
    except Exception:  # any failure of ccxt's check means "not accepted"
        return False
    return True


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


positive = st.floats(min_value=1e-8, max_value=1e9, allow_nan=False, allow_infinity=False)
non_negative = st.one_of(st.just(0.0), positive)
stamps = st.integers(min_value=1_230_940_800_001, max_value=2_147_483_647_999)
texts = st.text(min_size=1, max_size=12)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), texts, st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)
infos = st.one_of(
    st.dictionaries(texts, json_values, max_size=4), st.lists(json_values, max_size=3)
)


@st.composite
def stamped(draw: st.DrawFn, allow_null: bool = True) -> dict[str, Any]:
    ts = draw(opt(stamps) if allow_null else stamps)
    return {"timestamp": ts, "datetime": None if ts is None else EXCHANGE.iso8601(ts)}


fees = st.fixed_dictionaries(
    {
        "cost": opt(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)),
        "currency": opt(texts),
    },
    optional={"rate": opt(non_negative)},
)


@st.composite
def trades(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "info": draw(infos),
        "id": draw(opt(texts)),
        **draw(stamped(allow_null=False)),
        "symbol": draw(opt(texts)),
        "order": draw(opt(texts)),
        "side": draw(st.sampled_from(["buy", "sell"])),
        "takerOrMaker": draw(st.sampled_from(["taker", "maker", None])),
        "price": draw(positive),
        "amount": draw(positive),
        "cost": draw(non_negative),
        "fee": draw(opt(fees)),
        "fees": draw(st.lists(fees, max_size=2)),
    }


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    amount = draw(opt(non_negative))
    cap = amount if amount is not None else 1e9
    part = opt(st.floats(min_value=0, max_value=cap, allow_nan=False))
    return {
        "info": draw(infos),
        "id": draw(texts),
        "clientOrderId": draw(opt(texts)),
        **draw(stamped()),
        "lastTradeTimestamp": draw(opt(stamps)),
        "symbol": draw(texts),
        "type": draw(opt(texts)),
        "timeInForce": draw(st.sampled_from(["GTC", "GTK", "IOC", "FOK", "PO", None])),
        "postOnly": draw(opt(st.booleans())),
        "side": draw(st.sampled_from(["buy", "sell", None])),
        "price": draw(opt(positive)),
        "stopPrice": draw(opt(positive)),
        "amount": amount,
        "cost": draw(opt(non_negative)),
        "average": draw(opt(positive)),
        "filled": draw(part),
        "remaining": draw(part),
        "status": draw(st.sampled_from(["open", "closed", "canceled", None])),
        "fee": draw(opt(fees)),
        "trades": draw(st.lists(trades(), max_size=2)),
    }


@SETTINGS
@given(orders())
def test_orders_ccxt_accepts_are_accepted(entry: dict[str, Any]) -> None:
    assume(accepted(check_order, "fetchOrder", entry, None, None))
    order = CcxtOrder.from_ccxt(entry)
    assert order.id == entry["id"] and order.symbol == entry["symbol"]
    if entry["amount"] is not None:
        assert order.amount == Decimal(repr(entry["amount"]))
    assert len(order.trades) == len(entry["trades"])


@SETTINGS
@given(trades(), st.booleans())
def test_trades_ccxt_accepts_are_accepted(entry: dict[str, Any], public: bool) -> None:
    method = "fetchTrades" if public else "fetchMyTrades"
    assume(accepted(check_trade, method, entry, None, None, public))
    trade = CcxtTrade.from_ccxt(entry)
    assert trade.price == Decimal(repr(entry["price"]))
    assert trade.id_derived is (entry["id"] is None)


# ccxt requires these of a position; the others it allows to be null.
_POSITION_REQUIRED = (
    "entryPrice",
    "notional",
    "contracts",
    "contractSize",
    "markPrice",
    "collateral",
)
_POSITION_NULLABLE = (
    "initialMargin",
    "initialMarginPercentage",
    "maintenanceMargin",
    "maintenanceMarginPercentage",
    "marginRatio",
    "liquidationPrice",
    "positionMargin",
)


@st.composite
def positions(draw: st.DrawFn) -> dict[str, Any]:
    signed = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
    entry: dict[str, Any] = {
        "info": draw(infos),
        "symbol": draw(texts),
        **draw(stamped(allow_null=False)),
        "leverage": draw(st.floats(min_value=1, max_value=200)),
        "marginMode": draw(st.sampled_from(["cross", "isolated"])),
        "side": draw(st.sampled_from(["long", "short"])),
        "unrealizedPnl": draw(signed),
        "percentage": draw(signed),
    }
    entry.update({key: draw(positive) for key in _POSITION_REQUIRED})
    entry.update({key: draw(opt(positive)) for key in _POSITION_NULLABLE})
    return entry


@SETTINGS
@given(positions())
def test_positions_ccxt_accepts_are_accepted(entry: dict[str, Any]) -> None:
    assume(accepted(check_position, "fetchPositions", entry, None, None))
    position = Position.from_ccxt(entry)
    assert position.symbol == entry["symbol"]


@st.composite
def balances(draw: st.DrawFn) -> dict[str, Any]:
    codes = draw(st.lists(st.sampled_from(["USDT", "BTC", "ETH", "LTC"]), unique=True, max_size=3))
    entry: dict[str, Any] = {"info": draw(infos), "free": {}, "used": {}, "total": {}}
    for code in codes:
        free = draw(st.decimals(min_value=0, max_value=10**6, places=8))
        used = draw(st.decimals(min_value=0, max_value=10**6, places=8))
        values = {"free": float(free), "used": float(used), "total": float(free + used)}
        entry[code] = values
        for part, value in values.items():
            entry[part][code] = value
    return entry


@SETTINGS
@given(balances())
def test_balances_ccxt_accepts_are_accepted(entry: dict[str, Any]) -> None:
    assume(accepted(check_balance, "fetchBalance", entry))
    model = Balances.from_ccxt(entry)
    for code, total in entry["total"].items():
        assert model.total(code) == Decimal(repr(total))


@st.composite
def books(draw: st.DrawFn) -> dict[str, Any]:
    prices = sorted(draw(st.lists(positive, unique=True, max_size=6)))
    cut = draw(st.integers(min_value=0, max_value=len(prices)))
    level = st.lists(positive, min_size=1, max_size=2)
    return {
        "symbol": draw(texts),
        "bids": [[p, *draw(level)] for p in reversed(prices[:cut])],
        "asks": [[p, *draw(level)] for p in prices[cut:]],
        **draw(stamped()),
        "nonce": draw(opt(st.integers(min_value=0, max_value=2**62))),
    }


@SETTINGS
@given(books())
def test_order_books_ccxt_accepts_are_accepted(entry: dict[str, Any]) -> None:
    assume(accepted(check_order_book, "fetchOrderBook", entry, None))
    book = OrderBook.from_ccxt(entry)
    assert len(book.bids) == len(entry["bids"]) and len(book.asks) == len(entry["asks"])


_TICKER_UNSET = (
    "open",
    "high",
    "low",
    "previousClose",
    "vwap",
    "change",
    "percentage",
    "average",
    "baseVolume",
    "quoteVolume",
)


@st.composite
def tickers(draw: st.DrawFn) -> dict[str, Any]:
    bid = draw(opt(positive))
    ask = None if bid is None else bid * draw(st.floats(min_value=1, max_value=1.01))
    last = draw(opt(st.just(bid)))
    return {
        "info": draw(infos),
        "symbol": draw(texts),
        **draw(stamped()),
        "bid": bid,
        "ask": ask,
        "bidVolume": draw(opt(non_negative)),
        "askVolume": draw(opt(non_negative)),
        "last": last,
        "close": last,
        **dict.fromkeys(_TICKER_UNSET),
    }


@SETTINGS
@given(tickers())
def test_tickers_ccxt_accepts_are_accepted(entry: dict[str, Any]) -> None:
    assume(accepted(check_ticker, "fetchTicker", entry, None))
    ticker = Ticker.from_ccxt(entry)
    assert ticker.symbol == entry["symbol"]


def test_the_generators_do_reach_ccxt_accepted_structures() -> None:
    """Guards the properties above against vacuity: ccxt accepts typical draws."""
    order = {
        "info": {}, "id": "1", "clientOrderId": None, "timestamp": None, "datetime": None,
        "lastTradeTimestamp": None, "symbol": "X/Y", "type": None, "timeInForce": None,
        "postOnly": None, "side": None, "price": None, "stopPrice": None, "amount": None,
        "cost": None, "average": None, "filled": None, "remaining": None, "status": None,
        "fee": None, "trades": [],
    }  # fmt: skip
    assert accepted(check_order, "fetchOrder", order, None, None)
    assert not accepted(check_order, "fetchOrder", {**order, "id": None}, None, None)


@pytest.mark.parametrize("kind", ["order", "trade"])
def test_ccxt_rejects_what_the_models_reject(kind: str) -> None:
    """The other way round holds for what no caller can act on: no id, no price."""
    if kind == "order":
        entry: dict[str, Any] = {"info": {}, "id": None, "symbol": "X/Y"}
        assert not accepted(check_order, "fetchOrder", entry, None, None)
    else:
        entry = {"info": {}, "id": "1", "price": None, "amount": 1}
        assert not accepted(check_trade, "fetchMyTrades", entry, None, None, False)
