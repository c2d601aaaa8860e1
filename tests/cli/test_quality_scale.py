"""The vectorised report equals the row-by-row one.

:func:`execution_quality` (the database's exact integer sums per child, the decimal text of
the trades they cannot hold, no loop over trades) against :func:`execution_quality_rows`
(every trade through its JSON, a model and fold_fill) on a journal the demo wrote, on a
generated TWAP run with fees in three currencies and trades with two fees, and on journals
written through the journal's own writers, on both backends, with the odd cases: no venue
timestamp, no fee, a rebate, a trade of an order no child has, a trade of an unknown client
order id, a non-integer clock rate; amounts, prices and fees of mixed exponents and values
the integer columns cannot hold; a sum beyond 64 bits (SQLite raises, the text is folded).
Each test says which fold ran.
"""

from __future__ import annotations

import base64
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


def _text(quality: ExecutionQuality) -> str:
    """The whole report, its charts' SVG decoded: every figure it shows, drawn or written."""

    def svg(match: re.Match[str]) -> str:
        return base64.b64decode(match.group(1)).decode("utf-8")

    return re.sub(r'src="data:image/svg\+xml;base64,([^"]*)"', svg, render_report(quality))


def assert_same(fast: ExecutionQuality, rows: ExecutionQuality) -> None:
    assert_same_frames(fast, rows)
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
    # The report of either, tables, cards and charts, to the character.
    assert _text(fast) == _text(rows)


def assert_same_frames(fast: ExecutionQuality, rows: ExecutionQuality) -> None:
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


def test_the_demo_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used = _paths(monkeypatch)
    with Journal.open(v1_journal(tmp_path / "demo.sqlite")) as journal:
        fast = execution_quality(journal, V1_RUN)
        rows = execution_quality_rows(journal, V1_RUN)
    assert used == ["sql"]  # the migrated journal's integers, summed by the database
    assert len(fast.parents) == 9 and len(fast.trades) == 10
    assert_same(fast, rows)

    # Every figure the report's tables, cards and charts show is the same, to the character.
    assert _text(fast) == _text(rows)


def test_a_generated_twap_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used = _paths(monkeypatch)
    path = tmp_path / "gen.sqlite"
    count = build_journal(path, parents=7, waves=4, trades_per_child=25, two_fees_every=37)
    with Journal.open(path) as journal:
        assert len(journal.trade_fees(RUN_ID)) > 0  # trades with two fees are in
        fast = execution_quality(journal, RUN_ID)
        rows = execution_quality_rows(journal, RUN_ID)
    assert used == ["sql"]
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


