"""The error boundary and the markets snapshot, with ccxt's fetch replaced by a fake venue.

ccxt still signs, parses and maps errors (its own ``handle_errors`` runs on the fake's
error bodies); no ccxt exception may come out of the adapter.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import ccxt
import pytest

from exsdk.adapter import MarketsCache, Venue, ccxt_adapter
from exsdk.adapter.ccxt_adapter import CREATE_EXPIRY_KEPT_S
from exsdk.adapter.credentials import Credentials
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.errors import (
    BelowMinimum,
    ClockSkew,
    InsufficientFunds,
    InvalidOrderInput,
    LiquidityRejected,
    RateLimited,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
)
from exsdk.models import Side

from .adapter_fakes import FUTURES_INFO, FakeVenue, VenueError, sample

CREDS = Credentials(venue=Venue.DEMO, api_key="demo-key", secret="demo-secret")
ORDER = ("POST", "/fapi/v1/order")


def _futures(venue: FakeVenue, **kw: Any) -> BinanceFuturesAdapter:
    kw.setdefault("markets_cache", False)
    adapter = BinanceFuturesAdapter(
        Venue.DEMO, CREDS, ccxt_options={"enableRateLimit": False}, **kw
    )
    venue.install(adapter.exchange)
    return adapter


def _body(code: int, msg: str) -> str:
    return json.dumps({"code": code, "msg": msg})


@pytest.mark.parametrize(
    ("status", "code", "msg", "expected"),
    [
        (
            400,
            -4131,
            "The counterparty's best price does not meet the PERCENT_PRICE filter limit.",
            LiquidityRejected,
        ),
        (
            400,
            -4164,
            "Order's notional must be no smaller than 5.0 (unless you choose reduce only).",
            BelowMinimum,
        ),
        (400, -2019, "Margin is insufficient.", InsufficientFunds),
        (
            429,
            -1003,
            "Too much request weight used; current limit is 2400 request weight per 1 MINUTE.",
            RateLimited,
        ),
        (
            503,
            -1001,
            "Internal error; unable to process your request. Please try again.",
            TransientVenueError,
        ),
        (400, -1121, "Invalid symbol.", VenueRejected),
    ],
)
async def test_venue_errors_are_translated(
    futures_venue: FakeVenue, status: int, code: int, msg: str, expected: type[SdkError]
) -> None:
    futures_venue.routes[ORDER] = VenueError(status, _body(code, msg))
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        with pytest.raises(expected) as info:
            await adapter.create_order(
                "BTC/USDT:USDT", "market", Side.BUY, Decimal("0.01"), client_order_id="c-1"
            )
    assert not isinstance(info.value, ccxt.BaseError)
    assert info.value.exchange == "binanceusdm"
    assert isinstance(info.value.__cause__, ccxt.BaseError)  # kept for debugging only


async def test_the_request_carries_the_client_order_id(futures_venue: FakeVenue) -> None:
    futures_venue.routes[ORDER] = sample("futures_new_order_result_real_btcusdt_limit_new.json")
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        order = await adapter.create_order(
            "BTC/USDT:USDT",
            "limit",
            Side.BUY,
            Decimal("0.010"),
            Decimal("30000.1"),
            client_order_id="exsdk-p1-c1",
            reduce_only=True,
        )
    method, path, params = futures_venue.requests[-1]
    assert (method, path) == ORDER
    assert params["newClientOrderId"] == ["exsdk-p1-c1"]
    assert params["reduceOnly"] == ["true"]
    assert params["quantity"] == ["0.01"] and params["price"] == ["30000.1"]
    assert order.id and isinstance(order.amount, Decimal)


async def test_concurrent_creates_all_leave_before_any_reply_is_judged(
    futures_venue: FakeVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake venue answers within the request's own loop turn, as an in-process one
    # does. A wave's creates are concurrent tasks: each reply's checks (its shape, the
    # request's expiry, the validation into a model) wait until every create that was
    # ready to send has sent, so no create's request waits for another's reply checks.
    futures_venue.routes[ORDER] = sample("futures_new_order_result_real_btcusdt_limit_new.json")
    judged: list[tuple[str, int]] = []

    def sent() -> int:
        return sum(1 for method, path, _ in futures_venue.requests if (method, path) == ORDER)

    def spy(adapter: Any, name: str) -> None:
        real = getattr(adapter, name)

        def spied(*args: Any) -> Any:
            judged.append((name, sent()))
            return real(*args)

        monkeypatch.setattr(adapter, name, spied)

    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        for name in ("_check_replies", "_note_requests", "_parse"):
            spy(adapter, name)
        orders = await asyncio.gather(
            *(
                adapter.create_order(
                    "BTC/USDT:USDT",
                    "limit",
                    Side.BUY,
                    Decimal("0.010"),
                    Decimal("30000.1"),
                    client_order_id=f"exsdk-w-{i}",
                )
                for i in range(5)
            )
        )
        assert sorted(judged) == sorted(
            (n, 5) for n in ("_check_replies", "_note_requests", "_parse") for _ in range(5)
        )
        assert all(o.id for o in orders)
        assert all(adapter.create_expires_at(f"exsdk-w-{i}") is not None for i in range(5))


async def test_a_create_cancelled_after_its_request_left_still_notes_its_expiry(
    futures_venue: FakeVenue,
) -> None:
    # Cancelled in the loop turn it yields after its reply was read: the request left,
    # so when it stops being executable must still be known (a resend waits for it).
    futures_venue.routes[ORDER] = sample("futures_new_order_result_real_btcusdt_limit_new.json")
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        task = asyncio.ensure_future(
            adapter.create_order(
                "BTC/USDT:USDT",
                "limit",
                Side.BUY,
                Decimal("0.010"),
                Decimal("30000.1"),
                client_order_id="exsdk-c-1",
            )
        )
        await asyncio.sleep(0)  # the task ran up to its yield after the reply
        assert futures_venue.requests[-1][:2] == ORDER
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert adapter.create_expires_at("exsdk-c-1") is not None


async def test_create_expiry_is_signed_and_forgotten_once_long_past(
    futures_venue: FakeVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    futures_venue.routes[ORDER] = sample("futures_new_order_result_real_btcusdt_limit_new.json")
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        adapter.exchange.options["recvWindow"] = 2000

        async def create(cid: str) -> None:
            await adapter.create_order(
                "BTC/USDT:USDT",
                "limit",
                Side.BUY,
                Decimal("0.010"),
                Decimal("30000.1"),
                client_order_id=cid,
            )

        before = time.time()
        await create("exsdk-p1-c1")
        signed = int(futures_venue.requests[-1][2]["timestamp"][0])
        difference = adapter.exchange.options.get("timeDifference") or 0
        expiry = adapter.create_expires_at("exsdk-p1-c1")
        # From the signed request: its timestamp plus the window it was signed with.
        assert expiry == (signed + 2000 + difference) / 1000
        assert before - 1 < expiry - 2.0 < time.time() + 1
        # The adapter's clock moves on (ccxt still signs with the real one).
        clock = SimpleNamespace(time=lambda: expiry + CREATE_EXPIRY_KEPT_S - 1)
        monkeypatch.setattr(ccxt_adapter, "time", clock)
        await create("exsdk-p1-c2")
        assert adapter.create_expires_at("exsdk-p1-c1") == expiry  # within the horizon
        # Past it: the old entry goes on the next create; the new one (signed with a
        # minute's window, so still executable by then) stays.
        clock.time = lambda: expiry + CREATE_EXPIRY_KEPT_S + 1
        adapter.exchange.options["recvWindow"] = 60_000
        await create("exsdk-p1-c3")
        assert adapter.create_expires_at("exsdk-p1-c1") is None
        assert adapter.create_expires_at("exsdk-p1-c3") is not None


async def test_a_market_price_is_never_sent(spot_venue: FakeVenue) -> None:
    # Binance spot reads a market buy with a price as a quote amount (quoteOrderQty).
    spot_venue.routes[("POST", "/api/v3/order")] = sample("spot_new_order_full_doc.json")
    adapter = BinanceSpotAdapter(
        Venue.DEMO, CREDS, markets_cache=False, ccxt_options={"enableRateLimit": False}
    )
    spot_venue.install(adapter.exchange)
    async with adapter:
        await adapter.load_markets()
        await adapter.create_order(
            "BTC/USDT",
            "market",
            Side.BUY,
            Decimal("0.001"),
            Decimal("60000"),
            client_order_id="m-1",
        )
    params = spot_venue.requests[-1][2]
    assert "quoteOrderQty" not in params and "price" not in params
    assert params["quantity"] == ["0.001"]


async def test_clock_skew_resyncs_the_time_difference(futures_venue: FakeVenue) -> None:
    futures_venue.routes[("GET", "/fapi/v3/account")] = VenueError(
        400, _body(-1021, "Timestamp for this request is outside of the recvWindow.")
    )
    async with _futures(futures_venue) as adapter:
        with pytest.raises(ClockSkew):
            await adapter.fetch_balances()
        assert futures_venue.paths()[-1] == "/fapi/v1/time"
        assert "timeDifference" in adapter.exchange.options


async def test_transport_errors_are_transient(futures_venue: FakeVenue) -> None:
    async with _futures(futures_venue) as adapter:

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise aiohttp.ServerDisconnectedError()

        adapter.exchange.fetch = broken
        with pytest.raises(TransientVenueError):
            await adapter.fetch_open_orders("BTC/USDT:USDT")

        async def timeout(*args: Any, **kwargs: Any) -> Any:
            raise TimeoutError()

        adapter.exchange.fetch = timeout
        with pytest.raises(TransientVenueError):
            await adapter.best_bid_ask("BTC/USDT:USDT")


async def test_a_body_ccxt_dropped_is_recovered(spot_venue: FakeVenue) -> None:
    # ccxt matches -2010 by message and raises InsufficientFunds without the body;
    # the adapter hands translate() the body when no other call overlapped.
    body = _body(-2010, "Account has insufficient balance for requested action.")
    spot_venue.routes[("POST", "/api/v3/order")] = VenueError(400, body)
    adapter = BinanceSpotAdapter(
        Venue.DEMO, CREDS, markets_cache=False, ccxt_options={"enableRateLimit": False}
    )
    spot_venue.install(adapter.exchange)
    async with adapter:
        await adapter.load_markets()
        with pytest.raises(InsufficientFunds) as info:
            await adapter.create_order(
                "BTC/USDT", "market", Side.SELL, Decimal("1"), client_order_id="s-1"
            )
    assert info.value.code == -2010 and info.value.body == body


async def test_overlapping_calls_do_not_share_bodies(futures_venue: FakeVenue) -> None:
    gate = asyncio.Event()

    def book_reply(params: Any) -> Any:
        return sample("futures_order_book_real_btcusdt_limit5.json")

    futures_venue.routes[("GET", "/fapi/v1/depth")] = book_reply
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        real_fetch = adapter.exchange.fetch

        async def fetch(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            if "/depth" in url:
                await gate.wait()
                adapter.exchange.last_http_response = (
                    '{"code":-2019,"msg":"Margin is insufficient."}'
                )
                return await real_fetch(url, method, headers, body)
            raise ccxt.ExchangeError("binanceusdm failed without a body")

        adapter.exchange.fetch = fetch
        book = asyncio.ensure_future(adapter.best_bid_ask("BTC/USDT:USDT"))
        await asyncio.sleep(0)
        # No reply of its own: not a venue rejection (a read is retried), and not -2019.
        with pytest.raises(TransientVenueError) as info:
            await adapter.fetch_open_orders("BTC/USDT:USDT")
        gate.set()
        await book
    assert info.value.code is None  # not the other call's -2019


async def test_local_refusals_make_no_request(futures_venue: FakeVenue) -> None:
    async with _futures(futures_venue) as adapter:
        await adapter.load_markets()
        before = len(futures_venue.requests)
        cases: list[tuple[dict[str, Any], type[SdkError]]] = [
            ({"order_type": "stop"}, InvalidOrderInput),
            ({"order_type": "limit"}, InvalidOrderInput),  # no price
            ({"amount": Decimal(0)}, InvalidOrderInput),
            ({"client_order_id": "é"}, InvalidOrderInput),
            ({"client_order_id": "a" * 37}, InvalidOrderInput),
        ]
        for override, expected in cases:
            kwargs: dict[str, Any] = {
                "symbol": "BTC/USDT:USDT",
                "order_type": "market",
                "side": Side.BUY,
                "amount": Decimal("0.01"),
                "client_order_id": "ok-1",
            } | override
            with pytest.raises(expected):
                await adapter.create_order(**kwargs)
        with pytest.raises(InvalidOrderInput):
            await adapter.fetch_order("BTC/USDT:USDT")
        with pytest.raises(InvalidOrderInput):
            await adapter.set_leverage("BTC/USDT:USDT", 0)
        assert len(futures_venue.requests) == before


async def test_spot_positions_are_unsupported(spot_venue: FakeVenue) -> None:
    adapter = BinanceSpotAdapter(Venue.DEMO, CREDS, markets_cache=False)
    spot_venue.install(adapter.exchange)
    async with adapter:
        with pytest.raises(UnsupportedMethod) as info:
            await adapter.fetch_positions()
        assert set(info.value.missing) == {"fetchPositions"}
        with pytest.raises(UnsupportedMethod) as info:
            await adapter.set_leverage("BTC/USDT", 3)
        assert set(info.value.missing) == {"setLeverage"}
    assert spot_venue.requests == []


# ----- markets snapshot ---------------------------------------------------------------


async def test_snapshot_means_no_exchange_info_on_restart(
    futures_venue: FakeVenue, tmp_path: Path
) -> None:
    cache = tmp_path / "markets" / "futures.json"
    async with _futures(futures_venue, markets_cache=cache) as first:
        markets = await first.load_markets()
    assert futures_venue.paths() == ["/fapi/v1/exchangeInfo"]
    assert json.loads(cache.read_text())["exchange"] == "binanceusdm"
    async with _futures(futures_venue, markets_cache=cache) as second:
        again = await second.load_markets()
        assert second.exchange.markets_by_id["BTCUSDT"]
    assert futures_venue.paths() == ["/fapi/v1/exchangeInfo"]  # the restart made none
    assert again == markets
    assert again["HNT/USDT:USDT"].amount_step == Decimal(1)


async def test_snapshot_reload_and_staleness(futures_venue: FakeVenue, tmp_path: Path) -> None:
    cache = tmp_path / "m.json"
    async with _futures(futures_venue, markets_cache=cache) as adapter:
        await adapter.load_markets()
        await adapter.load_markets(reload=True)
    assert futures_venue.paths().count("/fapi/v1/exchangeInfo") == 2

    snapshot = MarketsCache(cache)
    assert snapshot.load("binanceusdm") is not None
    assert snapshot.load("binance") is None  # another exchange's snapshot is not used
    data = json.loads(cache.read_text())
    data["saved_at"] = time.time() - 3 * 86400
    cache.write_text(json.dumps(data))
    assert snapshot.load("binanceusdm") is None
    assert MarketsCache(cache, max_age=None).load("binanceusdm") is not None
    data["ccxt"] = "0.0.1"
    cache.write_text(json.dumps(data))
    assert MarketsCache(cache, max_age=None).load("binanceusdm") is None
    cache.write_text("{not json")
    assert snapshot.load("binanceusdm") is None


async def test_default_snapshot_location(
    futures_venue: FakeVenue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXSDK_CACHE_DIR", str(tmp_path))
    adapter = BinanceFuturesAdapter(Venue.DEMO, CREDS, ccxt_options={"enableRateLimit": False})
    futures_venue.install(adapter.exchange)
    async with adapter:
        assert adapter.markets_cache is not None
        assert adapter.markets_cache.path == tmp_path / "markets" / "binance-futures-demo.json"
        await adapter.load_markets()
    assert adapter.markets_cache.path.exists()


def test_futures_info_sample_is_the_hnt_dump() -> None:
    assert any(s["symbol"] == "HNTUSDT" for s in sample(FUTURES_INFO)["symbols"])
