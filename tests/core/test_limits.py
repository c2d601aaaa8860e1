"""Quantizing, minimal orders, and the environment policy against real Binance markets."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exsdk.errors import InvalidOrderInput
from exsdk.limits import (
    DEFAULT_POLICIES,
    Action,
    Environment,
    EnvironmentPolicy,
    SizedOrder,
    apply_policy,
    market_limits_from_ccxt,
    minimal_order_amount,
    notional,
    quantize_amount,
    quantize_price,
)
from exsdk.models import MarketLimits, Order
from exsdk.orders_text import load_orders
from exsdk.universe import DEFAULT_UNIVERSE

from .helpers import EXAMPLES, futures_exchange, load_sample

D = Decimal

# Plausible prices on 2022-08-05, the DEFAULT_ORDERS' date.
PRICES = {
    "ETH": D("1650.37"),
    "BTC": D("23250.1"),
    "EOS": D("1.321"),
    "SOL": D("40.12"),
    "LINK": D("8.213"),
    "DOGE": D("0.06851"),
    "ADA": D("0.5049"),
    "AVAX": D("24.93"),
    "BNB": D("325.4"),
}


def _limits(step: str = "0.001", **kw: Any) -> MarketLimits:
    values: dict[str, Any] = {
        "symbol": "ETH/USDT:USDT",
        "market_id": "ETHUSDT",
        "base": "ETH",
        "quote": "USDT",
        "market_type": "swap",
        "amount_step": D(step),
        "price_tick": D("0.01"),
        "amount_min": D("0.001"),
        "cost_min": D("5"),
    }
    values.update(kw)
    return MarketLimits(**values)


def _orders() -> list[Order]:
    return load_orders(EXAMPLES / "default_orders.txt")


def _setup(exchange: Any, futures: bool) -> list[tuple[Order, MarketLimits, Decimal]]:
    limits = market_limits_from_ccxt(exchange.markets)
    out = []
    for order in _orders():
        asset = DEFAULT_UNIVERSE.resolve(order.asset_id)
        symbol = asset.futures_symbol if futures else asset.spot_symbol
        out.append((order, limits[symbol], PRICES[asset.base]))
    return out


@pytest.fixture(params=["futures_2021", "futures_2025", "spot_2024"])
def default_orders_on_venue(
    request: pytest.FixtureRequest,
) -> list[tuple[Order, MarketLimits, Decimal]]:
    exchange = request.getfixturevalue(request.param)
    return _setup(exchange, futures=request.param.startswith("futures"))


# --- the policy table on the real snapshots ---------------------------------------------


def test_local_forces_every_default_order_to_the_minimal_valid_order(
    default_orders_on_venue: list[tuple[Order, MarketLimits, Decimal]],
) -> None:
    for order, limits, price in default_orders_on_venue:
        sized = apply_policy(limits, order.diff_num_shares, price, Environment.LOCAL)
        assert not sized.rejected and not sized.empty
        assert (sized.amount > 0) == (order.diff_num_shares > 0), limits.symbol
        assert sized.amount % limits.amount_step == 0, limits.symbol
        size = abs(sized.amount)
        assert limits.amount_min is not None and limits.cost_min is not None
        assert size >= limits.amount_min
        assert size * price >= limits.cost_min
        # ... and the smallest such: one step less breaks a minimum.
        smaller = size - limits.amount_step
        assert smaller < limits.amount_min or smaller * price < limits.cost_min
        assert size == minimal_order_amount(limits, price)


def test_preprod_sends_large_orders_as_given_and_raises_small_ones(
    default_orders_on_venue: list[tuple[Order, MarketLimits, Decimal]],
) -> None:
    seen_below = seen_above = False
    for order, limits, price in default_orders_on_venue:
        sized = apply_policy(limits, order.diff_num_shares, price, Environment.PREPROD)
        minimal = minimal_order_amount(limits, price)
        quantized = quantize_amount(limits, order.diff_num_shares)
        if abs(quantized) >= minimal:
            seen_above = True
            assert sized == SizedOrder(quantized, Action.SEND_AS_GIVEN, None, False)
        else:
            seen_below = True
            assert sized.below_minimum and sized.action is Action.RAISE_TO_MINIMUM
            assert sized.amount == (minimal if order.diff_num_shares > 0 else -minimal)
            assert sized.reason and limits.symbol in sized.reason
    assert seen_above and seen_below


def test_prod_rejects_small_orders_with_a_clear_reason(
    default_orders_on_venue: list[tuple[Order, MarketLimits, Decimal]],
) -> None:
    rejected = []
    for order, limits, price in default_orders_on_venue:
        sized = apply_policy(limits, order.diff_num_shares, price, Environment.PROD)
        if sized.rejected:
            rejected.append(limits.base)
            assert sized.amount == 0 and sized.below_minimum and not sized.empty
            assert sized.reason is not None
            for part in (limits.symbol, str(order.diff_num_shares), "notional", "venue minimum"):
                assert part in sized.reason
            assert limits.cost_min is not None
            assert f"cost.min {limits.cost_min.normalize():f}" in sized.reason
        else:
            assert sized.amount == quantize_amount(limits, order.diff_num_shares)
    # ADA -0.07 at ~0.50 is a 0.035 USDT order: below every venue's minimum.
    assert "ADA" in rejected


def test_ada_in_prod_reason_text(futures_2021: Any) -> None:
    limits = market_limits_from_ccxt(futures_2021.markets)["ADA/USDT:USDT"]
    sized = apply_policy(limits, D("-0.07"), PRICES["ADA"], Environment.PROD)
    assert sized.reason == (
        "ADA/USDT:USDT: -0.07 (on the grid 0, notional 0 USDT at 0.5049) is below the venue "
        "minimum; venue minimum: amount 10 (amount.min 1, step 1, cost.min 5 USDT)"
    )


def test_hnt_and_ape_markets(futures_2021: Any, futures_2025: Any) -> None:
    hnt = market_limits_from_ccxt(futures_2021.markets)["HNT/USDT:USDT"]
    assert (hnt.amount_step, hnt.price_tick, hnt.cost_min) == (D(1), D("0.001"), D(5))
    ape = market_limits_from_ccxt(futures_2025.markets)["APE/USDT:USDT"]
    assert (ape.amount_step, ape.price_tick, ape.cost_min) == (D(1), D("0.0001"), D(5))
    assert minimal_order_amount(hnt, D("13.2")) == D(1)
    assert minimal_order_amount(ape, D("0.4")) == D(13)


def test_offline_markets_match_the_derived_load_markets_file(
    futures_2021: Any, futures_2025: Any, spot_2024: Any
) -> None:
    derived = load_sample("ccxt_4.5.90_parsed_markets_from_samples.json")
    pairs = [
        (futures_2021, "from futures_exchange_info_2021-09_selected_with_hntusdt.json"),
        (futures_2025, "from futures_exchange_info_2025-11_selected.json"),
        (spot_2024, "from spot_exchange_info_2024-09_selected.json"),
    ]
    for exchange, key in pairs:
        limits = market_limits_from_ccxt(exchange.markets)
        assert set(limits) == set(derived[key])
        for symbol, expected in derived[key].items():
            got = limits[symbol]
            assert got.amount_step == Decimal(str(expected["precision"]["amount"]))
            assert got.price_tick == Decimal(str(expected["precision"]["price"]))
            assert got.cost_min == Decimal(str(expected["limits"]["cost"]["min"]))
            assert got.amount_min == Decimal(str(expected["limits"]["amount"]["min"]))


# --- quantizing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "amount", "expected"),
    [
        ("0.001", "0.1239", "0.123"),
        ("0.001", "-0.1239", "-0.123"),
        ("0.001", "0.0009", "0"),
        ("1", "6052.094", "6052"),
        ("0.00001", "0.011119", "0.01111"),
        ("0.1", "1E+3", "1000"),
        ("5", "17", "15"),
    ],
)
def test_quantize_amount_truncates(step: str, amount: str, expected: str) -> None:
    got = quantize_amount(_limits(step), D(amount))
    assert got == D(expected) and isinstance(got, Decimal)


@pytest.mark.parametrize(
    ("tick", "price", "expected"),
    [
        ("0.01", "1650.375", "1650.38"),
        ("0.1", "23250.149", "23250.1"),
        ("0.05", "123.475", "123.5"),
    ],
)
def test_quantize_price_rounds(tick: str, price: str, expected: str) -> None:
    assert quantize_price(_limits(price_tick=D(tick)), D(price)) == D(expected)


@settings(max_examples=200, deadline=None)
@given(
    symbol=st.sampled_from(["BTC/USDT:USDT", "DOGE/USDT:USDT", "ETH/USDT:USDT", "AVAX/USDT:USDT"]),
    amount=st.decimals(min_value=D("0.000001"), max_value=D(10**6), places=6),
)
def test_quantize_amount_agrees_with_ccxt(symbol: str, amount: Decimal) -> None:
    exchange = _futures_2021()
    limits = MarketLimits.from_ccxt(exchange.markets[symbol])
    ours = quantize_amount(limits, amount)
    assume(ours > 0)  # ccxt raises InvalidOrder for amounts that truncate to zero
    assert ours == D(exchange.amount_to_precision(symbol, str(amount)))
    assert quantize_amount(limits, -amount) == -ours
    assert 0 <= amount - ours < limits.amount_step
    price = amount  # any positive number will do as a price
    if quantize_price(limits, price) > 0:  # ccxt raises for prices that round to zero
        assert quantize_price(limits, price) == D(exchange.price_to_precision(symbol, str(price)))


@functools.cache
def _futures_2021() -> Any:
    # Hypothesis runs the test body many times; a function-scoped fixture would not do.
    return futures_exchange("futures_exchange_info_2021-09_selected_with_hntusdt.json")


def test_quantize_has_no_signed_zero() -> None:
    assert str(quantize_amount(_limits(), D("-0.0004"))) == "0"


def test_quantize_refuses_non_finite() -> None:
    with pytest.raises(InvalidOrderInput):
        quantize_amount(_limits(), D("NaN"))
    with pytest.raises(InvalidOrderInput):
        quantize_price(_limits(), D("Infinity"))


# --- minimal orders --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "price", "expected"),
    [
        ({"amount_min": None, "cost_min": None}, "1650", "0.001"),  # the step is the floor
        ({}, "1650", "0.004"),  # 5 / 1650 = 0.00303 -> up to 0.004
        ({"amount_min": D("0.01")}, "1650", "0.01"),
        ({"cost_min": D("100")}, "23250.1", "0.005"),  # BTC 2025: 0.0043 -> 0.005
        ({"cost_min": D("5")}, "5000", "0.001"),  # exactly 5: amount.min suffices
        ({"cost_min": D("5"), "contract_size": D(10)}, "100", "0.005"),
    ],
)
def test_minimal_order_amount(kw: dict[str, Any], price: str, expected: str) -> None:
    assert minimal_order_amount(_limits(**kw), D(price)) == D(expected)


@settings(max_examples=300, deadline=None)
@given(
    step=st.sampled_from(["1", "0.1", "0.001", "0.00001", "5"]),
    amount_min=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=3)),
    cost_min=st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=2)),
    price=st.decimals(min_value=D("0.00001"), max_value=D(100000), places=5),
)
def test_minimal_order_is_the_smallest_valid_amount(
    step: str, amount_min: Decimal | None, cost_min: Decimal | None, price: Decimal
) -> None:
    assume(price > 0)
    limits = _limits(step, amount_min=amount_min, cost_min=cost_min)
    minimal = minimal_order_amount(limits, price)
    floor = amount_min if amount_min else D(step)
    assert minimal % D(step) == 0
    assert minimal >= floor
    assert minimal * price >= (cost_min or 0)
    below = minimal - D(step)
    assert below < floor or below * price < (cost_min or 0)


def test_minimal_order_refuses_bad_price() -> None:
    with pytest.raises(InvalidOrderInput, match="price must be a positive number"):
        minimal_order_amount(_limits(), D(0))


# --- apply_policy edge cases -----------------------------------------------------------


def test_default_policy_table() -> None:
    assert DEFAULT_POLICIES[Environment.LOCAL] == EnvironmentPolicy(
        Action.RAISE_TO_MINIMUM, Action.FORCE_TO_MINIMUM
    )
    assert DEFAULT_POLICIES[Environment.PREPROD] == EnvironmentPolicy(
        Action.RAISE_TO_MINIMUM, Action.SEND_AS_GIVEN
    )
    assert DEFAULT_POLICIES[Environment.PROD] == EnvironmentPolicy(
        Action.REJECT, Action.SEND_AS_GIVEN
    )
    assert [a.value for a in Action] == [
        "raise-to-minimum", "force-to-minimum", "send-as-given", "reject",
    ]  # fmt: skip


def test_truncating_to_zero_in_prod_is_a_rejection() -> None:
    sized = apply_policy(_limits(), D("0.0004"), D(1650), Environment.PROD)
    assert sized.rejected and sized.below_minimum and sized.amount == 0
    assert "on the grid 0" in (sized.reason or "")


def test_zero_input_is_empty_everywhere() -> None:
    for env in Environment:
        sized = apply_policy(_limits(), D(0), D(1650), env)
        assert sized.empty and not sized.rejected and not sized.below_minimum


def test_local_sells_keep_their_sign() -> None:
    assert apply_policy(_limits(), D("-5"), D(1650), Environment.LOCAL).amount == D("-0.004")
    assert apply_policy(_limits(), D("-0.0001"), D(1650), Environment.LOCAL).amount == D("-0.004")


def test_local_at_exactly_the_minimum_has_no_reason() -> None:
    sized = apply_policy(_limits(), D("0.004"), D(1650), Environment.LOCAL)
    assert sized == SizedOrder(D("0.004"), Action.FORCE_TO_MINIMUM, None, False)


def test_notional_uses_contract_size() -> None:
    assert notional(_limits(contract_size=D(10)), D("-2"), D(3)) == D(60)


def test_custom_policies() -> None:
    strict = {
        Environment.LOCAL: EnvironmentPolicy(Action.REJECT, Action.REJECT),
        Environment.PROD: EnvironmentPolicy(Action.SEND_AS_GIVEN, Action.RAISE_TO_MINIMUM),
    }
    sized = apply_policy(_limits(), D(1), D(1650), Environment.LOCAL, strict)
    assert sized.rejected and not sized.below_minimum
    assert "rejected by policy" in (sized.reason or "")
    small = apply_policy(_limits(), D("0.0021"), D(1650), Environment.PROD, strict)
    assert small.amount == D("0.002") and small.below_minimum
    assert small.action is Action.SEND_AS_GIVEN and "sent as given" in (small.reason or "")
    large = apply_policy(_limits(), D("1.2345"), D(1650), Environment.PROD, strict)
    assert large == SizedOrder(D("1.234"), Action.RAISE_TO_MINIMUM, None, False)
    with pytest.raises(InvalidOrderInput, match="no policy"):
        apply_policy(_limits(), D(1), D(1650), Environment.PREPROD, strict)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=D(-1000), max_value=D(1000), places=5),
    price=st.decimals(min_value=D("0.01"), max_value=D(50000), places=2),
    env=st.sampled_from(list(Environment)),
)
def test_policy_outcomes_are_on_the_grid_and_keep_the_sign(
    amount: Decimal, price: Decimal, env: Environment
) -> None:
    limits = _limits()
    sized = apply_policy(limits, amount, price, env)
    assert sized.amount % limits.amount_step == 0
    assert sized.amount * amount >= 0  # never flips the sign
    if amount == 0:
        assert sized.empty
    elif env is Environment.PROD:
        # prod never raises a small order: it is rejected, or sent as given when large.
        assert sized.rejected == sized.below_minimum
        if not sized.rejected:
            assert sized.amount == quantize_amount(limits, amount)
    else:
        # local and preprod always send at least the minimal valid order.
        assert abs(sized.amount) >= minimal_order_amount(limits, price)
