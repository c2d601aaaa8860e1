"""Pacing order requests to the venue's order-count limits.

ccxt's throttle counts request *weight*; Binance also caps the number of *orders* per
window (futures: 300 per 10 s and 1200 per minute; spot: 50 per 10 s), answering 429
-1015 beyond it and banning IPs that keep going. A wave of a large TWAP sends hundreds
of children at once, so the adapter paces order requests itself.

The window is sliding, which is stricter than the venue's fixed windows: whatever their
alignment, it never exceeds them. The margin absorbs the spread of request latency.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Sequence

import attrs

__all__ = ["OrderLimit", "OrderPacer", "limits_from_message", "limits_from_rate_limits"]

_SECONDS = {"SECOND": 1.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}
# Binance's -1015 text: "Too many new orders; current limit is 50 orders per 10 SECOND."
_LIMIT_TEXT = re.compile(r"current limit is (\d+) orders per (\d+) (SECOND|MINUTE|HOUR|DAY)")


@attrs.frozen
class OrderLimit:
    """At most ``count`` order requests per ``seconds``."""

    count: int = attrs.field(validator=attrs.validators.gt(0))
    seconds: float = attrs.field(validator=attrs.validators.gt(0))


def limits_from_rate_limits(rate_limits: object) -> list[OrderLimit]:
    """The ``ORDERS`` entries of an exchangeInfo ``rateLimits`` list."""
    out: list[OrderLimit] = []
    if not isinstance(rate_limits, list):
        return out
    for row in rate_limits:
        if not isinstance(row, dict) or row.get("rateLimitType") != "ORDERS":
            continue
        try:
            seconds = int(row["intervalNum"]) * _SECONDS[str(row["interval"])]
            out.append(OrderLimit(int(row["limit"]), seconds))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def limits_from_message(text: str) -> list[OrderLimit]:
    """The order limit a -1015 rejection states, if it states one."""
    return [
        OrderLimit(int(count), int(num) * _SECONDS[unit])
        for count, num, unit in _LIMIT_TEXT.findall(text)
    ]


class OrderPacer:
    """Lets at most ``limit.count`` order requests start in any ``limit.seconds`` (+ margin).

    ``clock`` and ``sleep`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        limits: Sequence[OrderLimit] = (),
        *,
        margin: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._sent: deque[float] = deque()
        self._limits: dict[float, int] = {}
        self._blocked_until = 0.0
        self.update(limits)

    @property
    def limits(self) -> list[OrderLimit]:
        """The limits in force, shortest window first."""
        return [OrderLimit(n, s) for s, n in sorted(self._limits.items())]

    def update(self, limits: Sequence[OrderLimit]) -> None:
        """Adopt the venue's limits: a window already known keeps the lower count."""
        for limit in limits:
            known = self._limits.get(limit.seconds)
            self._limits[limit.seconds] = limit.count if known is None else min(known, limit.count)

    def block_for(self, seconds: float) -> None:
        """Hold every order request for ``seconds`` (the venue's Retry-After after a 429)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))

    def _wait_needed(self, now: float) -> float:
        longest = max(self._limits, default=0.0) + self.margin
        while self._sent and now - self._sent[0] >= longest:
            self._sent.popleft()
        wait = self._blocked_until - now
        for seconds, count in self._limits.items():
            window = seconds + self.margin
            inside = [t for t in self._sent if now - t < window]
            if len(inside) >= count:
                wait = max(wait, inside[-count] + window - now)
        return wait

    async def acquire(self) -> None:
        """Wait until one more order request stays within every limit, then count it."""
        if not self._limits and self._blocked_until <= self._clock():
            return
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                result = self._sleep(wait)
                if asyncio.iscoroutine(result):
                    await result
