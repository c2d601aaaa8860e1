"""Spot (``/api/v3``) endpoints, plus the sapi/dapi calls ccxt makes in load_markets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exsdk.simulator import errors, params
from exsdk.simulator import serialize as ser
from exsdk.simulator.handlers_common import (
    average_mid,
    klines,
    levels,
    lookup_order,
    order_request,
    response_type,
    select_orders,
    select_trades,
    symbols_param,
)
from exsdk.simulator.params import Params
from exsdk.simulator.state import VenueState

SPOT_TYPES = frozenset({"MARKET", "LIMIT", "LIMIT_MAKER"})


def ping(state: VenueState, p: Params) -> Any:
    """GET ping."""
    return {}


def server_time(state: VenueState, p: Params) -> Any:
    """GET time."""
    return {"serverTime": state.clock.now_ms()}


def empty_list(state: VenueState, p: Params) -> Any:
    """sapi lists ccxt reads during load_markets (capital config, margin pairs)."""
    return []


def dapi_exchange_info(state: VenueState, p: Params) -> Any:
    """COIN-M exchangeInfo: no symbols are served."""
    return {
        "timezone": "UTC",
        "serverTime": state.clock.now_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [],
    }


def exchange_info(state: VenueState, p: Params) -> Any:
    """GET /api/v3/exchangeInfo from the snapshot, serverTime now, live rate limits."""
    engine = state.spot
    doc = engine.info.document(state.clock.now_ms())
    doc["rateLimits"] = _merge_limits(doc["rateLimits"], state.limiters["spot"].describe())
    wanted = symbols_param(engine, p)
    if wanted is not None:
        doc["symbols"] = [s for s in doc["symbols"] if s["symbol"] in wanted]
    return doc


def _merge_limits(
    original: list[dict[str, Any]], live: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Keep entries the limiter does not model (RAW_REQUESTS), replace the others."""
    kept = [r for r in original if r["rateLimitType"] not in ("REQUEST_WEIGHT", "ORDERS")]
    return live + kept


def depth(state: VenueState, p: Params) -> Any:
    """GET /api/v3/depth."""
    book = state.spot.book(params.text(p, "symbol"))
    limit = params.int_opt(p, "limit") or 100
    return {"lastUpdateId": book.update_id, **levels(book, limit, ser.s8, ser.s8)}


def _book_ticker(state: VenueState, symbol: str) -> dict[str, Any]:
    book = state.spot.books[symbol]
    bid = next((lv for lv in book.bids if lv.qty > 0), None)
    ask = next((lv for lv in book.asks if lv.qty > 0), None)
    zero = Decimal(0)
    return {
        "symbol": symbol,
        "bidPrice": ser.s8(bid.price if bid else zero),
        "bidQty": ser.s8(bid.qty if bid else zero),
        "askPrice": ser.s8(ask.price if ask else zero),
        "askQty": ser.s8(ask.qty if ask else zero),
    }


def book_ticker(state: VenueState, p: Params) -> Any:
    """GET /api/v3/ticker/bookTicker (object for ``symbol``, list otherwise)."""
    wanted = symbols_param(state.spot, p)
    if p.get("symbol"):
        return _book_ticker(state, p["symbol"])
    return [_book_ticker(state, s) for s in (wanted or list(state.spot.books))]


def _ticker(state: VenueState, symbol: str) -> dict[str, Any]:
    now = state.clock.now_ms()
    body = _book_ticker(state, symbol)
    book = state.spot.books[symbol]
    st = book.stats
    assert st is not None
    last, high, low = book.last_high_low()
    change = last - st.open_price
    vwap = st.quote_volume / st.volume if st.volume else last
    return {
        "symbol": symbol,
        "priceChange": ser.s8(change),
        "priceChangePercent": format(
            (change / st.open_price * 100).quantize(Decimal("0.001")), "f"
        ),
        "weightedAvgPrice": ser.s8(vwap),
        "prevClosePrice": ser.s8(st.open_price),
        "lastPrice": ser.s8(last),
        "lastQty": ser.s8(st.last_qty),
        "bidPrice": body["bidPrice"],
        "bidQty": body["bidQty"],
        "askPrice": body["askPrice"],
        "askQty": body["askQty"],
        "openPrice": ser.s8(st.open_price),
        "highPrice": ser.s8(high),
        "lowPrice": ser.s8(low),
        "volume": ser.s8(st.volume),
        "quoteVolume": ser.s8(st.quote_volume),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": st.first_id,
        "lastId": st.last_id,
        "count": st.count,
    }


