"""Binance spot (``/api``, ``/sapi``, ``/dapi``) and USD-M futures (``/fapi``) dialects.

Parameters are form-encoded in the query and the body; signed endpoints carry
``X-MBX-APIKEY`` and an HMAC ``signature`` over query + body; errors are
``{"code": -N, "msg": ...}`` with the HTTP status Binance uses; every reply carries the
``X-MBX-USED-WEIGHT-*`` (and, for orders, ``X-MBX-ORDER-COUNT-*``) headers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import web

from exsdk.simulator import auth, errors
from exsdk.simulator.dialects import Incoming
from exsdk.simulator.errors import BinanceError
from exsdk.simulator.exchange_info import MarketKind
from exsdk.simulator.faults import Fault
from exsdk.simulator.routes import Route, build_routes
from exsdk.simulator.state import VenueState

__all__ = ["BinanceSpotDialect", "BinanceUsdmDialect", "not_found"]

HTML_ERROR = (
    "<html><head><title>{status}</title></head><body><h1>{status} Server Error</h1></body></html>"
)


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    """A compact JSON reply."""
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=dict(headers or {}),
    )


def _error(err: BinanceError, headers: Mapping[str, str] | None = None) -> web.Response:
    merged = dict(headers or {})
    merged.update(dict(err.headers))
    return json_reply(err.status, err.body(), merged)


def not_found() -> web.Response:
    """What Binance answers for a path it does not serve: HTTP 404 with an empty body.

    Seen on api.binance.com for the removed ``/api/v3/userDataStream`` (python-binance
    issue #1614, 2025-10: ``404 Not Found``, ``Content-Length: 0``, server nginx); no
    JSON code, so ccxt raises its HTTP-status error and Binance clients their own.
    """
    return web.Response(status=404, body=b"")


class _BinanceDialect:
    """The pipeline both Binance markets share: rate limit -> auth -> handler."""

    name: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]]
    market: ClassVar[MarketKind]

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {
            key: route for key, route in build_routes().items() if route.market == self.market
        }

    def install(self, state: VenueState) -> None:
        """Binance's two markets are the core's default ones (built by ``VenueState``)."""

    def parse_params(self, method: str, raw_query: str, raw_body: str) -> dict[str, str]:
        """Query and form body, the body winning (Binance reads both)."""
        params: dict[str, str] = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(raw_body, keep_blank_values=True))
        return params

    def bad_encoding(self) -> web.Response:
        """Binance reads parameters as UTF-8 text; bytes that are not are illegal chars."""
        return _error(errors.illegal_chars_any())

    def serve(self, state: VenueState, request: Incoming, fault: Fault | None) -> Any:
        """Answer one Binance request (``None``: drop the connection)."""
        path, params = request.path, request.params
        route = self.routes.get((request.method, path))
        limiter = state.limiters[self.market]
        is_order = route is not None and route.is_order
        if fault is not None:
            if fault.kind == "http_error":
                return _error(errors.internal_error(fault.status))
            if fault.kind == "html_error":
                return web.Response(
                    status=fault.status,
                    text=HTML_ERROR.format(status=fault.status),
                    content_type="text/html",
                )
            if fault.kind == "rate_limit":
                # The limit named is the snapshot's (2400 in 2021-09, 6000 since 2022);
                # Retry-After the fault's seconds when it states them (tests keep it short).
                weight = next((w for w in limiter.windows if w.kind == "REQUEST_WEIGHT"), None)
                err = errors.too_much_weight(
                    weight.limit if weight else 1200, math.ceil(fault.seconds) or 60
                )
                return _error(err, limiter.headers(False))
            if fault.kind == "clock_skew":
                return _error(errors.outside_recv_window())
            if fault.kind == "malformed":
                return web.Response(
                    status=fault.status,
                    body=fault.body.encode(),
                    headers={"Content-Type": fault.content_type},
                )
        if route is None:
            return not_found()
        try:
            limiter.admit(route.weight(params), is_order)
            if route.signed:
                auth.check_signed(
                    state.keys,
                    request.headers.get("X-MBX-APIKEY"),
                    request.raw_query,
                    request.raw_body,
                    params,
                    state.clock.now_ms(),
                )
            result = route.handler(state, params)
        except BinanceError as err:
            return _error(err, limiter.headers(is_order))
        if fault is not None and fault.kind == "timeout_unknown":
            status = fault.status if fault.status in (408, 503) else 408
            return _error(errors.backend_timeout(status), limiter.headers(is_order))
        if fault is not None and fault.kind == "drop_after_accept":
            return None
        return json_reply(200, result, limiter.headers(is_order))


class BinanceSpotDialect(_BinanceDialect):
    """Binance spot: ``/api/v3``, the ``/sapi`` plumbing ccxt asks for, ``/dapi`` info."""

    name: ClassVar[str] = "binance_spot"
    prefixes: ClassVar[tuple[str, ...]] = ("/api/", "/sapi/", "/dapi/")
    market: ClassVar[MarketKind] = "spot"


class BinanceUsdmDialect(_BinanceDialect):
    """Binance USD-M futures: ``/fapi``."""

    name: ClassVar[str] = "binance_usdm"
    prefixes: ClassVar[tuple[str, ...]] = ("/fapi/",)
    market: ClassVar[MarketKind] = "futures"
