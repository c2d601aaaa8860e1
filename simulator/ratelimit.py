"""Binance-style rate limits: request weight and order counts in fixed windows.

Windows are measured on the monotonic clock so wall-clock skew injected for
signing tests does not disturb them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from exsdk.simulator import errors

_UNIT = {"SECOND": ("S", 1), "MINUTE": ("M", 60), "HOUR": ("H", 3600), "DAY": ("D", 86400)}
_UNIT_BY_LETTER = {letter: (name, secs) for name, (letter, secs) in _UNIT.items()}


@attrs.define
class Window:
    """A fixed window counter such as ORDERS per 10 SECOND."""

    kind: str  # REQUEST_WEIGHT or ORDERS
    interval: str  # SECOND/MINUTE/DAY
    interval_num: int
    limit: int
    count: int = 0
    start: float = -1.0

    @property
    def label(self) -> str:
        """Header suffix: ``10S``, ``1M``, ``1D``."""
        return f"{self.interval_num}{_UNIT[self.interval][0]}"

    @property
    def seconds(self) -> float:
        """Window length in seconds."""
        return float(self.interval_num * _UNIT[self.interval][1])

    def roll(self, now: float) -> None:
        """Reset the counter when a new window has begun."""
        begin = math.floor(now / self.seconds) * self.seconds
        if begin != self.start:
            self.start = begin
            self.count = 0

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window resets."""
        return max(1, math.ceil(self.start + self.seconds - now))

    def describe(self) -> dict[str, Any]:
        """The exchangeInfo ``rateLimits`` entry."""
        return {
            "rateLimitType": self.kind,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }


def _interval_text(w: Window) -> str:
    return f"{w.interval_num} {w.interval}"


@attrs.define
class RateLimiter:
    """Weight and order windows of one market (spot or futures)."""

    windows: list[Window]
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_exchange_info(
        cls, rate_limits: list[dict[str, Any]], overrides: Mapping[str, int] | None = None
    ) -> RateLimiter:
        """Build from exchangeInfo ``rateLimits``; ``overrides`` maps ``ORDERS:10S`` to a limit."""
        windows = [
            Window(r["rateLimitType"], r["interval"], int(r["intervalNum"]), int(r["limit"]))
            for r in rate_limits
            if r["rateLimitType"] in ("REQUEST_WEIGHT", "ORDERS")
        ]
        limiter = cls(windows)
        for key, limit in (overrides or {}).items():
            kind, label = key.split(":")
            limiter.set_limit(kind, label, limit)
        return limiter

    def set_limit(self, kind: str, label: str, limit: int) -> None:
        """Change (or add) the limit of window ``kind`` / ``label`` (e.g. ORDERS, 10S)."""
        for w in self.windows:
            if w.kind == kind and w.label == label:
                w.limit = limit
                return
        num, letter = int(label[:-1]), label[-1]
        self.windows.append(Window(kind, _UNIT_BY_LETTER[letter][0], num, limit))

    def admit(self, weight: int, is_order: bool) -> None:
        """Count a request, or raise 429 (-1003 / -1015) if it would exceed a limit."""
        now = self.clock()
        for w in self.windows:
            w.roll(now)
        for w in self.windows:
            if w.kind == "REQUEST_WEIGHT" and weight > 0 and w.count + weight > w.limit:
                raise errors.too_much_weight(w.limit, w.retry_after(now), _interval_text(w))
        if is_order:
            for w in self.windows:
                if w.kind == "ORDERS" and w.count + 1 > w.limit:
                    raise errors.too_many_orders(w.limit, _interval_text(w), w.retry_after(now))
        for w in self.windows:
            if w.kind == "REQUEST_WEIGHT":
                w.count += weight
            elif is_order:
                w.count += 1

    def headers(self, is_order: bool) -> dict[str, str]:
        """``X-MBX-USED-WEIGHT-1M`` and, for orders, ``X-MBX-ORDER-COUNT-*``."""
        now = self.clock()
        out: dict[str, str] = {}
        for w in self.windows:
            w.roll(now)
            if w.kind == "REQUEST_WEIGHT":
                out[f"X-MBX-USED-WEIGHT-{w.label}"] = str(w.count)
            elif is_order:
                out[f"X-MBX-ORDER-COUNT-{w.label}"] = str(w.count)
        return out

    def describe(self) -> list[dict[str, Any]]:
        """All windows as exchangeInfo ``rateLimits`` entries."""
        return [w.describe() for w in self.windows]


def spot_weight(method: str, path: str, params: Mapping[str, str]) -> int:
    """Spot request weight per binance_api.md §4.1."""
    has_symbol = "symbol" in params or "symbols" in params
    if path == "/api/v3/depth":
        limit = int(params.get("limit", "100"))
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    table = {
        "/api/v3/exchangeInfo": 20,
        "/api/v3/ticker/bookTicker": 2 if has_symbol else 4,
        "/api/v3/ticker/24hr": 2 if has_symbol else 80,
        "/api/v3/openOrders": 6 if has_symbol else 80,
        "/api/v3/allOrders": 20,
        "/api/v3/myTrades": 5 if "orderId" in params else 20,
        "/api/v3/account": 20,
        "/api/v3/ticker/price": 2 if has_symbol else 4,
        "/api/v3/klines": 2,
        "/api/v3/avgPrice": 2,
    }
    if path == "/api/v3/order":
        return 4 if method == "GET" else 1
    return table.get(path, 1)


def futures_weight(method: str, path: str, params: Mapping[str, str]) -> int:
    """USD-M request weight per binance_api.md §4.1 (POST order costs 0)."""
    has_symbol = "symbol" in params
    if path == "/fapi/v1/depth":
        limit = int(params.get("limit", "500"))
        return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
    if path == "/fapi/v1/order":
        return 0 if method == "POST" else 1
    if path == "/fapi/v1/klines":
        limit = int(params.get("limit", "500"))
        return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10
    table = {
        "/fapi/v1/openOrders": 1 if has_symbol else 40,
        "/fapi/v1/allOrders": 5,
        "/fapi/v1/userTrades": 5,
        "/fapi/v2/positionRisk": 5,
        "/fapi/v3/positionRisk": 5,
        "/fapi/v2/account": 5,
        "/fapi/v3/account": 5,
        "/fapi/v2/balance": 5,
        "/fapi/v3/balance": 5,
        "/fapi/v1/ticker/price": 1 if has_symbol else 2,
        "/fapi/v2/ticker/price": 1 if has_symbol else 2,
        "/fapi/v1/ticker/bookTicker": 2 if has_symbol else 5,
        "/fapi/v1/ticker/24hr": 1 if has_symbol else 40,
    }
    return table.get(path, 1)
