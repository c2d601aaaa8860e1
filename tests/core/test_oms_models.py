"""The OMS-side models (Order, ChildOrder, OmsFill) refuse bad values as the SDK's error.

Callers build these models themselves (from code, not from a venue), so a bad value is bad
input: ``InvalidOrderInput``, one line naming the model, the field and the (cut) value,
never pydantic's ``ValidationError``. They stay pydantic models (frozen, JSON both ways).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from exsdk.errors import InvalidOrderInput
from exsdk.models import ChildOrder, OmsFill, Order

T0 = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
ORDER: dict[str, Any] = {
    "order_id": 1,
    "creation_timestamp": T0,
    "asset_id": 1464553467,
    "type_": "price@twap",
    "start_timestamp": T0,
    "end_timestamp": datetime(2025, 11, 3, 12, 5, tzinfo=UTC),
    "curr_num_shares": Decimal(0),
    "diff_num_shares": Decimal("0.5"),
    "tz": "UTC",
}
CHILD: dict[str, Any] = {
    "parent_order_id": 1,
    "asset_id": 1464553467,
    "wave": 0,
    "client_order_id": "xr-1-0",
    "symbol": "ETH/USDT:USDT",
    "side": "buy",
    "order_type": "limit",
    "amount": Decimal("0.5"),
}
FILL: dict[str, Any] = {
    "parent_order_id": 1,
    "asset_id": 1464553467,
    "symbol": "ETH/USDT:USDT",
    "quantity": Decimal("0.5"),
    "price": Decimal(2000),
    "notional": Decimal(1000),
    "fees": {"USDT": Decimal("0.4")},
    "fee_in_quote": Decimal("0.4"),
    "quote": "USDT",
    "num_trades": 1,
}
HUGE = "9" * 1_000_000
# (model, good fields, what changes, the field named, words the line says)
CASES: dict[str, tuple[type[BaseModel], dict[str, Any], dict[str, Any], str, str]] = {
    "order-id-negative": (Order, ORDER, {"order_id": -1}, "order_id", "-1: Input should be"),
    "order-id-over-64-bit": (Order, ORDER, {"order_id": 2**64}, "order_id", "less than or equal"),
    "order-diff-nan": (Order, ORDER, {"diff_num_shares": Decimal("NaN")}, "diff_num_shares", ""),
    "order-diff-str": (Order, ORDER, {"diff_num_shares": "lots"}, "diff_num_shares", "'lots'"),
    "order-diff-huge": (Order, ORDER, {"diff_num_shares": HUGE}, "diff_num_shares", "..."),
    "order-diff-zero": (Order, ORDER, {"diff_num_shares": Decimal(0)}, "diff_num_shares", "zero"),
    "order-naive-time": (
        Order,
        ORDER,
        {"creation_timestamp": datetime(2025, 11, 3, 12, 0)},
        "creation_timestamp",
        "timezone offset",
    ),
    "order-end-first": (
        Order,
        ORDER,
        {"end_timestamp": T0},
        "end_timestamp",
        "2025-11-03T12:00:00+00:00: must be after start_timestamp",
    ),
    "order-missing-tz": (Order, ORDER, {"tz": None}, "tz", "None: Input should be a valid string"),
    "child-amount-negative": (ChildOrder, CHILD, {"amount": Decimal(-1)}, "amount", "-1"),
    "child-wave-negative": (ChildOrder, CHILD, {"wave": -1}, "wave", "greater than or equal"),
    "child-amount-inf": (ChildOrder, CHILD, {"amount": Decimal("Infinity")}, "amount", ""),
    "fill-quantity-str": (OmsFill, FILL, {"quantity": "half"}, "quantity", "'half'"),
    "fill-fees-not-money": (OmsFill, FILL, {"fees": {"USDT": "x"}}, "fees.USDT", "'x'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_values_raise_invalid_order_input_in_one_line(case: str) -> None:
    model, good, change, field, words = CASES[case]
    model(**good)  # the good fields pass
    with pytest.raises(InvalidOrderInput) as info:
        model(**{**good, **change})
    line = str(info.value)
    assert line.startswith(f"{model.__name__}: field '{field}': "), line
    assert words in line and "\n" not in line and len(line) < 300, line[:300]
    assert info.value.field == field


@pytest.mark.parametrize("model", [Order, ChildOrder, OmsFill])
def test_a_missing_field_is_named_with_how_many_more(model: type[BaseModel]) -> None:
    with pytest.raises(InvalidOrderInput, match=rf"^{model.__name__}: field '\w+': missing"):
        model()


def test_they_stay_frozen_pydantic_models() -> None:
    order = Order(**ORDER)
    assert Order.model_validate_json(order.model_dump_json()) == order
    child = ChildOrder(**CHILD)
    assert ChildOrder.model_validate_json(child.model_dump_json()) == child
    with pytest.raises(InvalidOrderInput, match="Order: field 'order_id'"):
        Order.model_validate_json(order.model_dump_json().replace('"order_id":1', '"order_id":-1'))
