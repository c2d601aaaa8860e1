"""A large journal of one TWAP run, written fast, for the report benchmark and its tests.

``parents`` TWAP parents over five futures symbols, one child per wave (``waves``), each
child three states (intent, open, closed) and ``trades_per_child`` trades with one fee
each (90 % USDT, 5 % BNB, 5 % the base currency; one trade in ``two_fees_every`` has two),
top-of-book samples every few seconds, and an accelerated clock (the experiment's clock
event), as ``exsdk experiment`` journals them. Rows go in with ``executemany`` in one
transaction; the JSON columns are what the journal's own writers produce (the same models
and the same canonical JSON), so the row-by-row report reads them as it reads a real run.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from exsdk.journal import Journal
from exsdk.journal.base import EXACT_COLUMNS, exact_columns
from exsdk.models import ChildOrder, Order
from exsdk.universe import asset_id_for

RUN_ID = "bench"
BASES = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "DOGE": 0.15, "BNB": 600.0}
SPEED = 20.0
WAVE_SECONDS = 60.0
CLOCK_ORIGIN = datetime(2024, 1, 1, 12, tzinfo=UTC)
WALL_ORIGIN = datetime(2024, 1, 1, 11, 0, 0, 123456, tzinfo=UTC)


def _wall(clock: datetime) -> datetime:
    """The venue (wall) time of a moment on the run's clock."""
    return WALL_ORIGIN + (clock - CLOCK_ORIGIN) / SPEED


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _num(text: str) -> float | str:
    # As the journal's payloads hold them (exsdk.models.ccxt._float): a float when its repr
    # is the value, else the exact text.
    number = float(text)
    return number if Decimal(repr(number)) == Decimal(text) else text


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def build_journal(
    path: Path,
    *,
    parents: int = 1000,
    waves: int = 10,
    trades_per_child: int = 100,
    seed: int = 11,
    two_fees_every: int = 1000,
) -> int:
    """Write the journal at ``path`` (a new file); return how many trades it holds."""
    rng = random.Random(seed)
    names = list(BASES)
    prices: dict[str, list[str]] = {}
    for base, mid in BASES.items():
        places = 1 if mid > 1000 else 2 if mid > 1 else 5
        pool = {f"{mid * (1 + rng.uniform(-0.005, 0.005)):.{places}f}" for _ in range(3000)}
        prices[base] = sorted(repr(float(p)) for p in pool)
    amounts = sorted({repr(rng.randrange(1, 5000) / 1000) for _ in range(2000)})
    fee_costs = sorted({repr(float(f"{rng.uniform(0.00001, 2):.8f}")) for _ in range(5000)})
    start = CLOCK_ORIGIN + timedelta(seconds=30)
    end = start + timedelta(seconds=WAVE_SECONDS * waves)
    now = datetime.now(UTC).isoformat()

    journal = Journal.open(path, durability="normal")
    journal.record_run(
        RUN_ID,
        adapter="binance-futures",
        exchange="binanceusdm",
        environment="local",
        params={
            "quote": "USDT",
            "twap": {
                "waves": waves,
                "wave_seconds": None,
                "cancel_lead": 1.0,
                "submit_window": None,
            },
        },
        started_at=CLOCK_ORIGIN,
    )
    journal.record_run_event(
        RUN_ID,
        "experiment",
        {
            "speed": SPEED,
            "wall_origin": WALL_ORIGIN.isoformat(),
            "clock_origin": CLOCK_ORIGIN.isoformat(),
            "venue": "sim",
        },
    )
    orders = []
    for p in range(parents):
        base = names[p % len(names)]
        side = 1 if p % 2 == 0 else -1
        orders.append(
            (
                Order(
                    order_id=p,
                    creation_timestamp=start - timedelta(seconds=1),
                    asset_id=asset_id_for("binance", base, "USDT"),
                    type_="price@twap",
                    start_timestamp=start,
                    end_timestamp=end,
                    curr_num_shares=Decimal(0),
                    diff_num_shares=Decimal(side * 3 * waves * trades_per_child),
                    tz="UTC",
                ),
                f"{base}/USDT:USDT",
            )
        )
    journal.record_parents(RUN_ID, orders)

    events: list[tuple[Any, ...]] = []
    trades: list[tuple[Any, ...]] = []
    multi: list[tuple[int, list[tuple[str, str]]]] = []
    mids: list[tuple[Any, ...]] = []
    for base in names:
        symbol = f"{base}/USDT:USDT"
        at = start - timedelta(seconds=10)
        while at < end:
            mid = Decimal(rng.choice(prices[base]))
            tick = Decimal(1).scaleb(Decimal(prices[base][0]).as_tuple().exponent)  # type: ignore[arg-type]
            payload = {
                "ask": str(mid + tick),
                "at": at.isoformat(),
                "bid": str(mid - tick),
                "symbol": symbol,
                "venue_at": _wall(at).isoformat(),
            }
            mids.append((RUN_ID, None, "mid_sample", _dumps(payload), now))
            at += timedelta(seconds=rng.uniform(2, 8))

    trade_id = 272536301
    order_id = 4087922101
    for order, symbol in orders:
        base = symbol.split("/")[0]
        side = "buy" if order.diff_num_shares > 0 else "sell"
        for wave in range(waves):
            created = start + timedelta(seconds=WAVE_SECONDS * wave + rng.uniform(0, 1))
            oid = str(order_id)
            order_id += 1
            total = Decimal(0)
            wave_trades = []
            for _ in range(trades_per_child):
                amount = rng.choice(amounts)
                price = rng.choice(prices[base])
                total += Decimal(amount)
                at = _wall(created + timedelta(seconds=rng.uniform(0, WAVE_SECONDS - 2)))
                wave_trades.append((amount, price, _ms(at)))
            child = ChildOrder(
                parent_order_id=order.order_id,
                asset_id=order.asset_id,
                wave=wave,
                client_order_id=f"x{RUN_ID}-{order.order_id}-{wave}",
                symbol=symbol,
                side=side,
                order_type="limit",
                amount=total,
                limit_price=Decimal(wave_trades[0][1]),
                created_at=_ms(created),  # type: ignore[arg-type]
            )
            for status, update in (
                ("intent", {}),
                ("open", {"ccxt_order_id": oid}),
                ("closed", {"ccxt_order_id": oid, "filled": total}),
            ):
                state = child.model_copy(update={"status": status, **update})
                events.append(
                    (
                        RUN_ID,
                        state.client_order_id,
                        state.parent_order_id,
                        state.wave,
                        status,
                        state.ccxt_order_id,
                        str(state.filled),
                        None,
                        state.model_dump_json(),
                        now,
                        symbol,
                        side,
                        str(state.amount),
                        str(state.limit_price),
                        _ms(created),
                    )
                )
            for amount, price, ms in wave_trades:
                tid = str(trade_id)
                trade_id += 1
                currency = rng.choices(["USDT", "BNB", base], weights=[90, 5, 5])[0]
                fee = rng.choice(fee_costs)
                cost = str(Decimal(amount) * Decimal(price))
                maker = rng.choice(["maker", "taker"])
                fees = [(fee, currency)]
                if trade_id % two_fees_every == 0:
                    fees.append((rng.choice(fee_costs), "BNB"))
                fee_dicts = [{"cost": _num(c), "currency": cur, "rate": None} for c, cur in fees]
                payload = {
                    "amount": _num(amount),
                    "cost": _num(cost),
                    "datetime": datetime.fromtimestamp(ms / 1000, UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S.%f"
                    )[:-3]
                    + "Z",
                    "fee": fee_dicts[0],
                    "fees": fee_dicts,
                    "id": tid,
                    "idDerived": False,
                    "info": {"id": int(tid), "orderId": int(oid), "qty": amount, "price": price},
                    "order": oid,
                    "price": _num(price),
                    "side": side,
                    "symbol": symbol,
                    "takerOrMaker": maker,
                    "timestamp": ms,
                    "type": None,
                }
                one = len(fees) == 1
                trades.append(
                    (
                        RUN_ID,
                        "binanceusdm",
                        symbol,
                        tid,
                        oid,
                        child.client_order_id,
                        order.order_id,
                        side,
                        amount,
                        price,
                        _dumps(payload),
                        now,
                        ms,
                        cost,
                        maker,
                        fee if one else None,
                        currency if one else None,
                        len(fees),
                        *exact_columns(
                            Decimal(amount), Decimal(price), Decimal(fee) if one else None
                        ),
                    )
                )
                if not one:
                    multi.append((len(trades), fees))
    # batch() is one transaction on either backend; the generator writes SQLite directly.
    with journal.batch():
        db = journal._db  # type: ignore[attr-defined]
        db.executemany(
            "INSERT INTO raw_responses (run_id, client_order_id, kind, payload, at)"
            " VALUES (?, ?, ?, ?, ?)",
            mids,
        )
        db.executemany(
            "INSERT INTO child_events (run_id, client_order_id, parent_order_id, wave, status,"
            " ccxt_order_id, filled, reason, child_json, at, symbol, side, amount, limit_price,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            events,
        )
        first = db.execute("SELECT COALESCE(MAX(seq), 0) FROM trades").fetchone()[0]
        db.executemany(
            "INSERT INTO trades (run_id, exchange, symbol, trade_id, ccxt_order_id,"
            " client_order_id, parent_order_id, side, amount, price, payload, at, timestamp,"
            f" cost, taker_or_maker, fee_cost, fee_currency, fee_count, {', '.join(EXACT_COLUMNS)})"
            f" VALUES ({', '.join('?' * (18 + len(EXACT_COLUMNS)))})",
            trades,
        )
        db.executemany(
            "INSERT INTO trade_fees VALUES (?, ?, ?, ?, ?)",
            [
                (RUN_ID, first + n, i, cost, cur)
                for n, fees in multi
                for i, (cost, cur) in enumerate(fees)
            ],
        )
    journal.close()
    return len(trades)


if __name__ == "__main__":
    import sys
    import time

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-report.sqlite")
    target.unlink(missing_ok=True)
    began = time.perf_counter()
    count = build_journal(target, parents=int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    print(f"{count:,} trades in {target} ({time.perf_counter() - began:.1f} s)")
