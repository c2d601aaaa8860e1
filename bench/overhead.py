"""Benchmark 1: SDK-added cost per child (issue 18 goal 2), and overhead per order.

The SDK's submit path for one child (limit price, environment policy, quantizing, the
child model, the journaled intent, the ccxt call inside the adapter boundary, validation
of the reply into a model, the journaled reply and result) against a bare
``exchange.create_order`` on a plain ccxt exchange of the same class, options and markets
(none of the SDK's request hooks: :func:`bench.transport.pristine`), each on its own
in-memory transport (:mod:`bench.transport`). ccxt's own rate limiter is off for both: its
50 ms throttle would otherwise be the whole figure.

The headline is what the SDK adds, ``(sdk - raw) / raw``, with the journal in memory
(goal: at most 0.5). The same path is also measured with the journal as it ships (WAL,
``synchronous=FULL``) on the working disk, with NORMAL, and on tmpfs (``/dev/shm``: fsync
costs nothing), to show what durability costs. The two paths alternate round by round and
the medians are reported. Breakdown timers wrap each stage in a separate pass, so their
own cost does not leak into the headline figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import Result, emit
from bench.transport import install, pristine
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.broker import Broker, LimitPriceComputer, VirtualClock
from exsdk.journal import Journal
from exsdk.limits import Environment, apply_policy
from exsdk.models import BidAsk, CcxtOrder, ChildOrder, ChildStatus, Order, Side
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

SYMBOL = "BTC/USDT:USDT"
GOAL = 0.5
"""Issue 18 goal 2: what the SDK adds per child, journal in memory, against raw ccxt's cost."""
T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _adapter() -> Any:
    adapter: Any = get_adapter(
        "binance-futures",
        venue=Venue.SIM,
        base_url="http://127.0.0.1:9",  # never contacted: fetch is replaced
        credentials=Credentials(venue=Venue.SIM, api_key="k" * 64, secret="s" * 64),
        markets_cache=False,
        ccxt_options={"enableRateLimit": False},
        # No venue behind the in-process transport: pacing to Binance's order limits
        # would measure the pacer's waits, not the SDK's cost (benchmark 2 measures it).
        order_limits=(),
    )
    install(adapter.exchange)
    return adapter


class Path1:
    """One adapter, one broker, and the two submit paths over them."""

    def __init__(self, adapter: Any, journal: Journal, run_id: str) -> None:
        self.adapter = adapter
        self.exchange = adapter.exchange
        self.raw_exchange: Any = None
        self.journal = journal
        self.broker = Broker(
            adapter,
            Environment.PREPROD,
            journal,
            VirtualClock(T0),
            run_id=run_id,
            limit_prices=LimitPriceComputer(Decimal("0.5"), max_age=None),
        )
        self.parent = Order(
            order_id=1,
            creation_timestamp=T0,
            asset_id=asset_id_for("binance", "BTC", "USDT"),
            type_="limit",
            start_timestamp=T0,
            end_timestamp=T0 + timedelta(minutes=5),
            curr_num_shares=Decimal(0),
            diff_num_shares=Decimal("0.002"),
            tz="UTC",
        )
        self.book = BidAsk(symbol=SYMBOL, bid=Decimal("60000.0"), ask=Decimal("60000.2"))
        self.limits: Any = None
        self.seq = 0

    async def setup(self) -> None:
        markets = await self.adapter.load_markets()
        self.limits = markets[SYMBOL]
        self.broker._markets = markets
        # The reference is ccxt alone: same class, options and markets, none of our hooks.
        self.raw_exchange, _ = pristine(self.exchange)

    def size(self) -> ChildOrder:
        """What the broker does before the wire: price, policy, quantize, child model."""
        self.seq += 1
        b = self.broker
        price = b.limit_prices.price(self.book, Side.BUY, self.limits, now=b.clock.now())
        sized = apply_policy(
            self.limits, self.parent.diff_num_shares, price, b.environment, b.policies
        )
        return b._new_child(
            self.parent,
            SYMBOL,
            self.seq,
            order_type="limit",
            amount=sized.amount,
            side=Side.BUY,
            limit_price=price,
            reason=sized.reason,
        )

    async def sdk_once(self) -> None:
        child = self.size()
        placed = await self.broker._session.place(child)
        assert placed.ccxt_order_id is not None, placed

    async def raw_once(self) -> None:
        self.seq += 1
        await self.raw_exchange.create_order(
            SYMBOL, "limit", "buy", 0.002, 60000.0, {"clientOrderId": f"raw-{self.seq}"}
        )


