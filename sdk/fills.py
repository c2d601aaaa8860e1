"""Fold a parent's child trades into one :class:`~sdk.models.OmsFill`, and cross-check it.

Trades are the source of an OMS fill: they carry prices and fees. ccxt's order status
("ccxt fills") only has quantities, so :func:`cross_check` compares against it and never
replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from sdk.models.ccxt import CcxtOrder, CcxtTrade
from sdk.models.oms import ChildOrder, OmsFill, Order

__all__ = ["FillDiscrepancy", "base_of", "cross_check", "fold_fill"]

_ZERO = Decimal(0)


def base_of(symbol: str) -> str:
    """The base currency of a ccxt symbol: ``ETH`` for ``ETH/USDT`` and ``ETH/USDT:USDT``."""
    return symbol.split(":", 1)[0].split("/", 1)[0]


def _fee_in_quote(
    currency: str | None,
    cost: Decimal,
    trade: CcxtTrade,
    *,
    base: str,
    quote: str,
    fee_conversion: Mapping[str, Decimal],
) -> Decimal | None:
    # A fee without a currency is taken as quote: that is how ccxt reports fees it
    # computed itself from the market's rates.
    if currency is None or currency == quote:
        return cost
    if currency == base:
        return cost * trade.price
    rate = fee_conversion.get(currency)
    return None if rate is None else cost * rate


def fold_fill(
    parent: Order,
    *,
    symbol: str,
    quote: str,
    children: Sequence[ChildOrder],
    trades: Sequence[CcxtTrade],
    fee_conversion: Mapping[str, Decimal] | None = None,
) -> OmsFill:
    """One fill for ``parent`` from the trades of its ``children``.

    Only trades whose ``order`` is one of the children's ``ccxt_order_id`` count; a trade
    seen twice (same order and trade id, e.g. fetched in two overlapping pages) counts
    once. The quantity has the parent's sign; the price is the volume-weighted average
    (``None`` when nothing filled); ``fees`` are summed per currency.

    ``fee_in_quote`` converts each fee: quote-currency fees as they are, base-currency fees
    at that trade's price, any other currency at ``fee_conversion[currency]`` (its price in
    the quote currency, e.g. ``{"BNB": Decimal("300")}``). A fee in a currency that cannot
    be converted is left out of ``fee_in_quote`` but still appears in ``fees``, so nothing
    is lost and nothing is guessed.
    """
    conversion = fee_conversion or {}
    base = base_of(symbol)
    order_ids = {c.ccxt_order_id for c in children if c.ccxt_order_id is not None}
    seen: set[tuple[str, str]] = set()
    mine: list[CcxtTrade] = []
    for trade in trades:
        if trade.order is None or trade.order not in order_ids:
            continue
        key = (trade.order, trade.id)
        if key in seen:
            continue
        seen.add(key)
        mine.append(trade)

    amount = _ZERO
    value = _ZERO
    fees: dict[str, Decimal] = {}
    fee_in_quote = _ZERO
    stamps: list[datetime] = []
    for trade in mine:
        amount += trade.amount
        value += trade.amount * trade.price
        if trade.timestamp is not None:
            stamps.append(trade.timestamp)
        for fee in trade.all_fees():
            currency = fee.currency if fee.currency is not None else quote
            fees[currency] = fees.get(currency, _ZERO) + fee.cost
            converted = _fee_in_quote(
                fee.currency, fee.cost, trade, base=base, quote=quote, fee_conversion=conversion
            )
            if converted is not None:
                fee_in_quote += converted

    # Negating only a non-zero amount: Decimal has a signed zero, and "-0" helps nobody.
    quantity = -amount if parent.diff_num_shares < 0 and amount else amount
    return OmsFill(
        parent_order_id=parent.order_id,
        asset_id=parent.asset_id,
        symbol=symbol,
        quantity=quantity,
        price=value / amount if amount else None,
        notional=value,
        fees=fees,
        fee_in_quote=fee_in_quote,
        quote=quote,
        num_trades=len(mine),
        first_trade_at=min(stamps) if stamps else None,
        last_trade_at=max(stamps) if stamps else None,
        child_client_order_ids=tuple(c.client_order_id for c in children),
    )


@attrs.frozen
class FillDiscrepancy:
    """The folded quantity of a parent disagrees with what the venue's orders report."""

    parent_order_id: int
    folded: Decimal
    reported: Decimal
    difference: Decimal


def cross_check(
    fill: OmsFill,
    ccxt_orders: Sequence[CcxtOrder],
    *,
    tolerance: Decimal = _ZERO,
) -> FillDiscrepancy | None:
    """Compare ``|fill.quantity|`` with the sum of ``filled`` over the parent's orders.

    ``ccxt_orders`` are the venue's views of this parent's children; an order listed twice
    (same id) counts once. Returns ``None`` when they agree within ``tolerance``, else the
    discrepancy (``difference = folded - reported``).
    """
    seen: set[str] = set()
    reported = _ZERO
    for order in ccxt_orders:
        if order.id in seen:
            continue
        seen.add(order.id)
        reported += order.filled or _ZERO
    folded = abs(fill.quantity)
    difference = folded - reported
    if abs(difference) <= tolerance:
        return None
    return FillDiscrepancy(fill.parent_order_id, folded, reported, difference)
