"""Protocol dialects: each maps one exchange's HTTP protocol onto the venue core.

A dialect owns URL path prefixes (Binance spot ``/api``, USD-M ``/fapi``, Bybit ``/v5``)
and, for a request under them, parses parameters, checks keys and signatures, renders
bodies, error bodies and headers. The core (books, matching, accounts, clock, faults,
admin) knows no dialect: the venue loads the ones named in :data:`DIALECTS` by import
path, so adding one is a new module here and one line in this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from exsdk.simulator.faults import Fault
    from exsdk.simulator.state import VenueState

__all__ = ["DIALECTS", "Dialect", "Incoming", "load_dialects"]

DIALECTS: Mapping[str, str] = {
    "binance_spot": "exsdk.simulator.dialects.binance:BinanceSpotDialect",
    "binance_usdm": "exsdk.simulator.dialects.binance:BinanceUsdmDialect",
    "bybit_v5": "exsdk.simulator.dialects.bybit_v5:BybitV5Dialect",
}
"""Dialect name -> ``"module:Class"``; every one is served unless a venue names fewer."""


class Incoming(Protocol):
    """One request as the venue read it (see :class:`exsdk.simulator.venue.Request`)."""

    @property
    def method(self) -> str:
        """Upper-case HTTP method."""

    @property
    def path(self) -> str:
        """URL path."""

    @property
    def raw_query(self) -> str:
        """The query string exactly as sent (what signatures cover)."""

    @property
    def raw_body(self) -> str:
        """The body exactly as sent."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Request headers."""

    @property
    def params(self) -> dict[str, str]:
        """Parameters as the dialect parsed them."""


class Dialect(Protocol):
    """One exchange protocol served by the venue."""

    name: str
    prefixes: tuple[str, ...]

    def install(self, state: VenueState) -> None:
        """Add the dialect's markets (engines, limiters) to the core, once, at start."""

    def parse_params(self, method: str, raw_query: str, raw_body: str) -> dict[str, str]:
        """The request's parameters (query and body) as text; never raises."""

    def bad_encoding(self) -> web.Response:
        """The reply to a body that is not UTF-8 text."""

    def serve(self, state: VenueState, request: Incoming, fault: Fault | None) -> Any:
        """Answer one request: a ``web.Response``, or ``None`` to drop the connection.

        ``fault`` is the scripted fault of this request (latency and connection resets
        are applied by the venue before); the dialect renders it in its own protocol.
        """


def load_dialects(names: Sequence[str] | None = None) -> list[Dialect]:
    """Instances of the dialects ``names`` (all of :data:`DIALECTS` by default)."""
    out: list[Dialect] = []
    for name in names if names is not None else list(DIALECTS):
        target = DIALECTS.get(name)
        if target is None:
            raise ValueError(f"unknown dialect {name!r} (known: {', '.join(DIALECTS)})")
        module_name, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
        out.append(cls())
    return out
