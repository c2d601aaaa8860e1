"""Both Binance adapters, their whole API, against the bundled simulator over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

import exsdk.simulator
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.adapters.binance.common import BinanceAdapter
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.errors import (
    AuthenticationFailed,
    ClockSkew,
    InvalidOrderInput,
    LiquidityRejected,
    OrderNotFound,
    UnsupportedMethod,
)
from exsdk.models import MarketLimits, OrderStatus, Side
from exsdk.registry import get_adapter

SimulatedBinance = exsdk.simulator.SimulatedBinance


@pytest.fixture
async def venue() -> AsyncIterator[object]:
    async with SimulatedBinance(seed=7) as sim:
        yield sim


def _creds(sim: object) -> Credentials:
    return Credentials(venue=Venue.SIM, api_key=sim.api_key, secret=sim.secret)  # type: ignore[attr-defined]


@pytest.fixture
async def spot(venue: object) -> AsyncIterator[BinanceSpotAdapter]:
    adapter = BinanceSpotAdapter(
        Venue.SIM,
        _creds(venue),
        base_url=venue.base_url,  # type: ignore[attr-defined]
        ccxt_options={"enableRateLimit": False},
    )
    async with adapter:
        yield adapter


@pytest.fixture
async def futures(venue: object) -> AsyncIterator[BinanceFuturesAdapter]:
    adapter = BinanceFuturesAdapter(
        Venue.SIM,
        _creds(venue),
        base_url=venue.base_url,  # type: ignore[attr-defined]
        ccxt_options={"enableRateLimit": False},
    )
    async with adapter:
        yield adapter


@pytest.fixture(params=["spot", "futures"])
async def adapter(request: pytest.FixtureRequest, venue: object) -> AsyncIterator[BinanceAdapter]:
    cls = BinanceSpotAdapter if request.param == "spot" else BinanceFuturesAdapter
    built = cls(
        Venue.SIM,
        _creds(venue),
        base_url=venue.base_url,  # type: ignore[attr-defined]
        ccxt_options={"enableRateLimit": False},
    )
    async with built:
        yield built


def _paths(sim: object) -> list[str]:
    return [entry["path"] for entry in sim.admin.request_log()]  # type: ignore[attr-defined]


async def _min_amount(adapter: BinanceAdapter, symbol: str, price: Decimal) -> Decimal:
    """The smallest amount on the step grid with amount*price >= 1.5 * cost.min."""
    limits = (await adapter.load_markets())[symbol]
    target = (limits.cost_min or Decimal(10)) * Decimal("1.5") / price
    steps = (target / limits.amount_step).to_integral_value(rounding="ROUND_CEILING")
    return max(steps * limits.amount_step, limits.amount_min or Decimal(0))


async def test_load_markets_makes_one_request(adapter: BinanceAdapter, venue: object) -> None:
    which = adapter.market_type
    markets = await adapter.load_markets()
    symbol = adapter.symbol_for("BTC", "USDT")
    assert isinstance(markets[symbol], MarketLimits)
    assert markets[symbol].amount_step > 0 and markets[symbol].price_tick > 0
    expected = "/api/v3/exchangeInfo" if which == "spot" else "/fapi/v1/exchangeInfo"
    assert _paths(venue) == [expected]  # no sapi, no second market type
    await adapter.load_markets()
    assert len(_paths(venue)) == 1


async def test_whole_order_api(adapter: BinanceAdapter) -> None:
    which = adapter.market_type
    symbol = adapter.symbol_for("BTC", "USDT")
    await adapter.load_markets()

    top = await adapter.best_bid_ask(symbol)
    assert top.symbol == symbol and Decimal(0) < top.bid < top.ask
    assert isinstance(top.bid, Decimal)
    amount = await _min_amount(adapter, symbol, top.ask)

    # A market order walks the book; its trades are fetched by order id.
    market = await adapter.create_order(
        symbol, "market", Side.BUY, amount, client_order_id=f"{which}-mkt-1"
    )
    assert market.client_order_id == f"{which}-mkt-1"
    assert market.status == OrderStatus.CLOSED
    trades = await adapter.fetch_order_trades(symbol, order_id=market.id)
    assert trades and all(t.order == market.id for t in trades)
    assert sum((t.amount for t in trades), Decimal(0)) == amount
    assert all(isinstance(t.price, Decimal) for t in trades)

    # A limit order far from the market rests; it is found by id and by client id.
    price = (top.bid * Decimal("0.9")).quantize(Decimal("0.1"))
    resting = await adapter.create_order(
        symbol, "limit", Side.BUY, amount, price, client_order_id=f"{which}-lmt-1"
    )
    assert resting.is_open and resting.price == price
    by_id = await adapter.fetch_order(symbol, order_id=resting.id)
    by_cid = await adapter.fetch_order(symbol, client_order_id=f"{which}-lmt-1")
    assert by_id.id == by_cid.id == resting.id
    assert by_cid.client_order_id == f"{which}-lmt-1"
    open_ids = [o.id for o in await adapter.fetch_open_orders(symbol)]
    assert resting.id in open_ids

    canceled = await adapter.cancel_order(symbol, order_id=resting.id)
    assert canceled.status == OrderStatus.CANCELED
    assert resting.id not in [o.id for o in await adapter.fetch_open_orders(symbol)]
    assert await adapter.fetch_order_trades(symbol, order_id=resting.id) == []
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order(symbol, order_id=resting.id)
    with pytest.raises(OrderNotFound):
        await adapter.fetch_order(symbol, client_order_id=f"{which}-never-sent")

    balances = await adapter.fetch_balances()
    assert balances.total("USDT") > 0


async def test_spot_has_no_positions_or_leverage(spot: BinanceSpotAdapter, venue: object) -> None:
    before = len(_paths(venue))
    with pytest.raises(UnsupportedMethod) as info:
        await spot.fetch_positions()
    assert "fetchPositions" in info.value.missing
    with pytest.raises(UnsupportedMethod):
        await spot.set_leverage("BTC/USDT", 5)
    with pytest.raises(UnsupportedMethod):
        await spot.create_order(
            "BTC/USDT", "market", Side.SELL, Decimal(1), client_order_id="x", reduce_only=True
        )
    assert len(_paths(venue)) == before  # refused before any request


async def test_futures_positions_leverage_reduce_only(futures: BinanceFuturesAdapter) -> None:
    symbol = "BTC/USDT:USDT"
    await futures.set_leverage(symbol, 5)
    top = await futures.best_bid_ask(symbol)
    amount = await _min_amount(futures, symbol, top.ask)
    await futures.create_order(symbol, "market", Side.BUY, amount, client_order_id="pos-open-1")
    positions = await futures.fetch_positions([symbol])
    assert [p.symbol for p in positions] == [symbol]
    assert positions[0].amount == amount
    closing = await futures.create_order(
        symbol, "market", Side.SELL, amount, client_order_id="pos-close-1", reduce_only=True
    )
    assert closing.reduce_only is True
    assert await futures.fetch_positions([symbol]) == []


async def test_futures_thin_market_is_a_liquidity_rejection() -> None:
    symbol = "HNT/USDT:USDT"
    # HNTUSDT, thin on the venue, is listed only by the 2021-09 futures exchangeInfo.
    async with SimulatedBinance(seed=7, futures_snapshot="2021-09") as sim:
        futures = BinanceFuturesAdapter(
            Venue.SIM,
            _creds(sim),
            base_url=sim.base_url,
            ccxt_options={"enableRateLimit": False},
        )
        async with futures:
            markets = await futures.load_markets()
            limits = markets[symbol]
            amount = max(limits.amount_min or Decimal(1), Decimal(10))
            with pytest.raises(LiquidityRejected) as info:
                await futures.create_order(
                    symbol, "market", Side.BUY, amount, client_order_id="hnt-1"
                )
            assert info.value.code == -4131


async def test_bad_client_order_id_never_leaves(
    futures: BinanceFuturesAdapter, venue: object
) -> None:
    before = len(_paths(venue))
    for bad in ["", "x" * 37, "has space", "semi;colon"]:
        with pytest.raises(InvalidOrderInput):
            await futures.create_order(
                "BTC/USDT:USDT", "market", Side.BUY, Decimal("0.01"), client_order_id=bad
            )
    assert len(_paths(venue)) == before


async def test_clock_skew_resyncs(futures: BinanceFuturesAdapter, venue: object) -> None:
    symbol = "BTC/USDT:USDT"
    await futures.load_markets()
    venue.admin.set_clock_skew(-60_000)  # type: ignore[attr-defined]
    with pytest.raises(ClockSkew) as info:
        await futures.fetch_open_orders(symbol)
    assert info.value.code == -1021
    assert _paths(venue)[-1] == "/fapi/v1/time"  # resynced before raising
    assert await futures.fetch_open_orders(symbol) == []  # the caller's retry is accepted


async def test_wrong_key_is_authentication_failed(venue: object) -> None:
    creds = Credentials(venue=Venue.SIM, api_key="not-a-key", secret="nope")
    adapter = BinanceFuturesAdapter(
        Venue.SIM,
        creds,
        base_url=venue.base_url,  # type: ignore[attr-defined]
        ccxt_options={"enableRateLimit": False},
    )
    async with adapter:
        with pytest.raises(AuthenticationFailed):
            await adapter.fetch_balances()


async def test_markets_snapshot_survives_a_restart(venue: object, tmp_path: Path) -> None:
    cache = tmp_path / "markets.json"
    for _ in range(2):
        adapter = BinanceSpotAdapter(
            Venue.SIM,
            _creds(venue),
            base_url=venue.base_url,  # type: ignore[attr-defined]
            markets_cache=cache,
            ccxt_options={"enableRateLimit": False},
        )
        async with adapter:
            assert "BTC/USDT" in await adapter.load_markets()
    assert _paths(venue) == ["/api/v3/exchangeInfo"]


@pytest.mark.parametrize("venue_kind", [Venue.TESTNET, Venue.DEMO])
@pytest.mark.parametrize("cls", [BinanceSpotAdapter, BinanceFuturesAdapter])
async def test_testnet_and_demo_modes_against_the_simulator(
    venue: object, venue_kind: Venue, cls: type[BinanceAdapter]
) -> None:
    # ccxt behaves differently in sandbox and demo mode (no sapi, the futures testnet
    # guard); run the adapter configured for each, with its URL set moved to the simulator.
    creds = Credentials(
        venue=venue_kind,
        api_key=venue.api_key,  # type: ignore[attr-defined]
        secret=venue.secret,  # type: ignore[attr-defined]
    )
    adapter = cls(venue_kind, creds, markets_cache=False, ccxt_options={"enableRateLimit": False})
    exsdk.simulator.point_ccxt_at(adapter.exchange, venue.base_url)  # type: ignore[attr-defined]
    async with adapter:
        symbol = adapter.symbol_for("ETH", "USDT")
        await adapter.load_markets()
        top = await adapter.best_bid_ask(symbol)
        amount = await _min_amount(adapter, symbol, top.ask)
        price = (top.bid * Decimal("0.9")).quantize(Decimal("0.01"))
        cid = f"{venue_kind.value}-{adapter.market_type}-1"
        order = await adapter.create_order(
            symbol, "limit", Side.BUY, amount, price, client_order_id=cid
        )
        assert (await adapter.fetch_order(symbol, client_order_id=cid)).id == order.id
        assert (await adapter.cancel_order(symbol, order_id=order.id)).status == "canceled"
        assert (await adapter.fetch_balances()).total("USDT") >= 0
    assert not [p for p in _paths(venue) if p.startswith("/sapi")]


async def test_order_limits_are_learnt_from_exchange_info_and_429s_hold_orders() -> None:
    from exsdk.adapter.pacing import OrderLimit
    from exsdk.errors import RateLimited
    from exsdk.simulator import SimulatedBinance

    async with SimulatedBinance(seed=7, rate_limits={"futures:ORDERS:10S": 7}) as venue:
        adapter = get_adapter(
            "binance-futures",
            venue=Venue.SIM,
            base_url=venue.base_url,
            credentials=Credentials(venue=Venue.SIM, api_key=venue.api_key, secret=venue.secret),
            markets_cache=False,
            ccxt_options={"enableRateLimit": False},
        )
        try:
            assert OrderLimit(300, 10.0) in adapter.pacer.limits  # declared default
            await adapter.load_markets(reload=True)
            assert OrderLimit(7, 10.0) in adapter.pacer.limits  # the venue's own
            venue.admin.inject_fault("rate_limit", method="GET", calls=1)
            with pytest.raises(RateLimited) as caught:
                await adapter.fetch_open_orders("BTC/USDT:USDT")
            assert caught.value.retry_after
            assert adapter.pacer.held(orders=True) > 0  # orders wait for Retry-After
            assert adapter.pacer.held() > 0  # -1003: every request waits too
        finally:
            await adapter.close()
