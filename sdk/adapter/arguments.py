"""Checks of what callers pass to the adapter's and the broker's public methods.

One helper per kind of argument (a symbol, an order id, an amount or price, a side, a
leverage, a time, a flag). Each returns the value, or raises
:class:`~exsdk.errors.InvalidOrderInput` in one line naming the method, the argument and
the (cut) value. They run before any pacer wait or request: a bad argument never takes a
venue slot, and never reaches ccxt, whose own errors for it (``BadSymbol``, a ``TypeError``
while signing) would read as a venue's answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from exsdk.errors import InvalidOrderInput
from exsdk.models import Side
from exsdk.models.base import shown

__all__ = [
    "MAX_EXPONENT",
    "MAX_ID_CHARS",
    "MAX_LEVERAGE",
    "MAX_SYMBOL_CHARS",
    "MAX_TIME_MS",
    "flag",
    "known_symbol",
    "leverage",
    "order_id",
    "order_number",
    "order_side",
    "symbol_list",
    "symbol_text",
    "time_ms",
]

# Amounts and prices beyond this many powers of ten are typos; beyond ~1e308 the float
# ccxt takes is infinite.
MAX_EXPONENT = 30
# Venue order ids are at most a few dozen characters (Binance: 19 digits, UUIDs: 36).
MAX_ID_CHARS = 128
# ccxt symbols, options included ("BTC/USDT:USDT-241227-100000-C"), are far shorter.
MAX_SYMBOL_CHARS = 100
# The highest leverage any venue ccxt supports offers is far below this.
MAX_LEVERAGE = 1000
# 2100-01-01T00:00:00Z in milliseconds: a later "since" is a unit mistake (µs, ns).
MAX_TIME_MS = 4_102_444_800_000


def _bad(where: str, name: str, message: str) -> InvalidOrderInput:
    return InvalidOrderInput(message, field=name, source=where)


def _text(where: str, name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise _bad(where, name, f"{name} must be a str, not {type(value).__name__}")
    if not value or not value.isprintable() or value != value.strip() or len(value) > limit:
        raise _bad(
            where,
            name,
            f"{name} {shown(value)} must be 1 to {limit} printable characters, "
            "no surrounding spaces",
        )
    return value


def symbol_text(where: str, value: object) -> str:
    """A ccxt symbol's shape (a short printable ``str``); :func:`known_symbol` checks it exists."""
    return _text(where, "symbol", value, MAX_SYMBOL_CHARS)


def known_symbol(where: str, value: str, markets: Collection[str], exchange: str) -> str:
    """``value`` when it is one of the loaded ``markets`` (symbols or market ids)."""
    if value not in markets:
        raise _bad(where, "symbol", f"symbol {shown(value)} is not a market on {exchange}")
    return value


def symbol_list(where: str, value: object) -> list[str] | None:
    """``None`` (every symbol), or a sequence of symbols (a lone ``str`` is refused)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _bad(
            where, "symbols", f"symbols must be a list of str or None, not {type(value).__name__}"
        )
    return [symbol_text(where, s) for s in value]


def order_id(where: str, value: object, name: str = "order_id") -> str:
    """A venue order id: short printable text (ccxt ids are ``str``, also when numeric)."""
    return _text(where, name, value, MAX_ID_CHARS)


def order_number(where: str, name: str, value: object) -> Decimal:
    """``value`` as a finite, positive Decimal within range.

    A ``str``, a float, NaN, an infinity or ``1e400`` never reaches ccxt.
    """
    if not isinstance(value, Decimal):
        raise _bad(where, name, f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise _bad(where, name, f"{name} must be a finite number, not {value}")
    if value <= 0:
        raise _bad(where, name, f"{name} must be positive (the side gives the sign), not {value}")
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise _bad(
            where,
            name,
            f"{name} {value:.3e} is out of range (1e-{MAX_EXPONENT} to 1e{MAX_EXPONENT})",
        )
    return value


def order_side(where: str, value: object) -> Side:
    """``Side.BUY``/``Side.SELL`` (``"buy"`` and ``"sell"`` too: ``Side`` is a StrEnum)."""
    if isinstance(value, str) and value in Side.__members__.values():
        return Side(value)
    raise _bad(where, "side", f"side {shown(value)} is not 'buy' or 'sell'")


def leverage(where: str, value: object) -> int:
    """A whole leverage from 1 to :data:`MAX_LEVERAGE` (``bool`` and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(
            where, "leverage", f"leverage must be a whole number (int), not {type(value).__name__}"
        )
    if not 1 <= value <= MAX_LEVERAGE:
        raise _bad(
            where, "leverage", f"leverage {shown(value)} is out of range (1 to {MAX_LEVERAGE})"
        )
    return value


def time_ms(where: str, name: str, value: object) -> int | None:
    """``None``, or epoch milliseconds from 0 to :data:`MAX_TIME_MS` (year 2100)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(
            where, name, f"{name} must be epoch milliseconds (int), not {type(value).__name__}"
        )
    if not 0 <= value <= MAX_TIME_MS:
        raise _bad(
            where, name, f"{name} {shown(value)} is out of range (0 to {MAX_TIME_MS}, year 2100)"
        )
    return value


def flag(where: str, name: str, value: object) -> bool:
    """A ``bool``: ``dry_run="no"`` or ``0`` must not quietly mean the opposite."""
    if not isinstance(value, bool):
        raise _bad(where, name, f"{name} must be True or False, not {shown(value)}")
    return value