async def _loop(fn: Callable[[], Awaitable[None]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n


async def _interleaved(
    sdk: Callable[[], Awaitable[None]], raw: Callable[[], Awaitable[None]], n: int, rounds: int
) -> tuple[float, float]:
    """Median per-call time of each path, alternating rounds so drift hits both alike."""
    sdk_times, raw_times = [], []
    for _ in range(rounds):
        raw_times.append(await _loop(raw, n))
        sdk_times.append(await _loop(sdk, n))
    return statistics.median(sdk_times), statistics.median(raw_times)


class _Timers:
    """Accumulated seconds per stage, installed by wrapping the stage's callable."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.total[name] = self.total.get(name, 0.0) + seconds

    def wrap_sync(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start)

        return wrapper

    def wrap_async(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start)

        return wrapper


_ROWS = ("journal: intent", "journal: result", "journal: raw reply")


async def _breakdown(path: Path1, n: int) -> dict[str, float]:
    """Microseconds per child spent in each stage of the SDK path."""
    timers = _Timers()
    journal = path.journal
    orig_children = journal.record_children

    def record_children(run_id: str, children: Sequence[ChildOrder]) -> None:
        intent = all(c.status == ChildStatus.INTENT for c in children)
        name = "journal: intent" if intent else "journal: result"
        start = time.perf_counter()
        try:
            orig_children(run_id, children)
        finally:
            timers.add(name, time.perf_counter() - start)

    journal.record_children = record_children  # type: ignore[method-assign]
    journal.record_raw = timers.wrap_sync("journal: raw reply", journal.record_raw)  # type: ignore[method-assign]
    path.exchange.create_order = timers.wrap_async("ccxt create_order", path.exchange.create_order)
    # from_reply: the adapter's path for a reply (from_ccxt goes through it too).
    orig_from = CcxtOrder.from_reply
    CcxtOrder.from_reply = timers.wrap_sync("model validation", orig_from)  # type: ignore[method-assign]
    orig_size = path.size
    path.size = timers.wrap_sync("sizing: price+policy+quantize+model", orig_size)  # type: ignore[method-assign]
    # The group commit's transaction (BEGIN, COMMIT and its sync) minus the rows inside it.
    group = path.broker._session.commits
    orig_commit = group._write_queued

    def commit() -> None:
        inside = sum(timers.total.get(k, 0.0) for k in _ROWS)
        start = time.perf_counter()
        try:
            orig_commit()
        finally:
            rows = sum(timers.total.get(k, 0.0) for k in _ROWS) - inside
            timers.add("journal: transactions and syncs", time.perf_counter() - start - rows)

    group._write_queued = commit  # type: ignore[method-assign]
    # ccxt itself, measured on the raw exchange in the same pass: the rest of the "ccxt
    # create_order" stage is the SDK's request hooks (pacing, request records).
    raw_total = 0.0
    try:
        total = await _loop(path.sdk_once, n) * n
        raw_total = await _loop(path.raw_once, n) * n
    finally:
        CcxtOrder.from_reply = orig_from  # type: ignore[method-assign]
        del journal.record_children, journal.record_raw, path.exchange.create_order, path.size
        del group._write_queued
    out = {k: v / n * 1e6 for k, v in timers.total.items()}
    out["other (retry wrapper, boundary, events, loop turns)"] = total / n * 1e6 - sum(out.values())
    hooked = out.pop("ccxt create_order")
    out["ccxt itself (raw create_order)"] = raw_total / n * 1e6
    out["SDK request hooks in ccxt (pacer, records)"] = hooked - raw_total / n * 1e6
    out["total"] = total / n * 1e6
    return out


async def _measure(
    journal_path: str, n: int, rounds: int, run_id: str, *, synchronous: str | None = None
) -> dict[str, Any]:
    adapter = _adapter()
    journal = Journal.open(journal_path)
    if synchronous is not None:  # a variant for comparison; the journal ships with FULL
        journal._db.execute(f"PRAGMA synchronous={synchronous}")
    path = Path1(adapter, journal, run_id)
    try:
        await path.setup()
        for _ in range(50):  # warm caches, imports, sqlite pages
            await path.sdk_once()
            await path.raw_once()
        sdk, raw = await _interleaved(path.sdk_once, path.raw_once, n, rounds)
        breakdown = await _breakdown(path, n)
        return {"sdk": sdk, "raw": raw, "breakdown": breakdown}
    finally:
        journal.close()
        await adapter.close()
        if path.raw_exchange is not None:
            await path.raw_exchange.close()


def run(quick: bool = False) -> Result:
    n, rounds = (200, 3) if quick else (1000, 5)
    variants: dict[str, dict[str, Any]] = {}
    disk_dir = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=Path.cwd()))
    shm = Path("/dev/shm")
    try:
        variants["disk (FULL)"] = asyncio.run(
            _measure(str(disk_dir / "j.sqlite"), n, rounds, "bdisk")
        )
        variants["disk (NORMAL)"] = asyncio.run(
            _measure(str(disk_dir / "n.sqlite"), n, rounds, "bnorm", synchronous="NORMAL")
        )
        if shm.is_dir() and os.access(shm, os.W_OK):
            shm_dir = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=shm))
            try:
                variants["tmpfs (FULL)"] = asyncio.run(
                    _measure(str(shm_dir / "j.sqlite"), n, rounds, "bshm")
                )
            finally:
                for f in shm_dir.iterdir():
                    f.unlink()
                shm_dir.rmdir()
        variants[":memory:"] = asyncio.run(_measure(":memory:", n, rounds, "bmem"))
    finally:
        for f in disk_dir.iterdir():
            f.unlink()
        disk_dir.rmdir()
    head = variants[":memory:"]
    added = (head["sdk"] - head["raw"]) / head["raw"]
    notes = [f"load average {os.getloadavg()[0]:.1f}; medians of {rounds} rounds of {n}"]
    for name, v in variants.items():
        notes.append(
            f"journal {name}: sdk {v['sdk'] * 1e6:.0f} us, raw ccxt {v['raw'] * 1e6:.0f} us, "
            f"ratio {v['sdk'] / v['raw']:.2f}x, added {(v['sdk'] - v['raw']) / v['raw']:.2f}x"
        )
    for name, v in variants.items():
        parts = sorted(v["breakdown"].items(), key=lambda kv: -kv[1])
        notes.append(
            f"breakdown ({name}, us/child): " + ", ".join(f"{k} {us:.0f}" for k, us in parts)
        )
    return Result(
        name="1 SDK-added cost per child (journal in memory)",
        sdk=head["sdk"] - head["raw"],
        reference=head["raw"],
        ratio=added,
        goal=f"adds <= {GOAL}x raw ccxt's own cost",
        passed=added <= GOAL,
        notes=notes,
        display={
            "sdk": f"+{(head['sdk'] - head['raw']) * 1e6:.0f} us"
            f" (total {head['sdk'] * 1e6:.0f} us)",
            "reference": f"{head['raw'] * 1e6:.0f} us (raw ccxt create_order)",
        },
        extra={
            k: {"sdk_us": v["sdk"] * 1e6, "raw_us": v["raw"] * 1e6, "breakdown_us": v["breakdown"]}
            for k, v in variants.items()
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
