"""The exchange's view, as ccxt's unified structures, validated into frozen models.

Each model is built with ``Model.from_ccxt(d)`` from the dict ccxt returns and keeps that
dict's ``info`` (the raw exchange payload). ``to_ccxt()`` gives the unified dict back, in
the shape ccxt's own structure validators accept.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, ValidationError, field_validator

from exsdk.errors import VenueRejected
from exsdk.models.base import CcxtModel, FrozenModel, Money, Timestamp, lenient_enum


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
        """Validate a ccxt unified dict; a malformed one raises ``VenueRejected``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise VenueRejected(
                f"malformed {cls.__name__} from the venue: {where}: {first['msg']}"
            ) from None
        except _PAYLOAD_ERRORS as exc:
            # A validator tripping over an odd value is still a malformed payload.
            raise VenueRejected(f"malformed {cls.__name__} from the venue: {exc!r}") from None


def _drop_none_fee(value: Any) -> Any:
    # ccxt fills ``fees`` with entries lacking a cost on some paths; they carry nothing.
    if isinstance(value, list):
        return [f for f in value if isinstance(f, dict) and f.get("cost") is not None]
    return value


class Fee(_FromCcxt):
    """A fee: its cost, the currency it is paid in, and the rate when known."""

    cost: Money
    currency: str | None = None
    rate: Money | None = None


class CcxtTrade(_FromCcxt):
    """One execution of an order (a partial fill), with its price and fee."""

    id: str
    order: str | None = Field(default=None, description="the exchange order id")
    symbol: str | None = None
    side: SideField | None = None
    price: Money
    amount: Money
    cost: Money | None = None
    taker_or_maker: TakerOrMakerField | None = None
    fee: Fee | None = None
    fees: Annotated[list[Fee], BeforeValidator(_drop_none_fee)] = Field(default_factory=list)
    timestamp: Timestamp | None = None
    info: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", "order", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def all_fees(self) -> list[Fee]:
        """The trade's fees, from ``fees`` when present, else ``fee``."""
        if self.fees:
            return list(self.fees)
        return [self.fee] if self.fee is not None else []

    def to_ccxt(self) -> dict[str, Any]:
        """The unified ccxt trade dict."""
        return {
            "id": self.id,
            "order": self.order,
            "symbol": self.symbol,
            "side": None if self.side is None else str(self.side),
            "type": None,
            "takerOrMaker": None if self.taker_or_maker is None else str(self.taker_or_maker),
            "price": float(self.price),
            "amount": float(self.amount),
            "cost": None if self.cost is None else float(self.cost),
            "fee": None if self.fee is None else _fee_dict(self.fee),
            "fees": [_fee_dict(f) for f in self.fees],
            "timestamp": _ms(self.timestamp),
            "datetime": _iso(self.timestamp),
            "info": self.info,
        }


class CcxtOrder(_FromCcxt):
    """An order as the exchange knows it: a child order's confirmation or its later state."""

    id: str
    client_order_id: str | None = None
    symbol: str
    type: OrderTypeField | None = None
    side: SideField
    status: OrderStatusField | None = None
    amount: Money | None = None
    filled: Money | None = None
    remaining: Money | None = None
    price: Money | None = None
    average: Money | None = None
    cost: Money | None = None
    reduce_only: bool | None = None
    time_in_force: str | None = None
    timestamp: Timestamp | None = None
    last_trade_timestamp: Timestamp | None = None
    last_update_timestamp: Timestamp | None = None
    fee: Fee | None = None
    fees: Annotated[list[Fee], BeforeValidator(_drop_none_fee)] = Field(default_factory=list)
    trades: list[CcxtTrade] = Field(default_factory=list)
    info: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def is_open(self) -> bool:
        """True while the order can still fill."""
        return self.status == OrderStatus.OPEN

    def to_ccxt(self) -> dict[str, Any]:
        """The unified ccxt order dict."""
        return {
            "id": self.id,
            "clientOrderId": self.client_order_id,
            "symbol": self.symbol,
            "type": None if self.type is None else str(self.type),
            "side": str(self.side),
            "status": None if self.status is None else str(self.status),
            "amount": _float(self.amount),
            "filled": _float(self.filled),
            "remaining": _float(self.remaining),
            "price": _float(self.price),
            "average": _float(self.average),
            "cost": _float(self.cost),
            "reduceOnly": self.reduce_only,
            "timeInForce": self.time_in_force,
            "postOnly": None,
            "triggerPrice": None,
            "stopPrice": None,
            "takeProfitPrice": None,
            "stopLossPrice": None,
            "timestamp": _ms(self.timestamp),
            "datetime": _iso(self.timestamp),
            "lastTradeTimestamp": _ms(self.last_trade_timestamp),
            "lastUpdateTimestamp": _ms(self.last_update_timestamp),
            "fee": None if self.fee is None else _fee_dict(self.fee),
            "fees": [_fee_dict(f) for f in self.fees],
            "trades": [t.to_ccxt() for t in self.trades],
            "info": self.info,
        }


