"""An in-memory Binance USD-M transport for ccxt: no sockets, no server.

:func:`install` replaces the exchange's ``fetch`` (the one method every ccxt request goes
through after signing) with a responder that decodes canned JSON bodies, so raw ccxt and
the SDK pay exactly the same transport cost: URL building, signing, JSON decoding and
ccxt's parsing all still run.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXCHANGE_INFO = ROOT / "simulator" / "data" / "futures_exchange_info_2025-11_selected.json"

ORDER_REPLY = json.dumps(
    {
        "orderId": 4087922044,
        "symbol": "BTCUSDT",
        "status": "NEW",
        "clientOrderId": "placeholder",
        "price": "60000.00",
        "avgPrice": "0.00",
        "origQty": "0.002",
        "executedQty": "0.000",
        "cumQty": "0.000",
        "cumQuote": "0.00000",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "reduceOnly": False,
        "closePosition": False,
        "side": "BUY",
        "positionSide": "BOTH",
        "stopPrice": "0.00",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": "LIMIT",
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "updateTime": 1739781831932,
    }
)
_CLIENT_ID = re.compile(r"newClientOrderId=([^&]+)")
_SYMBOL = re.compile(r"(?:^|[?&])symbol=([A-Z0-9]+)")
DEPTH_REPLY = json.dumps(
    {
        "lastUpdateId": 1027024,
        "E": 1739781831930,
        "T": 1739781831925,
        "bids": [["60000.00", "1.500"], ["59999.90", "2.000"], ["59999.80", "3.100"]],
        "asks": [["60000.20", "1.200"], ["60000.30", "2.400"], ["60000.40", "0.900"]],
    }
)


class InMemoryFutures:
    """Answers ``/fapi/v1/exchangeInfo``, ``/fapi/v1/depth`` and ``POST /fapi/v1/order``
    from memory; ``sent`` holds the ``perf_counter()`` at which each order request was
    handed over (the wave benchmark's finish line)."""

    def __init__(self) -> None:
        self.exchange_info = EXCHANGE_INFO.read_text(encoding="utf-8")
        self.requests = 0
        self.sent: list[float] = []
        self.sent_cpu: list[float] = []
        """The process's CPU time (``thread_time()``) at each order request: on a busy
        machine the CPU a path used is steadier than its wall time."""

    def answer(self, url: str, method: str, body: Any) -> str:
        """The reply body to a request."""
        self.requests += 1
        if url.split("?", 1)[0].endswith("/exchangeInfo"):
            return self.exchange_info
        if method == "POST" and "/order" in url:
            self.sent.append(time.perf_counter())
            self.sent_cpu.append(time.thread_time())
            # The reply's text from a template (ccxt's parse_json reads it, as it reads a
            # venue's): the responder itself should cost next to nothing.
            reply = ORDER_REPLY
            found = _CLIENT_ID.search(body or url)
            if found:
                reply = reply.replace('"placeholder"', json.dumps(found.group(1)), 1)
            symbol = _SYMBOL.search(body or url)
            if symbol:
                reply = reply.replace('"BTCUSDT"', json.dumps(symbol.group(1)), 1)
            return reply
        if url.split("?", 1)[0].endswith("/depth"):
            return DEPTH_REPLY
        raise AssertionError(f"unexpected request {method} {url}")


REPLY_HEADERS = {"Content-Type": "application/json"}


def install(exchange: Any) -> InMemoryFutures:
    """Route every request of ``exchange`` to a fresh in-memory responder.

    The replacement ``fetch`` does what ccxt's own does once a reply's text is read:
    ``on_rest_response`` (where the SDK's reply hook reads the body and the venue's
    counts), ``parse_json``, ``handle_errors`` and ``handle_http_status_code``; only the
    socket is missing. Both paths pay it, so both pay what a real reply costs them.
    """
    responder = InMemoryFutures()

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request_headers = exchange.prepare_request_headers(headers)
        text = responder.answer(url, method, body)
        reply_headers = dict(REPLY_HEADERS)
        text = exchange.on_rest_response(
            200, "OK", url, method, reply_headers, text, request_headers, body
        )
        parsed = exchange.parse_json(text)
        exchange.handle_errors(
            200, "OK", url, method, reply_headers, text, parsed, request_headers, body
        )
        exchange.handle_http_status_code(200, "OK", url, method, text)
        return parsed

    exchange.fetch = fetch
    return responder


def pristine(hooked: Any) -> tuple[Any, InMemoryFutures]:
    """A plain ccxt exchange of the same class and options as ``hooked`` (the SDK's),
    without any of the SDK's hooks (pacing, request records), on its own in-memory
    responder, its markets copied from ``hooked``: raw ccxt's own cost, nothing of ours.
    """
    import ccxt.async_support as ccxt_async

    exchange = getattr(ccxt_async, hooked.id)(
        {
            "apiKey": hooked.apiKey,
            "secret": hooked.secret,
            "enableRateLimit": False,
            "options": dict(hooked.options),
        }
    )
    exchange.set_markets(hooked.markets, hooked.currencies)
    responder = install(exchange)
    return exchange, responder
