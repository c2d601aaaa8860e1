"""Execution quality from a hand-built journal: known trades give known bps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.app.experiment import MID_SAMPLE
from exsdk.app.quality import (
    ClockMap,
    execution_quality,
    rejection_reason,
    slippage_bps,
    time_weighted_mean,
)
from exsdk.app.report import write_report
from exsdk.journal import Journal
from exsdk.models import CcxtTrade, ChildOrder, ChildStatus, Fee, Order
from exsdk.universe import asset_id_for

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
RUN = "q1"
BTC = "BTC/USDT"
ETH = "ETH/USDT"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def parent(order_id: int, base: str, diff: str) -> Order:
    return Order(
        order_id=order_id,
        creation_timestamp=T0,
        asset_id=asset_id_for("binance", base, "USDT"),
        type_="price@twap",
        start_timestamp=T0,
        end_timestamp=at(60),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
    )


def child(pid: int, wave: int, symbol: str, side: str, **kw: object) -> ChildOrder:
    return ChildOrder(
        parent_order_id=pid,
        asset_id=0,
        wave=wave,
        client_order_id=f"x{RUN}-{pid}-{wave}",
        symbol=symbol,
        side=side,
        order_type="limit",
        created_at=at(30 * wave),
        **kw,  # type: ignore[arg-type]
    )


def trade(
    tid: str, oid: str, symbol: str, side: str, price: str, amount: str, fee: Fee, seconds: float
) -> CcxtTrade:
    return CcxtTrade(
        id=tid,
        order=oid,
        symbol=symbol,
        side=side,
        price=Decimal(price),
        amount=Decimal(amount),
        fee=fee,
        timestamp=at(seconds),
    )


def mid(journal: Journal, symbol: str, seconds: float, value: str) -> None:
    half = Decimal("0.1")
    journal.record_raw(
        RUN,
        MID_SAMPLE,
        {
            "symbol": symbol,
            "bid": Decimal(value) - half,
            "ask": Decimal(value) + half,
            "at": at(seconds),
        },
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "q.sqlite")
    j.record_run(
        RUN,
        adapter="binance-spot",
        exchange="binance",
        environment="prod",
        params={"twap": {"waves": 2, "wave_seconds": None, "cancel_lead": 0.5}},
        started_at=T0,
    )
    j.record_parents(RUN, [(parent(0, "BTC", "2"), BTC), (parent(1, "ETH", "-1"), ETH)])
    # BTC: mid 100 through wave 0, 110 through wave 1.
    mid(j, BTC, 0, "100")
    mid(j, BTC, 30, "110")
    # ETH: mid 100 throughout.
    mid(j, ETH, 0, "100")
    buy0 = child(
        0,
        0,
        BTC,
        "buy",
        amount=Decimal(1),
        limit_price=Decimal(101),
        status=ChildStatus.CLOSED,
        ccxt_order_id="o1",
        filled=Decimal(1),
    )
    buy1 = child(
        0,
        1,
        BTC,
        "buy",
        amount=Decimal(1),
        limit_price=Decimal(110),
        status=ChildStatus.CLOSED,
        ccxt_order_id="o2",
        filled=Decimal(1),
    )
    sell0 = child(
        1,
        0,
        ETH,
        "sell",
        amount=Decimal(1),
        limit_price=Decimal(100),
        status=ChildStatus.REJECTED,
        reason='[binanceusdm] {"code":-4131,"msg":"The counterparty\'s best price"}',
    )
    sell1 = child(
        1,
        1,
        ETH,
        "sell",
        amount=Decimal(1),
        limit_price=Decimal(99),
        status=ChildStatus.CANCELED,
        ccxt_order_id="o3",
        filled=Decimal("0.5"),
    )
    for c in (buy0, buy1, sell0, sell1):
        j.record_child(RUN, c)
    usdt = "USDT"
    for c, t in (
        (
            buy0,
            trade(
                "t1", "o1", BTC, "buy", "101", "1", Fee(cost=Decimal("0.0505"), currency=usdt), 10
            ),
        ),
        (
            buy1,
            trade(
                "t2", "o2", BTC, "buy", "110", "1", Fee(cost=Decimal("0.055"), currency=usdt), 40
            ),
        ),
        # A fee in the base currency is converted at the trade's price: 0.0005 ETH = 0.0495.
        (
            sell1,
            trade(
                "t3",
                "o3",
                ETH,
                "sell",
                "99",
                "0.5",
                Fee(cost=Decimal("0.0005"), currency="ETH"),
                35,
            ),
        ),
    ):
        j.record_trades(
            RUN,
            "binance",
            [t],
            symbol=c.symbol,
            client_order_id=c.client_order_id,
            parent_order_id=c.parent_order_id,
        )
    yield j
    j.close()


def test_per_parent_metrics(journal: Journal) -> None:
    q = execution_quality(journal, RUN)
    rows = {r["parent_order_id"]: r for r in q.parents.to_dict("records")}
    btc, eth = rows[0], rows[1]
    assert btc["filled"] == Decimal(2) and btc["filled_of_asked"] == Decimal("1.0000")
    # What was sent for it: both children, 1 + 1.
    assert btc["sent"] == Decimal(2) and btc["filled_of_sent"] == Decimal("1.0000")
    assert btc["vwap"] == Decimal("105.5")
    assert btc["arrival_mid"] == Decimal(100)
    # (105.5 - 100) / 100 = 550 bps paid against the arrival mid.
    assert btc["slippage_arrival_bps"] == Decimal("550.00")
    # Trade 1: (101 - 100) / 100 = 100 bps; trade 2: (110 - 110) / 110 = 0; qty weighted: 50.
    assert btc["slippage_twap_bps"] == Decimal("50.00")
    assert btc["fee_bps"] == Decimal("5.00")
    assert btc["time_to_first_fill_s"] == 10 and btc["time_to_fill_s"] == 40
    # A sell 1 below the mid costs (100 - 99) / 100 = 100 bps on both references.
    assert eth["side"] == "sell" and eth["filled"] == Decimal("-0.5")
    assert eth["filled_of_asked"] == Decimal("0.5000")
    # The rejected child never reached the venue: sent is the cancelled one only.
    assert eth["sent"] == Decimal(-1) and eth["filled_of_sent"] == Decimal("0.5000")
    assert eth["slippage_arrival_bps"] == Decimal("100.00")
    assert eth["slippage_twap_bps"] == Decimal("100.00")
    assert eth["fee_bps"] == Decimal("10.00")
    assert eth["rejected"] == 1 and eth["children"] == 1


def test_total_is_notional_weighted(journal: Journal) -> None:
    total = execution_quality(journal, RUN).total.iloc[0]
    assert total["filled_notional"] == Decimal("260.50")
    assert total["asked_notional"] == Decimal("300.00")
    # The rows' rates weighted by asked notional at the arrival mid (BTC 2 x 100, ETH
    # 1 x 100): (1.0 x 200 + 0.5 x 100) / 300, not filled-at-VWAP over asked-at-mid.
    assert total["filled_of_asked"] == Decimal("0.8333")
    assert total["filled_of_sent"] == Decimal("0.8333")
    expected = (Decimal(211) * 550 + Decimal("49.5") * 100) / Decimal("260.5")
    assert total["slippage_arrival_bps"] == expected.quantize(Decimal("0.01"))
    assert total["fee_bps"] == (Decimal("0.155") / Decimal("260.5") * 10000).quantize(
        Decimal("0.01")
    )


def test_waves_and_rejections(journal: Journal) -> None:
    q = execution_quality(journal, RUN)
    waves = {w["wave"]: w for w in q.waves.to_dict("records")}
    # Disjoint counts: the rejected child was never sent; sent = filled + partly + ...
    assert (waves[0]["sent"], waves[0]["filled"], waves[0]["rejected"]) == (1, 1, 1)
    assert (waves[1]["sent"], waves[1]["filled"], waves[1]["partly"]) == (2, 1, 1)
    for w in waves.values():
        assert w["sent"] == w["filled"] + w["partly"] + w["unfilled"] + w["open"]
    # Wave 1 at the parents' arrival mids (100 both): filled 1 + 0.5 of 1 + 1 sent.
    assert waves[1]["filled_of_sent"] == Decimal("0.7500")
    rejections = q.rejections.to_dict("records")
    assert rejections == [
        {
            "reason": "-4131 liquidity: price outside the venue's allowed band",
            "symbol": ETH,
            "count": 1,
        }
    ]


def test_report_embeds_charts(journal: Journal, tmp_path: Path) -> None:
    out = write_report(journal, RUN, tmp_path / "r" / "q1.html")
    text = out.read_text()
    assert text.count("data:image/svg+xml;base64,") == 3
    assert ">550<" in text and "-4131" in text


def test_helpers() -> None:
    assert slippage_bps("buy", Decimal(101), Decimal(100)) == Decimal(100)  # type: ignore[arg-type]
    assert slippage_bps("sell", Decimal(101), Decimal(100)) == Decimal(-100)  # type: ignore[arg-type]
    samples = [(at(0), Decimal(100)), (at(10), Decimal(200))]
    assert time_weighted_mean(samples, at(0), at(20)) == Decimal(150)
    assert time_weighted_mean(samples, at(5), at(15)) == Decimal(150)
    assert time_weighted_mean([], at(0), at(1)) is None
    assert rejection_reason('x {"code":-2019,"msg":"Margin is insufficient."}').startswith("-2019")
    clock = ClockMap(speed=10, wall_origin=T0, clock_origin=T0)
    assert clock.to_clock(at(2)) == at(20)


@pytest.mark.parametrize(
    ("reason", "grouped"),
    [
        (
            '[binanceusdm] binanceusdm {"code":-4131,"msg":"The counterparty\'s best price '
            'does not meet the PERCENT_PRICE filter limit."} (code -4131)',
            "-4131 liquidity: price outside the venue's allowed band",
        ),
        (
            '[bybit] bybit {"retCode":110003,"retMsg":"Order price is out of permissible '
            'range","result":{},"retExtInfo":{},"time":1} (code 110003)',
            "110003 liquidity: price outside the venue's allowed band",
        ),
        (
            '[bybit] bybit {"retCode":170131,"retMsg":"Insufficient balance.","result":{}} '
            "(code 170131)",
            "170131 Insufficient balance.",
        ),
        ("not trading on binanceusdm now (status 'SETTLING'): not sent", None),
    ],
    ids=["binance-band", "bybit-band", "bybit-funds", "policy"],
)
def test_rejections_group_by_the_venue_family_code(reason: str, grouped: str | None) -> None:
    """Each venue family's code is read by its own table: a price band is one group name
    on every venue, Bybit's retMsg is the text, a policy reason stays as written."""
    assert rejection_reason(reason) == (grouped if grouped is not None else reason[:80])


