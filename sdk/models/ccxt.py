"""The exchange's view, as ccxt's unified structures, validated into frozen models.

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
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from exsdk.models.base import (
    CcxtModel,
    FrozenDict,
    FrozenList,
    FrozenModel,
    MalformedPayload,
    Money,
    RawPayload,
    TextId,
    Timestamp,
    VenueModel,
    deep_freeze,
    lenient_enum,
    raise_malformed,
    shown,
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

# What odd payloads make validators or plain dict access raise besides ValidationError.
_PAYLOAD_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


class _FromCcxt(CcxtModel):
    """Validation from a ccxt dict, with failures reported as the venue's fault."""

    @classmethod
    def from_ccxt(cls, data: Any) -> Self:
        """Validate a ccxt unified dict; a malformed one raises ``MalformedPayload``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise_malformed(cls.__name__, exc)
        except MalformedPayload:
            raise
        except _PAYLOAD_ERRORS as exc:
            # A validator tripping over an odd value is still a malformed payload.
            raise MalformedPayload(
                f"malformed {cls.__name__} from the venue: {type(exc).__name__}: {exc}"
            ) from None


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


class Fee(_FromCcxt):
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
    keys = ("order", "timestamp", "symbol", "side", "price", "amount", "cost", "info")
    basis = {k: thaw(data.get(k)) for k in keys}
    text = json.dumps(basis, sort_keys=True, separators=(",", ":"), default=str)
    return "sdk-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class CcxtTrade(_FromCcxt):
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


class CcxtOrder(_FromCcxt):
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
        except _PAYLOAD_ERRORS as exc:  # a payload nested past the recursion limit
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


# ----- markets --------------------------------------------------------------------------------


class MarketLimits(VenueModel):
    """What the venue accepts for one market: the step grid and the minimums."""

    symbol: str
    market_id: str
    base: str
    quote: str
    settle: str | None = None
    market_type: str
    contract: bool = False
    contract_size: Money = Decimal(1)
    active: bool = True
    amount_step: Money
    price_tick: Money
    amount_min: Money | None = None
    amount_max: Money | None = None
    market_amount_max: Money | None = None
    cost_min: Money | None = None
    cost_max: Money | None = None
    price_min: Money | None = None
    price_max: Money | None = None
    taker_fee: Money | None = None
    maker_fee: Money | None = None
    info: RawPayload = Field(default_factory=dict, repr=False)

    @classmethod
    def from_ccxt(cls, market: dict[str, Any]) -> "MarketLimits":
        """Build from a ccxt market (precisionMode TICK_SIZE: precision holds step sizes)."""

        def lim(kind: str, bound: str) -> Any:
            return (limits.get(kind) or {}).get(bound)

        try:
            limits = market.get("limits") or {}
            precision = market.get("precision") or {}
            return cls.model_validate(
                dict(
                    symbol=market["symbol"],
                    market_id=market["id"],
                    base=market["base"],
                    quote=market["quote"],
                    settle=market.get("settle"),
                    market_type=market.get("type") or "spot",
                    contract=bool(market.get("contract")),
                    contract_size=market.get("contractSize") or 1,
                    active=market.get("active") is not False,
                    amount_step=precision["amount"],
                    price_tick=precision["price"],
                    amount_min=lim("amount", "min"),
                    amount_max=lim("amount", "max"),
                    market_amount_max=lim("market", "max"),
                    cost_min=lim("cost", "min"),
                    cost_max=lim("cost", "max"),
                    price_min=lim("price", "min"),
                    price_max=lim("price", "max"),
                    taker_fee=market.get("taker"),
                    maker_fee=market.get("maker"),
                    info=market.get("info") or {},
                )
            )
        except ValidationError as exc:
            raise_malformed("market", exc)
        except _PAYLOAD_ERRORS as exc:
            raise MalformedPayload(
                f"malformed market from the venue: {type(exc).__name__}: {exc}"
            ) from None


# ----- positions ------------------------------------------------------------------------------


def _lower_text(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class Position(_FromCcxt):
    """An open position (futures). ``amount`` is signed: negative is short."""

    symbol: str
    id: TextId | None = None
    side: Annotated[str | None, BeforeValidator(_lower_text)] = None
    margin_mode: Annotated[str | None, BeforeValidator(_lower_text)] = None
    hedged: bool | None = None
    contracts: Money | None = None
    contract_size: Money | None = None
    entry_price: Money | None = None
    mark_price: Money | None = None
    last_price: Money | None = None
    notional: Money | None = None
    unrealized_pnl: Money | None = None
    realized_pnl: Money | None = None
    percentage: Money | None = None
    leverage: Money | None = None
    liquidation_price: Money | None = None
    collateral: Money | None = None
    initial_margin: Money | None = None
    initial_margin_percentage: Money | None = None
    maintenance_margin: Money | None = None
    maintenance_margin_percentage: Money | None = None
    position_margin: Money | None = None
    margin_ratio: Money | None = None
    stop_loss_price: Money | None = None
    take_profit_price: Money | None = None
    timestamp: Timestamp = None
    last_update_timestamp: Timestamp = None
    info: RawPayload = Field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        """Signed position size in base units (contracts times contract size)."""
        size = (self.contracts or Decimal(0)) * (self.contract_size or Decimal(1))
        return -size if self.side == "short" else size


# ----- balances -------------------------------------------------------------------------------

_BALANCE_PARTS = ("free", "used", "total", "debt")
_BALANCE_META = frozenset({"info", "timestamp", "datetime"})


class Balance(VenueModel):
    """One currency's balance: free, used (locked or margin), total, debt; ``None`` unknown."""

    currency: str
    free: Money | None = None
    used: Money | None = None
    total: Money | None = None
    debt: Money | None = None


