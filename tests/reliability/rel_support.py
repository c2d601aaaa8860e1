"""Shared helpers of the reliability tests: a TWAP run on a fresh simulator, and the
checks that judge it against the simulator's own records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from exsdk.adapter import ExchangeAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.broker import (
    Broker,
    BrokerEvent,
    ChildAdopted,
    LimitPriceComputer,
    RetrySettings,
    TwapConfig,
    VirtualClock,
)
from exsdk.errors import SdkError
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import Order
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
BTC_ID = asset_id_for("binance", "BTC", "USDT")
ETH_ID = asset_id_for("binance", "ETH", "USDT")
ADAPTERS = ("binance-futures", "binance-spot")
ORDER_PATH = {"binance-futures": "/fapi/v1/order", "binance-spot": "/api/v3/order"}
TRADES_PATH = {"binance-futures": "/fapi/v1/userTrades", "binance-spot": "/api/v3/myTrades"}
# ccxt's request timeout in the runs, in ms: a latency fault longer than it is a timeout.
CCXT_TIMEOUT_MS = 200
# Binance's recvWindow in the runs, in ms: a request reaching the venue's engine later than
# this after its timestamp is refused, so a lost create is dead for good after it.
RECV_WINDOW_MS = 800


def twap_parent(order_id: int, asset_id: int, diff: str, minutes: float = 3) -> Order:
    """A TWAP parent over ``minutes`` from ``T0``."""
    return Order(
        order_id=order_id,
        creation_timestamp=T0 - timedelta(seconds=1),
        asset_id=asset_id,
        type_="price@twap",
        start_timestamp=T0,
        end_timestamp=T0 + timedelta(minutes=minutes),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
    )


def build_adapter(
    name: str,
    venue: Any,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    ccxt_options: Mapping[str, Any] | None = None,
) -> ExchangeAdapter:
    """An adapter of ``name`` pointed at ``venue`` (an in-process SimulatedBinance)."""
    options: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": CCXT_TIMEOUT_MS,
        "options": {"recvWindow": RECV_WINDOW_MS},
    }
    options.update(ccxt_options or {})
    return get_adapter(
        name,
        venue=Venue.SIM,
        base_url=venue.base_url,
        credentials=Credentials(
            venue=Venue.SIM, api_key=api_key or venue.api_key, secret=secret or venue.secret
        ),
        markets_cache=False,
        ccxt_options=options,
    )


def make_broker(
    adapter: ExchangeAdapter,
    journal: Journal,
    run_id: str,
    events: list[BrokerEvent],
    *,
    waves: int = 3,
) -> Broker:
    """A broker on a virtual clock with tiny retry waits; crossing limit prices."""
    return Broker(
        adapter,
        Environment.PROD,
        journal,
        VirtualClock(T0),
        run_id=run_id,
        twap=TwapConfig(waves=waves, cancel_lead=1),
        # The simulator stamps books with its own wall time; the virtual clock is elsewhere.
        limit_prices=LimitPriceComputer(Decimal(0), max_age=None),
        retry=RetrySettings(initial=0.01, maximum=0.05, jitter=0.0, expiry_margin=0.1),
        observer=events.append,
    )


@attrs.frozen
class RunResult:
    """What a run left behind, for the checks."""

    run_id: str
    finished: bool
    error: SdkError | None
    adopted: int
    retried: int
    fills: dict[int, Decimal]


async def run_twap(
    adapter: ExchangeAdapter,
    journal: Journal,
    run_id: str,
    parents: list[Order] | None = None,
    *,
    waves: int = 3,
) -> RunResult:
    """Run a small TWAP (two parents unless given) and collect its OMS fills."""
    events: list[BrokerEvent] = []
    broker = make_broker(adapter, journal, run_id, events, waves=waves)
    # Each wave's child is larger than the simulator's best level (about 2000 USDT), so
    # crossing limits fill partly and the rest is cancelled: every operation is exercised.
    parents = parents or [twap_parent(1, ETH_ID, "3"), twap_parent(2, BTC_ID, "-0.15")]
    error: SdkError | None = None
    fills: dict[int, Decimal] = {}
    try:
        await broker.submit_orders(parents)
        for fill in await broker.get_fills():
            fills[fill.parent_order_id] = fills.get(fill.parent_order_id, Decimal(0)) + (
                fill.quantity
            )
    except SdkError as exc:  # a clear, typed stop is an acceptable outcome
        error = exc
    finished = "finished" in set(journal.run_events(run_id)["event"])
    return RunResult(
        run_id=run_id,
        finished=finished,
        error=error,
        adopted=sum(isinstance(e, ChildAdopted) for e in events),
        retried=len(journal.errors(run_id)),
        fills=fills,
    )


def venue_orders(venue: Any, run_id: str) -> list[dict[str, Any]]:
    """The venue's orders whose client order id belongs to the run."""
    return [o for o in venue.admin.orders() if o["clientOrderId"].startswith(f"x{run_id}-")]


