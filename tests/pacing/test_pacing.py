"""The venue pacer keeps every window of the venue's limits, whatever the latency, and
no more; it reads the venue's own counts; it parses the venue's statements of limits."""

from __future__ import annotations

import asyncio
import math
import random
import re
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.pacing import (
    EndpointCost,
    OrderLimit,
    RequestCost,
    VenuePacer,
    WeightLimit,
    limits_from_message,
    limits_from_rate_limits,
    reply_stamp,
    venue_counts,
)
from exsdk.broker import VirtualClock
from exsdk.registry import get_adapter

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ORDER = RequestCost(weight=0, orders=1)
STAMPED = RequestCost(weight=0, orders=1, stamps=("updateTime",))


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


class VenueClocks:
    """The venue's two clocks, each off ours by an offset and a rate error: the one its
    limiter counts windows on, and the one it stamps replies with."""

    def __init__(self, rng: random.Random, skew: float) -> None:
        self.window_rate = 1 + rng.uniform(-skew, skew)
        self.window_offset = rng.uniform(0, 1000.0)
        self.stamp_rate = 1 + rng.uniform(-skew, skew)
        self.stamp_offset = 1.7e9 + rng.uniform(-5.0, 5.0)

    def window_time(self, local: float) -> float:
        return self.window_offset + local * self.window_rate

    def stamp_ms(self, local: float) -> int:
        return math.floor((self.stamp_offset + local * self.stamp_rate) * 1000)


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 8),
    seconds=st.sampled_from([1.0, 10.0]),
    requests=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    max_latency=st.sampled_from([0.0, 0.05, 0.5, 3.0, 12.0]),
    skew=st.sampled_from([0.0, 1e-5, 1e-4]),
    unstamped=st.sampled_from([0.0, 0.2]),
)
async def test_venue_stamps_free_slots_early_but_never_overrun_a_window(
    count: int,
    seconds: float,
    requests: int,
    seed: int,
    max_latency: float,
    skew: float,
    unstamped: float,
) -> None:
    """Each request arrives at a random moment between grant and reply; the venue stamps
    it at a random moment between its arrival and its reply, on a clock of its own (any
    offset, a rate error up to 100 ppm), and counts it in fixed windows on another such
    clock; some replies carry no stamp (a transport error). In the venue's window clock,
    any window of ``seconds`` at any alignment holds at most ``count`` arrivals."""
    rng = random.Random(seed)
    clocks = VenueClocks(rng, skew)
    pacer, clock = _virtual([OrderLimit(count, seconds), OrderLimit(count * 3, seconds * 6)])
    arrivals: list[float] = []

    def now() -> float:
        return (clock.now() - T0).total_seconds()

    async def one() -> None:
        ticket = await pacer.acquire(STAMPED)
        granted = now()
        latency = rng.uniform(0, max_latency)
        arrived = granted + rng.uniform(0, latency)
        stamped = rng.uniform(arrived, granted + latency)
        arrivals.append(clocks.window_time(arrived))
        await clock.sleep(latency)
        if rng.random() < unstamped:
            pacer.finish(ticket)
        else:
            body = f'{{"orderId":1,"updateTime":{clocks.stamp_ms(stamped)}}}'
            pacer.finish(ticket, {}, body)

    await asyncio.gather(*(one() for _ in range(requests)))
    assert len(arrivals) == requests
    assert _most_in_any_window(arrivals, seconds) <= count
    assert _most_in_any_window(arrivals, seconds * 6) <= count * 3


async def test_a_reply_read_late_does_not_hold_its_slot_for_its_read_delay() -> None:
    """One order a second. The first reply comes at once (it tells the venue's clock);
    the second is stamped on arrival but read 5 s later: the third goes when that reply
    is read, not a window after it."""
    pacer, clock = _virtual([OrderLimit(1, 1.0)])

    def now() -> float:
        return (clock.now() - T0).total_seconds()

    def stamped(at: float) -> str:
        return f'{{"updateTime":{round((1.7e9 + at) * 1000)}}}'

    first = await pacer.acquire(STAMPED)
    pacer.finish(first, {}, stamped(now()))
    second = await pacer.acquire(STAMPED)
    sent = now()
    assert 1.0 < sent < 1.1
    await clock.sleep(5.0)
    pacer.finish(second, {}, stamped(sent))
    third = await pacer.acquire(STAMPED)
    assert sent + 5.0 <= now() < sent + 5.001
    pacer.finish(third)
    # Without a stamp a reply holds the slot a window after it was read.
    pacer.finish(await pacer.acquire(STAMPED))
    assert now() > sent + 6.0


async def test_a_stamp_from_before_the_grant_is_not_trusted() -> None:
    """The venue's clock stepped back 30 s (or the stamp is another event's): mapped by
    what was learnt before, the order would have arrived before it was sent. The pacer
    counts it until a window after its reply, as without a stamp."""
    pacer, clock = _virtual([OrderLimit(1, 1.0)])

    def now() -> float:
        return (clock.now() - T0).total_seconds()

    first = await pacer.acquire(STAMPED)
    pacer.finish(first, {}, f'{{"updateTime":{round(1.7e12)}}}')
    second = await pacer.acquire(STAMPED)
    sent = now()
    await clock.sleep(3.0)
    pacer.finish(second, {}, f'{{"updateTime":{round((1.7e9 + sent - 30.0) * 1000)}}}')
    pacer.finish(await pacer.acquire(STAMPED))
    assert now() > sent + 3.0 + 1.0


