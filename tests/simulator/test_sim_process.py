"""``python -m exsdk.simulator`` as a process, driven over HTTP by AdminClient."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import ccxt.async_support as ccxt_async

from exsdk.simulator import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    AdminClient,
    SimulatedBinance,
    point_ccxt_at,
)

ROOT = Path(__file__).resolve().parents[2]


async def test_process_and_admin_client() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--seed",
        "7",
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        match = re.fullmatch(r"simulator listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        base_url = match.group(1)
        async with AdminClient(base_url) as admin:
            await admin.set_price("ETHUSDT", "3100", market="futures")
            book = await admin.book("ETHUSDT", "futures")
            assert book["mid"] == "3100.00"
            await admin.inject_fault("http_error", "GET", "/fapi/v1/time", calls=1, status=503)
            ex = point_ccxt_at(
                ccxt_async.binanceusdm(
                    {"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_SECRET, "enableRateLimit": False}
                ),
                base_url,
            )
            try:
                await ex.load_markets()
                order = await ex.create_order("ETH/USDT:USDT", "market", "buy", 1)
                assert order["status"] == "closed"
            finally:
                await ex.close()
            orders = await admin.orders("futures")
            assert [o["status"] for o in orders] == ["FILLED"]
            assert len(orders[0]["fills"]) >= 2
            positions = await admin.positions()
            assert positions[0]["symbol"] == "ETHUSDT"
            log = await admin.request_log()
            assert any(e["path"] == "/fapi/v1/order" for e in log)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_auto_tick_moves_prices() -> None:
    async with SimulatedBinance(seed=5, tick_seconds=0.05) as v:
        before = v.state.futures.books["BTCUSDT"].mid
        await asyncio.sleep(0.3)
        assert v.state.futures.books["BTCUSDT"].mid != before


async def test_manual_ticks_only_by_default(venue: SimulatedBinance) -> None:
    before = venue.state.spot.books["BTCUSDT"].mid
    await asyncio.sleep(0.1)
    assert venue.state.spot.books["BTCUSDT"].mid == before
    venue.admin.tick(3)
    assert venue.state.spot.books["BTCUSDT"].mid != before
