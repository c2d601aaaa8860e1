"""USD-M futures (``/fapi``) endpoints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exsdk.simulator import errors, params
from exsdk.simulator import serialize as ser
from exsdk.simulator.accounts import Position
from exsdk.simulator.handlers_common import (
    klines,
    levels,
    lookup_order,
    order_request,
    response_type,
    select_orders,
    select_trades,
    symbols_param,
)
from exsdk.simulator.handlers_spot import _merge_limits
from exsdk.simulator.matching import Engine
from exsdk.simulator.params import Params
from exsdk.simulator.state import VenueState

FUTURES_TYPES = frozenset({"MARKET", "LIMIT"})
ZERO = Decimal(0)
# (bracket, initialLeverage, notionalCap, notionalFloor, maintMarginRatio, cum): the
# usual BTCUSDT-like ladder, served for every symbol.
BRACKETS: tuple[tuple[int, int, int, int, float, float], ...] = (
    (1, 125, 50_000, 0, 0.004, 0.0),
    (2, 100, 250_000, 50_000, 0.005, 50.0),
    (3, 50, 1_000_000, 250_000, 0.01, 1_300.0),
    (4, 20, 5_000_000, 1_000_000, 0.025, 16_300.0),
    (5, 10, 20_000_000, 5_000_000, 0.05, 141_300.0),
    (6, 5, 50_000_000, 20_000_000, 0.1, 1_141_300.0),
    (7, 1, 100_000_000, 50_000_000, 0.25, 8_641_300.0),
)


def _s(value: Decimal) -> str:
    return ser.s8(value)


def maint_margin(notional: Decimal) -> Decimal:
    """Maintenance margin of a position notional from the bracket ladder."""
    n = abs(notional)
    for _, _, cap, floor, ratio, cum in BRACKETS:
        if floor <= n < cap:
            return max(ZERO, n * Decimal(str(ratio)) - Decimal(str(cum)))
    return n * Decimal("0.25")


def max_notional(leverage: int) -> int:
    """Largest notional allowed at ``leverage``."""
    cap = BRACKETS[0][2]
    for _, lev, bracket_cap, _, _, _ in BRACKETS:
        if lev >= leverage:
            cap = bracket_cap
    return cap


def exchange_info(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/exchangeInfo from the snapshot with serverTime now."""
    doc = state.futures.info.document(state.clock.now_ms())
    doc["rateLimits"] = _merge_limits(doc["rateLimits"], state.limiters["futures"].describe())
    return doc