def test_reply_stamps_are_read_from_the_body() -> None:
    fields = ("transactTime", "workingTime")
    # Binance spot's FULL reply states them as strings; the later one bounds the arrival.
    body = '{"orderId":"9780331417","transactTime":"1737635557417","workingTime":1737635557418}'
    assert reply_stamp(body, fields) == 1737635557418
    assert reply_stamp(b'{"updateTime": 1739781831932}', ("updateTime",)) == 1739781831932
    assert reply_stamp('{"orderId":1}', fields) is None
    assert reply_stamp(None, fields) is None
    assert reply_stamp('{"transactTimeX":5}', fields) is None


def _stamp_by_regex(body: str, fields: tuple[str, ...]) -> int | None:
    """The reading reply_stamp gives, as one regular expression over the whole body."""
    names = "|".join(re.escape(f) for f in fields)
    pattern = re.compile(rf'"(?:{names})"\s*:\s*"?(\d{{1,16}})\b')
    found = [int(m[1]) for m in pattern.finditer(body)]
    return max(found) if found else None


_STAMP_FIELDS = (
    ("updateTime",),
    ("transactTime", "workingTime"),
    ("time",),
    ("time", "updateTime", "Time"),
    ("a", "ab", "b"),
    ("1",),
    ("1", "12"),
    (),
)
_STAMP_PARTS = st.sampled_from(
    [
        '"updateTime"',
        '"transactTime"',
        '"workingTime"',
        '"time"',
        '"Time"',
        '"a"',
        '"ab"',
        '"b"',
        '"1"',
        '"12"',
        '""',
        '"',
        ":",
        " ",
        "\n",
        ",",
        "{",
        "}",
        "0",
        "7",
        "1739781831932",
        "12345678901234567",
        "١٢",
        "x",
        "_",
        "-",
        "null",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_STAMP_PARTS, max_size=14), st.sampled_from(_STAMP_FIELDS))
@example(['"1"', ":", '"1"', ":", "7"], ("1",))  # a match's own text is not searched again
@example(['"12"', ":", '"1"', ":", "7"], ("1", "12"))
@example(['""', ":", "7"], ())
@example(['"time"', ":", "12345678901234567", ",", '"time"', ":", "5"], ("time",))
def test_reply_stamp_reads_what_the_whole_body_regex_reads(
    parts: list[str], fields: tuple[str, ...]
) -> None:
    body = "".join(parts)
    assert reply_stamp(body, fields) == _stamp_by_regex(body, fields)
    assert reply_stamp(body.encode(), fields) == _stamp_by_regex(body, fields)


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


def test_bybits_counts_are_read_from_its_limit_headers() -> None:
    adapter = get_adapter(
        "bybit-linear",
        venue=Venue.SIM,
        base_url="http://127.0.0.1:9",  # never contacted
        credentials=Credentials(venue=Venue.SIM, api_key="k" * 18, secret="s" * 36),
        markets_cache=False,
    )
    create = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "3", "X-Bapi-Limit-Reset-Timestamp": "1"}
    assert adapter.venue_counts(create, ORDER) == [("ORDERS", 1.0, 7)]
    lower = {"x-bapi-limit": "50", "x-bapi-limit-status": "50"}  # (HTTP/2 lowercases)
    assert adapter.venue_counts(lower, RequestCost(weight=1)) == [("REQUEST_WEIGHT", 1.0, 0)]
    # Incomplete, unreadable or impossible: nothing is said (the local count stands).
    assert adapter.venue_counts({"X-Bapi-Limit": "10"}, ORDER) == []
    assert adapter.venue_counts({"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "x"}, ORDER) == []
    assert adapter.venue_counts({"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "11"}, ORDER) == []
    # An order endpoint's limit is adopted (the pacer keeps the lower), no other one.
    assert adapter.venue_limits(create, ORDER) == [OrderLimit(10, 1.0)]
    assert adapter.venue_limits(lower, RequestCost(weight=1)) == []
    assert adapter.venue_limits({"X-Bapi-Limit": "0"}, ORDER) == []
    # The example of Bybit's rate-limit page (../shared/data/bybit_samples/bybit_api_notes.md).
    documented = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Bapi-Limit": "100",
        "X-Bapi-Limit-Status": "99",
        "X-Bapi-Limit-Reset-Timestamp": "1672738134824",
    }
    assert adapter.venue_counts(documented, ORDER) == [("ORDERS", 1.0, 1)]
    assert adapter.venue_limits(documented, ORDER) == [OrderLimit(100, 1.0)]
    # Binance's headers mean nothing to Bybit's adapter, Bybit's nothing to Binance's.
    assert adapter.venue_counts({"X-MBX-ORDER-COUNT-10S": "3"}, ORDER) == []
    assert venue_counts(create) == []


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
