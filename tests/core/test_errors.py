"""Every real Binance error body, through real ccxt, into the SDK's tree; and the retry table."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest

from exsdk.errors import (
    RETRY_POLICY,
    AuthenticationFailed,
    BelowMinimum,
    ClockSkew,
    InsufficientFunds,
    InvalidOrderInput,
    LiquidityRejected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    RetryKind,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
    binance_error_code,
    retry_rule_for,
    translate,
)

from .helpers import load_sample

ROWS: list[dict[str, Any]] = load_sample("error_responses.json")["errors"]

HOSTS = {
    "futures": (ccxt.binanceusdm, "https://fapi.binance.com/fapi/v1/order"),
    "spot": (ccxt.binance, "https://api.binance.com/api/v3/order"),
}

# The SDK class for each (code, message start); the same on both hosts unless noted.
EXPECTED: dict[tuple[int, str], type[SdkError]] = {
    (-4131, "The counterparty"): LiquidityRejected,
    (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE"): VenueRejected,
    (-1013, "Filter failure: PERCENT_PRICE"): VenueRejected,
    (-1013, "Filter failure: LOT_SIZE"): VenueRejected,
    (-1013, "Filter failure: PRICE_FILTER"): VenueRejected,
    (-1013, "Filter failure: MIN_NOTIONAL"): BelowMinimum,
    (-1013, "Filter failure: NOTIONAL"): BelowMinimum,
    (-1013, "Filter failure: MARKET_LOT_SIZE"): VenueRejected,
    (-1013, "Filter failure: MAX_NUM_ORDERS"): VenueRejected,
    (-2010, "Account has insufficient balance"): InsufficientFunds,
    (-2010, "Order would immediately match"): VenueRejected,
    (-2010, "Duplicate order sent"): VenueRejected,
    (-1021, "Timestamp for this request is outside"): ClockSkew,
    (-1021, "Timestamp for this request was"): ClockSkew,
    (-4164, "Order's notional"): BelowMinimum,
    (-2019, "Margin is insufficient"): InsufficientFunds,
    (-1111, "Precision is over"): VenueRejected,
    (-1111, "Parameter 'quantity'"): VenueRejected,
    (-4003, "Quantity less than zero"): VenueRejected,
    (-1003, "Too much request weight"): RateLimited,
    (-1003, "Way too much request weight"): RateLimited,
    (-1015, "Too many new orders"): RateLimited,
    (-2011, "Unknown order sent"): OrderNotFound,
    (-2013, "Order does not exist"): OrderNotFound,
    (-2015, "Invalid API-key"): AuthenticationFailed,
    (-1121, "Invalid symbol"): VenueRejected,
    (-4046, "No need to change margin type"): VenueRejected,
    (-1106, "Parameter 'reduceOnly'"): VenueRejected,
    (-5022, "Due to the order could not"): VenueRejected,
    # ccxt's spot table says BadResponse (retryable); the venue refused on purpose.
    (-2022, "ReduceOnly Order is rejected"): VenueRejected,
}


def _expected(row: dict[str, Any]) -> type[SdkError]:
    body = row["body"]
    matches = [
        (len(prefix), cls)
        for (code, prefix), cls in EXPECTED.items()
        if code == body["code"] and body["msg"].startswith(prefix)
    ]
    assert matches, f"no expectation for {body}"
    return max(matches, key=lambda m: m[0])[1]  # the longest prefix wins


def _raise_through_ccxt(host: str, row: dict[str, Any]) -> BaseException:
    make, url = HOSTS[host]
    exchange = make()
    body = row["body"]
    text = json.dumps(body, separators=(",", ":"))  # as Binance sends it
    with pytest.raises(ccxt.BaseError) as info:
        exchange.handle_errors(row["http_status"], "", url, "POST", {}, text, body, None, None)
        # handle_errors returns None for what it does not know; the base class then maps
        # the HTTP status, as ccxt's fetch does.
        exchange.handle_http_status_code(row["http_status"], "", url, "POST", text)
    error: BaseException = info.value
    return error


def _id(row: dict[str, Any]) -> str:
    return f"{row['http_status']}:{row['body']['code']}:{row['body']['msg'][:24]}"


@pytest.mark.parametrize("host", sorted(HOSTS))
@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_every_sample_error_translates(host: str, row: dict[str, Any]) -> None:
    exc = _raise_through_ccxt(host, row)
    # The samples file records the ccxt class computed for 4.5.90; check we reproduce it.
    recorded = row["ccxt_exception"]["ccxt 4.5.90"][
        f"{'binanceusdm_fapi' if host == 'futures' else 'binance_spot'}_url"
    ]
    assert type(exc).__name__ == recorded
    make, _ = HOSTS[host]
    error = translate(exc, exchange=make().id, body=json.dumps(row["body"]))
    assert type(error) is _expected(row), (type(exc).__name__, str(exc))
    assert error.exchange == make().id
    assert error.code == row["body"]["code"]
    assert error.body is not None and json.loads(error.body) == row["body"]
    assert not isinstance(error, ccxt.BaseError)


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_4131_is_liquidity_on_both_hosts_without_the_body_hint(host: str) -> None:
    (row,) = [r for r in ROWS if r["body"]["code"] == -4131]
    exc = _raise_through_ccxt(host, row)
    error = translate(exc)
    assert isinstance(error, LiquidityRejected) and error.code == -4131


@pytest.mark.parametrize("host", sorted(HOSTS))
@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_class_without_the_body_hint(host: str, row: dict[str, Any]) -> None:
    # Adapters may not pass the body; the class must still be right (the code may be lost
    # where ccxt's message does not carry the body).
    exc = _raise_through_ccxt(host, row)
    error = translate(exc)
    expected = _expected(row)
    assert type(error) is expected or (
        # -1013 filter rows ccxt matched by message keep only the message text.
        expected is VenueRejected and isinstance(error, VenueRejected)
    )


def test_every_expectation_is_used() -> None:
    used = {(r["body"]["code"], p) for r in ROWS for (c, p) in EXPECTED if c == r["body"]["code"]}
    assert set(EXPECTED) <= used


# --- synthetic cases -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ccxt.RequestTimeout("binance GET timed out"), OrderOutcomeUnknown),
        (ccxt.ExchangeNotAvailable("binance 503"), TransientVenueError),
        (ccxt.NetworkError("reset"), TransientVenueError),
        (ccxt.OperationFailed('binance {"code":-1099,"msg":"x"}'), TransientVenueError),
        (ccxt.NotSupported("fetchPositions"), UnsupportedMethod),
        (ccxt.PermissionDenied("no"), AuthenticationFailed),
        (ccxt.ExchangeError('binance {"code":-1007,"msg":"Timeout waiting for response"}'),
         OrderOutcomeUnknown),
        (ccxt.ExchangeError('binance {"code":-1001,"msg":"Internal error"}'), TransientVenueError),
        # Without the -1013 code the filter name alone does not decide: a plain rejection.
        (ccxt.InvalidOrder("binance Filter failure: NOTIONAL"), VenueRejected),
        (TimeoutError("read"), TransientVenueError),
        (ConnectionResetError("peer"), TransientVenueError),
        (RuntimeError("?"), VenueRejected),
    ],
)  # fmt: skip
def test_translate_synthetic(exc: BaseException, expected: type[SdkError]) -> None:
    assert type(translate(exc)) is expected


def test_body_hint_recovers_the_code() -> None:
    exc = ccxt.InsufficientFunds("binance Account has insufficient balance for requested action.")
    assert translate(exc).code is None
    body = '{"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    error = translate(exc, body=body)
    assert isinstance(error, InsufficientFunds) and error.code == -2010 and error.body == body


def test_filter_name_must_match_exactly() -> None:
    body = '{"code":-1013,"msg":"Filter failure: NOTIONAL_SOMETHING"}'
    assert type(translate(ccxt.BadRequest(f"binance {body}"))) is VenueRejected


def test_sdk_errors_pass_through_and_long_messages_are_cut() -> None:
    err = InsufficientFunds("x")
    assert translate(err) is err
    long = translate(ccxt.ExchangeError("y" * 2000))
    assert len(long.message) == 503


def test_binance_error_code() -> None:
    assert binance_error_code('binance {"code": -4131, "msg": "x"}') == -4131
    assert binance_error_code("no code here") is None


def test_str_names_exchange_and_code() -> None:
    assert str(ClockSkew("late", exchange="binance", code=-1021)) == "[binance] late (code -1021)"
    assert (
        str(InvalidOrderInput("bad", line=3, field="tz", source="f")) == "f:line 3: field 'tz': bad"
    )


# --- retry table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ClockSkew("x"), RetryKind.AFTER_CLOCK_SYNC),
        (RateLimited("x", retry_after=3.0), RetryKind.AFTER_RETRY_AFTER),
        (OrderOutcomeUnknown("x"), RetryKind.LOOKUP_THEN_RESEND),
        (TransientVenueError("x"), RetryKind.LOOKUP_THEN_RESEND),
        (LiquidityRejected("x"), RetryKind.NEVER),
        (BelowMinimum("x"), RetryKind.NEVER),
        (InsufficientFunds("x"), RetryKind.NEVER),
        (OrderNotFound("x"), RetryKind.NEVER),
        (VenueRejected("x"), RetryKind.NEVER),
        (AuthenticationFailed("x"), RetryKind.NEVER),
        (InvalidOrderInput("x"), RetryKind.NEVER),
        (UnsupportedMethod("x", missing={"fetchPositions": "positions"}), RetryKind.NEVER),
    ],
)
def test_retry_rule_for(error: SdkError, kind: RetryKind) -> None:
    rule = retry_rule_for(error)
    assert rule.kind is kind
    if kind is RetryKind.NEVER:
        assert rule.max_attempts == 1
    else:
        assert rule.max_attempts > 1


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_retry_rules_for_every_sample(row: dict[str, Any]) -> None:
    error = translate(_raise_through_ccxt("futures", row))
    rule = retry_rule_for(error)
    code, status = row["body"]["code"], row["http_status"]
    if code == -1021:
        assert rule.kind is RetryKind.AFTER_CLOCK_SYNC
    elif status in (418, 429):
        assert rule.kind is RetryKind.AFTER_RETRY_AFTER
    else:
        assert rule.kind is RetryKind.NEVER  # the venue said no; resending will not help


def test_retry_table_ends_with_sdk_error() -> None:
    assert RETRY_POLICY[-1][0] is SdkError
    classes = [cls for cls, _ in RETRY_POLICY]
    for i, cls in enumerate(classes):  # no row is shadowed by an earlier, broader one
        assert not any(issubclass(cls, earlier) for earlier in classes[:i])