def _is_currency_entry(value: Any) -> bool:
    # {"free": 1, "used": 0, "total": 1}: numbers (or None) under the balance keys.
    return (
        isinstance(value, Mapping)
        and any(k in value for k in _BALANCE_PARTS)
        and not any(isinstance(value.get(k), Mapping) for k in _BALANCE_PARTS)
    )


def _is_account(value: Any) -> bool:
    # A nested balance structure: kucoin's isolated margin, one per symbol.
    return isinstance(value, Mapping) and (
        any(isinstance(value.get(k), Mapping) for k in _BALANCE_PARTS)
        or any(_is_currency_entry(v) for k, v in value.items() if k not in _BALANCE_PARTS)
    )


class Balances(VenueModel):
    """All balances of an account, by currency, with the raw payload.

    ``accounts`` holds nested balance structures (kucoin's isolated margin: one per
    symbol), which are not summed into ``by_currency``: their funds are not free for
    other markets.
    """

    by_currency: dict[str, Balance]
    accounts: dict[str, "Balances"] = Field(default_factory=dict)
    timestamp: Timestamp = None
    info: RawPayload = Field(default_factory=dict, repr=False)

    @classmethod
    def from_ccxt(cls, data: Any) -> "Balances":
        """Build from ccxt's ``fetch_balance`` result; all-zero balances are dropped.

        A key that is neither a currency's balance, a nested account nor ccxt's
        ``info``/``timestamp``/``datetime`` is refused: a shape not understood is an
        error, never an empty result.
        """
        try:
            return cls._from_ccxt(data)
        except MalformedPayload:
            raise
        except ValidationError as exc:
            raise_malformed("Balances", exc)
        except _PAYLOAD_ERRORS as exc:
            raise MalformedPayload(
                f"malformed balance from the venue: {type(exc).__name__}: {exc}"
            ) from None

    @classmethod
    def _from_ccxt(cls, data: Any) -> "Balances":
        if not isinstance(data, Mapping):
            raise MalformedPayload(
                f"malformed balance from the venue: expected a dict, got {shown(data)}"
            )
        parts: dict[str, Mapping[str, Any]] = {}
        for part in _BALANCE_PARTS:
            value = data.get(part)
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise MalformedPayload(
                    f"malformed balance from the venue: {part}={shown(value)}: "
                    "expected a dict by currency"
                )
            parts[part] = value
        entries: dict[str, Mapping[str, Any]] = {}
        accounts: dict[str, Balances] = {}
        for key, value in data.items():
            if key in _BALANCE_META or key in _BALANCE_PARTS:
                continue
            if _is_currency_entry(value):
                entries[str(key)] = value
            elif _is_account(value):
                accounts[str(key)] = cls._from_ccxt(value)
            else:
                raise MalformedPayload(
                    f"malformed balance from the venue: {key}={shown(value)}: "
                    "not a currency's balance nor a nested account"
                )
        currencies = set(entries) | {c for p in parts.values() for c in p}
        out: dict[str, Balance] = {}
        for cur in sorted(currencies):
            entry = entries.get(cur, {})
            values = {
                k: entry[k] if entry.get(k) is not None else parts.get(k, {}).get(cur)
                for k in _BALANCE_PARTS
            }
            if not any(values.values()):
                continue  # all zero or unknown: nothing held
            out[cur] = Balance(currency=cur, **values)
        return cls(
            by_currency=out,
            accounts=accounts,
            timestamp=data.get("timestamp"),
            info=data.get("info") if data.get("info") is not None else {},
        )

    def total(self, currency: str) -> Decimal:
        """Total balance of ``currency`` (zero when absent).

        When the venue gave no total but free and used, their sum; when neither is known,
        ``MalformedPayload``: an unknown total is not zero.
        """
        bal = self.by_currency.get(currency)
        if bal is None:
            return Decimal(0)
        if bal.total is not None:
            return bal.total
        if bal.free is not None and bal.used is not None:
            return bal.free + bal.used
        raise MalformedPayload(f"the venue did not say the total balance of {currency}")


