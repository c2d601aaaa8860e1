"""Minimal-order limits, quantizing with ccxt's precision helpers, and the environment
forcing policy.

Amounts go onto the venue's step grid by truncation and prices onto the tick grid by
rounding, both through ccxt's own ``decimal_to_precision`` on decimal strings, never
``round()`` on floats. The minimal valid order for a price is the smallest amount on the
step grid that meets both the amount minimum and the notional (cost) minimum.
:func:`apply_policy` then shapes one signed amount by the environment's row of the
policy table:

============  ==========================  ==============================
environment   below the venue minimum     at or above the minimum
============  ==========================  ==============================
``local``     raised to the minimum        forced down to the minimum
``preprod``   raised to the minimum        sent as given
``prod``      rejected, with a reason      sent as given
============  ==========================  ==============================
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from types import MappingProxyType
from typing import Any

import attrs
from ccxt.base.decimal_to_precision import (
    NO_PADDING,
    ROUND,
    TICK_SIZE,
    TRUNCATE,
    decimal_to_precision,
)

from exsdk._value import Value
from exsdk.errors import InvalidOrderInput
from exsdk.models.market import MarketLimits

__all__ = [
    "DEFAULT_POLICIES",
    "Action",
    "Environment",
    "EnvironmentPolicy",
    "SizedOrder",
    "apply_policy",
    "market_limits_from_ccxt",
    "minimal_order_amount",
    "notional",
    "quantize_amount",
    "quantize_price",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_MINUS_ONE = Decimal(-1)


class Environment(enum.StrEnum):
    """How orders are shaped before sending (separate from the venue they go to)."""

    LOCAL = "local"
    PREPROD = "preprod"
    PROD = "prod"


class Action(enum.StrEnum):
    """What the policy does with one order."""

    RAISE_TO_MINIMUM = "raise-to-minimum"
    """Send the larger of the amount and the minimal valid order."""
    FORCE_TO_MINIMUM = "force-to-minimum"
    """Send exactly the minimal valid order, whatever was asked."""
    SEND_AS_GIVEN = "send-as-given"
    """Send the amount as asked, on the step grid."""
    REJECT = "reject"
    """Send nothing; record the order as rejected with the reason."""


@attrs.frozen(repr=False, eq=False)
class EnvironmentPolicy(Value):
    """One row of the policy table: the action below the minimum and at or above it."""

    below_minimum: Action
    at_or_above_minimum: Action


DEFAULT_POLICIES: Mapping[Environment, EnvironmentPolicy] = MappingProxyType(
    {
        Environment.LOCAL: EnvironmentPolicy(Action.RAISE_TO_MINIMUM, Action.FORCE_TO_MINIMUM),
        Environment.PREPROD: EnvironmentPolicy(Action.RAISE_TO_MINIMUM, Action.SEND_AS_GIVEN),
        Environment.PROD: EnvironmentPolicy(Action.REJECT, Action.SEND_AS_GIVEN),
    }
)
"""The seed's rules. Callers with other rules pass their own mapping to :func:`apply_policy`."""


def _plain(value: Decimal) -> str:
    # ccxt's helper reads decimal strings; fixed-point avoids exponent forms like 1E-5.
    return format(value, "f")


def _show(value: Decimal) -> str:
    # For people: 10 rather than 10.0 (ccxt's floats) and never 1E+1.
    return format(value.normalize(), "f") if value else "0"


def _check_positive(name: str, value: Decimal, symbol: str) -> None:
    if not value.is_finite() or value <= 0:
        raise InvalidOrderInput(f"{symbol}: {name} must be a positive number, got {value}")


@functools.lru_cache(maxsize=4096)
def _on_grid(value: str, mode: int, step: str) -> Decimal:
    # ccxt's helper is exact but slow (tens of microseconds); a wave asks it the same
    # question for every child of a parent size and price, so each answer is kept.
    return Decimal(decimal_to_precision(value, mode, step, TICK_SIZE, NO_PADDING))


def quantize_amount(limits: MarketLimits, amount: Decimal) -> Decimal:
    """``amount`` truncated onto the market's step grid; the sign, if any, is kept.

    Truncation (towards zero) never sends more than was asked for.
    """
    if not amount.is_finite():
        raise InvalidOrderInput(f"{limits.symbol}: amount must be finite, got {amount}")
    step = limits.amount_step
    _check_positive("amount step", step, limits.symbol)
    unsigned = _on_grid(format(abs(amount), "f"), TRUNCATE, format(step, "f"))
    # No signed zero: -0.0004 truncates to 0, not to "-0".
    return -unsigned if amount < 0 and unsigned else unsigned


def quantize_price(limits: MarketLimits, price: Decimal) -> Decimal:
    """``price`` rounded to the nearest tick of the market (half away from zero)."""
    if not price.is_finite():
        raise InvalidOrderInput(f"{limits.symbol}: price must be finite, got {price}")
    _check_positive("price tick", limits.price_tick, limits.symbol)
    return _on_grid(_plain(price), ROUND, _plain(limits.price_tick))


def notional(limits: MarketLimits, amount: Decimal, price: Decimal) -> Decimal:
    """``|amount| * price`` in the quote currency (times the contract size)."""
    return abs(amount) * price * limits.contract_size


