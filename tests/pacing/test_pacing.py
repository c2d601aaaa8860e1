"""The venue pacer keeps every window of the venue's limits, whatever the latency, and
no more; it reads the venue's own counts; it parses the venue's statements of limits."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from exsdk.adapter.pacing import (
    EndpointCost,
    OrderLimit,
    RequestCost,
    VenuePacer,
    WeightLimit,
    limits_from_message,
    limits_from_rate_limits,
    venue_counts,
)
from exsdk.broker import VirtualClock

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ORDER = RequestCost(weight=0, orders=1)


def _virtual(limits: list[OrderLimit | WeightLimit]) -> tuple[VenuePacer, VirtualClock]:
    clock = VirtualClock(T0)
    pacer = VenuePacer(limits, clock=lambda: (clock.now() - T0).total_seconds(), sleep=clock.sleep)
    return pacer, clock


def _most_in_any_window(times: list[float], seconds: float) -> int:
    """The most events in any half-open interval of ``seconds`` (so any fixed window)."""
    times = sorted(times)
    return max(
        (sum(1 for u in times[i:] if u - t < seconds) for i, t in enumerate(times)), default=0
    )


async def test_a_burst_is_spread_over_windows() -> None:
    pacer, clock = _virtual([OrderLimit(5, 10.0)])
    starts: list[float] = []
    for _ in range(12):
        ticket = await pacer.acquire(ORDER)
        starts.append((clock.now() - T0).total_seconds())
        pacer.finish(ticket)
    assert starts[:5] == [0.0] * 5
    assert all(10.0 < s < 10.1 for s in starts[5:10])
    assert all(20.0 < s < 20.1 for s in starts[10:])


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 8),
    seconds=st.sampled_from([1.0, 10.0]),
    requests=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    max_latency=st.sampled_from([0.0, 0.05, 0.5, 3.0, 12.0]),
)
async def test_no_venue_window_ever_holds_more_than_the_limit_whatever_the_latency(
    count: int, seconds: float, requests: int, seed: int, max_latency: float
) -> None:
    """Each request arrives at the venue at a random moment between its grant and its
    reply (queues before the wire, the wire, the venue's own queue): any fixed window of
    the venue's, at any alignment, holds at most ``count`` arrivals."""
    rng = random.Random(seed)
    pacer, clock = _virtual([OrderLimit(count, seconds), OrderLimit(count * 3, seconds * 6)])
    arrivals: list[float] = []

    async def one() -> None:
        ticket = await pacer.acquire(ORDER)
        latency = rng.uniform(0, max_latency)
        arrivals.append((clock.now() - T0).total_seconds() + rng.uniform(0, latency))
        await clock.sleep(latency)
        pacer.finish(ticket)

    await asyncio.gather(*(one() for _ in range(requests)))
    assert len(arrivals) == requests
    assert _most_in_any_window(arrivals, seconds) <= count
    assert _most_in_any_window(arrivals, seconds * 6) <= count * 3


async def test_weight_and_orders_are_paced_together_and_reads_do_not_wait_for_orders() -> None:
    pacer, clock = _virtual([OrderLimit(2, 10.0), WeightLimit(10, 60.0)])
    for _ in range(2):
        pacer.finish(await pacer.acquire(ORDER))
    # Orders are full for 10 s; a read of weight 5 still goes at once.
    read = await pacer.acquire(RequestCost(weight=5))
    assert clock.now() == T0
    pacer.finish(read)
    pacer.finish(await pacer.acquire(RequestCost(weight=5)))
    # Weight is full for a minute: the next read waits for it.
    pacer.finish(await pacer.acquire(RequestCost(weight=1)))
    assert (clock.now() - T0).total_seconds() > 60.0


async def test_a_request_in_flight_holds_its_slot_until_its_reply() -> None:
    pacer, clock = _virtual([OrderLimit(1, 1.0)])
    first = await pacer.acquire(ORDER)
    second = asyncio.ensure_future(pacer.acquire(ORDER))
    await clock.sleep(30.0)  # however long the reply takes
    assert not second.done()
    pacer.finish(first)
    await clock.sleep(0.5)
    assert not second.done()  # and one window after it
    pacer.finish(await second)
    assert 31.0 < (clock.now() - T0).total_seconds() < 31.1


async def test_the_venues_count_is_a_floor_under_the_local_one() -> None:
    """Another client used 8 of the 10 orders of this window: after the venue says so,
    only the remaining 2 (minus ours since) are granted before the window has passed."""
    pacer, clock = _virtual([OrderLimit(10, 10.0)])
    ticket = await pacer.acquire(ORDER)
    pacer.finish(ticket, {"X-MBX-ORDER-COUNT-10S": "9", "x-mbx-used-weight-1m": "40"})
    pacer.finish(await pacer.acquire(ORDER))
    assert clock.now() == T0
    times = [(clock.now() - T0).total_seconds()]
    for _ in range(3):
        # Replies without headers: the share kept for the other client stays.
        pacer.finish(await pacer.acquire(ORDER))
        times.append((clock.now() - T0).total_seconds())
    assert 10.0 < times[1] <= times[2] < 20.0  # two in the next window, not ten
    assert times[3] > 20.0


async def test_without_other_clients_the_venues_count_costs_nothing() -> None:
    pacer, clock = _virtual([OrderLimit(10, 10.0)])
    for n in range(1, 11):
        pacer.finish(await pacer.acquire(ORDER), {"X-MBX-ORDER-COUNT-10S": str(n)})
    assert clock.now() == T0


async def test_retry_after_holds_orders_or_everything() -> None:
    pacer, clock = _virtual([OrderLimit(10, 10.0), WeightLimit(100, 60.0)])
    pacer.block_for(7.5, orders_only=True)
    assert pacer.held(orders=True) == 7.5 and pacer.held() == 0.0
    pacer.finish(await pacer.acquire(RequestCost(weight=1)))
    assert clock.now() == T0
    pacer.finish(await pacer.acquire(ORDER))
    assert (clock.now() - T0).total_seconds() == 7.5
    pacer.block_for(60.0)  # a 418: the IP is banned, every request waits
    pacer.finish(await pacer.acquire(RequestCost(weight=1)))
    assert (clock.now() - T0).total_seconds() == 67.5


async def test_no_limits_means_no_wait() -> None:
    pacer, clock = _virtual([])
    for _ in range(100):
        pacer.finish(await pacer.acquire(ORDER))
    assert clock.now() == T0


def test_limits_are_read_from_exchange_info_and_tightened_by_a_rejection() -> None:
    rate_limits = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 6100},
    ]
    pacer = VenuePacer(limits_from_rate_limits(rate_limits))
    assert pacer.limits == [OrderLimit(300, 10.0), OrderLimit(1200, 60.0), WeightLimit(2400, 60.0)]
    text = '{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}'
    pacer.update(limits_from_message(text))
    weight = (
        '{"code":-1003,"msg":"Too much request weight used; current limit is 1200 request '
        'weight per 1 MINUTE. Please use the websocket for live updates to avoid polling."}'
    )
    pacer.update(limits_from_message(weight))
    assert pacer.limits == [OrderLimit(50, 10.0), OrderLimit(1200, 60.0), WeightLimit(1200, 60.0)]
    assert limits_from_rate_limits("garbage") == []
    assert limits_from_message("no limit here") == []


