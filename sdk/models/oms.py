"""The OMS side: parent orders, the child orders sent for them, and one fill per parent.

Only the OMS knows parents; the exchange only knows children. ``Portfolio``-like callers
see ``Order`` and ``OmsFill`` and nothing else. They are built by callers, not parsed from
a venue: bad values raise :class:`~exsdk.errors.InvalidOrderInput` (one line naming the model
and the field), never pydantic's ``ValidationError``.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would get every
# field's annotation as a string and compile and evaluate it when the class is created
# (about 180 fields on ``import exsdk``); written out, they are evaluated once by Python.
# Names defined further down (a model's own class) are quoted.

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, NoReturn, Self

from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from exsdk.errors import InvalidOrderInput
from exsdk.models.base import FrozenModel, Money, Timestamp, lenient_enum, shown
from exsdk.models.ccxt import Side, SideField


class OrderKind(enum.StrEnum):
    """How a parent order is executed."""

    MARKET = "market"
    LIMIT = "limit"
    TWAP = "price@twap"


def raise_invalid(model: str, exc: ValidationError) -> NoReturn:
    """Re-raise a pydantic failure as one ``InvalidOrderInput`` line: model, field, value."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    reason = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        detail = "missing"
    elif field is None:  # a rule over several fields (the model's own check)
        detail = reason
    else:
        detail = f"{shown(first.get('input'))}: {reason}"
    more = len(exc.errors()) - 1
    if more:
        detail += f" (and {more} more)"
    raise InvalidOrderInput(detail, field=field, source=model) from None


class OmsModel(FrozenModel):
    """An OMS-side model: bad values raise ``InvalidOrderInput``, not ``ValidationError``."""

    @model_validator(mode="wrap")
    @classmethod
    def _invalid_on_one_line(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # InvalidOrderInput is no ValueError: pydantic passes it through unwrapped.
        try:
            return handler(data)
        except ValidationError as exc:
            raise_invalid(cls.__name__, exc)


OrderKindField = Annotated[OrderKind | str, BeforeValidator(lenient_enum(OrderKind))]

MAX_ID = 2**63 - 1
"""The largest parent order or asset id: the journal keeps ids as 64-bit SQLite integers."""


class Order(OmsModel):
    """A parent order: what a portfolio wants, with every field of the seed's format.

    ``diff_num_shares`` is signed (positive buys). Timestamps are aware and ordered
    ``creation <= start < end``.
    """

    order_id: int = Field(ge=0, le=MAX_ID)
    creation_timestamp: datetime
    asset_id: int = Field(ge=0, le=MAX_ID)
    type_: OrderKindField
    start_timestamp: datetime
    end_timestamp: datetime
    curr_num_shares: Money
    diff_num_shares: Money
    tz: str
    extra_params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_invariants(self) -> Self:
        stamps = {
            "creation_timestamp": self.creation_timestamp,
            "start_timestamp": self.start_timestamp,
            "end_timestamp": self.end_timestamp,
        }
        # Raised here, not as ValueError: this check runs outside OmsModel's wrap.
        for name, value in stamps.items():
            if value.tzinfo is None:
                raise self._invalid(name, "must carry a timezone offset")
        if self.diff_num_shares == 0:
            raise self._invalid("diff_num_shares", "must not be zero")
        if self.start_timestamp < self.creation_timestamp:
            raise self._invalid("start_timestamp", "is before creation_timestamp")
        if self.end_timestamp <= self.start_timestamp:
            raise self._invalid("end_timestamp", "must be after start_timestamp")
        return self

    def _invalid(self, field: str, reason: str) -> InvalidOrderInput:
        value = getattr(self, field)
        shown_value = value.isoformat() if isinstance(value, datetime) else shown(value)
        return InvalidOrderInput(f"{shown_value}: {reason}", field=field, source="Order")

    @property
    def side(self) -> Side:
        """Buy for a positive ``diff_num_shares``, sell for a negative one."""
        return Side.BUY if self.diff_num_shares > 0 else Side.SELL


class ChildStatus(enum.StrEnum):
    """Life of a child order, from the journal's point of view."""

    INTENT = "intent"  # written before any request left
    OPEN = "open"  # accepted by the venue, may still fill
    CLOSED = "closed"  # fully filled
    CANCELED = "canceled"  # cancelled, possibly after partial fills
    EXPIRED = "expired"
    REJECTED = "rejected"  # refused by the venue or by policy; never on the venue
    UNKNOWN = "unknown"  # outcome not yet known (timeout); must be looked up
    EMPTY = "empty"  # sized to zero by the limits; not sent


ChildStatusField = Annotated[ChildStatus | str, BeforeValidator(lenient_enum(ChildStatus))]


class ChildOrder(OmsModel):
    """One order sent to the exchange on behalf of a parent (one per TWAP wave)."""

    parent_order_id: int
    asset_id: int
    wave: int = Field(ge=0)
    client_order_id: str
    symbol: str
    side: SideField
    order_type: str
    amount: Money = Field(ge=0, description="unsigned, on the venue's step grid")
    limit_price: Money | None = None
    reduce_only: bool = False
    status: ChildStatusField = ChildStatus.INTENT
    ccxt_order_id: str | None = None
    filled: Money = Decimal(0)
    reason: str | None = None
    created_at: Timestamp = None

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the side's sign."""
        return self.amount if self.side == Side.BUY else -self.amount


class OmsFill(OmsModel):
    """One parent's fill, folded from all its children's trades."""

    parent_order_id: int
    asset_id: int
    symbol: str
    quantity: Money = Field(description="signed: positive bought, negative sold")
    price: Money | None = Field(description="volume-weighted average; None when nothing filled")
    notional: Money = Field(description="sum of |amount| * price over the trades")
    fees: dict[str, Money] = Field(description="fees summed per fee currency")
    fee_in_quote: Money = Field(description="all fees converted to the quote currency")
    quote: str
    num_trades: int
    first_trade_at: Timestamp = None
    last_trade_at: Timestamp = None
    child_client_order_ids: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when no trade filled any of the parent."""
        return self.num_trades == 0


__all__ = [
    "ChildOrder",
    "ChildStatus",
    "OmsFill",
    "Order",
    "OrderKind",
    "raise_invalid",
]
