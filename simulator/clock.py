"""Server clock: wall time in milliseconds plus an adjustable skew."""

from __future__ import annotations

import time

import attrs


@attrs.define
class Clock:
    """Millisecond clock whose reading can be shifted to simulate skew."""

    skew_ms: int = 0

    def now_ms(self) -> int:
        """Current server time in ms since the epoch, including the skew."""
        return int(time.time() * 1000) + self.skew_ms
