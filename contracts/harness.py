"""Where a contract test's requests go: the bundled simulator when recording, nothing when
replaying (vcrpy answers from the cassette and the network is blocked).

The simulator is imported only when recording, so replay in CI never starts a server.
Venue control (moving a price, injecting a fault, skewing the clock) acts on the
simulator while recording and is a no-op on replay, where the cassette already holds
what the venue answered.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs

from exsdk.adapter import CcxtAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.contracts.cassettes import rerecord_command
from exsdk.registry import get_adapter

# Replay signs with these; matching ignores signatures, so no real secret is ever needed.
REPLAY_API_KEY = "replay-api-key"
REPLAY_SECRET = "replay-secret"
# Any URL works on replay (matching ignores the host); this one can never resolve.
REPLAY_BASE_URL = "https://replay.invalid"
RECORD_SEED = 7


@attrs.define
class VenueHarness:
    """The venue a contract test talks to, and the controls it may use on it."""

    recording: bool
    base_url: str | None
    api_key: str
    secret: str
    admin: Any = None  # exsdk.simulator.admin.Admin while recording against the simulator
    venue: Venue = Venue.SIM

    def credentials(self, *, valid: bool = True) -> Credentials:
        """Credentials for this venue; ``valid=False`` gives a key the venue does not know."""
        if valid:
            return Credentials(venue=self.venue, api_key=self.api_key, secret=self.secret)
        return Credentials(venue=self.venue, api_key="unknown-key-" + "0" * 52, secret="bad")

    def control(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """Run an admin operation on the simulator while recording; nothing on replay."""
        if self.admin is None:
            return None
        return getattr(self.admin, operation)(*args, **kwargs)


RECORD_VENUE_ENV = "EXSDK_RECORD_VENUE"


def record_venue() -> Venue:
    """Where recording goes: ``$EXSDK_RECORD_VENUE`` (``sim``, ``testnet`` or ``demo``)."""
    name = os.environ.get(RECORD_VENUE_ENV, "sim") or "sim"
    venue = Venue(name)
    if venue is Venue.LIVE:
        raise ValueError("cassettes are never recorded against the live venue")
    return venue


@asynccontextmanager
async def venue_harness(recording: bool) -> AsyncIterator[VenueHarness]:
    """A fresh simulator (fixed seed) while recording, or the replay placeholder.

    With ``EXSDK_RECORD_VENUE=testnet|demo`` recording goes to that venue with the keys
    in ``EXSDK_<VENUE>_API_KEY`` / ``EXSDK_<VENUE>_SECRET``; venue controls are then
    unavailable, so the scenarios that script the venue cannot be recorded there.
    """
    if not recording:
        yield VenueHarness(False, REPLAY_BASE_URL, REPLAY_API_KEY, REPLAY_SECRET)
        return
    venue = record_venue()
    if venue is not Venue.SIM:
        keys = Credentials.from_env(venue)
        yield VenueHarness(
            True,
            None,
            keys.api_key.get_secret_value(),
            keys.secret.get_secret_value(),
            venue=venue,
        )
        return
    from exsdk.simulator import SimulatedBinance

    async with SimulatedBinance(seed=RECORD_SEED) as sim:
        yield VenueHarness(True, sim.base_url, sim.api_key, sim.secret, sim.admin)


def load_markets_snapshot(path: Path) -> dict[str, Any]:
    """The ccxt markets saved by ``exsdk record``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no markets snapshot at {path}: this adapter has no cassettes yet; "
            f"record them with: {rerecord_command(path.parent.name)}"
        ) from None
    markets = data.get("markets", data)
    if not isinstance(markets, dict):
        raise ValueError(f"{path}: not a markets snapshot")
    return markets


class CassetteMiss(BaseException):
    """A request no recorded interaction matches.

    A ``BaseException`` on purpose: the broker records any ``Exception`` from a venue
    call as a rejected child and carries on, which would turn a stale cassette into a
    confusing assertion elsewhere. This one goes straight up to pytest.
    """


def _surface_cassette_misses(adapter: CcxtAdapter) -> None:
    exchange = adapter.exchange
    fetch = exchange.fetch

    async def fetch_or_fail(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch(*args, **kwargs)
        except Exception as exc:
            if type(exc).__name__ == "CannotOverwriteExistingCassetteException":
                raise CassetteMiss(str(exc)) from exc
            raise

    exchange.fetch = fetch_or_fail


def build_adapter(
    name: str,
    harness: VenueHarness,
    markets: dict[str, Any] | None,
    *,
    valid_credentials: bool = True,
) -> CcxtAdapter:
    """The adapter under test, pointed at the harness, with markets injected when given."""
    adapter = get_adapter(
        name,
        venue=harness.venue,
        base_url=harness.base_url,
        credentials=harness.credentials(valid=valid_credentials),
        markets_cache=False,
        # The throttle only slows replay down; the venue's own limits are a contract test.
        ccxt_options={"enableRateLimit": False},
    )
    if not isinstance(adapter, CcxtAdapter):
        raise TypeError(f"{name}: the contract suite drives ccxt-backed adapters")
    _surface_cassette_misses(adapter)
    if markets is not None:
        # set_markets makes load_markets answer without a request: exchangeInfo (megabytes
        # on Binance) stays out of every cassette.
        adapter.exchange.set_markets(markets)
    return adapter


__all__ = [
    "RECORD_SEED",
    "CassetteMiss",
    "VenueHarness",
    "build_adapter",
    "load_markets_snapshot",
    "venue_harness",
]
