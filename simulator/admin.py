"""Admin operations on a running venue, in process and over HTTP (``/__sim__/<op>``).

Every operation takes and returns plain JSON values (decimals as strings), so
:class:`exsdk.simulator.admin_client.AdminClient` gets the same results over HTTP.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from exsdk.simulator.faults import Fault
from exsdk.simulator.state import VenueState

ADMIN_PREFIX = "/__sim__/"


class Admin:
    """Control and inspection of a :class:`VenueState`."""

    OPERATIONS = (
        "set_price",
        "tick",
        "thin",
        "unthin",
        "set_balance",
        "set_clock_skew",
        "inject_fault",
        "clear_faults",
        "set_rate_limit",
        "orders",
        "trades",
        "balances",
        "positions",
        "book",
        "request_log",
        "clear_request_log",
        "server_time",
    )

    def __init__(self, state: VenueState) -> None:
        self.state = state

    def _kinds(self, market: str | None) -> list[str]:
        # Every market by default (Binance's two and those dialects installed).
        if market is None:
            return list(self.state.engines)
        if market not in self.state.engines:
            raise ValueError(f"unknown market {market!r}")
        return [market]

    def set_price(
        self, symbol: str, price: str | Decimal | float, market: str | None = None
    ) -> None:
        """Move ``symbol``'s reference price (both markets unless ``market``); fills cross."""
        found = False
        for kind in self._kinds(market):
            engine = self.state.engines[kind]
            if symbol in engine.books:
                engine.set_mid(symbol, Decimal(str(price)))
                found = True
        if not found:
            raise KeyError(symbol)

    def tick(self, n: int = 1) -> None:
        """Advance all prices ``n`` steps (one clock second each) of the price process."""
        self.state.tick(n)

    def thin(self, symbol: str, market: str = "futures") -> None:
        """Make ``symbol``'s book thin: best prices far (25%) from the mark."""
        self._set_thin(symbol, market, True)

    def unthin(self, symbol: str, market: str = "futures") -> None:
        """Restore a normal book around the mark."""
        self._set_thin(symbol, market, False)

    def _set_thin(self, symbol: str, market: str, thin: bool) -> None:
        for kind in self._kinds(market):
            book = self.state.engines[kind].books[symbol]
            book.thin = thin
            book.rebuild()

    def set_balance(self, asset: str, amount: str | Decimal | float, market: str = "spot") -> None:
        """Set a spot free balance, or (``market='futures'``) the USDT wallet."""
        value = Decimal(str(amount))
        if market == "futures":
            self.state.futures.futures.wallet = value
            self.state.futures.futures.update_time = self.state.clock.now_ms()
        else:
            self.state.spot.spot.set(asset, value)

    def set_clock_skew(self, ms: int) -> None:
        """Shift the server clock by ``ms`` (positive: server ahead of the client)."""
        self.state.clock.skew_ms = int(ms)

    def inject_fault(
        self,
        kind: str,
        method: str = "*",
        path: str = "*",
        calls: int | list[int] | None = None,
        seconds: float = 0.0,
        status: int = 500,
        body: str = "",
        content_type: str = "application/json",
    ) -> None:
        """Script a fault (see :mod:`exsdk.simulator.faults` for the kinds)."""
        self.state.faults.add(
            Fault(
                kind=kind,
                method=method.upper(),
                path=path,
                calls=calls,
                seconds=seconds,
                status=status,
                body=body,
                content_type=content_type,
            )
        )

    def clear_faults(self) -> None:
        """Remove all faults and reset their call counters."""
        self.state.faults.clear()

    def set_rate_limit(self, market: str, limit_type: str, interval: str, limit: int) -> None:
        """Override a limit, e.g. ``("futures", "ORDERS", "10S", 5)``."""
        for kind in self._kinds(market):
            self.state.limiters[kind].set_limit(limit_type, interval, int(limit))

    def orders(self, market: str | None = None) -> list[dict[str, Any]]:
        """All orders with clientOrderId, status and fills."""
        out = []
        for kind in self._kinds(market):
            for o in self.state.engines[kind].orders.values():
                out.append(
                    {
                        "market": kind,
                        "symbol": o.symbol,
                        "orderId": o.order_id,
                        "clientOrderId": o.client_order_id,
                        "side": o.side,
                        "type": o.type,
                        "timeInForce": o.time_in_force,
                        "price": str(o.price),
                        "origQty": str(o.orig_qty),
                        "executedQty": str(o.executed_qty),
                        "cumQuote": str(o.cum_quote),
                        "status": o.status,
                        "reduceOnly": o.reduce_only,
                        "time": o.time,
                        "updateTime": o.update_time,
                        "fills": [self._trade(t.kind, t) for t in o.trades],
                    }
                )
        return out

    @staticmethod
    def _trade(kind: str, t: Any) -> dict[str, Any]:
        return {
            "market": kind,
            "symbol": t.symbol,
            "tradeId": t.trade_id,
            "orderId": t.order_id,
            "side": t.side,
            "price": str(t.price),
            "qty": str(t.qty),
            "quoteQty": str(t.quote_qty),
            "commission": str(t.commission),
            "commissionAsset": t.commission_asset,
            "isMaker": t.is_maker,
            "realizedPnl": str(t.realized_pnl),
            "time": t.time,
        }

    def trades(self, market: str | None = None) -> list[dict[str, Any]]:
        """All executions."""
        return [
            self._trade(k, t) for k in self._kinds(market) for t in self.state.engines[k].trades
        ]

    def balances(self) -> dict[str, Any]:
        """Spot free/locked per asset and the futures wallet."""
        spot = {
            a: {"free": str(b.free), "locked": str(b.locked)}
            for a, b in self.state.spot.spot.balances.items()
        }
        return {
            "spot": spot,
            "futures": {
                "USDT": {
                    "wallet": str(self.state.futures.futures.wallet),
                    "available": str(self.state.futures.available_margin()),
                }
            },
        }

    def positions(self) -> list[dict[str, Any]]:
        """Non-flat futures positions."""
        engine = self.state.futures
        out = []
        for pos in engine.futures.positions.values():
            if pos.amount == 0:
                continue
            mark = engine.books[pos.symbol].mark
            out.append(
                {
                    "symbol": pos.symbol,
                    "positionAmt": str(pos.amount),
                    "entryPrice": str(pos.entry_price),
                    "markPrice": str(mark),
                    "unRealizedProfit": str(pos.unrealized(mark)),
                    "notional": str(pos.notional(mark)),
                    "leverage": pos.leverage,
                }
            )
        return out

    def book(self, symbol: str, market: str = "futures") -> dict[str, Any]:
        """Mid, thin flag and levels of one book."""
        book = self.state.engines[self._kinds(market)[0]].books[symbol]
        return {
            "mid": str(book.mid),
            "thin": book.thin,
            "bids": [[str(lv.price), str(lv.qty)] for lv in book.bids if lv.qty > 0],
            "asks": [[str(lv.price), str(lv.qty)] for lv in book.asks if lv.qty > 0],
        }

    def request_log(self) -> list[dict[str, Any]]:
        """Every request: method, path, params (no signature), headers (key masked)."""
        return list(self.state.request_log)

    def clear_request_log(self) -> None:
        """Forget logged requests."""
        self.state.request_log.clear()

    def server_time(self) -> int:
        """Server clock in ms, including skew."""
        return self.state.clock.now_ms()


async def handle_admin(admin: Admin, request: web.Request) -> web.Response:
    """``POST /__sim__/<op>`` with a JSON object of keyword arguments."""
    op = request.path[len(ADMIN_PREFIX) :]
    if op not in Admin.OPERATIONS:
        return web.json_response({"error": f"unknown operation {op!r}"}, status=404)
    kwargs: dict[str, Any] = {}
    if request.can_read_body:
        raw = await request.read()
        if raw:
            try:
                kwargs = json.loads(raw)
            except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
                return web.json_response({"error": "the body is not a JSON object"}, status=400)
            if not isinstance(kwargs, dict):
                return web.json_response({"error": "the body is not a JSON object"}, status=400)
    try:
        result = getattr(admin, op)(**kwargs)
    except (KeyError, ValueError, TypeError) as exc:
        return web.json_response({"error": repr(exc)}, status=400)
    return web.json_response({"result": result})
