"""End to end with unmodified ccxt (async) on binance and binanceusdm."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_trade import test_trade as check_trade

from exsdk.simulator import SimulatedBinance

from .conftest import freeze_rate_limits, make_exchange

SKIP = {"currency": True}


@pytest.mark.parametrize(
    ("futures", "symbol", "qty"), [(False, "BTC/USDT", 0.1), (True, "BTC/USDT:USDT", 0.1)]
)
async def test_trading_flow(
    venue: SimulatedBinance, futures: bool, symbol: str, qty: float
) -> None:
    ex = make_exchange(venue, futures)
    try:
        await ex.load_markets()
        check_market(ex, SKIP, "loadMarkets", ex.market(symbol))
        mkt = await ex.create_order(symbol, "market", "buy", qty)
        check_order(ex, SKIP, "createOrder", mkt, symbol, None)
        assert mkt["status"] == "closed" and mkt["filled"] == qty
        trades = await ex.fetch_my_trades(symbol)
        assert len([t for t in trades if t["order"] == mkt["id"]]) >= 2
        for t in trades:
            check_trade(ex, SKIP, "fetchMyTrades", t, symbol, None, False)
        book = await ex.fetch_order_book(symbol, 5)
        below = ex.price_to_precision(symbol, book["bids"][0][0] * 0.99)
        lim = await ex.create_order(
            symbol, "limit", "buy", 0.05, float(below), {"clientOrderId": "my-limit-1"}
        )
        check_order(ex, SKIP, "createOrder", lim, symbol, None)
        assert lim["status"] == "open" and lim["clientOrderId"] == "my-limit-1"
        # Move the market so only the best ask level crosses the limit: partial fill.
        market = "futures" if futures else "spot"
        asks = venue.admin.book(ex.market_id(symbol), market)["asks"]
        spacing = float(asks[1][0]) - float(asks[0][0])
        venue.admin.set_price(ex.market_id(symbol), str(float(below) - spacing / 2), market=market)
        by_id = await ex.fetch_order(lim["id"], symbol)
        by_client = await ex.fetch_order(None, symbol, {"clientOrderId": "my-limit-1"})
        assert by_id["id"] == by_client["id"] == lim["id"]
        assert by_id["status"] == "open" and 0 < by_id["filled"] < 0.05
        check_order(ex, SKIP, "fetchOrder", by_id, symbol, None)
        canceled = await ex.cancel_order(lim["id"], symbol)
        assert canceled["status"] == "canceled"
        assert [o["status"] for o in await ex.fetch_open_orders(symbol)] == []
        bal = await ex.fetch_balance()
        assert 0 < bal["USDT"]["free"] < 100000
        if futures:
            positions = await ex.fetch_positions([symbol])
            assert positions[0]["contracts"] == pytest.approx(qty + by_id["filled"])
            assert positions[0]["side"] == "long"
            assert (await ex.set_leverage(10, symbol))["leverage"] == 10
        else:
            assert bal["BTC"]["free"] > 1
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order(lim["id"], symbol)
    finally:
        await ex.close()


async def test_hnt_market_order_rejected(fut_ex_2021: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="-4131"):
        await fut_ex_2021.create_order("HNT/USDT:USDT", "market", "buy", 10)


async def test_reduce_only_and_spot_fees(
    venue: SimulatedBinance, fut_ex: Any, spot_ex: Any
) -> None:
    await fut_ex.create_order("ETH/USDT:USDT", "market", "sell", 0.5)
    closed = await fut_ex.create_order(
        "ETH/USDT:USDT", "market", "buy", 1, None, {"reduceOnly": True}
    )
    assert closed["filled"] == 0.5  # clipped to the position
    assert venue.admin.positions() == []
    sell = await spot_ex.create_order("ETH/USDT", "market", "sell", 1)
    fee_assets = {t["fee"]["currency"] for t in sell["trades"]}
    assert fee_assets == {"USDT"}


async def test_auth_failures_through_ccxt(venue: SimulatedBinance) -> None:
    ex = make_exchange(venue, futures=True)
    try:
        await ex.load_markets()
        ex.secret = "wrong"
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await ex.fetch_balance()
        ex.secret = venue.secret
        ex.apiKey = "nobody"
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await ex.fetch_balance()
        ex.apiKey = venue.api_key
        venue.admin.set_clock_skew(-30_000)  # server behind: the client's timestamp is "ahead"
        with pytest.raises(ccxt.InvalidNonce):
            await ex.fetch_balance()
        venue.admin.set_clock_skew(30_000)  # server ahead: the timestamp is stale
        with pytest.raises(ccxt.InvalidNonce, match="recvWindow"):
            await ex.fetch_balance()
    finally:
        await ex.close()


async def test_order_rate_limit_through_ccxt(venue: SimulatedBinance, fut_ex: Any) -> None:
    freeze_rate_limits(venue)  # the four orders in one 10 s window, however slow the machine
    venue.admin.set_rate_limit("futures", "ORDERS", "10S", 3)
    for _ in range(3):
        await fut_ex.create_order("BTC/USDT:USDT", "limit", "buy", 0.002, 58000)
    with pytest.raises(ccxt.DDoSProtection, match="-1015"):
        await fut_ex.create_order("BTC/USDT:USDT", "limit", "buy", 0.002, 58000)
    log = venue.admin.request_log()
    assert all(e["headers"].get("X-MBX-APIKEY") in (None, "***") for e in log)
    assert all("signature" not in e["params"] for e in log)
