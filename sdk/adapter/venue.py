"""Where an adapter's requests go."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


class Venue(enum.StrEnum):
    """Where requests go. ``live`` must always be asked for explicitly."""

    SIM = "sim"
    TESTNET = "testnet"
    DEMO = "demo"
    LIVE = "live"
