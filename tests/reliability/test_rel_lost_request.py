"""A create whose request is still on its way when the broker gives up on it.

Binance executes a signed request that reaches its engine within ``recvWindow`` of its
timestamp, however late the client stopped waiting. A lookup that finds nothing before
then proves nothing: these tests hold a create in the venue's queue (a latency fault)
while the broker looks, and check that it never resends or abandons the child.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

import pytest

import exsdk.simulator
from exsdk.broker import BrokerEvent, VirtualClock, resume_run
from exsdk.broker.submission import request_expiry
from exsdk.journal import Journal
from exsdk.models import ChildStatus

from .rel_support import (
    ETH_ID,
    ORDER_PATH,
    T0,
    RunResult,
    build_adapter,
    check_invariants,
    make_broker,
    open_orders_left,
    run_twap,
    twap_parent,
    venue_orders,
)


def test_request_expiry_comes_from_the_adapter() -> None:
    class Stated:
        request_expiry = 2.5

    class Exchange:
        options: ClassVar[dict[str, int]] = {"recvWindow": 5000}

    class Ccxt:
        exchange = Exchange()

    assert request_expiry(Stated()) == 2.5
    assert request_expiry(Ccxt()) == 5.0
    assert request_expiry(object()) == 0.0


@pytest.mark.parametrize("name", ["binance-futures", "binance-spot"])
async def test_a_late_create_is_adopted_not_duplicated(name: str, tmp_path: Path) -> None:
    async with exsdk.simulator.SimulatedBinance(seed=7) as venue:
        # Longer than ccxt's timeout, shorter than recvWindow: executed after the
        # client gave up, and after the first lookup found nothing.
        venue.admin.inject_fault("latency", "POST", ORDER_PATH[name], calls=[1], seconds=0.5)
        with Journal.open(tmp_path / "j.sqlite") as journal:
            async with build_adapter(name, venue) as adapter:
                result = await run_twap(adapter, journal, "late1", [twap_parent(1, ETH_ID, "0.1")])
            await venue.wait_idle()
            assert check_invariants(venue, journal, result) == []
            assert result.adopted == 1 and result.finished
            assert len(venue_orders(venue, "late1")) == 3  # one per wave, none twice


async def test_resume_waits_for_a_request_still_on_its_way(tmp_path: Path) -> None:
    """The process dies with a create in the venue's queue; resume runs at once."""
    name = "binance-futures"
    async with exsdk.simulator.SimulatedBinance(seed=7) as venue:
        venue.admin.inject_fault("latency", "POST", ORDER_PATH[name], calls=[1], seconds=0.5)
        path = tmp_path / "j.sqlite"
        with Journal.open(path) as journal:
            async with build_adapter(name, venue, ccxt_options={"timeout": 5000}) as adapter:
                events: list[BrokerEvent] = []
                broker = make_broker(adapter, journal, "crash1", events)
                task = asyncio.create_task(broker.submit_orders([twap_parent(1, ETH_ID, "0.1")]))
                while not any(e["method"] == "POST" for e in venue.admin.request_log()):
                    await asyncio.sleep(0.01)
                task.cancel()  # the "crash": the reply will never be read
                with pytest.raises(asyncio.CancelledError):
                    await task
        assert venue_orders(venue, "crash1") == []  # still queued on the venue
        with Journal.open(path) as journal:
            assert list(journal.children("crash1")["status"]) == ["intent"]
            async with build_adapter(name, venue) as adapter:
                children = await resume_run("crash1", adapter, journal, VirtualClock(T0))
                fills = {f.parent_order_id: f.quantity for f in await _fills(adapter, journal)}
            await venue.wait_idle()
            result = RunResult("crash1", True, None, 0, 0, fills)
            assert check_invariants(venue, journal, result) == []
            first = next(c for c in children if c.wave == 0)
            assert first.status != ChildStatus.REJECTED and first.ccxt_order_id is not None
            assert len(venue_orders(venue, "crash1")) == len({c.wave for c in children})
            assert open_orders_left(venue, "crash1") == 0


async def _fills(adapter: object, journal: Journal) -> list[object]:
    from exsdk.broker import broker_for_run

    broker = broker_for_run("crash1", adapter, journal, VirtualClock(T0))  # type: ignore[arg-type]
    return list(await broker.get_fills())
