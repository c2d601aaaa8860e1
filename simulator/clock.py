"""Server clock: wall time in milliseconds plus an adjustable skew, and the market's time.

Two readings, on purpose:

* :meth:`Clock.now_ms` stamps replies and checks signed timestamps. It stays wall time
  (plus the skew a test injects), because clients sign with their own wall clock.
* :meth:`Clock.elapsed` is the venue's clock time since it started, ``speed`` times wall
  time: the price process runs on it, so at ``speed=20`` a minute of the accelerated
  broker clock moves prices as much as a real minute does on Binance.

``source`` (seconds since the epoch) is ``time.time`` by default; tests pass a function
they advance themselves, so nothing depends on how fast the machine is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import attrs


@attrs.define
class Clock:
    """Millisecond clock whose reading can be shifted to simulate skew."""

    skew_ms: int = 0
    speed: float = attrs.field(default=1.0)
    source: Callable[[], float] = time.time
    _origin: float = attrs.field(init=False, default=0.0)

    @speed.validator
    def _positive(self, _attribute: object, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"clock speed {value!r}: must be a positive, finite number")

    def __attrs_post_init__(self) -> None:
        self._origin = self.source()

    def now_ms(self) -> int:
        """Current server time in ms since the epoch, including the skew."""
        return int(self.source() * 1000) + self.skew_ms

    def elapsed(self) -> float:
        """Seconds of venue clock time since the clock was made (wall seconds x speed)."""
        return (self.source() - self._origin) * self.speed
