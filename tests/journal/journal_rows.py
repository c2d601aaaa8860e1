"""One run's worth of every kind of journal row, written through the public writers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exsdk.errors import LiquidityRejected, TransientVenueError
from exsdk.journal import Journal
from exsdk.models import CcxtTrade, ChildOrder, ChildStatus, OmsFill, Order

ETH_ID = 1464553467
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def parent(order_id: int, diff: str) -> Order:
    return Order(
        order_id=order_id,
        creation_timestamp=T0,
        asset_id=ETH_ID,
        type_="price@twap",
        start_timestamp=T0,
        end_timestamp=T0 + timedelta(minutes=2),
        curr_num_shares=Decimal(0),
        diff_num_shares=Decimal(diff),
        tz="UTC",
        extra_params={"note": "ünïcode ✓", "ccxt_symbol": "ETH/USDT:USDT"},
    )


def child(run_id: str, parent_id: int, wave: int, status: ChildStatus, filled: str) -> ChildOrder:
    return ChildOrder(
        parent_order_id=parent_id,
        asset_id=ETH_ID,
        wave=wave,
        client_order_id=f"x{run_id}-{parent_id}-{wave}",
        symbol="ETH/USDT:USDT",
        side="buy",
        order_type="limit",
        amount=Decimal("0.500"),
        limit_price=Decimal("2000.10"),
        status=status,
        filled=Decimal(filled),
        ccxt_order_id=None if status == ChildStatus.INTENT else f"{parent_id}{wave}42",
        reason="a reason with 'quotes' and %s" if status == ChildStatus.REJECTED else None,
    )


def trade(run_id: str, n: int, oid: str, amount: str) -> CcxtTrade:
    return CcxtTrade(
        # Trade ids are unique across the journal (per exchange and symbol), as at a venue.
        id=f"{run_id}{n}",
        order=oid,
        symbol="ETH/USDT:USDT",
        side="buy",
        price=Decimal("2000.10"),
        amount=Decimal(amount),
        fee={"cost": Decimal("0.0400"), "currency": "USDT"},
        timestamp=T0 + timedelta(seconds=n),
    )


def write_run(journal: Journal, run_id: str) -> None:
    """Every writer at least once (a reported fill with trades and one without, errors with
    and without a code, a raw reply holding a secret), as a TWAP run would."""
    journal.record_run(
        run_id,
        adapter="binance-futures",
        exchange="binanceusdm",
        environment="local",
        params={"twap": {"waves": 2}, "passivity": "0.5", "max_age": None},
        started_at=T0,
    )
    journal.record_run_event(run_id, "started", {"clock": T0, "speed": 20.0})
    journal.record_parents(run_id, [(parent(1, "1.0"), "ETH/USDT:USDT"), (parent(2, "-0.5"), "X")])
    for wave in range(2):
        journal.record_child(run_id, child(run_id, 1, wave, ChildStatus.INTENT, "0"))
        journal.record_raw(
            run_id,
            "create_order",
            {"id": f"1{wave}42", "apiKey": "KEY", "info": {"price": "2000.10"}},
            client_order_id=f"x{run_id}-1-{wave}",
        )
        journal.record_child(run_id, child(run_id, 1, wave, ChildStatus.OPEN, "0"))
        journal.record_child(run_id, child(run_id, 1, wave, ChildStatus.CANCELED, "0.25"))
    journal.record_child(run_id, child(run_id, 2, 0, ChildStatus.INTENT, "0"))
    journal.record_child(run_id, child(run_id, 2, 0, ChildStatus.REJECTED, "0"))
    journal.record_error(
        run_id, LiquidityRejected("-4131 outside PERCENT_PRICE", code=-4131, body='{"code":-4131}')
    )
    journal.record_error(run_id, TransientVenueError("timeout"), client_order_id=f"x{run_id}-1-0")
    kw: dict[str, Any] = {"symbol": "ETH/USDT:USDT", "parent_order_id": 1}
    several_fees = CcxtTrade.model_validate(
        {
            **trade(run_id, 3, "1142", "0.25").model_dump(),
            "fee": None,
            "fees": [
                {"cost": Decimal("0.01"), "currency": "USDT"},
                {"cost": Decimal("0.0001"), "currency": "BNB"},
            ],
        }
    )
    trades = [trade(run_id, 1, "1042", "0.125"), trade(run_id, 2, "1042", "0.125"), several_fees]
    journal.record_trades(run_id, "binanceusdm", trades[:2], client_order_id=f"x{run_id}-1-0", **kw)
    # A repeat of a known trade (a later poll of the same order) is ignored.
    journal.record_trades(
        run_id, "binanceusdm", trades[1:2], client_order_id=f"x{run_id}-1-0", **kw
    )
    journal.record_trades(run_id, "binanceusdm", trades[2:], client_order_id=f"x{run_id}-1-1", **kw)
    journal.record_fill(
        run_id,
        OmsFill(
            parent_order_id=1,
            asset_id=ETH_ID,
            symbol="ETH/USDT:USDT",
            quantity=Decimal("0.500"),
            price=Decimal("2000.10"),
            notional=Decimal("1000.05"),
            fees={"USDT": Decimal("0.12")},
            fee_in_quote=Decimal("0.12"),
            quote="USDT",
            num_trades=3,
            first_trade_at=T0,
            last_trade_at=T0 + timedelta(seconds=3),
            child_client_order_ids=(f"x{run_id}-1-0", f"x{run_id}-1-1"),
        ),
        [t.id for t in trades],
    )
    journal.record_fill(
        run_id,
        OmsFill(
            parent_order_id=2,
            asset_id=ETH_ID,
            symbol="ETH/USDT:USDT",
            quantity=Decimal(0),
            price=None,
            notional=Decimal(0),
            fees={},
            fee_in_quote=Decimal(0),
            quote="USDT",
            num_trades=0,
        ),
    )
    journal.record_run_event(run_id, "finished")


def typed_view(journal: Journal, run_id: str) -> dict[str, Any]:
    """What the broker, resume and report read of a run, through the typed readers."""
    return {
        "run": journal.run(run_id),
        "parents": journal.parent_orders(run_id),
        "children": journal.latest_children(run_id),
        "trades": journal.trade_models(run_id),
        "trades_1": journal.trade_models(run_id, parent_order_id=1),
        "fills": journal.latest_fills(run_id),
        "reported_1": journal.reported_trade_ids(run_id, 1),
        "empty_1": journal.reported_empty(run_id, 1),
        "empty_2": journal.reported_empty(run_id, 2),
        "events": journal.run_event_names(run_id),
        "started": journal.run_event_details(run_id, "started"),
        "errors": [
            {k: v for k, v in e.items() if k not in ("seq", "at")}
            for e in journal.error_records(run_id)
        ],
        "activity_known": journal.last_activity(run_id, f"x{run_id}-1-0") is not None,
        "activity_unknown": journal.last_activity(run_id, "nope"),
    }
