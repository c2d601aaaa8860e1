"""``exsdk record``: re-record an adapter's cassettes, in the project of the current directory.

It runs the adapter's contract module (``tests/contracts/test_<name>.py``) in
pytest-recording's ``rewrite`` mode from the project's root, so the cassettes land where
the project's pytest configuration says (``exsdk_cassettes``, else ``cassettes/``). The
suite itself saves the markets snapshot first (loaded from the venue once, outside any
cassette), then each contract test starts a fresh simulator with a fixed seed: a
re-recording reproduces the same requests, so the cassettes replay in CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exsdk.contracts.harness import (
    RECORD_SEED,
    build_adapter,
    dialect_for,
    record_venue,
    venue_harness,
)
from exsdk.contracts.project import Project

__all__ = ["record", "save_markets_snapshot"]


async def save_markets_snapshot(adapter_name: str, path: Path) -> Path:
    """Load the adapter's markets from the recording venue and save them at ``path``."""
    async with venue_harness(adapter_name, recording=True) as harness:
        adapter = build_adapter(adapter_name, harness, markets=None)
        try:
            await adapter.load_markets(reload=True)
            markets: dict[str, Any] = adapter.exchange.markets
        finally:
            await adapter.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"adapter": adapter_name, "markets": markets}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str) + "\n")
    return path


def _provenance(root: Path, adapter_name: str, venue: str) -> None:
    """Update ``<cassettes>/README.md``: where and when each set was recorded."""
    readme = root / "README.md"
    lines = readme.read_text().splitlines() if readme.exists() else []
    header = [
        "# Cassettes",
        "",
        "Recorded HTTP per adapter, replayed offline by the contract suite. Hosts are the",
        "venues' canonical ones; API keys and signatures are placeholders. Re-record one set",
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
    where = dialect_for(adapter_name).provenance(venue, RECORD_SEED)
    rows[adapter_name] = f"| {adapter_name} | {where} | {when} | {ccxt.__version__} |"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text("\n".join(header + [rows[k] for k in sorted(rows)]) + "\n")


def record(project: Project, adapter_names: list[str]) -> int:
    """Re-record the named adapters' cassettes; returns pytest's exit code (0 when all ok).

    The venue is the bundled simulator unless ``$EXSDK_RECORD_VENUE`` names another.
    """
    venue = record_venue().value
    worst = 0
    for name in adapter_names:
        module = project.contract_module(name)
        if not module.exists():
            raise FileNotFoundError(f"no contract module for {name} at {module}")
        print(f"[{name}] recording {module.relative_to(project.root)}", flush=True)
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                str(module.relative_to(project.root)),
                "-q",
                "-p",
                "no:cacheprovider",
                "--record-mode=rewrite",
                "--allowed-hosts=127.0.0.1,localhost",
            ],
            cwd=project.root,
        )
        if code == 0:
            _provenance(project.cassettes_root, name, venue)
        worst = max(worst, code)
    return worst
