"""Binance USD-M futures through ccxt ``binanceusdm``: positions, leverage, reduce-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities, ReplyShape, Venue
from exsdk.adapter.pacing import EndpointCost, OrderLimit, WeightLimit
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
    contract_dialect: ClassVar[str | None] = "exsdk.adapters.binance.contract_dialect:FUTURES"
    default_options: ClassVar[Mapping[str, Any]] = {
        **BinanceAdapter.default_options,
        "defaultType": "future",
        "fetchMarkets": {"types": ["linear"]},
    }
    # Binance's published ORDERS limits; exchangeInfo and -1015 answers may lower them.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = (OrderLimit(300, 10.0), OrderLimit(1200, 60.0))
    # 2400 a minute until exchangeInfo states the account's own (6000 in the 2025 dumps).
    weight_limits: ClassVar[tuple[WeightLimit, ...]] = (WeightLimit(2400, 60.0),)
    # USD-M weights from Binance's documentation (research/binance_api.md 4.1); others 1.
    request_costs: ClassVar[Mapping[tuple[str, str], EndpointCost]] = {
        ("POST", "/fapi/v1/order"): EndpointCost(0, orders=1, stamps=("updateTime",)),
        ("GET", "/fapi/v1/depth"): EndpointCost(
            by_limit=((50, 2), (100, 5), (500, 10), (1000, 20)), default_limit=500
        ),
        ("GET", "/fapi/v1/openOrders"): EndpointCost(1, without_symbol=40),
        ("GET", "/fapi/v1/allOrders"): EndpointCost(5),
        ("GET", "/fapi/v1/userTrades"): EndpointCost(5),
        ("GET", "/fapi/v2/positionRisk"): EndpointCost(5),
        ("GET", "/fapi/v3/positionRisk"): EndpointCost(5),
        ("GET", "/fapi/v2/account"): EndpointCost(5),
        ("GET", "/fapi/v3/account"): EndpointCost(5),
        ("GET", "/fapi/v2/balance"): EndpointCost(5),
        ("GET", "/fapi/v1/ticker/bookTicker"): EndpointCost(2, without_symbol=5),
        ("GET", "/fapi/v1/ticker/24hr"): EndpointCost(1, without_symbol=40),
    }
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
