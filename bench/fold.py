"""Benchmark 5: folding at scale.

1,000,000 journaled trades of 1,000 parents (10 children of 100 trades each) are folded
into one fill per parent (signed quantity, VWAP, notional, fees per currency and in the
quote currency, first and last trade) plus an execution-quality table (fill rate,
slippage in bps against the arrival mid), two ways over the same frame:

* SDK: :func:`exsdk.fills.fold_frame` (exact integer arithmetic on the decimal text the
  journal stores) and a per-parent quality table in ``Decimal`` (with
  :func:`exsdk.app.quality.slippage_bps`, :mod:`exsdk.app.quality`'s own sign convention);
* reference: a plain pandas ``astype(float)`` + ``groupby`` of the same aggregates.

The frame has the journal's ``trades`` columns, plus ``fee_cost``, ``fee_currency`` and
``timestamp``, which the journal keeps only inside each row's JSON ``payload``; reading
them out of the payload, and :func:`exsdk.app.quality.execution_quality_rows` (the per-row path),
are measured on smaller samples and reported beside the headline.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import Result, emit, peak_rss_mib

PARENTS = 1000
CHILDREN = 10
TRADES_PER_CHILD = 100
RATES = {"BNB": Decimal("600")}
BASES = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "DOGE": 0.15, "BNB": 600.0}
GOAL_RATIO = 1.5
GOAL_RATE = 500_000
GOAL_MIB = 1024
T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _pool(rng: random.Random, count: int, make: Any) -> list[str]:
    return [make(rng) for _ in range(count)]


def build(parents: int = PARENTS, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trades frame (journal columns + fee columns) and the parents frame."""
    rng = random.Random(seed)
    names = list(BASES)
    prows = []
    price_pools: dict[str, list[str]] = {}
    for base, mid in BASES.items():
        decimals = 1 if mid > 1000 else 2 if mid > 1 else 5
        price_pools[base] = _pool(
            rng, 4000, lambda r, m=mid, d=decimals: f"{m * (1 + r.uniform(-0.01, 0.01)):.{d}f}"
        )
    amounts = _pool(rng, 2000, lambda r: f"{r.randrange(1, 5000) / 1000:.3f}")
    fees = _pool(rng, 5000, lambda r: f"{r.uniform(0.00001, 2):.8f}")
    per_parent = CHILDREN * TRADES_PER_CHILD
    n = parents * per_parent
    pid_col = np.repeat(np.arange(1, parents + 1), per_parent)
    order_ids = [f"{4087922101 + i}" for i in range(parents * CHILDREN)]
    order_col = [order_ids[i // TRADES_PER_CHILD] for i in range(n)]
    cids = [f"xbench-{p}-{k}" for p in range(1, parents + 1) for k in range(CHILDREN)]
    cid_col = [cids[i // TRADES_PER_CHILD] for i in range(n)]
    symbols, price_col, currency_col = [], [], []
    for p in range(parents):
        base = names[p % len(names)]
        symbol = f"{base}/USDT:USDT"
        arrival = Decimal(price_pools[base][0])
        side = "buy" if p % 2 == 0 else "sell"
        prows.append(
            {
                "parent_order_id": p + 1,
                "symbol": symbol,
                "diff_num_shares": str(Decimal(per_parent) * 3 * (1 if side == "buy" else -1)),
                "arrival_mid": str(arrival),
            }
        )
        pool = price_pools[base]
        symbols.extend([symbol] * per_parent)
        price_col.extend(rng.choices(pool, k=per_parent))
        currency_col.extend(rng.choices(["USDT", "BNB", base], weights=[90, 5, 5], k=per_parent))
    frame = pd.DataFrame(
        {
            "seq": np.arange(1, n + 1),
            "run_id": "bench",
            "exchange": "binanceusdm",
            "symbol": symbols,
            "trade_id": [str(272536301 + i) for i in range(n)],
            "ccxt_order_id": order_col,
            "client_order_id": cid_col,
            "parent_order_id": pid_col,
            "side": np.where(pid_col % 2 == 1, "buy", "sell").astype(object),
            "amount": rng.choices(amounts, k=n),
            "price": price_col,
            "fee_cost": rng.choices(fees, k=n),
            "fee_currency": currency_col,
            "timestamp": int(T0.timestamp() * 1000) + np.arange(n, dtype=np.int64) * 7,
        }
    )
    # Journal order is time order, not parent order: interleave the parents.
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame, pd.DataFrame(prows)


def sdk_fold(trades: pd.DataFrame, parents: pd.DataFrame, *, dedupe: bool) -> pd.DataFrame:
    """SDK path: fold_frame, then the quality table per parent in Decimal."""
    from exsdk.app.quality import BPS, slippage_bps
    from exsdk.fills import fold_frame
    from exsdk.models import Side

    fills = fold_frame(trades, parents, quote="USDT", fee_conversion=RATES, dedupe=dedupe)
    rows = []
    for (pid, fill), diff, mid in zip(
        fills.iterrows(), parents["diff_num_shares"], parents["arrival_mid"], strict=True
    ):
        asked = Decimal(diff)
        side = Side.BUY if asked > 0 else Side.SELL
        vwap = fill["price"]
        arrival = Decimal(mid)
        rows.append(
            {
                "parent_order_id": pid,
                "filled": fill["quantity"],
                "fill_rate": fill["quantity"] / asked if asked else None,
                "vwap": vwap,
                "slippage_arrival_bps": None if vwap is None else slippage_bps(side, vwap, arrival),
                "fees_quote": fill["fee_in_quote"],
                "fee_bps": fill["fee_in_quote"] / fill["notional"] * BPS
                if fill["notional"]
                else None,
            }
        )
    return pd.DataFrame(rows)


def pandas_fold(trades: pd.DataFrame, parents: pd.DataFrame) -> pd.DataFrame:
    """Reference: the same aggregates with floats and one groupby."""
    amount = trades["amount"].astype(float)
    price = trades["price"].astype(float)
    cost = trades["fee_cost"].astype(float)
    currency = trades["fee_currency"]
    base_of = {
        pid: sym.split("/")[0]
        for pid, sym in zip(parents["parent_order_id"], parents["symbol"], strict=True)
    }
    base = trades["parent_order_id"].map(base_of)
    rate = currency.map({k: float(v) for k, v in RATES.items()}).fillna(0.0)
    fee_quote = np.where(
        currency == "USDT", cost, np.where(currency == base, cost * price, cost * rate)
    )
    work = pd.DataFrame(
        {
            "pid": trades["parent_order_id"],
            "amount": amount,
            "notional": amount * price,
            "fee_quote": fee_quote,
            "timestamp": trades["timestamp"],
        }
    )
    agg = work.groupby("pid").agg(
        amount=("amount", "sum"),
        notional=("notional", "sum"),
        fee_quote=("fee_quote", "sum"),
        num_trades=("amount", "size"),
        first=("timestamp", "min"),
        last=("timestamp", "max"),
    )
    fees = pd.DataFrame({"pid": trades["parent_order_id"], "cur": currency, "cost": cost})
    per_currency = fees.groupby(["pid", "cur"])["cost"].sum()
    p = parents.set_index("parent_order_id")
    asked = p["diff_num_shares"].astype(float)
    mid = p["arrival_mid"].astype(float)
    sign = np.sign(asked)
    agg["quantity"] = agg["amount"] * sign
    agg["vwap"] = agg["notional"] / agg["amount"]
    agg["fill_rate"] = agg["quantity"] / asked
    agg["slippage_arrival_bps"] = sign * (agg["vwap"] - mid) / mid * 10_000
    agg["fee_bps"] = agg["fee_quote"] / agg["notional"] * 10_000
    agg.attrs["fees_per_currency"] = per_currency
    return agg


def _time(fn: Any, repeats: int) -> tuple[float, Any]:
    best = float("inf")
    out = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _payload_cost(sample: int = 50_000) -> float:
    """Seconds per trade to read fee and timestamp out of the journal's JSON payload."""
    payload = json.dumps(
        {
            "amount": 0.004,
            "cost": 240.0,
            "fee": {"cost": 0.096, "currency": "USDT", "rate": None},
            "fees": [{"cost": 0.096, "currency": "USDT", "rate": None}],
            "id": "272536301",
            "info": {"buyer": True, "commission": "0.09600000", "qty": "0.004"},
            "order": "4087922101",
            "price": 60000.0,
            "side": "buy",
            "symbol": "BTC/USDT:USDT",
            "takerOrMaker": "taker",
            "timestamp": 1704110400000,
            "type": None,
        },
        sort_keys=True,
    )
    rows = [payload] * sample
    start = time.perf_counter()
    out = []
    for text in rows:
        data = json.loads(text)
        fee = data.get("fee") or {}
        out.append((fee.get("cost"), fee.get("currency"), data.get("timestamp")))
    return (time.perf_counter() - start) / sample


def _quality_module_rate(tmp: Path, parents: int = 20, per_child: int = 100) -> float:
    """Trades per second of exsdk.app.quality.execution_quality_rows (the row-by-row
    path) on a real journal."""
    from exsdk.app.quality import execution_quality_rows
    from exsdk.journal import Journal
    from exsdk.models import CcxtTrade, ChildOrder, Order

    journal = Journal.open(tmp / "quality.sqlite")
    journal._db.execute("PRAGMA synchronous=OFF")  # building the sample, not timing it
    journal.record_run(
        "q",
        adapter="binance-futures",
        exchange="binanceusdm",
        environment="local",
        params={"twap": {"waves": 1, "wave_seconds": None, "cancel_lead": 0.5}},
    )
    orders = []
    for p in range(1, parents + 1):
        orders.append(
            (
                Order(
                    order_id=p,
                    creation_timestamp=T0,
                    asset_id=p,
                    type_="limit",
                    start_timestamp=T0,
                    end_timestamp=T0 + timedelta(minutes=5),
                    curr_num_shares=Decimal(0),
                    diff_num_shares=Decimal("1000"),
                    tz="UTC",
                ),
                "BTC/USDT:USDT",
            )
        )
    journal.record_parents("q", orders)
    count = 0
    for p in range(1, parents + 1):
        for k in range(CHILDREN):
            oid = f"o{p}-{k}"
            child = ChildOrder(
                parent_order_id=p,
                asset_id=p,
                wave=k,
                client_order_id=f"xq-{p}-{k}",
                symbol="BTC/USDT:USDT",
                side="buy",
                order_type="limit",
                amount=Decimal(1),
                ccxt_order_id=oid,
                created_at=T0,
            )
            journal.record_child("q", child)
            trades = [
                CcxtTrade.from_ccxt(
                    {
                        "id": f"{oid}-{t}",
                        "order": oid,
                        "symbol": "BTC/USDT:USDT",
                        "side": "buy",
                        "price": "60000.1",
                        "amount": "0.004",
                        "fee": {"cost": "0.096", "currency": "USDT"},
                        "timestamp": 1704110400000 + t,
                    }
                )
                for t in range(per_child)
            ]
            count += journal.record_trades(
                "q",
                "binanceusdm",
                trades,
                symbol="BTC/USDT:USDT",
                client_order_id=child.client_order_id,
                parent_order_id=p,
            )
    start = time.perf_counter()
    execution_quality_rows(journal, "q")
    elapsed = time.perf_counter() - start
    journal.close()
    return count / elapsed


def run(quick: bool = False) -> Result:
    import tempfile

    parents = 100 if quick else PARENTS
    trades, parent_frame = build(parents)
    n = len(trades)
    base_rss = peak_rss_mib()
    repeats = 2 if quick else 3
    ref_time, ref = _time(lambda: pandas_fold(trades, parent_frame), repeats)
    sdk_time, table = _time(lambda: sdk_fold(trades, parent_frame, dedupe=False), repeats)
    dedupe_time, _ = _time(lambda: sdk_fold(trades, parent_frame, dedupe=True), 1)
    tracemalloc.start()
    sdk_fold(trades, parent_frame, dedupe=False)
    _, sdk_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The two agree to float precision (the reference is the one that rounds).
    check = table.set_index("parent_order_id")
    drift = float(
        np.nanmax(
            np.abs(
                check["vwap"].astype(float).to_numpy() / ref["vwap"].to_numpy() - 1.0,
            )
        )
    )
    payload_s = _payload_cost()
    with tempfile.TemporaryDirectory(prefix="bench-fold-", dir=Path.cwd()) as tmp:
        quality_rate = _quality_module_rate(Path(tmp))
    rate = n / sdk_time
    ratio = sdk_time / ref_time
    peak = peak_rss_mib()
    passed = ratio <= GOAL_RATIO and rate >= GOAL_RATE and peak < GOAL_MIB
    notes = [
        f"{n:,} trades, {parents} parents: fold_frame + quality {sdk_time:.3f} s "
        f"({rate:,.0f} trades/s), pandas float groupby {ref_time:.3f} s "
        f"({n / ref_time:,.0f} trades/s); with dedupe on (order, trade id) {dedupe_time:.3f} s",
        f"peak RSS {peak:.0f} MiB (the frame itself: {base_rss:.0f} MiB at build); "
        f"fold_frame's own Python allocations peak at {sdk_traced / 2**20:.0f} MiB",
        f"VWAPs agree with the float reference to {drift:.1e} relative",
        f"not in the headline: reading fee + timestamp out of the journal's JSON payload "
        f"costs {payload_s * 1e6:.1f} us/trade ({1 / payload_s:,.0f} trades/s); "
        f"exsdk.app.quality.execution_quality_rows (per-row models + fold_fill) runs at "
        f"{quality_rate:,.0f} trades/s",
    ]
    return Result(
        name="5 folding at scale",
        sdk=sdk_time,
        reference=ref_time,
        ratio=ratio,
        goal=f"<= {GOAL_RATIO}x pandas, >= {GOAL_RATE:,} trades/s, < 1 GiB",
        passed=passed,
        peak_rss_mib=peak,
        notes=notes,
        extra={
            "trades": n,
            "trades_per_s": rate,
            "dedupe_s": dedupe_time,
            "payload_us_per_trade": payload_s * 1e6,
            "quality_module_trades_per_s": quality_rate,
            "vwap_relative_drift": drift,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    emit(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
