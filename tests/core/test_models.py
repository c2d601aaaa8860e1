"""The ccxt-side models against what real ccxt parses out of real Binance bodies (offline)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_trade import test_trade as check_trade
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from exsdk.errors import VenueRejected
from exsdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    Fee,
    MarketLimits,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TakerOrMaker,
    Ticker,
)

from .helpers import futures_exchange, load_sample, spot_exchange

# ccxt's validators compare currencies against loaded currencies, which offline we lack.
SKIP = {"currency": True}

FUTURES_ORDERS = [
    "futures_new_order_doc.json",
    "futures_new_order_result_real_btcusdt_limit_new.json",
    "futures_new_order_result_real_maticusdt_market_filled.json",
    "futures_open_order_real_ltcusdt_gtx.json",
    "futures_query_order_doc.json",
    "futures_cancel_order_doc.json",
]
SPOT_ORDERS = [
    "spot_new_order_full_doc.json",
    "spot_new_order_result_doc.json",
    "spot_new_order_full_real_solusdt_limit_iceberg.json",
    "spot_query_order_doc.json",
    "spot_cancel_order_doc.json",
    "spot_cancel_order_real_ltcusdt.json",
]
LIST_ORDERS = [
    ("spot", "spot_open_orders_real_ltcusdt.json"),
    ("spot", "spot_all_orders_real_ltcusdt_canceled.json"),
    ("spot", "spot_open_orders_doc.json"),
    ("spot", "spot_all_orders_doc.json"),
    ("futures", "futures_open_orders_doc.json"),
    ("futures", "futures_all_orders_doc.json"),
]
TRADES = [
    ("futures", "futures_user_trades_real_btcusdt.json"),
    ("futures", "futures_user_trades_doc.json"),
    ("spot", "spot_my_trades_real_ltcusdt.json"),
    ("spot", "spot_my_trades_doc.json"),
]


@pytest.fixture(scope="module")
def exchanges() -> dict[str, Any]:
    return {
        "futures": futures_exchange("futures_exchange_info_2025-11_selected.json"),
        "spot": spot_exchange("spot_exchange_info_2024-09_selected.json"),
    }


def _order_cases() -> list[tuple[str, str, int | None]]:
    cases: list[tuple[str, str, int | None]] = [("futures", f, None) for f in FUTURES_ORDERS]
    cases += [("spot", f, None) for f in SPOT_ORDERS]
    cases += [(kind, f, 0) for kind, f in LIST_ORDERS]
    return cases


def _assert_decimals(model: Any, names: list[str]) -> None:
    for name in names:
        value = getattr(model, name)
        assert value is None or isinstance(value, Decimal), name


@pytest.mark.parametrize(("kind", "name", "index"), _order_cases())
def test_order_from_real_bodies(
    exchanges: dict[str, Any], kind: str, name: str, index: int | None
) -> None:
    exchange = exchanges[kind]
    body = load_sample(name)
    raw = body[index] if index is not None else body
    parsed = exchange.parse_order(raw)
    order = CcxtOrder.from_ccxt(parsed)
    assert order.id == str(raw["orderId"])
    assert order.client_order_id == parsed["clientOrderId"]
    assert order.info == raw  # the raw venue payload is kept as it was
    assert order.side in (Side.BUY, Side.SELL) and isinstance(order.side, Side)
    assert order.status in set(OrderStatus)
    _assert_decimals(order, ["amount", "filled", "remaining", "price", "average", "cost"])
    assert order.amount == Decimal(raw["origQty"])
    assert order.filled == Decimal(raw["executedQty"])
    assert order.timestamp is not None and order.timestamp.tzinfo is not None
    assert order.timestamp == datetime.fromtimestamp(parsed["timestamp"] / 1000, UTC)
    for trade in order.trades:
        assert isinstance(trade.price, Decimal) and trade.fee is not None

    unified = order.to_ccxt()
    skip = dict(SKIP)
    if order.time_in_force == "GTD":
        # Binance's good-till-date; ccxt passes it through but its validator predates it.
        skip["timeInForce"] = True
    check_order(exchange, skip, "createOrder", unified, order.symbol, None)
    assert CcxtOrder.from_ccxt(unified) == order


def test_market_order_with_fills(exchanges: dict[str, Any]) -> None:
    order = CcxtOrder.from_ccxt(
        exchanges["spot"].parse_order(load_sample("spot_new_order_full_doc.json"))
    )
    assert order.type is OrderType.MARKET and order.status is OrderStatus.CLOSED
    assert not order.is_open
    assert len(order.trades) == 5
    assert sum((t.amount for t in order.trades), Decimal(0)) == order.filled == Decimal(10)
    assert {t.fee.currency for t in order.trades if t.fee} == {"USDT"}


def test_futures_market_order_filled(exchanges: dict[str, Any]) -> None:
    raw = load_sample("futures_new_order_result_real_maticusdt_market_filled.json")
    order = CcxtOrder.from_ccxt(exchanges["futures"].parse_order(raw))
    assert order.average == Decimal(raw["avgPrice"])
    assert order.filled == order.amount == Decimal(811)
    assert order.status is OrderStatus.CLOSED


@pytest.mark.parametrize(("kind", "name"), TRADES)
def test_trade_from_real_bodies(exchanges: dict[str, Any], kind: str, name: str) -> None:
    exchange = exchanges[kind]
    (raw,) = load_sample(name)
    parsed = exchange.parse_trade(raw)
    trade = CcxtTrade.from_ccxt(parsed)
    assert trade.info == raw
    assert trade.id == str(raw["id"]) and trade.order == str(raw["orderId"])
    assert trade.price == Decimal(raw["price"]) and trade.amount == Decimal(raw["qty"])
    assert trade.fee is not None and trade.fee.cost == Decimal(raw["commission"])
    assert trade.all_fees() == [trade.fee]
    assert isinstance(trade.taker_or_maker, TakerOrMaker)
    assert trade.timestamp is not None and trade.timestamp.tzinfo is UTC

    unified = trade.to_ccxt()
    check_trade(exchange, SKIP, "fetchMyTrades", unified, trade.symbol, None, False)
    assert CcxtTrade.from_ccxt(unified) == trade


def test_position_from_real_bodies(exchanges: dict[str, Any]) -> None:
    exchange = exchanges["futures"]
    (raw,) = load_sample("futures_position_risk_v3_real_btcusdt.json")
    position = Position.from_ccxt(exchange.parse_position_risk(raw))
    assert position.symbol == "BTC/USDT:USDT"
    assert position.amount == Decimal("0.009") and position.side == "long"
    assert position.entry_price == Decimal("67445.9")
    assert position.timestamp is not None and position.timestamp.tzinfo is not None
    assert position.info == raw
    account = load_sample("futures_account_v3_real_with_position.json")
    (from_account,) = (Position.from_ccxt(p) for p in exchange.parse_account_positions(account))
    assert from_account.amount == position.amount


def test_short_position_amount_is_negative() -> None:
    short = Position.from_ccxt(
        {"symbol": "X/USDT:USDT", "side": "short", "contracts": 2, "contractSize": "0.5"}
    )
    assert short.amount == Decimal(-1)


def test_balances_from_real_bodies(exchanges: dict[str, Any]) -> None:
    spot = Balances.from_ccxt(
        exchanges["spot"].parse_balance_custom(load_sample("spot_account_real.json"), "spot")
    )
    assert spot.total("LTC") == Decimal("0.919741") and spot.total("XRP") == 0
    assert all(isinstance(b.free, Decimal) for b in spot.by_currency.values())
    futures = Balances.from_ccxt(
        exchanges["futures"].parse_balance_custom(
            load_sample("futures_account_v3_real_with_position.json"), "linear"
        )
    )
    assert futures.by_currency["USDT"].used == Decimal("7.59444356")
    assert futures.info["totalInitialMargin"] == "7.59482199"


def test_market_limits_from_ccxt(exchanges: dict[str, Any]) -> None:
    limits = MarketLimits.from_ccxt(exchanges["futures"].markets["BTC/USDT:USDT"])
    assert (limits.amount_step, limits.price_tick) == (Decimal("0.001"), Decimal("0.1"))
    assert limits.cost_min == Decimal(100) and limits.market_id == "BTCUSDT"
    assert limits.contract and limits.settle == "USDT" and limits.contract_size == 1
    with pytest.raises(VenueRejected, match="malformed market"):
        MarketLimits.from_ccxt({"symbol": "X/Y"})


def test_bid_ask() -> None:
    book = BidAsk(symbol="X/Y", bid=Decimal("1.0"), ask=Decimal("1.2"))
    assert book.mid == Decimal("1.1") and not book.is_crossed
    assert BidAsk(symbol="X/Y", bid=Decimal(2), ask=Decimal(2)).is_crossed


# --- strictness and leniency ------------------------------------------------------------

_ORDER = {
    "id": 1,
    "symbol": "BTC/USDT",
    "side": "buy",
    "amount": "1",
    "timestamp": 1_700_000_000_000,
}


def test_an_order_without_id_is_rejected_naming_the_field() -> None:
    data = {k: v for k, v in _ORDER.items() if k != "id"}
    with pytest.raises(VenueRejected, match="malformed CcxtOrder from the venue: id: missing"):
        CcxtOrder.from_ccxt(data)


@pytest.mark.parametrize("missing", ["symbol", "side"])
def test_an_order_without_symbol_or_side_is_kept_with_them_unknown(missing: str) -> None:
    data = {k: v for k, v in _ORDER.items() if k != missing}
    assert getattr(CcxtOrder.from_ccxt(data), missing) is None


def test_ack_response_without_side_is_an_order_filled_from_the_request(
    exchanges: dict[str, Any],
) -> None:
    # ACK replies carry only ids; the SDK never asks for them (ccxt sends FULL / RESULT),
    # but one is still the order the SDK placed.
    parsed = exchanges["spot"].parse_order(load_sample("spot_new_order_ack_doc.json"))
    assert CcxtOrder.from_ccxt(parsed).side is None
    request = OrderRequest(symbol="BTC/USDT", side=Side.BUY, type="limit", amount=Decimal(1))
    order = CcxtOrder.from_ccxt(parsed, request)
    assert order.side is Side.BUY and "side" in order.from_request
    assert order.id == str(load_sample("spot_new_order_ack_doc.json")["orderId"])


@pytest.mark.parametrize("missing", ["price", "amount"])
def test_missing_required_trade_field(missing: str) -> None:
    data = {"id": "1", "price": "2", "amount": "3"}
    del data[missing]
    with pytest.raises(VenueRejected, match=f"{missing}: missing"):
        CcxtTrade.from_ccxt(data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "NaN"),
        ("amount", float("inf")),
        ("amount", True),
        ("amount", "abc"),
        ("timestamp", 10**30),
    ],
)
def test_bad_values_are_venue_rejected(field: str, value: Any) -> None:
    with pytest.raises(VenueRejected):
        CcxtOrder.from_ccxt({**_ORDER, field: value})


def test_unseen_enum_values_are_kept_as_text() -> None:
    order = CcxtOrder.from_ccxt(
        {**_ORDER, "status": "partially_filled", "type": "stop_market", "side": "short"}
    )
    assert order.status == "partially_filled" and not isinstance(order.status, OrderStatus)
    assert order.type == "stop_market" and order.side == "short"
    trade = CcxtTrade.from_ccxt({"id": "1", "price": 1, "amount": 1, "takerOrMaker": "hybrid"})
    assert trade.taker_or_maker == "hybrid"


def test_floats_become_exact_decimals() -> None:
    order = CcxtOrder.from_ccxt({**_ORDER, "amount": 0.1, "price": 36567.1})
    assert order.amount == Decimal("0.1") and order.price == Decimal("36567.1")


def test_models_are_frozen() -> None:
    order = CcxtOrder.from_ccxt(_ORDER)
    with pytest.raises(ValidationError):
        order.amount = Decimal(2)  # type: ignore[misc]
    fee = Fee.from_ccxt({"cost": "0.1", "currency": "BNB"})
    with pytest.raises(ValidationError):
        fee.cost = Decimal(0)  # type: ignore[misc]


def test_fees_without_cost_are_dropped() -> None:
    trade = CcxtTrade.from_ccxt(
        {
            "id": "1",
            "price": 1,
            "amount": 1,
            "fees": [{"cost": None, "currency": "BNB"}, {"cost": "0.1"}],
        }
    )
    assert trade.fees == [Fee(cost=Decimal("0.1"))]


# --- fuzz ------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["buy", "sell", "open", "1.5", "NaN", "-1", "1e400", "market"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["cost", "currency", "rate", "min", "max", "x"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)
_keys = st.sampled_from(
    [
        "id", "symbol", "side", "status", "type", "amount", "filled", "price", "timestamp",
        "fee", "fees", "trades", "info", "order", "contracts", "contractSize", "total", "free",
        "used", "limits", "precision", "base", "quote", "takerOrMaker", "lastTradeTimestamp",
    ]
)  # fmt: skip
_payloads = st.one_of(
    st.dictionaries(_keys, _values, max_size=12),
    _values,
    st.fixed_dictionaries(
        {"id": _values, "symbol": _values, "side": _values, "price": _values, "amount": _values}
    ),
)


@settings(max_examples=400, deadline=None)
@given(_payloads)
def test_arbitrary_payloads_raise_only_venue_rejected(data: Any) -> None:
    for build in (
        CcxtOrder.from_ccxt,
        CcxtTrade.from_ccxt,
        Fee.from_ccxt,
        Position.from_ccxt,
        MarketLimits.from_ccxt,
        Balances.from_ccxt,
        OrderBook.from_ccxt,
        Ticker.from_ccxt,
    ):
        with contextlib.suppress(VenueRejected):
            build(data)


def test_the_payload_and_timestamp_serializers_are_pydantics_plain_serializer() -> None:
    # Issue 18 goal 3b: RawPayload and Timestamp carry exsdk.models.base.SerializedBy, not
    # pydantic's PlainSerializer (whose module costs 8 M instructions to import); the two
    # must give the same core schema, so the same dumps and JSON schemas.
    from typing import Annotated

    from pydantic import BaseModel, BeforeValidator, PlainSerializer

    from exsdk.models import base

    class Ours(BaseModel):
        at: base.Timestamp = None
        info: base.RawPayload = None

    class Pydantics(BaseModel):
        at: Annotated[
            datetime | None,
            BeforeValidator(base._ms_to_datetime),
            PlainSerializer(base._to_ms, return_type=int | None, when_used="json"),
        ] = None
        info: Annotated[
            Any,
            BeforeValidator(base.deep_freeze),
            PlainSerializer(base.thaw, when_used="always"),
        ] = None

    ours, theirs = Ours.__pydantic_core_schema__, Pydantics.__pydantic_core_schema__
    assert ours["schema"]["fields"] == theirs["schema"]["fields"]
    for mode in ("validation", "serialization"):
        assert (
            Ours.model_json_schema(mode=mode)["properties"]
            == Pydantics.model_json_schema(mode=mode)["properties"]
        )
    values = {"at": 1_700_000_000_123, "info": {"a": [1, {"b": None}]}}
    for model in (Ours, Pydantics):
        made = model.model_validate(values)
        assert made.model_dump() == {
            "at": datetime.fromtimestamp(1_700_000_000.123, UTC),
            "info": {"a": [1, {"b": None}]},
        }
        assert made.model_dump_json() == '{"at":1700000000123,"info":{"a":[1,{"b":null}]}}'
