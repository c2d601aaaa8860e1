"""Where a contract test's requests go, and what the suite needs to know about the venue.

Two interfaces keep the suite exchange-neutral; one exchange family implements both, once:

- :class:`VenueDialect`: what differs per venue protocol and is known offline (where the
  venue's own limits live in its market entries, which requests place orders, which
  error codes the venue sends for each SDK error, how cassettes store its hosts and
  secrets), plus how to start the bundled simulator speaking it. An adapter names its
  dialect in ``contract_dialect`` ("module:attribute").
- :class:`BundledVenue`: a running bundled venue while recording, with the scripted
  controls the scenarios use (move a price, thin a book, refuse a request as rate
  limited, skew the clock).

The simulator is imported only when recording (by the dialect's ``bundled_venue``), so
replay in CI never starts a server. Venue controls act on the bundled venue while
recording and are no-ops on replay, where the cassette already holds what the venue
answered.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from exsdk.adapter import CcxtAdapter, Venue
from exsdk.adapter.credentials import Credentials
from exsdk.contracts.cassettes import rerecord_command
from exsdk.registry import adapter_class, get_adapter

# Replay signs with these; matching ignores signatures, so no real secret is ever needed.
REPLAY_API_KEY = "replay-api-key"
REPLAY_SECRET = "replay-secret"
# Any URL works on replay (matching ignores the host); this one can never resolve.
REPLAY_BASE_URL = "https://replay.invalid"
RECORD_SEED = 7

LIMIT_KEYS = ("amount_step", "amount_min", "price_tick", "cost_min")
"""The keys of :meth:`VenueDialect.market_limits`, named as in ``MarketLimits``."""


@runtime_checkable
class BundledVenue(Protocol):
    """A bundled venue serving one dialect on loopback while the suite records.

    Markets are named by the venue's own id (``MarketLimits.market_id``). Every control
    takes effect before the next request the adapter sends.
    """

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: where the adapter sends requests."""

    @property
    def api_key(self) -> str:
        """A key the venue knows (its account is funded)."""

    @property
    def secret(self) -> str:
        """The secret of :attr:`api_key`."""

    def move_price(self, market_id: str, price: Decimal) -> None:
        """Move the market's reference price; resting orders it crosses fill."""

    def make_thin(self, market_id: str) -> None:
        """Thin the book so a market order on it is refused for liquidity."""

    def rate_limit_first(self, method: str) -> None:
        """Refuse the first ``method`` request of each path as rate limited, in the venue's
        own words (status, body, headers), without processing it; the venue asks for a wait
        of about a second (a longer one would hold the replay that long too)."""

    def skew_clock(self, ms: int) -> None:
        """Run the venue's clock ``ms`` ahead: signed requests fall outside its window."""


@runtime_checkable
class VenueDialect(Protocol):
    """What the contract suite needs to know about one venue protocol.

    Everything but :meth:`bundled_venue` is used on replay, offline, so it reads only the
    recorded markets and requests.
    """

    name: str
    canonical_hosts: Sequence[tuple[str, str]]
    """(URL path prefix, host): cassettes store the venue's real host for each path."""
    secret_headers: Sequence[str]
    """Request headers that carry a key or a signature (replaced by a placeholder)."""
    volatile_params: Sequence[str]
    """Query and body parameters that change on every request (timestamps, signatures)."""

    def market_limits(self, info: Mapping[str, Any]) -> Mapping[str, Decimal | None]:
        """The venue's own limits of one market, read from its raw entry (ccxt's
        ``market['info']``), under :data:`LIMIT_KEYS`; ``None`` where it states none."""

    def is_order_placement(self, method: str, path: str) -> bool:
        """Whether a request (HTTP method, URL path) asks the venue to place an order."""

    def rejection_codes(self, error: str) -> Collection[str]:
        """The codes the venue sends for the SDK error class named ``error``
        (``"RateLimited"``, ``"ClockSkew"``, ...), as text; empty when it has none."""

    def bundled_venue(self, seed: int) -> AbstractAsyncContextManager[BundledVenue] | None:
        """Start the bundled simulator speaking this dialect (fixed seed), or ``None``
        when it speaks none: recording then needs ``EXSDK_RECORD_VENUE``."""

    def provenance(self, venue: str, seed: int) -> str:
        """Where cassettes recorded against ``venue`` (``sim``, ``testnet``, ``demo``) come
        from, for ``cassettes/README.md`` (on ``sim``: the seed and the snapshots served)."""


class NoDialect(LookupError):
    """An adapter the contract suite cannot drive: it names no ``contract_dialect``."""


