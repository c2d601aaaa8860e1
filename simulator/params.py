"""Parsing request parameters with Binance's validation errors."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from exsdk.simulator import errors

Params = dict[str, str]


def text(params: Params, name: str) -> str:
    """A mandatory string parameter (-1102 if missing)."""
    value = params.get(name)
    if value is None or value == "":
        raise errors.mandatory_param(name)
    return value


def decimal_opt(params: Params, name: str) -> Decimal | None:
    """An optional decimal parameter (-1100 if malformed)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise errors.BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; "
            "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ) from None
    if not result.is_finite():
        raise errors.mandatory_param(name)
    return result


def int_opt(params: Params, name: str) -> int | None:
    """An optional integer parameter (-1100 if malformed)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.illegal_chars(name) from None


def bool_opt(params: Params, name: str) -> bool:
    """A ``true``/``false`` parameter, false when absent."""
    return params.get(name, "false").lower() == "true"
