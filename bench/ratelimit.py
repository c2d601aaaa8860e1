"""Benchmark 2: rate-limit utilisation.

A TWAP of 200 parents (two waves, 400 children) through the Broker, on the real
``binance-futures`` adapter with ccxt's own rate limiter on, against the bundled
simulator with Binance futures' order-count limits enforced. The venue's ``ORDERS`` 10 s
limit is lowered (``LIMIT`` orders per 10 s) so that order pacing, not the run's other
requests, is what bounds the run and the whole benchmark stays short.

Figures, measured at the venue (in this process, on the simulator's own monotonic clock):

* utilisation = accepted orders / (limit rate x (last - first + one interval)). A client
  that fills every venue window to the brim scores 1.0: N orders need at least
  ``ceil(N / limit)`` windows, and the first window's burst is not counted as free.
* 429 answers to order requests (and to anything else).

The adapter paces order requests itself (``exsdk.adapter.pacing.OrderPacer``): it learns the
lowered limit from the simulator's exchangeInfo when it loads markets.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.common import Result, emit
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.broker import Broker, LimitPriceComputer, RetrySettings, TwapConfig, VirtualClock
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildStatus, Order
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

LIMIT = 100  # venue ORDERS per 10 s (Binance futures: 300 per 10 s, 1200 per minute)
INTERVAL = 10.0
PARENTS = 200
WAVES = 2
GOAL = 0.9
WEIGHT_LIMIT = 1_000_000
# ccxt's binanceusdm throttle defaults to 50 ms per cost unit (1200 weight a minute, half
# of what the futures venue allows); at that pace the collection requests of 400 children
# alone would take minutes. 5 ms keeps ccxt's limiter on and faster than the order limit.
CCXT_RATE_LIMIT_MS = 5
BASES = ("BTC", "ETH", "BNB", "SOL", "DOGE", "ADA", "LINK", "AVAX")
T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


class VenueCounter:
    """Counts the simulator's answers: accepted order times and 429s."""

    def __init__(self) -> None:
        self.accepted: list[float] = []
        self.order_429 = 0
        self.other_429 = 0

    def wrap(self, dispatch: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def counted(request: Any) -> Any:
            response = await dispatch(request)
            is_order = request.method == "POST" and request.path.endswith("/order")
            if response.status == 429:
                if is_order:
                    self.order_429 += 1
                else:
                    self.other_429 += 1
            elif is_order and response.status == 200:
                self.accepted.append(time.monotonic())
            return response

        return counted


class WaveClock(VirtualClock):
    """Wave boundaries in virtual time (no minute-long waits), back-off in real time.

    The broker's retries sleep through ``clock.sleep``; on a plain ``VirtualClock`` a
    venue's ``Retry-After`` would pass instantly and the retry hammer the venue, which no
    wall-clock run does. Here those sleeps are real and leave virtual time alone, so the
    TWAP behaves as if its waves were long enough for every retry.
    """

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _parents() -> list[Order]:
    out = []
    for i in range(PARENTS):
        base = BASES[i % len(BASES)]
        out.append(
            Order(
                order_id=i + 1,
                creation_timestamp=T0 - timedelta(seconds=1),
                asset_id=asset_id_for("binance", base, "USDT"),
                type_="price@twap",
                start_timestamp=T0,
                end_timestamp=T0 + timedelta(minutes=2),
                curr_num_shares=Decimal(0),
                diff_num_shares=Decimal("1000") if i % 2 == 0 else Decimal("-1000"),
                tz="UTC",
                extra_params={"ccxt_symbol": f"{base}/USDT:USDT"},
            )
        )
    return out


async def _run(journal_path: str) -> dict[str, Any]:
    import exsdk.simulator

    counter = VenueCounter()
    venue = exsdk.simulator.SimulatedBinance(
        seed=7,
        # The weight limit is raised so that order-count pacing alone is measured: ccxt at
        # CCXT_RATE_LIMIT_MS would overrun 2400 weight a minute with 400 collections.
        rate_limits={"futures:ORDERS:10S": LIMIT, "futures:REQUEST_WEIGHT:1M": WEIGHT_LIMIT},
        futures_balance="100000000",
    )
    venue._app.dispatch = counter.wrap(venue._app.dispatch)  # type: ignore[method-assign,assignment]
    await venue.start()
    adapter = get_adapter(
        "binance-futures",
        venue=Venue.SIM,
        base_url=venue.base_url,
        credentials=Credentials(venue=Venue.SIM, api_key=venue.api_key, secret=venue.secret),
        markets_cache=False,
        ccxt_options={"enableRateLimit": True, "rateLimit": CCXT_RATE_LIMIT_MS},
    )
    journal = Journal.open(journal_path)
    try:
        broker = Broker(
            adapter,
            Environment.LOCAL,  # every child forced to the venue minimum: margin is no issue
            journal,
            WaveClock(T0),
            run_id="paced",
            twap=TwapConfig(waves=WAVES, cancel_lead=1),
            limit_prices=LimitPriceComputer(Decimal("0"), max_age=None),
            retry=RetrySettings(initial=0.25, maximum=8.0),
        )
        started = time.monotonic()
        children = await broker.submit_orders(_parents())
        elapsed = time.monotonic() - started
    finally:
        journal.close()
        await adapter.close()
        await venue.stop()
    statuses = collections.Counter(str(c.status) for c in children)
    n = len(counter.accepted)
    span = (counter.accepted[-1] - counter.accepted[0]) if n > 1 else 0.0
    rate = LIMIT / INTERVAL
    utilisation = n / (rate * (span + INTERVAL)) if n else 0.0
    # The most orders any venue-aligned window saw (the simulator floors monotonic time).
    per_window = collections.Counter(math.floor(t / INTERVAL) for t in counter.accepted)
    return {
        "accepted": n,
        "children": len(children),
        "rejected": statuses.get(str(ChildStatus.REJECTED), 0),
        "statuses": dict(statuses),
        "order_429": counter.order_429,
        "other_429": counter.other_429,
        "span_s": span,
        "elapsed_s": elapsed,
        "orders_per_s": n / (span + INTERVAL) if n else 0.0,
        "utilisation": utilisation,
        "max_in_window": max(per_window.values()) if per_window else 0,
    }


def run(quick: bool = False) -> list[Result]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="bench-rl-", dir=Path.cwd()) as tmp:
        r = asyncio.run(_run(f"{tmp}/run.sqlite"))
    notes = [
        f"{r['accepted']} orders accepted of {r['children']} children "
        f"({r['rejected']} rejected), {r['order_429']} order 429s, {r['other_429']} other "
        f"429s, {r['orders_per_s']:.2f} orders/s vs limit {LIMIT / INTERVAL:.1f}/s "
        f"(utilisation {r['utilisation']:.3f}), most in one venue window "
        f"{r['max_in_window']}/{LIMIT}, run {r['elapsed_s']:.1f} s"
    ]
    limit_rate = LIMIT / INTERVAL
    clean = r["order_429"] + r["other_429"] == 0 and r["rejected"] == 0
    return [
        Result(
            name="2 rate-limit utilisation",
            sdk=r["orders_per_s"],
            reference=limit_rate,
            ratio=r["utilisation"],
            goal=f">= {GOAL} of limit, 0 x 429",
            passed=r["utilisation"] >= GOAL and clean,
            unit="orders/s",
            display={
                "sdk": f"{r['orders_per_s']:.2f} orders/s, {r['order_429']} x 429",
                "reference": f"limit {limit_rate:.1f} orders/s",
            },
            notes=notes,
            extra={"run": r, "limit_per_10s": LIMIT},
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    for result in run(quick=parser.parse_args().quick):
        emit(result)


if __name__ == "__main__":
    main()
