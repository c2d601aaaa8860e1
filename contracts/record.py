"""``exsdk record``: re-record an adapter's cassettes against the bundled simulator.

Two steps per adapter: save the markets snapshot (loaded from the venue once, outside any
cassette), then run the adapter's contract module in pytest-recording's ``rewrite`` mode,
where each contract test starts a fresh simulator with a fixed seed. Re-recording
therefore reproduces the same requests, so the cassettes replay in CI.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exsdk.contracts.cassettes import CASSETTES_ROOT, REPO_ROOT, markets_snapshot
from exsdk.contracts.harness import build_adapter, record_venue, venue_harness

CONTRACT_TESTS = REPO_ROOT / "tests" / "contracts"


def contract_module(adapter_name: str) -> Path:
    """``tests/contracts/test_<name>.py`` for an adapter name like ``binance-futures``."""
    safe = "".join(c if c.isalnum() else "_" for c in adapter_name).strip("_")
    return CONTRACT_TESTS / f"test_{safe}.py"


def recordable_adapters() -> list[str]:
    """Adapters with a cassette directory (each has a contract module)."""
    if not CASSETTES_ROOT.is_dir():
        return []
    return sorted(
        p.name for p in CASSETTES_ROOT.iterdir() if p.is_dir() and (p / "markets.json").exists()
    )


async def save_markets_snapshot(adapter_name: str) -> Path:
    """Load the adapter's markets from a fresh simulator and save them as the snapshot."""
    async with venue_harness(recording=True) as harness:
        adapter = build_adapter(adapter_name, harness, markets=None)
        try:
            await adapter.load_markets(reload=True)
            markets: dict[str, Any] = adapter.exchange.markets
        finally:
            await adapter.close()
    path = markets_snapshot(adapter_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"adapter": adapter_name, "markets": markets}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str) + "\n")
    return path


def _provenance(adapter_name: str, venue: str) -> None:
    """Update ``cassettes/README.md``: where and when each set was recorded."""
    readme = CASSETTES_ROOT / "README.md"
    lines = readme.read_text().splitlines() if readme.exists() else []
    header = [
        "# Cassettes",
        "",
        "Recorded HTTP per adapter, replayed offline by the contract suite. Hosts are the",
        "canonical Binance ones; API keys and signatures are placeholders. Re-record one set",
        "with `exsdk record --adapter NAME` (or all with `make record`).",
        "",
        "| adapter | recorded against | when (UTC) | ccxt |",
        "|---|---|---|---|",
    ]
    rows = {
        line.split("|")[1].strip(): line
        for line in lines
        if line.startswith("| ") and not line.startswith("| adapter") and line.count("|") >= 5
    }
    import ccxt

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    where = f"Binance {venue}"
    if venue == "sim":
        from exsdk.simulator.exchange_info import DEFAULT_FUTURES_SNAPSHOT, DEFAULT_SPOT_SNAPSHOT

        where = (
            f"bundled simulator (seed 7; `{DEFAULT_SPOT_SNAPSHOT}`, `{DEFAULT_FUTURES_SNAPSHOT}`)"
        )
    rows[adapter_name] = f"| {adapter_name} | {where} | {when} | {ccxt.__version__} |"
    readme.write_text("\n".join(header + [rows[k] for k in sorted(rows)]) + "\n")


def record(adapter_names: list[str]) -> int:
    """Re-record the named adapters' cassettes; returns pytest's exit code (0 when all ok).

    The venue is the bundled simulator unless ``$EXSDK_RECORD_VENUE`` names another.
    """
    venue = record_venue().value
    worst = 0
    for name in adapter_names:
        module = contract_module(name)
        if not module.exists():
            raise FileNotFoundError(f"no contract module for {name} at {module}")
        print(f"[{name}] saving markets snapshot", flush=True)
        asyncio.run(save_markets_snapshot(name))
        print(f"[{name}] recording {module.relative_to(REPO_ROOT)}", flush=True)
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                str(module),
                "-q",
                "-p",
                "no:cacheprovider",
                "--record-mode=rewrite",
                "--allowed-hosts=127.0.0.1,localhost",
            ],
            cwd=REPO_ROOT,
        )
        if code == 0:
            _provenance(name, venue)
        worst = max(worst, code)
    return worst
