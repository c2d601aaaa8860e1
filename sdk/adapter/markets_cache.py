"""The markets snapshot on disk, so a restart does not reload markets."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import ccxt.async_support as ccxt_async

from exsdk._value import Value

if TYPE_CHECKING:
    pass


_CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """Where the SDK caches files: ``$EXSDK_CACHE_DIR``, else ``$XDG_CACHE_HOME/exsdk``,
    else ``~/.cache/exsdk``."""
    explicit = os.environ.get("EXSDK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "exsdk"


@attrs.frozen(repr=False, eq=False)
class MarketsCache(Value):
    """A JSON snapshot of one exchange's ccxt markets, so a restart does not reload them.

    The snapshot records the exchange id and the ccxt version that parsed it; a snapshot
    from another exchange, another ccxt version, or older than ``max_age`` is ignored.
    """

    path: Path = attrs.field(converter=Path)
    max_age: timedelta | None = timedelta(hours=24)

    def load(self, exchange_id: str) -> dict[str, Any] | None:
        """The cached markets, or ``None`` when missing, stale or unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
            return None
        if data.get("exchange") != exchange_id or data.get("ccxt") != ccxt_async.__version__:
            return None
        saved_at = data.get("saved_at")
        if not isinstance(saved_at, int | float):
            return None
        if self.max_age is not None and time.time() - saved_at > self.max_age.total_seconds():
            return None
        markets = data.get("markets")
        return markets if isinstance(markets, dict) and markets else None

    def save(self, exchange_id: str, markets: Mapping[str, Any]) -> None:
        """Write the snapshot atomically (a reader never sees half a file)."""
        payload = {
            "format": _CACHE_FORMAT,
            "exchange": exchange_id,
            "ccxt": ccxt_async.__version__,
            "saved_at": time.time(),
            "markets": markets,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, default=str)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
