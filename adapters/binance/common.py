"""What Binance spot and USD-M futures share: error codes, filter reading, clock sync on
-1021, and client order id rules.

The SDK class of each error code is decided in :mod:`exsdk.errors` (one table for every
adapter); :data:`ERROR_CODES` here says what each code means on Binance, for messages and
docs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from exsdk.adapter import LIST_REPLY, CcxtAdapter, ReplyShape, Venue
from exsdk.errors import ClockSkew, InvalidOrderInput, SdkError
from exsdk.models import MarketLimits, Side
from exsdk.models.base import shown

ORDER_REPLY = ReplyShape(dict, {"orderId": int})
"""POST/GET/DELETE order: an object with the venue's numeric ``orderId``."""

__all__ = [
    "CLIENT_ORDER_ID_MAX_LEN",
    "CLIENT_ORDER_ID_RE",
    "ERROR_CODES",
    "ORDER_REPLY",
    "VENUE_HOSTS",
    "BinanceAdapter",
    "describe_error",
    "filters_of",
    "percent_price_band",
    "validate_client_order_id",
]

CLIENT_ORDER_ID_MAX_LEN = 36
"""Binance's limit on ``newClientOrderId`` (spot and futures alike)."""

CLIENT_ORDER_ID_RE = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
"""Binance's rule for client order ids: 1 to 36 of ``.A-Z:/a-z0-9_-``."""

ERROR_CODES: Mapping[int, str] = {
    -1000: "unknown error while processing the request",
    -1001: "internal error; unable to process the request (the outcome is not known)",
    -1003: "too much request weight used (HTTP 429, or 418 when banned)",
    -1006: "unexpected response from the message bus; execution status unknown",
    -1007: "timeout waiting for the backend; execution status unknown",
    -1008: "server busy",
    -1013: "filter failure (the message names the filter)",
    -1015: "too many new orders",
    -1021: "timestamp outside recvWindow: the local clock is off",
    -1022: "invalid signature",
    -1111: "precision over the maximum for this asset",
    -1121: "invalid symbol",
    -2010: "new order rejected (insufficient balance, duplicate, ...)",
    -2011: "cancel rejected: unknown order",
    -2013: "order does not exist",
    -2014: "API key format invalid",
    -2015: "invalid API key, IP, or permissions",
    -2019: "margin is insufficient",
    -2022: "reduce-only order rejected",
    -4003: "quantity less than or equal to zero",
    -4131: "the counterparty's best price does not meet the PERCENT_PRICE filter limit",
    -4164: "order notional below the minimum (unless reduce only)",
}
"""What Binance error codes mean (spot ``-1xxx``/``-2xxx``, futures ``-4xxx``)."""

VENUE_HOSTS: Mapping[Venue, Mapping[str, str]] = {
    Venue.LIVE: {"spot": "https://api.binance.com", "futures": "https://fapi.binance.com"},
    Venue.TESTNET: {
        "spot": "https://testnet.binance.vision",
        "futures": "https://testnet.binancefuture.com",
    },
    Venue.DEMO: {
        "spot": "https://demo-api.binance.com",
        "futures": "https://demo-fapi.binance.com",
    },
}
"""The hosts ccxt uses per venue (``sim`` is the simulator's ``base_url``)."""


def describe_error(code: int) -> str:
    """What a Binance error code means, or ``"unknown code"``."""
    return ERROR_CODES.get(code, "unknown code")


def validate_client_order_id(client_order_id: str) -> str:
    """The id unchanged when Binance accepts it, else ``InvalidOrderInput``."""
    if not isinstance(client_order_id, str) or not CLIENT_ORDER_ID_RE.fullmatch(client_order_id):
        raise InvalidOrderInput(
            f"client order id {shown(client_order_id)} must be 1 to {CLIENT_ORDER_ID_MAX_LEN} "
            "characters of [.A-Z:/a-z0-9_-]",
            field="client_order_id",
        )
    return client_order_id


def filters_of(limits: MarketLimits) -> dict[str, dict[str, Any]]:
    """The market's exchangeInfo filters by ``filterType``.

    ccxt maps only PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and (MIN_)NOTIONAL into its
    limits; PERCENT_PRICE(_BY_SIDE), MAX_NUM_ORDERS and the rest are only in the raw info.
    """
    out: dict[str, dict[str, Any]] = {}
    for entry in limits.info.get("filters") or []:
        if isinstance(entry, dict) and isinstance(entry.get("filterType"), str):
            out[entry["filterType"]] = dict(entry)
    return out


