"""The aiohttp application (request log, faults, then the path's dialect) and SimulatedBinance."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
from aiohttp import web

from exsdk.simulator.admin import ADMIN_PREFIX, Admin, handle_admin
from exsdk.simulator.dialects import Dialect, load_dialects
from exsdk.simulator.exchange_info import DEFAULT_FUTURES_SNAPSHOT, DEFAULT_SPOT_SNAPSHOT
from exsdk.simulator.faults import Fault
from exsdk.simulator.state import (
    DEFAULT_API_KEY,
    DEFAULT_FUTURES_BALANCE,
    DEFAULT_SECRET,
    DEFAULT_THIN,
    REQUEST_LOG_SIZE,
    VenueState,
)

_SECRET_HEADERS = frozenset(
    {"x-mbx-apikey", "x-bapi-api-key", "x-bapi-sign", "authorization", "cookie"}
)


@attrs.frozen
class Request:
    """One request as read off the wire (what a dialect serves)."""

    method: str
    path: str
    raw_query: str
    raw_body: str
    headers: Mapping[str, str]
    params: dict[str, str]


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without any reply (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


class App:
    """Request pipeline: log -> faults -> the path's dialect (rate limit, auth, handler).

    Each dialect owns path prefixes; a path no dialect owns is answered by the first one
    (Binance spot: an empty 404), as the venue did before dialects.
    """

    def __init__(
        self, state: VenueState, admin: Admin, dialects: Sequence[str] | None = None
    ) -> None:
        self.state = state
        self.admin = admin
        self.dialects: list[Dialect] = load_dialects(dialects)
        if not self.dialects:
            raise ValueError("a venue needs at least one dialect")
        for dialect in self.dialects:
            dialect.install(state)
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def dialect_for(self, path: str) -> Dialect:
        """The dialect owning ``path`` (the first dialect when none does)."""
        for dialect in self.dialects:
            if path.startswith(dialect.prefixes):
                return dialect
        return self.dialects[0]

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
        dialect = self.dialect_for(path)
        method = request.method.upper()
        raw_query = request.raw_path.partition("?")[2]
        try:
            raw_body = (await request.read()).decode() if request.can_read_body else ""
        except UnicodeDecodeError:
            reply: web.Response = dialect.bad_encoding()
            return reply
        params = dialect.parse_params(method, raw_query, raw_body)
        self._log(request, method, path, params)
        faults = self.state.faults.on_request(method, path)
        delay = sum(f.seconds for f in faults if f.kind == "latency")
        if delay > 0:
            await asyncio.sleep(delay)
        action: Fault | None = next((f for f in faults if f.kind != "latency"), None)
        if action is not None and action.kind == "reset_before":
            return _drop(request)
        incoming = Request(method, path, raw_query, raw_body, request.headers, params)
        answer = dialect.serve(self.state, incoming, action)
        if answer is None:
            return _drop(request)
        assert isinstance(answer, web.StreamResponse)
        return answer

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
    The request log keeps the last ``request_log_size`` requests. ``dialects`` names the
    protocols served (all of :data:`exsdk.simulator.dialects.DIALECTS` by default: Binance
    spot, Binance USD-M and Bybit v5 share one port, their paths do not collide).
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
        dialects: Sequence[str] | None = None,
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
        self._app = App(self.state, self.admin, dialects)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def protocols(self) -> list[str]:
        """The names of the dialects this venue serves (``binance_spot``, ``bybit_v5``)."""
        return [dialect.name for dialect in self._app.dialects]

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
