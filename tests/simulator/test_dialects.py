"""The venue core serves protocol dialects from a registry: one process, several
protocols on paths that do not collide, and a new dialect needs no core change."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from exsdk.simulator import SimulatedBinance, dialects


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status, await reply.text()


async def test_one_process_serves_binance_spot_usdm_and_bybit() -> None:
    async with SimulatedBinance(seed=7) as venue:
        base = venue.base_url
        status, text = await get(f"{base}/api/v3/time")
        assert status == 200 and "serverTime" in json.loads(text)
        status, text = await get(f"{base}/fapi/v1/time")
        assert status == 200 and "serverTime" in json.loads(text)
        status, text = await get(f"{base}/v5/market/time")
        assert status == 200 and json.loads(text)["retCode"] == 0
        # Each protocol trades on its own markets of the one core.
        assert {"spot", "futures", "bybit_spot", "bybit_linear"} <= set(venue.state.engines)


async def test_a_venue_serves_only_the_dialects_it_names() -> None:
    async with SimulatedBinance(seed=7, dialects=["bybit_v5"]) as venue:
        status, _ = await get(f"{venue.base_url}/api/v3/time")
        assert status == 404
        status, text = await get(f"{venue.base_url}/v5/market/time")
        assert status == 200 and json.loads(text)["retCode"] == 0


class EchoDialect:
    """A third protocol defined outside the simulator package."""

    name = "echo"
    prefixes = ("/echo/",)

    def install(self, state: Any) -> None:
        state.engines.setdefault("echo", state.engines["spot"])

    def parse_params(self, method: str, raw_query: str, raw_body: str) -> dict[str, str]:
        return {"q": raw_query}

    def bad_encoding(self) -> web.Response:
        return web.Response(status=400)

    def serve(self, state: Any, request: Any, fault: Any) -> Any:
        book = state.engines["echo"].books["BTCUSDT"]
        return web.json_response({"path": request.path, "mid": str(book.mid), **request.params})


async def test_a_new_dialect_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {**dialects.DIALECTS, "echo": f"{__name__}:EchoDialect"}
    monkeypatch.setattr(dialects, "DIALECTS", table)
    async with SimulatedBinance(seed=7) as venue:
        status, text = await get(f"{venue.base_url}/echo/x?a=1")
        body = json.loads(text)
        assert status == 200 and body["path"] == "/echo/x" and body["q"] == "a=1"
        assert body["mid"] == str(venue.state.spot.books["BTCUSDT"].mid)
        status, _ = await get(f"{venue.base_url}/api/v3/time")
        assert status == 200


def test_unknown_dialect_is_named() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'fix'"):
        SimulatedBinance(dialects=["fix"])
