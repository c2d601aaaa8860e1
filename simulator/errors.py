"""Binance error bodies and HTTP statuses, verbatim from the public API.

Each constructor returns a :class:`BinanceError` whose ``status`` and ``body``
match what Binance sends, so that ccxt maps it to the same exception class.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class BinanceError(Exception):
    """A Binance API error: HTTP status plus the ``{"code", "msg"}`` body."""

    status: int
    code: int
    msg: str
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, object]:
        """Return the JSON body exactly as Binance shapes it."""
        return {"code": self.code, "msg": self.msg}


def filter_failure(name: str) -> BinanceError:
    """Spot filter failure, e.g. ``Filter failure: LOT_SIZE`` (-1013)."""
    return BinanceError(400, -1013, f"Filter failure: {name}")


def invalid_symbol() -> BinanceError:
    """Unknown or non-trading symbol (-1121)."""
    return BinanceError(400, -1121, "Invalid symbol.")


def insufficient_balance() -> BinanceError:
    """Spot: not enough free balance (-2010)."""
    return BinanceError(400, -2010, "Account has insufficient balance for requested action.")


def duplicate_order_spot() -> BinanceError:
    """Spot: an open order already uses this clientOrderId (-2010)."""
    return BinanceError(400, -2010, "Duplicate order sent.")


def duplicate_order_futures() -> BinanceError:
    """Futures: an open order already uses this clientOrderId (-4116)."""
    return BinanceError(400, -4116, "ClientOrderId is duplicated.")


def margin_insufficient() -> BinanceError:
    """Futures: not enough available margin (-2019)."""
    return BinanceError(400, -2019, "Margin is insufficient.")


def order_does_not_exist() -> BinanceError:
    """GET order for an unknown id (-2013)."""
    return BinanceError(400, -2013, "Order does not exist.")


def unknown_order_sent() -> BinanceError:
    """DELETE order for an unknown or already closed order (-2011)."""
    return BinanceError(400, -2011, "Unknown order sent.")


def invalid_api_key() -> BinanceError:
    """Missing or unknown API key (-2015, HTTP 401)."""
    return BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def bad_signature() -> BinanceError:
    """HMAC signature mismatch (-1022)."""
    return BinanceError(400, -1022, "Signature for this request is not valid.")


def outside_recv_window() -> BinanceError:
    """Timestamp older than recvWindow (-1021)."""
    return BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def ahead_of_server() -> BinanceError:
    """Timestamp more than 1000 ms in the future (-1021)."""
    return BinanceError(
        400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
    )


def mandatory_param(name: str) -> BinanceError:
    """A required parameter is missing (-1102)."""
    return BinanceError(
        400,
        -1102,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def illegal_chars(name: str) -> BinanceError:
    """A parameter has a malformed value (-1100)."""
    return BinanceError(
        400,
        -1100,
        f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
    )


def recv_window_too_large() -> BinanceError:
    """recvWindow above 60000 (-1131)."""
    return BinanceError(400, -1131, "recvWindow must be less than 60000")


def invalid_order_type() -> BinanceError:
    """Unsupported order type (-1116)."""
    return BinanceError(400, -1116, "Invalid orderType.")


def invalid_side() -> BinanceError:
    """Unsupported side (-1117)."""
    return BinanceError(400, -1117, "Invalid side.")


def percent_price_market() -> BinanceError:
    """Futures MARKET order: best counter price outside PERCENT_PRICE (-4131)."""
    return BinanceError(
        400, -4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit."
    )


def min_notional_futures_text(notional: str) -> BinanceError:
    """Futures MIN_NOTIONAL failure (-4164); the value comes from the filter."""
    return BinanceError(
        400,
        -4164,
        f"Order's notional must be no smaller than {notional} (unless you choose reduce only).",
    )


def reduce_only_rejected() -> BinanceError:
    """Futures reduceOnly order that would increase the position (-2022)."""
    return BinanceError(400, -2022, "ReduceOnly Order is rejected.")


def futures_qty_not_step() -> BinanceError:
    """Futures LOT_SIZE step failure (-4023)."""
    return BinanceError(400, -4023, "Quantity not increased by step size.")


def futures_qty_below_zero() -> BinanceError:
    """Futures non-positive quantity (-4003)."""
    return BinanceError(400, -4003, "Quantity less than zero.")


def futures_qty_below_min() -> BinanceError:
    """Futures quantity below LOT_SIZE.minQty (-4004)."""
    return BinanceError(400, -4004, "Quantity less than min quantity.")


def futures_qty_above_max() -> BinanceError:
    """Futures quantity above LOT_SIZE/MARKET_LOT_SIZE maxQty (-4005)."""
    return BinanceError(400, -4005, "Quantity greater than max quantity.")


def futures_price_not_tick() -> BinanceError:
    """Futures PRICE_FILTER tick failure (-4014)."""
    return BinanceError(400, -4014, "Price not increased by tick size.")


def futures_price_below_min() -> BinanceError:
    """Futures price below PRICE_FILTER.minPrice (-4013)."""
    return BinanceError(400, -4013, "Price less than min price.")


def futures_price_above_max() -> BinanceError:
    """Futures price above PRICE_FILTER.maxPrice (-4016 family)."""
    return BinanceError(400, -4016, "Price greater than max price.")


def futures_limit_price_high(bound: str) -> BinanceError:
    """Futures LIMIT price above mark*multiplierUp (-4016)."""
    return BinanceError(400, -4016, f"Limit price can't be higher than {bound}.")


def futures_limit_price_low(bound: str) -> BinanceError:
    """Futures LIMIT price below mark*multiplierDown (-4024)."""
    return BinanceError(400, -4024, f"Limit price can't be lower than {bound}.")


def futures_bad_leverage(leverage: int) -> BinanceError:
    """Leverage outside the symbol's brackets (-4028)."""
    return BinanceError(400, -4028, f"Leverage {leverage} is not valid")


def too_much_weight(limit: int, retry_after: int, interval: str = "1 MINUTE") -> BinanceError:
    """REQUEST_WEIGHT exceeded (-1003, HTTP 429 with Retry-After)."""
    return BinanceError(
        429,
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per {interval}. "
        "Please use the websocket for live updates to avoid polling the API.",
        (("Retry-After", str(retry_after)),),
    )


def too_many_orders(limit: int, interval: str, retry_after: int) -> BinanceError:
    """ORDERS exceeded (-1015, HTTP 429 with Retry-After)."""
    return BinanceError(
        429,
        -1015,
        f"Too many new orders; current limit is {limit} orders per {interval}.",
        (("Retry-After", str(retry_after)),),
    )


def internal_error(status: int = 500) -> BinanceError:
    """Generic backend failure (-1001); the execution status is unknown."""
    return BinanceError(
        status, -1001, "Internal error; unable to process your request. Please try again."
    )


def backend_timeout(status: int = 408) -> BinanceError:
    """-1007: the request timed out inside Binance; the order may well be placed."""
    return BinanceError(
        status,
        -1007,
        "Timeout waiting for response from backend server. "
        "Send status unknown; execution status unknown.",
    )


def illegal_chars_any() -> BinanceError:
    """A parameter that is not legal text, e.g. a body that is not UTF-8 (-1100)."""
    return BinanceError(400, -1100, "Illegal characters found in a parameter.")
