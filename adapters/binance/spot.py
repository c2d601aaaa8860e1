"""Binance spot through ccxt ``binance``: spot markets only, no positions or leverage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities, ReplyShape
from exsdk.adapter.pacing import OrderLimit
from exsdk.adapters.binance.common import BinanceAdapter

__all__ = ["BinanceSpotAdapter"]


class BinanceSpotAdapter(BinanceAdapter):
    """Binance spot (``binance-spot``). Symbols look like ``BTC/USDT``.

    ccxt's ``has['setLeverage']`` is true for ``binance`` and still fails on spot, so the
    capabilities here are declared: no positions, leverage or reduce-only.
    """

    name: ClassVar[str] = "binance-spot"
    ccxt_id: ClassVar[str] = "binance"
    market_type: ClassVar[str] = "spot"
    capabilities: ClassVar[Capabilities] = Capabilities()
    default_options: ClassVar[Mapping[str, Any]] = {
        **BinanceAdapter.default_options,
        "defaultType": "spot",
        # One exchangeInfo request instead of spot + linear + inverse.
        "fetchMarkets": {"types": ["spot"]},
    }
    # Binance's published ORDERS limits; exchangeInfo and -1015 answers may lower them.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = (
        OrderLimit(50, 10.0),
        OrderLimit(160_000, 86_400.0),
    )
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {
        **BinanceAdapter.reply_shapes,
        # GET /api/v3/account: {"balances": [{"asset", "free", "locked"}, ...], ...}
        "fetch_balance": ReplyShape(dict, {"balances": list}),
    }

    def symbol_for(self, base: str, quote: str) -> str:
        """``BASE/QUOTE``."""
        return f"{base.upper()}/{quote.upper()}"
