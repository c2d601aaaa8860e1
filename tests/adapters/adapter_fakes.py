"""Offline helpers for the adapter tests: a fake Binance behind ccxt's ``fetch``,
fed from tests/samples (imported by name: tests/adapters is on sys.path)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import ccxt

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sample(name: str) -> Any:
    """A sample response body from tests/samples."""
    return json.loads((SAMPLES / name).read_text())


@attrs.frozen
class VenueError:
    """An HTTP error reply: the fake passes it through ccxt's own ``handle_errors``."""

    status: int
    body: str


Route = Any | VenueError | Callable[[dict[str, list[str]]], Any]


@attrs.define
class FakeVenue:
    """Replaces an exchange's ``fetch``: answers by (method, path), records every request.

    ccxt's signing, parsing and error mapping all still run; only the socket is gone.
    """

    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict)
    requests: list[tuple[str, str, dict[str, list[str]]]] = attrs.field(factory=list)

    def install(self, exchange: Any) -> None:
        async def fetch(
            url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            parts = urlsplit(url)
            params = parse_qs(parts.query)
            if body:
                params.update(parse_qs(body))
            self.requests.append((method, parts.path, params))
            try:
                route = self.routes[(method, parts.path)]
            except KeyError:
                raise AssertionError(f"unexpected request {method} {parts.path}") from None
            if callable(route):
                route = route(params)
            if isinstance(route, VenueError):
                # As ccxt's own fetch does with a reply read in full.
                exchange.on_rest_response(
                    route.status, "error", url, method, {}, route.body, headers, body
                )
                exchange.last_http_response = route.body
                exchange.handle_errors(
                    route.status,
                    "error",
                    url,
                    method,
                    {},
                    route.body,
                    json.loads(route.body),
                    headers,
                    body,
                )
                raise ccxt.ExchangeError(f"{exchange.id} {route.body}")
            text = json.dumps(route)
            exchange.on_rest_response(200, "OK", url, method, {}, text, headers, body)
            exchange.last_http_response = text
            return copy.deepcopy(route)

        exchange.fetch = fetch

    def paths(self) -> list[str]:
        """The request paths, in order."""
        return [path for _, path, _ in self.requests]


FUTURES_INFO = "futures_exchange_info_2021-09_selected_with_hntusdt.json"
SPOT_INFO = "spot_exchange_info_2024-09_selected.json"
