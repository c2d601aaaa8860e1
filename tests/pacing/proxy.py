"""A plain HTTP proxy between an adapter and a venue, written for the pacing tests.

It is not the simulator and knows nothing of it: it forwards every request to a target
URL, can hold a request back before forwarding it (a request that stalls in queues
before it reaches the venue) or hold the venue's answer back (a reply read late), counts
the answers that pass, and can play *another client* of the same account that uses part
of an order limit in every window, answering 429 -1015 like Binance when the two
together would exceed it and stating the combined count in ``X-MBX-ORDER-COUNT-*`` as
Binance does.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import time
from collections.abc import Callable

import aiohttp
import attrs
from aiohttp import web

_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection", "host", "keep-alive"}
)


@attrs.define
class RateLimitOnce:
    """Answer the first request to ``path`` with 429 -1003 and ``Retry-After: seconds``;
    any request before those seconds have passed is answered 418 (banned), as Binance
    escalates, and counted as ``early``."""

    path: str
    seconds: int
    until: float = 0.0
    early: int = 0


@attrs.define
class OtherClient:
    """Another client using ``used`` of ``limit`` orders in every ``seconds`` window."""

    limit: int
    seconds: int
    used: int
    ours: collections.Counter[int] = attrs.field(factory=collections.Counter)

    def label(self) -> str:
        return f"{self.seconds}S"


class PacingProxy:
    """``async with PacingProxy(target) as proxy:`` then point the adapter at ``proxy.url``.

    ``delay(n, method, path)`` gives the seconds to hold the n-th request (from 0) before
    forwarding it, ``reply_delay(n, method, path)`` the seconds to hold its answer before
    passing it on; ``order_path`` is the path of new orders (for ``others``).
    """

    def __init__(
        self,
        target: str,
        *,
        delay: Callable[[int, str, str], float] | None = None,
        reply_delay: Callable[[int, str, str], float] | None = None,
        others: OtherClient | None = None,
        order_path: str = "/fapi/v1/order",
        limit_once: RateLimitOnce | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.delay = delay
        self.reply_delay = reply_delay
        self.others = others
        self.order_path = order_path
        self.limit_once = limit_once
        self.answers: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self._seen = 0
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def count(self, status: int, *, path: str | None = None) -> int:
        """Answers of ``status`` that passed (to ``path`` if given)."""
        return sum(n for (_, p, s), n in self.answers.items() if s == status and path in (None, p))

    async def __aenter__(self) -> PacingProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _refuse(self, others: OtherClient, window: int, now: float) -> web.Response:
        body = {
            "code": -1015,
            "msg": f"Too many new orders; current limit is {others.limit} orders per "
            f"{others.seconds} SECOND.",
        }
        wait = max(1, math.ceil((window + 1) * others.seconds - now))
        return web.Response(
            status=429,
            text=json.dumps(body),
            content_type="application/json",
            headers={"Retry-After": str(wait)},
        )

    def _weight_refused(self, request: web.Request, seconds: int) -> web.Response:
        self.answers[(request.method, request.path, 429)] += 1
        body = {
            "code": -1003,
            "msg": "Too much request weight used; current limit is 2400 request weight per "
            "1 MINUTE. Please use the websocket for live updates to avoid polling the API.",
        }
        return web.Response(
            status=429,
            text=json.dumps(body),
            content_type="application/json",
            headers={"Retry-After": str(seconds)},
        )

    def _banned(self, request: web.Request, left: float) -> web.Response:
        self.answers[(request.method, request.path, 418)] += 1
        body = {"code": -1003, "msg": "Way too much request weight used; IP banned."}
        return web.Response(
            status=418,
            text=json.dumps(body),
            content_type="application/json",
            headers={"Retry-After": str(max(1, math.ceil(left)))},
        )

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        n = self._seen
        self._seen += 1
        is_order = request.method == "POST" and request.path == self.order_path
        body = await request.read()
        once = self.limit_once
        if once is not None:
            now = time.monotonic()
            if now < once.until:
                once.early += 1
                return self._banned(request, once.until - now)
            if not once.until and request.path == once.path:
                once.until = now + once.seconds
                return self._weight_refused(request, once.seconds)
        counted: tuple[OtherClient, int] | None = None
        if is_order and self.others is not None:
            now = time.monotonic()
            window = math.floor(now / self.others.seconds)
            if self.others.ours[window] + self.others.used + 1 > self.others.limit:
                self.answers[(request.method, request.path, 429)] += 1
                return self._refuse(self.others, window, now)
            self.others.ours[window] += 1
            counted = (self.others, window)
        if self.delay is not None:
            held = self.delay(n, request.method, request.path)
            if held > 0:
                await asyncio.sleep(held)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(
            request.method, self.target + request.path_qs, data=body or None, headers=headers
        ) as reply:
            payload = await reply.read()
            out = {k: v for k, v in reply.headers.items() if k.lower() not in _HOP_HEADERS}
            status = reply.status
        if counted is not None:
            others, window = counted
            key = f"X-MBX-ORDER-COUNT-{others.label()}"
            for name in [k for k in out if k.lower() == key.lower()]:
                del out[name]
            out[key] = str(others.ours[window] + others.used)
        self.answers[(request.method, request.path, status)] += 1
        if self.reply_delay is not None:
            held = self.reply_delay(n, request.method, request.path)
            if held > 0:
                await asyncio.sleep(held)
        return web.Response(status=status, body=payload, headers=out)
