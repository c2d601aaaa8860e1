"""Bybit v5 (unified API), ``category=spot`` and ``category=linear``, on the venue core.

What it maps (research: /work/shared/data/bybit_samples/bybit_api_notes.md):

- Paths under ``/v5``; GET parameters in the query, POST parameters as a JSON body.
- Signing: ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` (default
  5000) and ``X-BAPI-SIGN`` = hex HMAC-SHA256 of ``timestamp + key + recv_window +
  (query string | JSON body)``; a timestamp is accepted when
  ``server - recv_window <= timestamp < server + 1000``.
- Every answer is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` with HTTP 200,
  errors included (Bybit's body-level errors); private endpoints carry
  ``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and ``X-Bapi-Limit-Reset-Timestamp`` from a
  rolling one-second window per endpoint and category (the UTA Pro limits of Bybit's
  rate-limit page). Over the limit: retCode 10006.
- Two markets of the core: ``bybit_spot`` and ``bybit_linear``, with the instruments of
  ``data/bybit_instruments_selected.json`` (each item says where its numbers came from).

Order checks use Bybit's codes: spot 170136 (quantity below minimum), 170140 (value
below minimum), 170193/170194 (limit price outside the band), 170131 (balance);
linear 10001 (quantity outside the limits), 110094 (value below the minimum), 110003
(price outside the allowed range: a limit price beyond the band, or a market order whose
best counter price is beyond it, the role Binance's -4131 plays), 110007 (margin),
110017 (reduce-only), 110043 (leverage not modified). Whatever the core itself refuses
is translated by :data:`_CORE_CODES`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
from aiohttp import web

from exsdk.simulator.book import Book, snap
from exsdk.simulator.dialects import Incoming
from exsdk.simulator.errors import BinanceError
from exsdk.simulator.exchange_info import ExchangeInfo, MarketKind, SymbolRules
from exsdk.simulator.faults import Fault
from exsdk.simulator.matching import Engine, OrderRequest
from exsdk.simulator.models import Order, Trade
from exsdk.simulator.state import DEFAULT_SPOT_BALANCES, DEFAULT_THIN, VenueState

__all__ = ["INSTRUMENTS_FILE", "MARKETS", "BybitError", "BybitV5Dialect", "sign"]

INSTRUMENTS_FILE = "bybit_instruments_selected.json"
MARKETS: Mapping[str, str] = {"spot": "bybit_spot", "linear": "bybit_linear"}
"""Bybit category -> the core market it trades on."""

DEFAULT_RECV_WINDOW = 5000
MAX_AHEAD_MS = 1000
ZERO = Decimal(0)
# Bybit's rate-limit page, UTA 2.0 Pro, per second (linear, spot); others 50/s.
ENDPOINT_LIMITS: Mapping[str, tuple[int, int]] = {
    "/v5/order/create": (10, 20),
    "/v5/order/cancel": (10, 20),
    "/v5/position/set-leverage": (10, 10),
}
DEFAULT_ENDPOINT_LIMIT = 50
# Bybit's default UTA fees (Non-VIP): spot 0.1% maker and taker; linear 0.055% taker,
# 0.02% maker. The core charges Binance's (spot 0.1%, futures 0.04%/0.02%); the rate
# shown is what the core charged, so fee and feeRate always agree.
SPOT_FEE_RATE = Decimal("0.001")


class BybitError(Exception):
    """A Bybit refusal: retCode, retMsg (served with HTTP 200 unless ``status`` says)."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256, as Bybit clients compute ``X-BAPI-SIGN``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _s(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value != 0 else "0"
    return text


def _places(unit: Decimal) -> int:
    exp = unit.normalize().as_tuple().exponent
    return max(0, -int(exp)) if isinstance(exp, int) else 8


def _fmt(value: Decimal, unit: Decimal) -> str:
    """``value`` printed with the decimals of ``unit`` (Bybit prints fixed decimals)."""
    return format(value.quantize(Decimal(1).scaleb(-_places(unit)), rounding=ROUND_DOWN), "f")


def rules_from_item(item: Mapping[str, Any], kind: MarketKind, band: list[str]) -> SymbolRules:
    """Core :class:`SymbolRules` of one instruments-info item."""
    lot = item["lotSizeFilter"]
    price = item["priceFilter"]
    tick = Decimal(price["tickSize"])
    if kind == "spot":
        step = Decimal(lot["basePrecision"])
        max_qty = Decimal(lot["maxOrderQty"])
        market_max = max_qty
        min_notional = Decimal(lot["minOrderAmt"])
        max_notional = Decimal(lot["maxOrderAmt"])
        min_price = max_price = ZERO
    else:
        step = Decimal(lot["qtyStep"])
        max_qty = Decimal(lot["maxOrderQty"])
        market_max = Decimal(lot["maxMktOrderQty"])
        min_notional = Decimal(lot["minNotionalValue"])
        max_notional = ZERO
        min_price = Decimal(price["minPrice"])
        max_price = Decimal(price["maxPrice"])
    min_qty = Decimal(lot["minOrderQty"])
    return SymbolRules(
        symbol=item["symbol"],
        kind=kind,
        status="TRADING" if item["status"] == "Trading" else item["status"].upper(),
        base=item["baseCoin"],
        quote=item["quoteCoin"],
        tick=tick,
        min_price=min_price,
        max_price=max_price,
        step=step,
        min_qty=min_qty,
        max_qty=max_qty,
        market_step=step,
        market_min_qty=min_qty,
        market_max_qty=market_max,
        min_notional=min_notional,
        min_notional_filter="NOTIONAL",
        apply_min_to_market=True,
        max_notional=max_notional,
        percent_up=Decimal(band[1]) if band else ZERO,
        percent_down=Decimal(band[0]) if band else ZERO,
        max_num_orders=500,
        price_precision=_places(tick),
        qty_precision=_places(step),
    )


