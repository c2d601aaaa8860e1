"""The README's library example, taken from README.md itself, runs as written.

It embeds the simulator, re-bases the seed's 2022 orders and must get fills; a TWAP order
whose window has passed is refused before anything is sent.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from exsdk import (
    DEFAULT_UNIVERSE,
    AcceleratedClock,
    Broker,
    ChildStatus,
    Environment,
    InvalidOrderInput,
    Journal,
    Order,
    load_orders,
    rebase_orders,
)
from exsdk.broker.clock import VirtualClock, venue_time
from exsdk.broker.limit_price import LimitPriceComputer, UnusableBook
from exsdk.models import BidAsk, Side
from exsdk.simulator import embedded
from tests.broker.fakes import BTC, FakeAdapter, futures_limits

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    """The first python block under ``## Using it``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md: no python block under ## Using it"
    return found.group(1)


def test_the_readme_example_runs_and_gets_fills(tmp_path: Path) -> None:
    # From a copy of the repository's root files it needs: the example names its paths
    # relative to the root.
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "example.py").write_text(readme_example())
    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()]
    seed = load_orders(ROOT / "examples" / "default_orders.txt")
    assert [int(r[0]) for r in rows] == [o.order_id for o in seed], result.stdout
    filled = [r for r in rows if Decimal(r[1]) != 0]
    assert filled, f"no parent got a fill:\n{result.stdout}"
    sides = {o.order_id: o.diff_num_shares > 0 for o in seed}
    for row in filled:
        assert (Decimal(row[1]) > 0) == sides[int(row[0])], row  # the parent's sign kept
        assert Decimal(row[2]) > 0, row


def test_rebase_moves_every_window_by_one_shift() -> None:
    seed = load_orders(ROOT / "examples" / "default_orders.txt")
    start = VirtualClock().now()
    moved, shift = rebase_orders(seed, start)
    assert shift is not None and min(o.start_timestamp for o in moved) == start
    for old, new in zip(seed, moved, strict=True):
        assert new.end_timestamp - new.start_timestamp == old.end_timestamp - old.start_timestamp
        assert new.start_timestamp - old.start_timestamp == shift
    assert rebase_orders(moved, start) == (moved, None), "a window in the future stays"


async def test_a_twap_whose_window_has_passed_is_refused(tmp_path: Path) -> None:
    seed = load_orders(ROOT / "examples" / "default_orders.txt")
    adapter = FakeAdapter()
    with Journal.open(tmp_path / "j.sqlite") as journal:
        broker = Broker(adapter, Environment.LOCAL, journal, VirtualClock())
        with pytest.raises(InvalidOrderInput, match=r"order 0: its TWAP window ended .*rebase"):
            await broker.submit_orders(seed)
        assert journal.run_ids() == [], "nothing recorded, nothing sent"
    assert adapter.orders == [] and adapter.calls == {}


async def test_the_embedded_simulator_has_a_moving_market() -> None:
    async with embedded() as venue:
        first = venue.admin.book("BTCUSDT")
        for _ in range(2000):  # bounded: the ticker moves every 0.05 s
            await asyncio.sleep(0.01)
            if venue.admin.book("BTCUSDT") != first:
                break
        assert venue.admin.book("BTCUSDT") != first, "prices never moved"


def test_an_accelerated_clock_judges_book_age_in_the_venues_time() -> None:
    # A TWAP a minute into its window at 20x: the clock is minutes ahead of the venue.
    clock = AcceleratedClock(20, datetime.now(UTC) + timedelta(minutes=3))
    book = BidAsk(symbol=BTC, bid=Decimal(30000), ask=Decimal(30001), timestamp=datetime.now(UTC))
    limits = futures_limits()[BTC]
    pricing = LimitPriceComputer()
    with pytest.raises(UnusableBook, match="old"):
        pricing.price(book, Side.BUY, limits, now=clock.now())
    price = pricing.price(book, Side.BUY, limits, now=venue_time(clock))
    assert book.bid <= price <= book.ask
    virtual = VirtualClock()
    assert venue_time(virtual) == virtual.now(), "other clocks are the venue's time"


async def test_a_broker_on_an_accelerated_clock_prices_from_a_real_time_venue(
    tmp_path: Path,
) -> None:
    # The clock ten minutes ahead of the venue's (wall-clock) book timestamps, as an
    # accelerated run is after 30 s at 20x: the book is fresh all the same.
    clock = AcceleratedClock(20, datetime.now(UTC) + timedelta(minutes=10))
    adapter = FakeAdapter()
    now = clock.now()
    order = Order(
        order_id=1,
        creation_timestamp=now,
        asset_id=DEFAULT_UNIVERSE.asset_for_symbol(BTC).asset_id,
        type_="limit",
        start_timestamp=now,
        end_timestamp=now + timedelta(minutes=1),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal("0.01"),
        tz="UTC",
        extra_params={"ccxt_symbol": BTC},
    )
    with Journal.open(tmp_path / "j.sqlite") as journal:
        broker = Broker(adapter, Environment.PREPROD, journal, clock)
        [child] = await broker.submit_orders([order])
    assert child.status is not ChildStatus.REJECTED, child.reason
    assert child.limit_price is not None and len(adapter.orders) == 1
