"""What ``Journal.record_trades`` costs per trade (issue 18 goal 4: the trade summary is
written with the trades, so its cost lands here).

A child's fetch as the broker journals it: ``record_trades`` of 100 new trades of one
child (one fee each, one in ten with two), one transaction, into a SQLite file at
``durability="normal"`` (no fsync: what is timed is the SQL and the Python around it, not
the disk) and into ``:memory:``. Each timed round writes ``--batches`` batches into a
fresh journal; the figure is the median over ``--repeat`` rounds of the time per trade.
With ``--baseline DIR`` another revision's ``exsdk`` package (first on ``PYTHONPATH``) runs
the same rounds in its own processes, interleaved with this one's.

    python -m bench.trade_write [--baseline DIR] [--repeat 5] [--batches 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_ROUND = """
import json, sys, time, tempfile, os
from exsdk.journal import Journal
from exsdk.models import CcxtTrade
where, batches = sys.argv[1], int(sys.argv[2])

def trades(child, n):
    out = []
    for i in range(n):
        fees = [{"cost": f"0.0{i % 7 + 1}", "currency": "USDT"}]
        if i % 10 == 9:
            fees.append({"cost": "0.001", "currency": "BNB"})
        out.append(CcxtTrade.from_ccxt({
            "id": f"{child}-{i}", "order": f"o{child}", "symbol": "ETH/USDT:USDT",
            "side": "buy", "price": f"{3000 + i % 50}.{i % 10}", "amount": f"0.{i % 9 + 1}",
            "cost": None, "timestamp": 1704110400000 + i, "fees": fees,
        }))
    return out

made = [trades(c, 100) for c in range(batches)]
with tempfile.TemporaryDirectory() as tmp:
    path = ":memory:" if where == "memory" else os.path.join(tmp, "j.sqlite")
    journal = Journal.open(path, durability="normal")
    journal.record_run("r", adapter="a", exchange="x", environment="local", params={})
    start = time.perf_counter()
    for c, batch in enumerate(made):
        journal.record_trades("r", "binanceusdm", batch, symbol="ETH/USDT:USDT",
                              client_order_id=f"r-{c}", parent_order_id=c)
    took = time.perf_counter() - start
    journal.close()
print(json.dumps(took / (100 * batches)))
"""


def _round(where: str, batches: int, baseline: Path | None) -> float:
    env = None if baseline is None else {**os.environ, "PYTHONPATH": str(baseline)}
    out = subprocess.run(
        [sys.executable, "-c", _ROUND, where, str(batches)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batches", type=int, default=100)
    args = parser.parse_args()
    for where in ("file", "memory"):
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(args.repeat):
            if args.baseline is not None:
                theirs.append(_round(where, args.batches, args.baseline))
            ours.append(_round(where, args.batches, None))
        line = f"record_trades, {where}: {statistics.median(ours) * 1e6:.1f} us/trade"
        line += f" (rounds: {', '.join(f'{x * 1e6:.1f}' for x in ours)})"
        if theirs:
            b = statistics.median(theirs)
            line += (
                f"; baseline {b * 1e6:.1f} us/trade ({', '.join(f'{x * 1e6:.1f}' for x in theirs)})"
                f"; this / baseline {statistics.median(ours) / b:.2f}x"
            )
        print(line)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")


if __name__ == "__main__":
    main()
