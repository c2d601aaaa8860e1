"""Every served endpoint's field set and JSON types equal the newest real body in
tests/samples (a Binance doc example where no real one was recorded) and, where there is
one, the official SDK's strict model (binance-sdk-spot, binance-sdk-derivatives-...)."""

from __future__ import annotations

from typing import Any

import pytest
from binance_sdk_derivatives_trading_usds_futures.rest_api import models as fm
from binance_sdk_spot.rest_api import models as sm

from exsdk.simulator import SimulatedBinance
from exsdk.simulator.routes import build_routes

from .conftest import Raw, assert_same_shape, real, sample

TRAILING = frozenset({"activatePrice", "priceRate"})  # only on TRAILING_STOP_MARKET orders

# Served paths with no recorded body and no doc sample: what they are checked against.
MODEL_ONLY = {
    ("GET", "/fapi/v1/ticker/24hr"): "SDK model Ticker24hrPriceChangeStatisticsResponse1",
    ("GET", "/fapi/v1/premiumIndex"): "SDK model MarkPriceResponse1",
    ("GET", "/fapi/v1/leverageBracket"): "SDK model NotionalAndLeverageBracketsResponse1",
}
# Load-markets plumbing ccxt calls, answered with the empty values a fresh account has.
PLUMBING = frozenset(
    {
        ("GET", "/api/v3/ping"),
        ("GET", "/fapi/v1/ping"),
        ("GET", "/sapi/v1/capital/config/getall"),
        ("GET", "/sapi/v1/margin/allPairs"),
        ("GET", "/sapi/v1/margin/isolated/allPairs"),
        ("GET", "/dapi/v1/exchangeInfo"),
    }
)


def strict(model: Any, body: Any) -> None:
    """Validate with the SDK's strict pydantic model (StrictInt/StrictStr)."""
    if isinstance(body, list):
        inner = model.__mro__[1] if model.is_array() else model
        for item in body:
            inner.model_validate(item)
    else:
        model.model_validate(body)


