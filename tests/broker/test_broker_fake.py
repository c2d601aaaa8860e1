"""Broker flows against the in-memory venue: sizing, waves, faults, fills, resume."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from exsdk.broker import (
    Broker,
    BrokerEvent,
    ChildAdopted,
    ChildRejected,
    LimitPriceComputer,
    RetrySettings,
    TwapConfig,
    VirtualClock,
    Warned,
    WaveSkipped,
    WaveStarted,
    resume_run,
)
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildStatus, Side

from .conftest import BTC_ID, ETH_ID, T0, parent
from .fakes import (
    BTC,
    ETH,
    FakeAdapter,
    Fault,
    Killed,
    funds,
    liquidity,
    rate_limited,
    server_error,
    skew,
    unknown,
)


def make(
    adapter: FakeAdapter,
    journal: Journal,
    clock: VirtualClock,
    env: Environment = Environment.PROD,
    *,
    waves: int = 4,
    run_id: str = "run1",
    events: list[BrokerEvent] | None = None,
) -> Broker:
    return Broker(
        adapter,
        env,
        journal,
        clock,
        run_id=run_id,
        twap=TwapConfig(waves=waves, cancel_lead=1),
        limit_prices=LimitPriceComputer(Decimal("0.5"), max_age=None),
        retry=RetrySettings(initial=0.1, maximum=1),
        observer=None if events is None else events.append,
    )


def fake(clock: VirtualClock, ratio: str = "1") -> FakeAdapter:
    return FakeAdapter(fill_ratio=Decimal(ratio), book_time=clock.now)


def assert_no_duplicates(adapter: FakeAdapter) -> None:
    counts = adapter.orders_by_client_id()
    assert counts and all(n == 1 for n in counts.values()), counts


async def test_market_order_fills_and_reports_fees_once(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock)
    broker = make(adapter, journal, clock)
    children = await broker.submit_orders([parent(1, ETH_ID, "-0.5", "market")])
    assert len(children) == 1
    child = children[0]
    assert child.status == ChildStatus.CLOSED and child.side == Side.SELL
    assert child.client_order_id == "xrun1-1-0" and child.order_type == "market"
    fills = await broker.get_fills()
    assert len(fills) == 1
    fill = fills[0]
    assert fill.quantity == Decimal("-0.5") and fill.price == Decimal("2000.00")
    assert fill.fees == {"USDT": Decimal("0.40000000")}
    assert fill.fee_in_quote == Decimal("0.4")
    assert await broker.get_fills() == []  # nothing new
    assert len(journal.fills("run1")) == 1
    assert len(journal.trades("run1")) == 1


async def test_limit_order_rests_at_the_computed_price(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0")
    broker = make(adapter, journal, clock)
    [child] = await broker.submit_orders([parent(1, BTC_ID, "0.01", "limit")])
    assert child.status == ChildStatus.OPEN
    assert child.limit_price == Decimal("30000.5")
    assert adapter.orders[0].price == Decimal("30000.5")
    assert await broker.get_fills() == []  # open and unfilled: nothing to report yet


async def test_twap_uses_every_wave_and_executes_the_whole_parent(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock)
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    children = await broker.submit_orders([parent(1, BTC_ID, "0.02"), parent(2, ETH_ID, "-1.000")])
    btc = sorted((c for c in children if c.symbol == BTC), key=lambda c: c.wave)
    eth = sorted((c for c in children if c.symbol == ETH), key=lambda c: c.wave)
    # 0.02 BTC at 30000 is 600 USDT; minimum notional 100 -> 0.004 BTC; 4 waves of 0.005.
    assert [c.amount for c in btc] == [Decimal("0.005")] * 4
    assert [c.amount for c in eth] == [Decimal("0.25")] * 4
    assert [c.wave for c in eth] == [0, 1, 2, 3]
    assert adapter.filled(BTC) == Decimal("0.02")
    assert adapter.filled(ETH) == Decimal("-1.000")
    assert [e.wave for e in events if isinstance(e, WaveStarted)] == [0, 1, 2, 3]
    assert clock.now() == T0 + timedelta(minutes=4)  # instant in real time, 4 virtual minutes
    fills = {f.parent_order_id: f for f in await broker.get_fills()}
    assert fills[1].quantity == Decimal("0.02") and fills[2].quantity == Decimal("-1.000")
    assert fills[1].num_trades == 4
    assert_no_duplicates(adapter)


async def test_twap_partial_fills_carry_the_rest_to_later_waves(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0.5")
    broker = make(adapter, journal, clock)
    children = await broker.submit_orders([parent(1, ETH_ID, "1.000")])
    sizes = [c.amount for c in sorted(children, key=lambda c: c.wave)]
    # remaining / waves_left each wave: 1/4=0.25 (fills 0.125), 0.875/3=0.291 (0.146),
    # 0.729/2=0.364 (0.182), last wave all that remains: 0.547.
    assert sizes == [Decimal("0.25"), Decimal("0.291"), Decimal("0.364"), Decimal("0.547")]
    assert all(c.status == ChildStatus.CANCELED for c in children)
    assert adapter.calls["cancel_order"] == 4
    [fill] = await broker.get_fills()
    assert Decimal(0) < fill.quantity < Decimal(1)
    assert fill.quantity == adapter.filled(ETH)


async def test_twap_with_no_fill_reports_one_empty_fill(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0")
    broker = make(adapter, journal, clock, waves=2)
    children = await broker.submit_orders([parent(1, ETH_ID, "0.2")])
    assert [c.status for c in children] == [ChildStatus.CANCELED] * 2
    [fill] = await broker.get_fills()
    assert fill.is_empty and fill.quantity == 0 and fill.price is None
    assert await broker.get_fills() == []


async def test_late_start_skips_waves_and_says_so(journal: Journal, clock: VirtualClock) -> None:
    adapter = fake(clock)
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    clock.advance(155)  # past wave 2's submit deadline (half its span, at 150 s)
    children = await broker.submit_orders([parent(1, ETH_ID, "1.000")])
    skipped = [e for e in events if isinstance(e, WaveSkipped)]
    assert [e.wave for e in skipped] == [0, 1, 2]
    assert all("deadline" in e.reason or "ended" in e.reason for e in skipped)
    # Only the last wave ran, and it sent all that remained.
    assert [(c.wave, c.amount) for c in children] == [(3, Decimal("1.000"))]
    events_df = journal.run_events("run1")
    assert (events_df["event"] == "wave_skipped").sum() == 3


async def test_a_late_wave_names_both_times_in_utc(journal: Journal, clock: VirtualClock) -> None:
    """The window came with New York's offset; the message compares two UTC times."""
    adapter = fake(clock)
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    clock.advance(155)
    new_york = T0.astimezone(timezone(timedelta(hours=-4)))
    await broker.submit_orders([parent(1, ETH_ID, "1.000", start=new_york)])
    [late, *_] = [e.reason for e in events if isinstance(e, WaveSkipped) and "deadline" in e.reason]
    assert late.count("+00:00") == 2 and "-04:00" not in late, late


