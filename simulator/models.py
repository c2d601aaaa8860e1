"""Order and trade records kept by the matching engine."""

from __future__ import annotations

from decimal import Decimal

import attrs

from exsdk.simulator.exchange_info import MarketKind

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


@attrs.frozen
class Trade:
    """One execution of one of the account's orders."""

    kind: MarketKind
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_maker: bool
    realized_pnl: Decimal = Decimal(0)


@attrs.define
class Order:
    """An order and its live state (mutable: fills change it)."""

    kind: MarketKind
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    time: int
    update_time: int
    reduce_only: bool = False
    orig_quote_qty: Decimal = Decimal(0)
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    status: str = "NEW"
    trades: list[Trade] = attrs.field(factory=list)
    # Spot only: what is still locked for this order, and in which asset.
    locked_asset: str = ""
    locked_amount: Decimal = Decimal(0)

    @property
    def is_open(self) -> bool:
        """True while the order can still trade."""
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        """Quantity not yet executed."""
        return self.orig_qty - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        """Volume-weighted average fill price (0 when unfilled)."""
        if self.executed_qty == 0:
            return Decimal(0)
        return self.cum_quote / self.executed_qty
