"""Shared fixtures for broker tests: a virtual clock, a journal, parent-order builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from exsdk.broker import VirtualClock
from exsdk.journal import Journal
from exsdk.models import Order
from exsdk.universe import asset_id_for

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
BTC_ID = asset_id_for("binance", "BTC", "USDT")
ETH_ID = asset_id_for("binance", "ETH", "USDT")


def parent(
    order_id: int,
    asset_id: int,
    diff: str,
    kind: str = "price@twap",
    *,
    start: datetime = T0,
    minutes: float = 4,
    symbol: str | None = None,
) -> Order:
    """A parent order starting at ``start`` and lasting ``minutes``."""
    extra = {"ccxt_symbol": symbol} if symbol else {}
    return Order(
        order_id=order_id,
        creation_timestamp=start - timedelta(seconds=1),
        asset_id=asset_id,
        type_=kind,
        start_timestamp=start,
        end_timestamp=start + timedelta(minutes=minutes),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
        extra_params=extra,
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


@pytest.fixture
def journal(journal_path: Path) -> Iterator[Journal]:
    j = Journal.open(journal_path)
    yield j
    j.close()
