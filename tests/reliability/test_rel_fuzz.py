"""Fuzzing of everything parsed from outside: ccxt-shaped dicts into every ``from_ccxt``
model, and text into ``parse_orders``. Only ``SdkError`` subclasses may escape.

tests/core fuzzes with generic JSON values; here the payloads start from valid ccxt
structures and mutate them field by field (dropped, retyped, nested garbage, huge and
non-finite numbers as numbers and as text), which reaches far deeper into the validators.
The number of examples run is printed at the end of the session.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exsdk.errors import InvalidOrderInput, SdkError
from exsdk.models import Balances, CcxtOrder, CcxtTrade, Fee, MarketLimits, Position
from exsdk.orders_text import parse_orders

from .rel_support import FUZZ_COUNTS

FEE = {"cost": 0.0123, "currency": "USDT", "rate": 0.0004}
TRADE = {
    "id": "28457", "order": "100234", "symbol": "ETH/USDT:USDT", "side": "buy",
    "type": "limit", "takerOrMaker": "taker", "price": 2000.5, "amount": 0.01,
    "cost": 20.005, "fee": FEE, "fees": [FEE], "timestamp": 1700000000000,
    "datetime": "2023-11-14T22:13:20.000Z", "info": {"id": 28457},
}  # fmt: skip
ORDER = {
    "id": "100234", "clientOrderId": "xrun1-1-0", "symbol": "ETH/USDT:USDT", "side": "buy",
    "type": "limit", "status": "open", "price": 2000.5, "amount": 0.02, "filled": 0.01,
    "remaining": 0.01, "cost": 20.005, "average": 2000.5, "timestamp": 1700000000000,
    "lastTradeTimestamp": 1700000000500, "reduceOnly": False, "timeInForce": "GTC",
    "fee": None, "fees": [FEE], "trades": [TRADE], "info": {"orderId": 100234},
}  # fmt: skip
POSITION = {
    "symbol": "ETH/USDT:USDT", "side": "long", "contracts": 0.5, "contractSize": 1,
    "entryPrice": 2000.0, "markPrice": 2001.0, "notional": 1000.5, "leverage": 20,
    "unrealizedPnl": 0.5, "timestamp": 1700000000000, "info": {"positionAmt": "0.5"},
}  # fmt: skip
MARKET = {
    "id": "ETHUSDT", "symbol": "ETH/USDT:USDT", "base": "ETH", "quote": "USDT",
    "type": "swap", "spot": False, "swap": True, "contract": True, "linear": True,
    "precision": {"amount": 0.001, "price": 0.01},
    "limits": {"amount": {"min": 0.001, "max": 10000}, "cost": {"min": 20, "max": None},
               "price": {"min": 0.01, "max": 1000000}, "market": {"min": 0.001, "max": 2000}},
    "taker": 0.0004, "maker": 0.0002, "info": {"filters": []},
}  # fmt: skip
BALANCE = {
    "info": {}, "free": {"USDT": 100.0, "ETH": 0.5}, "used": {"USDT": 1.0, "ETH": 0},
    "total": {"USDT": 101.0, "ETH": 0.5}, "USDT": {"free": 100.0, "used": 1.0, "total": 101.0},
}  # fmt: skip

BUILDERS: dict[str, tuple[Callable[[Any], Any], dict[str, Any]]] = {
    "CcxtOrder": (CcxtOrder.from_ccxt, ORDER),
    "CcxtTrade": (CcxtTrade.from_ccxt, TRADE),
    "Fee": (Fee.from_ccxt, FEE),
    "Position": (Position.from_ccxt, POSITION),
    "MarketLimits": (MarketLimits.from_ccxt, MARKET),
    "Balances": (Balances.from_ccxt, BALANCE),
}

_weird_numbers = st.one_of(
    st.sampled_from(
        [
            math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 0.0, -0.0, 2**63, -(2**63),
            10**40, -1, True, False, Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
            Decimal("1e-1000"), Decimal("9e999999"),
        ]
    ),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True),
)  # fmt: skip
_weird_text = st.one_of(
    st.sampled_from(
        [
            "", " ", "NaN", "nan", "-Infinity", "inf", "1e400", "1e-400", "0x10", "1_000",
            "١٢٣", "12,5", "--1", "None", "null", "true", "buy ", "BUY", "open\x00",
            "9" * 400, "2023-13-45T99:99:99Z", "<html>", "{}", "[]",
        ]
    ),
    st.text(max_size=20),
    st.binary(max_size=8),
)  # fmt: skip
_leaf = st.one_of(st.none(), _weird_numbers, _weird_text)
_garbage = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """A valid ccxt structure with some fields dropped, retyped or replaced by garbage,
    nested one level down too; sometimes not a dict at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(_garbage)
    out: dict[Any, Any] = {}
    for key, value in base.items():
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "garbage", "nest"]))
        if action == "keep":
            out[key] = value
        elif action == "garbage":
            out[key] = draw(_garbage)
        elif action == "nest" and isinstance(value, dict):
            out[key] = draw(mutated(value))
        elif action == "nest":
            out[key] = [value, draw(_garbage)]
    for _ in range(draw(st.integers(0, 2))):
        out[draw(st.text(max_size=12))] = draw(_garbage)
    return out


