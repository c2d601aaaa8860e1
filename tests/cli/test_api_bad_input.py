"""Bad input at the Python API: ``InvalidOrderInput`` before any pacer wait or any request.

The bundled simulator runs over HTTP on loopback; its request log must stay empty for
every refused call, and the adapter's order pacer must not have counted a slot. Secrets:
ccxt's ``verbose`` (which prints API key headers and signatures to stdout) is refused, and
no error message carries a request signature.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import exsdk.simulator
from exsdk.adapter import Venue
from exsdk.adapter.ccxt_adapter import CcxtAdapter
from exsdk.adapter.credentials import Credentials
from exsdk.adapter.pacing import RequestCost, Ticket
from exsdk.broker import Broker, WallClock
from exsdk.errors import InvalidOrderInput, SdkError, TransientVenueError
from exsdk.journal import Journal
from exsdk.limits import Environment
from exsdk.orders_text import load_orders
from exsdk.registry import get_adapter

from .conftest import DEFAULT_ORDERS


@pytest.fixture
async def venue() -> AsyncIterator[Any]:
    async with exsdk.simulator.SimulatedBinance(seed=7) as sim:
        yield sim


def _adapter(venue: Any, **options: Any) -> CcxtAdapter:
    adapter = get_adapter(
        "binance-futures",
        venue=Venue.SIM,
        base_url=venue.base_url,
        credentials=Credentials(venue=Venue.SIM, api_key=venue.api_key, secret=venue.secret),
        markets_cache=False,
        ccxt_options={"enableRateLimit": False, **options},
    )
    assert isinstance(adapter, CcxtAdapter)
    return adapter


GOOD = {
    "symbol": "ETH/USDT:USDT",
    "order_type": "limit",
    "side": "buy",
    "amount": Decimal("0.01"),
    "price": Decimal("2000"),
    "client_order_id": "xapitest-0-0",
}
# (what changes in a good create_order call, what the message says)
CREATE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "amount-nan": ({"amount": Decimal("NaN")}, "amount must be a finite number"),
    "amount-snan": ({"amount": Decimal("sNaN")}, "amount must be a finite number"),
    "amount-infinity": ({"amount": Decimal("Infinity")}, "amount must be a finite number"),
    "amount-1e400": ({"amount": Decimal("1e400")}, "amount 1.000e+400 is out of range"),
    "amount-str": ({"amount": "0.01"}, "amount must be a Decimal, not str"),
    "amount-float": ({"amount": 0.01}, "amount must be a Decimal, not float"),
    "amount-zero": ({"amount": Decimal(0)}, "amount must be positive"),
    "amount-negative": ({"amount": Decimal("-1")}, "amount must be positive"),
    "price-nan": ({"price": Decimal("NaN")}, "price must be a finite number"),
    "price-infinity": ({"price": Decimal("-Infinity")}, "price must be a finite number"),
    "price-str": ({"price": "2000"}, "price must be a Decimal, not str"),
    "price-missing": ({"price": None}, "needs a positive price"),
    "side-hold": ({"side": "hold"}, "side 'hold' is not 'buy' or 'sell'"),
    "side-none": ({"side": None}, "side None is not 'buy' or 'sell'"),
    "type-stop": ({"order_type": "stop"}, "order type 'stop' is not"),
    "symbol-none": ({"symbol": None}, "symbol must be a str, not NoneType"),
    "symbol-empty": ({"symbol": ""}, "symbol '' must be 1 to 100 printable characters"),
    "type-int": ({"order_type": 1}, "order type must be a str, not int"),
    "reduce-only-str": ({"reduce_only": "no"}, "reduce_only must be True or False"),
    "client-id-int": ({"client_order_id": 5}, "client_order_id must be a str, not int"),
    "client-id-spaces": ({"client_order_id": "a b"}, "client order id"),
}


@pytest.mark.parametrize("case", sorted(CREATE_CASES))
async def test_create_order_refuses_before_any_wait_or_send(venue: Any, case: str) -> None:
    change, message = CREATE_CASES[case]
    adapter = _adapter(venue)
    acquired: list[int] = []
    real_acquire = adapter.pacer.acquire

    async def counting_acquire(cost: RequestCost | None = None) -> Ticket:
        acquired.append(1)
        return await real_acquire(cost)

    adapter.pacer.acquire = counting_acquire  # type: ignore[method-assign]
    try:
        with pytest.raises(InvalidOrderInput) as info:
            await adapter.create_order(**{**GOOD, **change})
    finally:
        await adapter.close()
    assert message in str(info.value)
    assert acquired == [], "a pacer slot was taken for bad input"
    assert venue.admin.request_log() == [], "a request reached the venue"


async def _broker(venue: Any, tmp_path: Path) -> tuple[Broker, Journal, CcxtAdapter]:
    adapter = _adapter(venue)
    journal = Journal.open(tmp_path / "j.sqlite")
    broker = Broker(adapter, Environment.LOCAL, journal, WallClock(), run_id="apitest")
    return broker, journal, adapter


SUBMIT_CASES: dict[str, tuple[Any, str]] = {
    "none": (None, "a sequence of Order, not NoneType"),
    "dict": ([{"order_id": 0}], "item 0 is a dict, not an Order"),
    "one-order-not-in-a-list": ("ORDER", "a sequence of Order, not Order"),
    "a-str": ("orders.txt", "a sequence of Order, not str"),
    "mixed": ("MIXED", "item 1 is a str, not an Order"),
}


@pytest.mark.parametrize("case", sorted(SUBMIT_CASES))
async def test_submit_orders_refuses_what_is_not_orders(
    venue: Any, tmp_path: Path, case: str
) -> None:
    value, message = SUBMIT_CASES[case]
    order = load_orders(DEFAULT_ORDERS)[0]
    if value == "ORDER":
        value = order
    elif value == "MIXED":
        value = [order, "Order: order_id=1"]
    broker, journal, adapter = await _broker(venue, tmp_path)
    try:
        with pytest.raises(InvalidOrderInput) as info:
            await broker.submit_orders(value)
        assert journal.run_ids() == [], "the run was journaled for bad input"
    finally:
        journal.close()
        await adapter.close()
    assert message in str(info.value)
    assert venue.admin.request_log() == []


async def test_submit_orders_of_nothing_is_nothing(venue: Any, tmp_path: Path) -> None:
    broker, journal, adapter = await _broker(venue, tmp_path)
    try:
        assert await broker.submit_orders([]) == []
    finally:
        journal.close()
        await adapter.close()
    assert venue.admin.request_log() == []


@pytest.mark.parametrize("key", ["verbose"])
async def test_options_that_print_secrets_are_refused(
    venue: Any, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SdkError, match=rf"ccxt_options\['{key}'\] makes ccxt print"):
        _adapter(venue, **{key: True})
    # False is harmless and stays accepted.
    await _adapter(venue, **{key: False}).close()
    assert capsys.readouterr().out == ""
    assert venue.admin.request_log() == []


async def test_no_signature_in_errors_of_signed_requests_lost_in_transit(venue: Any) -> None:
    """A signed GET that fails in transit: ccxt names it by its URL, signature and all."""
    adapter = _adapter(venue)
    try:
        await adapter.load_markets()
        await venue.stop()  # the port closes: the next request is refused
        with pytest.raises(TransientVenueError) as info:
            await adapter.fetch_balances()
    finally:
        await adapter.close()
    text = str(info.value)
    assert "/fapi/" in text, text  # the request is still named
    assert "signature=***" in text or "signature" not in text, text
    assert not re.search(r"signature=[0-9a-f]{16,}", text), text
    assert not re.search(r"signature=[0-9a-f]{16,}", info.value.body or "")


def _chain(*errors: BaseException) -> BaseException:
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


SIGNED = "binanceusdm GET http://127.0.0.1:9/fapi/v3/account?timestamp=1&signature=" + "ab" * 32


@pytest.mark.parametrize(
    ("inner", "cause"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), "connection refused"),
        (TimeoutError(), "timed out"),
        (__import__("socket").gaierror(-2, "Name or service not known"), "DNS lookup failed"),
        (__import__("ssl").SSLError(1, "[SSL: WRONG_VERSION_NUMBER]"), "TLS handshake failed"),
    ],
)
def test_error_lines_name_the_cause_without_the_signature(inner: BaseException, cause: str) -> None:
    import ccxt

    from exsdk.app.diagnosis import explain

    # As the adapter boundary chains them: SDK error <- ccxt's error <- the transport's.
    error = _chain(TransientVenueError(SIGNED), ccxt.RequestTimeout(SIGNED), inner)
    line = explain(error)
    assert f": {cause}" in line, line
    assert "ab" * 16 not in line, line


# ----- every other public entry point: one table ---------------------------------------

HUGE = "X" * 10_000_000  # a 10 MB value must not become a 10 MB error line
ETH = "ETH/USDT:USDT"
UNKNOWN = "NOPE/USDT:USDT"
# (method, keyword arguments, what the line must say). "markets" cases run with the
# markets loaded first (a symbol is known or not only then); the others without, so a
# refusal there costs no request at all, not even the markets.
ADAPTER_CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "create-unknown-symbol": ("create_order", {**GOOD, "symbol": UNKNOWN}, "is not a market"),
    "create-huge-symbol": ("create_order", {**GOOD, "symbol": HUGE}, "must be 1 to 100"),
    "cancel-symbol-int": ("cancel_order", {"symbol": 5, "order_id": "1"}, "must be a str"),
    "cancel-unknown-symbol": ("cancel_order", {"symbol": UNKNOWN, "order_id": "1"}, "not a market"),
    "cancel-id-empty": ("cancel_order", {"symbol": ETH, "order_id": ""}, "order_id '' must be"),
    "cancel-id-int": ("cancel_order", {"symbol": ETH, "order_id": 5}, "must be a str, not int"),
    "cancel-id-huge": ("cancel_order", {"symbol": ETH, "order_id": HUGE}, "1 to 128 printable"),
    "cancel-id-spaces": ("cancel_order", {"symbol": ETH, "order_id": " 12"}, "surrounding"),
    "fetch-order-both-ids": (
        "fetch_order",
        {"symbol": ETH, "order_id": "1", "client_order_id": "c"},
        "exactly one of",
    ),
    "fetch-order-no-id": ("fetch_order", {"symbol": ETH}, "exactly one of"),
    "fetch-order-id-float": ("fetch_order", {"symbol": ETH, "order_id": 1.0}, "not float"),
    "fetch-order-client-id-int": (
        "fetch_order",
        {"symbol": ETH, "client_order_id": 7},
        "client_order_id must be a str",
    ),
    "fetch-order-client-id-venue-rule": (
        "fetch_order",
        {"symbol": ETH, "client_order_id": "a#b"},
        "characters of [.A-Z:/a-z0-9_-]",
    ),
    "fetch-order-unknown-symbol": (
        "fetch_order",
        {"symbol": UNKNOWN, "order_id": "1"},
        "is not a market",
    ),
    "open-orders-symbol-none": ("fetch_open_orders", {"symbol": None}, "must be a str"),
    "open-orders-unknown-symbol": ("fetch_open_orders", {"symbol": UNKNOWN}, "not a market"),
    "orders-since-negative": ("fetch_orders", {"symbol": ETH, "since_ms": -1}, "out of range"),
    "orders-since-ns": ("fetch_orders", {"symbol": ETH, "since_ms": 10**18}, "year 2100"),
    "orders-since-float": ("fetch_orders", {"symbol": ETH, "since_ms": 1.5}, "not float"),
    "orders-unknown-symbol": ("fetch_orders", {"symbol": UNKNOWN}, "is not a market"),
    "trades-id-none": ("fetch_order_trades", {"symbol": ETH, "order_id": None}, "not NoneType"),
    "trades-unknown-symbol": (
        "fetch_order_trades",
        {"symbol": UNKNOWN, "order_id": "1"},
        "is not a market",
    ),
    "positions-one-str": ("fetch_positions", {"symbols": ETH}, "list of str or None, not str"),
    "positions-int-item": ("fetch_positions", {"symbols": [5]}, "symbol must be a str"),
    "positions-unknown": ("fetch_positions", {"symbols": [ETH, UNKNOWN]}, "is not a market"),
    "leverage-nan": ("set_leverage", {"symbol": ETH, "leverage": float("nan")}, "not float"),
    "leverage-inf": ("set_leverage", {"symbol": ETH, "leverage": float("inf")}, "not float"),
    "leverage-decimal": ("set_leverage", {"symbol": ETH, "leverage": Decimal(5)}, "not Decimal"),
    "leverage-str": ("set_leverage", {"symbol": ETH, "leverage": "5"}, "not str"),
    "leverage-bool": ("set_leverage", {"symbol": ETH, "leverage": True}, "not bool"),
    "leverage-zero": ("set_leverage", {"symbol": ETH, "leverage": 0}, "out of range (1 to 1000)"),
    "leverage-huge": ("set_leverage", {"symbol": ETH, "leverage": 10**30}, "out of range"),
    "leverage-unknown-symbol": (
        "set_leverage",
        {"symbol": UNKNOWN, "leverage": 5},
        "is not a market",
    ),
    "book-symbol-bytes": ("best_bid_ask", {"symbol": b"ETH"}, "must be a str, not bytes"),
    "book-unknown-symbol": ("best_bid_ask", {"symbol": UNKNOWN}, "is not a market"),
    "markets-reload-str": ("load_markets", {"reload": "yes"}, "reload must be True or False"),
}


@pytest.mark.parametrize("case", sorted(ADAPTER_CASES))
async def test_every_adapter_method_refuses_before_any_wait_or_send(venue: Any, case: str) -> None:
    method, kwargs, message = ADAPTER_CASES[case]
    adapter = _adapter(venue)
    acquired: list[int] = []
    try:
        if "not a market" in message:
            await adapter.load_markets()
            venue.admin.clear_request_log()
        real_acquire = adapter.pacer.acquire

        async def counting_acquire(cost: RequestCost | None = None) -> Ticket:
            acquired.append(1)
            return await real_acquire(cost)

        adapter.pacer.acquire = counting_acquire  # type: ignore[method-assign]
        with pytest.raises(InvalidOrderInput) as info:
            await getattr(adapter, method)(**kwargs)
    finally:
        await adapter.close()
    line = str(info.value)
    assert message in line, line
    assert f"binance-futures.{method}" in line, line  # where
    assert "\n" not in line and len(line) < 300, line[:300]
    assert acquired == [], "a pacer slot was taken for bad input"
    assert venue.admin.request_log() == [], "a request reached the venue"


def test_the_table_covers_every_public_adapter_method() -> None:
    # A public method added to the interface must come with its bad-input cases here.
    from exsdk.adapter.base import ExchangeAdapter

    public = {
        name
        for name in dir(ExchangeAdapter)
        if not name.startswith("_") and callable(getattr(ExchangeAdapter, name))
    }
    without_arguments = {"close", "fetch_balances", "names"}
    pure = {"symbol_for"}  # computes a string; sends nothing
    covered = {method for method, _, _ in ADAPTER_CASES.values()} | {"create_order"}
    assert public - without_arguments - pure == covered


BROKER_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "environment": ({"environment": "staging"}, "environment 'staging' is not one of local"),
    "run-id-int": ({"run_id": 5}, "run id 5 must be 1-12 characters"),
    "run-id-upper": ({"run_id": "RUN1"}, "run id 'RUN1' must be"),
    "run-id-huge": ({"run_id": HUGE}, "must be 1-12 characters"),
}


@pytest.mark.parametrize("case", sorted(BROKER_CASES))
async def test_broker_construction_refuses_bad_arguments(
    venue: Any, tmp_path: Path, case: str
) -> None:
    change, message = BROKER_CASES[case]
    adapter = _adapter(venue)
    journal = Journal.open(tmp_path / "j.sqlite")
    arguments = {"environment": Environment.LOCAL, "run_id": "apitest", **change}
    try:
        with pytest.raises(InvalidOrderInput) as info:
            Broker(adapter, arguments["environment"], journal, run_id=arguments["run_id"])
    finally:
        journal.close()
        await adapter.close()
    assert message in str(info.value) and "\n" not in str(info.value)
    assert len(str(info.value)) < 300
    assert venue.admin.request_log() == []


@pytest.mark.parametrize("dry_run", [0, 1, "no", None])
async def test_flatten_refuses_a_dry_run_that_is_not_a_bool(
    venue: Any, tmp_path: Path, dry_run: Any
) -> None:
    # dry_run=0 would otherwise send market orders for every position.
    broker, journal, adapter = await _broker(venue, tmp_path)
    try:
        with pytest.raises(InvalidOrderInput, match=r"Broker\.flatten: field 'dry_run'"):
            await broker.flatten(dry_run=dry_run)
    finally:
        journal.close()
        await adapter.close()
    assert venue.admin.request_log() == []
