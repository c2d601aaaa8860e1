"""The bundled simulator as the contract suite's venue: one market's admin controls.

Each dialect's contract module (``adapters/<family>/contract_dialect.py``) names its
market here instead of wrapping the admin API again. :class:`MarketControls` is an
``exsdk.contracts.harness.BundledVenue`` by shape: the simulator imports nothing from
the SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs

from exsdk.simulator.venue import SimulatedBinance

__all__ = ["MarketControls", "bundled_market"]


@attrs.frozen
class MarketControls:
    """A running simulator and the admin controls of one of its markets."""

    sim: SimulatedBinance
    market: str  # spot | futures | bybit_spot | bybit_linear
    # The wait a rate-limit refusal asks for, in the dialect's own words (0: its default).
    rate_limit_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        """Where the simulator listens."""
        return self.sim.base_url

    @property
    def api_key(self) -> str:
        """The simulator's funded key."""
        return self.sim.api_key

    @property
    def secret(self) -> str:
        """Its secret."""
        return self.sim.secret

    def move_price(self, market_id: str, price: Decimal) -> None:
        """The simulator's ``set_price`` on this market's book."""
        self.sim.admin.set_price(market_id, str(price), self.market)

    def make_thin(self, market_id: str) -> None:
        """The simulator's ``thin``: best prices 25% from the mark."""
        self.sim.admin.thin(market_id, self.market)

    def rate_limit_first(self, method: str) -> None:
        """A ``rate_limit`` fault on call 1 of each path."""
        self.sim.admin.inject_fault(
            "rate_limit", method=method, calls=1, seconds=self.rate_limit_seconds
        )

    def skew_clock(self, ms: int) -> None:
        """The simulator's ``set_clock_skew``: signed requests fall outside the window."""
        self.sim.admin.set_clock_skew(ms)


@asynccontextmanager
async def bundled_market(
    seed: int, market: str, *, rate_limit_seconds: float = 0.0
) -> AsyncIterator[MarketControls]:
    """A fresh simulator (every dialect in one process), controlled on ``market``."""
    async with SimulatedBinance(seed=seed) as sim:
        yield MarketControls(sim, market, rate_limit_seconds)
