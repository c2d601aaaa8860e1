"""A transport fault injector of the tests' own: an aiohttp reverse proxy on 127.0.0.1.

It sits between an adapter and a venue (an in-process simulator or an ``exsdk
simulator`` process) and knows nothing of either: it forwards HTTP and breaks some
exchanges the way networks and load balancers do. The simulator's own scripted faults
are not used, so the SDK is judged against faults its authors did not script:

- ``delay_before``: held past the client's timeout, then forwarded (the venue executes a
  request its client gave up on);
- ``reset_before`` / ``reset_after``: the connection dropped before forwarding, or after
  the venue answered;
- ``cut_body``: the venue's status and headers sent, the body cut half-way (the client
  reads a payload error after the headers);
- ``truncated_json``: a complete reply whose JSON body is cut short;
- ``status_502`` / ``status_504``: forwarded, the venue's reply replaced by a gateway
  error page;
- ``late_after_timeout``: forwarded, the reply held past the client's timeout and then
  delivered to a client that is gone.

Which request is faulted is a pure function of the seed, the request (method, path and
parameters without timestamp and signature) and how often that request was seen, so a
run is reproducible whatever the interleaving of concurrent requests.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

__all__ = ["FAULT_KINDS", "FaultProxy", "stats_line"]

FAULT_KINDS: tuple[str, ...] = (
    "delay_before",
    "reset_before",
    "reset_after",
    "cut_body",
    "truncated_json",
    "status_502",
    "status_504",
    "late_after_timeout",
)
_VOLATILE = frozenset({"timestamp", "signature", "recvWindow"})
_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
)
_GATEWAY_PAGE = "<html><head><title>{status}</title></head><body>gateway</body></html>"


class FaultProxy:
    """``async with FaultProxy(target, seed=1, rate=0.2, timeout=0.2) as proxy:``
    then point the adapter at ``proxy.base_url``.

    ``timeout`` is the client's request timeout in seconds: the delays exceed it.
    ``kinds`` limits the faults to some of :data:`FAULT_KINDS`; ``paths`` (prefixes) and
    ``methods`` to some endpoints; ``rate`` may be changed between requests. ``counts``
    holds how many requests passed and how many of each fault.
    """

    def __init__(
        self,
        target: str,
        *,
        seed: int,
        rate: float,
        timeout: float,
        kinds: Sequence[str] = FAULT_KINDS,
        paths: Sequence[str] = ("/",),
        methods: Sequence[str] = ("GET", "POST", "PUT", "DELETE"),
    ) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.target = target.rstrip("/")
        self.seed = seed
        self.rate = rate
        self.timeout = timeout
        self.kinds = tuple(kinds)
        self.paths = tuple(paths)
        self.methods = tuple(methods)
        self.counts: Counter[str] = Counter()
        self._seen: Counter[str] = Counter()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.wait_idle()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def wait_idle(self) -> None:
        """Return once no request is inside the proxy (a delayed one included)."""
        await self._idle.wait()

    @property
    def requests(self) -> int:
        """Requests that reached the proxy."""
        return self.counts["requests"]

    @property
    def faults(self) -> int:
        """Requests that were faulted."""
        return sum(self.counts[k] for k in FAULT_KINDS)

    def _choose(self, method: str, path: str, query: str, body: str) -> str | None:
        if not path.startswith(self.paths) or method not in self.methods or self.rate <= 0:
            return None
        params = sorted(
            (k, v)
            for k, v in parse_qsl(f"{query}&{body}", keep_blank_values=True)
            if k not in _VOLATILE
        )
        key = f"{method} {path} {params}"
        self._seen[key] += 1
        digest = hashlib.sha256(f"{self.seed}|{key}|{self._seen[key]}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        return self.kinds[digest[8] % len(self.kinds)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        self._idle.clear()
        try:
            # Shielded: a client that gives up must not stop a forward in progress (the
            # venue still executes what reached it).
            return await asyncio.shield(self._serve(request))
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        query = request.rel_url.raw_query_string
        fault = self._choose(request.method, request.path, query, body.decode(errors="replace"))
        self.counts["requests"] += 1
        if fault is not None:
            self.counts[fault] += 1
        if fault == "reset_before":
            return self._reset(request)
        if fault == "delay_before":
            await asyncio.sleep(self.timeout * 1.5)
        status, headers, payload = await self._forward(request, body)
        if fault == "reset_after":
            return self._reset(request)
        if fault in ("status_502", "status_504"):
            code = 502 if fault == "status_502" else 504
            return web.Response(
                status=code, text=_GATEWAY_PAGE.format(status=code), content_type="text/html"
            )
        if fault == "truncated_json":
            payload = payload[: max(1, len(payload) // 2)]
        if fault == "late_after_timeout":
            await asyncio.sleep(self.timeout * 1.5)
        if fault == "cut_body":
            return await self._cut(request, status, headers, payload)
        response = web.Response(status=status, body=payload)
        for name, value in headers:
            response.headers.add(name, value)
        return response

    async def _forward(
        self, request: web.Request, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self._session is not None
        url = f"{self.target}{request.rel_url}"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host"}}
        async with self._session.request(
            request.method, url, data=body or None, headers=headers
        ) as reply:
            payload = await reply.read()
            kept = [(k, v) for k, v in reply.headers.items() if k.lower() not in _HOP_HEADERS]
            return reply.status, kept, payload

    @staticmethod
    def _reset(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never reaches the client: the socket is gone

    @staticmethod
    async def _cut(
        request: web.Request, status: int, headers: list[tuple[str, str]], payload: bytes
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status)
        for name, value in headers:
            response.headers.add(name, value)
        response.content_length = len(payload)
        await response.prepare(request)
        await response.write(payload[: len(payload) // 2])
        # Headers and half the body are out (write drains): drop the connection mid-body.
        if request.transport is not None:
            request.transport.abort()
        return response


def stats_line(proxy: Any) -> str:
    """One line of what the proxy did."""
    faults = ", ".join(f"{k} {proxy.counts[k]}" for k in FAULT_KINDS if proxy.counts[k])
    return f"{proxy.requests} requests, {proxy.faults} faulted ({faults})"
