"""The Binance dialects of the contract suite (``exsdk.contracts.harness.VenueDialect``).

What the exchange-neutral suite needs to know about Binance spot and USD-M futures: where
exchangeInfo states a market's limits (its filters), which requests place orders, which
codes Binance sends for each SDK error, how cassettes store Binance hosts and secrets, and
how to start and script the bundled simulator. The simulator is imported only by
:meth:`BinanceDialect.bundled_venue`, that is only while recording.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any, Literal

import attrs

__all__ = ["FUTURES", "SPOT", "BinanceDialect", "BundledBinance"]

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
class BundledBinance:
    """The bundled simulator's Binance side for one market kind, and its admin controls."""

    sim: Any  # exsdk.simulator.SimulatedBinance, running
    kind: Literal["spot", "futures"]

    @property
    def base_url(self) -> str:
        """Where the simulator listens."""
        return str(self.sim.base_url)

    @property
    def api_key(self) -> str:
        """The simulator's funded key."""
        return str(self.sim.api_key)

    @property
    def secret(self) -> str:
        """Its secret."""
        return str(self.sim.secret)

    def move_price(self, market_id: str, price: Decimal) -> None:
        """The simulator's ``set_price`` on this kind's book."""
        self.sim.admin.set_price(market_id, str(price), self.kind)

    def make_thin(self, market_id: str) -> None:
        """The simulator's ``thin``: best prices 25% from the mark (futures: -4131)."""
        self.sim.admin.thin(market_id, self.kind)

    def rate_limit_first(self, method: str) -> None:
        """A ``rate_limit`` fault (HTTP 429, -1003, Retry-After: 1) on call 1 of each path."""
        self.sim.admin.inject_fault("rate_limit", method=method, calls=1, seconds=1)

    def skew_clock(self, ms: int) -> None:
        """The simulator's ``set_clock_skew``: signed requests get -1021."""
        self.sim.admin.set_clock_skew(ms)


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

    def bundled_venue(self, seed: int) -> AbstractAsyncContextManager[BundledBinance]:
        """The bundled Binance simulator (spot and USD-M in one process), this kind's side."""
        return self._running(seed)

    @asynccontextmanager
    async def _running(self, seed: int) -> AsyncIterator[BundledBinance]:
        from exsdk.simulator import SimulatedBinance

        async with SimulatedBinance(seed=seed) as sim:
            yield BundledBinance(sim, self.kind)


SPOT = BinanceDialect("binance-spot", "spot", "/api/v3/order")
"""Binance spot, for ``binance-spot`` and spot adapters on the Binance protocol."""
FUTURES = BinanceDialect("binance-usdm", "futures", "/fapi/v1/order")
"""Binance USD-M futures, for ``binance-futures``."""
