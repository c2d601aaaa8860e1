"""Shared helpers for CLI tests: a runner and a guard that proves nothing was sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ORDERS = ROOT / "examples" / "default_orders.txt"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def nothing_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record any attempt to build an adapter or start the simulator (there must be none)."""
    calls: list[str] = []
    import exsdk.registry
    import exsdk.simulator

    def no_adapter(*args: Any, **kwargs: Any) -> Any:
        calls.append("get_adapter")
        raise AssertionError("an adapter was built for bad input")

    async def no_sim(self: Any) -> None:
        calls.append("simulator")
        raise AssertionError("the simulator was started for bad input")

    monkeypatch.setattr(exsdk.registry, "get_adapter", no_adapter)
    monkeypatch.setattr(exsdk.simulator.SimulatedBinance, "start", no_sim)
    yield calls
    assert calls == []
