"""Minimal-order limits, quantizing with ccxt's precision helpers, and the environment
forcing policy. (Being built: see issue 2.)"""

from __future__ import annotations

import enum


class Environment(enum.StrEnum):
    """How orders are shaped before sending (separate from the venue they go to)."""

    LOCAL = "local"
    PREPROD = "preprod"
    PROD = "prod"