def test_the_time_weighted_mean_by_bisection_is_the_scan() -> None:
    # time_weighted_mean finds the carried-in sample and the span's samples by bisection;
    # the scan over every sample it replaced is the reference: ties on a time, spans
    # starting or ending on a sample, before the first, after the last, empty.
    import random

    import pandas as pd

    def scan(samples: list[tuple[datetime, Decimal]], start: datetime, end: datetime) -> Any:
        ordered = sorted(samples)
        if end <= start:
            return None
        before = [s for s in ordered if s[0] <= start]
        inside = [s for s in ordered if start < s[0] < end]
        points = ([(start, before[-1][1])] if before else []) + inside
        if not points:
            return None
        total = weight = Decimal(0)
        for i, (t, value) in enumerate(points):
            until = points[i + 1][0] if i + 1 < len(points) else end
            seconds = Decimal(str((until - t).total_seconds()))
            total += value * seconds
            weight += seconds
        return points[-1][1] if weight == 0 else total / weight

    rng = random.Random(3)
    for _ in range(300):
        times = [rng.randrange(0, 40) for _ in range(rng.randrange(0, 12))]
        # As the report holds them: pandas Timestamps from the mids frame.
        samples = [(pd.Timestamp(at(t)), Decimal(rng.randrange(1, 999))) for t in times]
        start, end = rng.randrange(-5, 45), rng.randrange(-5, 45)
        got = time_weighted_mean(samples, at(start), at(end))
        assert got == scan(samples, at(start), at(end)), (times, start, end)
