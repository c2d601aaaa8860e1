"""The vectorised report equals the row-by-row one.

:func:`execution_quality` (typed columns, fold_frame, no loop over trades) against
:func:`execution_quality_rows` (every trade through its JSON, a model and fold_fill) on a
journal the demo wrote, on a generated TWAP run with fees in three currencies and trades
with two fees, and on a journal written through the journal's own writers with the odd
cases: no venue timestamp, no fee, a rebate, a trade of an order no child has, a trade of
an unknown client order id, a non-integer clock rate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.journal_gen import RUN_ID, build_journal
from exsdk.app.quality import ExecutionQuality, execution_quality, execution_quality_rows
from exsdk.app.report import render_report
from exsdk.journal import Journal
from exsdk.models import CcxtTrade, ChildOrder, Order
from tests.broker.test_journal_schema import V1_RUN, v1_journal

FRAMES = ("parents", "total", "waves", "rejections", "children", "mids", "wave_windows")
# Sums of per-trade Decimal products (the row path) and of per-child exact sums (the
# vectorised path) may part in the 28th digit of an unrounded mean; everything shown is
# rounded far above that.
UNROUNDED = {"wave_twap_mid"}


def _same_decimal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return abs(Decimal(a) - Decimal(b)) <= abs(Decimal(b)) * Decimal("1e-20")


def _same(a: Any, b: Any) -> bool:
    # None and NaN (pandas turns one into the other in float columns) are "unknown" both.
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return bool(a == b)
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b) and type(a) is type(b)


@pytest.fixture(autouse=True)
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vectorised path must not hand these journals to the row path."""
    import exsdk.app.quality_frames as frames

    def refuse(*args: Any) -> Any:
        raise AssertionError("the vectorised report fell back to the row path")

    monkeypatch.setattr(frames, "execution_quality_rows", refuse)