def load_instruments() -> dict[str, Any]:
    """The bundled instruments document (``spot``, ``linear``, ``price_band``)."""
    text = resources.files("exsdk.simulator").joinpath("data", INSTRUMENTS_FILE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@attrs.define
class _Window:
    """Requests counted in the last second, per (endpoint, category)."""

    limit: int
    stamps: deque[float] = attrs.field(factory=deque)


# What the core's own refusals (Binance-coded in the core) are on Bybit, per category.
_CORE_CODES: Mapping[int, tuple[tuple[int, str], tuple[int, str]]] = {
    # core code: ((spot retCode, retMsg), (linear retCode, retMsg))
    -2010: ((170131, "Insufficient balance."), (110007, "ab not enough for new order")),
    -2019: ((170131, "Insufficient balance."), (110007, "ab not enough for new order")),
    -2011: ((170213, "Order does not exist."), (110001, "order not exists or too late to cancel")),
    -2013: ((170213, "Order does not exist."), (110001, "order not exists or too late to cancel")),
    -2022: (
        (10001, "params error: reduceOnly"),
        (110017, "current position is zero, cannot fix reduce-only order qty"),
    ),
    -4131: (
        (170193, "Buy order price cannot be higher than 0."),
        (110003, "Order price has exceeded the maximum allowable range."),
    ),
    -1121: ((10001, "params error: symbol invalid"), (10001, "params error: symbol invalid")),
}


class BybitV5Dialect:
    """The Bybit v5 protocol over two core markets (``bybit_spot``, ``bybit_linear``)."""

    name: ClassVar[str] = "bybit_v5"
    prefixes: ClassVar[tuple[str, ...]] = ("/v5/",)

    def __init__(self) -> None:
        self.instruments: dict[str, Any] = load_instruments()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._link_given: set[tuple[str, int]] = set()
        self._uuid_rng = random.Random("bybit-ids")
        self._order_uuid: dict[int, str] = {}
        self._uuid_order: dict[str, int] = {}
        self._exec_uuid: dict[int, str] = {}
        self.routes: dict[tuple[str, str], tuple[Any, bool]] = {
            ("GET", "/v5/market/time"): (self.market_time, False),
            ("GET", "/v5/market/instruments-info"): (self.instruments_info, False),
            ("GET", "/v5/market/orderbook"): (self.orderbook, False),
            ("GET", "/v5/market/tickers"): (self.tickers, False),
            ("POST", "/v5/order/create"): (self.order_create, True),
            ("POST", "/v5/order/cancel"): (self.order_cancel, True),
            ("GET", "/v5/order/realtime"): (self.order_realtime, True),
            ("GET", "/v5/order/history"): (self.order_history, True),
            ("GET", "/v5/execution/list"): (self.execution_list, True),
            ("GET", "/v5/position/list"): (self.position_list, True),
            ("POST", "/v5/position/set-leverage"): (self.set_leverage, True),
            ("GET", "/v5/account/wallet-balance"): (self.wallet_balance, True),
        }

    # ----- installing the markets --------------------------------------------------------

    def install(self, state: VenueState) -> None:
        """Add ``bybit_spot`` and ``bybit_linear`` (books, accounts, ids) to the core."""
        bands = self.instruments["price_band"]
        self._uuid_rng = random.Random(f"{state.seed}:bybit:ids")
        for category, kind, start in (
            ("spot", "spot", (1_609_920_528_435_648_000, 2_100_000_000_047_087_120)),
            ("linear", "futures", (1, 1)),
        ):
            mk: MarketKind = "spot" if kind == "spot" else "futures"
            rules = {
                item["symbol"]: rules_from_item(item, mk, bands.get(item["symbol"], []))
                for item in self.instruments[category]
            }
            info = ExchangeInfo(kind=mk, raw={"symbols": []}, rules=rules)
            books = {
                sym: Book.create(r, state.seed, thin=(mk == "futures" and sym in DEFAULT_THIN))
                for sym, r in rules.items()
            }
            for book in books.values():
                book.remember(state.clock.now_ms())
            engine = Engine(
                kind=mk,
                info=info,
                clock=state.clock,
                books=books,
                id_rng=random.Random(f"{state.seed}:bybit-{category}:ids"),
                next_order_id=start[0],
                next_trade_id=start[1],
            )
            state.engines[MARKETS[category]] = engine
        spot = state.engines["bybit_spot"]
        for asset, amount in DEFAULT_SPOT_BALANCES.items():
            spot.spot.set(asset, Decimal(amount))
        linear = state.engines["bybit_linear"]
        linear.futures.wallet = Decimal("100000")
        linear.futures.update_time = state.clock.now_ms()

    # ----- the pipeline ------------------------------------------------------------------

    def parse_params(self, method: str, raw_query: str, raw_body: str) -> dict[str, str]:
        """Query parameters, and a POST's JSON body as text values."""
        params: dict[str, str] = dict(parse_qsl(raw_query, keep_blank_values=True))
        if method == "POST" and raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                return params
            if isinstance(body, dict):
                for key, value in body.items():
                    if isinstance(value, bool):
                        params[key] = "true" if value else "false"
                    elif value is not None:
                        params[key] = str(value)
        return params

    def bad_encoding(self) -> web.Response:
        """A body that is not UTF-8: a parameter error."""
        return self._reply(None, 10001, "params error: body is not UTF-8 text", {})

    def _reply(
        self,
        state: VenueState | None,
        code: int,
        message: str,
        result: Any,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> web.Response:
        now = state.clock.now_ms() if state is not None else int(time.time() * 1000)
        body = {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": now}
        return web.Response(
            status=status,
            text=json.dumps(body, separators=(",", ":")),
            content_type="application/json",
            headers=dict(headers or {}),
        )

    def serve(self, state: VenueState, request: Incoming, fault: Fault | None) -> Any:
        """Answer one v5 request (``None``: drop the connection)."""
        entry = self.routes.get((request.method, request.path))
        if fault is not None:
            early = self._fault_reply(state, fault)
            if early is not None:
                return early
        if entry is None:
            # Bybit's edge answers an unknown path with HTTP 404 and no JSON.
            return web.Response(status=404, body=b"")
        handler, signed = entry
        params = request.params
        headers: dict[str, str] = {}
        try:
            if signed:
                self._check_signed(state, request)
                headers = self._admit(state, request.path, params.get("category", ""))
            result = handler(state, params)
        except _Limited as err:
            return self._reply(state, err.code, err.message, {}, err.headers)
        except BybitError as err:
            return self._reply(state, err.code, err.message, {}, headers, err.status)
        except BinanceError as err:
            code, message = self._core_error(err, params.get("category", ""))
            return self._reply(state, code, message, {}, headers)
        if fault is not None and fault.kind == "timeout_unknown":
            # Bybit's "timeout waiting for the backend": the order may well be placed.
            return self._reply(state, 10016, "Request timeout, please try again later", {}, headers)
        if fault is not None and fault.kind == "drop_after_accept":
            return None
        return self._reply(state, 0, "OK", result, headers)

    def _fault_reply(self, state: VenueState, fault: Fault) -> web.Response | None:
        if fault.kind == "http_error":
            return web.Response(status=fault.status, text="", content_type="text/plain")
        if fault.kind == "html_error":
            return web.Response(
                status=fault.status,
                text=f"<html><body><h1>{fault.status}</h1></body></html>",
                content_type="text/html",
            )
        if fault.kind == "rate_limit":
            return self._reply(state, 10006, "Too many visits!", {})
        if fault.kind == "clock_skew":
            now = state.clock.now_ms()
            return self._reply(state, 10002, _recv_window_text(now - 10_000, now, 5000), {})
        if fault.kind == "malformed":
            return web.Response(
                status=fault.status,
                body=fault.body.encode(),
                headers={"Content-Type": fault.content_type},
            )
        return None

    def _check_signed(self, state: VenueState, request: Incoming) -> None:
        key = request.headers.get("X-BAPI-API-KEY", "")
        secret = state.keys.get(key) if key else None
        if secret is None:
            raise BybitError(10003, "API key is invalid.")
        ts_text = request.headers.get("X-BAPI-TIMESTAMP", "")
        window_text = request.headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW))
        given = request.headers.get("X-BAPI-SIGN", "")
        payload = request.raw_body if request.method == "POST" else request.raw_query
        expected = sign(secret, f"{ts_text}{key}{window_text}{payload}")
        if not given or not hmac.compare_digest(expected, given.lower()):
            raise BybitError(
                10004, "error sign! origin_string[" + f"{ts_text}{key}{window_text}{payload}]"
            )
        try:
            ts, window = int(ts_text), int(window_text)
        except ValueError:
            raise BybitError(10001, "params error: X-BAPI-TIMESTAMP") from None
        now = state.clock.now_ms()
        if not (now - window <= ts < now + MAX_AHEAD_MS):
            raise BybitError(10002, _recv_window_text(ts, now, window))

    def _admit(self, state: VenueState, path: str, category: str) -> dict[str, str]:
        linear_limit, spot_limit = ENDPOINT_LIMITS.get(
            path, (DEFAULT_ENDPOINT_LIMIT, DEFAULT_ENDPOINT_LIMIT)
        )
        limit = spot_limit if category == "spot" else linear_limit
        window = self._windows.setdefault((path, category), _Window(limit))
        now = time.monotonic()
        while window.stamps and now - window.stamps[0] >= 1.0:
            window.stamps.popleft()
        server_ms = state.clock.now_ms()
        if len(window.stamps) >= window.limit:
            reset = server_ms + int((1.0 - (now - window.stamps[0])) * 1000)
            headers = {
                "X-Bapi-Limit": str(window.limit),
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit-Reset-Timestamp": str(reset),
            }
            raise _Limited(headers)
        window.stamps.append(now)
        return {
            "X-Bapi-Limit": str(window.limit),
            "X-Bapi-Limit-Status": str(window.limit - len(window.stamps)),
            "X-Bapi-Limit-Reset-Timestamp": str(server_ms),
        }

    def _core_error(self, err: BinanceError, category: str) -> tuple[int, str]:
        pair = _CORE_CODES.get(err.code)
        if pair is None:
            return 10001, f"params error: {err.msg}"
        return pair[0] if category == "spot" else pair[1]

    # ----- helpers -----------------------------------------------------------------------

    def _category(self, p: Mapping[str, str]) -> str:
        category = p.get("category", "")
        if category not in MARKETS:
            raise BybitError(10001, f"params error: category {category!r} is not supported")
        return category

    def _engine(self, state: VenueState, category: str) -> Engine:
        return state.engines[MARKETS[category]]

    def _rules(self, engine: Engine, symbol: str) -> SymbolRules:
        rules = engine.info.rules.get(symbol)
        if rules is None:
            raise BybitError(10001, "params error: symbol invalid")
        return rules

    def order_id(self, category: str, order: Order) -> str:
        """Spot ids are long numbers, linear ids UUIDs (as Bybit's)."""
        if category == "spot":
            return str(order.order_id)
        found = self._order_uuid.get(order.order_id)
        if found is None:
            found = str(uuid.UUID(int=self._uuid_rng.getrandbits(128), version=4))
            self._order_uuid[order.order_id] = found
            self._uuid_order[found] = order.order_id
        return found

    def _exec_id(self, category: str, trade: Trade) -> str:
        if category == "spot":
            return str(trade.trade_id)
        found = self._exec_uuid.get(trade.trade_id)
        if found is None:
            found = str(uuid.UUID(int=self._uuid_rng.getrandbits(128), version=5))
            self._exec_uuid[trade.trade_id] = found
        return found

    def _find(self, state: VenueState, category: str, p: Mapping[str, str]) -> Order | None:
        engine = self._engine(state, category)
        oid, link = p.get("orderId") or None, p.get("orderLinkId") or None
        for order in reversed(engine.orders.values()):
            if p.get("symbol") and order.symbol != p["symbol"]:
                continue
            if oid is not None and self.order_id(category, order) == oid:
                return order
            if oid is None and link is not None and self._link(category, order) == link:
                return order
        return None

    def _link(self, category: str, order: Order) -> str:
        given = (category, order.order_id) in self._link_given
        return order.client_order_id if given or category == "spot" else ""

    # ----- market data -------------------------------------------------------------------

    def market_time(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/market/time."""
        now = state.clock.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def instruments_info(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/market/instruments-info: one page (the bundled set is small)."""
        category = self._category(p)
        items = self.instruments[category]
        status = p.get("status")
        if status:
            items = [i for i in items if i["status"] == status]
        if p.get("symbol"):
            items = [i for i in items if i["symbol"] == p["symbol"]]
        return {"category": category, "list": items, "nextPageCursor": ""}

    def orderbook(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/market/orderbook."""
        category = self._category(p)
        engine = self._engine(state, category)
        symbol = p.get("symbol", "")
        rules = self._rules(engine, symbol)
        book = engine.books[symbol]
        limit = int(p.get("limit") or (1 if category == "spot" else 25))
        bids = [
            [_fmt(lv.price, rules.tick), _fmt(lv.qty, rules.step)] for lv in book.bids if lv.qty > 0
        ]
        asks = [
            [_fmt(lv.price, rules.tick), _fmt(lv.qty, rules.step)] for lv in book.asks if lv.qty > 0
        ]
        now = state.clock.now_ms()
        body: dict[str, Any] = {
            "s": symbol,
            "b": bids[:limit],
            "a": asks[:limit],
            "ts": now,
            "u": book.update_id,
            "seq": book.update_id * 7 + 1_000_000,
            "cts": now,
        }
        return body

    def tickers(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/market/tickers (one symbol or all)."""
        category = self._category(p)
        engine = self._engine(state, category)
        symbols = [p["symbol"]] if p.get("symbol") else list(engine.books)
        out = []
        for symbol in symbols:
            rules = self._rules(engine, symbol)
            out.append(self._ticker(engine, category, rules))
        return {"category": category, "list": out}

    def _ticker(self, engine: Engine, category: str, rules: SymbolRules) -> dict[str, Any]:
        book = engine.books[rules.symbol]
        last, high, low = book.last_high_low()
        stats = book.stats
        opened = stats.open_price if stats is not None else last
        volume = stats.volume if stats is not None else ZERO
        turnover = stats.quote_volume if stats is not None else ZERO
        change = (last - opened) / opened if opened else ZERO
        best_bid = next((lv for lv in book.bids if lv.qty > 0), None)
        best_ask = next((lv for lv in book.asks if lv.qty > 0), None)
        t = rules.tick

        def px(value: Decimal) -> str:
            return _fmt(value, t)

        common = {
            "symbol": rules.symbol,
            "bid1Price": px(best_bid.price) if best_bid else "",
            "bid1Size": _fmt(best_bid.qty, rules.step) if best_bid else "",
            "ask1Price": px(best_ask.price) if best_ask else "",
            "ask1Size": _fmt(best_ask.qty, rules.step) if best_ask else "",
            "lastPrice": px(last),
            "prevPrice24h": px(opened),
            "price24hPcnt": _fmt(change, Decimal("0.000001")),
            "highPrice24h": px(high),
            "lowPrice24h": px(low),
            "turnover24h": _s(turnover),
            "volume24h": _s(volume),
        }
        if category == "spot":
            return {**common, "usdIndexPrice": px(book.mark)}
        return {
            "symbol": rules.symbol,
            "lastPrice": px(last),
            "indexPrice": px(book.mark),
            "markPrice": px(book.mark),
            "prevPrice24h": px(opened),
            "price24hPcnt": common["price24hPcnt"],
            "highPrice24h": px(high),
            "lowPrice24h": px(low),
            "prevPrice1h": px(opened),
            "openInterest": "0",
            "openInterestValue": "0",
            "turnover24h": common["turnover24h"],
            "volume24h": common["volume24h"],
            "fundingRate": "0.0001",
            "nextFundingTime": str((engine.clock.now_ms() // 28_800_000 + 1) * 28_800_000),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": common["ask1Size"],
            "bid1Price": common["bid1Price"],
            "ask1Price": common["ask1Price"],
            "bid1Size": common["bid1Size"],
            "basis": "",
        }

    # ----- orders ------------------------------------------------------------------------

    def order_create(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """POST /v5/order/create."""
        category = self._category(p)
        engine = self._engine(state, category)
        symbol = p.get("symbol", "")
        rules = self._rules(engine, symbol)
        side = {"Buy": "BUY", "Sell": "SELL"}.get(p.get("side", ""))
        if side is None:
            raise BybitError(10001, "params error: side invalid")
        order_type = {"Market": "MARKET", "Limit": "LIMIT"}.get(p.get("orderType", ""))
        if order_type is None:
            raise BybitError(10001, "params error: orderType invalid")
        qty = _decimal(p, "qty")
        if qty is None or qty <= 0:
            raise BybitError(10001, "params error: qty invalid")
        price = _decimal(p, "price") if order_type == "LIMIT" else None
        if order_type == "LIMIT" and (price is None or price <= 0):
            raise BybitError(10001, "params error: price invalid")
        reduce_only = p.get("reduceOnly") == "true"
        link = p.get("orderLinkId") or None
        tif = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "GTX"}.get(
            p.get("timeInForce") or ("IOC" if order_type == "MARKET" else "GTC"), "GTC"
        )
        quote = None
        # A spot market buy is in quote coin unless marketUnit=baseCoin (ccxt sends it).
        spot_buy = category == "spot" and order_type == "MARKET" and side == "BUY"
        if spot_buy and p.get("marketUnit", "quoteCoin") == "quoteCoin":
            quote, qty = qty, None
        if link is not None and any(
            self._link(category, o) == link for o in engine.orders.values()
        ):
            raise (
                BybitError(170141, "Duplicate clientOrderId.")
                if category == "spot"
                else BybitError(110072, "OrderLinkedID is duplicate")
            )
        self._check(engine, category, rules, side, order_type, qty, price, quote, reduce_only)
        req = OrderRequest(
            symbol=symbol,
            side=side,
            type=order_type,
            quantity=qty,
            price=price,
            time_in_force="GTC" if category == "spot" and tif == "GTX" else tif,
            client_order_id=link,
            reduce_only=reduce_only,
            quote_order_qty=quote,
        )
        order = engine.place(req)
        if link is not None:
            self._link_given.add((category, order.order_id))
        return {
            "orderId": self.order_id(category, order),
            "orderLinkId": self._link(category, order),
        }

    def _check(
        self,
        engine: Engine,
        category: str,
        rules: SymbolRules,
        side: str,
        order_type: str,
        qty: Decimal | None,
        price: Decimal | None,
        quote: Decimal | None,
        reduce_only: bool,
    ) -> None:
        """Bybit's own order checks, with its codes, before the core's."""
        book = engine.books[rules.symbol]
        mark = book.mark
        if category == "spot":
            if qty is not None and qty < rules.min_qty:
                raise BybitError(170136, "Order quantity lower than the minimum.")
            if qty is not None and qty > rules.max_qty:
                raise BybitError(170135, "Order quantity too large.")
            if qty is not None and (qty % rules.step) != 0:
                raise BybitError(170137, "Order volume decimal too long")
            if price is not None and (price % rules.tick) != 0:
                raise BybitError(170134, "Order price decimal too long.")
            value = quote if quote is not None else (qty or ZERO) * (price or mark)
            if value < rules.min_notional:
                raise BybitError(170140, "Order value exceeded lower limit.")
            if rules.max_notional > 0 and value > rules.max_notional:
                raise BybitError(170124, "Order amount too large.")
            if price is not None and rules.percent_up > 0:
                high = snap(mark * rules.percent_up, rules.tick)
                low = snap(mark * rules.percent_down, rules.tick)
                if side == "BUY" and price > high:
                    raise BybitError(170193, f"Buy order price cannot be higher than {high}.")
                if side == "SELL" and price < low:
                    raise BybitError(170194, f"Sell order price cannot be lower than {low}.")
            return
        assert qty is not None
        if qty < rules.min_qty:
            raise BybitError(10001, "The number of contracts exceeds minimum limit allowed")
        max_qty = rules.market_max_qty if order_type == "MARKET" else rules.max_qty
        if qty > max_qty:
            raise BybitError(10001, "The number of contracts exceeds maximum limit allowed")
        if qty % rules.step != 0:
            raise BybitError(10001, "params error: Qty invalid")
        if price is not None and price % rules.tick != 0:
            raise BybitError(10001, "params error: price invalid")
        value = qty * (price if price is not None else mark)
        if not reduce_only and value < rules.min_notional:
            raise BybitError(
                110094, f"Order does not meet minimum order value {_s(rules.min_notional)}USDT"
            )
        if rules.percent_up > 0:
            high, low = mark * rules.percent_up, mark * rules.percent_down
            if order_type == "MARKET":
                best = book.best_ask() if side == "BUY" else book.best_bid()
                outside = best is None or best > high or best < low
            else:
                assert price is not None
                outside = (side == "BUY" and price > high) or (side == "SELL" and price < low)
            if outside:
                raise BybitError(110003, "Order price has exceeded the maximum allowable range.")

    def order_cancel(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """POST /v5/order/cancel."""
        category = self._category(p)
        engine = self._engine(state, category)
        self._rules(engine, p.get("symbol", ""))
        order = self._find(state, category, p)
        if order is None or not order.is_open:
            raise BinanceError(400, -2011, "Unknown order sent.")
        engine.cancel(order)
        return {
            "orderId": self.order_id(category, order),
            "orderLinkId": self._link(category, order),
        }

    def order_realtime(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/order/realtime: open orders; by id or link id, any recent one."""
        category = self._category(p)
        engine = self._engine(state, category)
        if p.get("orderId") or p.get("orderLinkId"):
            found = self._find(state, category, p)
            orders = [found] if found is not None else []
        else:
            orders = [
                o
                for o in reversed(engine.orders.values())
                if o.is_open and (not p.get("symbol") or o.symbol == p["symbol"])
            ]
        return self._order_page(category, engine, orders, p)

    def order_history(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/order/history: final orders, newest first (optionally by status)."""
        category = self._category(p)
        engine = self._engine(state, category)
        if p.get("orderId") or p.get("orderLinkId"):
            found = self._find(state, category, p)
            orders = [found] if found is not None and not found.is_open else []
        else:
            orders = [
                o
                for o in reversed(engine.orders.values())
                if not o.is_open and (not p.get("symbol") or o.symbol == p["symbol"])
            ]
        wanted = p.get("orderStatus")
        if wanted:
            orders = [o for o in orders if self._status(category, o) in wanted.split(",")]
        return self._order_page(category, engine, orders, p)

    def _order_page(
        self, category: str, engine: Engine, orders: list[Order], p: Mapping[str, str]
    ) -> Any:
        limit = int(p.get("limit") or 20)
        rows = [self._order(category, engine, o) for o in orders[:limit]]
        return {"nextPageCursor": "", "category": category, "list": rows}

    def _status(self, category: str, order: Order) -> str:
        if order.status == "NEW":
            return "New"
        if order.status == "PARTIALLY_FILLED":
            return "PartiallyFilled"
        if order.status == "FILLED":
            return "Filled"
        if order.executed_qty > 0 and category == "spot":
            return "PartiallyFilledCanceled"
        return "Cancelled"

    def _order(self, category: str, engine: Engine, o: Order) -> dict[str, Any]:
        rules = engine.info.rules[o.symbol]
        fee = sum((t.commission for t in o.trades), ZERO)
        fee_coin = o.trades[0].commission_asset if o.trades else ""
        is_market = o.type == "MARKET"
        price = o.price if not is_market else ZERO
        qty = o.orig_qty if o.orig_qty > 0 else o.orig_quote_qty
        leaves = o.remaining if o.is_open else ZERO
        reject = "EC_NoError"
        if not o.is_open and o.status == "EXPIRED" and o.executed_qty < o.orig_qty:
            reject = "EC_CancelForNoFullFill"
        if o.status == "CANCELED":
            reject = "EC_PerCancelRequest"
        row: dict[str, Any] = {
            "symbol": o.symbol,
            "orderType": "Market" if is_market else "Limit",
            "orderLinkId": self._link(category, o),
            "slLimitPrice": "0",
            "orderId": self.order_id(category, o),
            "cancelType": "CancelByUser" if o.status == "CANCELED" else "UNKNOWN",
            "avgPrice": _s(o.avg_price) if o.executed_qty > 0 else "",
            "stopOrderType": "",
            "lastPriceOnCreated": _fmt(engine.books[o.symbol].mid, rules.tick),
            "orderStatus": self._status(category, o),
            "createType": "CreateByUser",
            "takeProfit": "",
            "cumExecValue": _s(o.cum_quote),
            "tpslMode": "",
            "smpType": "None",
            "triggerDirection": 0,
            "blockTradeId": "",
            "cumFeeDetail": {fee_coin: _s(fee)} if fee_coin else {},
            "rejectReason": reject,
            "isLeverage": "",
            "price": _s(price),
            "orderIv": "",
            "createdTime": str(o.time),
            "tpTriggerBy": "",
            "positionIdx": 0,
            "timeInForce": "IOC"
            if is_market
            else {"GTX": "PostOnly"}.get(o.time_in_force, o.time_in_force),
            "leavesValue": _s(leaves * price),
            "updatedTime": str(o.update_time),
            "side": "Buy" if o.side == "BUY" else "Sell",
            "smpGroup": 0,
            "triggerPrice": "",
            "tpLimitPrice": "0",
            "cumExecFee": _s(fee),
            "leavesQty": _s(leaves),
            "slTriggerBy": "",
            "closeOnTrigger": False,
            "placeType": "",
            "cumExecQty": _s(o.executed_qty),
            "reduceOnly": o.reduce_only,
            "qty": _s(qty),
            "stopLoss": "",
            "marketUnit": ("quoteCoin" if o.orig_quote_qty > 0 else "baseCoin")
            if is_market and category == "spot"
            else "",
            "smpOrderId": "",
            "triggerBy": "",
        }
        return row

    def execution_list(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/execution/list: the account's trades, newest first."""
        category = self._category(p)
        engine = self._engine(state, category)
        exec_type = p.get("execType")
        if exec_type and exec_type != "Trade":
            trades: list[Trade] = []  # no funding or delivery rows are simulated
        else:
            trades = list(reversed(engine.trades))
        if p.get("symbol"):
            trades = [t for t in trades if t.symbol == p["symbol"]]
        by_id = {o.order_id: o for o in engine.orders.values()}
        if p.get("orderId"):
            trades = [
                t for t in trades if self.order_id(category, by_id[t.order_id]) == p["orderId"]
            ]
        if p.get("orderLinkId"):
            trades = [
                t for t in trades if self._link(category, by_id[t.order_id]) == p["orderLinkId"]
            ]
        if p.get("startTime"):
            trades = [t for t in trades if t.time >= int(p["startTime"])]
        limit = int(p.get("limit") or 50)
        rows = [self._execution(category, engine, by_id[t.order_id], t) for t in trades[:limit]]
        return {"nextPageCursor": "", "category": category, "list": rows}

    def _execution(self, category: str, engine: Engine, o: Order, t: Trade) -> dict[str, Any]:
        value = t.price * t.qty
        rate = (
            (
                t.commission
                / (t.qty if t.commission_asset == engine.info.rules[o.symbol].base else value)
            )
            if t.commission and value
            else ZERO
        )
        return {
            "symbol": t.symbol,
            "orderId": self.order_id(category, o),
            "orderLinkId": self._link(category, o),
            "side": "Buy" if t.side == "BUY" else "Sell",
            "orderPrice": _s(o.price),
            "orderQty": _s(o.orig_qty),
            "leavesQty": _s(o.remaining if o.is_open else ZERO),
            "createType": "CreateByUser",
            "orderType": "Market" if o.type == "MARKET" else "Limit",
            "stopOrderType": "",
            "execFee": _s(t.commission),
            "execId": self._exec_id(category, t),
            "execPrice": _s(t.price),
            "execQty": _s(t.qty),
            "execType": "Trade",
            "execValue": _s(value),
            "execTime": str(t.time),
            "feeCurrency": t.commission_asset,
            "isMaker": t.is_maker,
            "feeRate": _s(rate.quantize(Decimal("0.000001"))),
            "tradeIv": "",
            "markIv": "",
            "markPrice": _s(engine.books[t.symbol].mark),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": _s(t.qty) if t.realized_pnl else "0",
            "seq": t.trade_id + 4_688_000_000,
        }

    # ----- positions and leverage --------------------------------------------------------

    def position_list(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/position/list (linear): one row per symbol asked, or every open one."""
        category = self._category(p)
        if category != "linear":
            raise BybitError(10001, "params error: category only support linear or option")
        engine = self._engine(state, category)
        acct = engine.futures
        if p.get("symbol"):
            self._rules(engine, p["symbol"])
            positions = [acct.position(p["symbol"])]
        else:
            positions = [pos for pos in acct.positions.values() if pos.amount != 0]
        rows = []
        for pos in positions:
            book = engine.books[pos.symbol]
            mark = book.mark
            size = abs(pos.amount)
            value = size * pos.entry_price
            im = value / pos.leverage if pos.leverage else ZERO
            rows.append(
                {
                    "symbol": pos.symbol,
                    "leverage": str(pos.leverage),
                    "autoAddMargin": 0,
                    "avgPrice": _s(pos.entry_price),
                    "liqPrice": "",
                    "riskLimitValue": "2000000",
                    "takeProfit": "",
                    "positionValue": _s(value),
                    "isReduceOnly": False,
                    "tpslMode": "Full",
                    "riskId": 1,
                    "trailingStop": "0",
                    "unrealisedPnl": _s(pos.unrealized(mark)),
                    "markPrice": _s(mark),
                    "adlRankIndicator": 2 if size else 0,
                    "cumRealisedPnl": "0",
                    "positionMM": _s(value * Decimal("0.005")),
                    "createdTime": str(pos.update_time or state.clock.now_ms()),
                    "positionIdx": 0,
                    "positionIM": _s(im),
                    "seq": pos.update_time,
                    "updatedTime": str(pos.update_time or state.clock.now_ms()),
                    "side": ("Buy" if pos.amount > 0 else "Sell") if size else "",
                    "bustPrice": "",
                    "positionBalance": _s(im),
                    "leverageSysUpdatedTime": "",
                    "size": _s(size),
                    "positionStatus": "Normal",
                    "mmrSysUpdatedTime": "",
                    "stopLoss": "",
                    "tradeMode": 0,
                }
            )
        return {"nextPageCursor": "", "category": category, "list": rows}

    def set_leverage(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """POST /v5/position/set-leverage (one-way mode: buy and sell leverage equal)."""
        category = self._category(p)
        engine = self._engine(state, category)
        symbol = p.get("symbol", "")
        self._rules(engine, symbol)
        buy, sell = _decimal(p, "buyLeverage"), _decimal(p, "sellLeverage")
        if buy is None or sell is None or buy != sell:
            raise BybitError(10001, "params error: buyLeverage must equal sellLeverage")
        if not 1 <= buy <= 100 or buy != buy.to_integral_value():
            raise BybitError(10001, "params error: leverage invalid")
        pos = engine.futures.position(symbol)
        if pos.leverage == int(buy):
            raise BybitError(110043, "leverage not modified")
        pos.leverage = int(buy)
        return {}

    # ----- balances ----------------------------------------------------------------------

    def wallet_balance(self, state: VenueState, p: Mapping[str, str]) -> Any:
        """GET /v5/account/wallet-balance?accountType=UNIFIED.

        The core keeps spot coins and the linear USDT margin apart; the unified wallet
        shows their sum for USDT (the linear margin and unrealised PnL added to spot's).
        """
        if p.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        spot = state.engines["bybit_spot"].spot
        linear = state.engines["bybit_linear"]
        upl = sum(
            (
                pos.unrealized(linear.books[pos.symbol].mark)
                for pos in linear.futures.positions.values()
                if pos.amount != 0
            ),
            ZERO,
        )
        coins = []
        total = ZERO
        names = sorted(set(spot.balances) | {"USDT"})
        for coin in names:
            bal = spot.get(coin)
            wallet = bal.free + bal.locked
            locked = bal.locked
            pnl = ZERO
            order_im = ZERO
            if coin == "USDT":
                wallet += linear.futures.wallet
                pnl = upl
                order_im = max(ZERO, linear.futures.wallet + upl - linear.available_margin())
            equity = wallet + pnl
            if coin == "USDT":
                total += equity
            coins.append(
                {
                    "availableToBorrow": "",
                    "bonus": "0",
                    "accruedInterest": "0",
                    "availableToWithdraw": "",
                    "totalOrderIM": _s(order_im),
                    "equity": _s(equity),
                    "totalPositionMM": "0",
                    "usdValue": _s(equity) if coin == "USDT" else "0",
                    "unrealisedPnl": _s(pnl),
                    "collateralSwitch": True,
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "totalPositionIM": "0",
                    "walletBalance": _s(wallet),
                    "cumRealisedPnl": "0",
                    "locked": _s(locked),
                    "marginCollateral": True,
                    "coin": coin,
                }
            )
        account = {
            "totalEquity": _s(total),
            "accountIMRate": "0",
            "totalMarginBalance": _s(total),
            "totalInitialMargin": "0",
            "accountType": "UNIFIED",
            "totalAvailableBalance": _s(total),
            "accountMMRate": "0",
            "totalPerpUPL": _s(upl),
            "totalWalletBalance": _s(total - upl),
            "accountLTV": "0",
            "totalMaintenanceMargin": "0",
            "coin": coins,
        }
        return {"list": [account]}


class _Limited(BybitError):
    """Over an endpoint's per-second limit: retCode 10006 with the limit headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__(10006, "Too many visits!")
        self.headers = dict(headers)


def _recv_window_text(ts: int, now: int, window: int) -> str:
    # Bybit's wording of 10002 (ccxt's table: "request expired, check your timestamp
    # and recv_window"); the numbers say by how much.
    return (
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{ts}],server_timestamp[{now}],recv_window[{window}]"
    )


def _decimal(p: Mapping[str, str], name: str) -> Decimal | None:
    value = p.get(name)
    if value is None or value == "":
        return None
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise BybitError(10001, f"params error: {name} invalid") from None
    if not result.is_finite():
        raise BybitError(10001, f"params error: {name} invalid")
    return result
