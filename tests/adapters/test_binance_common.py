"""Binance rules shared by spot and futures: client order ids, filters, error codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exsdk.adapter import Venue
from exsdk.adapters.binance.common import (
    CLIENT_ORDER_ID_MAX_LEN,
    describe_error,
    percent_price_band,
    validate_client_order_id,
)
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.errors import InvalidOrderInput
from exsdk.models import Side

from .adapter_fakes import FakeVenue


@pytest.mark.parametrize(
    "cid", ["a", "x" * CLIENT_ORDER_ID_MAX_LEN, "exsdk-1f3a.p7:c2/w3_B", "ABC-xyz_09.:/"]
)
def test_accepted_client_order_ids(cid: str) -> None:
    assert validate_client_order_id(cid) == cid


@pytest.mark.parametrize("cid", ["", "x" * 37, "with space", "semi;colon", "ünï", "a+b", "a\n"])
def test_refused_client_order_ids(cid: str) -> None:
    with pytest.raises(InvalidOrderInput, match="client_order_id"):
        validate_client_order_id(cid)


def test_error_codes_are_described() -> None:
    assert "PERCENT_PRICE" in describe_error(-4131)
    assert "recvWindow" in describe_error(-1021)
    assert describe_error(-99999) == "unknown code"


async def test_futures_percent_price_band(futures_venue: FakeVenue) -> None:
    adapter = BinanceFuturesAdapter(Venue.DEMO, markets_cache=False)
    futures_venue.install(adapter.exchange)
    async with adapter:
        markets = await adapter.load_markets()
        band = percent_price_band(markets["HNT/USDT:USDT"], Decimal(10))
        assert band is not None
        low, high = band
        assert low < Decimal(10) < high
        assert "PERCENT_PRICE" in adapter.filters("HNT/USDT:USDT")
        with pytest.raises(InvalidOrderInput):
            adapter.filters("NOPE/USDT:USDT")


async def test_spot_percent_price_by_side(spot_venue: FakeVenue) -> None:
    adapter = BinanceSpotAdapter(Venue.DEMO, markets_cache=False)
    spot_venue.install(adapter.exchange)
    async with adapter:
        limits = (await adapter.load_markets())["BTC/USDT"]
    assert percent_price_band(limits, Decimal(100)) is None  # by side: needs the side
    buy = percent_price_band(limits, Decimal(100), Side.BUY)
    sell = percent_price_band(limits, Decimal(100), Side.SELL)
    assert buy is not None and sell is not None
    assert buy[0] < Decimal(100) < buy[1] and sell[0] < Decimal(100) < sell[1]


def test_symbols() -> None:
    spot = BinanceSpotAdapter(Venue.DEMO, markets_cache=False)
    fut = BinanceFuturesAdapter(Venue.DEMO, markets_cache=False)
    assert spot.symbol_for("eth", "usdt") == "ETH/USDT"
    assert fut.symbol_for("eth", "usdt") == "ETH/USDT:USDT"
