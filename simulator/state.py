"""Everything the venue knows: markets, accounts, limits, faults and the request log."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from exsdk.simulator.accounts import FuturesAccount, SpotAccount
from exsdk.simulator.book import Book
from exsdk.simulator.clock import Clock
from exsdk.simulator.exchange_info import (
    DEFAULT_FUTURES_SNAPSHOT,
    DEFAULT_SPOT_SNAPSHOT,
    ExchangeInfo,
    MarketKind,
)
from exsdk.simulator.faults import FaultPlan
from exsdk.simulator.matching import Engine
from exsdk.simulator.ratelimit import RateLimiter

DEFAULT_API_KEY = "sim-test-api-key-0000000000000000000000000000000000000000000000"
DEFAULT_SECRET = "sim-test-secret-00000000000000000000000000000000000000000000000"
DEFAULT_SPOT_BALANCES: Mapping[str, str] = {
    "USDT": "100000",
    "BTC": "1",
    "ETH": "10",
    "BNB": "20",
    "SOL": "100",
    "AVAX": "200",
    "LINK": "500",
    "EOS": "5000",
    "ADA": "10000",
    "DOGE": "50000",
    "APE": "5000",
}
DEFAULT_FUTURES_BALANCE = "100000"
# Symbols whose futures book starts thin (best prices far from the mark), when the
# snapshot in use lists them (HNTUSDT: only the 2021-09 futures snapshot does).
DEFAULT_THIN: tuple[str, ...] = ("HNTUSDT",)
# Requests the log keeps (about 1 KB each): the oldest are dropped beyond this.
REQUEST_LOG_SIZE = 10_000


@attrs.define
class VenueState:
    """Mutable state shared by the HTTP handlers and the admin API."""

    seed: int
    clock: Clock
    keys: dict[str, str]
    # Market name -> engine: Binance's "spot" and "futures" here; dialects add their own
    # markets (Bybit's "bybit_spot", "bybit_linear") when the venue installs them.
    engines: dict[str, Engine]
    limiters: dict[str, RateLimiter]
    faults: FaultPlan = attrs.field(factory=FaultPlan)
    request_log: deque[dict[str, Any]] = attrs.field(factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    # Clock time (Clock.elapsed) up to which the price process has been run.
    market_time: float = 0.0

    @classmethod
    def create(
        cls,
        seed: int = 7,
        keys: Mapping[str, str] | None = None,
        spot_snapshot: str = DEFAULT_SPOT_SNAPSHOT,
        futures_snapshot: str = DEFAULT_FUTURES_SNAPSHOT,
        spot_balances: Mapping[str, str | Decimal] | None = None,
        futures_balance: str | Decimal = DEFAULT_FUTURES_BALANCE,
        thin_symbols: Sequence[str] = DEFAULT_THIN,
        rate_limits: Mapping[str, int] | None = None,
        clock_speed: float = 1.0,
        time_source: Callable[[], float] | None = None,
        request_log_size: int = REQUEST_LOG_SIZE,
    ) -> VenueState:
        """Build the venue state from snapshots and starting balances.

        ``rate_limits`` keys look like ``futures:ORDERS:10S`` or ``spot:REQUEST_WEIGHT:1M``;
        ``clock_speed`` and ``time_source`` make the :class:`Clock` (see there).
        """
        clock = (
            Clock(speed=clock_speed)
            if time_source is None
            else Clock(speed=clock_speed, source=time_source)
        )
        engines: dict[str, Engine] = {}
        limiters: dict[str, RateLimiter] = {}
        start_ids = {"spot": (28_000_001, 560_000_001), "futures": (4_087_922_101, 272_536_301)}
        for kind, snap in (("spot", spot_snapshot), ("futures", futures_snapshot)):
            mk: MarketKind = "spot" if kind == "spot" else "futures"
            info = ExchangeInfo.load(mk, snap)
            books = {
                sym: Book.create(rules, seed, thin=(mk == "futures" and sym in thin_symbols))
                for sym, rules in info.rules.items()
            }
            for book in books.values():
                book.remember(clock.now_ms())
            order_id, trade_id = start_ids[kind]
            engines[mk] = Engine(
                kind=mk,
                info=info,
                clock=clock,
                books=books,
                id_rng=random.Random(f"{seed}:{kind}:ids"),
                next_order_id=order_id,
                next_trade_id=trade_id,
            )
            overrides = {
                k.split(":", 1)[1]: v
                for k, v in (rate_limits or {}).items()
                if k.startswith(kind + ":")
            }
            limiters[mk] = RateLimiter.from_exchange_info(info.rate_limits(), overrides)
        spot = SpotAccount()
        for asset, amount in (spot_balances or DEFAULT_SPOT_BALANCES).items():
            spot.set(asset, Decimal(str(amount)))
        engines["spot"].spot = spot
        # ccxt skips futures assets whose updateTime is 0 (never touched): a funded wallet
        # must carry the time it was funded, as Binance's does.
        engines["futures"].futures = FuturesAccount(
            wallet=Decimal(str(futures_balance)), update_time=clock.now_ms()
        )
        return cls(
            seed=seed,
            clock=clock,
            keys=dict(keys or {DEFAULT_API_KEY: DEFAULT_SECRET}),
            engines=engines,
            limiters=limiters,
            request_log=deque(maxlen=request_log_size),
        )

    @property
    def spot(self) -> Engine:
        """The spot engine."""
        return self.engines["spot"]

    @property
    def futures(self) -> Engine:
        """The USD-M futures engine."""
        return self.engines["futures"]

    def tick(self, n: int = 1) -> None:
        """Advance every book ``n`` fixed steps of clock time, filling crossed resting orders."""
        for _ in range(n):
            for engine in self.engines.values():
                engine.tick()

    def advance_clock(self) -> float:
        """Run the price process up to the clock's time now; return the seconds advanced."""
        now = self.clock.elapsed()
        seconds = now - self.market_time
        if seconds <= 0:
            return 0.0
        self.market_time = now
        for engine in self.engines.values():
            engine.advance(seconds)
        return seconds
