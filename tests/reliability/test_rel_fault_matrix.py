"""The fault matrix of issue #8: every fault the simulator can inject, on each of the
broker's order operations (create, cancel, fetch), on both Binance adapters.

Each cell runs a small TWAP (two parents, three waves, virtual clock, tiny retry waits)
on a fresh in-process simulator with the fault scripted on the first two calls of the
operation's endpoints, then judges the run by the simulator's own records: one venue
order per child at most, every venue trade journaled, every parent's OMS fill equal to
the sum of its venue trades, and the run finished or stopped with a clear SdkError.
The outcomes are printed as a table at the end of the session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import exsdk.simulator
from exsdk.journal import Journal

from .rel_support import (
    ADAPTERS,
    CCXT_TIMEOUT_MS,
    MATRIX,
    ORDER_PATH,
    TRADES_PATH,
    build_adapter,
    check_invariants,
    open_orders_left,
    run_twap,
)

# fault name -> inject_fault keyword arguments
FAULTS: dict[str, dict[str, Any]] = {
    "latency>timeout": {"kind": "latency", "seconds": CCXT_TIMEOUT_MS / 1000 * 2},
    "http 500": {"kind": "http_error", "status": 500},
    "http 502": {"kind": "http_error", "status": 502},
    "http 503": {"kind": "html_error", "status": 503},
    "-1007 unknown": {"kind": "timeout_unknown", "status": 408},
    "drop after accept": {"kind": "drop_after_accept"},
    # Retry-After: 1 s: the broker waits it in wall time, as it must.
    "429 -1003": {"kind": "rate_limit", "seconds": 1},
    "-1021 clock": {"kind": "clock_skew"},
    "conn reset": {"kind": "reset_before"},
}


def endpoints(operation: str, adapter: str) -> list[tuple[str, str]]:
    """The (method, path) pairs an operation uses on the venue."""
    if operation == "create":
        return [("POST", ORDER_PATH[adapter])]
    if operation == "cancel":
        return [("DELETE", ORDER_PATH[adapter])]
    # fetch: the order by id or client id (collect, lookups) and its trades.
    return [("GET", ORDER_PATH[adapter]), ("GET", TRADES_PATH[adapter])]


@pytest.mark.parametrize("adapter_name", ADAPTERS)
@pytest.mark.parametrize("operation", ["create", "cancel", "fetch"])
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_cell(adapter_name: str, operation: str, fault: str, tmp_path: Path) -> None:
    cell = (fault, operation, adapter_name)
    MATRIX[cell] = "crashed"
    async with exsdk.simulator.SimulatedBinance(seed=7) as venue:
        for method, path in endpoints(operation, adapter_name):
            venue.admin.inject_fault(method=method, path=path, calls=[1, 2], **FAULTS[fault])
        with Journal.open(tmp_path / "journal.sqlite") as journal:
            async with build_adapter(adapter_name, venue) as adapter:
                result = await run_twap(adapter, journal, "fm1")
            await venue.wait_idle()  # a request the client gave up on still lands
            broken = check_invariants(venue, journal, result)
            left = open_orders_left(venue, "fm1")
            hit = sum(
                venue.state.faults.counters.get((m, p), 0) >= 1
                for m, p in endpoints(operation, adapter_name)
            )
    if broken:
        MATRIX[cell] = "BROKEN: " + "; ".join(broken)
    elif result.error is not None:
        MATRIX[cell] = f"stopped: {type(result.error).__name__}"
    else:
        notes = [f"{result.retried} err"]
        if result.adopted:
            notes.append(f"{result.adopted} adopted")
        if left:
            notes.append(f"{left} open")
        MATRIX[cell] = "ok (" + ", ".join(notes) + ")"
    assert hit, f"the fault on {operation} was never reached"
    assert not broken, broken
    assert left == 0, f"{left} orders left open on the venue"