def depth(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/depth (adds E and T)."""
    engine = state.futures
    symbol = params.text(p, "symbol")
    book = engine.book(symbol)
    rules = engine.rules(symbol)
    limit = params.int_opt(p, "limit") or 500
    now = state.clock.now_ms()
    return {
        "lastUpdateId": book.update_id,
        "E": now,
        "T": now,
        **levels(
            book,
            limit,
            lambda d: ser.fixed(d, rules.price_precision),
            lambda d: ser.fixed(d, rules.qty_precision),
        ),
    }


def _book_ticker(state: VenueState, symbol: str) -> dict[str, Any]:
    engine = state.futures
    rules = engine.rules(symbol)
    book = engine.books[symbol]
    bid = next((lv for lv in book.bids if lv.qty > 0), None)
    ask = next((lv for lv in book.asks if lv.qty > 0), None)
    pp, qp = rules.price_precision, rules.qty_precision
    return {
        "symbol": symbol,
        "bidPrice": ser.fixed(bid.price if bid else ZERO, pp),
        "bidQty": ser.fixed(bid.qty if bid else ZERO, qp),
        "askPrice": ser.fixed(ask.price if ask else ZERO, pp),
        "askQty": ser.fixed(ask.qty if ask else ZERO, qp),
        "time": state.clock.now_ms(),
        "lastUpdateId": book.update_id,
    }


def book_ticker(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/ticker/bookTicker."""
    if p.get("symbol"):
        return _book_ticker(state, p["symbol"])
    return [_book_ticker(state, s) for s in state.futures.books]


def _ticker(state: VenueState, symbol: str) -> dict[str, Any]:
    engine = state.futures
    rules = engine.rules(symbol)
    book = engine.books[symbol]
    st = book.stats
    assert st is not None
    now = state.clock.now_ms()
    pp = rules.price_precision
    last, high, low = book.last_high_low()
    change = last - st.open_price
    vwap = st.quote_volume / st.volume if st.volume else last
    return {
        "symbol": symbol,
        "priceChange": ser.fixed(change, pp),
        "priceChangePercent": format(
            (change / st.open_price * 100).quantize(Decimal("0.001")), "f"
        ),
        "weightedAvgPrice": ser.fixed(vwap, pp),
        "lastPrice": ser.fixed(last, pp),
        "lastQty": ser.fixed(st.last_qty, rules.qty_precision),
        "openPrice": ser.fixed(st.open_price, pp),
        "highPrice": ser.fixed(high, pp),
        "lowPrice": ser.fixed(low, pp),
        "volume": ser.fixed(st.volume, rules.qty_precision),
        "quoteVolume": ser.fixed(st.quote_volume, 2),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": st.first_id,
        "lastId": st.last_id,
        "count": st.count,
    }


def ticker_24hr(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/ticker/24hr (no bid/ask fields on futures)."""
    wanted = symbols_param(state.futures, p)
    if p.get("symbol"):
        return _ticker(state, p["symbol"])
    return [_ticker(state, s) for s in (wanted or list(state.futures.books))]


def ticker_price(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/ticker/price and /fapi/v2/ticker/price: the last price (the mid)."""
    engine = state.futures

    def one(symbol: str) -> dict[str, Any]:
        rules = engine.rules(symbol)
        return {
            "symbol": symbol,
            "price": ser.fixed(engine.books[symbol].mid, rules.price_precision),
            "time": state.clock.now_ms(),
        }

    if p.get("symbol"):
        return one(p["symbol"])
    return [one(s) for s in engine.books]


FUTURES_INTERVALS = frozenset(
    {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w"}
)


def futures_klines(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/klines (limit at most 1500)."""
    engine = state.futures
    rules = engine.rules(params.text(p, "symbol"))
    return klines(
        engine,
        p,
        state.clock.now_ms(),
        lambda d: ser.fixed(d, rules.price_precision),
        lambda d: ser.fixed(d, rules.qty_precision),
        max_limit=1500,
        intervals=FUTURES_INTERVALS,
    )


def premium_index(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/premiumIndex: mark price per symbol."""
    engine = state.futures

    def one(symbol: str) -> dict[str, Any]:
        mark = engine.books[symbol].mark
        return {
            "symbol": symbol,
            "markPrice": _s(mark),
            "indexPrice": _s(mark),
            "estimatedSettlePrice": _s(mark),
            "lastFundingRate": "0.00010000",
            "interestRate": "0.00010000",
            "nextFundingTime": 0,
            "time": state.clock.now_ms(),
        }

    if p.get("symbol"):
        engine.rules(p["symbol"])
        return one(p["symbol"])
    return [one(s) for s in engine.books]


def new_order(state: VenueState, p: Params) -> Any:
    """POST /fapi/v1/order: ``ACK`` by default (status NEW), ``RESULT`` when asked."""
    engine = state.futures
    resp_type = response_type(p, ("ACK", "RESULT"), "ACK")
    order = engine.place(order_request(p, FUTURES_TYPES))
    rules = engine.info.rules[order.symbol]
    if resp_type == "RESULT":
        return ser.futures_order_result(order, rules)
    return ser.futures_order_ack(order, rules)


def query_order(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/order (-2013 when unknown)."""
    engine = state.futures
    order = lookup_order(engine, p, errors.order_does_not_exist)
    return ser.futures_order_query(order, engine.info.rules[order.symbol])


def cancel_order(state: VenueState, p: Params) -> Any:
    """DELETE /fapi/v1/order (-2011 when unknown or closed)."""
    engine = state.futures
    order = engine.cancel(lookup_order(engine, p, errors.unknown_order_sent))
    return ser.futures_order_result(order, engine.info.rules[order.symbol])


def open_order(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/openOrder: one open order; -2013 once it is filled or cancelled."""
    engine = state.futures
    order = lookup_order(engine, p, errors.order_does_not_exist)
    if not order.is_open:
        raise errors.order_does_not_exist()
    return ser.futures_order_query(order, engine.info.rules[order.symbol])


def open_orders(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/openOrders."""
    engine = state.futures
    symbol = p.get("symbol") or None
    if symbol is not None:
        engine.rules(symbol)
    return [
        ser.futures_order_query(o, engine.info.rules[o.symbol]) for o in engine.open_orders(symbol)
    ]


def all_orders(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/allOrders."""
    engine = state.futures
    return [
        ser.futures_order_query(o, engine.info.rules[o.symbol]) for o in select_orders(engine, p)
    ]


def user_trades(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/userTrades (accepts ccxt's 7-day startTime/endTime window)."""
    engine = state.futures
    return [ser.futures_trade(t, engine.info.rules[t.symbol]) for t in select_trades(engine, p)]


# ----- account and positions ------------------------------------------------------


def _pos_numbers(engine: Engine, pos: Position) -> dict[str, Decimal]:
    mark = engine.books[pos.symbol].mark
    notional = pos.notional(mark)
    return {
        "mark": mark,
        "notional": notional,
        "upnl": pos.unrealized(mark),
        "im": abs(notional) / pos.leverage,
        "mm": maint_margin(notional),
        "order_im": sum(
            (
                o.remaining * o.price / pos.leverage
                for o in engine.open_orders(pos.symbol)
                if not o.reduce_only
            ),
            ZERO,
        ),
    }


def _totals(engine: Engine) -> dict[str, Decimal]:
    acct = engine.futures
    upnl = im = mm = oim = ZERO
    for pos in acct.positions.values():
        n = _pos_numbers(engine, pos)
        upnl += n["upnl"]
        im += n["im"]
        mm += n["mm"]
        oim += n["order_im"]
    avail = engine.available_margin()
    return {
        "wallet": acct.wallet,
        "upnl": upnl,
        "im": im,
        "mm": mm,
        "oim": oim,
        "margin": acct.wallet + upnl,
        "avail": avail,
        "withdraw": max(ZERO, min(avail, acct.wallet)),
    }


def _account_head(t: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "totalInitialMargin": _s(t["im"] + t["oim"]),
        "totalMaintMargin": _s(t["mm"]),
        "totalWalletBalance": _s(t["wallet"]),
        "totalUnrealizedProfit": _s(t["upnl"]),
        "totalMarginBalance": _s(t["margin"]),
        "totalPositionInitialMargin": _s(t["im"]),
        "totalOpenOrderInitialMargin": _s(t["oim"]),
        "totalCrossWalletBalance": _s(t["wallet"]),
        "totalCrossUnPnl": _s(t["upnl"]),
        "availableBalance": _s(t["avail"]),
        "maxWithdrawAmount": _s(t["withdraw"]),
    }


def _asset_row(t: dict[str, Decimal], update_time: int) -> dict[str, Any]:
    return {
        "asset": "USDT",
        "walletBalance": _s(t["wallet"]),
        "unrealizedProfit": _s(t["upnl"]),
        "marginBalance": _s(t["margin"]),
        "maintMargin": _s(t["mm"]),
        "initialMargin": _s(t["im"] + t["oim"]),
        "positionInitialMargin": _s(t["im"]),
        "openOrderInitialMargin": _s(t["oim"]),
        "crossWalletBalance": _s(t["wallet"]),
        "crossUnPnl": _s(t["upnl"]),
        "availableBalance": _s(t["avail"]),
        "maxWithdrawAmount": _s(t["withdraw"]),
        "updateTime": update_time,
    }


def _nonzero(engine: Engine, symbol: str | None) -> list[Position]:
    return [
        pos
        for pos in engine.futures.positions.values()
        if pos.amount != 0 and (symbol is None or pos.symbol == symbol)
    ]


def _all_positions(engine: Engine, symbol: str | None) -> list[Position]:
    return [engine.futures.position(s) for s in engine.books if symbol is None or s == symbol]


def account_v3(state: VenueState, p: Params) -> Any:
    """GET /fapi/v3/account (ccxt 4.5.90 fetch_balance): only non-zero positions."""
    engine = state.futures
    t = _totals(engine)
    body = _account_head(t)
    body["assets"] = [_asset_row(t, engine.futures.update_time)]
    positions = []
    for pos in _nonzero(engine, None):
        n = _pos_numbers(engine, pos)
        rules = engine.info.rules[pos.symbol]
        positions.append(
            {
                "symbol": pos.symbol,
                "positionSide": "BOTH",
                "positionAmt": ser.fixed(pos.amount, rules.qty_precision),
                "unrealizedProfit": _s(n["upnl"]),
                "isolatedMargin": "0",
                "notional": _s(n["notional"]),
                "isolatedWallet": "0",
                "initialMargin": _s(n["im"]),
                "maintMargin": _s(n["mm"]),
                "updateTime": pos.update_time,
            }
        )
    body["positions"] = positions
    return body


def account_v2(state: VenueState, p: Params) -> Any:
    """GET /fapi/v2/account: every symbol listed in ``positions`` with leverage."""
    engine = state.futures
    t = _totals(engine)
    body: dict[str, Any] = {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
    }
    body.update(_account_head(t))
    row = _asset_row(t, engine.futures.update_time)
    row["marginAvailable"] = True
    body["assets"] = [row]
    positions = []
    for pos in _all_positions(engine, None):
        n = _pos_numbers(engine, pos)
        rules = engine.info.rules[pos.symbol]
        positions.append(
            {
                "symbol": pos.symbol,
                "initialMargin": _s(n["im"] + n["order_im"]),
                "maintMargin": _s(n["mm"]),
                "unrealizedProfit": _s(n["upnl"]),
                "positionInitialMargin": _s(n["im"]),
                "openOrderInitialMargin": _s(n["order_im"]),
                "leverage": str(pos.leverage),
                "isolated": False,
                "entryPrice": ser.fixed(pos.entry_price, rules.price_precision + 3),
                "maxNotional": str(max_notional(pos.leverage)),
                "bidNotional": "0",
                "askNotional": "0",
                "positionSide": "BOTH",
                "positionAmt": ser.fixed(pos.amount, rules.qty_precision),
                "updateTime": pos.update_time,
            }
        )
    body["positions"] = positions
    return body


def balance_v2(state: VenueState, p: Params) -> Any:
    """GET /fapi/v2/balance and /fapi/v3/balance (the same rows)."""
    engine = state.futures
    t = _totals(engine)
    return [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": _s(t["wallet"]),
            "crossWalletBalance": _s(t["wallet"]),
            "crossUnPnl": _s(t["upnl"]),
            "availableBalance": _s(t["avail"]),
            "maxWithdrawAmount": _s(t["withdraw"]),
            "marginAvailable": True,
            "updateTime": engine.futures.update_time,
        }
    ]


def _risk_common(engine: Engine, pos: Position) -> tuple[dict[str, Decimal], dict[str, Any]]:
    n = _pos_numbers(engine, pos)
    rules = engine.info.rules[pos.symbol]
    return n, {
        "symbol": pos.symbol,
        "positionSide": "BOTH",
        "positionAmt": ser.fixed(pos.amount, rules.qty_precision),
        "entryPrice": ser.fixed(pos.entry_price, rules.price_precision + 3),
        "breakEvenPrice": ser.fixed(pos.entry_price, rules.price_precision + 3),
        "markPrice": _s(n["mark"]),
        "unRealizedProfit": _s(n["upnl"]),
        "liquidationPrice": "0",
        "isolatedMargin": "0.00000000",
        "notional": _s(n["notional"]),
        "isolatedWallet": "0",
        "updateTime": pos.update_time,
    }


def _symbol_opt(engine: Engine, p: Params) -> str | None:
    symbol = p.get("symbol") or None
    if symbol is not None:
        engine.rules(symbol)
    return symbol


def position_risk_v3(state: VenueState, p: Params) -> Any:
    """GET /fapi/v3/positionRisk: non-zero positions only, no leverage field."""
    engine = state.futures
    out = []
    for pos in _nonzero(engine, _symbol_opt(engine, p)):
        n, body = _risk_common(engine, pos)
        body.update(
            {
                "marginAsset": "USDT",
                "initialMargin": _s(n["im"] + n["order_im"]),
                "maintMargin": _s(n["mm"]),
                "positionInitialMargin": _s(n["im"]),
                "openOrderInitialMargin": _s(n["order_im"]),
                "adl": 2,
                "bidNotional": "0",
                "askNotional": "0",
            }
        )
        out.append(body)
    return out


def position_risk_v2(state: VenueState, p: Params) -> Any:
    """GET /fapi/v2/positionRisk: every symbol, with leverage and marginType."""
    engine = state.futures
    out = []
    for pos in _all_positions(engine, _symbol_opt(engine, p)):
        _, body = _risk_common(engine, pos)
        body.update(
            {
                "marginType": "cross",
                "isAutoAddMargin": "false",
                "leverage": str(pos.leverage),
                "maxNotionalValue": str(max_notional(pos.leverage)),
            }
        )
        out.append(body)
    return out


def leverage_bracket(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/leverageBracket."""
    engine = state.futures
    symbol = _symbol_opt(engine, p)
    brackets = [
        {
            "bracket": b,
            "initialLeverage": lev,
            "notionalCap": cap,
            "notionalFloor": floor,
            "maintMarginRatio": ratio,
            "cum": cum,
        }
        for b, lev, cap, floor, ratio, cum in BRACKETS
    ]
    entries = [{"symbol": s, "brackets": brackets} for s in engine.books if symbol in (None, s)]
    return entries[0] if symbol is not None else entries


def set_leverage(state: VenueState, p: Params) -> Any:
    """POST /fapi/v1/leverage."""
    engine = state.futures
    symbol = params.text(p, "symbol")
    engine.rules(symbol)
    leverage = params.int_opt(p, "leverage")
    if leverage is None:
        raise errors.mandatory_param("leverage")
    if not 1 <= leverage <= BRACKETS[0][1]:
        raise errors.futures_bad_leverage(leverage)
    engine.futures.position(symbol).leverage = leverage
    return {"leverage": leverage, "maxNotionalValue": str(max_notional(leverage)), "symbol": symbol}


def margin_type(state: VenueState, p: Params) -> Any:
    """POST /fapi/v1/marginType: only CROSSED is modelled."""
    state.futures.rules(params.text(p, "symbol"))
    if params.text(p, "marginType").upper() in ("CROSSED", "CROSS"):
        raise errors.BinanceError(400, -4046, "No need to change margin type.")
    return {"code": 200, "msg": "success"}


def rate_limit_order(state: VenueState, p: Params) -> Any:
    """GET /fapi/v1/rateLimit/order: the account's ORDERS windows."""
    return [w for w in state.limiters["futures"].describe() if w["rateLimitType"] == "ORDERS"]
