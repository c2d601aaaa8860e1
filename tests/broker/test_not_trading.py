"""A market the venue does not trade now is refused before anything is sent for it.

On the real 2025-11 Binance USD-M exchangeInfo (the simulator's default snapshot) EOSUSDT
has status SETTLING, which ccxt reads as ``active: False``. A batch with an EOS parent:
the EOS child is rejected with one line naming the symbol and the status, nothing is sent
for EOSUSDT (no book read, no order), and the rest of the batch runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

import exsdk.simulator
from exsdk.broker import BrokerEvent, ChildRejected
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildStatus, OrderKind
from exsdk.universe import asset_id_for

from .conftest import ETH_ID, parent
from .test_broker_sim import broker, build_adapter

EOS_ID = asset_id_for("binance", "EOS", "USDT")
LINE = "not trading on binanceusdm now (status 'SETTLING'): not sent"


@pytest.fixture
async def venue() -> AsyncIterator[Any]:
    async with exsdk.simulator.SimulatedBinance(seed=7) as sim:  # the newest snapshot
        yield sim


def test_the_snapshot_really_lists_eos_as_settling() -> None:
    # The premise, read from the recorded file itself rather than assumed.
    data = resources.files("exsdk.simulator") / "data/futures_exchange_info_2025-11_selected.json"
    status = {s["symbol"]: s["status"] for s in json.loads(data.read_text())["symbols"]}
    assert status["EOSUSDT"] == "SETTLING" and status["ETHUSDT"] == "TRADING"


@pytest.mark.parametrize("kind", [OrderKind.TWAP, OrderKind.MARKET, OrderKind.LIMIT])
async def test_a_settling_market_is_refused_before_sending_and_the_batch_goes_on(
    venue: Any, journal: Journal, kind: OrderKind
) -> None:
    events: list[BrokerEvent] = []
    async with build_adapter("binance-futures", venue) as adapter:
        markets = await adapter.load_markets()
        assert markets["EOS/USDT:USDT"].active is False  # ccxt's reading of SETTLING
        assert markets["ETH/USDT:USDT"].active is True
        venue.admin.clear_request_log()
        b = broker(adapter, journal, env=Environment.LOCAL, events=events, waves=2)
        children = await b.submit_orders(
            [parent(1, EOS_ID, "30", str(kind)), parent(2, ETH_ID, "0.05", str(kind))]
        )
    eos = [c for c in children if c.parent_order_id == 1]
    eth = [c for c in children if c.parent_order_id == 2]
    # One child, refused with one line, in the first wave only.
    assert [(c.symbol, c.status, c.reason, c.ccxt_order_id) for c in eos] == [
        ("EOS/USDT:USDT", ChildStatus.REJECTED, LINE, None)
    ]
    rejected = [e for e in events if isinstance(e, ChildRejected)]
    assert [e.reason for e in rejected] == [LINE]
    # Nothing was sent for EOSUSDT: no book read, no order. The one request naming it is
    # the run's closing reconciliation (a read of the run's orders on every parent's
    # symbol, which a resume after a crash relies on).
    about_eos = [
        (r["method"], r["path"])
        for r in venue.admin.request_log()
        if "EOSUSDT" in json.dumps(r.get("params"))
    ]
    assert set(about_eos) <= {("GET", "/fapi/v1/allOrders")}, about_eos
    assert not [o for o in venue.admin.orders() if o["symbol"] == "EOSUSDT"]
    assert eth and all(c.ccxt_order_id is not None for c in eth)
    assert sum((c.filled for c in eth), Decimal(0)) > 0


async def test_a_symbol_that_is_no_market_is_refused_and_the_run_still_finishes(
    venue: Any, journal: Journal
) -> None:
    async with build_adapter("binance-futures", venue) as adapter:
        b = broker(adapter, journal, env=Environment.LOCAL)
        children = await b.submit_orders(
            [
                parent(1, EOS_ID, "30", "market", symbol="NOPE/USDT:USDT"),
                parent(2, ETH_ID, "0.05", "market"),
            ]
        )
    nope = [c for c in children if c.parent_order_id == 1]
    assert [(c.status, c.reason) for c in nope] == [
        (ChildStatus.REJECTED, "NOPE/USDT:USDT: not a market here")
    ]
    assert [c.status for c in children if c.parent_order_id == 2] == [ChildStatus.CLOSED]
    # The run is reconciled and finished: the venue was never asked about a non-market.
    assert "finished" in list(journal.run_events("sim1")["event"])
    assert "NOPE" not in json.dumps(venue.admin.request_log())
