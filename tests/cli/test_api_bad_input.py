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
    "symbol-none": ({"symbol": None}, "symbol must be a non-empty str"),
    "client-id-int": ({"client_order_id": 5}, "client order id"),
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
