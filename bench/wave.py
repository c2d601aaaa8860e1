"""Benchmark 6 (issue 18 goal 1): wave dispatch.

A wave of N TWAP children (N = 10, 100, 300, over two futures symbols) through the real
``Broker.submit_orders`` path, on the in-memory transport (:mod:`bench.transport`), with
the journal as shipped (WAL, ``synchronous=FULL``, on the working disk), against raw
ccxt issuing the same N ``create_order`` calls concurrently (``asyncio.gather``) on an
exchange of the same class and markets without the SDK's hooks
(:func:`bench.transport.pristine`). The figure is the time from the wave's start (the
broker's ``WaveStarted`` event; for raw ccxt the ``gather``) until the last order request is
handed to the transport; the per-child delays from the wave start give p50 and p99.

The SDK's wave includes what it does before the wire and raw ccxt does not: one order
book request per symbol, the limit price, the environment policy and quantizing, the
child models, the journaled ``wave_started`` event, and the wave's intents committed (one
group commit, synced) before the first request leaves. The run is stopped once the
wave's requests are out (cancel and collection are not measured: no request of them can
delay a send). ccxt's rate limiter and the SDK's pacer have no limits here (benchmark 2
measures pacing). The two paths alternate, A B A B, and the medians are reported with
the load average. The notes add when the first request left, and the ratio of the CPU
time (``thread_time``) each path used until its last request: on a machine shared with
other work, steadier than the wall times (it leaves out the intents' disk sync).

They also give when each wave was complete, so that work moved from before the last
request to after it shows: for the SDK when the wave's gather is over (every reply
validated, journaled and the child's state committed; the run stops there), for raw ccxt
when its ``gather`` returns (every reply parsed).

Every timed wave, of either path, starts after a full garbage collection. Without it,
which wave paid for a full collection was luck: with ccxt's markets loaded (two exchanges,
about 210,000 objects) one costs 60-500 ms, more than a whole 10-child wave, and it lands
wherever the allocation counts cross the collector's threshold (in one revision's round 7
of N=10 every time, in another's never), so a p99 or even a median compared collections,
not code. The collections a wave's own allocations trigger (young generations) still
count; the full ones that still ran inside a timed wave are counted (the notes' "full
collections inside the waves").

:mod:`bench.wave_ablation` runs this harness with the request hooks or the journal's
writes switched off, to show which part of the SDK's ratio each one is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import Result, emit
from bench.transport import InMemoryFutures, install, pristine
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.pacing import VenuePacer
from exsdk.broker import Broker, LimitPriceComputer, TwapConfig, VirtualClock, WaveStarted
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import Order
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

GOAL = 1.3
SIZES = (10, 100, 300)
BASES = ("BTC", "ETH")
T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


class _WaveOut(Exception):
    """Raised by the clock when the wave waits for its cancel time: the sends are done."""


class _StopAfterSends(VirtualClock):
    def __init__(self) -> None:
        super().__init__(T0)
        self.complete_at: float | None = None
        """``perf_counter()`` when the wave first waited for its cancel time: every
        child's reply validated and its state committed (the broker's gather is over)."""

    async def sleep_until(self, when: datetime) -> None:
        if when > T0:
            self.complete_at = time.perf_counter()
            raise _WaveOut
        await super().sleep_until(when)


def _parents(n: int) -> list[Order]:
    return [
        Order(
            order_id=i + 1,
            creation_timestamp=T0,
            asset_id=asset_id_for("binance", BASES[i % len(BASES)], "USDT"),
            type_="price@twap",
            start_timestamp=T0,
            end_timestamp=T0 + timedelta(minutes=5),
            curr_num_shares=Decimal(0),
            diff_num_shares=Decimal("0.004"),
            tz="UTC",
        )
        for i in range(n)
    ]


class Waves:
    """One adapter and journal; each wave is a fresh run on them."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.adapter: Any = get_adapter(
            "binance-futures",
            venue=Venue.SIM,
            base_url="http://127.0.0.1:9",  # never contacted: fetch is replaced
            credentials=Credentials(venue=Venue.SIM, api_key="k" * 64, secret="s" * 64),
            markets_cache=False,
            ccxt_options={"enableRateLimit": False},
        )
        self.transport: InMemoryFutures = install(self.adapter.exchange)
        self.runs = 0
        self.cpu_start = 0.0
        self.cpu_last = 0.0
        """CPU seconds (``thread_time``) from the start of the last wave to its last request."""
        self.complete = 0.0
        """Seconds from the start of the last wave until it was complete: every reply
        processed (and, for the SDK, validated, journaled and its state committed)."""

    async def setup(self) -> None:
        await self.adapter.load_markets()
        # No venue counts here: a pacer without limits (its bookkeeping still runs).
        self.adapter.pacer = VenuePacer([])
        self.raw_exchange, self.raw_transport = pristine(self.adapter.exchange)

    async def sdk(self, n: int) -> list[float]:
        """Per-child seconds from the wave's start until its request was handed over."""
        self.runs += 1
        started: list[float] = []

        def observer(event: object) -> None:
            if isinstance(event, WaveStarted):
                started.append(time.perf_counter())
                self.cpu_start = time.thread_time()

        clock = _StopAfterSends()
        broker = Broker(
            self.adapter,
            Environment.PREPROD,
            self.journal,
            clock,
            run_id=f"w{self.runs}",
            limit_prices=LimitPriceComputer(Decimal("0.5"), max_age=None),
            twap=TwapConfig(waves=1),
            observer=observer,
        )
        self.transport.sent.clear()
        self.transport.sent_cpu.clear()
        with contextlib.suppress(_WaveOut):
            await broker.submit_orders(_parents(n))
        sent = list(self.transport.sent)
        assert len(sent) == n and len(started) == 1, (len(sent), started)
        assert clock.complete_at is not None
        self.cpu_last = self.transport.sent_cpu[-1] - self.cpu_start
        self.complete = clock.complete_at - started[0]
        return [t - started[0] for t in sent]

    async def raw(self, n: int) -> list[float]:
        self.runs += 1
        exchange = self.raw_exchange
        self.raw_transport.sent.clear()
        self.raw_transport.sent_cpu.clear()
        cpu_start = time.thread_time()
        start = time.perf_counter()
        await asyncio.gather(
            *(
                exchange.create_order(
                    f"{BASES[i % len(BASES)]}/USDT:USDT",
                    "limit",
                    "buy",
                    0.004,
                    60000.0,
                    {"clientOrderId": f"raw-{self.runs}-{i}"},
                )
                for i in range(n)
            )
        )
        self.complete = time.perf_counter() - start
        sent = list(self.raw_transport.sent)
        assert len(sent) == n
        self.cpu_last = self.raw_transport.sent_cpu[-1] - cpu_start
        return [t - start for t in sent]


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _measure(journal_path: str, rounds: int, sizes: tuple[int, ...]) -> dict[int, Any]:
    journal = Journal.open(journal_path)
    waves = Waves(journal)
    try:
        await waves.setup()
        for n in sizes:  # warm up every path once
            await waves.sdk(n)
            await waves.raw(n)
        out: dict[int, Any] = {}
        for n in sizes:
            sdk_last, raw_last, sdk_all, raw_all = [], [], [], []
            sdk_first, raw_first, sdk_cpu, raw_cpu = [], [], [], []
            sdk_done, raw_done = [], []
            full = {"sdk": 0, "raw": 0}
            for _ in range(rounds):
                gc.collect()  # each path starts even (see the module's docstring)
                before = _full_collections()
                r = await waves.raw(n)
                raw_cpu.append(waves.cpu_last)
                raw_done.append(waves.complete)
                full["raw"] += _full_collections() - before
                gc.collect()
                before = _full_collections()
                s = await waves.sdk(n)
                sdk_cpu.append(waves.cpu_last)
                sdk_done.append(waves.complete)
                full["sdk"] += _full_collections() - before
                raw_last.append(max(r))
                sdk_last.append(max(s))
                raw_first.append(min(r))
                sdk_first.append(min(s))
                raw_all += r
                sdk_all += s
            out[n] = {
                "sdk_last_s": statistics.median(sdk_last),
                "raw_last_s": statistics.median(raw_last),
                "ratio": statistics.median(sdk_last) / statistics.median(raw_last),
                "sdk_first_s": statistics.median(sdk_first),
                "raw_first_s": statistics.median(raw_first),
                "cpu_ratio": statistics.median(sdk_cpu) / statistics.median(raw_cpu),
                "sdk_complete_s": statistics.median(sdk_done),
                "raw_complete_s": statistics.median(raw_done),
                "complete_ratio": statistics.median(sdk_done) / statistics.median(raw_done),
                "sdk_p50_s": _pct(sdk_all, 0.5),
                "sdk_p99_s": _pct(sdk_all, 0.99),
                "raw_p50_s": _pct(raw_all, 0.5),
                "raw_p99_s": _pct(raw_all, 0.99),
                "sdk_full_gc": full["sdk"],
                "raw_full_gc": full["raw"],
            }
        return out
    finally:
        journal.close()
        await waves.adapter.close()
        await waves.raw_exchange.close()