class Checker:
    """Calls endpoints and compares their bodies; remembers which routes it covered."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.covered: set[tuple[str, str]] = set()

    async def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        signed: bool = True,
        expected: Any = None,
        model: Any = None,
        ignore: frozenset[str] = frozenset(),
    ) -> Any:
        status, body, _ = await self.raw.call(method, path, params, signed=signed)
        assert status == 200, (path, body)
        if expected is not None:
            assert_same_shape(body, expected, f"{method} {path}", ignore)
        if model is not None:
            strict(model, body)
        assert expected is not None or model is not None
        self.covered.add((method, path))
        return body

    def assert_covers(self, market_prefix: str) -> None:
        served = {
            key
            for key in build_routes()
            if key[1].startswith(market_prefix) and key not in PLUMBING
        }
        assert served - self.covered == set(), "served but never compared"


async def test_spot_bodies(raw: Raw, venue: SimulatedBinance) -> None:
    c = Checker(raw)
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
    full = await c.call(
        "POST",
        "/api/v3/order",
        {**base, "newOrderRespType": "FULL"},
        # icebergQty appears only on iceberg orders (the recorded one was).
        expected=real("spot_new_order_full_real_solusdt_limit_iceberg.json"),
        model=sm.NewOrderResponse,
        ignore=frozenset({"icebergQty"}),
    )
    assert len(full["fills"]) >= 2
    assert_same_shape(full, sample("spot_new_order_full_doc.json"))
    for resp_type, name in (
        ("RESULT", "spot_new_order_result_doc.json"),
        ("ACK", "spot_new_order_ack_doc.json"),
    ):
        status, body, _ = await raw.call(
            "POST", "/api/v3/order", {**base, "newOrderRespType": resp_type}
        )
        assert status == 200
        assert_same_shape(body, sample(name))
        strict(sm.NewOrderResponse, body)
    limit = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "50000",
        "timeInForce": "GTC",
    }
    status, placed, _ = await raw.call("POST", "/api/v3/order", limit)
    assert status == 200 and placed["status"] == "NEW", placed
    by_id = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    await c.call(
        "GET",
        "/api/v3/order",
        by_id,
        expected=sample("spot_query_order_doc.json"),
        model=sm.GetOrderResponse,
    )
    await c.call(
        "GET",
        "/api/v3/openOrders",
        {"symbol": "BTCUSDT"},
        expected=real("spot_open_orders_real_ltcusdt.json"),
        model=sm.GetOpenOrdersResponse,
    )
    cancel = await c.call(
        "DELETE",
        "/api/v3/order",
        by_id,
        expected=real("spot_cancel_order_real_ltcusdt.json"),
        model=sm.DeleteOrderResponse,
    )
    assert cancel["status"] == "CANCELED" and "origQuoteOrderQty" not in cancel
    orders = await c.call(
        "GET",
        "/api/v3/allOrders",
        {"symbol": "BTCUSDT"},
        expected=real("spot_all_orders_real_ltcusdt_canceled.json"),
        model=sm.AllOrdersResponse,
    )
    assert len(orders) == 4
    trades = await c.call(
        "GET",
        "/api/v3/myTrades",
        {"symbol": "BTCUSDT"},
        expected=real("spot_my_trades_real_ltcusdt.json"),
        model=sm.MyTradesResponse,
    )
    assert len(trades) >= 4
    await c.call(
        "GET",
        "/api/v3/account",
        expected=real("spot_account_real.json"),
        model=sm.GetAccountResponse,
    )
    depth = await c.call(
        "GET",
        "/api/v3/depth",
        {"symbol": "BTCUSDT", "limit": 5},
        signed=False,
        expected=real("spot_order_book_real_btcusdt_limit2.json"),
        model=sm.DepthResponse,
    )
    assert len(depth["bids"]) == 5 and float(depth["bids"][0][0]) < float(depth["asks"][0][0])
    await c.call(
        "GET",
        "/api/v3/ticker/bookTicker",
        {"symbol": "ETHUSDT"},
        signed=False,
        expected=sample("spot_book_ticker_doc.json"),
        model=sm.TickerBookTickerResponse1,
    )
    await c.call(
        "GET",
        "/api/v3/ticker/24hr",
        {"symbol": "BTCUSDT"},
        signed=False,
        expected=real("spot_ticker_24hr_real_btcusdt.json"),
        model=sm.Ticker24hrResponse1,
    )
    await c.call(
        "GET",
        "/api/v3/ticker/price",
        {"symbol": "BTCUSDT"},
        signed=False,
        expected=sample("spot_ticker_price_doc.json"),
        model=sm.TickerPriceResponse1,
    )
    venue.admin.tick(3)
    rows = await c.call(
        "GET",
        "/api/v3/klines",
        {"symbol": "BTCUSDT", "interval": "1m", "limit": 3},
        signed=False,
        expected=sample("spot_klines_doc.json"),
    )
    assert 1 <= len(rows) <= 3
    await c.call(
        "GET",
        "/api/v3/avgPrice",
        {"symbol": "BTCUSDT"},
        signed=False,
        expected=sample("spot_avg_price_doc.json"),
        model=sm.AvgPriceResponse,
    )
    await c.call(
        "GET",
        "/api/v3/time",
        signed=False,
        expected=sample("futures_server_time_doc.json"),
        model=sm.TimeResponse,
    )
    snap = real("spot_exchange_info_2024-09_selected.json")
    info = await c.call("GET", "/api/v3/exchangeInfo", signed=False, model=sm.ExchangeInfoResponse)
    # The real body itself, served with the time of now.
    assert info == {**snap, "serverTime": info["serverTime"]}
    assert info["serverTime"] > snap["serverTime"]
    c.assert_covers("/api/")


async def test_futures_bodies(raw: Raw) -> None:
    c = Checker(raw)
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    result = await c.call(
        "POST",
        "/fapi/v1/order",
        {**market, "newOrderRespType": "RESULT"},
        expected=real("futures_new_order_result_real_btcusdt_limit_new.json"),
        model=fm.NewOrderResponse,
    )
    assert result["status"] == "FILLED" and "time" not in result
    # The 2021 MARKET body predates priceMatch, selfTradePreventionMode and goodTillDate.
    assert_same_shape(
        result,
        real("futures_new_order_result_real_maticusdt_market_filled.json"),
        ignore=frozenset({"priceMatch", "selfTradePreventionMode", "goodTillDate"}),
    )
    status, ack, _ = await raw.call("POST", "/fapi/v1/order", market)
    assert status == 200 and ack["status"] == "NEW", ack
    assert_same_shape(ack, real("futures_new_order_result_real_btcusdt_limit_new.json"))
    strict(fm.NewOrderResponse, ack)
    lim = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "58000",
        "timeInForce": "GTC",
    }
    status, placed, _ = await raw.call("POST", "/fapi/v1/order", lim)
    assert status == 200 and placed["status"] == "NEW", placed
    by_id = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    newest_open = real("futures_open_order_real_ltcusdt_gtx.json")
    query = await c.call(
        "GET", "/fapi/v1/order", by_id, expected=newest_open, model=fm.QueryOrderResponse
    )
    assert_same_shape(query, sample("futures_query_order_doc.json"), ignore=TRAILING)
    await c.call(
        "GET",
        "/fapi/v1/openOrder",
        by_id,
        expected=newest_open,
        model=fm.QueryCurrentOpenOrderResponse,
    )
    await c.call(
        "GET",
        "/fapi/v1/openOrders",
        {"symbol": "BTCUSDT"},
        expected=sample("futures_open_orders_doc.json"),
        model=fm.CurrentAllOpenOrdersResponse,
        ignore=TRAILING,
    )
    cancel = await c.call(
        "DELETE",
        "/fapi/v1/order",
        by_id,
        expected=sample("futures_cancel_order_doc.json"),
        model=fm.CancelOrderResponse,
        ignore=TRAILING | {"avgPrice", "cumQuote"},
    )
    assert cancel["status"] == "CANCELED"
    status, gone, _ = await raw.call("GET", "/fapi/v1/openOrder", by_id)
    assert (status, gone["code"]) == (400, -2013)
    await c.call(
        "GET",
        "/fapi/v1/allOrders",
        {"symbol": "BTCUSDT"},
        expected=sample("futures_all_orders_doc.json"),
        model=fm.AllOrdersResponse,
        ignore=TRAILING | {"cumBase", "pair"},
    )
    trades = await c.call(
        "GET",
        "/fapi/v1/userTrades",
        {"symbol": "BTCUSDT"},
        expected=real("futures_user_trades_real_btcusdt.json"),
        model=fm.AccountTradeListResponse,
    )
    assert len(trades) >= 1
    account3 = await c.call(
        "GET",
        "/fapi/v3/account",
        expected=real("futures_account_v3_real_with_position.json"),
        model=fm.AccountInformationV3Response,
    )
    assert len(account3["positions"]) == 1
    account2 = await c.call(
        "GET",
        "/fapi/v2/account",
        expected=real("futures_account_v2_real_no_positions.json"),
        model=fm.AccountInformationV2Response,
    )
    assert "feeBurn" not in account2
    # The recorded v2 account had no positions; the rows follow the doc example.
    assert_same_shape(account2["positions"], sample("futures_account_v2_doc.json")["positions"])
    for version in ("v2", "v3"):
        await c.call(
            "GET",
            f"/fapi/{version}/balance",
            expected=sample(f"futures_balance_{version}_doc.json"),
            model=fm.FuturesAccountBalanceV2Response
            if version == "v2"
            else fm.FuturesAccountBalanceV3Response,
        )
    risk3 = await c.call(
        "GET",
        "/fapi/v3/positionRisk",
        expected=real("futures_position_risk_v3_real_btcusdt.json"),
        model=fm.PositionInformationV3Response,
    )
    assert [p["symbol"] for p in risk3] == ["BTCUSDT"] and risk3[0]["positionAmt"] == "0.020"
    await c.call(
        "GET",
        "/fapi/v2/positionRisk",
        {"symbol": "BTCUSDT"},
        expected=sample("futures_position_risk_v2_doc.json"),
        model=fm.PositionInformationV2Response,
    )
    leverage = await c.call(
        "POST",
        "/fapi/v1/leverage",
        {"symbol": "BTCUSDT", "leverage": 21},
        expected=sample("futures_set_leverage_doc.json"),
        model=fm.ChangeInitialLeverageResponse,
    )
    assert leverage["leverage"] == 21
    await c.call(
        "POST",
        "/fapi/v1/marginType",
        {"symbol": "BTCUSDT", "marginType": "ISOLATED"},
        expected=sample("futures_margin_type_doc.json"),
        model=fm.ChangeMarginTypeResponse,
    )
    await c.call(
        "GET",
        "/fapi/v1/rateLimit/order",
        expected=sample("futures_rate_limit_order_doc.json"),
        model=fm.QueryUserRateLimitResponse,
    )
    await c.call("GET", "/fapi/v1/leverageBracket", model=fm.NotionalAndLeverageBracketsResponse1)
    await c.call(
        "GET",
        "/fapi/v1/depth",
        {"symbol": "ETHUSDT", "limit": 5},
        signed=False,
        expected=real("futures_order_book_real_btcusdt_limit5.json"),
        model=fm.OrderBookResponse,
    )
    await c.call(
        "GET",
        "/fapi/v1/ticker/bookTicker",
        {"symbol": "ETHUSDT"},
        signed=False,
        expected=sample("futures_book_ticker_doc.json"),
        model=fm.SymbolOrderBookTickerResponse1,
        ignore=frozenset({"lastUpdateId"}),
    )
    t24 = await c.call(
        "GET",
        "/fapi/v1/ticker/24hr",
        {"symbol": "ETHUSDT"},
        signed=False,
        model=fm.Ticker24hrPriceChangeStatisticsResponse1,
    )
    assert "bidPrice" not in t24
    await c.call(
        "GET",
        "/fapi/v1/premiumIndex",
        {"symbol": "ETHUSDT"},
        signed=False,
        model=fm.MarkPriceResponse1,
    )
    for version, model in (
        ("v1", fm.SymbolPriceTickerResponse1),
        ("v2", fm.SymbolPriceTickerV2Response1),
    ):
        await c.call(
            "GET",
            f"/fapi/{version}/ticker/price",
            {"symbol": "BTCUSDT"},
            signed=False,
            expected=sample("futures_ticker_price_doc.json"),
            model=model,
        )
    await c.call(
        "GET",
        "/fapi/v1/klines",
        {"symbol": "BTCUSDT", "interval": "1m"},
        signed=False,
        expected=sample("futures_klines_doc.json"),
    )
    await c.call(
        "GET",
        "/fapi/v1/time",
        signed=False,
        expected=sample("futures_server_time_doc.json"),
        model=fm.CheckServerTimeResponse,
    )
    snap = real("futures_exchange_info_2025-11_selected.json")
    info = await c.call(
        "GET", "/fapi/v1/exchangeInfo", signed=False, model=fm.ExchangeInformationResponse
    )
    assert info == {**snap, "serverTime": info["serverTime"]}
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert "settlePlan" not in btc and "permissionSets" in btc and "maxMoveOrderLimit" in btc
    assert "POSITION_RISK_CONTROL" in {f["filterType"] for f in btc["filters"]}
    c.assert_covers("/fapi/")
    assert set(MODEL_ONLY) <= c.covered


@pytest.mark.parametrize(
    ("symbol", "low", "high"),
    [
        ("BTCUSDT", 55000, 65000),
        ("ETHUSDT", 2800, 3200),
        ("DOGEUSDT", 0.13, 0.17),
    ],
)
async def test_reference_prices_realistic_and_on_tick(
    venue: SimulatedBinance, symbol: str, low: float, high: float
) -> None:
    book = venue.state.futures.books[symbol]
    assert low < float(book.mid) < high
    tick = book.rules.tick
    assert all(lv.price % tick == 0 for lv in book.bids + book.asks)
    assert all(lv.qty % book.rules.step == 0 for lv in book.bids + book.asks)
    assert book.asks[0].price - book.bids[0].price == tick, "one tick wide, as real books"


async def test_deterministic_for_seed() -> None:
    mids = []
    for _ in range(2):
        async with SimulatedBinance(seed=11) as v:
            v.admin.tick(5)
            mids.append({s: b.mid for s, b in v.state.futures.books.items()})
    assert mids[0] == mids[1]
    async with SimulatedBinance(seed=12) as v:
        v.admin.tick(5)
        assert {s: b.mid for s, b in v.state.futures.books.items()} != mids[0]
