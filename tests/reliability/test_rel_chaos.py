"""Chaos: both Binance adapters through a transport fault injector of the tests' own.

:class:`~tests.reliability.fault_proxy.FaultProxy` sits between the adapter and a
simulator and, seeded, breaks a fifth of all requests (cut bodies, resets before and
after forwarding, late delivery after the client's timeout, 502/504 after forwarding,
truncated JSON, delays past the timeout). Many TWAP parents run their waves at once.
After each run the four invariants are judged by the simulator's own records (its admin
API's orders and their trades): no client order id with two venue orders, no venue trade
missing from the journal, no parent whose OMS fill differs from its venue trades, no
venue order unknown to the journal. A run that cannot reconcile stops with
``RunNotReconciled``; it is then resumed, as a user would, until it finishes.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import exsdk.simulator
from exsdk.broker import BrokerEvent
from exsdk.errors import RunNotReconciled
from exsdk.journal import Journal
from exsdk.models import Order

from .fault_proxy import FaultProxy, stats_line
from .rel_support import (
    ADAPTERS,
    BTC_ID,
    CCXT_TIMEOUT_MS,
    ETH_ID,
    TOTALS,
    RunResult,
    build_adapter,
    check_invariants,
    make_broker,
    open_orders_left,
    twap_parent,
    venue_orders,
)

RATE = 0.2


def chaos_parents(count: int) -> list[Order]:
    """``count`` parents, buys and sells on ETH and BTC, all in one TWAP window."""
    parents = []
    for i in range(count):
        if i % 2:
            parents.append(twap_parent(i + 1, BTC_ID, "-0.004" if i % 4 == 1 else "0.003"))
        else:
            parents.append(twap_parent(i + 1, ETH_ID, "0.12" if i % 4 == 0 else "-0.1"))
    return parents


def journal_fills(journal: Journal, run_id: str) -> dict[int, Decimal]:
    """Each parent's OMS fills summed, as journaled (what was reported, durably)."""
    fills: dict[int, Decimal] = {}
    frame = journal.fills(run_id)
    for parent, quantity in zip(frame["parent_order_id"], frame["quantity"], strict=True):
        fills[int(parent)] = fills.get(int(parent), Decimal(0)) + Decimal(quantity)
    return fills


async def chaos_run(
    name: str, seed: int, tmp_path: Path, *, parents: int = 8, waves: int = 5
) -> dict[str, Any]:
    """One faulted run (resumed until it finishes); its figures and broken invariants."""
    run_id = f"c{seed}{name.removeprefix('binance-')[:2]}"
    async with (
        exsdk.simulator.SimulatedBinance(seed=seed) as venue,
        FaultProxy(venue.base_url, seed=seed, rate=RATE, timeout=CCXT_TIMEOUT_MS / 1000) as proxy,
    ):
        front = SimpleNamespace(base_url=proxy.base_url, api_key=venue.api_key, secret=venue.secret)
        with Journal.open(tmp_path / f"{run_id}.sqlite") as journal:
            async with build_adapter(name, front) as adapter:
                events: list[BrokerEvent] = []
                broker = make_broker(adapter, journal, run_id, events, waves=waves)
                resumes = 0
                try:
                    await broker.submit_orders(chaos_parents(parents))
                except RunNotReconciled:
                    resumes += 1
                while resumes and resumes < 6:
                    try:
                        await make_broker(adapter, journal, run_id, events).resume()
                        break
                    except RunNotReconciled:
                        resumes += 1
                await broker.get_fills()
            await proxy.wait_idle()
            await venue.wait_idle()
            fills = journal_fills(journal, run_id)
            finished = "finished" in set(journal.run_events(run_id)["event"])
            result = RunResult(run_id, finished, None, 0, 0, fills)
            broken = check_invariants(venue, journal, result)
            orders = venue_orders(venue, run_id)
            figures = {
                "requests": proxy.requests,
                "faults": proxy.faults,
                "orders": len(orders),
                "trades": sum(len(o["fills"]) for o in orders),
                "resumes": resumes,
                "open_left": open_orders_left(venue, run_id),
                "broken": broken,
                "stats": stats_line(proxy),
            }
    return figures


def _add(figures: dict[str, Any]) -> None:
    for key in ("requests", "faults", "orders", "trades", "resumes"):
        TOTALS[key] = TOTALS.get(key, 0) + int(figures[key])
    broken: list[str] = figures["broken"]
    TOTALS["duplicates"] = TOTALS.get("duplicates", 0) + sum("several venue" in b for b in broken)
    TOTALS["unjournaled"] = TOTALS.get("unjournaled", 0) + sum("not journaled" in b for b in broken)
    TOTALS["mismatches"] = TOTALS.get("mismatches", 0) + sum("OMS fill" in b for b in broken)
    TOTALS["unknown orders"] = TOTALS.get("unknown orders", 0) + sum(
        "unknown to the journal" in b for b in broken
    )
    TOTALS["runs"] = TOTALS.get("runs", 0) + 1


@pytest.mark.parametrize("name", ADAPTERS)
async def test_chaos_twenty_parents_five_waves(name: str, tmp_path: Path) -> None:
    """The issue's shape: 20 TWAP parents x 5 waves at once, a fifth of requests faulted."""
    figures = await chaos_run(name, 11, tmp_path, parents=20)
    _add(figures)
    print(f"\n{name} seed 11: {figures}")
    assert figures["faults"] > 0
    assert figures["broken"] == [], figures
    assert figures["open_left"] == 0, figures


# Requests through the injector the soak must reach across both adapters (bounded: at
# most _SOAK_ROUNDS rounds); SOAK_MIN_REQUESTS raises it for a longer run by hand.
_SOAK_MIN = int(os.environ.get("SOAK_MIN_REQUESTS", "2000"))
_SOAK_ROUNDS = max(8, _SOAK_MIN // 200)


async def test_soak_both_adapters(tmp_path: Path) -> None:
    """Seeded rounds of faulted runs, both adapters at once, until the soak's request count."""
    requests = 0
    rounds = 0
    while requests < _SOAK_MIN and rounds < _SOAK_ROUNDS:
        seed = 100 + rounds
        results = await asyncio.gather(
            *(chaos_run(name, seed, tmp_path / f"{seed}") for name in ADAPTERS)
        )
        for name, figures in zip(ADAPTERS, results, strict=True):
            _add(figures)
            requests += int(figures["requests"])
            assert figures["broken"] == [], (name, seed, figures)
            assert figures["open_left"] == 0, (name, seed, figures)
        rounds += 1
    assert requests >= _SOAK_MIN, f"only {requests} requests in {rounds} rounds"
