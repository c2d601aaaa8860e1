"""The order pacer keeps every window of the venue's order limits, and no more."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exsdk.adapter.pacing import (
    OrderLimit,
    OrderPacer,
    limits_from_message,
    limits_from_rate_limits,
)


class FakeTime:
    """A clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(limits: list[OrderLimit], t: FakeTime, margin: float = 0.25) -> OrderPacer:
    return OrderPacer(limits, margin=margin, clock=t.clock, sleep=t.sleep)


async def test_a_burst_is_spread_over_windows() -> None:
    t = FakeTime()
    pacer = _pacer([OrderLimit(5, 10.0)], t)
    starts = []
    for _ in range(12):
        await pacer.acquire()
        starts.append(t.now)
    assert starts[:5] == [0.0] * 5
    assert starts[5:10] == [10.25] * 5
    assert starts[10:] == [20.5] * 2


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 20),
    seconds=st.sampled_from([1.0, 10.0, 60.0]),
    gaps=st.lists(st.floats(0, 3), min_size=1, max_size=80),
)
async def test_no_window_ever_holds_more_than_the_limit(
    count: int, seconds: float, gaps: list[float]
) -> None:
    t = FakeTime()
    pacer = _pacer([OrderLimit(count, seconds), OrderLimit(count * 3, seconds * 6)], t)
    starts = []
    for gap in gaps:
        t.now += gap
        await pacer.acquire()
        starts.append(t.now)
    for i, start in enumerate(starts):
        inside = [s for s in starts[i:] if s - start < seconds]
        assert len(inside) <= count
        inside_long = [s for s in starts[i:] if s - start < seconds * 6]
        assert len(inside_long) <= count * 3


async def test_no_limits_means_no_wait() -> None:
    t = FakeTime()
    pacer = _pacer([], t)
    for _ in range(100):
        await pacer.acquire()
    assert t.slept == []


async def test_a_rate_limit_blocks_until_retry_after() -> None:
    t = FakeTime()
    pacer = _pacer([], t)
    pacer.block_for(7.5)
    await pacer.acquire()
    assert t.now == 7.5


def test_limits_are_read_from_exchange_info_and_tightened_by_a_rejection() -> None:
    rate_limits = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    ]
    pacer = OrderPacer(limits_from_rate_limits(rate_limits))
    assert pacer.limits == [OrderLimit(300, 10.0), OrderLimit(1200, 60.0)]
    text = '{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}'
    pacer.update(limits_from_message(text))
    assert pacer.limits == [OrderLimit(50, 10.0), OrderLimit(1200, 60.0)]
    assert limits_from_rate_limits("garbage") == []
    assert limits_from_message("no limit here") == []
