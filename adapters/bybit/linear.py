"""Bybit USDT perpetuals through ccxt ``bybit`` (``category=linear``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from exsdk.adapter import Capabilities
from exsdk.adapter.pacing import OrderLimit
from exsdk.adapters.bybit.common import BybitAdapter

__all__ = ["BybitLinearAdapter"]


class BybitLinearAdapter(BybitAdapter):
    """Bybit USDT perpetuals (``bybit-linear``). Symbols look like ``BTC/USDT:USDT``.

    A market order whose best counter price is outside the allowed range, or a limit
    price outside it, is refused with retCode 110003 (``LiquidityRejected``, the role
    Binance's -4131 plays). One-way position mode; leverage is set for both sides.
    """

    name: ClassVar[str] = "bybit-linear"
    market_type: ClassVar[str] = "swap"
    capabilities: ClassVar[Capabilities] = Capabilities(
        positions=True, leverage=True, reduce_only=True, liquidity_error=True
    )
    contract_dialect: ClassVar[str | None] = "exsdk.adapters.bybit.contract_dialect:LINEAR"
    default_options: ClassVar[Mapping[str, Any]] = {
        **BybitAdapter.default_options,
        "defaultType": "swap",
        "defaultSubType": "linear",
        "fetchMarkets": {"types": ["linear"]},
    }
    # Bybit's per-UID limit of /v5/order/create on linear (UTA Pro): 10 a second.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = (OrderLimit(10, 1.0),)

    def symbol_for(self, base: str, quote: str) -> str:
        """The perpetual ``BASE/QUOTE:QUOTE`` (settled in the quote currency)."""
        return f"{base.upper()}/{quote.upper()}:{quote.upper()}"
