"""Scripted faults, observed through ccxt and the admin state."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from exsdk.simulator import SimulatedBinance

SYM = "BTC/USDT:USDT"
PATH = "/fapi/v1/order"


async def test_latency(venue: SimulatedBinance, fut_ex: Any) -> None:
    venue.admin.inject_fault("latency", "GET", "/fapi/v1/depth", seconds=0.3)
    start = time.monotonic()
    await fut_ex.fetch_order_book(SYM, 5)
    assert time.monotonic() - start >= 0.3


@pytest.mark.parametrize(
    ("kind", "status", "exc"),
    [
        ("http_error", 502, ccxt.OperationFailed),
        ("html_error", 503, ccxt.ExchangeNotAvailable),
        ("rate_limit", 429, ccxt.DDoSProtection),
    ],
)
async def test_error_faults_do_not_place(
    venue: SimulatedBinance, fut_ex: Any, kind: str, status: int, exc: type
) -> None:
    venue.admin.inject_fault(kind, "POST", PATH, calls=[2], status=status)
    await fut_ex.create_order(SYM, "market", "buy", 0.002)
    with pytest.raises(exc):
        await fut_ex.create_order(SYM, "market", "buy", 0.002)
    await fut_ex.create_order(SYM, "market", "buy", 0.002)
    assert len(venue.admin.orders("futures")) == 2


async def test_internal_error_body(venue: SimulatedBinance, fut_ex: Any) -> None:
    venue.admin.inject_fault("http_error", "POST", PATH, status=500)
    with pytest.raises(ccxt.BaseError, match="-1001"):
        await fut_ex.create_order(SYM, "market", "buy", 0.002)
    assert venue.admin.orders("futures") == []


@pytest.mark.parametrize("status", [408, 503])
async def test_timeout_unknown_places_order(
    venue: SimulatedBinance, fut_ex: Any, status: int
) -> None:
    venue.admin.inject_fault("timeout_unknown", "POST", PATH, calls=1, status=status)
    with pytest.raises(ccxt.RequestTimeout, match="-1007"):
        await fut_ex.create_order(SYM, "market", "buy", 0.002, None, {"clientOrderId": "t-1"})
    placed = await fut_ex.fetch_order(None, SYM, {"clientOrderId": "t-1"})
    assert placed["status"] == "closed"


async def test_drop_after_accept_places_order(venue: SimulatedBinance, fut_ex: Any) -> None:
    venue.admin.inject_fault("drop_after_accept", "POST", PATH, calls=1)
    with pytest.raises(ccxt.NetworkError):
        await fut_ex.create_order(SYM, "market", "buy", 0.002, None, {"clientOrderId": "d-1"})
    assert [o["clientOrderId"] for o in venue.admin.orders("futures")] == ["d-1"]


async def test_reset_before_does_not_place(venue: SimulatedBinance, fut_ex: Any) -> None:
    venue.admin.inject_fault("reset_before", "POST", PATH)
    with pytest.raises(ccxt.NetworkError):
        await fut_ex.create_order(SYM, "market", "buy", 0.002)
    assert venue.admin.orders("futures") == []
    venue.admin.clear_faults()
    await fut_ex.create_order(SYM, "market", "buy", 0.002)
    assert len(venue.admin.orders("futures")) == 1


async def test_same_script_same_results() -> None:
    outcomes = []
    for _ in range(2):
        async with SimulatedBinance(seed=3) as v:
            v.admin.inject_fault("http_error", "POST", "/api/v3/order", calls=[2, 3])
            from .conftest import make_exchange

            ex = make_exchange(v, futures=False)
            try:
                await ex.load_markets()
                run = []
                for _ in range(4):
                    try:
                        o = await ex.create_order("ETH/USDT", "market", "buy", 0.05)
                        run.append(o["average"])
                    except ccxt.BaseError as err:
                        run.append(type(err).__name__)
                    v.admin.tick(1)
                outcomes.append(run)
            finally:
                await ex.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == outcomes[0][2] == "OperationFailed"
