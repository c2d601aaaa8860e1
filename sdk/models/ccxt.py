"""The account's orders, trades and fees, as ccxt's unified structures, validated into
frozen models (the venue's state, markets to tickers, is :mod:`exsdk.models.market`).

Each model is built with ``Model.from_ccxt(d)`` from the dict ccxt returns, on any
exchange: what ccxt leaves unknown (``None``) stays unknown, numbers become exact
``Decimal``s, and the raw exchange payload (``info``, any JSON shape) is kept deep-frozen.
Only what no caller could act on is refused, always as one ``MalformedPayload`` line naming
the field and the value. ``to_ccxt()`` gives the unified dict back, in the shape ccxt's own
structure validators accept.

Where the SDK knows a value the venue's reply leaves out (the symbol, side and amount of
its own request), :meth:`CcxtOrder.from_ccxt` fills it from an :class:`OrderRequest` and
lists it in ``from_request``; the venue's own values always win.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would get every
# field's annotation as a string and compile and evaluate it when the class is created
# (about 180 fields on ``import exsdk``); written out, they are evaluated once by Python.
# Names defined further down (a model's own class) are quoted.

import enum
import functools
import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from exsdk.models.base import (
    PAYLOAD_ERRORS,
    FromCcxt,
    FrozenDict,
    FrozenList,
    FrozenModel,
    MalformedPayload,
    Money,
    RawPayload,
    TextId,
    Timestamp,
    deep_freeze,
    lenient_enum,
    text_id,
    thaw,
)


class Side(enum.StrEnum):
    """Order or trade side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    """ccxt order types the SDK sends; others are kept as raw strings."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(enum.StrEnum):
    """ccxt's unified order statuses."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class TakerOrMaker(enum.StrEnum):
    """Liquidity role of a trade."""

    TAKER = "taker"
    MAKER = "maker"


SideField = Annotated[Side | str, BeforeValidator(lenient_enum(Side))]
OrderTypeField = Annotated[OrderType | str, BeforeValidator(lenient_enum(OrderType))]
OrderStatusField = Annotated[OrderStatus | str, BeforeValidator(lenient_enum(OrderStatus))]
TakerOrMakerField = Annotated[TakerOrMaker | str, BeforeValidator(lenient_enum(TakerOrMaker))]

# Statuses that mean the order can no longer fill: ccxt's unified ones and the raw words
# venues use for them when ccxt passes a status through. Anything else (``None``,
# ``partially_filled``, ``new``, a word never seen) is "not known to be closed".
_DONE_STATUSES = frozenset(
    {"closed", "canceled", "cancelled", "expired", "rejected", "filled", "finished"}
)

# ----- fees -----------------------------------------------------------------------------------


def _fee_or_none(value: Any) -> Any:
    # ccxt's "fee not known" is {"cost": None, "currency": None} (or None): no fee to act on.
    if value is None:  # the common case, without the Mapping ABC's Python-level check
        return None
    if isinstance(value, Mapping) and value.get("cost") is None:
        return None
    return value


def _known_fees(value: Any) -> Any:
    # The same rule inside ``fees``: an entry without a cost is "not known" and carries no
    # amount, so it is left out; ``None`` is an empty list.
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [f for f in value if not (isinstance(f, Mapping) and f.get("cost") is None)]
    return value


class Fee(FromCcxt):
    """A fee: its cost, the currency it is paid in, and the rate when known."""

    cost: Money
    currency: str | None = None
    rate: Money | None = None


FeeField = Annotated[Fee | None, BeforeValidator(_fee_or_none)]
FeesField = Annotated[list[Fee], BeforeValidator(_known_fees)]


# ----- trades ---------------------------------------------------------------------------------


