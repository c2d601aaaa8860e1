"""A wave's intents are one durable transaction, each committed before its request leaves.

The venue side is the in-memory fake; what is committed is read through a second SQLite
connection to the journal file, which sees only committed rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.broker import Broker, LimitPriceComputer, RetrySettings, TwapConfig, VirtualClock
from exsdk.broker.group_commit import GroupCommit
from exsdk.errors import JournalUnavailable
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildOrder, ChildStatus, Side

from .conftest import BTC_ID, ETH_ID, parent
from .fakes import FakeAdapter


def intent_child(run_id: str, parent_id: int) -> ChildOrder:
    return ChildOrder(
        parent_order_id=parent_id,
        asset_id=BTC_ID,
        wave=0,
        client_order_id=f"x{run_id}-{parent_id}-0",
        symbol="BTC/USDT:USDT",
        side=Side.BUY,
        order_type="limit",
        amount=Decimal("0.002"),
        limit_price=Decimal("60000"),
    )


def committed_intents(path: Path) -> set[str]:
    """Client order ids whose intent row another connection can see (committed)."""
    with sqlite3.connect(path) as other:
        rows = other.execute(
            "SELECT client_order_id FROM child_events WHERE status = 'intent'"
        ).fetchall()
    return {r[0] for r in rows}


class WatchingAdapter(FakeAdapter):
    """Notes, at each create, which intents were committed and how many requests left."""

    def __init__(self, journal_path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.journal_path = journal_path
        self.seen: list[tuple[str, set[str]]] = []
        self.books_asked = 0

    async def best_bid_ask(self, symbol: str) -> Any:
        self.books_asked += 1
        return await super().best_bid_ask(symbol)

    async def create_order(self, symbol: str, *args: Any, client_order_id: str, **kw: Any) -> Any:
        self.seen.append((client_order_id, committed_intents(self.journal_path)))
        return await super().create_order(symbol, *args, client_order_id=client_order_id, **kw)


def broker(adapter: FakeAdapter, journal: Journal, clock: VirtualClock) -> Broker:
    return Broker(
        adapter,
        Environment.PREPROD,
        journal,
        clock,
        run_id="gc1",
        twap=TwapConfig(waves=2, cancel_lead=1),
        limit_prices=LimitPriceComputer(Decimal("0.5"), max_age=None),
        retry=RetrySettings(initial=0.01, maximum=0.1),
    )


async def test_a_wave_commits_its_intents_once_before_the_first_request(
    journal: Journal, journal_path: Path, clock: VirtualClock
) -> None:
    adapter = WatchingAdapter(journal_path, fill_ratio=Decimal("0.5"), book_time=clock.now)
    b = broker(adapter, journal, clock)
    parents = [
        parent(i, BTC_ID if i % 2 else ETH_ID, "0.02" if i % 2 else "1") for i in range(1, 21)
    ]
    commits_before = b._session.commits.commits
    children = await b.submit_orders(parents)
    wave0 = {c.client_order_id for c in children if c.wave == 0 and c.ccxt_order_id}
    assert len(wave0) == 20
    # Every child's intent was committed before its own request left, and the first
    # request of the wave already found the whole wave committed: one transaction.
    first_wave = [(cid, seen) for cid, seen in adapter.seen if cid in wave0]
    assert all(cid in seen for cid, seen in first_wave)
    assert wave0 <= first_wave[0][1]
    # One book per symbol and wave, not one per child (2 symbols x 2 waves).
    assert adapter.books_asked == 4
    # Two waves: per wave one commit of intents and one of replies (not 2 x 20 each).
    assert b._session.commits.commits - commits_before == 4
    assert all(n == 1 for n in adapter.orders_by_client_id().values())


async def test_a_failed_group_commit_sends_nothing_of_it(
    journal: Journal, journal_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = WatchingAdapter(journal_path, fill_ratio=Decimal("1"), book_time=clock.now)
    b = broker(adapter, journal, clock)
    real = journal.record_children

    def failing(run_id: str, children: Any) -> None:
        # The others' rows are written first: the rollback must take them back too.
        real(run_id, [c for c in children if c.parent_order_id != 3])
        if any(c.status == ChildStatus.INTENT and c.parent_order_id == 3 for c in children):
            raise JournalUnavailable("disk full (injected)")

    monkeypatch.setattr(journal, "record_children", failing)
    with pytest.raises(JournalUnavailable):
        await b.submit_orders([parent(i, BTC_ID, "0.02") for i in range(1, 6)])
    # The commit holding parent 3's intent held the whole wave's: rolled back, none sent.
    assert adapter.seen == []
    assert committed_intents(journal_path) == set()


async def test_writers_of_one_loop_turn_share_one_transaction(journal: Journal) -> None:
    group = GroupCommit(journal)
    order: list[str] = []

    async def writer(i: int) -> None:
        await group.write(lambda: order.append(f"row{i}"))
        order.append(f"after{i}")

    with group.gathering():
        await asyncio.gather(*(writer(i) for i in range(5)))
    assert group.commits == 1
    # Every row is written before any writer goes on.
    assert order[:5] == [f"row{i}" for i in range(5)]
    await writer(9)
    assert group.commits == 2


async def test_outside_a_gathering_each_writer_commits_at_once(
    journal: Journal, journal_path: Path
) -> None:
    """A lone child cannot be joined: its rows are committed before ``write`` returns,
    without giving the loop a turn (a task started meanwhile has not run yet)."""
    group = GroupCommit(journal, "gc2")
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    task = asyncio.ensure_future(other())
    await group.write(child=intent_child("gc2", 1))
    assert ran == [] and group.commits == 1
    assert committed_intents(journal_path) == {"xgc2-1-0"}
    await task
    # Two writers side by side without a gathering: one commit each, both durable.
    await asyncio.gather(
        group.write(child=intent_child("gc2", 2)), group.write(child=intent_child("gc2", 3))
    )
    assert group.commits == 3
    assert committed_intents(journal_path) == {"xgc2-1-0", "xgc2-2-0", "xgc2-3-0"}


async def test_a_failed_lone_commit_raises_and_writes_nothing(
    journal: Journal, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = GroupCommit(journal, "gc3")
    group.add(lambda: journal.record_run_event("gc3", "wave_started"))

    def failing(run_id: str, children: Any) -> None:
        raise JournalUnavailable("disk full (injected)")

    monkeypatch.setattr(journal, "record_children", failing)
    with pytest.raises(JournalUnavailable, match="injected"):
        await group.write(child=intent_child("gc3", 1))
    assert journal.failure is not None and group.commits == 0
    with sqlite3.connect(journal_path) as other:
        assert other.execute("SELECT COUNT(*) FROM run_events").fetchone() == (0,)
    assert committed_intents(journal_path) == set()


async def test_a_cancelled_writer_does_not_cancel_the_others(journal: Journal) -> None:
    group = GroupCommit(journal)
    done: list[int] = []

    async def writer(i: int) -> None:
        await group.write(lambda: None)
        done.append(i)

    with group.gathering():
        tasks = [asyncio.ensure_future(writer(i)) for i in range(3)]
        await asyncio.sleep(0)
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert tasks[0].cancelled() and sorted(done) == [1, 2]
    assert group.commits == 1


async def test_a_wave_commit_takes_the_waiting_writers_along(
    journal: Journal, journal_path: Path
) -> None:
    """``commit`` (a wave's intents, sized in one pass) writes now, in one transaction with
    the rows of writers waiting for a scheduled commit; their outcome is its outcome."""
    group = GroupCommit(journal, "gc4")
    rows: list[str] = []

    async def writer(i: int) -> None:
        await group.write(lambda: rows.append(f"row{i}"), child=intent_child("gc4", 10 + i))

    with group.gathering():
        tasks = [asyncio.ensure_future(writer(i)) for i in range(2)]
        await asyncio.sleep(0)  # both queued, their commit scheduled, not yet run
        assert rows == [] and committed_intents(journal_path) == set()
        group.commit([intent_child("gc4", 1), intent_child("gc4", 2)])
        assert group.commits == 1 and rows == ["row0", "row1"]
        assert committed_intents(journal_path) == {
            "xgc4-1-0",
            "xgc4-2-0",
            "xgc4-10-0",
            "xgc4-11-0",
        }
        await asyncio.gather(*tasks)
    assert group.commits == 1  # the scheduled commit found nothing left to do


async def test_a_failed_wave_commit_fails_its_waiting_writers_too(
    journal: Journal, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = GroupCommit(journal, "gc5")

    def failing(run_id: str, children: Any) -> None:
        raise JournalUnavailable("disk full (injected)")

    with group.gathering():
        task = asyncio.ensure_future(group.write(child=intent_child("gc5", 9)))
        await asyncio.sleep(0)
        monkeypatch.setattr(journal, "record_children", failing)
        with pytest.raises(JournalUnavailable, match="injected"):
            group.commit([intent_child("gc5", 1)])
        with pytest.raises(JournalUnavailable, match="injected"):
            await task
    assert committed_intents(journal_path) == set() and group.commits == 0