def dialect_for(adapter_name: str) -> VenueDialect:
    """The dialect an adapter names in ``contract_dialect``, imported now."""
    target = getattr(adapter_class(adapter_name), "contract_dialect", None)
    if not target:
        raise NoDialect(
            f"adapter {adapter_name!r} names no contract_dialect: set it to "
            '"module:attribute" of an exsdk.contracts.harness.VenueDialect '
            "(its venue's limits, order paths, error codes and bundled venue)"
        )
    module_name, _, attribute = str(target).partition(":")
    try:
        dialect = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise NoDialect(
            f"{adapter_name}: cannot import contract_dialect {target!r}: {exc}"
        ) from None
    if not isinstance(dialect, VenueDialect):
        raise NoDialect(f"{adapter_name}: contract_dialect {target!r} is not a VenueDialect")
    return dialect


@attrs.define
class VenueHarness:
    """The venue a contract test talks to, and the controls it may use on it."""

    recording: bool
    base_url: str | None
    api_key: str
    secret: str
    dialect: VenueDialect
    bundled: BundledVenue | None = None  # the bundled venue while recording against it
    venue: Venue = Venue.SIM

    def credentials(self, *, valid: bool = True) -> Credentials:
        """Credentials for this venue; ``valid=False`` gives a key the venue does not know."""
        if valid:
            return Credentials(venue=self.venue, api_key=self.api_key, secret=self.secret)
        return Credentials(venue=self.venue, api_key="unknown-key-" + "0" * 52, secret="bad")

    # Controls: on the bundled venue while recording; nothing on replay or another venue.

    def move_price(self, market_id: str, price: Decimal) -> None:
        """See :meth:`BundledVenue.move_price`."""
        if self.bundled is not None:
            self.bundled.move_price(market_id, price)

    def make_thin(self, market_id: str) -> None:
        """See :meth:`BundledVenue.make_thin`."""
        if self.bundled is not None:
            self.bundled.make_thin(market_id)

    def rate_limit_first(self, method: str) -> None:
        """See :meth:`BundledVenue.rate_limit_first`."""
        if self.bundled is not None:
            self.bundled.rate_limit_first(method)

    def skew_clock(self, ms: int) -> None:
        """See :meth:`BundledVenue.skew_clock`."""
        if self.bundled is not None:
            self.bundled.skew_clock(ms)


RECORD_VENUE_ENV = "EXSDK_RECORD_VENUE"


def record_venue() -> Venue:
    """Where recording goes: ``$EXSDK_RECORD_VENUE`` (``sim``, ``testnet`` or ``demo``)."""
    name = os.environ.get(RECORD_VENUE_ENV, "sim") or "sim"
    venue = Venue(name)
    if venue is Venue.LIVE:
        raise ValueError("cassettes are never recorded against the live venue")
    return venue


@asynccontextmanager
async def venue_harness(adapter_name: str, recording: bool) -> AsyncIterator[VenueHarness]:
    """The adapter's bundled venue (fixed seed) while recording, or the replay placeholder.

    With ``EXSDK_RECORD_VENUE=testnet|demo`` recording goes to that venue with the keys
    in ``EXSDK_<VENUE>_API_KEY`` / ``EXSDK_<VENUE>_SECRET``; venue controls are then
    unavailable, so the scenarios that script the venue cannot be recorded there.
    """
    dialect = dialect_for(adapter_name)
    if not recording:
        yield VenueHarness(False, REPLAY_BASE_URL, REPLAY_API_KEY, REPLAY_SECRET, dialect)
        return
    venue = record_venue()
    if venue is not Venue.SIM:
        keys = Credentials.from_env(venue)
        yield VenueHarness(
            True,
            None,
            keys.api_key.get_secret_value(),
            keys.secret.get_secret_value(),
            dialect,
            venue=venue,
        )
        return
    bundled = dialect.bundled_venue(RECORD_SEED)
    if bundled is None:
        raise NoDialect(
            f"the bundled simulator does not speak {dialect.name} ({adapter_name}); "
            f"record against a test venue: {RECORD_VENUE_ENV}=testnet "
            f"{rerecord_command(adapter_name)}"
        )
    async with bundled as running:
        yield VenueHarness(
            True, running.base_url, running.api_key, running.secret, dialect, running
        )


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
    "LIMIT_KEYS",
    "RECORD_SEED",
    "BundledVenue",
    "CassetteMiss",
    "NoDialect",
    "VenueDialect",
    "VenueHarness",
    "build_adapter",
    "dialect_for",
    "load_markets_snapshot",
    "venue_harness",
]
