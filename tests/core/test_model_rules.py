"""One test per rule of issue 14: what the models accept from any exchange, and how.

Structures are ccxt's own (``tests/samples/ccxt_static/``) where one shows the rule, small
literal dicts where none does. The adapter tests feed ccxt-parsed replies through the real
``CcxtAdapter`` parse paths with only ``_call`` (the request) replaced.
"""

from __future__ import annotations

import copy
import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.errors import SdkError, TransientVenueError, VenueRejected
from exsdk.journal import Journal
from exsdk.models import (
    Balance,
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    Fee,
    MalformedPayload,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
    Side,
    Ticker,
    derived_trade_id,
)

STATIC = Path(__file__).resolve().parents[1] / "samples" / "ccxt_static"


def static(exchange: str, method: str, description: str | None = None) -> Any:
    """The ``parsedResponse`` of one of ccxt's static tests (a deep copy)."""
    doc = json.loads((STATIC / f"{exchange}.json").read_text(encoding="utf-8"))
    for test in doc["tests"]:
        if test["method"] == method and description in (None, test["description"]):
            return copy.deepcopy(test["parsedResponse"])
    raise LookupError(f"{exchange} {method} {description}")


def _adapter(replies: dict[str, Any]) -> BinanceSpotAdapter:
    """A real adapter whose requests answer with ccxt-parsed ``replies`` by method."""
    creds = Credentials(venue=Venue.DEMO, api_key="k" * 64, secret="s" * 64)
    adapter = BinanceSpotAdapter(
        Venue.DEMO, creds, markets_cache=False, ccxt_options={"enableRateLimit": False}
    )

    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        return copy.deepcopy(replies[method])

    adapter._call = call  # type: ignore[method-assign]
    # The adapter refuses a symbol that is not among the markets before calling ccxt; the
    # replies above come from other exchanges, so their symbols are set as markets here.
    adapter.exchange.set_markets(
        [
            adapter.exchange.safe_market_structure(
                {"id": symbol, "symbol": symbol, "base": base, "quote": quote, "spot": True}
            )
            for symbol in ("HYPE/USDC:USDC", "LTC/USDT", "X/Y")
            for base, quote in [symbol.split(":")[0].split("/")]
        ]
    )
    return adapter


# ----- 1. an acknowledgement without symbol or side ------------------------------------------


def test_rule1_ack_without_symbol_or_side_is_filled_from_the_request() -> None:
    ack = static("hyperliquid", "createOrder")
    assert ack["symbol"] is None and ack["side"] is None
    request = OrderRequest(
        symbol="HYPE/USDC:USDC", side=Side.SELL, type="market", amount=Decimal(1)
    )
    order = CcxtOrder.from_ccxt(ack, request)
    assert (order.symbol, order.side, order.type) == ("HYPE/USDC:USDC", Side.SELL, "market")
    assert order.from_request == ("symbol", "side", "type")
    # what the venue said is kept as it said it
    assert order.id == "296683658818"
    assert (order.amount, order.filled, order.average) == (1, 1, Decimal("25.585"))
    # without a request the same reply is still an order, with symbol and side unknown
    bare = CcxtOrder.from_ccxt(ack)
    assert bare.symbol is None and bare.side is None and bare.from_request == ()


def test_rule1_venue_values_win_over_the_request() -> None:
    ack = static("bybit", "createMarketBuyOrderWithCost")
    order = CcxtOrder.from_ccxt(ack, OrderRequest(symbol="OTHER/USDT", side=Side.BUY))
    assert order.symbol == "DOGE/USDT" and order.side is Side.BUY
    assert order.from_request == ("side",)
    assert CcxtOrder.from_ccxt(order.to_ccxt()) == order  # the marker survives the journal


def _order_replies() -> list[tuple[str, str, Any]]:
    out = []
    for path in sorted(STATIC.glob("*.json")):
        for test in json.loads(path.read_text(encoding="utf-8"))["tests"]:
            reply = test.get("parsedResponse")
            if isinstance(reply, dict) and "id" in reply and "Order" in test["method"]:
                out.append((path.stem, test["method"], reply))
    return out


