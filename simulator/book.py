"""Synthetic order books and the seeded reference-price process.

Each (market, symbol) has its own ``random.Random`` seeded from the venue seed
and the symbol, so a given seed always produces the same prices and books.
Prices move only when :meth:`Book.step` or :meth:`Book.set_mid` is called.
"""

from __future__ import annotations

import random
from collections import deque
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

import attrs

from exsdk.simulator.exchange_info import SymbolRules
from exsdk.simulator.price_process import PriceProcess, annual_volatility

# Realistic reference prices per base asset (USDT quote).
REFERENCE_PRICES: dict[str, str] = {
    "BTC": "60000",
    "ETH": "3000",
    "BNB": "550",
    "SOL": "150",
    "AVAX": "30",
    "LINK": "15",
    "EOS": "0.8",
    "ADA": "0.45",
    "DOGE": "0.15",
    "APE": "1.2",
    "HNT": "5",
    "MATIC": "0.6",
    "LTC": "70",
}

LEVELS = 25
# Depth and spread, from the real BTCUSDT books in tests/samples: the best levels of
# spot_order_book_real_btcusdt_limit2.json (0.0107 BTC bid and 0.0087 BTC ask at 42 574:
# about 455 and 370 USDT) and spot_ticker_24hr_real_btcusdt.json (6.27 BTC bid, 0.033 BTC
# ask at 73 370: 460 000 and 2 400 USDT) put the best level at a few thousand USDT, and
# both have a spread of one tick (42574.30/42574.31, 73369.83/73369.84). The best level
# therefore holds FIRST_LEVEL_NOTIONAL and the spread is one tick. (The futures sample
# futures_order_book_real_btcusdt_limit5.json, 227 USDT wide, is a testnet-like thin
# book and is not used.) Deeper levels, one LEVEL_SPACING apart and LEVEL_GROWTH times
# larger each, are an assumption, not a measured figure: they let orders of any size
# fill while a few thousand USDT still walks one or two levels.
FIRST_LEVEL_NOTIONAL = Decimal(2000)
LEVEL_GROWTH = Decimal("1.6")
LEVEL_SPACING = Decimal("0.0001")
# A thin book's best level lies this far from the mark (outside PERCENT_PRICE: -4131).
THIN_OFFSET = Decimal("0.25")
# One admin ``tick`` is this many seconds of clock time of the price process.
TICK_CLOCK_SECONDS = 1.0
# Mid-price samples kept per book for klines and avgPrice.
HISTORY_SIZE = 20_000


