"""The Bybit v5 dialect of the contract suite (``exsdk.contracts.harness.VenueDialect``).

What the exchange-neutral suite needs to know about Bybit spot and linear: where
instruments-info states a market's limits (``lotSizeFilter`` and ``priceFilter``), which
request places orders (``POST /v5/order/create``), which retCodes Bybit sends for each
SDK error, how cassettes store Bybit's host and secrets, and how to start and script the
bundled simulator. The simulator is imported only by :meth:`BybitDialect.bundled_venue`,
that is only while recording.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from exsdk.simulator.controls import MarketControls

__all__ = ["LINEAR", "SPOT", "BybitDialect"]

# Bybit retCodes by the SDK class exsdk.errors (BYBIT_CODES) gives them: the codes the
# simulator's Bybit dialect sends in the scenarios the suite scripts.
_REJECTION_CODES: Mapping[str, frozenset[str]] = {
    "AuthenticationFailed": frozenset({"10003", "10004", "10005", "10010"}),
    "RateLimited": frozenset({"10006", "10018"}),
    "ClockSkew": frozenset({"10002"}),
    "InsufficientFunds": frozenset({"110004", "110007", "110012", "170131"}),
    "LiquidityRejected": frozenset({"110003", "170193", "170194", "170371", "170372"}),
    "BelowMinimum": frozenset({"10001", "110094", "170136", "170140"}),
    "VenueRejected": frozenset({"110017", "110043"}),
}


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@attrs.frozen
class BybitDialect:
    """Bybit v5, ``category=spot`` or ``category=linear``, for the contract suite."""

    name: str
    category: Literal["spot", "linear"]
    canonical_hosts: tuple[tuple[str, str], ...] = (("/v5/", "api.bybit.com"),)
    secret_headers: tuple[str, ...] = ("X-BAPI-API-KEY", "X-BAPI-SIGN")
    # The timestamp and signature travel in headers (X-BAPI-TIMESTAMP, X-BAPI-SIGN),
    # not in the query or the body.
    volatile_params: tuple[str, ...] = ()

    def market_limits(self, info: Mapping[str, Any]) -> Mapping[str, Decimal | None]:
        """``lotSizeFilter`` and ``priceFilter`` of an instruments-info item."""
        lot = info.get("lotSizeFilter") or {}
        price = info.get("priceFilter") or {}
        if self.category == "spot":
            step, cost = lot.get("basePrecision"), lot.get("minOrderAmt")
        else:
            step, cost = lot.get("qtyStep"), lot.get("minNotionalValue")
        return {
            "amount_step": _decimal(step),
            "amount_min": _decimal(lot.get("minOrderQty")),
            "price_tick": _decimal(price.get("tickSize")),
            "cost_min": _decimal(cost),
        }

    def is_order_placement(self, method: str, path: str) -> bool:
        """``POST /v5/order/create`` (both categories)."""
        return method.upper() == "POST" and path == "/v5/order/create"

    def rejection_codes(self, error: str) -> Collection[str]:
        """Bybit retCodes :mod:`exsdk.errors` classifies as ``error``."""
        return _REJECTION_CODES.get(error, frozenset())

    def provenance(self, venue: str, seed: int) -> str:
        """``bundled simulator (seed N; <instruments>)`` on ``sim``, else ``Bybit <venue>``."""
        if venue != "sim":
            return f"Bybit {venue}"
        from exsdk.simulator.dialects.bybit_v5 import INSTRUMENTS_FILE

        return f"bundled simulator (seed {seed}; `{INSTRUMENTS_FILE}`)"

    def bundled_venue(self, seed: int) -> AbstractAsyncContextManager[MarketControls]:
        """The bundled simulator (it serves Bybit v5 beside Binance), this category's side."""
        from exsdk.simulator.controls import bundled_market

        return bundled_market(seed, "bybit_spot" if self.category == "spot" else "bybit_linear")


SPOT = BybitDialect("bybit-spot", "spot")
"""Bybit v5 spot, for ``bybit-spot``."""
LINEAR = BybitDialect("bybit-linear", "linear")
"""Bybit v5 USDT perpetuals, for ``bybit-linear``."""