def assert_same(fast: ExecutionQuality, rows: ExecutionQuality) -> None:
    for name in FRAMES:
        a, b = getattr(fast, name), getattr(rows, name)
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        for column in a.columns:
            left, right = a[column].tolist(), b[column].tolist()
            if column in UNROUNDED:
                assert all(map(_same_decimal, left, right)), (name, column)
            else:
                same = [_same(x, y) for x, y in zip(left, right, strict=True)]
                assert all(same), (name, column, left[:3], right[:3])
    assert (fast.run_id, fast.speed, fast.started_at) == (rows.run_id, rows.speed, rows.started_at)
    # Trades: the same rows (the vectorised frame keeps journal order and decimal text).
    assert len(fast.trades) == len(rows.trades)

    def key(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
        return sorted(
            (
                int(r["parent_order_id"]),
                r["client_order_id"],
                r["symbol"],
                int(r["wave"]),
                r["side"],
                Decimal(r["price"]),
                Decimal(r["amount"]),
                pd.Timestamp(r["at"]),
                r["maker"],
            )
            for r in frame.to_dict("records")
        )

    assert key(fast.trades) == key(rows.trades)


def test_the_demo_journal(tmp_path: Path) -> None:
    with Journal.open(v1_journal(tmp_path / "demo.sqlite")) as journal:
        fast = execution_quality(journal, V1_RUN)
        rows = execution_quality_rows(journal, V1_RUN)
    assert len(fast.parents) == 9 and len(fast.trades) == 10
    assert_same(fast, rows)

    # Every figure the report's tables and cards show is the same, to the character (the
    # charts' SVG carries matplotlib's own element ids, which differ from render to render).
    def text(quality: ExecutionQuality) -> str:
        return re.sub(r'src="data:image/svg\+xml;base64,[^"]*"', "", render_report(quality))

    assert text(fast) == text(rows)


def test_a_generated_twap_run(tmp_path: Path) -> None:
    path = tmp_path / "gen.sqlite"
    count = build_journal(path, parents=7, waves=4, trades_per_child=25, two_fees_every=37)
    with Journal.open(path) as journal:
        assert len(journal.trade_fees(RUN_ID)) > 0  # trades with two fees are in
        fast = execution_quality(journal, RUN_ID)
        rows = execution_quality_rows(journal, RUN_ID)
    assert count == 7 * 4 * 25 and len(fast.trades) == count
    assert fast.parents["num_trades"].tolist() == [100] * 7
    assert_same(fast, rows)


T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _order(pid: int, diff: str) -> Order:
    return Order(
        order_id=pid,
        creation_timestamp=T0,
        asset_id=pid,
        type_="price@twap",
        start_timestamp=T0,
        end_timestamp=T0 + timedelta(minutes=2),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
    )


def _trade(tid: str, order: str, price: str, amount: str, **extra: Any) -> CcxtTrade:
    data = {"id": tid, "order": order, "symbol": "ETH/USDT:USDT", "price": price}
    return CcxtTrade.from_ccxt({**data, "amount": amount, **extra})


def test_a_venue_trade_journaled_twice_folds_once(tmp_path: Path) -> None:
    """Under two exchange names the journal keeps both rows; fold_fill counts the trade
    once, and so does the report (through the row path, the vectorised one's fallback)."""
    import exsdk.app.quality_frames as frames

    with Journal.open(v1_journal(tmp_path / "demo.sqlite")) as journal:
        [trade] = journal.trade_models(V1_RUN)[:1]
        row = journal.trades(V1_RUN).iloc[0]
        journal.record_trades(
            V1_RUN,
            "another-name",
            [trade],
            symbol=str(row["symbol"]),
            client_order_id=str(row["client_order_id"]),
            parent_order_id=int(row["parent_order_id"]),
        )
        fallback = pytest.MonkeyPatch()
        fallback.setattr(frames, "execution_quality_rows", execution_quality_rows)
        try:
            fast = execution_quality(journal, V1_RUN)
        finally:
            fallback.undo()
        rows = execution_quality_rows(journal, V1_RUN)
    assert len(rows.trades) == 11  # drawn twice, folded once
    assert fast.parents["num_trades"].sum() == 10
    assert_same(fast, rows)


@pytest.mark.parametrize("speed", [1.0, 1.5, 20.0])
def test_odd_trades_through_the_writers(tmp_path: Path, speed: float) -> None:
    run = "odd"
    with Journal.open(tmp_path / "odd.sqlite") as journal:
        journal.record_run(
            run,
            adapter="binance-futures",
            exchange="binanceusdm",
            environment="local",
            params={"twap": {"waves": 2, "cancel_lead": 1.0}},
            started_at=T0,
        )
        wall0 = T0 - timedelta(hours=1, microseconds=333)
        journal.record_run_event(
            run,
            "experiment",
            {"speed": speed, "wall_origin": wall0.isoformat(), "clock_origin": T0.isoformat()},
        )
        journal.record_parents(
            run, [(_order(1, "2"), "ETH/USDT:USDT"), (_order(2, "-1"), "ETH/USDT:USDT")]
        )
        for mid, seconds in (("2000", -5), ("2001", 20), ("1999.5", 70), ("2002", 100)):
            journal.record_raw(
                run,
                "mid_sample",
                {
                    "symbol": "ETH/USDT:USDT",
                    "bid": str(Decimal(mid) - Decimal("0.1")),
                    "ask": str(Decimal(mid) + Decimal("0.1")),
                    "at": (T0 + timedelta(seconds=seconds)).isoformat(),
                },
            )
        for pid, side in ((1, "buy"), (2, "sell")):
            for wave in range(2):
                child = ChildOrder(
                    parent_order_id=pid,
                    asset_id=pid,
                    wave=wave,
                    client_order_id=f"xodd-{pid}-{wave}",
                    symbol="ETH/USDT:USDT",
                    side=side,
                    order_type="limit",
                    amount=Decimal("0.5"),
                    limit_price=Decimal("2000.5"),
                    created_at=T0 + timedelta(seconds=60 * wave),
                )
                journal.record_child(run, child)
                journal.record_child(
                    run,
                    child.model_copy(
                        update={
                            "status": "canceled",
                            "ccxt_order_id": f"o{pid}{wave}",
                            "filled": Decimal("0.3"),
                        }
                    ),
                )
        stamp = int((wall0 + timedelta(seconds=3)).timestamp() * 1000)
        trades = {
            "xodd-1-0": [
                _trade(
                    "1",
                    "o10",
                    "2000.1",
                    "0.1",
                    timestamp=stamp,
                    fee={"cost": "0.08", "currency": "USDT"},
                ),
                _trade(
                    "2", "o10", "2000.3", "0.2", fee={"cost": "-0.001", "currency": "USDT"}
                ),  # no time
                _trade("3", "o99", "1990", "5", timestamp=stamp + 7),  # no child has order o99
            ],
            "xodd-1-1": [
                _trade("4", "o11", "2001.7", "0.3", timestamp=stamp + 3000, takerOrMaker="maker"),
                _trade(
                    "5",
                    "o11",
                    "2001.9",
                    "0.01",
                    timestamp=stamp + 3100,
                    fees=[
                        {"cost": "0.0001", "currency": "BNB"},
                        {"cost": "0.00001", "currency": "ETH"},
                    ],
                ),
            ],
            # Trade ids are per symbol on the venue: "1" again, of another symbol and order.
            "xodd-2-0": [
                _trade(
                    "1", "o20", "1999.9", "0.25", timestamp=stamp + 1, side="sell", symbol="ETH/BTC"
                )
            ],
            "nobody": [_trade("7", "o21", "1999", "9", timestamp=stamp + 2)],  # unknown child
        }
        for cid, items in trades.items():
            pid = 2 if cid.startswith("xodd-2") or cid == "nobody" else 1
            journal.record_trades(
                run,
                "binanceusdm",
                items,
                symbol="ETH/USDT:USDT",
                client_order_id=cid,
                parent_order_id=pid,
            )
        fast = execution_quality(journal, run)
        rows = execution_quality_rows(journal, run)
    assert fast.parents["num_trades"].tolist() == [4, 1]
    assert len(fast.trades) == 6  # the unknown child's trade is not drawn; o99's is
    assert_same(fast, rows)
