"""Fixtures: an in-process simulator on port 0 and signed raw HTTP calls."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from exsdk.simulator import SimulatedBinance, point_ccxt_at
from exsdk.simulator.auth import sign

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def sample(name: str) -> Any:
    """Load a sample body from tests/samples."""
    return json.loads((SAMPLES / name).read_text())


class Raw:
    """Minimal signed client for direct endpoint checks."""

    def __init__(self, venue: SimulatedBinance, session: aiohttp.ClientSession) -> None:
        self.venue = venue
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        signed: bool = True,
        key: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        p = dict(params or {})
        headers = {}
        if signed:
            p["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
            p.setdefault("recvWindow", 10000)
            query = urlencode(p)
            query += "&signature=" + sign(secret or self.venue.secret, query)
            headers["X-MBX-APIKEY"] = key or self.venue.api_key
        else:
            query = urlencode(p)
        url = self.venue.base_url + path
        if method in ("POST", "PUT"):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            resp = await self.session.request(method, url, data=query, headers=headers)
        else:
            resp = await self.session.request(
                method, url + ("?" + query if query else ""), headers=headers
            )
        async with resp:
            text = await resp.text()
            body = json.loads(text) if resp.content_type == "application/json" else text
            return resp.status, body, dict(resp.headers)


# A reading of the monotonic clock 2.5 s into a 10 s window and 42.5 s into a minute.
FROZEN_LIMITER_TIME = 1_000_002.5


def freeze_rate_limits(venue: SimulatedBinance, at: float = FROZEN_LIMITER_TIME) -> None:
    """Stop the clock of the venue's rate-limit windows at ``at``.

    The windows are fixed, as Binance's are (a 10 s window starts at a multiple of 10 s),
    so a burst that straddles a boundary is counted in two windows and its last request
    is admitted; a busy machine stretches the burst and makes that likelier. With the
    clock stopped every request of a test falls in one window of each length.
    """
    for limiter in venue.state.limiters.values():
        limiter.clock = lambda: at


# The only bundled futures snapshot listing HNTUSDT, the thin book of the -4131 scenario.
HNT_SNAPSHOT = "2021-09"


@pytest.fixture
async def venue() -> AsyncIterator[SimulatedBinance]:
    async with SimulatedBinance(seed=7) as v:
        yield v


@pytest.fixture
async def raw(venue: SimulatedBinance) -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as session:
        yield Raw(venue, session)


@pytest.fixture
async def venue_2021() -> AsyncIterator[SimulatedBinance]:
    """A venue serving the 2021-09 futures exchangeInfo (HNTUSDT listed and thin)."""
    async with SimulatedBinance(seed=7, futures_snapshot=HNT_SNAPSHOT) as v:
        yield v


@pytest.fixture
async def raw_2021(venue_2021: SimulatedBinance) -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as session:
        yield Raw(venue_2021, session)


def make_exchange(venue: SimulatedBinance, futures: bool, **options: Any) -> Any:
    cls = ccxt_async.binanceusdm if futures else ccxt_async.binance
    ex = cls(
        {
            "apiKey": venue.api_key,
            "secret": venue.secret,
            "enableRateLimit": False,
            "options": options,
        }
    )
    return point_ccxt_at(ex, venue.base_url)


@pytest.fixture
async def spot_ex(venue: SimulatedBinance) -> AsyncIterator[Any]:
    ex = make_exchange(venue, futures=False)
    try:
        await ex.load_markets()
        yield ex
    finally:
        await ex.close()


@pytest.fixture
async def fut_ex(venue: SimulatedBinance) -> AsyncIterator[Any]:
    ex = make_exchange(venue, futures=True)
    try:
        await ex.load_markets()
        yield ex
    finally:
        await ex.close()


@pytest.fixture
async def fut_ex_2021(venue_2021: SimulatedBinance) -> AsyncIterator[Any]:
    ex = make_exchange(venue_2021, futures=True)
    try:
        await ex.load_markets()
        yield ex
    finally:
        await ex.close()


def type_family(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "null"


# Fields the live API sends as JSON integers; some recorded samples (ccxt's static test
# data) carry them as strings (tests/samples/README.md, "Number types").
LIVE_INTEGERS = frozenset(
    {
        "orderId",
        "id",
        "orderListId",
        "time",
        "updateTime",
        "transactTime",
        "workingTime",
        "lastUpdateId",
        "E",
        "T",
        "uid",
        "tradeId",
        "openTime",
        "closeTime",
        "firstId",
        "lastId",
        "count",
        "goodTillDate",
        "makerCommission",
        "takerCommission",
        "buyerCommission",
        "sellerCommission",
        "tradeGroupId",
        "feeTier",
        "adl",
    }
)


def as_live(body: Any) -> Any:
    """A recorded body with the stringified integers of :data:`LIVE_INTEGERS` made ints."""
    if isinstance(body, list):
        return [as_live(item) for item in body]
    if isinstance(body, dict):
        return {
            k: int(v)
            if k in LIVE_INTEGERS and isinstance(v, str) and v.lstrip("-").isdigit()
            else as_live(v)
            for k, v in body.items()
        }
    return body


def real(name: str) -> Any:
    """A recorded real body from tests/samples, with live integer types."""
    return as_live(sample(name))


def assert_same_shape(
    actual: Any, expected: Any, where: str = "$", ignore: frozenset[str] = frozenset()
) -> None:
    """Recursively compare key sets and JSON type families.

    A list whose sample items differ in type (a kline row) is a tuple: compared position
    by position; any other list compares each item with the sample's first one.
    """
    fa, fe = type_family(actual), type_family(expected)
    assert fa == fe, f"{where}: {fa} != {fe} ({actual!r} vs {expected!r})"
    if fa == "dict":
        keys_a = set(actual) - ignore
        keys_e = set(expected) - ignore
        assert keys_a == keys_e, f"{where}: extra {keys_a - keys_e}, missing {keys_e - keys_a}"
        for k in keys_a:
            assert_same_shape(actual[k], expected[k], f"{where}.{k}", ignore)
    elif fa == "list" and len({type_family(e) for e in expected}) > 1:
        assert len(actual) == len(expected), f"{where}: {len(actual)} != {len(expected)} items"
        for i, (item, want) in enumerate(zip(actual, expected, strict=True)):
            assert_same_shape(item, want, f"{where}[{i}]", ignore)
    elif fa == "list" and actual and expected:
        for i, item in enumerate(actual):
            assert_same_shape(item, expected[0], f"{where}[{i}]", ignore)