def derived_trade_id(data: Mapping[str, Any]) -> str:
    """A deterministic id for a trade the venue sent without one.

    ``sdk-`` and the first 24 hex digits of the SHA-256 of the trade's order id, timestamp,
    symbol, side, price, amount, cost and raw payload, as canonical JSON. The same trade
    fetched twice gets the same id; two trades that differ in any of these get different
    ids. Two fills identical in all of them, raw payload included, cannot be told apart by
    anyone and are one fill.
    """
    import json  # here: the typed models need json for this alone (issue 18 goal 3b)

    keys = ("order", "timestamp", "symbol", "side", "price", "amount", "cost", "info")
    basis = {k: thaw(data.get(k)) for k in keys}
    text = json.dumps(basis, sort_keys=True, separators=(",", ":"), default=str)
    return "sdk-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class CcxtTrade(FromCcxt):
    """One execution: a fill of one of the account's orders, or a public market trade.

    A trade always has an ``id``: when the venue sent none (kucoin's public trades), it is
    :func:`derived_trade_id`, and ``id_derived`` says so. ``price`` and ``amount`` are
    required: a trade without them is nothing to fold into a fill.
    """

    id: TextId
    id_derived: bool = False
    order: TextId | None = Field(default=None, description="the exchange order id")
    symbol: str | None = None
    type: OrderTypeField | None = None
    side: SideField | None = None
    price: Money
    amount: Money
    cost: Money | None = None
    taker_or_maker: TakerOrMakerField | None = None
    fee: FeeField = None
    fees: FeesField = Field(default_factory=list)
    timestamp: Timestamp = None
    info: RawPayload = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _identity(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            if data.get("id") in (None, ""):
                data = {**data, "id": derived_trade_id(data), "idDerived": True}
            if data.get("order") is None and data.get("orderId") is not None:
                # ccxt's stub trades inside orders say ``orderId``, not ``order``.
                data = {**data, "order": data["orderId"]}
        return data

    def all_fees(self) -> list[Fee]:
        """The trade's fees, from ``fees`` when present, else ``fee``."""
        if self.fees:
            return list(self.fees)
        return [self.fee] if self.fee is not None else []

    def to_ccxt(self) -> dict[str, Any]:
        """The unified ccxt trade dict (with ``idDerived``, which ccxt ignores)."""
        return {
            "id": self.id,
            "idDerived": self.id_derived,
            "order": self.order,
            "symbol": self.symbol,
            "side": _text(self.side),
            "type": _text(self.type),
            "takerOrMaker": _text(self.taker_or_maker),
            "price": _float(self.price),
            "amount": _float(self.amount),
            "cost": _float(self.cost),
            "fee": None if self.fee is None else _fee_dict(self.fee),
            "fees": [_fee_dict(f) for f in self.fees],
            "timestamp": _ms(self.timestamp),
            "datetime": _iso(self.timestamp),
            "info": thaw(self.info),
        }


# ----- orders ---------------------------------------------------------------------------------


class OrderRequest(FrozenModel):
    """What the SDK itself asked for: the values it knows whatever the venue replies."""

    symbol: str | None = None
    side: Side | None = None
    type: str | None = None
    amount: Money | None = None
    price: Money | None = None
    client_order_id: str | None = None


# OrderRequest field -> the ccxt key it fills.
# The order id is not among them: a reply that names no order is not recognisably about
# the one asked for.
_REQUEST_KEYS = {
    "client_order_id": "clientOrderId",
    "symbol": "symbol",
    "side": "side",
    "type": "type",
    "amount": "amount",
    "price": "price",
}


def _is_stub_trade(trade: Any) -> bool:
    # kraken's fetchOrder lists its trades by id only: price, amount and fee all null.
    return isinstance(trade, Mapping) and (
        trade.get("price") is None or trade.get("amount") is None
    )


class CcxtOrder(FromCcxt):
    """An order as the exchange knows it: a child order's confirmation or its later state.

    Only ``id`` is required. ``trades`` holds the complete trades ccxt listed with the
    order; ``trade_ids`` the ids of every one listed, stubs without price or amount
    included. ``from_request`` names the fields filled from the SDK's own request.
    """

    id: TextId = Field(min_length=1)
    client_order_id: TextId | None = None
    symbol: str | None = None
    type: OrderTypeField | None = None
    side: SideField | None = None
    status: OrderStatusField | None = None
    amount: Money | None = None
    filled: Money | None = None
    remaining: Money | None = None
    price: Money | None = None
    average: Money | None = None
    cost: Money | None = None
    trigger_price: Money | None = None
    stop_price: Money | None = None
    take_profit_price: Money | None = None
    stop_loss_price: Money | None = None
    reduce_only: bool | None = None
    post_only: bool | None = None
    time_in_force: str | None = None
    timestamp: Timestamp = None
    last_trade_timestamp: Timestamp = None
    last_update_timestamp: Timestamp = None
    fee: FeeField = None
    fees: FeesField = Field(default_factory=list)
    trades: list[CcxtTrade] = Field(default_factory=list)
    trade_ids: tuple[str, ...] = ()
    from_request: tuple[str, ...] = ()
    info: RawPayload = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_trades(cls, data: Any) -> Any:
        # dict first (a FrozenDict is one): told without the Mapping ABC check (Python code).
        if not isinstance(data, (dict, Mapping)):
            return data
        trades = data.get("trades")
        if trades is None:
            return {**data, "trades": []}
        if not isinstance(trades, list | tuple):
            return data
        if not trades and "tradeIds" not in data:
            return data  # the common case (a new order): nothing to split, nor to copy
        ids = [str(text_id(i)) for i in data.get("tradeIds") or () if i is not None]
        for trade in trades:
            if isinstance(trade, Mapping) and trade.get("id") is not None:
                tid = str(text_id(trade["id"]))
                if tid not in ids:
                    ids.append(tid)
        complete = [t for t in trades if not _is_stub_trade(t)]
        return {**data, "trades": complete, "tradeIds": tuple(ids)}

    @classmethod
    def from_ccxt(cls, data: Any, request: OrderRequest | None = None) -> Self:
        """Validate a ccxt order dict; with ``request``, fill what the reply leaves out.

        Every field of ``request`` that the reply has as null or missing is taken from the
        request and named in ``from_request``; what the venue said is kept as it said it.
        """
        if request is None:
            return cls.from_reply(data)
        sent = {key: getattr(request, name) for name, key in _REQUEST_KEYS.items()}
        return cls.from_reply(data, {k: v for k, v in sent.items() if v is not None})

    @classmethod
    def from_reply(cls, data: Any, sent: Mapping[str, Any] | None = None) -> Self:
        """:meth:`from_ccxt` with what the SDK sent as ccxt keys (``clientOrderId``,
        ``symbol``, ``side``, ``type``, ``amount``, ``price``), values already checked.

        The adapter's path for each reply: no :class:`OrderRequest` is built for it.
        """
        if not isinstance(data, (dict, Mapping)):  # a dict: no ABC
            return super().from_ccxt(data)
        # One read-only copy, made once: the model is validated from it (its ``info`` is
        # then frozen already) and keeps it as :attr:`unified`, which a caller's later
        # edits of ``data`` cannot reach.
        try:
            frozen: FrozenDict = deep_freeze(data)
        except PAYLOAD_ERRORS as exc:  # a payload nested past the recursion limit
            raise MalformedPayload(
                f"malformed {cls.__name__} from the venue: {type(exc).__name__}: {exc}"
            ) from None
        if sent is not None:
            filled = {k: v for k, v in sent.items() if v is not None and frozen.get(k) is None}
            named = [name for name, key in _REQUEST_KEYS.items() if key in filled]
            known = frozen.get("fromRequest") or ()
            filled["fromRequest"] = FrozenList([*known, *named])
            if frozen is data:  # frozen already: it is the caller's, so a copy
                frozen = FrozenDict({**frozen, **filled})
            else:  # our own new copy, not yet seen by anyone: completed in place
                for key, value in filled.items():
                    dict.__setitem__(frozen, key, value)
        order = super().from_ccxt(frozen)
        # Seeds the cached property: what the model was validated from is its unified dict.
        order.__dict__["unified"] = frozen
        return order

    @functools.cached_property
    def unified(self) -> FrozenDict:
        """The ccxt unified dict this order stands for, read-only; what the journal stores.

        For an order from :meth:`from_ccxt`, the dict it was validated from: ccxt's reply
        as received (every key ccxt gave, the venue's ``info`` included), with what was
        filled from the request and ``fromRequest`` naming it. Otherwise (an order built
        directly, or a copy with changes) :meth:`to_ccxt`'s. Either reads back, through
        ``from_ccxt``, as an order equal to this one.
        """
        frozen: FrozenDict = deep_freeze(self.to_ccxt())
        return frozen

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; one with changes no longer stands for the dict this order came from."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied.__dict__.pop("unified", None)
        return copied

    @property
    def is_open(self) -> bool:
        """True unless the order is known to be done (closed, canceled, expired, rejected).

        A status ccxt did not unify, or none at all, means "not known to be closed": the
        order may still fill, so it is treated as open.
        """
        status = self.status
        return status is None or str(status).strip().lower() not in _DONE_STATUSES

    def to_ccxt(self) -> dict[str, Any]:
        """The unified ccxt order dict (with ``tradeIds`` and ``fromRequest``, which ccxt
        ignores)."""
        return {
            "id": self.id,
            "clientOrderId": self.client_order_id,
            "symbol": self.symbol,
            "type": _text(self.type),
            "side": _text(self.side),
            "status": _text(self.status),
            "amount": _float(self.amount),
            "filled": _float(self.filled),
            "remaining": _float(self.remaining),
            "price": _float(self.price),
            "average": _float(self.average),
            "cost": _float(self.cost),
            "reduceOnly": self.reduce_only,
            "timeInForce": self.time_in_force,
            "postOnly": self.post_only,
            "triggerPrice": _float(self.trigger_price),
            "stopPrice": _float(self.stop_price),
            "takeProfitPrice": _float(self.take_profit_price),
            "stopLossPrice": _float(self.stop_loss_price),
            "timestamp": _ms(self.timestamp),
            "datetime": _iso(self.timestamp),
            "lastTradeTimestamp": _ms(self.last_trade_timestamp),
            "lastUpdateTimestamp": _ms(self.last_update_timestamp),
            "fee": None if self.fee is None else _fee_dict(self.fee),
            "fees": [_fee_dict(f) for f in self.fees],
            "trades": [t.to_ccxt() for t in self.trades],
            "tradeIds": list(self.trade_ids),
            "fromRequest": list(self.from_request),
            "info": thaw(self.info),
        }


# ----- helpers --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _float(value: Decimal | None) -> float | str | None:
    # ccxt's unified dicts hold floats; a Decimal a float cannot hold (more digits than a
    # double keeps) goes out as its exact text instead, as ccxt itself does for some
    # values, so that what is journaled and read back is the value the venue sent.
    if value is None:
        return None
    number = float(value)
    return number if Decimal(repr(number)) == value else str(value)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * 1000)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _fee_dict(fee: Fee) -> dict[str, Any]:
    return {
        "cost": _float(fee.cost),
        "currency": fee.currency,
        "rate": _float(fee.rate),
    }


__all__ = [
    "CcxtOrder",
    "CcxtTrade",
    "Fee",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Side",
    "TakerOrMaker",
    "derived_trade_id",
]
