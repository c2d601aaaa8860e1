"""Every body the Bybit v5 dialect serves has the keys and JSON types of a real Bybit body
in tests/samples/bybit (provenance in its README), and every served route is checked."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from exsdk.simulator import SimulatedBinance
from exsdk.simulator.dialects.bybit_v5 import BybitV5Dialect, sign

from .conftest import assert_same_shape

SAMPLES = Path(__file__).parent.parent / "samples" / "bybit"
# Fields Bybit sends as JSON numbers (Bybit's v5 docs types and the raw compact bodies),
# which ccxt's static bodies quote as strings (tests/samples/bybit/README.md, warning 1).
BYBIT_NUMBERS = frozenset(
    {
        "retCode",
        "time",
        "ts",
        "u",
        "seq",
        "cts",
        "positionIdx",
        "triggerDirection",
        "smpGroup",
        "tradeMode",
        "autoAddMargin",
        "riskId",
        "adlRankIndicator",
    }
)


def real(name: str) -> Any:
    """A sample with ccxt's artefacts undone: numbers unquoted, injected cursors dropped."""
    body = json.loads((SAMPLES / f"{name}.json").read_text())

    def fix(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: fix(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if key in BYBIT_NUMBERS and isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value

    body = fix(body)
    result = body.get("result")
    if isinstance(result, dict) and isinstance(result.get("list"), list) and result["list"]:
        first = result["list"][0]
        if isinstance(first, dict):
            first.pop("nextPageCursor", None)  # injected by ccxt (README, warning 2)
    return body


class Bybit:
    """Signed v5 calls, as Bybit's docs define the signature; remembers routes covered."""

    def __init__(self, venue: SimulatedBinance, session: aiohttp.ClientSession) -> None:
        self.venue = venue
        self.session = session
        self.covered: set[tuple[str, str]] = set()

    async def call(
        self, method: str, path: str, params: dict[str, Any], *, signed: bool = True
    ) -> Any:
        query = urlencode(params) if method == "GET" else ""
        body = json.dumps(params) if method == "POST" else ""
        headers = {"Content-Type": "application/json"}
        if signed:
            ts = str(int(time.time() * 1000))
            key, window = self.venue.api_key, "5000"
            headers.update(
                {
                    "X-BAPI-API-KEY": key,
                    "X-BAPI-TIMESTAMP": ts,
                    "X-BAPI-RECV-WINDOW": window,
                    "X-BAPI-SIGN": sign(self.venue.secret, ts + key + window + (query or body)),
                }
            )
        url = f"{self.venue.base_url}{path}" + (f"?{query}" if query else "")
        async with self.session.request(method, url, data=body or None, headers=headers) as r:
            assert r.status == 200
            payload = await r.json()
        self.covered.add((method, path))
        return payload


@pytest.fixture
async def bybit() -> AsyncIterator[Bybit]:
    async with SimulatedBinance(seed=7) as venue, aiohttp.ClientSession() as session:
        yield Bybit(venue, session)


async def test_every_route_matches_a_real_body(bybit: Bybit) -> None:
    call = bybit.call
    body = await call("GET", "/v5/market/time", {}, signed=False)
    assert_same_shape(body, real("market_time_bybit_docs"))

    for category, sample in (
        ("spot", "spot_market_instruments-info_nautilus_tests"),
        ("linear", "linear_market_instruments-info_nautilus_tests"),
    ):
        body = await call(
            "GET", "/v5/market/instruments-info", {"category": category}, signed=False
        )
        want = real(sample)
        # nautilus re-serialized the capture through its structs, dropping the envelope's
        # retExtInfo, result.category and result.nextPageCursor (README, warning 4): the
        # items are compared with the real ones, the envelope with a live create body.
        assert_same_shape(body["result"]["list"], want["result"]["list"])
        assert set(body["result"]) == {"category", "list", "nextPageCursor"}
        assert_same_shape(
            {k: v for k, v in body.items() if k != "result"},
            {k: v for k, v in real("spot_order_create_ccxt_static_3").items() if k != "result"},
        )

    book = await call(
        "GET", "/v5/market/orderbook", {"category": "spot", "symbol": "BTCUSDT"}, signed=False
    )
    # The 2024 live spot capture has no seq/cts; Bybit's docs list both for every category.
    assert_same_shape(
        book, real("spot_market_orderbook_ccxt_static_1"), ignore=frozenset({"seq", "cts"})
    )
    book = await call(
        "GET", "/v5/market/orderbook", {"category": "linear", "symbol": "BTCUSDT"}, signed=False
    )
    assert_same_shape(
        book, real("linear_market_orderbook_nautilus"), ignore=frozenset({"retExtInfo"})
    )
    assert book["retExtInfo"] == {}

    for category, sample in (
        ("spot", "spot_market_tickers_nautilus_tests"),
        ("linear", "linear_market_tickers_ccxt_static_1"),
    ):
        body = await call(
            "GET", "/v5/market/tickers", {"category": category, "symbol": "BTCUSDT"}, signed=False
        )
        assert_same_shape(body, real(sample))

    created = await call(
        "POST",
        "/v5/order/create",
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "50000",
            "orderLinkId": "shape-1",
        },
    )
    assert_same_shape(created, real("spot_order_create_ccxt_static_3"))
    spot_id = created["result"]["orderId"]
    assert spot_id.isdigit()  # spot ids are long numbers on Bybit
    linear = await call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "58000",
            "orderLinkId": "shape-2",
        },
    )
    assert_same_shape(linear, real("spot_order_create_ccxt_static_3"))
    open_ = await call("GET", "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"})
    assert open_["result"]["list"][0]["orderStatus"] == "New"
    assert_same_shape(open_, real("linear_order_realtime_ccxt_static_1"))
    canceled = await call(
        "POST",
        "/v5/order/cancel",
        {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "shape-2"},
    )
    assert_same_shape(canceled, real("linear_order_cancel_bybit_docs"))

    await call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.002",
        },
    )
    history = await call(
        "GET",
        "/v5/order/history",
        {"category": "linear", "symbol": "BTCUSDT", "orderStatus": "Filled"},
    )
    assert history["result"]["list"][0]["orderStatus"] == "Filled"
    # The 2025-09 capture has three keys Bybit added after it stopped sending marketUnit
    # on linear; the realtime capture (the same month) has marketUnit and not these.
    newer = frozenset({"slippageToleranceType", "slippageTolerance", "extraFees", "marketUnit"})
    assert_same_shape(history, real("linear_order_history_ccxt_static_1"), ignore=newer)
    await call(
        "POST",
        "/v5/order/create",
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.001",
            "marketUnit": "baseCoin",
        },
    )
    spot_hist = await call("GET", "/v5/order/history", {"category": "spot", "symbol": "BTCUSDT"})
    # The 2024-01 spot capture predates createType and tpslMode (present in the 2025 ones).
    assert_same_shape(
        spot_hist,
        real("spot_order_realtime-or-history_ccxt_static_fetchOrder_1"),
        ignore=frozenset({"createType", "tpslMode", "cumFeeDetail"}),
    )

    trades = await call("GET", "/v5/execution/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert trades["result"]["list"]
    assert_same_shape(trades, real("linear_execution_list_nautilus"))
    spot_trades = await call("GET", "/v5/execution/list", {"category": "spot", "symbol": "BTCUSDT"})
    assert spot_trades["result"]["list"][0]["feeCurrency"] == "BTC"  # a buy pays in base
    assert_same_shape(spot_trades, real("spot_execution_list_nautilus_fee_currency"))
    # The live 2023 capture: the same keys but feeCurrency and createType (added since).
    assert_same_shape(
        spot_trades,
        real("spot_execution_list_ccxt_static_1"),
        ignore=frozenset({"feeCurrency", "createType"}),
    )

    positions = await call("GET", "/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert positions["result"]["list"][0]["size"] == "0.002"
    assert_same_shape(positions, real("linear_position_list_ccxt_static_1"))
    lev = await call(
        "POST",
        "/v5/position/set-leverage",
        {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"},
    )
    assert_same_shape(lev, real("linear_position_set-leverage_bybit_docs"))
    wallet = await call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"})
    assert_same_shape(wallet, real("unified_account_wallet-balance_ccxt_static_1"))

    refused = await call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "90",
        },
    )
    assert refused["retCode"] == 110007
    assert_same_shape(refused, real("error_110007_ccxt_source_comment"))

    served = set(BybitV5Dialect().routes)
    assert served - bybit.covered == set(), "a served route has no body check"


async def signed_post(
    bybit: Bybit, body: dict[str, Any], *, ts_offset_ms: int = 0, window: str = "5000"
) -> tuple[dict[str, Any], Any]:
    text = json.dumps(body)
    ts = str(int(time.time() * 1000) + ts_offset_ms)
    key = bybit.venue.api_key
    headers = {
        "Content-Type": "application/json",
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": window,
        "X-BAPI-SIGN": sign(bybit.venue.secret, ts + key + window + text),
    }
    url = f"{bybit.venue.base_url}/v5/order/create"
    async with bybit.session.post(url, data=text, headers=headers) as reply:
        assert reply.status == 200  # Bybit's body-level errors come with HTTP 200
        return dict(reply.headers), await reply.json()


async def test_rate_limit_headers_and_the_per_second_limit(bybit: Bybit) -> None:
    order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
             "qty": "0.001", "price": "50000"}  # fmt: skip
    answers = [await signed_post(bybit, order) for _ in range(11)]
    statuses = [h["X-Bapi-Limit-Status"] for h, _ in answers]
    assert [h["X-Bapi-Limit"] for h, _ in answers] == ["10"] * 11  # linear create: 10/s
    assert statuses[:10] == [str(9 - i) for i in range(10)]
    headers, body = answers[10]
    assert body["retCode"] == 10006 and statuses[10] == "0"
    assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) >= body["time"]
    public = await bybit.session.get(f"{bybit.venue.base_url}/v5/market/time")
    assert "X-Bapi-Limit" not in public.headers


async def test_recv_window_and_signature(bybit: Bybit) -> None:
    order = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
             "qty": "0.001", "price": "50000"}  # fmt: skip
    _, late = await signed_post(bybit, order, ts_offset_ms=-6000)
    assert late["retCode"] == 10002 and "recv_window[5000]" in late["retMsg"]
    _, wide = await signed_post(bybit, order, ts_offset_ms=-6000, window="10000")
    assert wide["retCode"] == 0
    _, ahead = await signed_post(bybit, order, ts_offset_ms=2000)
    assert ahead["retCode"] == 10002  # more than 1 s ahead of the server
    bybit.venue.secret = "another-secret"
    _, forged = await signed_post(bybit, order)
    assert forged["retCode"] == 10004