def ticker_24hr(state: VenueState, p: Params) -> Any:
    """GET /api/v3/ticker/24hr."""
    wanted = symbols_param(state.spot, p)
    if p.get("symbol"):
        return _ticker(state, p["symbol"])
    return [_ticker(state, s) for s in (wanted or list(state.spot.books))]


def ticker_price(state: VenueState, p: Params) -> Any:
    """GET /api/v3/ticker/price: the last price, which is the mid (the market trades there)."""
    wanted = symbols_param(state.spot, p)

    def one(symbol: str) -> dict[str, Any]:
        return {"symbol": symbol, "price": ser.s8(state.spot.books[symbol].mid)}

    if p.get("symbol"):
        return one(p["symbol"])
    return [one(s) for s in (wanted or list(state.spot.books))]


SPOT_INTERVALS = frozenset(
    {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w"}
)


def spot_klines(state: VenueState, p: Params) -> Any:
    """GET /api/v3/klines (limit at most 1000)."""
    now = state.clock.now_ms()
    return klines(state.spot, p, now, ser.s8, ser.s8, max_limit=1000, intervals=SPOT_INTERVALS)


AVG_PRICE_MINUTES = 5


def avg_price(state: VenueState, p: Params) -> Any:
    """GET /api/v3/avgPrice: the mean price of the last 5 minutes."""
    book = state.spot.book(params.text(p, "symbol"))
    now = state.clock.now_ms()
    return {
        "mins": AVG_PRICE_MINUTES,
        "price": ser.s8(average_mid(book, now, AVG_PRICE_MINUTES)),
        "closeTime": now,
    }


def new_order(state: VenueState, p: Params) -> Any:
    """POST /api/v3/order honouring newOrderRespType ACK/RESULT/FULL."""
    req = order_request(p, SPOT_TYPES)
    default = "FULL" if req.type in ("MARKET", "LIMIT") else "ACK"
    resp_type = response_type(p, ("ACK", "RESULT", "FULL"), default)
    order = state.spot.place(req)
    if resp_type == "ACK":
        return ser.spot_order_ack(order)
    if resp_type == "RESULT":
        return ser.spot_order_result(order)
    return ser.spot_order_full(order)


def query_order(state: VenueState, p: Params) -> Any:
    """GET /api/v3/order (-2013 when unknown)."""
    return ser.spot_order_query(lookup_order(state.spot, p, errors.order_does_not_exist))


def cancel_order(state: VenueState, p: Params) -> Any:
    """DELETE /api/v3/order (-2011 when unknown or closed)."""
    engine = state.spot
    order = engine.cancel(lookup_order(engine, p, errors.unknown_order_sent))
    cancel_id = p.get("newClientOrderId") or engine._new_client_id()
    return ser.spot_order_cancel(order, cancel_id, state.clock.now_ms())


def open_orders(state: VenueState, p: Params) -> Any:
    """GET /api/v3/openOrders."""
    symbol = p.get("symbol") or None
    if symbol is not None:
        state.spot.rules(symbol)
    return [ser.spot_order_query(o) for o in state.spot.open_orders(symbol)]


def all_orders(state: VenueState, p: Params) -> Any:
    """GET /api/v3/allOrders."""
    return [ser.spot_order_query(o) for o in select_orders(state.spot, p)]


def my_trades(state: VenueState, p: Params) -> Any:
    """GET /api/v3/myTrades."""
    return [ser.spot_trade(t) for t in select_trades(state.spot, p)]


def account(state: VenueState, p: Params) -> Any:
    """GET /api/v3/account."""
    acct = state.spot.spot
    omit_zero = params.bool_opt(p, "omitZeroBalances")
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": ser.s8(b.free), "locked": ser.s8(b.locked)}
            for asset, b in acct.balances.items()
            if not omit_zero or b.free + b.locked > 0
        ],
        "permissions": ["SPOT"],
        "uid": 354937868,
    }
