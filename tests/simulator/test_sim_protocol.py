"""Protocol edges: unknown paths, bodies that are not text, admin bodies that are not
JSON, and a request log that stays bounded."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from exsdk.simulator import SimulatedBinance, point_ccxt_at
from exsdk.simulator.auth import sign

from .conftest import Raw


@pytest.mark.parametrize("path", ["/api/v3/nothing", "/fapi/v1/openOrderz", "/fapi/v9/balance"])
async def test_unknown_path_is_an_empty_404(raw: Raw, path: str) -> None:
    status, body, headers = await raw.call("GET", path, signed=False)
    assert (status, body) == (404, "")
    assert headers.get("Content-Length") == "0"


async def test_ccxt_sees_an_unknown_path_as_binance_shows_it(venue: SimulatedBinance) -> None:
    ex = point_ccxt_at(ccxt_async.binance({"enableRateLimit": False}), venue.base_url)
    try:
        # No JSON code to map: ccxt falls back to its HTTP-status table (404).
        with pytest.raises(ccxt_async.ExchangeNotAvailable, match="404"):
            await ex.fetch(venue.base_url + "/api/v3/none", "GET")
    finally:
        await ex.close()


async def test_a_body_that_is_not_utf8_is_illegal_characters(venue: SimulatedBinance) -> None:
    query = urlencode({"timestamp": int(time.time() * 1000)})
    body = b"symbol=BTC\xff\xfeUSDT&side=BUY&type=MARKET&quantity=0.1&" + query.encode()
    body += b"&signature=" + sign(venue.secret, query).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            venue.base_url + "/api/v3/order",
            data=body,
            headers={
                "X-MBX-APIKEY": venue.api_key,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ) as resp,
    ):
        assert resp.status == 400
        assert await resp.json() == {
            "code": -1100,
            "msg": "Illegal characters found in a parameter.",
        }
    assert venue.admin.orders() == []


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[1, 2]"])
async def test_admin_body_that_is_not_a_json_object_is_400(
    venue: SimulatedBinance, body: bytes
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(venue.base_url + "/__sim__/tick", data=body) as resp,
    ):
        assert resp.status == 400
        assert "JSON object" in (await resp.json())["error"]


async def test_request_log_keeps_the_latest_requests_only() -> None:
    async with SimulatedBinance(seed=7, request_log_size=5) as venue:
        async with aiohttp.ClientSession() as session:
            raw = Raw(venue, session)
            for _ in range(12):
                await raw.call("GET", "/api/v3/time", signed=False)
            await raw.call("GET", "/api/v3/ping", signed=False)
        log = venue.admin.request_log()
        assert len(log) == 5
        assert log[-1]["path"] == "/api/v3/ping"


@pytest.mark.parametrize("prefix", ["/api/v3", "/fapi/v1"])
async def test_market_data_agrees_on_the_last_price(
    raw: Raw, venue: SimulatedBinance, prefix: str
) -> None:
    market = "futures" if prefix.startswith("/fapi") else "spot"
    venue.admin.set_price("ETHUSDT", "3100", market=market)
    venue.admin.set_price("ETHUSDT", "2900", market=market)
    venue.admin.set_price("ETHUSDT", "3000", market=market)
    query = {"symbol": "ETHUSDT"}
    _, price, _ = await raw.call("GET", prefix + "/ticker/price", query, signed=False)
    _, day, _ = await raw.call("GET", prefix + "/ticker/24hr", query, signed=False)
    _, rows, _ = await raw.call(
        "GET", prefix + "/klines", {**query, "interval": "1d"}, signed=False
    )
    assert float(price["price"]) == float(day["lastPrice"]) == float(rows[-1][4]) == 3000
    assert float(day["highPrice"]) == float(rows[-1][2]) == 3100
    assert float(day["lowPrice"]) == float(rows[-1][3]) == 2900
