"""ccxt's own parsed structures from ten exchanges go through the models, losing nothing.

The structures are ccxt's static response tests (``tests/samples/ccxt_static/``, see its
README): what ccxt's parsers produce from real replies of bybit, okx, kraken, kucoin,
hyperliquid, gate, coinbase, bitfinex, mexc and cryptocom. Each one must be accepted (none
of them is something no caller could act on), and every non-null value ccxt gave must be
carried by the model exactly: numbers as the Decimal of their text, timestamps to the
millisecond, the raw ``info`` as it came.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exsdk.errors import SdkError
from exsdk.models import (
    Balances,
    CcxtOrder,
    CcxtTrade,
    OrderBook,
    OrderRequest,
    Position,
    Side,
    Ticker,
)

STATIC = Path(__file__).resolve().parents[1] / "samples" / "ccxt_static"

ORDER_METHODS = {
    "createOrder",
    "createOrderWithTakeProfitAndStopLoss",
    "createMarketBuyOrderWithCost",
    "editOrder",
    "cancelOrder",
    "fetchOrder",
    "fetchOrders",
    "fetchOpenOrders",
    "fetchClosedOrders",
    "fetchClosedOrder",
}
KINDS = {
    **dict.fromkeys(ORDER_METHODS, "order"),
    "fetchTrades": "trade",
    "fetchMyTrades": "trade",
    "fetchPositions": "position",
    "fetchPosition": "position",
    "fetchBalance": "balance",
    "fetchOrderBook": "orderbook",
    "fetchTicker": "ticker",
}
MODELS: dict[str, Any] = {
    "order": CcxtOrder,
    "trade": CcxtTrade,
    "position": Position,
    "balance": Balances,
    "orderbook": OrderBook,
    "ticker": Ticker,
}


def _request(method: str, args: list[Any]) -> OrderRequest | None:
    """What the SDK itself would have sent for this call, as the adapter passes it."""
    arg = dict(enumerate(args))

    def text(i: int) -> Any:
        value = arg.get(i)
        return value if value not in (None, "") else None

    if method in ("createOrder", "createOrderWithTakeProfitAndStopLoss"):
        order_type = text(1)
        return OrderRequest(
            symbol=text(0),
            type=order_type,
            side=Side(text(2)),
            amount=text(3),
            price=text(4) if order_type == "limit" else None,
        )
    if method == "createMarketBuyOrderWithCost":
        return OrderRequest(symbol=text(0), type="market", side=Side.BUY)
    if method == "editOrder":
        side = text(3)
        return OrderRequest(
            symbol=text(1),
            type=text(2),
            side=None if side is None else Side(side),
            amount=text(4),
            price=text(5),
        )
    if method in ("cancelOrder", "fetchOrder", "fetchClosedOrder"):
        return OrderRequest(symbol=text(1))
    if method in ("fetchOrders", "fetchOpenOrders", "fetchClosedOrders"):
        return OrderRequest(symbol=text(0))
    return None


def _cases() -> Iterator[tuple[str, str, str, Any, OrderRequest | None]]:
    for path in sorted(STATIC.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for test in doc["tests"]:
            kind = KINDS[test["method"]]
            parsed = test["parsedResponse"]
            request = _request(test["method"], test["input"])
            for entry in parsed if isinstance(parsed, list) else [parsed]:
                label = f"{doc['exchange']} {test['method']}: {test['description']}"
                yield doc["exchange"], kind, label, entry, request


CASES = list(_cases())


def _build(kind: str, entry: Any, request: OrderRequest | None) -> Any:
    if kind == "order":
        return CcxtOrder.from_ccxt(entry, request)
    return MODELS[kind].from_ccxt(entry)


# ----- "nothing silently lost" --------------------------------------------------------------


def _empty(value: Any) -> bool:
    # ccxt's "not known": null, or a fee whose every value is null.
    if value is None:
        return True
    return isinstance(value, Mapping) and all(v is None for v in value.values())


def _field(model: Any, key: str) -> tuple[bool, Any]:
    for name, info in type(model).model_fields.items():
        if key in (info.alias, name):
            return True, getattr(model, name)
    return False, None


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def _same(given: Any, kept: Any) -> bool:
    """``kept`` carries ``given`` exactly (numbers by their text, enums by value)."""
    if isinstance(given, bool) or given is None:
        return bool(given is kept)
    if isinstance(given, int | float):
        if isinstance(kept, datetime):
            return _ms(kept) == given
        if isinstance(kept, int):
            return kept == given
        # exact: the same digits and exponent as the number's text, not just equal
        return isinstance(kept, Decimal) and Decimal(repr(given)).as_tuple() == kept.as_tuple()
    if isinstance(given, str):
        if isinstance(kept, Decimal):
            return Decimal(given).as_tuple() == kept.as_tuple()
        return kept is not None and str(kept).lower() == given.lower()
    return bool(given == kept)


def losses(model: Any, given: Mapping[str, Any], where: str = "") -> list[str]:
    """Every non-null value of ``given`` the model does not carry, as ``key=value``."""
    lost: list[str] = []
    for key, value in given.items():
        if _empty(value):
            continue
        name = f"{where}{key}"
        if key == "datetime":
            stamp = getattr(model, "timestamp", None)
            if stamp is None or stamp.strftime("%Y-%m-%dT%H:%M:%S") != value[:19]:
                lost.append(f"{name}={value!r}")
            continue
        if isinstance(model, CcxtOrder) and key == "trades":
            for i, trade in enumerate(value):
                if trade.get("price") is None or trade.get("amount") is None:
                    # a stub (kraken): only its id is information, kept in trade_ids
                    if str(trade["id"]) not in model.trade_ids:
                        lost.append(f"{name}[{i}].id={trade['id']!r}")
                    continue
                match = [t for t in model.trades if t.id == str(trade.get("id"))]
                if not match:
                    lost.append(f"{name}[{i}]")
                else:
                    lost += losses(match[0], trade, f"{name}[{i}].")
            continue
        if isinstance(model, CcxtTrade) and key == "orderId":
            if model.order != str(value):
                lost.append(f"{name}={value!r}")
            continue
        if isinstance(model, OrderBook) and key in ("bids", "asks"):
            levels = getattr(model, key)
            if len(levels) != len(value) or any(
                not all(_same(a, b) for a, b in zip(given_level, kept_level, strict=True))
                for given_level, kept_level in zip(value, levels, strict=True)
            ):
                lost.append(f"{name}")
            continue
        known, kept = _field(model, key)
        if not known:
            lost.append(f"{name}={value!r} (no field)")
        elif key == "info":
            if kept != value:
                lost.append(f"{name}")
        elif key in ("fee", "fees"):
            fees = [value] if key == "fee" else [f for f in value if not _empty(f)]
            kept_fees = list(kept) if key == "fees" else [] if kept is None else [kept]
            if len(fees) != len(kept_fees):
                lost.append(f"{name}={value!r}")
                continue
            for fee, kept_fee in zip(fees, kept_fees, strict=True):
                lost += losses(kept_fee, fee, f"{name}.")
        elif not _same(value, kept):
            lost.append(f"{name}={value!r} (kept {kept!r})")
    return lost


def balance_losses(model: Balances, given: Mapping[str, Any]) -> list[str]:
    """Balances: every non-zero number under free/used/total/debt (or per currency) kept."""
    lost: list[str] = []
    if model.info != (given.get("info") if given.get("info") is not None else {}):
        lost.append("info")
    for key, value in given.items():
        if key in ("info", "timestamp", "datetime"):
            continue
        if key in ("free", "used", "total", "debt"):
            for cur, amount in value.items():
                bal = model.by_currency.get(cur)
                kept = None if bal is None else getattr(bal, key)
                if amount and not _same(amount, kept):
                    lost.append(f"{key}.{cur}={amount!r}")
        elif key in model.accounts:
            lost += [f"{key}.{x}" for x in balance_losses(model.accounts[key], value)]
        elif key not in model.by_currency and any(value.values()):
            lost.append(f"{key}={value!r}")
    return lost


# ----- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exchange", "kind", "label", "entry", "request_"), CASES, ids=[c[2] for c in CASES]
)
def test_structure_is_accepted_and_nothing_is_lost(
    exchange: str, kind: str, label: str, entry: Any, request_: OrderRequest | None
) -> None:
    model = _build(kind, entry, request_)
    lost = balance_losses(model, entry) if kind == "balance" else losses(model, entry)
    assert lost == [], f"{label}: lost {lost}"


def test_ten_exchanges_besides_binance() -> None:
    exchanges = {c[0] for c in CASES}
    assert "binance" not in exchanges and len(exchanges) >= 10, sorted(exchanges)
    assert {c[1] for c in CASES} == set(MODELS), "every structure kind is covered"


def test_counts_tried_accepted_rejected() -> None:
    """The figures for the issue note: per exchange and kind, tried / accepted / rejected."""
    tried: Counter[tuple[str, str]] = Counter()
    accepted: Counter[tuple[str, str]] = Counter()
    reasons: list[str] = []
    for exchange, kind, label, entry, request in CASES:
        tried[exchange, kind] += 1
        try:
            _build(kind, entry, request)
        except SdkError as exc:
            reasons.append(f"{label}: {exc}")
        else:
            accepted[exchange, kind] += 1
    lines = [f"{'exchange':<12} {'kind':<10} tried accepted rejected"]
    for exchange, kind in sorted(tried):
        n, ok = tried[exchange, kind], accepted[exchange, kind]
        lines.append(f"{exchange:<12} {kind:<10} {n:>5} {ok:>8} {n - ok:>8}")
    total, ok_total = sum(tried.values()), sum(accepted.values())
    lines.append(f"{'all':<12} {'':<10} {total:>5} {ok_total:>8} {total - ok_total:>8}")
    print("\n".join(lines + reasons))
    assert reasons == []
    assert total == ok_total > 50


def test_the_loss_check_can_fail() -> None:
    """Guards the check above against vacuity: a dropped key or a changed value shows."""
    order = CcxtOrder.from_ccxt({"id": "1", "amount": "0.10"})
    assert losses(order, {"id": "1", "amount": "0.10"}) == []
    assert losses(order, {"id": "1", "somethingNew": 2}) == ["somethingNew=2 (no field)"]
    assert losses(order, {"id": "1", "amount": "0.1"}) != []  # 0.1 is not the text 0.10
    assert losses(order, {"id": "1", "fee": {"cost": 1, "currency": "X"}}) != []
    balances = Balances.from_ccxt({"free": {"X": 1}, "used": {"X": 0}, "total": {"X": 1}})
    assert balance_losses(balances, {"free": {"X": 2}}) == ["free.X=2"]