def run(quick: bool = False) -> Result:
    rounds = 3 if quick else 9
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-wave-", dir=Path.cwd()) as disk_dir:
        figures = asyncio.run(_measure(str(Path(disk_dir) / "w.sqlite"), rounds, SIZES))
    load_after = os.getloadavg()[0]
    notes = [f"load average {load_before:.1f} before, {load_after:.1f} after; medians of {rounds}"]
    for n, f in figures.items():
        notes.append(
            f"N={n}: last request {f['sdk_last_s'] * 1e3:.2f} ms (raw ccxt "
            f"{f['raw_last_s'] * 1e3:.2f} ms), ratio {f['ratio']:.2f}; per-child delay "
            f"p50 {f['sdk_p50_s'] * 1e3:.2f} / p99 {f['sdk_p99_s'] * 1e3:.2f} ms (raw "
            f"{f['raw_p50_s'] * 1e3:.2f} / {f['raw_p99_s'] * 1e3:.2f} ms); first request "
            f"{f['sdk_first_s'] * 1e3:.2f} ms (raw {f['raw_first_s'] * 1e3:.2f} ms); "
            f"wave complete {f['sdk_complete_s'] * 1e3:.2f} ms (raw "
            f"{f['raw_complete_s'] * 1e3:.2f} ms), ratio {f['complete_ratio']:.2f}; "
            f"CPU-time ratio to the last request {f['cpu_ratio']:.2f}; full collections "
            f"inside the waves: SDK {f['sdk_full_gc']}, raw {f['raw_full_gc']}"
        )
    gated = [figures[n]["ratio"] for n in (100, 300) if n in figures]
    head = figures[max(figures)]
    return Result(
        name="6 wave dispatch (N=300)",
        sdk=head["sdk_last_s"],
        reference=head["raw_last_s"],
        ratio=head["ratio"],
        goal=f"<= {GOAL}x raw ccxt at N=100 and 300",
        passed=all(r <= GOAL for r in gated),
        notes=notes,
        display={
            "sdk": " / ".join(f"{figures[n]['sdk_last_s'] * 1e3:.1f}" for n in figures)
            + " ms (N="
            + "/".join(str(n) for n in figures)
            + ")",
            "reference": " / ".join(f"{figures[n]['raw_last_s'] * 1e3:.1f}" for n in figures)
            + " ms",
        },
        extra={"load_average": [load_before, load_after], "figures": figures},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
