"""Response field sets and JSON types equal the samples and the official SDK models."""

from __future__ import annotations

from typing import Any

import pytest
from binance_sdk_derivatives_trading_usds_futures.rest_api import models as fm
from binance_sdk_spot.rest_api import models as sm

from exsdk.simulator import SimulatedBinance

from .conftest import Raw, assert_same_shape, sample

TRAILING = frozenset({"activatePrice", "priceRate"})  # only on TRAILING_STOP_MARKET orders


def strict(model: Any, body: Any) -> None:
    """Validate with the SDK's strict pydantic model (StrictInt/StrictStr)."""
    if isinstance(body, list):
        inner = model.__mro__[1] if model.is_array() else model
        for item in body:
            inner.model_validate(item)
    else:
        model.model_validate(body)


async def test_spot_orders_and_trades(raw: Raw, venue: SimulatedBinance) -> None:
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    st, full, _hdr = await raw.call("POST", "/api/v3/order", {**base, "newOrderRespType": "FULL"})
    assert st == 200, full
    assert len(full["fills"]) >= 2
    assert_same_shape(full, sample("spot_new_order_full_doc.json"))
    strict(sm.NewOrderResponse, full)
    for resp_type, name in (
        ("RESULT", "spot_new_order_result_doc.json"),
        ("ACK", "spot_new_order_ack_doc.json"),
    ):
        st, body, _ = await raw.call(
            "POST", "/api/v3/order", {**base, "newOrderRespType": resp_type}
        )
        assert st == 200
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
    st, placed, _ = await raw.call("POST", "/api/v3/order", limit)
    assert st == 200, placed
    assert placed["status"] == "NEW"
    st, q, _ = await raw.call(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert st == 200, q
    assert_same_shape(q, sample("spot_query_order_doc.json"))
    strict(sm.GetOrderResponse, q)
    st, oo, _ = await raw.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert st == 200, oo
    assert_same_shape(oo, sample("spot_open_orders_doc.json"))
    strict(sm.GetOpenOrdersResponse, oo)
    st, c, _ = await raw.call(
        "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert st == 200, c
    assert c["status"] == "CANCELED"
    assert_same_shape(c, sample("spot_cancel_order_doc.json"))
    strict(sm.DeleteOrderResponse, c)
    st, ao, _ = await raw.call("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert st == 200, ao
    assert len(ao) == 4
    assert_same_shape(ao, sample("spot_all_orders_doc.json"))
    strict(sm.AllOrdersResponse, ao)
    st, tr, _ = await raw.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    assert st == 200, tr
    assert len(tr) >= 6
    assert_same_shape(tr, sample("spot_my_trades_doc.json"))
    strict(sm.MyTradesResponse, tr)
    st, acct, _ = await raw.call("GET", "/api/v3/account")
    assert st == 200, acct
    assert_same_shape(acct, sample("spot_account_doc.json"))
    strict(sm.GetAccountResponse, acct)


async def test_spot_market_data(raw: Raw) -> None:
    st, d, _ = await raw.call(
        "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}, signed=False
    )
    assert st == 200, d
    assert len(d["bids"]) == 5 and float(d["bids"][0][0]) < float(d["asks"][0][0])
    assert_same_shape(d, sample("spot_order_book_doc.json"))
    strict(sm.DepthResponse, d)
    st, bt, _ = await raw.call(
        "GET", "/api/v3/ticker/bookTicker", {"symbol": "ETHUSDT"}, signed=False
    )
    assert st == 200, bt
    assert_same_shape(bt, sample("spot_book_ticker_doc.json"))
    st, t24, _ = await raw.call("GET", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}, signed=False)
    assert st == 200, t24
    expected = sample("spot_ticker_24hr_real_btcusdt.json")
    for k in (
        "openTime",
        "closeTime",
        "firstId",
        "lastId",
        "count",
    ):  # the real sample stringified ints
        expected[k] = int(expected[k])
    assert_same_shape(t24, expected)
    st, tm, _ = await raw.call("GET", "/api/v3/time", signed=False)
    assert st == 200, tm
    assert_same_shape(tm, sample("futures_server_time_doc.json"))
    strict(sm.TimeResponse, tm)
    st, info, _ = await raw.call("GET", "/api/v3/exchangeInfo", signed=False)
    assert st == 200, info
    snap = sample("spot_exchange_info_2024-09_selected.json")
    assert [s["symbol"] for s in info["symbols"]] == [s["symbol"] for s in snap["symbols"]]
    assert info["serverTime"] > snap["serverTime"]


async def test_futures_orders_trades_account(raw: Raw) -> None:
    st, mkt, _ = await raw.call(
        "POST",
        "/fapi/v1/order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quantity": "0.01",
            "newOrderRespType": "RESULT",
        },
    )
    assert st == 200, mkt
    assert mkt["status"] == "FILLED" and "time" not in mkt
    assert_same_shape(mkt, sample("futures_new_order_result_real_btcusdt_limit_new.json"))
    strict(fm.NewOrderResponse, mkt)
    lim = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "58000",
        "timeInForce": "GTC",
    }
    st, placed, _ = await raw.call("POST", "/fapi/v1/order", lim)
    assert st == 200, placed
    assert placed["status"] == "NEW"
    st, q, _ = await raw.call(
        "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert st == 200, q
    expected_q = sample("futures_open_order_real_ltcusdt_gtx.json")
    for k in ("orderId", "goodTillDate", "time", "updateTime"):
        expected_q[k] = int(expected_q[k])
    assert_same_shape(q, expected_q)
    assert_same_shape(q, sample("futures_query_order_doc.json"), ignore=TRAILING)
    strict(fm.QueryOrderResponse, q)
    st, oo, _ = await raw.call("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    assert st == 200, oo
    assert_same_shape(oo, sample("futures_open_orders_doc.json"), ignore=TRAILING)
    strict(fm.CurrentAllOpenOrdersResponse, oo)
    st, c, _ = await raw.call(
        "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert st == 200, c
    assert c["status"] == "CANCELED"
    assert_same_shape(
        c, sample("futures_cancel_order_doc.json"), ignore=TRAILING | {"avgPrice", "cumQuote"}
    )
    strict(fm.CancelOrderResponse, c)
    st, ao, _ = await raw.call("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT"})
    assert st == 200, ao
    assert_same_shape(
        ao, sample("futures_all_orders_doc.json"), ignore=TRAILING | {"cumBase", "pair"}
    )
    strict(fm.AllOrdersResponse, ao)
    st, tr, _ = await raw.call("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
    assert st == 200, tr
    assert len(tr) >= 2
    assert_same_shape(
        tr, sample("futures_user_trades_doc.json"), ignore=frozenset({"baseQty", "pair"})
    )
    strict(fm.AccountTradeListResponse, tr)
    st, a3, _ = await raw.call("GET", "/fapi/v3/account")
    assert st == 200, a3
    assert len(a3["positions"]) == 1
    assert_same_shape(a3, sample("futures_account_v3_doc.json"))
    strict(fm.AccountInformationV3Response, a3)
    st, a2, _ = await raw.call("GET", "/fapi/v2/account")
    assert st == 200, a2
    assert_same_shape(a2, sample("futures_account_v2_doc.json"))
    strict(fm.AccountInformationV2Response, a2)
    st, bal, _ = await raw.call("GET", "/fapi/v2/balance")
    assert st == 200, bal
    assert_same_shape(bal, sample("futures_balance_v2_doc.json"))
    strict(fm.FuturesAccountBalanceV2Response, bal)
    st, p3, _ = await raw.call("GET", "/fapi/v3/positionRisk")
    assert st == 200, p3
    assert [p["symbol"] for p in p3] == ["BTCUSDT"] and p3[0]["positionAmt"] == "0.010"
    assert_same_shape(p3, sample("futures_position_risk_v3_doc.json"))
    strict(fm.PositionInformationV3Response, p3)
    st, p2, _ = await raw.call("GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"})
    assert st == 200, p2
    assert_same_shape(p2, sample("futures_position_risk_v2_doc.json"))
    strict(fm.PositionInformationV2Response, p2)
    st, lev, _ = await raw.call("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 21})
    assert st == 200, lev
    assert lev["leverage"] == 21
    assert_same_shape(lev, sample("futures_set_leverage_doc.json"))
    strict(fm.ChangeInitialLeverageResponse, lev)
    st, rl, _ = await raw.call("GET", "/fapi/v1/rateLimit/order")
    assert st == 200, rl
    assert_same_shape(rl, sample("futures_rate_limit_order_doc.json"))
    strict(fm.QueryUserRateLimitResponse, rl)
    st, br, _ = await raw.call("GET", "/fapi/v1/leverageBracket")
    assert st == 200, br
    strict(fm.NotionalAndLeverageBracketsResponse1, br)


async def test_futures_market_data(raw: Raw) -> None:
    st, d, _ = await raw.call(
        "GET", "/fapi/v1/depth", {"symbol": "ETHUSDT", "limit": 5}, signed=False
    )
    assert st == 200, d
    assert_same_shape(d, sample("futures_order_book_doc.json"))
    strict(fm.OrderBookResponse, d)
    st, bt, _ = await raw.call(
        "GET", "/fapi/v1/ticker/bookTicker", {"symbol": "ETHUSDT"}, signed=False
    )
    assert st == 200, bt
    assert_same_shape(
        bt, sample("futures_book_ticker_doc.json"), ignore=frozenset({"lastUpdateId"})
    )
    strict(fm.SymbolOrderBookTickerResponse1, bt)
    st, t24, _ = await raw.call("GET", "/fapi/v1/ticker/24hr", {"symbol": "ETHUSDT"}, signed=False)
    assert st == 200, t24
    strict(fm.Ticker24hrPriceChangeStatisticsResponse1, t24)
    assert "bidPrice" not in t24
    st, tm, _ = await raw.call("GET", "/fapi/v1/time", signed=False)
    assert st == 200, tm
    assert_same_shape(tm, sample("futures_server_time_doc.json"))
    strict(fm.CheckServerTimeResponse, tm)


@pytest.mark.parametrize(
    ("symbol", "low", "high"),
    [
        ("BTCUSDT", 55000, 65000),
        ("ETHUSDT", 2800, 3200),
        ("DOGEUSDT", 0.13, 0.17),
        ("HNTUSDT", 4.5, 5.5),
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
