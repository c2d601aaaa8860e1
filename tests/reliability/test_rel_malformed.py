"""Malformed venue replies: every adapter call ends in a clear SDK error, never a crash.

The simulator's ``malformed`` fault serves a chosen body (missing fields, wrong types, an
HTML error page, an empty or truncated reply) on one endpoint; each adapter operation
must then raise ``VenueRejected`` or ``TransientVenueError`` (or a subclass), with a
message, and nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import exsdk.simulator
from exsdk.adapter import ExchangeAdapter
from exsdk.errors import TransientVenueError, VenueRejected
from exsdk.journal import Journal

from .rel_support import ADAPTERS, TRADES_PATH, build_adapter, check_invariants, run_twap

# One venue and two adapters for the whole module: hundreds of cells stay fast.
pytestmark = pytest.mark.asyncio(loop_scope="module")

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

# name -> (status, content type, body)
BODIES: dict[str, tuple[int, str, str]] = {
    "empty object": (200, "application/json", "{}"),
    "empty body": (200, "application/json", ""),
    "null": (200, "application/json", "null"),
    "list for object": (200, "application/json", "[1, 2, 3]"),
    "object for list": (200, "application/json", '{"orderId": 1}'),
    "truncated json": (200, "application/json", '{"orderId": 12, "symbol": "ETHU'),
    "wrong types": (
        200,
        "application/json",
        '{"orderId": {"a": 1}, "symbol": 5, "status": [], "price": "abc", "origQty": "NaN",'
        ' "executedQty": "1e999999", "side": 7, "type": null, "updateTime": "soon",'
        ' "bids": "x", "asks": {"1": 2}, "balances": 3, "assets": "none", "positions": 1}',
    ),
    "huge numbers": (
        200,
        "application/json",
        '{"orderId": 1, "symbol": "ETHUSDT", "status": "NEW", "price": "1e400",'
        ' "origQty": "99999999999999999999999999999999999", "executedQty": "-1",'
        ' "side": "BUY", "type": "LIMIT", "updateTime": 99999999999999999999,'
        ' "bids": [["1e400", "1"]], "asks": [["-1", "NaN"]]}',
    ),
    "html 200": (200, "text/html", HTML),
    "html 502": (502, "text/html", HTML),
    "empty 500": (500, "application/json", ""),
    "json without code 400": (400, "application/json", '{"msg": "no code here"}'),
    "binary junk": (200, "application/octet-stream", "\x00\x01\xff\xfe{"),
}

Operation = Callable[[ExchangeAdapter, str], Awaitable[Any]]


async def _create(a: ExchangeAdapter, s: str) -> Any:
    return await a.create_order(
        s, "limit", "buy", Decimal("0.01"), Decimal("1000"), client_order_id="mal-1"
    )


async def _fetch(a: ExchangeAdapter, s: str) -> Any:
    return await a.fetch_order(s, order_id="1")


async def _lookup(a: ExchangeAdapter, s: str) -> Any:
    return await a.fetch_order(s, client_order_id="mal-1")


async def _trades(a: ExchangeAdapter, s: str) -> Any:
    return await a.fetch_order_trades(s, order_id="1")


async def _open(a: ExchangeAdapter, s: str) -> Any:
    return await a.fetch_open_orders(s)


async def _cancel(a: ExchangeAdapter, s: str) -> Any:
    return await a.cancel_order(s, order_id="1")


async def _balance(a: ExchangeAdapter, s: str) -> Any:
    return await a.fetch_balances()


async def _book(a: ExchangeAdapter, s: str) -> Any:
    return await a.best_bid_ask(s)


def _paths(prefix: str, account: str, trades: str) -> dict[str, tuple[str, str, Operation]]:
    order = f"{prefix}/v1/order" if prefix == "/fapi" else f"{prefix}/v3/order"
    v = "v1" if prefix == "/fapi" else "v3"
    return {
        "create": ("POST", order, _create),
        "fetch order": ("GET", order, _fetch),
        "lookup by client id": ("GET", order, _lookup),
        "trades": ("GET", trades, _trades),
        "open orders": ("GET", f"{prefix}/{v}/openOrders", _open),
        "cancel": ("DELETE", order, _cancel),
        "balance": ("GET", account, _balance),
        "order book": ("GET", f"{prefix}/{v}/depth", _book),
    }


ENDPOINTS = {
    "binance-futures": _paths("/fapi", "/fapi/v3/account", "/fapi/v1/userTrades"),
    "binance-spot": _paths("/api", "/api/v3/account", "/api/v3/myTrades"),
}
OPERATIONS = list(ENDPOINTS["binance-futures"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def venue() -> AsyncIterator[Any]:
    async with exsdk.simulator.SimulatedBinance(seed=7) as sim:
        yield sim


@pytest_asyncio.fixture(params=ADAPTERS, scope="module", loop_scope="module")
async def adapter(request: pytest.FixtureRequest, venue: Any) -> AsyncIterator[ExchangeAdapter]:
    async with build_adapter(request.param, venue, ccxt_options={"timeout": 5000}) as built:
        await built.load_markets()
        yield built


# Cells where the adapter boundary still lets a malformed reply through. Strict: a cell
# that starts passing fails here until it is removed from this list.
KNOWN_GAPS: frozenset[tuple[str, str]] = frozenset()
GAP_REASON = "adapter boundary lets this malformed reply through (see KNOWN_GAPS)"


def _cells() -> list[Any]:
    return [
        pytest.param(
            body,
            operation,
            id=f"{body}-{operation}",
            marks=[pytest.mark.xfail(strict=True, reason=GAP_REASON)]
            if (body, operation) in KNOWN_GAPS
            else [],
        )
        for body in BODIES
        for operation in OPERATIONS
    ]


async def _call_served(adapter: ExchangeAdapter, venue: Any, body: str, operation: str) -> Any:
    """Run ``operation`` while its endpoint serves ``body``."""
    method, path, call = ENDPOINTS[adapter.name][operation]
    status, content_type, text = BODIES[body]
    venue.admin.clear_faults()
    venue.admin.inject_fault(
        "malformed", method, path, status=status, body=text, content_type=content_type
    )
    try:
        return await call(adapter, adapter.symbol_for("ETH", "USDT"))
    finally:
        venue.admin.clear_faults()


# Issue 14: an order reply that names the order (``{"orderId": 1}``) is an order the venue
# knows, however bare: accepted, with what the SDK itself sent filled in and marked, and its
# status unknown, which counts as open. Those cells are checked below, not here.
BARE_ORDER_CELLS = frozenset(
    ("object for list", op) for op in ("create", "fetch order", "lookup by client id", "cancel")
)


@pytest.mark.parametrize(
    ("body", "operation"), [c for c in _cells() if tuple(c.values) not in BARE_ORDER_CELLS]
)
async def test_malformed_reply_is_a_clear_error(
    adapter: ExchangeAdapter, venue: Any, body: str, operation: str
) -> None:
    with pytest.raises((VenueRejected, TransientVenueError)) as info:
        await _call_served(adapter, venue, body, operation)
    message = str(info.value)
    assert message.strip() and "\n" not in message


@pytest.mark.parametrize(("body", "operation"), sorted(BARE_ORDER_CELLS))
async def test_a_bare_order_reply_is_that_order_with_unknown_status(
    adapter: ExchangeAdapter, venue: Any, body: str, operation: str
) -> None:
    order = await _call_served(adapter, venue, body, operation)
    assert order.id == "1" and order.status is None and order.is_open
    assert order.symbol == adapter.symbol_for("ETH", "USDT")  # ccxt's, from the request
    if operation == "create":
        assert order.side == "buy" and order.client_order_id == "mal-1"
        assert {"side", "amount", "price", "client_order_id"} <= set(order.from_request)


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("body", ["empty object", "html 200", "empty body"])
async def test_a_garbled_trades_reply_loses_no_fill(name: str, body: str, tmp_path: Path) -> None:
    """ccxt reads some garbage trade lists as "no trades"; the adapter's reply check says
    otherwise, so the broker fetches them again instead of losing the fill."""
    status, content_type, text = BODIES[body]
    async with exsdk.simulator.SimulatedBinance(seed=7) as venue:
        venue.admin.inject_fault(
            "malformed",
            "GET",
            TRADES_PATH[name],
            calls=[1],
            status=status,
            body=text,
            content_type=content_type,
        )
        with Journal.open(tmp_path / "j.sqlite") as journal:
            async with build_adapter(name, venue) as adapter:
                result = await run_twap(adapter, journal, "mal1")
            assert check_invariants(venue, journal, result) == []
            assert result.finished and result.fills
            # The garbled reply is not "no trades": it is a transient error, retried at once
            # (issue 13: a read whose reply is not well-formed is retried).
            assert "TransientVenueError" in set(journal.errors("mal1")["error_class"])
