"""Point an unmodified ccxt Binance instance at the simulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def point_ccxt_at(exchange: Any, base_url: str) -> Any:
    """Rewrite every ``exchange.urls['api']`` entry to ``base_url + <original path>``.

    ``https://fapi.binance.com/fapi/v1`` becomes ``http://127.0.0.1:PORT/fapi/v1`` and so
    on for spot, sapi*, fapi* (V2/V3), dapi*, eapi* and papi*. Returns ``exchange``.
    """
    base = base_url.rstrip("/")
    api = exchange.urls["api"]
    for name, url in list(api.items()):
        if isinstance(url, str):
            api[name] = base + urlsplit(url).path
    return exchange
