"""Symbol filters enforced the way Binance does, with its exact error bodies.

Spot failures are ``-1013 Filter failure: <NAME>``; USD-M futures use dedicated
codes (-4003/-4004/-4005/-4013/-4014/-4016/-4023/-4024/-4164, -1111).
"""

from __future__ import annotations

from decimal import Decimal

from exsdk.simulator import errors
from exsdk.simulator.book import snap
from exsdk.simulator.exchange_info import SymbolRules

SPOT_MAX_DECIMALS = 8


def _decimals(value: Decimal) -> int:
    exp = value.as_tuple().exponent
    return max(0, -int(exp)) if isinstance(exp, int) else 0


def _is_multiple(value: Decimal, base: Decimal, unit: Decimal) -> bool:
    if unit <= 0:
        return True
    return (value - base) % unit == 0


def check_spot(
    rules: SymbolRules,
    order_type: str,
    price: Decimal | None,
    qty: Decimal | None,
    reference: Decimal,
) -> None:
    """Validate a spot order; raise the Binance error of the first failing filter."""
    if qty is not None and _decimals(qty.normalize()) > SPOT_MAX_DECIMALS:
        raise errors.BinanceError(400, -1111, "Parameter 'quantity' has too much precision.")
    if price is not None and order_type != "MARKET":
        if (rules.min_price > 0 and price < rules.min_price) or (
            rules.max_price > 0 and price > rules.max_price
        ):
            raise errors.filter_failure("PRICE_FILTER")
        if not _is_multiple(price, rules.min_price, rules.tick):
            raise errors.filter_failure("PRICE_FILTER")
    if qty is not None:
        if (
            qty < rules.min_qty
            or qty > rules.max_qty
            or not _is_multiple(qty, rules.min_qty, rules.step)
        ):
            raise errors.filter_failure("LOT_SIZE")
        if order_type == "MARKET" and (
            qty < rules.market_min_qty
            or (rules.market_max_qty > 0 and qty > rules.market_max_qty)
            or not _is_multiple(qty, rules.market_min_qty, rules.market_step)
        ):
            raise errors.filter_failure("MARKET_LOT_SIZE")
    if rules.min_notional_filter and qty is not None:
        is_market = order_type == "MARKET"
        px = reference if is_market or price is None else price
        notional = px * qty
        if (not is_market or rules.apply_min_to_market) and notional < rules.min_notional:
            raise errors.filter_failure(rules.min_notional_filter)
        if not is_market and rules.max_notional > 0 and notional > rules.max_notional:
            raise errors.filter_failure(rules.min_notional_filter)


def format_notional(value: Decimal) -> str:
    """Format a MIN_NOTIONAL value the way Binance prints it (5 -> ``5.0``)."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def check_futures(
    rules: SymbolRules,
    order_type: str,
    side: str,
    price: Decimal | None,
    qty: Decimal,
    mark: Decimal,
    reduce_only: bool,
) -> None:
    """Validate a USD-M futures order (everything except the -4131 book check)."""
    if _decimals(qty.normalize()) > rules.qty_precision or (
        price is not None and _decimals(price.normalize()) > rules.price_precision
    ):
        raise errors.BinanceError(
            400, -1111, "Precision is over the maximum defined for this asset."
        )
    if qty <= 0:
        raise errors.futures_qty_below_zero()
    if qty < rules.min_qty:
        raise errors.futures_qty_below_min()
    max_qty = rules.market_max_qty if order_type == "MARKET" else rules.max_qty
    if max_qty > 0 and qty > max_qty:
        raise errors.futures_qty_above_max()
    if not _is_multiple(qty, Decimal(0), rules.step):
        raise errors.futures_qty_not_step()
    if order_type != "MARKET" and price is not None:
        if rules.min_price > 0 and price < rules.min_price:
            raise errors.futures_price_below_min()
        if rules.max_price > 0 and price > rules.max_price:
            raise errors.futures_price_above_max()
        if not _is_multiple(price, rules.min_price, rules.tick):
            raise errors.futures_price_not_tick()
        if rules.percent_up > 0 and side == "BUY" and price > mark * rules.percent_up:
            bound = snap(mark * rules.percent_up, rules.tick)
            raise errors.futures_limit_price_high(format(bound, "f"))
        if rules.percent_down > 0 and side == "SELL" and price < mark * rules.percent_down:
            bound = snap(mark * rules.percent_down, rules.tick)
            raise errors.futures_limit_price_low(format(bound, "f"))
    notional = qty * (mark if order_type == "MARKET" or price is None else price)
    if not reduce_only and rules.min_notional > 0 and notional < rules.min_notional:
        raise errors.min_notional_futures_text(format_notional(rules.min_notional))


def check_percent_price_market(
    rules: SymbolRules, side: str, best: Decimal | None, mark: Decimal
) -> None:
    """-4131 when the best counter price lies outside [mark*down, mark*up]."""
    if best is None:
        raise errors.percent_price_market()
    if rules.percent_up > 0 and best > mark * rules.percent_up:
        raise errors.percent_price_market()
    if rules.percent_down > 0 and best < mark * rules.percent_down:
        raise errors.percent_price_market()