@pytest.mark.parametrize(("exchange", "method", "reply"), _order_replies())
def test_rule1_the_journal_keeps_the_reply_as_received(
    exchange: str, method: str, reply: dict[str, Any]
) -> None:
    # The journal stores what ccxt answered (every key, the venue's info included), with
    # what the SDK filled from its request and named in fromRequest; not a rebuild from
    # the model. It reads back as the same order.
    received = copy.deepcopy(reply)
    request = OrderRequest(symbol="X/Y", side=Side.SELL, type="limit", amount=Decimal("0.5"))
    order = CcxtOrder.from_ccxt(received, request)
    received["info"] = "changed by the caller"  # the caller's dict is not the model's
    received["id"] = "other"
    journal = Journal.open(":memory:")
    journal.record_raw("r", "create_order", order, client_order_id="c1")
    journal.record_raw("r", "create_order", order.model_copy(update={"status": "closed"}))
    [row, changed] = journal.raw_payloads("r", "create_order")
    journal.close()
    # Filled where the reply has nothing (the ccxt key is the field's name here).
    filled = {"symbol": "X/Y", "side": "sell", "type": "limit", "amount": "0.5"}
    filled = {k: v for k, v in filled.items() if k in order.from_request}
    assert all(reply.get(key) is None for key in filled)
    assert row == {**json.loads(json.dumps(reply)), **filled, "fromRequest": [*filled]}
    assert CcxtOrder.from_ccxt(row) == order
    # A copy with changes is journaled as what it now says.
    assert changed["status"] == "closed" and CcxtOrder.from_ccxt(changed).status == "closed"


async def test_rule1_create_order_reports_the_placed_order_not_an_unknown_outcome() -> None:
    adapter = _adapter({"create_order": static("hyperliquid", "createOrder")})
    try:
        order = await adapter.create_order(
            "HYPE/USDC:USDC", "market", Side.SELL, Decimal(1), client_order_id="c1"
        )
    finally:
        await adapter.close()
    assert order.id == "296683658818" and order.symbol == "HYPE/USDC:USDC"
    assert order.side is Side.SELL and order.client_order_id == "c1"
    assert set(order.from_request) == {"symbol", "side", "type", "client_order_id"}
    assert order.filled == 1 and "amount" not in order.from_request


async def test_rule1_a_reply_without_an_order_id_stays_unknown() -> None:
    from exsdk.errors import OrderOutcomeUnknown

    ack = {**static("hyperliquid", "createOrder"), "id": None}
    adapter = _adapter({"create_order": ack})
    try:
        with pytest.raises(OrderOutcomeUnknown, match="id=None"):
            await adapter.create_order(
                "HYPE/USDC:USDC", "market", Side.SELL, Decimal(1), client_order_id="c1"
            )
    finally:
        await adapter.close()


# ----- 2. fee {"cost": null, "currency": null} -----------------------------------------------


def test_rule2_unknown_fee_is_none_in_fee_and_left_out_of_fees() -> None:
    (trade,) = static("kucoin", "fetchTrades")
    assert trade["fee"] == {"cost": None, "currency": None}
    model = CcxtTrade.from_ccxt({**trade, "fees": [trade["fee"], {"cost": "0.1"}]})
    assert model.fee is None
    assert model.fees == [Fee(cost=Decimal("0.1"))]  # same rule inside fees
    order = CcxtOrder.from_ccxt(static("cryptocom", "editOrder"))
    assert order.fee is None and order.fees == []


# ----- 3. a stub trade inside an order ---------------------------------------------------------


def test_rule3_stub_trade_does_not_sink_the_order() -> None:
    raw = static("kraken", "fetchOrder", "closed market order")
    order = CcxtOrder.from_ccxt(raw)
    assert (order.price, order.filled) == (Decimal("71.05741"), Decimal("0.1"))
    assert order.fee == Fee(cost=Decimal("0.018475"), currency="USDT")
    assert order.trades == [] and order.trade_ids == ("TWA6QJ-ZO4EM-6QIHQJ",)
    # a standalone trade without a price is still nothing to fold into a fill
    with pytest.raises(MalformedPayload, match="price=None"):
        CcxtTrade.from_ccxt(raw["trades"][0])


# ----- 4. info that is not a dict --------------------------------------------------------------


def test_rule4_info_of_any_shape_is_kept() -> None:
    (trade,) = static("kraken", "fetchTrades")
    assert isinstance(trade["info"], list)
    model = CcxtTrade.from_ccxt(trade)
    assert model.info == trade["info"]
    assert Balances.from_ccxt({"info": [{"asset": "USDT"}], "free": {}, "used": {}, "total": {}})
    assert CcxtOrder.from_ccxt({"id": "1", "info": "raw text"}).info == "raw text"


# ----- 5. a trade without an id ----------------------------------------------------------------


def test_rule5_trade_without_id_gets_a_derived_deterministic_id() -> None:
    (trade,) = static("kucoin", "fetchTrades")
    assert trade["id"] is None
    first, again = CcxtTrade.from_ccxt(trade), CcxtTrade.from_ccxt(copy.deepcopy(trade))
    assert first.id == again.id == derived_trade_id(trade) and first.id.startswith("sdk-")
    assert (
        first.id_derived
        and not CcxtTrade.from_ccxt(static("kucoin", "fetchMyTrades")[0]).id_derived
    )
    other = CcxtTrade.from_ccxt({**trade, "info": {**trade["info"], "sequence": "2"}})
    assert other.id != first.id
    assert CcxtTrade.from_ccxt(first.to_ccxt()) == first  # stable through the journal


