"""Shared fixtures: ccxt exchanges with markets parsed from the real snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import futures_exchange, spot_exchange


@pytest.fixture(scope="session")
def futures_2021() -> Any:
    """USD-M futures as of 2021-09 (includes HNTUSDT; MIN_NOTIONAL 5 everywhere)."""
    return futures_exchange("futures_exchange_info_2021-09_selected_with_hntusdt.json")


@pytest.fixture(scope="session")
def futures_2025() -> Any:
    """USD-M futures as of 2025-11 (MIN_NOTIONAL 100 on BTC, 20 on ETH)."""
    return futures_exchange("futures_exchange_info_2025-11_selected.json")


@pytest.fixture(scope="session")
def spot_2024() -> Any:
    """Spot as of 2024-09 (NOTIONAL filter)."""
    return spot_exchange("spot_exchange_info_2024-09_selected.json")