async def test_liquidity_rejection_mid_run_spares_the_other_parents(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock)
    adapter.faults.append(Fault("create_order", "before", liquidity, symbol=BTC, nth=2))
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    children = await broker.submit_orders([parent(1, BTC_ID, "0.02"), parent(2, ETH_ID, "1")])
    btc = {c.wave: c for c in children if c.symbol == BTC}
    assert btc[1].status == ChildStatus.REJECTED and "-4131" in (btc[1].reason or "")
    assert adapter.calls_by_symbol[("create_order", BTC)] == 4  # rejected once, not retried
    assert adapter.filled(ETH) == Decimal(1)
    assert adapter.filled(BTC) == Decimal("0.02")  # later waves made up for the lost one
    rejected = [e for e in events if isinstance(e, ChildRejected)]
    assert [e.error for e in rejected] == ["LiquidityRejected"]  # the class, for displays
    assert any(isinstance(e, Warned) and "-4131" in e.message for e in events)
    errors = journal.errors("run1")
    assert list(errors["error_class"]) == ["LiquidityRejected"]


@pytest.mark.parametrize(
    ("fault", "placed"),
    [("after", True), ("before", False)],
    ids=["reply-lost-after-accept", "5xx-before-accept"],
)
async def test_unknown_outcome_is_looked_up_before_any_resend(
    journal: Journal, clock: VirtualClock, fault: str, placed: bool
) -> None:
    adapter = fake(clock)
    error = unknown if placed else server_error
    adapter.faults.append(Fault("create_order", fault, error, times=1))
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    [child] = await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])
    assert child.status == ChildStatus.CLOSED
    assert_no_duplicates(adapter)
    assert len(adapter.orders) == 1
    assert adapter.calls["fetch_order"] >= 1  # the lookup by client order id
    assert adapter.calls["create_order"] == (1 if placed else 2)
    assert any(isinstance(e, ChildAdopted) for e in events) == placed
    history = list(journal.child_events("run1")["status"])
    assert history[0] == "intent"


