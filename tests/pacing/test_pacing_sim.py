"""Pacing end to end: the real adapters and broker, the bundled simulator enforcing the
venue's weights and order counts, and a proxy of the tests' own between them (it holds
requests back, counts every answer and can play another client of the account).

Every assertion is a count (429s, children sent), never a duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import exsdk.simulator
from exsdk.adapter import Venue
from exsdk.adapter.ccxt_adapter import CcxtAdapter
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.pacing import OrderLimit, VenuePacer
from exsdk.broker import (
    AcceleratedClock,
    Broker,
    Clock,
    LimitPriceComputer,
    RetrySettings,
    TwapConfig,
    VirtualClock,
)
from exsdk.errors import RateLimited
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildStatus, Order, Side
from exsdk.registry import get_adapter
from exsdk.simulator.dialects import bybit_v5
from exsdk.universe import asset_id_for
from tests.pacing.proxy import OtherClient, PacingProxy, RateLimitOnce

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
ORDER_PATH = {"binance-futures": "/fapi/v1/order", "binance-spot": "/api/v3/order"}
MARKET = {"binance-futures": "futures", "binance-spot": "spot"}
SYMBOL = {"binance-futures": "BTC/USDT:USDT", "binance-spot": "BTC/USDT"}
BASES = ("BTC", "ETH", "BNB", "SOL")


def _adapter(name: str, venue: Any, base_url: str) -> CcxtAdapter:
    adapter = get_adapter(
        name,
        venue=Venue.SIM,
        base_url=base_url,
        credentials=Credentials(venue=Venue.SIM, api_key=venue.api_key, secret=venue.secret),
        markets_cache=False,
        # As `exsdk experiment` runs against the simulator: ccxt's own throttle off.
        ccxt_options={"enableRateLimit": False},
    )
    assert isinstance(adapter, CcxtAdapter)
    return adapter


async def _orders(adapter: CcxtAdapter, name: str, n: int, tag: str) -> list[Any]:
    """``n`` minimal market orders at once, alternating sides; results or errors."""
    await adapter.load_markets()
    symbol = SYMBOL[name]
    # Above each market's minimums (futures: 100 USDT notional), amount and notional.
    amount = Decimal("0.01") if name == "binance-futures" else Decimal("0.001")

    async def one(i: int) -> Any:
        return await adapter.create_order(
            symbol,
            "market",
            Side.BUY if i % 2 == 0 else Side.SELL,
            amount,
            client_order_id=f"{tag}-{i}",
        )

    return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


@pytest.fixture(params=["binance-futures", "binance-spot"])
def adapter_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _every_other_burst(path: str) -> Callable[[int, str, str], float]:
    """A proxy hold: the orders of every other burst of 10, 0.8 s (of a 1 s window)."""
    orders_seen = [0]

    def hold(n: int, method: str, p: str) -> float:
        if (method, p) != ("POST", path):
            return 0.0
        burst = orders_seen[0] // 10
        orders_seen[0] += 1
        return 0.8 if burst % 2 == 0 else 0.0

    return hold


async def _forty_orders_through(adapter_name: str, tag: str, **proxy_options: Any) -> None:
    """40 orders at once through the proxy to a venue allowing 10 a second: none refused."""
    market = MARKET[adapter_name]
    path = ORDER_PATH[adapter_name]
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, rate_limits={f"{market}:ORDERS:1S": 10}) as venue,
        PacingProxy(venue.base_url, order_path=path, **proxy_options) as proxy,
        _adapter(adapter_name, venue, proxy.url) as adapter,
    ):
        results = await _orders(adapter, adapter_name, 40, tag)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert proxy.count(429) == 0, proxy.answers
    assert errors == []
    assert proxy.count(200, path=path) == 40


async def test_orders_that_stall_before_reaching_the_venue_never_overrun_its_window(
    adapter_name: str,
) -> None:
    """Defect 10 (second half): the order count was kept from the moment the pacer let a
    request go, so a burst held back in queues (CPU contention, a busy connection pool)
    and the next burst, sent on time, reached the venue inside one of its windows."""
    hold = _every_other_burst(ORDER_PATH[adapter_name])
    await _forty_orders_through(adapter_name, "stall", delay=hold)


async def test_orders_whose_replies_are_read_late_never_overrun_its_window(
    adapter_name: str,
) -> None:
    """The venue's stamp in a reply frees the order's slot a window after the venue
    processed it, however late the reply is read; the answers of every other burst of 10
    are held back, the rest pass at once, so the venue's clock is learnt from some replies
    and applied to others read late: still no 429."""
    hold = _every_other_burst(ORDER_PATH[adapter_name])
    await _forty_orders_through(adapter_name, "late", reply_delay=hold)


async def test_the_venues_order_count_headers_make_room_for_another_client(
    adapter_name: str,
) -> None:
    """Another client of the account uses 6 of the 10 orders of every 1 s window; the
    venue (here the proxy) says so in X-MBX-ORDER-COUNT-1S. After the first reply the
    adapter sends at most the 4 left per window: no 429."""
    market = MARKET[adapter_name]
    path = ORDER_PATH[adapter_name]
    others = OtherClient(limit=10, seconds=1, used=6)
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, rate_limits={f"{market}:ORDERS:1S": 10}) as venue,
        PacingProxy(venue.base_url, others=others, order_path=path) as proxy,
        _adapter(adapter_name, venue, proxy.url) as adapter,
    ):
        first = await _orders(adapter, adapter_name, 1, "first")
        results = await _orders(adapter, adapter_name, 16, "burst")
    errors = [r for r in [*first, *results] if isinstance(r, BaseException)]
    assert proxy.count(429) == 0, proxy.answers
    assert errors == []
    assert proxy.count(200, path=path) == 17


def _parents(n: int, adapter_name: str) -> list[Order]:
    out = []
    for i in range(n):
        base = BASES[i % len(BASES)]
        symbol = f"{base}/USDT:USDT" if adapter_name == "binance-futures" else f"{base}/USDT"
        out.append(
            Order(
                order_id=i + 1,
                creation_timestamp=T0 - timedelta(seconds=1),
                asset_id=asset_id_for("binance", base, "USDT"),
                type_="market",
                start_timestamp=T0,
                end_timestamp=T0 + timedelta(minutes=1),
                curr_num_shares=Decimal(0),
                diff_num_shares=Decimal("1") if i % 2 == 0 else Decimal("-1"),
                tz="UTC",
                extra_params={"ccxt_symbol": symbol},
            )
        )
    return out


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    j = Journal.open(tmp_path / "journal.sqlite")
    try:
        yield j
    finally:
        j.close()


async def test_many_market_parents_at_once_stay_within_the_request_weight(
    journal: Journal,
) -> None:
    """Defect 10: 400 futures market parents at once drew 606 x -1003 and 11 parents
    were rejected unsent; request weight was not paced at all. Here the simulator's
    weight limit is 30 per second (and 2400 a minute), the run's weight several times
    that: no 429, every child sent and filled."""
    name = "binance-futures"
    async with (
        exsdk.simulator.SimulatedBinance(
            seed=7, rate_limits={"futures:REQUEST_WEIGHT:1S": 30}, futures_balance="100000000"
        ) as venue,
        PacingProxy(venue.base_url, order_path=ORDER_PATH[name]) as proxy,
        _adapter(name, venue, proxy.url) as adapter,
    ):
        broker = Broker(
            adapter,
            Environment.LOCAL,  # every child forced to the venue minimum
            journal,
            VirtualClock(T0),
            run_id="weight",
            twap=TwapConfig(waves=1, cancel_lead=1),
            limit_prices=LimitPriceComputer(Decimal("0"), max_age=None),
            retry=RetrySettings(initial=0.05, maximum=0.5),
        )
        children = await broker.submit_orders(_parents(16, name))
    requests = sum(proxy.answers.values())
    assert requests > 30  # the run needs several windows' weight
    assert proxy.count(429) == 0, proxy.answers
    assert len(children) == 16
    assert {c.status for c in children} == {ChildStatus.CLOSED}, [c.reason for c in children]


TRADES_PATH = {"binance-futures": "/fapi/v1/userTrades", "binance-spot": "/api/v3/myTrades"}


@pytest.mark.parametrize("speed", [20.0, None], ids=["accelerated-20x", "virtual"])
async def test_retry_after_is_waited_in_wall_time_whatever_the_brokers_clock(
    adapter_name: str, speed: float | None, journal: Journal
) -> None:
    """Defect 11: retry waits ran on the broker's clock, so at 20x "Retry-After: 2" was
    honoured as 0.1 s (and not at all on a virtual clock). The proxy answers the first
    trades request 429 with Retry-After: 2 and bans (418) anything sooner."""
    once = RateLimitOnce(TRADES_PATH[adapter_name], seconds=2)
    clock: Clock = VirtualClock(T0) if speed is None else AcceleratedClock(speed, start=T0)
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, futures_balance="100000000") as venue,
        PacingProxy(venue.base_url, order_path=ORDER_PATH[adapter_name], limit_once=once) as proxy,
        _adapter(adapter_name, venue, proxy.url) as adapter,
    ):
        broker = Broker(
            adapter,
            Environment.LOCAL,
            journal,
            clock,
            run_id="wall",
            twap=TwapConfig(waves=1, cancel_lead=1),
            limit_prices=LimitPriceComputer(Decimal("0"), max_age=None),
            retry=RetrySettings(initial=0.05, maximum=0.5),
        )
        children = await broker.submit_orders(_parents(4, adapter_name))
    assert proxy.count(429) == 1, proxy.answers  # the scripted one, and no other
    assert once.early == 0, proxy.answers
    assert {c.status for c in children} == {ChildStatus.CLOSED}, [c.reason for c in children]
    trades = journal.trade_models("wall")
    assert {t.order for t in trades} == {c.ccxt_order_id for c in children}


async def test_a_pacer_swapped_on_the_adapter_paces_the_next_requests(adapter_name: str) -> None:
    """``adapter.pacer`` is read per request, and a reply is finished on the pacer that
    granted it: a pacer captured when the hooks were installed kept pacing after a swap
    (the wave benchmark's unlimited pacer was ignored: 10 s for 300 children) while
    replies were finished on the new one (its in-flight counts went negative)."""
    async with (
        exsdk.simulator.SimulatedBinance(seed=7) as venue,
        _adapter(adapter_name, venue, venue.base_url) as adapter,
    ):
        await adapter.load_markets()
        swapped: list[Any] = []
        finished: list[Any] = []

        class Recording(VenuePacer):
            async def acquire(self, cost: Any = None) -> Any:
                ticket = await super().acquire(cost)
                swapped.append(ticket)
                return ticket

            def finish(
                self, ticket: Any, headers: Any = None, body: object = None, **kw: Any
            ) -> None:
                finished.append(ticket)
                super().finish(ticket, headers, body, **kw)

        before = adapter.pacer
        adapter.pacer = Recording([])
        results = await _orders(adapter, adapter_name, 3, "swap")
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(swapped) >= 3 and all(t.done for t in swapped)
    assert set(map(id, finished)) == set(map(id, swapped))  # each on the pacer that granted it
    assert before._in_flight == {k: 0 for k in before._in_flight}  # nothing left on the old one


async def _bybit_orders(adapter: CcxtAdapter, n: int, tag: str) -> list[Any]:
    """``n`` minimal linear market orders at once, alternating sides; results or errors."""
    return await asyncio.gather(
        *(
            adapter.create_order(
                "DOGE/USDT:USDT",
                "market",
                Side.BUY if i % 2 == 0 else Side.SELL,
                Decimal("100"),
                client_order_id=f"{tag}-{i}",
            )
            for i in range(n)
        ),
        return_exceptions=True,
    )


async def test_bybits_limit_headers_make_room_for_another_client_of_the_account() -> None:
    """Bybit counts each endpoint per second per account and says so in ``X-Bapi-Limit``
    and ``X-Bapi-Limit-Status``. Another client of the account (a second adapter, pacing
    on its own) places 6 of the 10 creates linear allows a second; after one reply of its own, the
    adapter leaves them their share: its 12 orders meet no 10006. Without the headers
    it would send 9 more into the same window (its own count: 1 of 10)."""
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, dialects=["bybit_v5"]) as venue,
        _adapter("bybit-linear", venue, venue.base_url) as ours,
        _adapter("bybit-linear", venue, venue.base_url) as other,
    ):
        await ours.load_markets()
        await other.load_markets()

        theirs = await _bybit_orders(other, 6, "other")
        first = await _bybit_orders(ours, 1, "first")
        burst = await _bybit_orders(ours, 12, "burst")
    for results in (theirs, first, burst):
        assert [r for r in results if isinstance(r, BaseException)] == []
    assert len({order.id for order in burst}) == 12  # twelve orders placed


async def test_a_lower_limit_bybit_states_is_adopted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account allows 5 creates a second, not the 10 the adapter declares (Bybit
    sets limits per account); the first reply's ``X-Bapi-Limit: 5`` is adopted, so the
    next 12 orders meet no 10006 (without it, 6 of them did)."""
    monkeypatch.setitem(bybit_v5.ENDPOINT_LIMITS, "/v5/order/create", (5, 20))
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, dialects=["bybit_v5"]) as venue,
        _adapter("bybit-linear", venue, venue.base_url) as adapter,
    ):
        await adapter.load_markets()
        first = await _bybit_orders(adapter, 1, "first")
        assert adapter.pacer.limits[0] == OrderLimit(5, 1.0)
        burst = await _bybit_orders(adapter, 12, "burst")
    assert [r for r in [*first, *burst] if isinstance(r, BaseException)] == []
    assert len({order.id for order in burst}) == 12  # twelve orders placed


async def test_bybits_refusal_for_its_rate_limit_says_how_long_to_wait() -> None:
    """A 10006's ``X-Bapi-Limit-Reset-Timestamp``, less its body's ``time`` (both Bybit's
    clock), is the ``RateLimited``'s ``retry_after``, which the broker's retry waits."""
    async with (
        exsdk.simulator.SimulatedBinance(seed=7, dialects=["bybit_v5"]) as venue,
        _adapter("bybit-linear", venue, venue.base_url) as adapter,
    ):
        await adapter.load_markets()
        adapter.pacer = VenuePacer([])  # nothing paced: 12 at once, 10 allowed a second
        results = await _bybit_orders(adapter, 12, "over")
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 2 and all(isinstance(r, RateLimited) for r in refused), refused
    waits = [r.retry_after for r in refused if isinstance(r, RateLimited)]
    assert all(w is not None and 0 < w <= 1.0 for w in waits), waits