class MarketLimits(FrozenModel):
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
    info: dict[str, Any] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_ccxt(cls, market: dict[str, Any]) -> MarketLimits:
        """Build from a ccxt market (precisionMode TICK_SIZE: precision holds step sizes)."""

        def lim(kind: str, bound: str) -> Any:
            return (limits.get(kind) or {}).get(bound)

        try:
            limits = market.get("limits") or {}
            precision = market.get("precision") or {}
            return cls(
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
        except (ValidationError, *_PAYLOAD_ERRORS) as exc:
            raise VenueRejected(f"malformed market from the venue: {exc!r}") from None


class Position(_FromCcxt):
    """An open position (futures). ``amount`` is signed: negative is short."""

    symbol: str
    side: str | None = None
    contracts: Money | None = None
    contract_size: Money | None = None
    entry_price: Money | None = None
    mark_price: Money | None = None
    notional: Money | None = None
    unrealized_pnl: Money | None = None
    leverage: Money | None = None
    liquidation_price: Money | None = None
    timestamp: Timestamp | None = None
    info: dict[str, Any] = Field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        """Signed position size in base units (contracts times contract size)."""
        size = (self.contracts or Decimal(0)) * (self.contract_size or Decimal(1))
        return -size if self.side == "short" else size


class Balance(FrozenModel):
    """One currency's balance: free, used (locked or margin), total."""

    currency: str
    free: Money = Decimal(0)
    used: Money = Decimal(0)
    total: Money = Decimal(0)


class Balances(FrozenModel):
    """All balances of an account, by currency, with the raw payload."""

    by_currency: dict[str, Balance]
    info: dict[str, Any] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_ccxt(cls, data: dict[str, Any]) -> Balances:
        """Build from ccxt's ``fetch_balance`` result; zero balances are dropped."""
        out: dict[str, Balance] = {}
        try:
            totals = data.get("total") or {}
            free = data.get("free") or {}
            used = data.get("used") or {}
            info = data.get("info") or {}
            for cur in sorted(set(totals) | set(free) | set(used)):
                values = {
                    k: src.get(cur)
                    for k, src in (("free", free), ("used", used), ("total", totals))
                }
                if not any(values.values()):
                    continue
                out[cur] = Balance(currency=cur, **{k: v or 0 for k, v in values.items()})
            return cls(by_currency=out, info=info)
        except ValidationError as exc:
            raise VenueRejected(
                f"malformed balance from the venue: {exc.errors()[0]['msg']}"
            ) from None
        except _PAYLOAD_ERRORS as exc:
            raise VenueRejected(f"malformed balance from the venue: {exc!r}") from None

    def total(self, currency: str) -> Decimal:
        """Total balance of ``currency`` (zero when absent)."""
        bal = self.by_currency.get(currency)
        return bal.total if bal else Decimal(0)


class BidAsk(FrozenModel):
    """Top of the book at one moment."""

    symbol: str
    bid: Money
    ask: Money
    bid_size: Money | None = None
    ask_size: Money | None = None
    timestamp: Timestamp | None = None

    @property
    def mid(self) -> Decimal:
        """The mid price."""
        return (self.bid + self.ask) / 2

    @property
    def is_crossed(self) -> bool:
        """True when bid >= ask: a book not to price from."""
        return self.bid >= self.ask


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * 1000)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _fee_dict(fee: Fee) -> dict[str, Any]:
    return {
        "cost": float(fee.cost),
        "currency": fee.currency,
        "rate": None if fee.rate is None else float(fee.rate),
    }


__all__ = [
    "Balance",
    "Balances",
    "BidAsk",
    "CcxtOrder",
    "CcxtTrade",
    "Fee",
    "MarketLimits",
    "OrderStatus",
    "OrderType",
    "Position",
    "Side",
    "TakerOrMaker",
]
