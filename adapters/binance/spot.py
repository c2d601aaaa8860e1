"""Binance spot through ccxt ``binance``: spot markets only, no positions or leverage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities, ReplyShape
from exsdk.adapter.pacing import EndpointCost, OrderLimit, WeightLimit
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
    contract_dialect: ClassVar[str | None] = "exsdk.adapters.binance.contract_dialect:SPOT"
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
    weight_limits: ClassVar[tuple[WeightLimit, ...]] = (WeightLimit(6000, 60.0),)
    # Spot weights from Binance's documentation (research/binance_api.md 4.1); others 1.
    # A new order is counted at 1 (it is 0 since 2026-04-02 when accepted; 1 is the safe side).
    request_costs: ClassVar[Mapping[tuple[str, str], EndpointCost]] = {
        ("POST", "/api/v3/order"): EndpointCost(
            1, orders=1, stamps=("transactTime", "workingTime")
        ),
        ("GET", "/api/v3/order"): EndpointCost(4),
        ("GET", "/api/v3/exchangeInfo"): EndpointCost(20),
        ("GET", "/api/v3/depth"): EndpointCost(
            by_limit=((100, 5), (500, 25), (1000, 50), (5000, 250)), default_limit=100
        ),
        ("GET", "/api/v3/ticker/bookTicker"): EndpointCost(2, without_symbol=4),
        ("GET", "/api/v3/ticker/24hr"): EndpointCost(2, without_symbol=80),
        ("GET", "/api/v3/openOrders"): EndpointCost(6, without_symbol=80),
        ("GET", "/api/v3/allOrders"): EndpointCost(20),
        ("GET", "/api/v3/myTrades"): EndpointCost(20, with_params=(("orderId", 5),)),
        ("GET", "/api/v3/account"): EndpointCost(20),
    }
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {
        **BinanceAdapter.reply_shapes,
        # GET /api/v3/account: {"balances": [{"asset", "free", "locked"}, ...], ...}
        "fetch_balance": ReplyShape(dict, {"balances": list}),
    }

    def symbol_for(self, base: str, quote: str) -> str:
        """``BASE/QUOTE``."""
        return f"{base.upper()}/{quote.upper()}"
