"""Running the simulator as a standalone process."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from exsdk.simulator.venue import SimulatedBinance


async def serve(port: int, seed: int, host: str = "127.0.0.1", **kwargs: Any) -> None:
    """Serve until SIGINT/SIGTERM; print the listening line first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimulatedBinance(seed=seed, host=host, port=port, **kwargs) as venue:
        print(f"simulator listening on {venue.base_url}", flush=True)
        sys.stdout.flush()
        await stop.wait()


def run_forever(port: int, seed: int, host: str = "127.0.0.1", **kwargs: Any) -> None:
    """Blocking entry point used by the project CLI (kwargs go to SimulatedBinance)."""
    asyncio.run(serve(port, seed, host, **kwargs))
