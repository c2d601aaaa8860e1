"""What each adapter call sent and what came back, per call, whatever else is in flight.

ccxt keeps one ``last_http_response`` per exchange object: with many calls in flight it
belongs to whichever reply landed last, and a reply cut after its headers never sets it
at all (so it still holds another call's body). The adapter judges every reply by the
records here instead: :func:`install` hooks the exchange's ``sign`` (every request, with
its signed ``timestamp`` and ``recvWindow``) and ``on_rest_response`` (every reply body
read in full, with status and headers), and each record goes to the :class:`CallRecord`
of the adapter call that made it, through a context variable (asyncio tasks each carry
their own).
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

__all__ = ["CallRecord", "RequestRecord", "install", "recording"]

_TIMESTAMP = re.compile(r"(?:^|[?&])timestamp=(\d+)")
_RECV_WINDOW = re.compile(r"(?:^|[?&])recvWindow=(\d+)")


@attrs.define
class RequestRecord:
    """One HTTP request of a call and, once read in full, its reply."""

    method: str
    url: str
    signed_ms: int | None
    """The request's signed ``timestamp`` parameter (venue milliseconds), if signed."""
    recv_window_ms: int | None
    """The ``recvWindow`` it was signed with, if it states one."""
    signed_at: float
    """``time.time()`` when ccxt signed it (just before it left)."""
    status: int | None = None
    headers: Mapping[str, str] | None = None
    body: str | None = None
    """The reply body, only when it was read to its end."""

    @property
    def replied(self) -> bool:
        """Whether a whole reply to this request was read."""
        return self.body is not None


@attrs.define
class CallRecord:
    """The requests of one adapter call, in order."""

    requests: list[RequestRecord] = attrs.field(factory=list)

    @property
    def sent(self) -> bool:
        """Whether any request of the call left (was signed and handed to the transport)."""
        return bool(self.requests)

    @property
    def last(self) -> RequestRecord | None:
        """The call's last request."""
        return self.requests[-1] if self.requests else None


_CURRENT: contextvars.ContextVar[CallRecord | None] = contextvars.ContextVar(
    "exsdk_call_record", default=None
)


@contextmanager
def recording() -> Iterator[CallRecord]:
    """Collect the requests made inside the block (in this task) into a new record."""
    record = CallRecord()
    token = _CURRENT.set(record)
    try:
        yield record
    finally:
        _CURRENT.reset(token)


def _param(pattern: re.Pattern[str], *texts: object) -> int | None:
    for text in texts:
        if isinstance(text, str):
            query = text.partition("?")[2] if "?" in text else text
            match = pattern.search(query)
            if match:
                return int(match.group(1))
    return None


def install(exchange: Any) -> None:
    """Hook ``exchange`` so that its requests and replies land in the current record."""
    sign = exchange.sign
    on_rest_response = exchange.on_rest_response

    def recording_sign(*args: Any, **kwargs: Any) -> Any:
        request = sign(*args, **kwargs)
        record = _CURRENT.get()
        if record is not None and isinstance(request, Mapping):
            url, body = request.get("url"), request.get("body")
            record.requests.append(
                RequestRecord(
                    method=str(request.get("method", "GET")),
                    url=str(url),
                    signed_ms=_param(_TIMESTAMP, url, body),
                    recv_window_ms=_param(_RECV_WINDOW, url, body),
                    signed_at=time.time(),
                )
            )
        return request

    def recording_on_rest_response(
        code: Any,
        reason: Any,
        url: Any,
        method: Any,
        headers: Any,
        body: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        body = on_rest_response(
            code, reason, url, method, headers, body, request_headers, request_body
        )
        record = _CURRENT.get()
        if record is not None and record.requests:
            last = record.requests[-1]
            last.status = int(code) if isinstance(code, int) else None
            last.headers = dict(headers) if isinstance(headers, Mapping) else {}
            last.body = body if isinstance(body, str) else str(body)
        return body

    exchange.sign = recording_sign
    exchange.on_rest_response = recording_on_rest_response
