"""Benchmark 2: rate-limit utilisation.

A TWAP of 200 parents (two waves, 400 children) through the Broker, on the real
``binance-futures`` adapter with ccxt's own rate limiter on, against the bundled
simulator with Binance futures' order-count limits enforced. The venue's ``ORDERS`` 10 s
limit is lowered (``LIMIT`` orders per 10 s) so that order pacing, not the run's other
requests, is what bounds the run and the whole benchmark stays short.

Figures, measured at the venue (on the simulator's own monotonic clock):

* utilisation = accepted orders / (limit rate x (last - first + one interval)). A client
  that fills every venue window to the brim scores 1.0: N orders need at least
  ``ceil(N / limit)`` windows, and the first window's burst is not counted as free.
* 429 answers to order requests (and to anything else).

The adapter paces requests itself (``exsdk.adapter.pacing.VenuePacer``): it learns the
lowered limit from the simulator's exchangeInfo when it loads markets.

Runs (issue 18 goal 5 is the second):

* **2 idle**: as above, ccxt's own throttle on (5 ms per cost unit), the simulator in the
  benchmark's own process;
* **2b under load**: the adapter as shipped (it paces by the venue's counters and bounds
  each order's arrival by the venue's stamp in its reply; ccxt's throttle off), a CPU hog
  per core running beside the benchmark, and every request held 50 ms +- 50 ms
  (uniform, seeded) before the venue sees it, with the simulator in **its own process**:
  a venue sharing the client's event loop handles a burst of orders on the client's CPU
  time, between the client's own sends, which no real venue does. Goal: at least 0.95 of
  the order limit with zero 429.
* **2b, venue in the client's process**: the same, with the simulator in the benchmark's
  process as before (the figure earlier results were measured with).

``--compare`` adds, interleaved, the same loaded runs with the venue's stamps ignored
(each order then holds its slot until one window after its reply was *read*);
``--baseline FILE`` adds 2b paced by another revision's ``VenuePacer`` (``git show
REV:sdk/adapter/pacing.py > FILE``); ``--repeat N`` runs each setup N times,
interleaved, and reports the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import math
import multiprocessing
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from bench.common import Result, emit
from exsdk.adapter import Venue
from exsdk.adapter.credentials import Credentials
from exsdk.broker import Broker, LimitPriceComputer, RetrySettings, TwapConfig, VirtualClock
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.models import ChildStatus, Order
from exsdk.registry import get_adapter
from exsdk.universe import asset_id_for

LIMIT = 100  # venue ORDERS per 10 s (Binance futures: 300 per 10 s, 1200 per minute)
INTERVAL = 10.0
PARENTS = 200
WAVES = 2
GOAL = 0.9
LOAD_GOAL = 0.95
JITTER_S = (0.0, 0.1)  # 50 ms +- 50 ms before the venue sees a request
WEIGHT_LIMIT = 1_000_000
# ccxt's binanceusdm throttle defaults to 50 ms per cost unit (1200 weight a minute, half
# of what the futures venue allows); at that pace the collection requests of 400 children
# alone would take minutes. 5 ms keeps ccxt's limiter on and faster than the order limit.
CCXT_RATE_LIMIT_MS = 5
BASES = ("BTC", "ETH", "BNB", "SOL", "DOGE", "ADA", "LINK", "AVAX")
T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


class VenueCounter:
    """Counts the simulator's answers: accepted order times and 429s; optionally holds
    each request back (transport jitter) before the venue sees it."""

    def __init__(self, jitter: tuple[float, float] | None = None, seed: int = 7) -> None:
        self.accepted: list[float] = []
        self.order_429 = 0
        self.other_429 = 0
        self.jitter = jitter
        self._rng = random.Random(seed)

    def wrap(self, dispatch: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def counted(request: Any) -> Any:
            if self.jitter is not None:
                await asyncio.sleep(self._rng.uniform(*self.jitter))
            response = await dispatch(request)
            is_order = request.method == "POST" and request.path.endswith("/order")
            if response.status == 429:
                if is_order:
                    self.order_429 += 1
                else:
                    self.other_429 += 1
            elif is_order and response.status == 200:
                self.accepted.append(time.monotonic())
            return response

        return counted

    def counts(self) -> tuple[list[float], int, int]:
        """Accepted order times (monotonic), order 429s, other 429s."""
        return self.accepted, self.order_429, self.other_429


def _parents() -> list[Order]:
    out = []
    for i in range(PARENTS):
        base = BASES[i % len(BASES)]
        out.append(
            Order(
                order_id=i + 1,
                creation_timestamp=T0 - timedelta(seconds=1),
                asset_id=asset_id_for("binance", base, "USDT"),
                type_="price@twap",
                start_timestamp=T0,
                end_timestamp=T0 + timedelta(minutes=2),
                curr_num_shares=Decimal(0),
                diff_num_shares=Decimal("1000") if i % 2 == 0 else Decimal("-1000"),
                tz="UTC",
                extra_params={"ccxt_symbol": f"{base}/USDT:USDT"},
            )
        )
    return out


def _hog() -> None:  # pragma: no cover - runs in a child process
    while True:
        pass


@contextlib.contextmanager
def cpu_hogs(n: int) -> Iterator[None]:
    """``n`` processes spinning on the CPU for the duration (the busy machine)."""
    procs = [multiprocessing.Process(target=_hog, daemon=True) for _ in range(n)]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join()


def _simulator(counter: VenueCounter) -> Any:
    """The bundled venue with the lowered order limit, counted by ``counter``."""
    import exsdk.simulator

    venue = exsdk.simulator.SimulatedBinance(
        seed=7,
        # The weight limit is raised so that order-count pacing alone is measured: ccxt at
        # CCXT_RATE_LIMIT_MS would overrun 2400 weight a minute with 400 collections.
        rate_limits={"futures:ORDERS:10S": LIMIT, "futures:REQUEST_WEIGHT:1M": WEIGHT_LIMIT},
        futures_balance="100000000",
    )
    venue._app.dispatch = counter.wrap(venue._app.dispatch)
    return venue


@attrs.frozen
class Setup:
    """One run's configuration."""

    load: bool
    venue_process: bool = False
    stamps: bool = True
    baseline: str | None = None  # a pacing module's file: its VenuePacer paces instead

    def label(self, hogs: int) -> str:
        if not self.load:
            return "idle"
        where = "venue in its own process" if self.venue_process else "venue in-process"
        stamps = "" if self.stamps else ", stamps ignored"
        baseline = f", pacer of {self.baseline}" if self.baseline else ""
        return f"{hogs} CPU hogs, jitter 50 +- 50 ms, {where}{stamps}{baseline}"


