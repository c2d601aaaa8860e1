"""Error lines an operator can act on: what failed, and why.

A network failure reaches the CLI as an :class:`~exsdk.errors.SdkError` whose message is
ccxt's ``GET <url>``; the cause (refused, timed out, DNS, TLS) is in the exception chain
underneath. :func:`explain` names it. Against the bundled simulator, an unknown path is
answered as Binance answers one, HTTP 404 with an empty body (ccxt's message ends
``404 Not Found``); :func:`explain` then says which protocols the simulator serves, so a
``ccxt:kraken`` run on venue sim does not read as a bug.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Iterator

__all__ = ["cause_of", "explain"]

# Causes by exception class name along the chain, most specific first. Names, not
# classes: aiohttp's and ccxt's classes need not be imported to be recognised.
_CAUSES_BY_NAME: tuple[tuple[str, str], ...] = (
    ("ClientConnectorDNSError", "DNS lookup failed"),
    ("ClientConnectorCertificateError", "TLS certificate refused"),
    ("ClientConnectorSSLError", "TLS handshake failed"),
    ("ClientSSLError", "TLS handshake failed"),
    ("RequestTimeout", "timed out"),
    ("ServerTimeoutError", "timed out"),
    ("ConnectionTimeoutError", "timed out"),
    ("SocketTimeoutError", "timed out"),
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _cause(exc: BaseException) -> str | None:
    for name, cause in _CAUSES_BY_NAME:
        if any(cls.__name__ == name for cls in type(exc).__mro__):
            return cause
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate refused"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the venue"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return None


def cause_of(exc: BaseException) -> str | None:
    """Why a request failed in transit (``"connection refused"``...), from ``exc``'s
    chain; ``None`` when nothing in it is a transport failure."""
    found = [c for c in (_cause(e) for e in _chain(exc)) if c is not None]
    # The deepest cause is the most precise: a ccxt RequestTimeout over a TLS failure is TLS.
    return found[-1] if found else None


def _detail(exc: BaseException) -> str | None:
    for e in reversed(list(_chain(exc))):
        text = " ".join(str(e).split())
        if text and _cause(e) is not None:
            return text[:160]
    return None


def explain(
    exc: BaseException, *, bundled_venue: Iterable[str] | None = None, adapter: str | None = None
) -> str:
    """``str(exc)`` with its cause named.

    ``bundled_venue``, when the request went to the bundled simulator, lists the protocols
    it serves (path prefixes such as ``/api/v3``); an unknown-path answer then says them.
    """
    from exsdk.redaction import redact_secrets

    message = " ".join(str(exc).split())
    cause = cause_of(exc)
    if cause is not None:
        # The detail comes from below the SDK's error (ccxt's own, URL and signature and
        # all), so it is redacted here.
        detail = _detail(exc)
        message = f"{message}: {cause}" + (f" ({redact_secrets(detail)})" if detail else "")
    if bundled_venue is not None and _is_unknown_path(message):
        served = ", ".join(bundled_venue)
        who = f"adapter {adapter!r}" if adapter else "this adapter"
        message = (
            f"{message}; the bundled simulator speaks only {served}, not the protocol {who} "
            "uses (binance-spot, binance-futures, bybit-spot and bybit-linear run on it)"
        )
    return message


def _is_unknown_path(message: str) -> bool:
    return "404 Not Found" in message