async def test_outcome_unknown_on_every_try_is_resolved_at_wave_end(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0")
    adapter.faults.append(Fault("create_order", "after", unknown, times=1))
    # The lookups fail too, until the retries run out.
    adapter.faults.append(Fault("fetch_order", "before", server_error, times=4))
    broker = make(adapter, journal, clock, waves=2)
    children = await broker.submit_orders([parent(1, ETH_ID, "0.5")])
    assert_no_duplicates(adapter)
    wave0 = next(c for c in children if c.wave == 0)
    assert wave0.status == ChildStatus.CANCELED and wave0.ccxt_order_id is not None
    statuses = list(journal.child_events("run1").query("wave == 0")["status"])
    assert statuses[:2] == ["intent", "unknown"]


async def test_rejections_are_recorded_not_retried(journal: Journal, clock: VirtualClock) -> None:
    adapter = fake(clock)
    adapter.faults.append(Fault("create_order", "before", funds, times=5))
    broker = make(adapter, journal, clock)
    [child] = await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])
    assert child.status == ChildStatus.REJECTED and "-2019" in (child.reason or "")
    assert adapter.calls["create_order"] == 1
    assert adapter.orders == []


async def test_rate_limit_and_clock_skew_are_retried_their_own_way(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock)
    adapter.faults.append(Fault("create_order", "before", rate_limited, times=1))
    adapter.faults.append(Fault("create_order", "before", skew, times=1))
    broker = make(adapter, journal, clock)
    waits: list[float] = []

    async def wall_sleep(seconds: float) -> None:
        waits.append(seconds)

    broker._session.venue_sleep = wall_sleep
    [child] = await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])
    assert child.status == ChildStatus.CLOSED
    assert adapter.resyncs == 1
    assert adapter.calls["create_order"] == 3
    # Retry-After is waited in the venue's (wall) time, never on the broker's clock.
    assert waits == [2.0, 0.0] and clock.now() == T0
    assert_no_duplicates(adapter)
    assert list(journal.errors("run1")["error_class"]) == ["RateLimited", "ClockSkew"]


async def test_environment_policy_shapes_children(journal: Journal, clock: VirtualClock) -> None:
    adapter = fake(clock)
    broker = make(adapter, journal, clock, Environment.LOCAL, run_id="loc")
    # local: forced down to the minimal valid order (100 USDT at ~30000 -> 0.004 BTC).
    [child] = await broker.submit_orders([parent(1, BTC_ID, "0.5", "market")])
    assert child.amount == Decimal("0.004")
    prod = make(adapter, journal, clock, Environment.PROD, run_id="prd")
    [tiny] = await prod.submit_orders([parent(1, BTC_ID, "0.001", "market")])
    assert tiny.status == ChildStatus.REJECTED and "minimum" in (tiny.reason or "")
    assert adapter.calls["create_order"] == 1  # the prod child was never sent


async def test_prod_twap_stops_when_what_remains_is_below_the_minimum(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0.75")
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, waves=3, events=events)
    # Minimum 0.004 BTC (100 USDT). Waves 0 and 1 send 0.004 and fill 0.003 each; the
    # 0.003 that remains for wave 2 is below the minimum, so prod stops the parent.
    children = await broker.submit_orders([parent(1, BTC_ID, "0.009")])
    statuses = [c.status for c in sorted(children, key=lambda c: c.wave)]
    assert statuses == [ChildStatus.CANCELED, ChildStatus.CANCELED, ChildStatus.REJECTED]
    assert any(isinstance(e, Warned) and "stopped" in e.message for e in events)
    assert adapter.filled(BTC) == Decimal("0.006")
    assert adapter.calls["create_order"] == 2


