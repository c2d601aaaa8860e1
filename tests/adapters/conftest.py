"""Fixtures of the adapter tests."""

from __future__ import annotations

import pytest

from .adapter_fakes import FUTURES_INFO, SPOT_INFO, FakeVenue, sample


@pytest.fixture
def futures_venue() -> FakeVenue:
    """A fake USD-M futures venue serving exchangeInfo and the server time."""
    return FakeVenue(
        routes={
            ("GET", "/fapi/v1/exchangeInfo"): sample(FUTURES_INFO),
            ("GET", "/fapi/v1/time"): {"serverTime": 1_700_000_000_000},
        }
    )


@pytest.fixture
def spot_venue() -> FakeVenue:
    """A fake spot venue serving exchangeInfo and the server time."""
    return FakeVenue(
        routes={
            ("GET", "/api/v3/exchangeInfo"): sample(SPOT_INFO),
            ("GET", "/api/v3/time"): {"serverTime": 1_700_000_000_000},
        }
    )