# ----- books and tickers ----------------------------------------------------------------------


class BidAsk(VenueModel):
    """Top of the book at one moment."""

    symbol: str
    bid: Money
    ask: Money
    bid_size: Money | None = None
    ask_size: Money | None = None
    timestamp: Timestamp = None

    @property
    def mid(self) -> Decimal:
        """The mid price."""
        return (self.bid + self.ask) / 2

    @property
    def is_crossed(self) -> bool:
        """True when bid >= ask: a book not to price from."""
        return self.bid >= self.ask


def _levels(value: Any) -> Any:
    # ccxt gives [price, amount] or [price, amount, count/id]; keep every element.
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(tuple(level) if isinstance(level, list | tuple) else level for level in value)
    return value


# (price, amount) or (price, amount, count or order id): the third element kept as given.
Level = tuple[Money, Money] | tuple[Money, Money, Any]
Levels = Annotated[tuple[Level, ...], BeforeValidator(_levels)]


class OrderBook(_FromCcxt):
    """An order book: bids high to low, asks low to high, each ``(price, amount, ...)``."""

    symbol: str | None = None
    bids: Levels = ()
    asks: Levels = ()
    timestamp: Timestamp = None
    nonce: int | None = None

    def bid_ask(self, symbol: str | None = None) -> BidAsk:
        """The top of the book; a book without a bid or an ask raises ``MalformedPayload``."""
        name = symbol or self.symbol or "?"
        if not self.bids or not self.asks:
            side = "bid" if not self.bids else "ask"
            raise MalformedPayload(f"{name}: the book has no {side}")
        bid, ask = self.bids[0], self.asks[0]
        return BidAsk(
            symbol=name,
            bid=bid[0],
            ask=ask[0],
            bid_size=bid[1],
            ask_size=ask[1],
            timestamp=self.timestamp,
        )


class Ticker(_FromCcxt):
    """A ticker: last trade, best bid and ask, and the 24h statistics, as the venue gave."""

    symbol: str
    timestamp: Timestamp = None
    bid: Money | None = None
    bid_volume: Money | None = None
    ask: Money | None = None
    ask_volume: Money | None = None
    last: Money | None = None
    open: Money | None = None
    high: Money | None = None
    low: Money | None = None
    close: Money | None = None
    previous_close: Money | None = None
    change: Money | None = None
    percentage: Money | None = None
    average: Money | None = None
    vwap: Money | None = None
    base_volume: Money | None = None
    quote_volume: Money | None = None
    mark_price: Money | None = None
    index_price: Money | None = None
    info: RawPayload = Field(default_factory=dict)

    def bid_ask(self) -> BidAsk:
        """Best bid and ask; a ticker without them raises ``MalformedPayload``."""
        return BidAsk(
            symbol=self.symbol,
            bid=self.bid,
            ask=self.ask,
            bid_size=self.bid_volume,
            ask_size=self.ask_volume,
            timestamp=self.timestamp,
        )


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
    "Balance",
    "Balances",
    "BidAsk",
    "CcxtOrder",
    "CcxtTrade",
    "Fee",
    "MarketLimits",
    "OrderBook",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "Side",
    "TakerOrMaker",
    "Ticker",
    "derived_trade_id",
]
