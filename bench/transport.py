"""An in-memory Binance USD-M transport for ccxt: no sockets, no server.

:func:`install` replaces the exchange's ``fetch`` (the one method every ccxt request goes
through after signing) with a responder that decodes canned JSON bodies, so raw ccxt and
the SDK pay exactly the same transport cost: URL building, signing, JSON decoding and
ccxt's parsing all still run.
"""

from __future__ import annotations

import json
import re
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


class InMemoryFutures:
    """Answers ``/fapi/v1/exchangeInfo`` and ``POST /fapi/v1/order`` from memory."""

    def __init__(self) -> None:
        self.exchange_info = EXCHANGE_INFO.read_text(encoding="utf-8")
        self.requests = 0

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        self.requests += 1
        if url.split("?", 1)[0].endswith("/exchangeInfo"):
            return json.loads(self.exchange_info)
        if method == "POST" and "/order" in url:
            reply = json.loads(ORDER_REPLY)
            found = _CLIENT_ID.search(body or url)
            if found:
                reply["clientOrderId"] = found.group(1)
            return reply
        raise AssertionError(f"unexpected request {method} {url}")


def install(exchange: Any) -> InMemoryFutures:
    """Route every request of ``exchange`` to a fresh in-memory responder."""
    responder = InMemoryFutures()
    exchange.fetch = responder.fetch
    return responder