def check_invariants(venue: Any, journal: Journal, result: RunResult) -> list[str]:
    """Every promise of the issue, judged by the venue's own records; the broken ones."""
    run_id = result.run_id
    broken: list[str] = []
    orders = venue_orders(venue, run_id)
    ids = [o["clientOrderId"] for o in orders]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        broken.append(f"client order ids with several venue orders: {dupes}")
    journal_trades = journal.trades(run_id)
    known = {
        (str(o), str(t))
        for o, t in zip(journal_trades["ccxt_order_id"], journal_trades["trade_id"], strict=True)
    }
    by_parent: dict[int, Decimal] = {}
    for order in orders:
        parent_id = int(order["clientOrderId"].split("-")[1])
        sign = 1 if order["side"] == "BUY" else -1
        for trade in order["fills"]:
            if (str(order["orderId"]), str(trade["tradeId"])) not in known:
                broken.append(
                    f"venue trade {trade['tradeId']} of {order['clientOrderId']} not journaled"
                )
            by_parent[parent_id] = by_parent.get(parent_id, Decimal(0)) + sign * Decimal(
                trade["qty"]
            )
    children = {c.client_order_id: c for c in journal.latest_children(run_id)}
    for order in orders:
        child = children.get(order["clientOrderId"])
        if child is None or child.ccxt_order_id != str(order["orderId"]):
            broken.append(
                f"venue order {order['orderId']} ({order['clientOrderId']}, {order['status']})"
                f" unknown to the journal (journal: {child and child.status})"
            )
    if result.error is None:
        for parent_id in sorted(set(by_parent) | set(result.fills)):
            venue_qty = by_parent.get(parent_id, Decimal(0))
            oms_qty = result.fills.get(parent_id, Decimal(0))
            if venue_qty != oms_qty:
                broken.append(f"parent {parent_id}: OMS fill {oms_qty} != venue trades {venue_qty}")
    if not result.finished and result.error is None:
        broken.append("the run neither finished nor raised an SdkError")
    if result.error is not None and not str(result.error).strip():
        broken.append("the run stopped with an empty error message")
    return broken


def open_orders_left(venue: Any, run_id: str) -> int:
    """Orders of the run still open on the venue."""
    return sum(o["status"] in {"NEW", "PARTIALLY_FILLED"} for o in venue_orders(venue, run_id))


def journal_files(path: Path) -> list[Path]:
    """The journal and its SQLite side files."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


MATRIX: dict[tuple[str, str, str], str] = {}
"""(fault, operation, adapter) -> outcome, filled by the fault matrix, printed at the end."""

TOTALS: dict[str, int] = {}
"""Chaos figures summed over every faulted run of the session, printed at the end."""

FUZZ_COUNTS: dict[str, int] = {}
"""How many hypothesis examples each fuzz test ran, printed at the end."""

FLEET: list[str] = []
"""The fleet runs' figures (test_rel_fleet), printed at the end."""


def render_matrix() -> str:
    """The matrix as a text table: one row per fault, one column per operation x adapter."""
    faults = list(dict.fromkeys(k[0] for k in MATRIX))
    columns = list(dict.fromkeys((k[1], k[2]) for k in MATRIX))
    headers = ["fault", *(f"{op}/{name.removeprefix('binance-')}" for op, name in columns)]
    rows = [[f, *(MATRIX.get((f, op, name), "-") for op, name in columns)] for f in faults]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
