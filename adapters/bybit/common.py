"""What Bybit spot and linear share: the unified-account options ccxt needs, client
order id rules, lookups by ``orderLinkId``, a clock resync after retCode 10002, and the
pacer corrected by Bybit's own count of each endpoint (``X-Bapi-Limit`` and
``X-Bapi-Limit-Status``: room left for another client of the account) and by a lower
order limit than the declared one that ``X-Bapi-Limit`` states for the account; a 10006
waits until its ``X-Bapi-Limit-Reset-Timestamp``.

How Bybit's retCodes become SDK errors is :data:`exsdk.error_tables.BYBIT_CODES` (one table
for every adapter). The price-band refusals (110003 on linear, 170193 / 170194 /
170371 / 170372 on spot: the order's price, or a linear market order's best counter
price, outside the range Bybit allows around the mark) mean what Binance's -4131 means
and are ``LiquidityRejected``; below-minimum orders (110094, 170136, 170140, and 10001
"exceeds minimum limit allowed") are ``BelowMinimum``; 10002 (timestamp outside
recv_window) is ``ClockSkew``; 10003 / 10004 ``AuthenticationFailed``; 10006
``RateLimited``; 110007 / 170131 ``InsufficientFunds``.

ccxt 4.5.90 reads Bybit's ``PartiallyFilledCanceled`` (a spot order cancelled after part
of it filled) as ``closed``; the adapters report it ``canceled``, with its filled part.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from exsdk.adapter import CcxtAdapter, ReplyShape
from exsdk.adapter.pacing import (
    ORDERS,
    REQUEST_WEIGHT,
    EndpointCost,
    Kind,
    OrderLimit,
    RateLimit,
    RequestCost,
    WeightLimit,
    reply_stamp,
)
from exsdk.adapter.requests import RequestRecord
from exsdk.errors import ClockSkew, InvalidOrderInput, OrderNotFound, SdkError, TransientVenueError
from exsdk.models import CcxtOrder, Side

__all__ = ["CLIENT_ORDER_ID_RE", "RESULT_REPLY", "BybitAdapter", "validate_client_order_id"]

CLIENT_ORDER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,36}")
"""Bybit's ``orderLinkId``: up to 36 letters, digits, dashes and underscores."""

RESULT_REPLY = ReplyShape(dict, {"result": dict})
"""Every v5 answer: ``{"retCode", "retMsg", "result": {...}, "retExtInfo", "time"}``."""

_ORDER_METHODS = frozenset(
    {
        "create_order",
        "cancel_order",
        "fetch_order",
        "fetch_open_orders",
        "fetch_orders",
        "fetch_closed_orders",
        "fetch_canceled_and_closed_orders",
    }
)
# Bybit's final statuses of an order cancelled with part of it filled: ccxt 4.5.90 reads
# them as "closed" (filled), which they are not.
_CANCELED_WITH_FILLS = frozenset({"PartiallyFilledCanceled"})


def _canceled_status(order: Any) -> Any:
    """``order`` (ccxt's dict) with a partly filled and cancelled order called canceled."""
    if isinstance(order, dict):
        info = order.get("info")
        if isinstance(info, dict) and info.get("orderStatus") in _CANCELED_WITH_FILLS:
            return {**order, "status": "canceled"}
    return order


def validate_client_order_id(client_order_id: str) -> str:
    """The id unchanged when Bybit accepts it, else ``InvalidOrderInput``."""
    if not isinstance(client_order_id, str) or not CLIENT_ORDER_ID_RE.fullmatch(client_order_id):
        raise InvalidOrderInput(
            f"client order id {client_order_id!r} must be 1 to 36 characters of [A-Za-z0-9_-]",
            field="client_order_id",
        )
    return client_order_id


