"""The aiohttp application: routing, faults, rate limits, auth, and SimulatedBinance."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from exsdk.simulator import auth, errors
from exsdk.simulator.admin import ADMIN_PREFIX, Admin, handle_admin
from exsdk.simulator.errors import BinanceError
from exsdk.simulator.exchange_info import (
    DEFAULT_FUTURES_SNAPSHOT,
    DEFAULT_SPOT_SNAPSHOT,
    MarketKind,
)
from exsdk.simulator.faults import Fault
from exsdk.simulator.routes import Route, build_routes
from exsdk.simulator.state import (
    DEFAULT_API_KEY,
    DEFAULT_FUTURES_BALANCE,
    DEFAULT_SECRET,
    DEFAULT_THIN,
    REQUEST_LOG_SIZE,
    VenueState,
)

HTML_ERROR = (
    "<html><head><title>{status}</title></head><body><h1>{status} Server Error</h1></body></html>"
)
_SECRET_HEADERS = frozenset({"x-mbx-apikey", "authorization", "cookie"})


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=dict(headers or {}),
    )


def _error(err: BinanceError, headers: Mapping[str, str] | None = None) -> web.Response:
    merged = dict(headers or {})
    merged.update(dict(err.headers))
    return _json(err.status, err.body(), merged)


def not_found() -> web.Response:
    """What Binance answers for a path it does not serve: HTTP 404 with an empty body.

    Seen on api.binance.com for the removed ``/api/v3/userDataStream`` (python-binance
    issue #1614, 2025-10: ``404 Not Found``, ``Content-Length: 0``, server nginx); no
    JSON code, so ccxt raises its HTTP-status error and Binance clients their own.
    """
    return web.Response(status=404, body=b"")


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without any reply (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


class App:
    """Request pipeline: log -> faults -> rate limit -> auth -> handler."""

    def __init__(self, state: VenueState, admin: Admin) -> None:
        self.state = state
        self.admin = admin
        self.routes: dict[tuple[str, str], Route] = build_routes()
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is being served (a late, delayed one included)."""
        await self._idle.wait()

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Serve one request (counted in flight until its reply or its drop)."""
        self.in_flight += 1
        self._idle.clear()
        try:
            return await self._dispatch(request)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return await handle_admin(self.admin, request)
        method = request.method.upper()
        raw_query = request.raw_path.partition("?")[2]
        try:
            raw_body = (await request.read()).decode() if request.can_read_body else ""
        except UnicodeDecodeError:
            # Binance reads parameters as UTF-8 text; bytes that are not are illegal chars.
            return _error(errors.illegal_chars_any())
        params: dict[str, str] = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(raw_body, keep_blank_values=True))
        self._log(request, method, path, params)
        faults = self.state.faults.on_request(method, path)
        delay = sum(f.seconds for f in faults if f.kind == "latency")
        if delay > 0:
            await asyncio.sleep(delay)
        action: Fault | None = next((f for f in faults if f.kind != "latency"), None)
        route = self.routes.get((method, path))
        market: MarketKind = "futures" if path.startswith("/fapi") else "spot"
        limiter = self.state.limiters[market]
        is_order = route is not None and route.is_order
        if action is not None:
            if action.kind == "reset_before":
                return _drop(request)
            if action.kind == "http_error":
                return _error(errors.internal_error(action.status))
            if action.kind == "html_error":
                return web.Response(
                    status=action.status,
                    text=HTML_ERROR.format(status=action.status),
                    content_type="text/html",
                )
            if action.kind == "rate_limit":
                # The limit named is the snapshot's (2400 in 2021-09, 6000 since 2022);
                # Retry-After the fault's seconds when it states them (tests keep it short).
                weight = next((w for w in limiter.windows if w.kind == "REQUEST_WEIGHT"), None)
                err = errors.too_much_weight(
                    weight.limit if weight else 1200, math.ceil(action.seconds) or 60
                )
                return _error(err, limiter.headers(False))
            if action.kind == "clock_skew":
                return _error(errors.outside_recv_window())
            if action.kind == "malformed":
                return web.Response(
                    status=action.status,
                    body=action.body.encode(),
                    headers={"Content-Type": action.content_type},
                )
        if route is None:
            return not_found()
        try:
            limiter.admit(route.weight(params), is_order)
            if route.signed:
                auth.check_signed(
                    self.state.keys,
                    request.headers.get("X-MBX-APIKEY"),
                    raw_query,
                    raw_body,
                    params,
                    self.state.clock.now_ms(),
                )
            result = route.handler(self.state, params)
        except BinanceError as err:
            return _error(err, limiter.headers(is_order))
        if action is not None and action.kind == "timeout_unknown":
            status = action.status if action.status in (408, 503) else 408
            return _error(errors.backend_timeout(status), limiter.headers(is_order))
        if action is not None and action.kind == "drop_after_accept":
            return _drop(request)
        return _json(200, result, limiter.headers(is_order))

    def _log(self, request: web.Request, method: str, path: str, params: dict[str, str]) -> None:
        # Secrets never reach the log: the key header is masked, the signature dropped.
        headers = {
            k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in request.headers.items()
        }
        self.state.request_log.append(
            {
                "time": self.state.clock.now_ms(),
                "method": method,
                "path": path,
                "params": {k: v for k, v in params.items() if k != "signature"},
                "headers": headers,
            }
        )


class SimulatedBinance:
    """A Binance-protocol venue (spot + USD-M futures) on 127.0.0.1.

    Use as ``async with SimulatedBinance(seed=7) as venue:`` and point ccxt at
    ``venue.base_url`` with :func:`exsdk.simulator.ccxt_helper.point_ccxt_at`.

    ``spot_snapshot`` / ``futures_snapshot`` choose the exchangeInfo served and enforced
    (a bundled file name, a date prefix such as ``"2021-09"``, or a path; the newest
    bundled one by default). ``tick_seconds`` samples the price process every that many
    wall seconds (never by default); ``clock_speed`` is how fast the venue's clock runs
    against wall time, so prices move per clock second as they do on Binance.
    The request log keeps the last ``request_log_size`` requests.
    """

    def __init__(
        self,
        seed: int = 7,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        secret: str = DEFAULT_SECRET,
        extra_keys: Mapping[str, str] | None = None,
        spot_snapshot: str = DEFAULT_SPOT_SNAPSHOT,
        futures_snapshot: str = DEFAULT_FUTURES_SNAPSHOT,
        spot_balances: Mapping[str, str | Decimal] | None = None,
        futures_balance: str | Decimal = DEFAULT_FUTURES_BALANCE,
        thin_symbols: Sequence[str] = DEFAULT_THIN,
        rate_limits: Mapping[str, int] | None = None,
        tick_seconds: float | None = None,
        clock_speed: float = 1.0,
        request_log_size: int = REQUEST_LOG_SIZE,
    ) -> None:
        keys = {api_key: secret, **(extra_keys or {})}
        self.state = VenueState.create(
            seed=seed,
            keys=keys,
            spot_snapshot=spot_snapshot,
            futures_snapshot=futures_snapshot,
            spot_balances=spot_balances,
            futures_balance=futures_balance,
            thin_symbols=thin_symbols,
            rate_limits=rate_limits,
            clock_speed=clock_speed,
            request_log_size=request_log_size,
        )
        self.api_key = api_key
        self.secret = secret
        self.host = host
        self.port = port
        self.tick_seconds = tick_seconds
        self.admin = Admin(self.state)
        self._app = App(self.state, self.admin)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        return f"http://{self.host}:{self.port}"

    def make_app(self) -> web.Application:
        """The aiohttp application (one catch-all route; dispatch is ours)."""
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._app.dispatch)
        return app

    async def start(self) -> None:
        """Bind the socket (port 0 lets the OS choose) and start serving."""
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and isinstance(server, asyncio.base_events.Server):
            self.port = int(server.sockets[0].getsockname()[1])
        self._runner = runner
        if self.tick_seconds:
            self._ticker = asyncio.create_task(self._auto_tick(self.tick_seconds))

    async def wait_idle(self) -> None:
        """Return once the venue serves no request: one a client gave up on (a latency
        fault past its timeout) is still executed, and tests must see its effect."""
        await self._app.wait_idle()

    async def _auto_tick(self, every: float) -> None:
        # Sampling every ``every`` wall seconds; how far prices move depends only on the
        # clock time that passed (see exsdk.simulator.price_process).
        while True:
            await asyncio.sleep(every)
            self.state.advance_clock()

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimulatedBinance:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


EMBEDDED_TICK_SECONDS = 0.05
"""How often the books of :func:`embedded` move (``exsdk experiment`` uses the same)."""


def embedded(seed: int = 7, **options: Any) -> SimulatedBinance:
    """The venue to embed in a program: ``async with embedded() as venue:``.

    A :class:`SimulatedBinance` whose prices move every :data:`EMBEDDED_TICK_SECONDS` of
    real time (``SimulatedBinance`` itself keeps a still market unless told otherwise,
    which tests and cassette recordings rely on). Point an adapter at ``venue.base_url``
    with the keys ``venue.api_key`` / ``venue.secret``. ``options`` go to
    ``SimulatedBinance`` (``tick_seconds=None`` for a still market).
    """
    options.setdefault("tick_seconds", EMBEDDED_TICK_SECONDS)
    return SimulatedBinance(seed, **options)