def percent_price_band(
    limits: MarketLimits, reference: Decimal, side: Side | None = None
) -> tuple[Decimal, Decimal] | None:
    """The price band ``(low, high)`` PERCENT_PRICE allows around ``reference``.

    Futures (and legacy spot) use ``PERCENT_PRICE`` around the mark price; a futures market
    order whose best counter price is outside it gets -4131. Current spot uses
    ``PERCENT_PRICE_BY_SIDE``, which needs the ``side``. ``None`` when there is no band.
    """
    filters = filters_of(limits)
    if "PERCENT_PRICE" in filters:
        f = filters["PERCENT_PRICE"]
        return reference * Decimal(f["multiplierDown"]), reference * Decimal(f["multiplierUp"])
    if "PERCENT_PRICE_BY_SIDE" in filters and side is not None:
        f = filters["PERCENT_PRICE_BY_SIDE"]
        prefix = "bid" if Side(side) is Side.BUY else "ask"
        return (
            reference * Decimal(f[f"{prefix}MultiplierDown"]),
            reference * Decimal(f[f"{prefix}MultiplierUp"]),
        )
    return None


class BinanceAdapter(CcxtAdapter):
    """Base of the Binance adapters: client order id rules, lookups by client order id
    and order id through Binance's own parameters, and a clock resync after -1021."""

    default_options: ClassVar[Mapping[str, Any]] = {
        **CcxtAdapter.default_options,
        # A venue answering -1021 is resynced explicitly (resync_clock); adjusting at
        # load_markets would add a /time request to every start and every cassette.
        "adjustForTimeDifference": False,
    }
    # myTrades/userTrades, openOrders and allOrders answer JSON lists on spot and futures;
    # ccxt reads any other body as "no trades" or "no orders". Each market type adds its
    # account reply (fetch_balance).
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {
        "fetch_my_trades": LIST_REPLY,
        "fetch_open_orders": LIST_REPLY,
        "fetch_orders": LIST_REPLY,
        "fetch_closed_orders": LIST_REPLY,
        # An order reply (new, queried, canceled) names its order; ccxt reads a body
        # without one as an order with no id. exchangeInfo lists symbols.
        "create_order": ORDER_REPLY,
        "fetch_order": ORDER_REPLY,
        "cancel_order": ORDER_REPLY,
        "load_markets": ReplyShape(dict, {"symbols": list}),
    }

    def validate_client_order_id(self, client_order_id: str) -> str:
        """Binance's rule: 1 to 36 characters of ``[.A-Z:/a-z0-9_-]``."""
        return validate_client_order_id(client_order_id)

    def _client_order_id_params(self, client_order_id: str) -> dict[str, Any]:
        # ccxt sends it as newClientOrderId instead of its random broker-prefixed id.
        return {"clientOrderId": client_order_id}

    async def _fetch_raw_order_by_client_id(self, symbol: str, client_order_id: str) -> Any:
        # ccxt sends origClientOrderId: one request, no scan of the order history.
        return await self._call("fetch_order", None, symbol, {"clientOrderId": client_order_id})

    async def _fetch_raw_order_trades(self, symbol: str, order_id: str) -> list[Any]:
        # myTrades/userTrades filter by orderId on the venue (spot weight 5 instead of 20).
        return list(await self._call("fetch_my_trades", symbol, None, None, {"orderId": order_id}))

    async def _after_error(self, error: SdkError) -> None:
        await super()._after_error(error)
        # -1021: ccxt signs with local time minus options['timeDifference']; measure it
        # again so the caller's retry (the broker's AFTER_CLOCK_SYNC rule) is accepted.
        if isinstance(error, ClockSkew) and not self._resyncing:
            # A failed resync is dropped: the original ClockSkew is what the caller needs.
            with contextlib.suppress(SdkError):
                await self.resync_clock()

    def filters(self, symbol: str) -> dict[str, dict[str, Any]]:
        """The exchangeInfo filters of a loaded market, by ``filterType``."""
        market = (self.exchange.markets or {}).get(symbol)
        if market is None:
            raise InvalidOrderInput(f"unknown or not loaded market {symbol!r}", field="symbol")
        return filters_of(MarketLimits.from_ccxt(market))
