"""The venue's state, as ccxt's unified structures, validated into frozen models: markets
(the step grid and minimums), positions, balances, order books and tickers.

Built as :mod:`exsdk.models.ccxt`'s models are (``Model.from_ccxt(d)``, unknown values kept
unknown, exact ``Decimal``s, one ``MalformedPayload`` line for what no caller could act on).
A module of their own, apart from the orders, trades and fees: a user of the typed orders
does not create these seven classes (issue 18 goal 3b, ``bench/startup.py``).
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would get every
# field's annotation as a string and compile and evaluate it when the class is created
# (about 180 fields on ``import exsdk``); written out, they are evaluated once by Python.
# Names defined further down (a model's own class) are quoted.

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError

from exsdk.models.base import (
    PAYLOAD_ERRORS,
    FromCcxt,
    MalformedPayload,
    Money,
    RawPayload,
    TextId,
    Timestamp,
    VenueModel,
    raise_malformed,
    shown,
)

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
        except PAYLOAD_ERRORS as exc:
            raise MalformedPayload(
                f"malformed market from the venue: {type(exc).__name__}: {exc}"
            ) from None


# ----- positions ------------------------------------------------------------------------------


def _lower_text(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class Position(FromCcxt):
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
        except PAYLOAD_ERRORS as exc:
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


class OrderBook(FromCcxt):
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


class Ticker(FromCcxt):
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


__all__ = [
    "Balance",
    "Balances",
    "BidAsk",
    "MarketLimits",
    "OrderBook",
    "Position",
    "Ticker",
]