def _count(name: str) -> None:
    FUZZ_COUNTS[name] = FUZZ_COUNTS.get(name, 0) + 1


def _only_sdk_errors(name: str, data: Any) -> None:
    build, _ = BUILDERS[name]
    _count(f"from_ccxt {name}")
    try:
        build(data)
    except SdkError as exc:
        assert str(exc).strip()


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(mutated(ORDER))
def test_fuzz_order(data: Any) -> None:
    _only_sdk_errors("CcxtOrder", data)


@_SETTINGS
@given(mutated(TRADE))
def test_fuzz_trade(data: Any) -> None:
    _only_sdk_errors("CcxtTrade", data)


@_SETTINGS
@given(mutated(FEE))
def test_fuzz_fee(data: Any) -> None:
    _only_sdk_errors("Fee", data)


@_SETTINGS
@given(mutated(POSITION))
def test_fuzz_position(data: Any) -> None:
    _only_sdk_errors("Position", data)


@_SETTINGS
@given(mutated(MARKET))
def test_fuzz_market(data: Any) -> None:
    _only_sdk_errors("MarketLimits", data)


@_SETTINGS
@given(mutated(BALANCE))
def test_fuzz_balances(data: Any) -> None:
    _only_sdk_errors("Balances", data)


def test_valid_bases_parse() -> None:
    """The unmutated structures are valid: the fuzz starts from real shapes."""
    for build, base in BUILDERS.values():
        build(base)


DEFAULT_ORDERS = (
    Path(__file__).resolve().parents[2] / "examples" / "default_orders.txt"
).read_text()
LINES = DEFAULT_ORDERS.splitlines()


@st.composite
def order_text(draw: st.DrawFn) -> str:
    """The seed's order lines, cut, spliced, duplicated and sprinkled with garbage."""
    lines = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=4))
    out = []
    for line in lines:
        tokens = line.split(" ")
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, len(tokens) - 1))
            op = draw(st.sampled_from(["drop", "dup", "garble", "value", "swap"]))
            if op == "drop":
                tokens.pop(i)
            elif op == "dup":
                tokens.insert(i, tokens[i])
            elif op == "garble":
                tokens[i] = draw(st.text(max_size=12))
            elif op == "value" and "=" in tokens[i]:
                key = tokens[i].split("=", 1)[0]
                value = draw(
                    st.one_of(
                        _weird_text.filter(lambda v: isinstance(v, str)), _weird_numbers.map(str)
                    )
                )
                tokens[i] = f"{key}={value}"
            elif op == "swap":
                j = draw(st.integers(0, len(tokens) - 1))
                tokens[i], tokens[j] = tokens[j], tokens[i]
            if not tokens:
                break
        out.append(" ".join(tokens))
    sep = draw(st.sampled_from(["\n", "\r\n", "\n\n", " "]))
    return sep.join(out)


@settings(max_examples=500, deadline=None)
@given(st.one_of(order_text(), st.text(max_size=300)))
def test_fuzz_order_text(text: str) -> None:
    _count("parse_orders")
    try:
        parse_orders(text)
    except InvalidOrderInput as exc:
        assert str(exc).strip()