async def test_stale_book_rejects_the_child_with_a_clear_reason(
    journal: Journal, clock: VirtualClock
) -> None:
    adapter = FakeAdapter(book_time=lambda: clock.now() - timedelta(minutes=5))
    broker = Broker(adapter, Environment.PROD, journal, clock, run_id="stale")
    [child] = await broker.submit_orders([parent(1, ETH_ID, "0.5", "limit")])
    assert child.status == ChildStatus.REJECTED
    assert "old" in (child.reason or "")
    assert adapter.orders == []


async def test_same_parent_twice_in_a_run_is_refused(journal: Journal, clock: VirtualClock) -> None:
    broker = make(fake(clock), journal, clock)
    await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])
    with pytest.raises(Exception, match="resume"):
        await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])


async def test_positions_and_flatten_honour_dry_run(journal: Journal, clock: VirtualClock) -> None:
    adapter = fake(clock)
    broker = make(adapter, journal, clock)
    await broker.submit_orders(
        [parent(1, ETH_ID, "0.5", "market"), parent(2, BTC_ID, "-0.01", "market")]
    )
    assert await broker.positions() == {ETH: Decimal("0.5"), BTC: Decimal("-0.01")}
    created = adapter.calls["create_order"]
    plan = await broker.flatten(dry_run=True)
    assert adapter.calls["create_order"] == created  # dry run sends nothing
    assert {(c.symbol, c.side, c.amount) for c in plan} == {
        (BTC, Side.BUY, Decimal("0.01")),
        (ETH, Side.SELL, Decimal("0.5")),
    }
    assert all(c.reduce_only and c.status == ChildStatus.INTENT for c in plan)
    done = await broker.flatten(dry_run=False)
    assert all(c.status == ChildStatus.CLOSED for c in done)
    assert await broker.positions() == {}
    assert all(o.reduce_only for o in adapter.orders[-2:])


async def test_killed_mid_twap_then_resumed_finishes_without_duplicates(
    journal_path: Path, clock: VirtualClock
) -> None:
    adapter = fake(clock, ratio="0.5")
    # The process dies right after the venue accepted wave 1's child, before the reply.
    adapter.faults.append(Fault("create_order", "after", lambda: Killed(), nth=2))
    first = Journal.open(journal_path)
    broker = make(adapter, first, clock, waves=4, run_id="crash")
    with pytest.raises(Killed):
        await broker.submit_orders([parent(1, ETH_ID, "1.000")])
    first.close()  # the process is gone; only the file remains
    killed_at = clock.now()
    assert len(adapter.orders) == 2

    again = Journal.open(journal_path)
    pending = again.children("crash")
    assert list(pending.sort_values("wave")["status"]) == ["canceled", "intent"]
    clock.advance(70)  # the restart takes a while: wave 1 has ended meanwhile
    events: list[BrokerEvent] = []
    children = await resume_run("crash", adapter, again, clock, observer=events.append)
    assert clock.now() > killed_at
    by_wave = {c.wave: c for c in children}
    assert by_wave[1].status == ChildStatus.CANCELED  # adopted, then cancelled
    assert by_wave[1].ccxt_order_id == adapter.orders[1].id
    assert any(isinstance(e, ChildAdopted) for e in events)
    assert set(by_wave) == {0, 1, 2, 3}
    assert_no_duplicates(adapter)
    final = again.children("crash")
    assert set(final["status"]) <= {"canceled", "closed"}
    again.close()


async def test_a_bug_in_the_adapter_after_the_send_is_no_rejection(
    journal: Journal, clock: VirtualClock
) -> None:
    """An adapter that places the order and then fails with its own bug (not ccxt's, not
    the venue's) must not have the child called rejected: the order is on the venue. The
    outcome is unknown, so the child is looked up and adopted, never sent twice."""
    adapter = fake(clock)
    bug = lambda: NameError("name 'asyncio' is not defined")  # noqa: E731
    adapter.faults.append(Fault("create_order", "after", bug, times=1))
    events: list[BrokerEvent] = []
    broker = make(adapter, journal, clock, events=events)
    [child] = await broker.submit_orders([parent(1, ETH_ID, "0.5", "market")])
    assert child.status == ChildStatus.CLOSED
    assert adapter.calls["create_order"] == 1 and len(adapter.orders) == 1
    assert not any(isinstance(e, ChildRejected) for e in events)
    assert "rejected" not in set(journal.child_events("run1")["status"])
    assert any(isinstance(e, ChildAdopted) for e in events)
    [message] = list(journal.errors("run1")["message"])
    assert "NameError in the adapter, not from the venue: name" in message
