"""``python -m exsdk.simulator`` as a process, driven over HTTP by AdminClient."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

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


def test_simulator_command_serves_the_newest_snapshots_unless_told(monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    import exsdk.simulator.server
    from exsdk.app.cli import app

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(exsdk.simulator.server, "run_forever", lambda *a, **kw: served.append(kw))
    runner = CliRunner()
    assert runner.invoke(app, ["simulator"]).exit_code == 0
    assert "futures_snapshot" not in served[0] and "spot_snapshot" not in served[0]
    assert SimulatedBinance().state.futures.info.raw["serverTime"] == 1764128170037  # 2025-11
    result = runner.invoke(
        app, ["simulator", "--futures-snapshot", "2021-09", "--clock-speed", "20"]
    )
    assert result.exit_code == 0, result.output
    assert served[1]["futures_snapshot"] == (
        "futures_exchange_info_2021-09_selected_with_hntusdt.json"
    )
    assert served[1]["clock_speed"] == 20
    bad = runner.invoke(app, ["simulator", "--futures-snapshot", "1999-01"])
    assert bad.exit_code != 0
    assert "futures_exchange_info_2025-11_selected.json" in bad.output


def test_simulator_command_refuses_a_clock_speed_that_is_not_a_positive_number(
    monkeypatch: Any,
) -> None:
    from typer.testing import CliRunner

    import exsdk.simulator.server
    from exsdk.app.cli import app

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the simulator was started")

    monkeypatch.setattr(exsdk.simulator.server, "run_forever", never)
    for bad in ("0", "-2", "inf", "nan"):
        result = CliRunner().invoke(app, ["simulator", "--clock-speed", bad])
        assert result.exit_code != 0 and "--clock-speed" in result.output, (bad, result.output)
