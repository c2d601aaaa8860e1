"""Helpers shared by the spot and futures handlers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from exsdk.simulator import errors, params
from exsdk.simulator.book import Book
from exsdk.simulator.matching import Engine, OrderRequest
from exsdk.simulator.models import Order, Trade
from exsdk.simulator.params import Params

TIFS = frozenset({"GTC", "IOC", "FOK", "GTX", "GTD"})


def order_request(p: Params, allowed_types: frozenset[str]) -> OrderRequest:
    """Parse the POST order parameters (-1102/-1116/-1117 on bad input)."""
    symbol = params.text(p, "symbol")
    side = params.text(p, "side").upper()
    if side not in ("BUY", "SELL"):
        raise errors.invalid_side()
    order_type = params.text(p, "type").upper()
    if order_type not in allowed_types:
        raise errors.invalid_order_type()
    qty = params.decimal_opt(p, "quantity")
    quote = params.decimal_opt(p, "quoteOrderQty")
    price = params.decimal_opt(p, "price")
    tif = p.get("timeInForce", "").upper()
    if order_type == "LIMIT":
        if price is None:
            raise errors.mandatory_param("price")
        if not tif:
            raise errors.mandatory_param("timeInForce")
        if tif not in TIFS:
            raise errors.BinanceError(400, -1115, "Invalid timeInForce.")
    if qty is None and not (order_type == "MARKET" and quote is not None):
        raise errors.mandatory_param("quantity")
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=qty,
        price=price,
        time_in_force=tif or "GTC",
        client_order_id=p.get("newClientOrderId") or None,
        reduce_only=params.bool_opt(p, "reduceOnly"),
        quote_order_qty=quote if qty is None else None,
    )


def response_type(p: Params, allowed: tuple[str, ...], default: str) -> str:
    """``newOrderRespType``, or ``default`` when absent (-1136 when not one of ``allowed``)."""
    value = p.get("newOrderRespType") or default
    if value.upper() not in allowed:
        raise errors.BinanceError(400, -1136, "Invalid newOrderRespType.")
    return value.upper()


def lookup_order(engine: Engine, p: Params, missing: Callable[[], errors.BinanceError]) -> Order:
    """Find the order named by orderId / origClientOrderId, or raise ``missing()``."""
    symbol = params.text(p, "symbol")
    engine.rules(symbol)
    order_id = params.int_opt(p, "orderId")
    client_id = p.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        raise errors.BinanceError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    order = engine.find_order(symbol, order_id, client_id)
    if order is None:
        raise missing()
    return order


def select_orders(engine: Engine, p: Params) -> list[Order]:
    """allOrders filtering: orderId (>=), startTime, endTime, limit."""
    symbol = params.text(p, "symbol")
    engine.rules(symbol)
    from_id = params.int_opt(p, "orderId")
    start = params.int_opt(p, "startTime")
    end = params.int_opt(p, "endTime")
    limit = params.int_opt(p, "limit") or 500
    out = [
        o
        for o in engine.orders.values()
        if o.symbol == symbol
        and (from_id is None or o.order_id >= from_id)
        and (start is None or o.time >= start)
        and (end is None or o.time <= end)
    ]
    return out[:limit] if from_id is not None or start is not None else out[-limit:]


def select_trades(engine: Engine, p: Params) -> list[Trade]:
    """myTrades / userTrades filtering: orderId, fromId, startTime, endTime, limit."""
    symbol = params.text(p, "symbol")
    engine.rules(symbol)
    order_id = params.int_opt(p, "orderId")
    from_id = params.int_opt(p, "fromId")
    start = params.int_opt(p, "startTime")
    end = params.int_opt(p, "endTime")
    limit = params.int_opt(p, "limit") or 500
    out = [
        t
        for t in engine.trades
        if t.symbol == symbol
        and (order_id is None or t.order_id == order_id)
        and (from_id is None or t.trade_id >= from_id)
        and (start is None or t.time >= start)
        and (end is None or t.time <= end)
    ]
    return out[:limit] if from_id is not None or start is not None else out[-limit:]


def symbols_param(engine: Engine, p: Params) -> list[str] | None:
    """``symbol`` or JSON ``symbols`` parameter; None when neither is given."""
    import json

    if p.get("symbol"):
        engine.rules(p["symbol"])
        return [p["symbol"]]
    if p.get("symbols"):
        try:
            names = json.loads(p["symbols"])
        except ValueError:
            raise errors.BinanceError(
                400, -1100, "Illegal characters found in parameter 'symbols'."
            ) from None
        for name in names:
            engine.rules(str(name))
        return [str(n) for n in names]
    return None


def levels(
    book: Book, limit: int, fmt: Callable[[Decimal], str], qfmt: Callable[[Decimal], str]
) -> dict[str, Any]:
    """Bids/asks as string pairs, at most ``limit`` per side."""
    return {
        "bids": [[fmt(lv.price), qfmt(lv.qty)] for lv in book.bids if lv.qty > 0][:limit],
        "asks": [[fmt(lv.price), qfmt(lv.qty)] for lv in book.asks if lv.qty > 0][:limit],
    }


# ----- market data built from the book's mid history --------------------------------

_INTERVAL_MS = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}


def klines(
    engine: Engine,
    p: Params,
    now_ms: int,
    fmt: Callable[[Decimal], str],
    qfmt: Callable[[Decimal], str],
    *,
    max_limit: int,
    intervals: frozenset[str],
) -> list[list[Any]]:
    """GET klines: one row per interval since the venue started (nothing is older).

    Prices are the book's mid samples (the simulated market trades at its mid); volume,
    quote volume and counts are the account's own trades, the only trades there are.
    """
    symbol = params.text(p, "symbol")
    book = engine.book(symbol)
    interval = params.text(p, "interval")
    if interval not in intervals:
        raise errors.BinanceError(400, -1120, "Invalid interval.")
    step = _INTERVAL_MS[interval]
    limit = min(params.int_opt(p, "limit") or 500, max_limit)
    first = book.history[0][0] if book.history else now_ms
    start = params.int_opt(p, "startTime")
    end = params.int_opt(p, "endTime")
    last_open = (min(end, now_ms) if end is not None else now_ms) // step * step
    first_open = max(first // step * step, (start if start is not None else 0) // step * step)
    if start is None:
        first_open = max(first_open, last_open - (limit - 1) * step)
    rows: list[list[Any]] = []
    open_ms = first_open
    while open_ms <= last_open and len(rows) < limit:
        close_ms = open_ms + step - 1
        mids = book.mids_between(open_ms, close_ms)
        trades = [t for t in engine.trades if t.symbol == symbol and open_ms <= t.time <= close_ms]
        if mids:
            volume = sum((t.qty for t in trades), Decimal(0))
            quote = sum((t.quote_qty for t in trades), Decimal(0))
            buys = [t for t in trades if t.side == "BUY"]
            rows.append(
                [
                    open_ms,
                    fmt(mids[0]),
                    fmt(max(mids)),
                    fmt(min(mids)),
                    fmt(mids[-1]),
                    qfmt(volume),
                    close_ms,
                    fmt(quote),
                    len(trades),
                    qfmt(sum((t.qty for t in buys), Decimal(0))),
                    fmt(sum((t.quote_qty for t in buys), Decimal(0))),
                    "0",
                ]
            )
        open_ms += step
    return rows


def average_mid(book: Book, now_ms: int, minutes: int) -> Decimal:
    """Mean of the mid samples of the last ``minutes`` (the current mid when none)."""
    mids = book.mids_between(now_ms - minutes * 60_000, now_ms)
    if not mids:
        return book.mid
    return sum(mids, Decimal(0)) / len(mids)