def _baseline_pacer(path: str, limits: list[Any]) -> Any:
    """The ``VenuePacer`` of another revision's pacing module (``git show REV:
    sdk/adapter/pacing.py > FILE``), fed the same limits, for an interleaved comparison."""
    import importlib.util
    import inspect

    spec = importlib.util.spec_from_file_location("bench_baseline_pacing", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def convert(given: Any) -> list[Any]:
        kinds = {"OrderLimit": module.OrderLimit, "WeightLimit": module.WeightLimit}
        return [kinds[type(x).__name__](x.count, x.seconds) for x in given]

    takes_body = len(inspect.signature(module.VenuePacer.finish).parameters) > 3

    class Baseline(module.VenuePacer):  # type: ignore[misc,name-defined]
        def update(self, given: Any) -> None:
            super().update(convert(given))

        def finish(self, ticket: Any, headers: Any = None, body: Any = None) -> None:
            super().finish(ticket, headers, *([body] if takes_body else []))

    return Baseline(limits)


async def _client(base_url: str, api_key: str, secret: str, journal_path: str, setup: Setup) -> Any:
    """The broker's TWAP against the venue at ``base_url``: its children and seconds."""
    adapter = get_adapter(
        "binance-futures",
        venue=Venue.SIM,
        base_url=base_url,
        credentials=Credentials(venue=Venue.SIM, api_key=api_key, secret=secret),
        markets_cache=False,
        # Under load: the adapter as shipped (its own pacing, ccxt's throttle off).
        ccxt_options={}
        if setup.load
        else {"enableRateLimit": True, "rateLimit": CCXT_RATE_LIMIT_MS},
    )
    if not setup.stamps:  # every order counted until one window after its reply is read
        costs = {k: attrs.evolve(v, stamps=()) for k, v in adapter.request_costs.items()}
        adapter.request_costs = costs
    if setup.baseline:
        adapter.pacer = _baseline_pacer(setup.baseline, adapter.pacer.limits)
    journal = Journal.open(journal_path)
    try:
        broker = Broker(
            adapter,
            Environment.LOCAL,  # every child forced to the venue minimum: margin is no issue
            journal,
            # Wave boundaries in virtual time; the broker's retry waits (Retry-After,
            # back-off) are in wall time whatever its clock.
            VirtualClock(T0),
            run_id="paced",
            twap=TwapConfig(waves=WAVES, cancel_lead=1),
            limit_prices=LimitPriceComputer(Decimal("0"), max_age=None),
            retry=RetrySettings(initial=0.25, maximum=8.0),
        )
        started = time.monotonic()
        children = await broker.submit_orders(_parents())
        return children, time.monotonic() - started
    finally:
        journal.close()
        await adapter.close()


async def _in_process(journal_path: str, setup: Setup) -> dict[str, Any]:
    counter = VenueCounter(JITTER_S if setup.load else None)
    venue = _simulator(counter)
    await venue.start()
    try:
        children, elapsed = await _client(
            venue.base_url, venue.api_key, venue.secret, journal_path, setup
        )
    finally:
        await venue.stop()
    return _figures(counter.counts(), children, elapsed)


def _serve_venue(conn: Any, jitter: tuple[float, float] | None) -> None:  # pragma: no cover
    """The venue process: serve until told to stop, then send back what it counted."""

    async def serve() -> None:
        counter = VenueCounter(jitter)
        venue = _simulator(counter)
        await venue.start()
        conn.send((venue.base_url, venue.api_key, venue.secret))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await venue.stop()
        conn.send(counter.counts())

    asyncio.run(serve())


def _in_own_process(journal_path: str, setup: Setup) -> dict[str, Any]:
    """The simulator in a process of its own (forked before any event loop runs)."""
    ours, theirs = multiprocessing.Pipe()
    proc = multiprocessing.Process(
        target=_serve_venue, args=(theirs, JITTER_S if setup.load else None), daemon=True
    )
    proc.start()
    try:
        base_url, api_key, secret = ours.recv()
        children, elapsed = asyncio.run(_client(base_url, api_key, secret, journal_path, setup))
        ours.send("stop")
        counts = ours.recv()
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    return _figures(counts, children, elapsed)


def _figures(counts: tuple[list[float], int, int], children: Any, elapsed: float) -> dict[str, Any]:
    accepted, order_429, other_429 = counts
    statuses = collections.Counter(str(c.status) for c in children)
    n = len(accepted)
    span = (accepted[-1] - accepted[0]) if n > 1 else 0.0
    rate = LIMIT / INTERVAL
    utilisation = n / (rate * (span + INTERVAL)) if n else 0.0
    # The most orders any venue-aligned window saw (the simulator floors monotonic time).
    per_window = collections.Counter(math.floor(t / INTERVAL) for t in accepted)
    return {
        "accepted": n,
        "children": len(children),
        "rejected": statuses.get(str(ChildStatus.REJECTED), 0),
        "statuses": dict(statuses),
        "order_429": order_429,
        "other_429": other_429,
        "span_s": span,
        "elapsed_s": elapsed,
        "orders_per_s": n / (span + INTERVAL) if n else 0.0,
        "utilisation": utilisation,
        "max_in_window": max(per_window.values()) if per_window else 0,
    }


def _one(tmp: str, setup: Setup, i: int) -> dict[str, Any]:
    path = f"{tmp}/run{i}.sqlite"
    if setup.venue_process:
        return _in_own_process(path, setup)
    return asyncio.run(_in_process(path, setup))


def _result(name: str, goal: float, runs: list[dict[str, Any]], what: str) -> Result:
    """The median run of ``runs`` (by utilisation); 429s and rejections summed over all."""
    r = sorted(runs, key=lambda x: x["utilisation"])[(len(runs) - 1) // 2]
    order_429 = sum(x["order_429"] for x in runs)
    other_429 = sum(x["other_429"] for x in runs)
    rejected = sum(x["rejected"] for x in runs)
    each = ", ".join(f"{x['utilisation']:.3f}" for x in runs)
    notes = [
        f"{what}: {r['accepted']} orders accepted of {r['children']} children "
        f"({rejected} rejected in {len(runs)} runs), {order_429} order 429s, {other_429} "
        f"other 429s, {r['orders_per_s']:.2f} orders/s vs limit {LIMIT / INTERVAL:.1f}/s "
        f"(utilisation {r['utilisation']:.3f}; runs {each}), most in one venue window "
        f"{max(x['max_in_window'] for x in runs)}/{LIMIT}, run {r['elapsed_s']:.1f} s"
    ]
    limit_rate = LIMIT / INTERVAL
    clean = order_429 + other_429 == 0 and rejected == 0
    clean = clean and all(x["accepted"] == x["children"] for x in runs)
    return Result(
        name=name,
        sdk=r["orders_per_s"],
        reference=limit_rate,
        ratio=r["utilisation"],
        goal=f">= {goal} of limit, 0 x 429",
        passed=r["utilisation"] >= goal and clean,
        unit="orders/s",
        display={
            "sdk": f"{r['orders_per_s']:.2f} orders/s, {order_429} x 429",
            "reference": f"limit {limit_rate:.1f} orders/s",
        },
        notes=notes,
        extra={"runs": runs, "limit_per_10s": LIMIT},
    )


def run(
    quick: bool = False,
    *,
    hogs: int | None = None,
    compare: bool = False,
    repeat: int = 1,
    baseline: str | None = None,
) -> list[Result]:
    import tempfile
    from pathlib import Path

    if hogs is None:
        hogs = os.cpu_count() or 2
    loaded = [Setup(load=True, venue_process=True), Setup(load=True)]
    if compare:
        loaded = [
            Setup(load=True, venue_process=True),
            Setup(load=True, venue_process=True, stamps=False),
            Setup(load=True),
            Setup(load=True, stamps=False),
        ]
    if baseline:
        loaded.insert(1, Setup(load=True, venue_process=True, baseline=baseline))
    idle = Setup(load=False)
    runs: dict[Setup, list[dict[str, Any]]] = {s: [] for s in [idle, *loaded]}
    with tempfile.TemporaryDirectory(prefix="bench-rl-", dir=Path.cwd()) as tmp:
        n = itertools.count()  # each run its own journal
        for _ in range(repeat):  # interleaved: each setup once per round
            runs[idle].append(_one(tmp, idle, next(n)))
            with cpu_hogs(hogs):
                for setup in loaded:
                    runs[setup].append(_one(tmp, setup, next(n)))
    names = {
        Setup(load=True, venue_process=True): "2b rate limits under load",
        Setup(load=True, venue_process=True, stamps=False): "2b (stamps ignored)",
        Setup(load=True): "2b venue in-process",
        Setup(load=True, stamps=False): "2b venue in-process (stamps ignored)",
    }
    if baseline:
        names[Setup(load=True, venue_process=True, baseline=baseline)] = "2b baseline pacer"
    return [
        _result("2 rate-limit utilisation", GOAL, runs[idle], idle.label(hogs)),
        *(_result(names[s], LOAD_GOAL, runs[s], s.label(hogs)) for s in loaded),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hogs", type=int, default=None, help="CPU hogs (default: one a core)")
    parser.add_argument(
        "--compare", action="store_true", help="also run the loaded setups with stamps ignored"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each setup (medians)")
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="also run 2b with the VenuePacer of this pacing module (another revision's)",
    )
    args = parser.parse_args()
    results = run(
        quick=args.quick,
        hogs=args.hogs,
        compare=args.compare,
        repeat=args.repeat,
        baseline=args.baseline,
    )
    for result in results:
        emit(result)


if __name__ == "__main__":
    main()