def test_rule5_an_empty_id_is_no_id() -> None:
    assert CcxtTrade.from_ccxt({"id": "", "price": 1, "amount": 1}).id_derived
    with pytest.raises(MalformedPayload, match="id=''"):
        CcxtOrder.from_ccxt({"id": ""})  # an order nobody can look up or cancel


async def test_rule5_fills_without_ids_reach_the_fill_fold() -> None:
    fill = {**static("kucoin", "fetchMyTrades")[0], "id": None}
    adapter = _adapter({"fetch_my_trades": [fill]})
    try:
        (trade,) = await adapter.fetch_order_trades("LTC/USDT", order_id=fill["order"])
    finally:
        await adapter.close()
    assert trade.id_derived and trade.order == "65560a018b40f60007d5fe93"


# ----- 6. kucoin's isolated margin balance ------------------------------------------------------


def test_rule6_nested_isolated_balance_is_read_not_emptied() -> None:
    balances = Balances.from_ccxt(static("kucoin", "fetchBalance", "isolated balance"))
    assert balances.by_currency == {}
    usdt = balances.accounts["LTC/USDT"].by_currency["USDT"]
    assert (usdt.free, usdt.used, usdt.total, usdt.debt) == (5, 0, 5, 0)


def test_rule6_a_shape_not_understood_is_an_error() -> None:
    with pytest.raises(MalformedPayload, match="weird"):
        Balances.from_ccxt({"info": {}, "weird": [1, 2]})
    with pytest.raises(MalformedPayload, match="free"):
        Balances.from_ccxt({"free": [5]})
    with pytest.raises(MalformedPayload, match="expected a dict"):
        Balances.from_ccxt(["USDT", 5])


# ----- 7. the smaller ones -----------------------------------------------------------------


@pytest.mark.parametrize("stamp", [-1, 0, "0"])
def test_rule7_non_positive_timestamps_are_unknown(stamp: Any) -> None:
    order = CcxtOrder.from_ccxt({"id": "1", "timestamp": stamp, "lastTradeTimestamp": stamp})
    assert order.timestamp is None and order.last_trade_timestamp is None
    assert (
        CcxtTrade.from_ccxt({"id": "1", "price": 1, "amount": 1, "timestamp": -1}).timestamp is None
    )


@pytest.mark.parametrize(
    ("status", "is_open"),
    [
        ("open", True),
        (None, True),
        ("partially_filled", True),
        ("new", True),
        ("closed", False),
        ("canceled", False),
        ("CANCELLED", False),
        ("expired", False),
        ("rejected", False),
        ("filled", False),
    ],
)
def test_rule7_is_open_means_not_known_to_be_closed(status: str | None, is_open: bool) -> None:
    order = CcxtOrder.from_ccxt({"id": "1", "status": status})
    assert order.is_open is is_open
    if status == "partially_filled":
        assert order.status == "partially_filled"  # kept as the venue said it
    if status == "CANCELLED":
        assert order.status == "CANCELLED"


@pytest.mark.parametrize(
    ("raw", "side"), [("BUY", Side.BUY), ("Sell", Side.SELL), (" buy ", Side.BUY)]
)
def test_rule7_side_is_normalised(raw: str, side: Side) -> None:
    assert CcxtOrder.from_ccxt({"id": "1", "side": raw}).side is side
    assert CcxtTrade.from_ccxt({"id": "1", "price": 1, "amount": 1, "side": raw}).side is side
    assert CcxtOrder.from_ccxt({"id": "1", "status": "OPEN"}).status is OrderStatus.OPEN


def test_rule7_integer_client_order_id_is_text() -> None:
    order = CcxtOrder.from_ccxt({"id": 5, "clientOrderId": 1749672833590})
    assert (order.id, order.client_order_id) == ("5", "1749672833590")


