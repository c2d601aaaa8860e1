"""Bybit's retCodes in the SDK's one error table: the venue family's table decides."""

from __future__ import annotations

import json

import ccxt
import pytest

from exsdk.errors import (
    BYBIT_CODES,
    BelowMinimum,
    ClockSkew,
    LiquidityRejected,
    OrderOutcomeUnknown,
    RateLimited,
    TransientVenueError,
    VenueRejected,
    code_table_for,
    translate,
)


def body(code: int, message: str = "x") -> str:
    return json.dumps(
        {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": 1},
        separators=(",", ":"),
    )


@pytest.mark.parametrize("code", sorted(BYBIT_CODES.classes))
def test_every_table_code_decides_the_class_whatever_ccxt_raised(code: int) -> None:
    # ccxt raises InvalidOrder / BadRequest / ExchangeError for most of these.
    for ccxt_cls in (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.ExchangeError):
        error = translate(ccxt_cls(f"bybit {body(code)}"), exchange="bybit")
        assert type(error) is BYBIT_CODES.classes[code]
        assert error.code == code


def test_params_error_says_below_minimum_only_in_its_text() -> None:
    low = translate(
        ccxt.BadRequest(
            "bybit " + body(10001, "The number of contracts exceeds minimum limit allowed")
        ),
        exchange="bybit",
    )
    other = translate(
        ccxt.BadRequest("bybit " + body(10001, "params error: side invalid")), exchange="bybit"
    )
    assert type(low) is BelowMinimum and type(other) is VenueRejected


def test_default_unknown_after_a_create() -> None:
    # Undocumented, and documented-but-not-a-refusal (create order failed): unknown.
    for code in (99999, 170149, 170001):
        error = translate(
            ccxt.ExchangeError("bybit " + body(code)), exchange="bybit", request="create"
        )
        assert type(error) is OrderOutcomeUnknown, code
    read = translate(ccxt.ExchangeError("bybit " + body(99999)), exchange="bybit", request="read")
    assert type(read) is TransientVenueError
    refused = translate(
        ccxt.InvalidOrder("bybit " + body(110003)), exchange="bybit", request="create"
    )
    assert type(refused) is LiquidityRejected


def test_quoted_codes_and_success_bodies() -> None:
    # ccxt's parsed bodies may quote numbers ("retCode":"10002"); retCode 0 is no error.
    skew = translate(ccxt.InvalidNonce('bybit {"retCode":"10002","retMsg":"x"}'), exchange="bybit")
    assert type(skew) is ClockSkew and skew.code == 10002
    assert BYBIT_CODES.code_of('{"retCode":0,"retMsg":"OK"}') is None


def test_families_do_not_read_each_others_codes() -> None:
    assert code_table_for("bybit") is BYBIT_CODES
    # A Binance reply with the same number as a Bybit code is read as Binance's.
    binance = translate(
        ccxt.ExchangeError('binance {"code":-1003,"msg":"x"}'), exchange="binanceusdm"
    )
    assert type(binance) is RateLimited
    bybit_body_on_binance = translate(
        ccxt.ExchangeError("binance " + body(110003)), exchange="binance"
    )
    assert type(bybit_body_on_binance) is VenueRejected
