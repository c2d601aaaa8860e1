"""An in-memory venue behind the ExchangeAdapter interface, with scripted faults.

Limit orders fill a configurable fraction at once and rest for the rest; market orders
fill fully. Every create is kept, so tests can check one venue order per client id.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from exsdk.adapter import Capabilities, ExchangeAdapter
from exsdk.errors import (
    ClockSkew,
    InsufficientFunds,
    LiquidityRejected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    SdkError,
    TransientVenueError,
    VenueRejected,
)
from exsdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    MarketLimits,
    Position,
    Side,
)

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def futures_limits() -> dict[str, MarketLimits]:
    """Two linear futures markets with Binance-like filters."""
    common = {"market_type": "swap", "contract": True, "quote": "USDT", "settle": "USDT"}
    return {
        BTC: MarketLimits(
            symbol=BTC,
            market_id="BTCUSDT",
            base="BTC",
            amount_step=Decimal("0.001"),
            price_tick=Decimal("0.1"),
            amount_min=Decimal("0.001"),
            cost_min=Decimal("100"),
            **common,
        ),
        ETH: MarketLimits(
            symbol=ETH,
            market_id="ETHUSDT",
            base="ETH",
            amount_step=Decimal("0.001"),
            price_tick=Decimal("0.01"),
            amount_min=Decimal("0.001"),
            cost_min=Decimal("20"),
            **common,
        ),
    }


class Killed(BaseException):
    """Stands for SIGKILL: escapes every ``except Exception`` like a dead process would."""


@attrs.define
class Fault:
    """One scripted fault: on the ``nth`` call (1-based) of ``method`` for ``symbol``."""

    method: str
    kind: str  # before | after (the order is placed, then the error) | raise
    error: Callable[[], BaseException]
    symbol: str | None = None
    nth: int = 1
    times: int = 1


@attrs.define
class _Order:
    id: str
    client_order_id: str
    symbol: str
    type: str
    side: Side
    amount: Decimal
    price: Decimal | None
    reduce_only: bool
    filled: Decimal = Decimal(0)
    status: str = "open"
    trades: list[CcxtTrade] = attrs.field(factory=list)


class FakeAdapter(ExchangeAdapter):
    """A deterministic in-memory futures venue."""

    name: ClassVar[str] = "fake-futures"
    ccxt_id: ClassVar[str] = "fakeex"
    capabilities: ClassVar[Capabilities] = Capabilities(
        positions=True, leverage=True, reduce_only=True, liquidity_error=True
    )

    def __init__(
        self,
        *,
        fill_ratio: Decimal = Decimal(1),
        books: dict[str, tuple[Decimal, Decimal]] | None = None,
        book_time: Callable[[], datetime] | None = None,
    ) -> None:
        self.markets = futures_limits()
        self.books = books or {
            BTC: (Decimal("30000.0"), Decimal("30001.0")),
            ETH: (Decimal("2000.00"), Decimal("2000.20")),
        }
        self.fill_ratio: dict[str, Decimal] = {s: fill_ratio for s in self.markets}
        self.book_time = book_time or (lambda: datetime.now(UTC))
        self.orders: list[_Order] = []
        self.faults: list[Fault] = []
        self.calls: dict[str, int] = {}
        self.calls_by_symbol: dict[tuple[str, str | None], int] = {}
        self.resyncs = 0
        self.positions: dict[str, Decimal] = {}
        self._ids = itertools.count(1000)
        self._trade_ids = itertools.count(1)

    # -- helpers for tests ------------------------------------------------------

    def orders_by_client_id(self) -> dict[str, int]:
        """How many venue orders each client order id has (must be 1)."""
        out: dict[str, int] = {}
        for o in self.orders:
            out[o.client_order_id] = out.get(o.client_order_id, 0) + 1
        return out

    def filled(self, symbol: str) -> Decimal:
        """Signed filled amount on ``symbol``."""
        total = Decimal(0)
        for o in self.orders:
            if o.symbol == symbol:
                total += o.filled if o.side == Side.BUY else -o.filled
        return total

    def _hit(self, method: str, symbol: str | None, stage: str) -> None:
        for fault in self.faults:
            if fault.method != method or fault.kind != stage or fault.times <= 0:
                continue
            if fault.symbol is not None and fault.symbol != symbol:
                continue
            if self.calls_by_symbol.get((method, symbol), 0) < fault.nth:
                continue
            fault.times -= 1
            raise fault.error()

    def _count(self, method: str, symbol: str | None) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        key = (method, symbol)
        self.calls_by_symbol[key] = self.calls_by_symbol.get(key, 0) + 1

    def _view(self, o: _Order) -> CcxtOrder:
        return CcxtOrder(
            id=o.id,
            client_order_id=o.client_order_id,
            symbol=o.symbol,
            type=o.type,
            side=o.side,
            status=o.status,
            amount=o.amount,
            filled=o.filled,
            remaining=o.amount - o.filled,
            price=o.price,
            reduce_only=o.reduce_only,
        )

    def _fill(self, o: _Order, amount: Decimal, price: Decimal) -> None:
        if amount <= 0:
            return
        o.filled += amount
        fee = (amount * price * Decimal("0.0004")).quantize(Decimal("0.00000001"))
        o.trades.append(
            CcxtTrade.model_validate(
                {
                    "id": str(next(self._trade_ids)),
                    "order": o.id,
                    "symbol": o.symbol,
                    "side": str(o.side),
                    "price": price,
                    "amount": amount,
                    "cost": amount * price,
                    "fee": {"cost": fee, "currency": "USDT"},
                    "timestamp": self.book_time(),
                }
            )
        )
        signed = amount if o.side == Side.BUY else -amount
        self.positions[o.symbol] = self.positions.get(o.symbol, Decimal(0)) + signed
        if o.filled >= o.amount:
            o.status = "closed"

    # -- ExchangeAdapter --------------------------------------------------------

    @property
    def exchange_id(self) -> str:
        return self.ccxt_id

    def symbol_for(self, base: str, quote: str) -> str:
        return f"{base}/{quote}:{quote}"

    async def load_markets(self, *, reload: bool = False) -> dict[str, MarketLimits]:
        self._count("load_markets", None)
        return dict(self.markets)

    async def best_bid_ask(self, symbol: str) -> BidAsk:
        self._count("best_bid_ask", symbol)
        self._hit("best_bid_ask", symbol, "before")
        bid, ask = self.books[symbol]
        return BidAsk(symbol=symbol, bid=bid, ask=ask, timestamp=self.book_time())

    async def create_order(
        self,
        symbol: str,
        order_type: str,
        side: Side,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> CcxtOrder:
        self._count("create_order", symbol)
        self._hit("create_order", symbol, "before")
        for o in self.orders:
            if o.client_order_id == client_order_id and o.status == "open":
                raise VenueRejected('{"code":-4116,"msg":"ClientOrderId is duplicated."}')
        o = _Order(
            str(next(self._ids)),
            client_order_id,
            symbol,
            order_type,
            side,
            amount,
            price,
            reduce_only,
        )
        self.orders.append(o)
        bid, ask = self.books[symbol]
        if order_type == "market":
            self._fill(o, amount, ask if side == Side.BUY else bid)
        else:
            assert price is not None
            step = self.markets[symbol].amount_step
            part = (amount * self.fill_ratio[symbol] / step).to_integral_value() * step
            self._fill(o, min(part, amount), price)
        self._hit("create_order", symbol, "after")
        return self._view(o)

    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        self._count("cancel_order", symbol)
        for o in self.orders:
            if o.id == order_id:
                if o.status != "open":
                    raise OrderNotFound("Unknown order sent.", code=-2011)
                o.status = "canceled"
                return self._view(o)
        raise OrderNotFound("Unknown order sent.", code=-2011)

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> CcxtOrder:
        self._count("fetch_order", symbol)
        self._hit("fetch_order", symbol, "before")
        for o in self.orders:
            if (order_id is not None and o.id == order_id) or (
                client_order_id is not None and o.client_order_id == client_order_id
            ):
                return self._view(o)
        raise OrderNotFound("Order does not exist.", code=-2013)

    async def fetch_open_orders(self, symbol: str) -> list[CcxtOrder]:
        return [self._view(o) for o in self.orders if o.symbol == symbol and o.status == "open"]

    async def fetch_orders(self, symbol: str, *, since_ms: int | None = None) -> list[CcxtOrder]:
        self._count("fetch_orders", symbol)
        self._hit("fetch_orders", symbol, "before")
        return [self._view(o) for o in self.orders if o.symbol == symbol]

    async def fetch_order_trades(self, symbol: str, *, order_id: str) -> list[CcxtTrade]:
        self._count("fetch_order_trades", symbol)
        for o in self.orders:
            if o.id == order_id:
                return list(o.trades)
        return []

    async def fetch_balances(self) -> Balances:
        return Balances.from_ccxt({"total": {"USDT": 1000}, "free": {"USDT": 1000}})

    async def fetch_positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        out = []
        for symbol, amount in self.positions.items():
            if amount == 0:
                continue
            out.append(
                Position(
                    symbol=symbol,
                    side="long" if amount > 0 else "short",
                    contracts=abs(amount),
                    contract_size=Decimal(1),
                )
            )
        return out

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        return None

    async def close(self) -> None:
        return None

    async def resync_clock(self) -> None:
        """Counted, so tests see the broker resync before retrying -1021."""
        self.resyncs += 1


def unknown() -> SdkError:
    """A reply lost after the venue accepted the order."""
    return OrderOutcomeUnknown('{"code":-1007,"msg":"Timeout waiting for response."}', code=-1007)


def server_error() -> SdkError:
    """A 5xx."""
    return TransientVenueError("503 Service Unavailable")


def liquidity() -> SdkError:
    """Binance -4131."""
    return LiquidityRejected(
        '{"code":-4131,"msg":"The counterparty\'s best price does not meet the PERCENT_PRICE '
        'filter limit."}',
        code=-4131,
    )


def funds() -> SdkError:
    """-2019."""
    return InsufficientFunds('{"code":-2019,"msg":"Margin is insufficient."}', code=-2019)


def rate_limited() -> SdkError:
    """429 with Retry-After."""
    return RateLimited("429 Too Many Requests", retry_after=2.0, code=-1003)


def skew() -> SdkError:
    """-1021."""
    return ClockSkew('{"code":-1021,"msg":"Timestamp outside recvWindow."}', code=-1021)