def test_a_venue_trade_journaled_twice_folds_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under two exchange names the journal keeps both rows; fold_fill counts the trade
    once, and so does the report (through the row path, the vectorised one's fallback)."""
    import exsdk.app.quality_frames as frames

    used = _paths(monkeypatch)

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
    assert used == ["sql refused", "chunked refused"]  # then the row path
    assert len(rows.trades) == 11  # drawn twice, folded once
    assert fast.parents["num_trades"].sum() == 10
    assert_same(fast, rows)


def _write_odd_run(
    journal: Journal, run: str, speed: float, trades: dict[str, list[CcxtTrade]]
) -> None:
    """Two TWAP parents of two waves each (1 buys, 2 sells), mid samples, a clock at
    ``speed``, and ``trades`` by client order id (``xodd-P-W``; any other id is no child's)."""
    journal.record_run(
        run,
        adapter="binance-futures",
        exchange="binanceusdm",
        environment="local",
        params={"twap": {"waves": 2, "cancel_lead": 1.0}},
        started_at=T0,
    )
    journal.record_run_event(
        run,
        "experiment",
        {"speed": speed, "wall_origin": WALL0.isoformat(), "clock_origin": T0.isoformat()},
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


WALL0 = T0 - timedelta(hours=1, microseconds=333)
STAMP = int((WALL0 + timedelta(seconds=3)).timestamp() * 1000)


def _paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which fold ran: "sql" (the database's sums) or "chunked" (the text)."""
    import exsdk.app.quality_frames as frames

    used: list[str] = []
    for name, label in (("_sql_fold", "sql"), ("_chunked_fold", "chunked")):
        original = getattr(frames, name)

        def spy(*args: Any, _original: Any = original, _label: str = label, **kw: Any) -> Any:
            result = _original(*args, **kw)
            used.append(_label if result is not None else f"{_label} refused")
            return result

        monkeypatch.setattr(frames, name, spy)
    return used


@pytest.mark.parametrize("speed", [1.0, 1.5, 20.0])
def test_odd_trades_through_the_writers(
    where: str, speed: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = "odd"
    used = _paths(monkeypatch)
    stamp = STAMP
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
            _trade("1", "o20", "1999.9", "0.25", timestamp=stamp + 1, side="sell", symbol="ETH/BTC")
        ],
        "nobody": [_trade("7", "o21", "1999", "9", timestamp=stamp + 2)],  # unknown child
    }
    with Journal.open(where) as journal:
        _write_odd_run(journal, run, speed, trades)
        fast = execution_quality(journal, run)
        rows = execution_quality_rows(journal, run)
    assert used == ["sql"]
    assert fast.parents["num_trades"].tolist() == [4, 1]
    assert len(fast.trades) == 6  # the unknown child's trade is not drawn; o99's is
    assert_same(fast, rows)


def test_mixed_exponents_and_values_the_integers_cannot_hold(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amounts, prices and fees of every exponent in one child, fees in the quote, the base
    and a third currency or none, negative amounts, and values beyond the integer columns
    (more than 18 decimals, 9.2e9 or more) beside ones that fit: the database sums what it
    holds, the text the rest, and the figures are the row path's."""
    used = _paths(monkeypatch)
    fee = {"currency": "USDT"}
    trades = {
        "xodd-1-0": [
            _trade("1", "o10", "2000.1", "0.1", timestamp=STAMP, fee={"cost": "0.08", **fee}),
            _trade("2", "o10", "2000", "1E+1", timestamp=STAMP + 1, fee={"cost": "1E-8", **fee}),
            _trade(
                "3",
                "o10",
                "1999.123456789",
                "0.000001",
                timestamp=STAMP + 2,
                fee={"cost": "0.000000000000000001", "currency": "ETH"},
            ),  # 1e-18 ETH: its notional has 27 decimals, text
            _trade(
                "4",
                "o10",
                "2001.5",
                "0.25",
                timestamp=STAMP + 3,
                fee={"cost": "0.0000000000000000001", **fee},
            ),  # 19 decimals: text
            _trade(
                "5",
                "o10",
                "2000.000000000000000001",
                "0.3",
                timestamp=STAMP + 4,
                fee={"cost": "0.2", "currency": "BNB"},
            ),  # notional of 19 decimals: text
            _trade("6", "o10", "2000", "-0.05", timestamp=STAMP + 5, fee={"cost": "0.01"}),
        ],
        "xodd-1-1": [
            _trade(
                "8",
                "o11",
                "2001.7",
                "0.3",
                timestamp=STAMP + 3001,
                fee={"cost": "0.00015", "currency": "ETH"},
            ),
            _trade("9", "o11", "2002", "0.7", fee={"cost": "0.1", **fee}),  # no time
        ],
        "xodd-2-0": [
            # 9.3e9: beyond the high limb, text. (Not beside parent 1's 1e-18s: a sum of 29
            # significant digits, which fold_fill's Decimal context rounds and the exact
            # folds do not.)
            _trade("7", "o20", "0.5", "9300000000", timestamp=STAMP + 3000, side="sell"),
            _trade("10", "o20", "1999.9", "0.25", timestamp=STAMP + 1, side="sell"),
            _trade(
                "11",
                "o20",
                "1999.95",
                "0.125",
                timestamp=STAMP + 9,
                side="sell",
                fee={"cost": "-0.00001", **fee},
            ),
        ],
    }
    with Journal.open(where) as journal:
        _write_odd_run(journal, "mixed", 20.0, trades)
        inexact = journal.report_inexact_trades("mixed")
        fast = execution_quality(journal, "mixed")
        rows = execution_quality_rows(journal, "mixed")
    assert sorted(inexact["trade_id"]) == ["3", "4", "5", "7"]
    assert used == ["sql"]
    assert fast.parents["num_trades"].tolist() == [8, 3]
    assert_same(fast, rows)


def test_a_sum_beyond_64_bits_is_folded_from_the_text(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each amount fits the integer columns, their sum over one child does not: SQLite
    raises on the overflow and the report folds the text instead; PostgreSQL sums BIGINT
    as numeric, exactly. The figures are the row path's either way."""
    used = _paths(monkeypatch)
    trades = {
        "xodd-1-0": [
            _trade(str(n), "o10", "0.5", "9000000000", timestamp=STAMP + n) for n in range(3)
        ],
        "xodd-2-0": [_trade("9", "o20", "2000", "0.5", timestamp=STAMP, side="sell")],
    }
    with Journal.open(where) as journal:
        _write_odd_run(journal, "big", 1.0, trades)
        fast = execution_quality(journal, "big")
        rows = execution_quality_rows(journal, "big")
        sums = journal.report_trade_sums("big")
        assert journal.failure is None  # an overflow is the report's to handle, not a failure
    if where.startswith("postgresql"):
        assert used == ["sql"] and sums is not None
    else:
        assert used == ["sql refused", "chunked"] and sums is None
    assert fast.parents["filled"].tolist() == [Decimal("27000000000"), Decimal("-0.5")]
    assert_same(fast, rows)


def test_sums_of_a_parent_beyond_64_bits_add_exactly(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each child's summary fits 64 bits, their sum over the parent does not (6e9 twice:
    high limbs of 6e18): the report adds the limbs by parent beyond int64, exactly, from
    the database's sums on both backends."""
    used = _paths(monkeypatch)
    trades = {
        "xodd-1-0": [_trade("1", "o10", "0.5", "6000000000", timestamp=STAMP)],
        "xodd-1-1": [_trade("2", "o11", "0.25", "6000000000", timestamp=STAMP + 3001)],
        "xodd-2-0": [_trade("9", "o20", "2000", "0.5", timestamp=STAMP, side="sell")],
    }
    with Journal.open(where) as journal:
        _write_odd_run(journal, "big2", 1.0, trades)
        fast = execution_quality(journal, "big2")
        rows = execution_quality_rows(journal, "big2")
    assert used == ["sql"]
    assert fast.parents["filled"].tolist() == [Decimal("12000000000"), Decimal("-0.5")]
    assert_same(fast, rows)


def test_the_report_reads_only_the_trades_its_charts_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trades="charts"``: the same figures, and only the price panels' parents' trades,
    thinned as the panels thin them; the report's text is the same to the character."""
    import exsdk.app.quality as quality
    import exsdk.app.report as report

    monkeypatch.setattr(quality, "MAX_POINTS", 7)
    path = tmp_path / "gen.sqlite"
    build_journal(path, parents=15, waves=2, trades_per_child=10, two_fees_every=13)
    with Journal.open(path) as journal:
        charts = execution_quality(journal, RUN_ID, trades="charts")
        full = execution_quality(journal, RUN_ID)
        none = execution_quality(journal, RUN_ID, trades="none")
    assert_same_frames(charts, full)
    assert_same_frames(none, full)
    assert len(none.trades) == 0 and list(none.trades.columns) == list(full.trades.columns)
    shown = quality.chart_parents(full.parents)["parent_order_id"].tolist()
    assert len(shown) == quality.MAX_PANELS < 15
    expected = quality.chart_trades(full.trades[full.trades["parent_order_id"].isin(shown)], 7)
    assert (charts.trades.groupby("parent_order_id").size() == 7).all()  # 20 trades -> every 3rd
    pd.testing.assert_frame_equal(
        charts.trades.reset_index(drop=True), expected.reset_index(drop=True)
    )
    monkeypatch.setattr(report, "MAX_POINTS", 7)
    assert _text(charts) == _text(full)
