"""Pure parts of the broker: client ids, the wave plan, child sizing, limit prices, clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exsdk.broker import (
    LimitPriceComputer,
    TwapConfig,
    UnusableBook,
    VirtualClock,
    child_amount,
    child_client_order_id,
    new_run_id,
    plan_waves,
)
from exsdk.broker.client_ids import BINANCE_CLIENT_ID
from exsdk.errors import InvalidOrderInput
from exsdk.models import BidAsk, Side

from .conftest import T0
from .fakes import BTC, ETH, futures_limits

LIMITS = futures_limits()


def test_client_ids_are_deterministic_and_valid() -> None:
    a = child_client_order_id("ab12cd34", 9999999999, 120)
    assert a == child_client_order_id("ab12cd34", 9999999999, 120)
    assert a == "xab12cd34-9999999999-120"
    assert BINANCE_CLIENT_ID.match(a) and len(a) <= 36
    assert child_client_order_id("r1", 3, 0, "f") == "xr1-3-f0"
    assert child_client_order_id("r1", 3, 0) != child_client_order_id("r1", 3, 1)


def test_client_ids_refuse_bad_input() -> None:
    with pytest.raises(InvalidOrderInput):
        child_client_order_id("Has-Caps", 1, 0)
    with pytest.raises(InvalidOrderInput):
        child_client_order_id("abcdefghijkl", 10**22, 10**6)  # longer than 36
    with pytest.raises(InvalidOrderInput):
        child_client_order_id("abc", -1, 0)


def test_new_run_ids_are_short_base36() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 8 and i.isalnum() and i == i.lower() for i in ids)


def test_plan_by_count_uses_every_wave_to_the_end() -> None:
    plan = plan_waves(T0, T0 + timedelta(minutes=4), TwapConfig(waves=4, cancel_lead=1))
    assert plan.num_waves == 4
    assert plan.waves[0].start == T0
    assert plan.waves[-1].end == T0 + timedelta(minutes=4)
    for a, b in zip(plan.waves, plan.waves[1:], strict=False):
        assert a.end == b.start
    w = plan.waves[1]
    assert w.cancel_at == w.end - timedelta(seconds=1)
    assert w.start < w.submit_deadline <= w.cancel_at


def test_plan_by_frequency_clips_the_last_wave() -> None:
    plan = plan_waves(T0, T0 + timedelta(seconds=150), TwapConfig(wave_seconds=60))
    assert [w.index for w in plan.waves] == [0, 1, 2]
    assert plan.waves[-1].end - plan.waves[-1].start == timedelta(seconds=30)


def test_plan_refuses_an_empty_window() -> None:
    with pytest.raises(InvalidOrderInput):
        plan_waves(T0, T0, TwapConfig(waves=2))


def test_child_amount_spreads_what_remains() -> None:
    lim = LIMITS[ETH]
    assert child_amount(Decimal("1.000"), 3, lim) == Decimal("0.333")
    assert child_amount(Decimal("-1.000"), 3, lim) == Decimal("-0.333")
    # The last wave takes everything that remains.
    assert child_amount(Decimal("0.6679"), 1, lim) == Decimal("0.667")
    assert child_amount(Decimal(0), 2, lim) == 0


@given(
    remaining=st.decimals(min_value=Decimal("-50"), max_value=Decimal("50"), places=4),
    waves_left=st.integers(min_value=1, max_value=30),
)
def test_child_amount_never_flips_nor_exceeds(remaining: Decimal, waves_left: int) -> None:
    size = child_amount(remaining, waves_left, LIMITS[BTC])
    assert abs(size) <= abs(remaining)
    assert size == 0 or (size > 0) == (remaining > 0)
    assert (size / LIMITS[BTC].amount_step) % 1 == 0


def _book(bid: str, ask: str, age: float = 0) -> BidAsk:
    return BidAsk(
        symbol=ETH, bid=Decimal(bid), ask=Decimal(ask), timestamp=T0 - timedelta(seconds=age)
    )


def test_limit_price_passivity() -> None:
    lim = LIMITS[ETH]
    book = _book("2000.00", "2000.20")
    assert LimitPriceComputer(Decimal(1)).price(book, Side.BUY, lim, now=T0) == Decimal("2000.00")
    assert LimitPriceComputer(Decimal(1)).price(book, Side.SELL, lim, now=T0) == Decimal("2000.20")
    assert LimitPriceComputer(Decimal(0)).price(book, Side.BUY, lim, now=T0) == Decimal("2000.20")
    mid = LimitPriceComputer(Decimal("0.5"))
    assert mid.price(book, Side.BUY, lim, now=T0) == Decimal("2000.10")
    # 0.75 passive buy: 2000*0.75 + 2000.2*0.25 = 2000.05, on the 0.01 tick.
    assert LimitPriceComputer(Decimal("0.75")).price(book, Side.BUY, lim, now=T0) == Decimal(
        "2000.05"
    )


def test_limit_price_refuses_crossed_and_stale_books() -> None:
    lim = LIMITS[ETH]
    comp = LimitPriceComputer(Decimal("0.5"), timedelta(seconds=5))
    with pytest.raises(UnusableBook, match="crossed"):
        comp.price(_book("2000.20", "2000.00"), Side.BUY, lim, now=T0)
    with pytest.raises(UnusableBook, match="old"):
        comp.price(_book("2000.00", "2000.20", age=6), Side.BUY, lim, now=T0)
    with pytest.raises(ValueError):
        LimitPriceComputer(Decimal("1.5"))


async def test_virtual_clock_wakes_sleepers_in_time_order_instantly() -> None:
    clock = VirtualClock(T0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, (clock.now() - T0).total_seconds()))

    await asyncio.gather(sleeper("c", 30), sleeper("a", 10), sleeper("b", 20), sleeper("a2", 10))
    assert woke == [("a", 10), ("a2", 10), ("b", 20), ("c", 30)]
    await clock.sleep_until(T0)  # in the past: returns at once
    assert clock.now() == T0 + timedelta(seconds=30)
