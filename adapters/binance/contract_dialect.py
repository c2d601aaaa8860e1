"""The Binance dialects of the contract suite (``exsdk.contracts.harness.VenueDialect``).

What the exchange-neutral suite needs to know about Binance spot and USD-M futures: where
exchangeInfo states a market's limits (its filters), which requests place orders, which
codes Binance sends for each SDK error, how cassettes store Binance hosts and secrets, and
how to start and script the bundled simulator. The simulator is imported only by
:meth:`BinanceDialect.bundled_venue`, that is only while recording.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from exsdk.simulator.controls import MarketControls

__all__ = ["FUTURES", "SPOT", "BinanceDialect"]

# Binance error codes by the SDK class exsdk.errors gives them (the codes the simulator
# sends in the scenarios the suite scripts; research/binance_api.md lists them all).
_REJECTION_CODES: Mapping[str, frozenset[str]] = {
    "AuthenticationFailed": frozenset({"-2014", "-2015", "-1022"}),
    "RateLimited": frozenset({"-1003", "-1015"}),
    "ClockSkew": frozenset({"-1021"}),
    # -2010 carries "Account has insufficient balance..." on spot (ccxt's message table).
    "InsufficientFunds": frozenset({"-2010", "-2019"}),
    "LiquidityRejected": frozenset({"-4131"}),
    "BelowMinimum": frozenset({"-1013", "-4164"}),
    "VenueRejected": frozenset({"-2022"}),
}


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@attrs.frozen
class BinanceDialect:
    """Binance spot (``/api/``) or USD-M futures (``/fapi/``) for the contract suite."""

    name: str
    kind: Literal["spot", "futures"]
    order_path: str
    canonical_hosts: tuple[tuple[str, str], ...] = (
        ("/fapi/", "fapi.binance.com"),
        ("/dapi/", "dapi.binance.com"),
        ("/sapi/", "api.binance.com"),
        ("/api/", "api.binance.com"),
    )
    secret_headers: tuple[str, ...] = ("X-MBX-APIKEY",)
    # recvWindow is deterministic, but a venue clock resync may change it: ignored too.
    volatile_params: tuple[str, ...] = ("timestamp", "signature", "recvWindow")

    def market_limits(self, info: Mapping[str, Any]) -> Mapping[str, Decimal | None]:
        """LOT_SIZE, PRICE_FILTER and (MIN_)NOTIONAL of an exchangeInfo symbol."""
        filters = {
            f["filterType"]: f
            for f in info.get("filters") or []
            if isinstance(f, dict) and isinstance(f.get("filterType"), str)
        }
        lot = filters.get("LOT_SIZE", {})
        price = filters.get("PRICE_FILTER", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        return {
            "amount_step": _decimal(lot.get("stepSize")),
            "amount_min": _decimal(lot.get("minQty")),
            "price_tick": _decimal(price.get("tickSize")),
            "cost_min": _decimal(notional.get("minNotional", notional.get("notional"))),
        }

    def is_order_placement(self, method: str, path: str) -> bool:
        """``POST /api/v3/order`` (spot) or ``POST /fapi/v1/order`` (futures)."""
        return method.upper() == "POST" and path == self.order_path

    def rejection_codes(self, error: str) -> Collection[str]:
        """Binance codes :mod:`exsdk.errors` classifies as ``error``."""
        return _REJECTION_CODES.get(error, frozenset())

    def provenance(self, venue: str, seed: int) -> str:
        """``bundled simulator (seed N; <snapshots>)`` on ``sim``, else ``Binance <venue>``."""
        if venue != "sim":
            return f"Binance {venue}"
        from exsdk.simulator.exchange_info import DEFAULT_FUTURES_SNAPSHOT, DEFAULT_SPOT_SNAPSHOT

        return (
            f"bundled simulator (seed {seed}; `{DEFAULT_SPOT_SNAPSHOT}`, "
            f"`{DEFAULT_FUTURES_SNAPSHOT}`)"
        )

    def bundled_venue(self, seed: int) -> AbstractAsyncContextManager[MarketControls]:
        """The bundled Binance simulator (spot and USD-M in one process), this kind's side."""
        from exsdk.simulator.controls import bundled_market

        # A 429 with -1003 and Retry-After: 1 (the suite's rate-limit scenario waits it out).
        return bundled_market(seed, self.kind, rate_limit_seconds=1)


SPOT = BinanceDialect("binance-spot", "spot", "/api/v3/order")
"""Binance spot, for ``binance-spot`` and spot adapters on the Binance protocol."""
FUTURES = BinanceDialect("binance-usdm", "futures", "/fapi/v1/order")
"""Binance USD-M futures, for ``binance-futures``."""