def test_venue_counts_are_read_from_binance_headers() -> None:
    headers = {
        "X-MBX-USED-WEIGHT-1M": "37",
        "X-MBX-ORDER-COUNT-10S": "3",
        "x-mbx-order-count-1d": "12",
        "X-MBX-ORDER-COUNT-1M": "not a number",
        "Retry-After": "4",
    }
    assert sorted(venue_counts(headers)) == [
        ("ORDERS", 10.0, 3),
        ("ORDERS", 86400.0, 12),
        ("REQUEST_WEIGHT", 60.0, 37),
    ]


def test_endpoint_costs() -> None:
    depth = EndpointCost(by_limit=((50, 2), (100, 5), (500, 10), (1000, 20)), default_limit=500)
    assert depth.cost({"limit": 5}).weight == 2
    assert depth.cost({}).weight == 10
    assert depth.cost({"limit": 5000}).weight == 20
    open_orders = EndpointCost(1, without_symbol=40)
    assert open_orders.cost({"symbol": "BTCUSDT"}).weight == 1
    assert open_orders.cost({}).weight == 40
    trades = EndpointCost(20, with_params=(("orderId", 5),))
    assert trades.cost({"symbol": "BTCUSDT", "orderId": 1}).weight == 5
    assert EndpointCost(0, orders=1).cost({}) == RequestCost(weight=0, orders=1)


async def test_a_limit_learnt_late_counts_what_was_sent_before() -> None:
    """exchangeInfo states a 1 s weight limit after that very request was sent."""
    pacer, clock = _virtual([WeightLimit(100, 60.0)])
    for _ in range(5):
        pacer.finish(await pacer.acquire(RequestCost(weight=1)))
    pacer.update([WeightLimit(5, 1.0)])
    pacer.finish(await pacer.acquire(RequestCost(weight=1)))
    assert (clock.now() - T0).total_seconds() > 1.0