class BybitAdapter(CcxtAdapter):
    """Base of the Bybit adapters (ccxt ``bybit``, unified trading account).

    ccxt asks ``/v5/user/query-api`` and ``/v5/account/info`` before the first order or
    balance to learn the account mode; the options below state it (a unified trading
    account, Bybit's only kind for new accounts) so no such request is sent. Currencies
    are not fetched (a signed ``/v5/asset/coin/query-info`` the SDK never needs).
    """

    ccxt_id: ClassVar[str] = "bybit"
    default_options: ClassVar[Mapping[str, Any]] = {
        **CcxtAdapter.default_options,
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        # A clock is resynced after 10002 (resync_clock), not before every start.
        "adjustForTimeDifference": False,
        # /v5/order/realtime finds an order of any status among the account's last 500:
        # the broker asks for its own recent orders only.
        "fetchOrder": {"acknowledged": True},
    }
    # Bybit limits each endpoint per second and per account (create and cancel: 10 on
    # linear, 20 on spot, each on its own; most others 50) and the IP to 600 requests in
    # 5 s. The pacer keeps two kinds, so creates, cancels and set-leverage share the
    # create limit (a stricter pace than each alone) and every request counts one
    # against 50 a second (what ccxt's own throttle, now off, allowed). ``time`` in a
    # reply is when Bybit answered: at or after it counted the request.
    weight_limits: ClassVar[tuple[WeightLimit, ...]] = (WeightLimit(50, 1.0),)
    request_costs: ClassVar[Mapping[tuple[str, str], EndpointCost]] = {
        ("POST", "/v5/order/create"): EndpointCost(orders=1, stamps=("time",)),
        ("POST", "/v5/order/cancel"): EndpointCost(orders=1, stamps=("time",)),
        ("POST", "/v5/position/set-leverage"): EndpointCost(orders=1, stamps=("time",)),
    }
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {
        "create_order": RESULT_REPLY,
        "cancel_order": RESULT_REPLY,
        "fetch_order": RESULT_REPLY,
        "fetch_open_orders": RESULT_REPLY,
        "fetch_closed_orders": RESULT_REPLY,
        "fetch_my_trades": RESULT_REPLY,
        "fetch_balance": RESULT_REPLY,
    }

    def venue_counts(
        self, headers: Mapping[str, Any], cost: RequestCost
    ) -> list[tuple[Kind, float, int]]:
        """Bybit's count of the endpoint just called: ``X-Bapi-Limit`` minus
        ``X-Bapi-Limit-Status`` (what is left of its one-second window), for the limit the
        request was paced under (an order request's, else the per-second request limit).

        The venue counts each endpoint on its own and the pacer keeps one window for all
        order endpoints, so what it says can only exceed ours by others' use (another
        client of the account): the count then holds our requests back, never lets more
        through.
        """
        limit, left, _ = _limit_headers(headers)
        if limit is None or left is None or not 0 <= left <= limit:
            return []
        return [(ORDERS if cost.orders else REQUEST_WEIGHT, 1.0, limit - left)]

    def venue_limits(self, headers: Mapping[str, Any], cost: RequestCost) -> list[RateLimit]:
        """An order endpoint's ``X-Bapi-Limit``: the account's limit a second, adopted when
        it is lower than the declared one (the pacer's one order window then paces every
        order endpoint at it). Other endpoints' limits are each their own, not the
        pacer's per-second request limit, and are not adopted."""
        limit, _, _ = _limit_headers(headers)
        return [OrderLimit(limit, 1.0)] if cost.orders and limit is not None and limit > 0 else []

    def retry_after(self, reply: RequestRecord) -> float | None:
        """After a 10006: from the reply's ``X-Bapi-Limit-Reset-Timestamp`` to its body's
        ``time`` (both Bybit's clock, so no clock skew), else what the base reads."""
        _, _, reset = _limit_headers(reply.headers or {})
        answered = reply_stamp(reply.body, ("time",)) if reset is not None else None
        if reset is not None and answered is not None:
            return max(0.0, (reset - answered) / 1000)
        return super().retry_after(reply)

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """ccxt's call, with Bybit's ``PartiallyFilledCanceled`` read as canceled."""
        raw = await super()._call(method, *args, **kwargs)
        if method not in _ORDER_METHODS:
            return raw
        if isinstance(raw, list):
            return [_canceled_status(order) for order in raw]
        return _canceled_status(raw)

    def _check_exchange(self) -> None:
        # Base load_markets calls fetch_currencies whenever has['fetchCurrencies'] is True.
        self._exchange.has["fetchCurrencies"] = False

    def validate_client_order_id(self, client_order_id: str) -> str:
        """Bybit's rule: 1 to 36 characters of ``[A-Za-z0-9_-]``."""
        return validate_client_order_id(client_order_id)

    async def _fetch_raw_order_by_client_id(self, symbol: str, client_order_id: str) -> Any:
        # /v5/order/realtime and then /v5/order/history filtered by orderLinkId: no scan.
        params = {"orderLinkId": client_order_id}
        for method in ("fetch_open_orders", "fetch_canceled_and_closed_orders"):
            for order in await self._call(method, symbol, None, None, dict(params)):
                if order.get("clientOrderId") == client_order_id:
                    return order
        raise OrderNotFound(
            f"no order with client order id {client_order_id!r} on {symbol}",
            exchange=self.exchange_id,
        )

    async def create_order(
        self,
        symbol: str,
        order_type: str,
        side: Side,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> CcxtOrder:
        """Send one order; Bybit acknowledges it with its ids only, so the order is then
        read back (``/v5/order/realtime``) for its status and fills.

        A read-back that fails leaves the acknowledgement as the answer: the order was
        placed, and the broker looks it up again by its client order id.
        """
        placed = await super().create_order(
            symbol,
            order_type,
            side,
            amount,
            price,
            client_order_id=client_order_id,
            reduce_only=reduce_only,
        )
        if placed.status is not None or not placed.id:
            return placed
        try:
            return await self.fetch_order(symbol, order_id=placed.id)
        except (OrderNotFound, TransientVenueError):
            return placed

    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        """Cancel one order; Bybit answers with the ids only, so it is read back too."""
        canceled = await super().cancel_order(symbol, order_id=order_id)
        if canceled.status is not None:
            return canceled
        try:
            return await self.fetch_order(symbol, order_id=order_id)
        except (OrderNotFound, TransientVenueError):
            return canceled

    async def _fetch_raw_order_trades(self, symbol: str, order_id: str) -> list[Any]:
        # /v5/execution/list filters by orderId on the venue.
        return list(await self._call("fetch_my_trades", symbol, None, None, {"orderId": order_id}))

    async def _after_error(self, error: SdkError) -> None:
        await super()._after_error(error)
        # 10002: ccxt signs with local time minus options['timeDifference']; measure it
        # again so the caller's retry (the broker's AFTER_CLOCK_SYNC rule) is accepted.
        if isinstance(error, ClockSkew) and not self._resyncing:
            with contextlib.suppress(SdkError):
                await self.resync_clock()


def _limit_headers(headers: Mapping[str, Any]) -> tuple[int | None, int | None, int | None]:
    """``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and ``X-Bapi-Limit-Reset-Timestamp``
    (any case) as integers, ``None`` where missing or not a number."""
    found: dict[str, int | None] = {}
    for key, value in headers.items():
        name = str(key).lower()
        if name.startswith("x-bapi-limit"):
            found[name] = _integer(value)
    return (
        found.get("x-bapi-limit"),
        found.get("x-bapi-limit-status"),
        found.get("x-bapi-limit-reset-timestamp"),
    )


def _integer(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