def test_rule7_info_is_frozen_all_the_way_down() -> None:
    raw = static("coinbase", "fetchClosedOrders")[0]
    order = CcxtOrder.from_ccxt(raw)
    with pytest.raises(TypeError):
        order.info["status"] = "OPEN"
    with pytest.raises(TypeError):
        order.info["order_configuration"]["market_market_ioc"]["base_size"] = "11"
    with pytest.raises(TypeError):
        order.info["edit_history"].append({})
    with pytest.raises(TypeError):
        order.info.update({})
    assert order.info == raw["info"]
    raw["info"]["status"] = "changed"  # the caller's dict is not the model's
    assert order.info["status"] == "FILLED"
    # still plain JSON, and a plain mutable copy on the way out
    assert json.loads(json.dumps(order.info))["status"] == "FILLED"
    unified = order.to_ccxt()
    unified["info"]["status"] = "x"
    assert order.info["status"] == "FILLED"
    assert copy.deepcopy(order) == order and pickle.loads(pickle.dumps(order)) == order
    assert order.model_dump(mode="json")["info"]["status"] == "FILLED"


def test_rule7_null_free_or_used_stays_unknown() -> None:
    balances = Balances.from_ccxt(
        {"free": {"USDT": None, "BTC": 1}, "used": {"USDT": None}, "total": {"USDT": 5}}
    )
    usdt = balances.by_currency["USDT"]
    assert (usdt.free, usdt.used, usdt.total) == (None, None, Decimal(5))
    assert balances.total("USDT") == 5
    btc = balances.by_currency["BTC"]
    assert (btc.free, btc.used, btc.total) == (Decimal(1), None, None)
    with pytest.raises(MalformedPayload, match="total balance of BTC"):
        balances.total("BTC")  # unknown is not zero
    derived = Balances.from_ccxt({"free": {"X": 1}, "used": {"X": 2}, "total": {"X": None}})
    assert derived.total("X") == 3


def test_rule7_bid_ask_with_a_null_bid_raises_an_sdk_error_on_one_line() -> None:
    with pytest.raises(SdkError) as info:
        BidAsk(symbol="X/Y", bid=None, ask=Decimal(1))  # type: ignore[arg-type]
    assert isinstance(info.value, VenueRejected) and isinstance(info.value, MalformedPayload)
    assert "bid=None" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(MalformedPayload, match="no bid"):
        OrderBook.from_ccxt({"symbol": "X/Y", "bids": [], "asks": [[1, 1]]}).bid_ask()
    with pytest.raises(MalformedPayload, match="bid=None"):
        Ticker.from_ccxt({"symbol": "X/Y", "bid": None, "ask": 2}).bid_ask()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Balance(currency="X", free="abc"),
        lambda: Position(symbol=None),
        lambda: CcxtTrade(id="1", price="NaN", amount=1),
        lambda: CcxtOrder(id=None),
        lambda: Fee(cost=None),
        lambda: OrderBook.from_ccxt({"bids": [["x", 1]]}),
    ],
)
def test_rule7_every_public_model_constructor_raises_only_sdk_errors(build: Any) -> None:
    with pytest.raises(SdkError) as info:
        build()
    message = str(info.value)
    assert "\n" not in message and "=" in message, message


async def test_rule7_adapter_book_without_a_bid_is_one_line() -> None:
    adapter = _adapter({"fetch_order_book": {"symbol": "X/Y", "bids": [], "asks": [[1, 1]]}})
    try:
        # A read whose reply is not well-formed is retried (issue 13), not final.
        with pytest.raises(TransientVenueError) as info:
            await adapter.best_bid_ask("X/Y")
    finally:
        await adapter.close()
    assert "no bid" in str(info.value) and "\n" not in str(info.value)


# ----- exactness ---------------------------------------------------------------------------


def test_values_are_exact_decimals_of_their_text() -> None:
    order = CcxtOrder.from_ccxt(static("kraken", "fetchOrder", "fetch spot limit order"))
    assert order.fee is not None and str(order.fee.cost) == "0.000000"  # from ccxt's string
    trade = CcxtTrade.from_ccxt(
        {"id": "1", "price": "0.123456789012345678901", "amount": 0.1, "cost": 1e-8}
    )
    assert str(trade.price) == "0.123456789012345678901"
    assert (trade.amount, trade.cost) == (Decimal("0.1"), Decimal("1E-8"))


def test_values_survive_the_journal_round_trip_exactly() -> None:
    # to_ccxt() is what the journal stores (as JSON) and reads back with from_ccxt().
    trade = CcxtTrade.from_ccxt(
        {
            "id": "1",
            "price": "12345678.123456789012",
            "amount": "0.1",
            "fee": {"cost": "0.000000000000000000123", "currency": "USDT"},
        }
    )
    unified = trade.to_ccxt()
    assert unified["amount"] == 0.1  # a float where a float holds the value
    assert unified["price"] == "12345678.123456789012"  # the exact text where it does not
    back = CcxtTrade.from_ccxt(json.loads(json.dumps(unified)))
    assert back == trade and back.fee is not None
    assert back.fee.cost == Decimal("0.000000000000000000123")
