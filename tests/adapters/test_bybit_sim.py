"""The Bybit adapters, driven by unmodified ccxt ``bybit`` against the simulator's v5
dialect: markets and limits, orders, trades, positions, balances, and every row of the
Bybit error table on both categories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from exsdk.adapter import ExchangeAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.errors import (
    BYBIT_CODES,
    AuthenticationFailed,
    BelowMinimum,
    ClockSkew,
    InsufficientFunds,
    LiquidityRejected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    VenueRejected,
)
from exsdk.models import Side
from exsdk.registry import get_adapter
from exsdk.simulator import SimulatedBinance

SYMBOLS = {"bybit-spot": "ETH/USDT", "bybit-linear": "ETH/USDT:USDT"}
MARKET = {"bybit-spot": "bybit_spot", "bybit-linear": "bybit_linear"}


@pytest.fixture
async def venue() -> AsyncIterator[SimulatedBinance]:
    async with SimulatedBinance(seed=7) as sim:
        yield sim


def build(name: str, venue: SimulatedBinance, secret: str | None = None) -> ExchangeAdapter:
    return get_adapter(
        name,
        venue=Venue.SIM,
        base_url=venue.base_url,
        credentials=Credentials(
            venue=Venue.SIM, api_key=venue.api_key, secret=secret or venue.secret
        ),
        markets_cache=False,
        ccxt_options={"enableRateLimit": False},
    )


@pytest.fixture(params=["bybit-spot", "bybit-linear"])
async def adapter(
    request: pytest.FixtureRequest, venue: SimulatedBinance
) -> AsyncIterator[ExchangeAdapter]:
    async with build(request.param, venue) as built:
        await built.load_markets()
        yield built


def paths(venue: SimulatedBinance) -> list[str]:
    return [r["path"] for r in venue.admin.request_log()]


async def test_markets_and_limits_come_from_bybit_instruments(
    adapter: ExchangeAdapter, venue: SimulatedBinance
) -> None:
    limits = (await adapter.load_markets())[SYMBOLS[adapter.name]]
    # tests/samples/bybit: the real ETHUSDT items (spot minOrderQty 0.00062 / minOrderAmt 1,
    # linear minOrderQty 0.01 / qtyStep 0.01 / minNotionalValue 5).
    if adapter.name == "bybit-spot":
        assert (limits.amount_min, limits.cost_min) == (Decimal("0.00062"), Decimal("1"))
    else:
        assert (limits.amount_min, limits.cost_min) == (Decimal("0.01"), Decimal("5"))
    # Only instruments-info of the adapter's category; no currency or account-mode probe.
    assert set(paths(venue)) == {"/v5/market/instruments-info"}


async def test_order_lifecycle(adapter: ExchangeAdapter, venue: SimulatedBinance) -> None:
    symbol = SYMBOLS[adapter.name]
    bid_ask = await adapter.best_bid_ask(symbol)
    filled = await adapter.create_order(
        symbol, "market", Side.BUY, Decimal("0.02"), client_order_id="life-1"
    )
    # Bybit acknowledges with ids only; the adapter reads the order back.
    assert filled.status == "closed" and filled.filled == Decimal("0.02")
    looked_up = await adapter.fetch_order(symbol, client_order_id="life-1")
    assert looked_up.id == filled.id and looked_up.status == "closed"
    trades = await adapter.fetch_order_trades(symbol, order_id=filled.id)
    assert sum(t.amount for t in trades) == Decimal("0.02")
    resting = await adapter.create_order(
        symbol,
        "limit",
        Side.BUY,
        Decimal("0.02"),
        (bid_ask.bid * Decimal("0.98")).quantize(Decimal("0.01")),
        client_order_id="life-2",
    )
    assert [o.id for o in await adapter.fetch_open_orders(symbol)] == [resting.id]
    canceled = await adapter.cancel_order(symbol, order_id=resting.id)
    assert canceled.status == "canceled"  # read back: Bybit's cancel reply is ids only
    assert await adapter.fetch_open_orders(symbol) == []
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order(symbol, order_id=resting.id)
    balances = await adapter.fetch_balances()
    assert (balances.by_currency["USDT"].total or 0) > 0


async def test_positions_and_leverage_on_linear(venue: SimulatedBinance) -> None:
    async with build("bybit-linear", venue) as adapter:
        await adapter.set_leverage("ETH/USDT:USDT", 7)
        await adapter.create_order(
            "ETH/USDT:USDT", "market", Side.SELL, Decimal("0.03"), client_order_id="pos-1"
        )
        [position] = await adapter.fetch_positions(["ETH/USDT:USDT"])
        assert position.side == "short" and position.contracts == Decimal("0.03")
        assert position.leverage == Decimal(7)
        closed = await adapter.create_order(
            "ETH/USDT:USDT",
            "market",
            Side.BUY,
            Decimal("0.03"),
            client_order_id="pos-2",
            reduce_only=True,
        )
        assert closed.id
        assert await adapter.fetch_positions(["ETH/USDT:USDT"]) == []


# (adapter, what to do) -> the SDK class and the retCode the venue answered.
async def _below_min_qty(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    # ccxt refuses an amount off its precision grid itself (on linear the minimum is one
    # step): the body goes through ccxt's own signed v5 call and error handling.
    body = {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "price": "2000"}
    if a.name == "bybit-spot":
        body.update(category="spot", qty="0.0001")
    else:
        body.update(category="linear", qty="0.001")
    return await a._call("private_post_v5_order_create", body)


async def _below_min_value(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    qty = Decimal("0.00062") if a.name == "bybit-spot" else Decimal("0.01")
    return await a.create_order(s, "limit", Side.BUY, qty, Decimal("100"), client_order_id="e2")


async def _funds(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    if a.name == "bybit-linear":
        await a.set_leverage(s, 1)  # 90 ETH (about 270 000 USDT) on a 100 000 USDT margin
    qty = Decimal("90") if a.name == "bybit-linear" else Decimal("60")
    return await a.create_order(s, "market", Side.BUY, qty, client_order_id="e3")


async def _band(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    bid_ask = await a.best_bid_ask(s)
    high = (bid_ask.ask * Decimal("1.2")).quantize(Decimal("0.01"))
    return await a.create_order(s, "limit", Side.BUY, Decimal("0.01"), high, client_order_id="e4")


async def _bad_key(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    a.exchange.apiKey = "not-a-key"
    return await a.create_order(s, "market", Side.BUY, Decimal("0.01"), client_order_id="e5")


async def _bad_sign(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    a.exchange.secret = "not-the-secret"
    return await a.fetch_balances()


async def _skew(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    v.admin.set_clock_skew(60_000)
    return await a.fetch_open_orders(s)


async def _unknown_order(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    fake = (
        "1609920528435649999" if a.name == "bybit-spot" else "0b6f2c1e-0000-4000-8000-000000000000"
    )
    return await a.cancel_order(s, order_id=fake)


async def _rate_limit(a: ExchangeAdapter, s: str, v: SimulatedBinance) -> Any:
    # More creates in one second than Bybit's per-endpoint limit (10 linear, 20 spot).
    a.pacer = type(a.pacer)([])  # the adapter's own pacer would spread them out
    orders = [
        a.create_order(s, "market", Side.BUY, Decimal("0.01"), client_order_id=f"rl-{i}")
        for i in range(25)
    ]
    for result in await asyncio.gather(*orders, return_exceptions=True):
        if isinstance(result, Exception):
            raise result
    return None


ROWS = {
    "below-minimum quantity": (
        _below_min_qty,
        BelowMinimum,
        {"bybit-spot": 170136, "bybit-linear": 10001},
    ),
    "below-minimum value": (
        _below_min_value,
        BelowMinimum,
        {"bybit-spot": 170140, "bybit-linear": 110094},
    ),
    "insufficient funds": (
        _funds,
        InsufficientFunds,
        {"bybit-spot": 170131, "bybit-linear": 110007},
    ),
    "price band": (_band, LiquidityRejected, {"bybit-spot": 170193, "bybit-linear": 110003}),
    "invalid key": (_bad_key, AuthenticationFailed, {"bybit-spot": 10003, "bybit-linear": 10003}),
    "invalid signature": (
        _bad_sign,
        AuthenticationFailed,
        {"bybit-spot": 10004, "bybit-linear": 10004},
    ),
    "outside recv_window": (_skew, ClockSkew, {"bybit-spot": 10002, "bybit-linear": 10002}),
    "unknown order": (
        _unknown_order,
        OrderNotFound,
        {"bybit-spot": 170213, "bybit-linear": 110001},
    ),
    "rate limit": (_rate_limit, RateLimited, {"bybit-spot": 10006, "bybit-linear": 10006}),
}


@pytest.mark.parametrize("row", list(ROWS))
async def test_error_table_row(row: str, adapter: ExchangeAdapter, venue: SimulatedBinance) -> None:
    action, cls, codes = ROWS[row]
    with pytest.raises(cls) as caught:
        await action(adapter, SYMBOLS[adapter.name], venue)
    error = caught.value
    assert error.code == codes[adapter.name], error
    assert f'"retCode":{codes[adapter.name]}' in (error.body or "")
    assert BYBIT_CODES.is_documented_rejection(error.code) == isinstance(
        error, VenueRejected | AuthenticationFailed
    )


async def test_market_order_into_a_thin_book_is_the_price_band_refusal(
    venue: SimulatedBinance,
) -> None:
    # HNTUSDT's linear book starts thin (best prices 25% from the mark, outside its band):
    # the seed's -4131 scenario, answered with Bybit's 110003.
    async with build("bybit-linear", venue) as adapter:
        with pytest.raises(LiquidityRejected) as caught:
            await adapter.create_order(
                "HNT/USDT:USDT", "market", Side.BUY, Decimal("10"), client_order_id="thin-1"
            )
        assert caught.value.code == 110003
        assert venue.admin.orders("bybit_linear") == []


@pytest.mark.parametrize("name", ["bybit-spot", "bybit-linear"])
async def test_undocumented_code_after_a_create_is_an_unknown_outcome(
    name: str, venue: SimulatedBinance
) -> None:
    venue.admin.inject_fault(
        "malformed",
        method="POST",
        path="/v5/order/create",
        status=200,
        body='{"retCode":99999,"retMsg":"something new","result":{},"retExtInfo":{},"time":1}',
    )
    async with build(name, venue) as adapter:
        with pytest.raises(OrderOutcomeUnknown):
            await adapter.create_order(
                SYMBOLS[name], "market", Side.BUY, Decimal("0.02"), client_order_id="unk-1"
            )


@pytest.mark.parametrize("name", ["bybit-spot", "bybit-linear"])
async def test_backend_timeout_after_a_create_leaves_the_order_placed_and_unknown(
    name: str, venue: SimulatedBinance
) -> None:
    venue.admin.inject_fault("timeout_unknown", method="POST", path="/v5/order/create")
    async with build(name, venue) as adapter:
        with pytest.raises(OrderOutcomeUnknown):
            await adapter.create_order(
                SYMBOLS[name], "market", Side.BUY, Decimal("0.02"), client_order_id="tmo-1"
            )
        found = await adapter.fetch_order(SYMBOLS[name], client_order_id="tmo-1")
        assert found.status == "closed"


async def test_a_burst_of_orders_is_paced_to_the_order_limit(
    adapter: ExchangeAdapter, venue: SimulatedBinance
) -> None:
    """Three seconds' worth of creates at once, ccxt's throttle off (as `exsdk experiment`
    runs): the adapter's own pacer holds them to Bybit's per-second create limit (10 linear,
    20 spot), so the venue never answers 10006 and every one is placed."""
    symbol = SYMBOLS[adapter.name]
    n = 3 * (10 if adapter.name == "bybit-linear" else 20)

    async def one(i: int) -> Any:
        side = Side.BUY if i % 2 == 0 else Side.SELL
        return await adapter.create_order(
            symbol, "market", side, Decimal("0.02"), client_order_id=f"burst-{i}"
        )

    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    creates = [r for r in venue.admin.request_log() if r["path"] == "/v5/order/create"]
    assert len(creates) == n  # each sent once: none refused and sent again
