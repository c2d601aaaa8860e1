"""Binance USD-M futures through ccxt ``binanceusdm``: positions, leverage, reduce-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities, ReplyShape, Venue
from exsdk.adapter.pacing import OrderLimit
from exsdk.adapters.binance.common import BinanceAdapter

__all__ = ["BinanceFuturesAdapter"]


class BinanceFuturesAdapter(BinanceAdapter):
    """Binance USD-M futures (``binance-futures``). Symbols look like ``BTC/USDT:USDT``.

    Market orders can be refused with -4131 when the best counter price is outside the
    PERCENT_PRICE band (``LiquidityRejected``).
    """

    name: ClassVar[str] = "binance-futures"
    ccxt_id: ClassVar[str] = "binanceusdm"
    market_type: ClassVar[str] = "swap"
    capabilities: ClassVar[Capabilities] = Capabilities(
        positions=True, leverage=True, reduce_only=True, liquidity_error=True
    )
    default_options: ClassVar[Mapping[str, Any]] = {
        **BinanceAdapter.default_options,
        "defaultType": "future",
        "fetchMarkets": {"types": ["linear"]},
    }
    # Binance's published ORDERS limits; exchangeInfo and -1015 answers may lower them.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = (OrderLimit(300, 10.0), OrderLimit(1200, 60.0))
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {
        **BinanceAdapter.reply_shapes,
        # GET /fapi/v3/account: {"assets": [{"asset", "walletBalance", ...}], ...}
        "fetch_balance": ReplyShape(dict, {"assets": list}),
    }

    def _venue_options(self, venue: Venue) -> dict[str, Any]:
        if venue is Venue.TESTNET:
            # ccxt 4.5 refuses private requests to the futures testnet unless told the
            # caller knows it is deprecated (demo trading is its successor).
            return {"disableFuturesSandboxWarning": True}
        return {}

    def symbol_for(self, base: str, quote: str) -> str:
        """The perpetual ``BASE/QUOTE:QUOTE`` (settled in the quote currency)."""
        return f"{base.upper()}/{quote.upper()}:{quote.upper()}"