def snap(value: Decimal, unit: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to a multiple of ``unit`` (no-op if unit is 0)."""
    if unit <= 0:
        return value
    return (value / unit).quantize(Decimal(1), rounding=rounding) * unit


def floor_to(value: Decimal, unit: Decimal) -> Decimal:
    """Truncate ``value`` down to a multiple of ``unit``."""
    return snap(value, unit, ROUND_DOWN)


@attrs.define
class Level:
    """One price level: price and remaining quantity."""

    price: Decimal
    qty: Decimal


@attrs.define
class TickerStats:
    """Rolling 24h statistics served by ticker/24hr."""

    open_price: Decimal
    high: Decimal
    low: Decimal
    last_price: Decimal
    last_qty: Decimal = Decimal(0)
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    count: int = 0
    first_id: int = -1
    last_id: int = -1


@attrs.define
class Book:
    """Order book of one symbol on one market, regenerated around ``mid``."""

    rules: SymbolRules
    process: PriceProcess
    mid: Decimal
    thin: bool = False
    # The unrounded fair price the book is quoted around (set exactly by set_mid).
    fair: Decimal = Decimal(0)
    bids: list[Level] = attrs.field(factory=list)
    asks: list[Level] = attrs.field(factory=list)
    update_id: int = 1
    stats: TickerStats | None = None
    # (server ms, mid) after every move, oldest first: what klines and avgPrice read.
    history: deque[tuple[int, Decimal]] = attrs.field(factory=lambda: deque(maxlen=HISTORY_SIZE))

    def remember(self, now_ms: int) -> None:
        """Record the current mid at ``now_ms`` in :attr:`history`."""
        self.history.append((now_ms, self.mid))

    def last_high_low(self) -> tuple[Decimal, Decimal, Decimal]:
        """Last price (the mid: the simulated market trades there), high and low so far,
        over the remembered mids and the account's own trades."""
        mids = [m for _, m in self.history] or [self.mid]
        high, low = max(mids), min(mids)
        if self.stats is not None and self.stats.count:
            high, low = max(high, self.stats.high), min(low, self.stats.low)
        return self.mid, high, low

    def mids_between(self, start_ms: int, end_ms: int) -> list[Decimal]:
        """The mid at ``start_ms`` (the last one before it) and every later one up to ``end_ms``."""
        before = [m for t, m in self.history if t <= start_ms]
        inside = [m for t, m in self.history if start_ms < t <= end_ms]
        return ([before[-1]] if before else []) + inside

    @classmethod
    def create(cls, rules: SymbolRules, seed: int, thin: bool = False) -> Book:
        """Create a book with a seeded reference price near the realistic level."""
        rng = random.Random(f"{seed}:{rules.kind}:{rules.symbol}")
        ref = Decimal(REFERENCE_PRICES.get(rules.base, "10"))
        jitter = Decimal(str(round(rng.uniform(-0.01, 0.01), 6)))
        mid = snap(ref * (1 + jitter), rules.tick)
        process = PriceProcess(float(mid), annual_volatility(rules.base), rng)
        book = cls(rules=rules, process=process, mid=mid, thin=thin, fair=mid)
        book.stats = TickerStats(open_price=mid, high=mid, low=mid, last_price=mid)
        book.rebuild()
        return book

    @property
    def mark(self) -> Decimal:
        """Mark price used by futures risk checks: the reference mid."""
        return self.mid

    def rebuild(self) -> None:
        """Regenerate all levels around ``mid`` (restores depleted liquidity)."""
        tick = self.rules.tick
        spacing = max(tick, snap(self.mid * LEVEL_SPACING, tick))
        if self.thin:
            best_bid = snap(self.mid * (1 - THIN_OFFSET), tick, ROUND_FLOOR)
            best_ask = snap(self.mid * (1 + THIN_OFFSET), tick, ROUND_CEILING)
        else:
            # One tick wide around the fair price, as the real books are.
            best_bid = max(snap(self.fair - tick / 2, tick, ROUND_FLOOR), tick)
            best_ask = best_bid + tick
        self.bids = []
        self.asks = []
        for i in range(LEVELS):
            notional = FIRST_LEVEL_NOTIONAL * LEVEL_GROWTH**i
            bid_px = best_bid - spacing * i
            ask_px = best_ask + spacing * i
            if bid_px > 0:
                self.bids.append(Level(bid_px, self._qty_for(notional, bid_px)))
            self.asks.append(Level(ask_px, self._qty_for(notional, ask_px)))
        self.update_id += 1

    def _qty_for(self, notional: Decimal, price: Decimal) -> Decimal:
        step = self.rules.step if self.rules.step > 0 else Decimal("0.00000001")
        qty = floor_to(notional / price, step)
        return max(qty, step, self.rules.min_qty)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of clock time pass for the price process, then rebuild."""
        if seconds <= 0:
            return
        self._quote(Decimal(repr(self.process.advance(seconds))))

    def step(self) -> None:
        """One admin tick: :data:`TICK_CLOCK_SECONDS` of clock time."""
        self.advance(TICK_CLOCK_SECONDS)

    def set_mid(self, price: Decimal) -> None:
        """Move the reference price to ``price`` and rebuild (the process continues from it)."""
        fair = max(price, self.rules.tick)
        self.process.price = float(fair)
        self._quote(fair)

    def _quote(self, fair: Decimal) -> None:
        self.fair = fair
        self.mid = max(snap(fair, self.rules.tick), self.rules.tick)
        self.rebuild()

    def best_bid(self) -> Decimal | None:
        """Best bid price, or None if the side is empty."""
        return next((lv.price for lv in self.bids if lv.qty > 0), None)

    def best_ask(self) -> Decimal | None:
        """Best ask price, or None if the side is empty."""
        return next((lv.price for lv in self.asks if lv.qty > 0), None)

    def opposite(self, side: str) -> list[Level]:
        """Levels a ``side`` order trades against (asks for BUY)."""
        return self.asks if side == "BUY" else self.bids

    def plan(
        self,
        side: str,
        qty: Decimal | None,
        limit: Decimal | None = None,
        quote: Decimal | None = None,
    ) -> list[tuple[Decimal, Decimal]]:
        """Walk the opposite side without changing it: the (price, qty) fills.

        Stops at ``qty`` base units, or at ``quote`` quote units (truncated to the
        lot step), or at the ``limit`` price, whichever comes first.
        """
        fills: list[tuple[Decimal, Decimal]] = []
        left_qty = qty
        left_quote = quote
        step = self.rules.step if self.rules.step > 0 else Decimal("0.00000001")
        for lv in self.opposite(side):
            if lv.qty <= 0:
                continue
            if limit is not None and (
                (side == "BUY" and lv.price > limit) or (side == "SELL" and lv.price < limit)
            ):
                break
            take = lv.qty
            if left_qty is not None:
                take = min(take, left_qty)
            if left_quote is not None:
                take = min(take, floor_to(left_quote / lv.price, step))
            if take <= 0:
                break
            fills.append((lv.price, take))
            if left_qty is not None:
                left_qty -= take
                if left_qty <= 0:
                    break
            if left_quote is not None:
                left_quote -= take * lv.price
        return fills

    def consume(self, side: str, fills: list[tuple[Decimal, Decimal]]) -> None:
        """Remove the liquidity used by ``fills`` (planned with :meth:`plan`)."""
        levels = {lv.price: lv for lv in self.opposite(side)}
        for price, qty in fills:
            levels[price].qty -= qty
        self.update_id += 1

    def record_trade(self, price: Decimal, qty: Decimal, trade_id: int) -> None:
        """Update the 24h ticker statistics with an executed trade."""
        st = self.stats
        if st is None:
            return
        st.last_price = price
        st.last_qty = qty
        st.high = max(st.high, price)
        st.low = min(st.low, price)
        st.volume += qty
        st.quote_volume += qty * price
        st.count += 1
        if st.first_id < 0:
            st.first_id = trade_id
        st.last_id = trade_id
