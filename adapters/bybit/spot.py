"""Bybit spot through ccxt ``bybit`` (``category=spot``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities
from exsdk.adapter.pacing import OrderLimit
from exsdk.adapters.bybit.common import BybitAdapter

__all__ = ["BybitSpotAdapter"]


class BybitSpotAdapter(BybitAdapter):
    """Bybit spot (``bybit-spot``). Symbols look like ``BTC/USDT``.

    A limit price outside Bybit's band is refused (170193 / 170194: ``LiquidityRejected``);
    a market order walks the book as on Binance spot, so ``liquidity_error`` is not
    declared. No positions, leverage or reduce-only.
    """

    name: ClassVar[str] = "bybit-spot"
    market_type: ClassVar[str] = "spot"
    capabilities: ClassVar[Capabilities] = Capabilities()
    contract_dialect: ClassVar[str | None] = "exsdk.adapters.bybit.contract_dialect:SPOT"
    default_options: ClassVar[Mapping[str, Any]] = {
        **BybitAdapter.default_options,
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},
    }
    # Bybit's per-UID limit of /v5/order/create on spot (UTA Pro): 20 a second.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = (OrderLimit(20, 1.0),)
