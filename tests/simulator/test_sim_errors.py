"""Error bodies/statuses equal error_responses.json and map to the same ccxt classes."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import ccxt
import pytest

from exsdk.simulator import SimulatedBinance

from .conftest import Raw, freeze_rate_limits, sample

SPOT_URL = "https://api.binance.com/api/v3/order"
FAPI_URL = "https://fapi.binance.com/fapi/v1/order"
ERRORS = sample("error_responses.json")["errors"]


def find_sample(body: dict[str, Any]) -> dict[str, Any]:
    for entry in ERRORS:
        if entry["body"] == body:
            return entry
    raise AssertionError(f"no sample with body {body}")


def ccxt_class(exchange: Any, status: int, url: str, body: dict[str, Any]) -> str:
    text = json.dumps(body)
    try:
        exchange.handle_errors(status, "reason", url, "POST", {}, text, body, None, None)
    except ccxt.BaseError as exc:
        return type(exc).__name__
    return "none"


def assert_matches_sample(status: int, body: dict[str, Any]) -> None:
    entry = find_sample(body)
    assert status == entry["http_status"]
    expected = entry["ccxt_exception"]["ccxt 4.5.90"]
    spot, usdm = ccxt.binance(), ccxt.binanceusdm()
    assert ccxt_class(spot, status, SPOT_URL, body) == expected["binance_spot_url"]
    assert ccxt_class(usdm, status, FAPI_URL, body) == expected["binanceusdm_fapi_url"]


async def order(raw: Raw, path: str, **p: Any) -> tuple[int, Any]:
    st, body, _ = await raw.call("POST", path, p)
    return st, body


SPOT = "/api/v3/order"
FUT = "/fapi/v1/order"


async def test_spot_filter_failures(raw: Raw) -> None:
    cases = [
        dict(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity="0.000015",
            price="50000",
            timeInForce="GTC",
        ),
        dict(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity="0.001",
            price="50000.005",
            timeInForce="GTC",
        ),
        dict(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity="0.00002",
            price="50000",
            timeInForce="GTC",
        ),
        dict(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="200"),
    ]
    names = ["LOT_SIZE", "PRICE_FILTER", "NOTIONAL", "MARKET_LOT_SIZE"]
    for params, name in zip(cases, names, strict=True):
        st, body = await order(raw, SPOT, **params)
        assert body == {"code": -1013, "msg": f"Filter failure: {name}"}
        assert_matches_sample(st, body)


async def test_spot_insufficient_and_unknown(raw: Raw) -> None:
    st, body = await order(raw, SPOT, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="5")
    assert_matches_sample(st, body)
    assert body["code"] == -2010
    st, body, _ = await raw.call("GET", SPOT, {"symbol": "BTCUSDT", "orderId": 999})
    assert body["code"] == -2013
    assert_matches_sample(st, body)
    st, body, _ = await raw.call("DELETE", SPOT, {"symbol": "BTCUSDT", "origClientOrderId": "nope"})
    assert body["code"] == -2011
    assert_matches_sample(st, body)
    st, body, _ = await raw.call("GET", "/api/v3/depth", {"symbol": "XYZUSDT"}, signed=False)
    assert_matches_sample(st, body)


async def test_spot_duplicate_client_id(raw: Raw) -> None:
    p = dict(
        symbol="ETHUSDT",
        side="BUY",
        type="LIMIT",
        quantity="0.01",
        price="2000",
        timeInForce="GTC",
        newClientOrderId="dup-1",
    )
    st, first = await order(raw, SPOT, **p)
    assert st == 200 and first["clientOrderId"] == "dup-1"
    st, body = await order(raw, SPOT, **p)
    assert_matches_sample(st, body)
    assert body["msg"] == "Duplicate order sent."


async def test_futures_thin_book_is_refused_on_the_2021_snapshot(raw_2021: Raw) -> None:
    st, body = await order(
        raw_2021, FUT, symbol="HNTUSDT", side="BUY", type="MARKET", quantity="10"
    )
    assert body["code"] == -4131
    assert_matches_sample(st, body)


async def test_futures_minimum_notional_comes_from_the_snapshot(raw: Raw, raw_2021: Raw) -> None:
    """BTCUSDT's MIN_NOTIONAL is 100 in the 2025-11 exchangeInfo (default), 5 in 2021-09."""
    btc = dict(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    st, body = await order(raw, FUT, **btc)
    assert (st, body["code"]) == (400, -4164)
    assert "no smaller than 100.0" in body["msg"]
    st, body = await order(raw_2021, FUT, **btc)
    assert st == 200, body


async def test_futures_errors(raw: Raw, venue: SimulatedBinance) -> None:
    st, body = await order(raw, FUT, symbol="DOGEUSDT", side="BUY", type="MARKET", quantity="10")
    assert body == {
        "code": -4164,
        "msg": "Order's notional must be no smaller than 5.0 (unless you choose reduce only).",
    }
    assert ccxt_class(ccxt.binanceusdm(), st, FAPI_URL, body) == "InvalidOrder"
    venue.admin.set_balance("USDT", "10", market="futures")
    st, body = await order(raw, FUT, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    assert_matches_sample(st, body)
    st, body = await order(
        raw, FUT, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001", reduceOnly="true"
    )
    assert_matches_sample(st, body)
    st, body = await order(raw, FUT, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.0001")
    assert_matches_sample(st, body)  # -1111 precision


async def test_futures_hnt_unthinned_fills(raw_2021: Raw, venue_2021: SimulatedBinance) -> None:
    venue_2021.admin.unthin("HNTUSDT")
    st, body = await order(
        raw_2021,
        FUT,
        symbol="HNTUSDT",
        side="BUY",
        type="MARKET",
        quantity="10",
        newOrderRespType="RESULT",
    )
    assert st == 200 and body["status"] == "FILLED"
    venue_2021.admin.thin("BTCUSDT")
    st, body = await order(
        raw_2021, FUT, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01"
    )
    assert body["code"] == -4131


async def test_auth_errors(raw: Raw) -> None:
    st, body, _ = await raw.call("GET", "/api/v3/account", key="unknown-key")
    assert_matches_sample(st, body)
    st, body, _ = await raw.call("GET", "/fapi/v3/account", secret="wrong")
    assert (st, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
    stale = int(time.time() * 1000) - 20_000
    st, body, _ = await raw.call("GET", "/api/v3/account", timestamp=stale)
    assert_matches_sample(st, body)
    ahead = int(time.time() * 1000) + 5_000
    st, body, _ = await raw.call("GET", "/fapi/v2/balance", timestamp=ahead)
    assert_matches_sample(st, body)


async def test_rate_limit_bodies(venue: SimulatedBinance, raw: Raw) -> None:
    # 51 orders then up to 60 account reads, all in one 10 s and one 1 min window: on the
    # wall clock a window boundary inside the burst let request 51 (or the reads) through.
    freeze_rate_limits(venue)
    venue.admin.set_rate_limit("spot", "ORDERS", "10S", 50)
    venue.admin.set_rate_limit("spot", "REQUEST_WEIGHT", "1M", 1200)
    p = dict(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity="0.001",
        price="40000",
        timeInForce="GTC",
    )
    statuses = []
    body: Any = None
    for _ in range(51):
        st, body, hdrs = await raw.call("POST", SPOT, p)
        statuses.append(st)
    assert statuses[:50] == [200] * 50 and statuses[50] == 429
    assert_matches_sample(429, body)
    assert hdrs["Retry-After"] == "8"  # the 10 s window began 2.5 s before the frozen clock
    for _ in range(60):
        st, body, hdrs = await raw.call("GET", "/api/v3/account")
        if st == 429:
            break
    assert st == 429
    assert_matches_sample(st, body)
    assert hdrs["Retry-After"] == "18"  # 42.5 s of the minute gone


@pytest.mark.parametrize(
    "entry", [e for e in ERRORS if e["http_status"] in (400, 401, 429, 418)][:3]
)
def test_sample_table_consistent(entry: dict[str, Any]) -> None:
    """The mapping helper reproduces the sample table itself (guards the helper)."""
    assert_matches_sample(entry["http_status"], entry["body"])


async def test_leverage_outside_the_brackets_is_refused_with_the_value(raw: Raw) -> None:
    # ccxt checks 1..125 itself, so the venue's answer is asked for directly.
    st, body, _ = await raw.call(
        "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 200}
    )
    assert st == 400
    assert body == {"code": -4028, "msg": "Leverage 200 is not valid"}


@pytest.mark.parametrize(("snapshot", "weight"), [("2025-11", 6000), ("2021-09", 2400)])
async def test_rate_limits_come_from_the_snapshot_in_use(snapshot: str, weight: int) -> None:
    async with SimulatedBinance(seed=7, futures_snapshot=snapshot) as venue:
        venue.admin.inject_fault("rate_limit", "GET", "/fapi/v1/time", calls=1)
        async with aiohttp.ClientSession() as session:
            raw = Raw(venue, session)
            status, info, _ = await raw.call("GET", "/fapi/v1/exchangeInfo", signed=False)
            assert status == 200
            limits = {
                (r["rateLimitType"], r["intervalNum"], r["interval"]): r["limit"]
                for r in info["rateLimits"]
            }
            assert limits[("REQUEST_WEIGHT", 1, "MINUTE")] == weight
            status, body, _ = await raw.call("GET", "/fapi/v1/time", signed=False)
            assert status == 429 and f"current limit is {weight} request weight" in body["msg"]
        windows = {(w.kind, w.label): w.limit for w in venue.state.limiters["futures"].windows}
        assert windows[("REQUEST_WEIGHT", "1M")] == weight
