"""The limit price of a child: a passivity factor between bid and ask, on the tick grid.

``passivity`` 1 rests at the near touch (bid for a buy), 0 crosses to the far touch, 0.5
is the mid. A crossed book, or one older than ``max_age``, is refused with
:class:`UnusableBook`: pricing from it would send an order at a price nobody quoted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from exsdk._value import Value
from exsdk.errors import SdkError
from exsdk.limits import quantize_price
from exsdk.models import BidAsk, MarketLimits, Side

__all__ = ["LimitPriceComputer", "UnusableBook"]


class UnusableBook(SdkError):
    """The top of the book cannot be priced from (crossed, empty or stale)."""


def _decimal(value: Decimal | float | str) -> Decimal:
    # A function, not the Decimal type itself, as the converter: attrs reads a converter's
    # signature, and a builtin's is parsed with tokenize, whose pattern takes ~10 ms to
    # compile on the import of this module (issue 18 goal 3).
    return Decimal(value)


def _check_passivity(_: object, __: object, value: Decimal) -> None:
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError("passivity must be between 0 and 1")


@attrs.frozen(repr=False, eq=False)
class LimitPriceComputer(Value):
    """Prices limit children from the top of the book."""

    passivity: Decimal = attrs.field(
        default=Decimal("0.5"), converter=_decimal, validator=_check_passivity
    )
    max_age: timedelta | None = timedelta(seconds=30)

    def price(
        self, book: BidAsk, side: Side, limits: MarketLimits, *, now: datetime | None = None
    ) -> Decimal:
        """The quantized limit price for ``side``; raises :class:`UnusableBook`."""
        if book.bid <= 0 or book.ask <= 0:
            raise UnusableBook(f"{book.symbol}: empty book (bid {book.bid}, ask {book.ask})")
        if book.is_crossed:
            raise UnusableBook(f"{book.symbol}: crossed book (bid {book.bid} >= ask {book.ask})")
        if self.max_age is not None and now is not None and book.timestamp is not None:
            age = now - book.timestamp
            if age > self.max_age:
                raise UnusableBook(
                    f"{book.symbol}: book is {age.total_seconds():.1f}s old "
                    f"(max {self.max_age.total_seconds():.1f}s)"
                )
        p = self.passivity
        if side == Side.BUY:
            raw = book.bid * p + book.ask * (1 - p)
        else:
            raw = book.ask * p + book.bid * (1 - p)
        return quantize_price(limits, raw)
