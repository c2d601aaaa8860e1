"""Benchmark 4: start-up.

Wall time of a fresh interpreter that builds a Broker on the ``binance-futures`` adapter
and loads markets from the on-disk snapshot (a cache hit: any request would fail), against
a fresh interpreter running ``import ccxt``. Median of several runs each, interleaved.
``python -X importtime`` then names the imports that dominate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result, emit, peak_rss_mib

GOAL = 1.3
ROOT = Path(__file__).resolve().parents[1]

READY_SCRIPT = """
import asyncio, sys
from exsdk.broker import Broker
from exsdk.journal import Journal
from exsdk.registry import get_adapter

async def main() -> None:
    adapter = get_adapter("binance-futures", venue="testnet", markets_cache=sys.argv[1])

    async def no_network(*args, **kwargs):
        raise AssertionError("start-up made a request: the markets cache was not used")

    adapter.exchange.fetch = no_network
    broker = Broker(adapter, "preprod", Journal.open(sys.argv[2]))
    markets = await adapter.load_markets()
    assert markets and broker.adapter is adapter
    # Ready. No request was made, so there is no session to close (ccxt's close() would
    # also sleep 250 ms for SSL shutdown, which is not start-up).

asyncio.run(main())
"""


async def _write_cache(path: Path) -> int:
    from bench.transport import install
    from exsdk.registry import get_adapter

    adapter: Any = get_adapter("binance-futures", venue="testnet", markets_cache=str(path))
    install(adapter.exchange)
    markets = await adapter.load_markets()
    await adapter.close()
    return len(markets)


def _wall(cmd: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024.0


def _importtime(cmd: list[str], top: int = 8) -> list[tuple[str, float]]:
    """The packages whose modules take the most import time of their own (ms)."""
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], cwd=ROOT, capture_output=True, text=True
    )
    totals: dict[str, float] = {}
    pattern = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")
    for line in proc.stderr.splitlines():
        found = pattern.match(line)
        if found:
            parts = found.group(2).split(".")
            # ccxt's sync and async trees are told apart: the SDK needs only the latter.
            name = ".".join(parts[:2]) if parts[:2] == ["ccxt", "async_support"] else parts[0]
            totals[name] = totals.get(name, 0.0) + int(found.group(1)) / 1000.0
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def run(quick: bool = False) -> Result:
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-startup-", dir=ROOT) as tmp:
        cache = Path(tmp) / "markets.json"
        count = asyncio.run(_write_cache(cache))
        script = Path(tmp) / "ready.py"
        script.write_text(READY_SCRIPT, encoding="utf-8")
        ready_cmd = [sys.executable, str(script), str(cache), str(Path(tmp) / "j.sqlite")]
        ccxt_cmd = [sys.executable, "-c", "import ccxt"]
        _wall(ready_cmd)  # warm the OS page cache and __pycache__ for both
        _wall(ccxt_cmd)
        sdk_times, ref_times, sdk_rss, ref_rss = [], [], [], []
        for _ in range(repeats):
            t, rss = _wall(ref_cmd := ccxt_cmd)
            ref_times.append(t)
            ref_rss.append(rss)
            t, rss = _wall(ready_cmd)
            sdk_times.append(t)
            sdk_rss.append(rss)
        sdk_top = _importtime(ready_cmd)
        ref_top = _importtime(ref_cmd)
    sdk = statistics.median(sdk_times)
    ref = statistics.median(ref_times)
    ratio = sdk / ref
    notes = [
        f"{count} markets from the cache; medians of {repeats}: broker ready {sdk * 1e3:.0f} ms"
        f" (peak RSS {max(sdk_rss):.0f} MiB), import ccxt {ref * 1e3:.0f} ms"
        f" (peak RSS {max(ref_rss):.0f} MiB)",
        "largest imports, broker ready (own ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in sdk_top),
        "largest imports, import ccxt (own ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in ref_top),
    ]
    return Result(
        name="4 start-up",
        sdk=sdk,
        reference=ref,
        ratio=ratio,
        goal=f"<= {GOAL}x import ccxt",
        passed=ratio <= GOAL,
        peak_rss_mib=max(max(sdk_rss), peak_rss_mib()),
        notes=notes,
        extra={
            "sdk_times": sdk_times,
            "ref_times": ref_times,
            "sdk_rss_mib": max(sdk_rss),
            "ref_rss_mib": max(ref_rss),
            "sdk_imports_ms": sdk_top,
            "ref_imports_ms": ref_top,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
