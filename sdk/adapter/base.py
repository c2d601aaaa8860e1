"""The adapter interface every exchange adapter implements, and what it declares.

``Capabilities`` are declared per adapter, not read from ccxt's ``has``
(``has['setLeverage']`` is true for Binance spot and still fails there).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

import attrs

from exsdk._value import Value
from exsdk.errors import UnsupportedMethod
from exsdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    MarketLimits,
    Position,
    Side,
)

if TYPE_CHECKING:
    pass


@attrs.frozen(repr=False, eq=False)
class Capabilities(Value):
    """What an adapter supports; the contract suite skips by these, the broker checks them."""

    market_orders: bool = True
    limit_orders: bool = True
    cancel: bool = True
    fetch_by_client_order_id: bool = True
    open_orders: bool = True
    order_trades: bool = True
    balances: bool = True
    positions: bool = False
    leverage: bool = False
    reduce_only: bool = False
    liquidity_error: bool = False  # the venue refuses an order for liquidity (LiquidityRejected)
    clock_sync: bool = True  # the venue's clock can be read (fetchTime) after a ClockSkew

    def names(self) -> dict[str, bool]:
        """Every capability by name, for tables and skip reasons."""
        return attrs.asdict(self)


class ExchangeAdapter(ABC):
    """Async base of every exchange adapter.

    Subclasses declare ``name``, ``ccxt_id`` and ``capabilities`` and implement the
    hooks; shared code never asks "am I spot or futures?".
    """

    name: ClassVar[str]
    ccxt_id: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # Contract name -> why the adapter is known to fail it. The contract suite runs such a
    # contract as a strict xfail and shows it as one; any other xfail is weakening.
    known_gaps: ClassVar[Mapping[str, str]] = {}
    # "module:attribute" of the exsdk.contracts.harness.VenueDialect the contract suite
    # uses for this adapter's venue (a string: sdk never imports adapters or contracts).
    contract_dialect: ClassVar[str | None] = None

    @property
    @abstractmethod
    def exchange_id(self) -> str:
        """The ccxt exchange id this adapter talks to."""

    @abstractmethod
    def symbol_for(self, base: str, quote: str) -> str:
        """The ccxt symbol of ``base``/``quote`` in this adapter's market type."""

    @abstractmethod
    async def load_markets(self, *, reload: bool = False) -> dict[str, MarketLimits]:
        """Markets with their typed limits, from the cache when there is one."""

    @abstractmethod
    async def best_bid_ask(self, symbol: str) -> BidAsk:
        """Top of the book now."""

    @abstractmethod
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
        """Send one order with the given client order id (the idempotency key)."""

    @abstractmethod
    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        """Cancel one order; an order already gone raises ``OrderNotFound``."""

    @abstractmethod
    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> CcxtOrder:
        """One order by exchange id or by client order id."""

    @abstractmethod
    async def fetch_open_orders(self, symbol: str) -> list[CcxtOrder]:
        """Open orders of one symbol."""

    async def fetch_orders(self, symbol: str, *, since_ms: int | None = None) -> list[CcxtOrder]:
        """The symbol's recent orders, open and closed (what reconciliation reads)."""
        raise UnsupportedMethod(
            f"{type(self).__name__} cannot list a symbol's orders",
            missing={"fetchOrders": "reconciling a run with the venue"},
            exchange=self.exchange_id,
        )

    @abstractmethod
    async def fetch_order_trades(self, symbol: str, *, order_id: str) -> list[CcxtTrade]:
        """The trades (partial fills) of one order."""

    @abstractmethod
    async def fetch_balances(self) -> Balances:
        """Account balances."""

    @abstractmethod
    async def fetch_positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        """Open positions (non-zero only)."""

    @abstractmethod
    async def set_leverage(self, symbol: str, leverage: int) -> None:
        """Set the leverage of one symbol."""

    @abstractmethod
    async def close(self) -> None:
        """Release the HTTP session."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# What each ccxt unified method is needed for; named in every ``UnsupportedMethod``.
METHOD_PURPOSES: Mapping[str, str] = {
    "loadMarkets": "market limits (minimal orders, quantizing)",
    "fetchOrderBook": "best bid/ask for limit prices",
    "createOrder": "broker submission of child orders",
    "createMarketOrder": "market orders (market parents, minimal-order forcing)",
    "cancelOrder": "cancelling open children at the end of a TWAP wave",
    "fetchOrder": "order status by exchange id (reconciliation)",
    "fetchOrders": "order lookup by client order id after an unknown outcome",
    "fetchOpenOrders": "open orders at the end of a wave",
    "fetchClosedOrders": "order lookup by client order id after an unknown outcome",
    "fetchMyTrades": "trades of each child order (OMS fills and fees)",
    "fetchBalance": "balances",
    "fetchPositions": "positions",
    "setLeverage": "leverage",
    "fetchTime": "clock sync after a timestamp rejection",
}