def _ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def minimal_order_amount(limits: MarketLimits, price: Decimal) -> Decimal:
    """The smallest amount on the step grid with ``amount >= amount_min`` and
    ``amount * price >= cost_min`` (unset minimums count as 0; the step itself is the
    amount minimum when ``amount_min`` is unset).
    """
    _check_positive("price", price, limits.symbol)
    step = limits.amount_step
    _check_positive("amount step", step, limits.symbol)
    floor = limits.amount_min if limits.amount_min is not None and limits.amount_min > 0 else step
    candidate = _ceil_to_step(floor, step)
    cost_min = limits.cost_min or _ZERO
    if cost_min > 0:
        by_cost = _ceil_to_step(cost_min / (price * limits.contract_size), step)
        candidate = max(candidate, by_cost)
        # The division is rounded to 28 digits; one more step settles any doubt.
        while notional(limits, candidate, price) < cost_min:
            candidate += step
    return candidate


@attrs.frozen(repr=False, eq=False)
class SizedOrder(Value):
    """The outcome of the policy for one order.

    ``amount`` is signed, on the step grid; 0 means nothing is sent (see ``rejected``
    and ``empty``).
    """

    amount: Decimal
    action: Action
    reason: str | None
    below_minimum: bool

    @property
    def rejected(self) -> bool:
        """True when the policy refused the order; ``reason`` says why."""
        return self.action is Action.REJECT

    @property
    def empty(self) -> bool:
        """True when nothing is to be sent and the order was not rejected."""
        return self.amount == 0 and not self.rejected


def apply_policy(
    limits: MarketLimits,
    signed_amount: Decimal,
    price: Decimal,
    environment: Environment,
    policies: Mapping[Environment, EnvironmentPolicy] = DEFAULT_POLICIES,
    *,
    minimal: Decimal | None = None,
) -> SizedOrder:
    """Shape ``signed_amount`` at ``price`` by the environment's policy row.

    The amount is quantized first. It is below the minimum when it is smaller than
    :func:`minimal_order_amount` or its notional is below ``cost_min`` (an amount that
    truncates to 0 is below the minimum). The sign of the input is kept. A zero input is
    an empty order, whatever the policy. ``minimal`` is ``minimal_order_amount(limits,
    price)`` when the caller has it already (a wave's children share one price).
    """
    symbol = limits.symbol
    if not signed_amount.is_finite():
        raise InvalidOrderInput(f"{symbol}: amount must be finite, got {signed_amount}")
    if signed_amount == 0:
        return SizedOrder(_ZERO, Action.SEND_AS_GIVEN, "zero amount: nothing to send", False)
    try:
        policy = policies[environment]
    except KeyError:
        raise InvalidOrderInput(f"no policy for environment {environment!r}") from None
    sign = _MINUS_ONE if signed_amount < 0 else _ONE
    quantized = quantize_amount(limits, signed_amount)
    if minimal is None:
        minimal = minimal_order_amount(limits, price)
    size = abs(quantized)
    value = notional(limits, size, price)
    cost_min = limits.cost_min or _ZERO
    below = size < minimal or value < cost_min
    action = policy.below_minimum if below else policy.at_or_above_minimum

    # The reasons are text for people, built only on the paths that report one (by
    # functions of their own: closures here would cost their cells on every order).
    if action is Action.REJECT:
        what = "below the venue minimum" if below else "rejected by policy"
        asked = _asked(limits, signed_amount, quantized, value, price)
        return SizedOrder(
            _ZERO, action, f"{asked} is {what}; {_venue_minimum(limits, minimal)}", below
        )
    if action is Action.FORCE_TO_MINIMUM:
        reason = (
            None
            if size == minimal
            else f"{_asked(limits, signed_amount, quantized, value, price)} forced to the "
            f"minimum; {_venue_minimum(limits, minimal)}"
        )
        return SizedOrder(sign * minimal, action, reason, below)
    if action is Action.RAISE_TO_MINIMUM:
        if size >= minimal:
            return SizedOrder(sign * size, action, None, below)
        asked = _asked(limits, signed_amount, quantized, value, price)
        return SizedOrder(
            sign * minimal, action, f"{asked} raised; {_venue_minimum(limits, minimal)}", below
        )
    # SEND_AS_GIVEN: the quantized amount, even below the minimum (the venue will judge).
    reason = None
    if size == 0:
        asked = _asked(limits, signed_amount, quantized, value, price)
        reason = f"{asked} truncates to 0 on the step grid; nothing to send"
    elif below:
        asked = _asked(limits, signed_amount, quantized, value, price)
        reason = (
            f"{asked} is below the venue minimum and sent as given; "
            f"{_venue_minimum(limits, minimal)}"
        )
    return SizedOrder(quantized, action, reason, below)


def _venue_minimum(limits: MarketLimits, minimal: Decimal) -> str:
    return (
        f"venue minimum: amount {_show(minimal)} (amount.min {_fmt(limits.amount_min)}, "
        f"step {_show(limits.amount_step)}, cost.min {_fmt(limits.cost_min)} {limits.quote})"
    )


def _asked(
    limits: MarketLimits, signed: Decimal, quantized: Decimal, value: Decimal, price: Decimal
) -> str:
    return (
        f"{limits.symbol}: {_show(signed)} (on the grid {_show(quantized)}, "
        f"notional {_show(value)} {limits.quote} at {_show(price)})"
    )


def _fmt(value: Decimal | None) -> str:
    return "none" if value is None else _show(value)


def market_limits_from_ccxt(markets: Mapping[str, dict[str, Any]]) -> dict[str, MarketLimits]:
    """``MarketLimits`` for every market of a ccxt ``markets`` dict, keyed by symbol."""
    return {symbol: MarketLimits.from_ccxt(market) for symbol, market in markets.items()}
