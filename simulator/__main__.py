"""``python -m exsdk.simulator --port 0 --seed 7``."""

from __future__ import annotations

import argparse

from exsdk.simulator.exchange_info import DEFAULT_FUTURES_SNAPSHOT, DEFAULT_SPOT_SNAPSHOT
from exsdk.simulator.server import run_forever


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m exsdk.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tick-seconds", type=float, default=None)
    parser.add_argument("--clock-speed", type=float, default=1.0)
    parser.add_argument("--futures-snapshot", default=DEFAULT_FUTURES_SNAPSHOT)
    parser.add_argument("--spot-snapshot", default=DEFAULT_SPOT_SNAPSHOT)
    args = parser.parse_args(argv)
    run_forever(
        args.port,
        args.seed,
        tick_seconds=args.tick_seconds,
        clock_speed=args.clock_speed,
        futures_snapshot=args.futures_snapshot,
        spot_snapshot=args.spot_snapshot,
    )


if __name__ == "__main__":
    main()
