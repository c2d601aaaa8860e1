"""Matching engine of one market (spot or USD-M futures).

The synthetic book is the market; the account's orders trade against it.
MARKET orders walk the book (several trades), marketable LIMIT orders take up
to their price and rest for the remainder, and resting orders fill as makers
at their own price when a price move brings the opposite side through them.
"""

from __future__ import annotations

import random
import string
from decimal import Decimal

import attrs

from exsdk.simulator import errors, filters
from exsdk.simulator.accounts import FuturesAccount, SpotAccount
from exsdk.simulator.book import Book
from exsdk.simulator.clock import Clock
from exsdk.simulator.exchange_info import ExchangeInfo, MarketKind, SymbolRules
from exsdk.simulator.models import Order, Trade

ZERO = Decimal(0)
# Spot: 0.1% maker and taker; commission is taken from what the account receives
# (base asset on a BUY, quote asset on a SELL), as Binance does without BNB.
SPOT_FEE = Decimal("0.001")
# USD-M futures VIP0: taker 0.04%, maker 0.02%, paid in USDT from the wallet.
FUTURES_TAKER_FEE = Decimal("0.0004")
FUTURES_MAKER_FEE = Decimal("0.0002")
COMMISSION_PLACES = Decimal("0.00000001")
_ID_CHARS = string.ascii_letters + string.digits


@attrs.define
class OrderRequest:
    """A validated-shape order request (values parsed from the wire)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None
    price: Decimal | None = None
    time_in_force: str = "GTC"
    client_order_id: str | None = None
    reduce_only: bool = False
    quote_order_qty: Decimal | None = None


@attrs.define
class Engine:
    """Books, orders, trades and the account of one market."""

    kind: MarketKind
    info: ExchangeInfo
    clock: Clock
    books: dict[str, Book]
    id_rng: random.Random
    spot: SpotAccount = attrs.field(factory=SpotAccount)
    futures: FuturesAccount = attrs.field(factory=FuturesAccount)
    orders: dict[int, Order] = attrs.field(factory=dict)
    trades: list[Trade] = attrs.field(factory=list)
    next_order_id: int = 1
    next_trade_id: int = 1

    # ----- lookups -------------------------------------------------------------

    def rules(self, symbol: str) -> SymbolRules:
        """Rules of a tradable symbol, or -1121."""
        rules = self.info.rules.get(symbol)
        if rules is None or symbol not in self.books:
            raise errors.invalid_symbol()
        return rules

    def book(self, symbol: str) -> Book:
        """Book of ``symbol``, or -1121."""
        self.rules(symbol)
        return self.books[symbol]

    def find_order(self, symbol: str, order_id: int | None, client_id: str | None) -> Order | None:
        """Order by id, else the latest one with ``client_id``."""
        if order_id is not None:
            order = self.orders.get(order_id)
            return order if order is not None and order.symbol == symbol else None
        for order in reversed(self.orders.values()):
            if order.symbol == symbol and order.client_order_id == client_id:
                return order
        return None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders, optionally of one symbol, oldest first."""
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def _new_client_id(self) -> str:
        return "".join(self.id_rng.choice(_ID_CHARS) for _ in range(22))

    # ----- placing ---------------------------------------------------------------

    def place(self, req: OrderRequest) -> Order:
        """Validate and execute an order request; return the resulting order."""
        rules = self.rules(req.symbol)
        book = self.books[req.symbol]
        if rules.status != "TRADING":
            raise errors.BinanceError(400, -1013, "Market is closed.")
        if req.client_order_id is not None and any(
            o.client_order_id == req.client_order_id for o in self.open_orders()
        ):
            raise (
                errors.duplicate_order_spot()
                if self.kind == "spot"
                else errors.duplicate_order_futures()
            )
        if len(self.open_orders(req.symbol)) >= rules.max_num_orders and req.type != "MARKET":
            if self.kind == "spot":
                raise errors.filter_failure("MAX_NUM_ORDERS")
            raise errors.BinanceError(400, -4025, "Max open order limit exceeded.")
        if self.kind == "spot":
            return self._place_spot(req, rules, book)
        return self._place_futures(req, rules, book)

    def _make_order(self, req: OrderRequest, qty: Decimal, tif: str) -> Order:
        now = self.clock.now_ms()
        order = Order(
            kind=self.kind,
            symbol=req.symbol,
            order_id=self.next_order_id,
            client_order_id=req.client_order_id or self._new_client_id(),
            side=req.side,
            type=req.type,
            time_in_force=tif,
            price=req.price if req.price is not None and req.type != "MARKET" else ZERO,
            orig_qty=qty,
            time=now,
            update_time=now,
            reduce_only=req.reduce_only,
            orig_quote_qty=req.quote_order_qty or ZERO,
        )
        self.next_order_id += 1
        self.orders[order.order_id] = order
        return order

    def _place_spot(self, req: OrderRequest, rules: SymbolRules, book: Book) -> Order:
        is_market = req.type == "MARKET"
        if req.type == "LIMIT_MAKER" and req.price is None:
            raise errors.mandatory_param("price")
        filters.check_spot(rules, req.type, req.price, req.quantity, book.mid)
        limit = None if is_market else req.price
        plan = book.plan(req.side, req.quantity, limit=limit, quote=req.quote_order_qty)
        if req.type == "LIMIT_MAKER" and plan:
            raise errors.BinanceError(400, -2010, "Order would immediately match and take.")
        planned_qty = sum((q for _, q in plan), ZERO)
        qty = req.quantity if req.quantity is not None else planned_qty
        if req.quote_order_qty is not None and planned_qty <= 0:
            raise errors.filter_failure("NOTIONAL")
        # Lock what the order may spend: the planned cost for a MARKET buy, the
        # limit value for a LIMIT buy, the quantity for any sell.
        if req.side == "BUY":
            lock_asset = rules.quote
            lock_amt = sum((p * q for p, q in plan), ZERO) if is_market else qty * (limit or ZERO)
        else:
            lock_asset = rules.base
            lock_amt = qty
        self.spot.lock(lock_asset, lock_amt)
        tif = "GTC" if req.type in ("MARKET", "LIMIT_MAKER") else req.time_in_force
        order = self._make_order(req, qty, tif)
        order.locked_asset = lock_asset
        order.locked_amount = lock_amt
        if req.time_in_force == "FOK" and not is_market and planned_qty < qty:
            plan = []
        for price, fill_qty in plan:
            self._spot_fill(order, rules, price, fill_qty, maker=False)
        book.consume(req.side, plan)
        if order.remaining > 0 and (is_market or req.time_in_force in ("IOC", "FOK")):
            self._close(order, "EXPIRED")
        elif order.remaining == 0:
            self._close(order, "FILLED")
        return order

    def _spot_fill(
        self, order: Order, rules: SymbolRules, price: Decimal, qty: Decimal, maker: bool
    ) -> None:
        now = self.clock.now_ms()
        quote_qty = price * qty
        if order.side == "BUY":
            reserved = quote_qty if order.type == "MARKET" else qty * order.price
            self.spot.spend_locked(rules.quote, quote_qty)
            self.spot.unlock(rules.quote, reserved - quote_qty)
            order.locked_amount -= reserved
            commission = (qty * SPOT_FEE).quantize(COMMISSION_PLACES)
            asset = rules.base
            self.spot.credit(rules.base, qty - commission)
        else:
            self.spot.spend_locked(rules.base, qty)
            order.locked_amount -= qty
            commission = (quote_qty * SPOT_FEE).quantize(COMMISSION_PLACES)
            asset = rules.quote
            self.spot.credit(rules.quote, quote_qty - commission)
        self.spot.update_time = now
        self._record(order, price, qty, commission, asset, maker, ZERO)
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"

    def _record(
        self,
        order: Order,
        price: Decimal,
        qty: Decimal,
        commission: Decimal,
        asset: str,
        maker: bool,
        pnl: Decimal,
    ) -> None:
        now = self.clock.now_ms()
        trade = Trade(
            kind=self.kind,
            trade_id=self.next_trade_id,
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=price * qty,
            commission=commission,
            commission_asset=asset,
            time=now,
            is_maker=maker,
            realized_pnl=pnl,
        )
        self.next_trade_id += 1
        self.trades.append(trade)
        order.trades.append(trade)
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.update_time = now
        self.books[order.symbol].record_trade(price, qty, trade.trade_id)

    def _close(self, order: Order, status: str) -> None:
        """Finish an order and release whatever it still has locked."""
        if order.kind == "spot" and order.locked_amount > 0:
            self.spot.unlock(order.locked_asset, order.locked_amount)
            order.locked_amount = ZERO
        order.status = status
        order.update_time = self.clock.now_ms()

    def _place_futures(self, req: OrderRequest, rules: SymbolRules, book: Book) -> Order:
        if req.quantity is None:
            raise errors.mandatory_param("quantity")
        qty = req.quantity
        pos = self.futures.position(req.symbol)
        is_market = req.type == "MARKET"
        if req.reduce_only:
            reduces = (req.side == "SELL" and pos.amount > 0) or (
                req.side == "BUY" and pos.amount < 0
            )
            if not reduces:
                raise errors.reduce_only_rejected()
        filters.check_futures(rules, req.type, req.side, req.price, qty, book.mark, req.reduce_only)
        if req.reduce_only:
            qty = min(qty, abs(pos.amount))
        if is_market:
            best = book.best_ask() if req.side == "BUY" else book.best_bid()
            filters.check_percent_price_market(rules, req.side, best, book.mark)
        limit = None if is_market else req.price
        plan = book.plan(req.side, qty, limit=limit)
        if req.time_in_force == "GTX" and plan:
            raise errors.BinanceError(
                400,
                -5022,
                "Due to the order could not be executed as maker, "
                "the Post Only order will be rejected.",
            )
        planned_qty = sum((q for _, q in plan), ZERO)
        if req.time_in_force == "FOK" and not is_market and planned_qty < qty:
            plan = []
        est_price = limit if limit is not None else (plan[-1][0] if plan else book.mark)
        if not req.reduce_only:
            self._check_margin(req.symbol, req.side, qty, est_price)
        order = self._make_order(req, qty, req.time_in_force)
        for price, fill_qty in plan:
            self._futures_fill(order, price, fill_qty, maker=False)
        book.consume(req.side, plan)
        if order.remaining > 0 and (is_market or req.time_in_force in ("IOC", "FOK")):
            self._close(order, "EXPIRED")
        elif order.remaining == 0:
            self._close(order, "FILLED")
        return order

    def available_margin(self) -> Decimal:
        """Wallet + unrealized PnL - position margin - open-order margin."""
        acct = self.futures
        avail = acct.wallet
        for pos in acct.positions.values():
            if pos.amount == 0:
                continue
            mark = self.books[pos.symbol].mark
            avail += pos.unrealized(mark) - abs(pos.amount) * mark / pos.leverage
        for order in self.open_orders():
            if not order.reduce_only:
                lev = acct.position(order.symbol).leverage
                avail -= order.remaining * order.price / lev
        return avail

    def _check_margin(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> None:
        pos = self.futures.position(symbol)
        signed = qty if side == "BUY" else -qty
        increase = max(ZERO, abs(pos.amount + signed) - abs(pos.amount))
        required = increase * price / pos.leverage + qty * price * FUTURES_TAKER_FEE
        if required > self.available_margin():
            raise errors.margin_insufficient()

    def _futures_fill(self, order: Order, price: Decimal, qty: Decimal, maker: bool) -> None:
        rate = FUTURES_MAKER_FEE if maker else FUTURES_TAKER_FEE
        commission = (price * qty * rate).quantize(COMMISSION_PLACES)
        pnl = self.futures.apply_fill(
            order.symbol, order.side, qty, price, commission, self.clock.now_ms()
        )
        self._record(order, price, qty, commission, "USDT", maker, pnl)
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"

    # ----- cancelling and price moves ----------------------------------------------

    def cancel(self, order: Order) -> Order:
        """Cancel an open order, or raise -2011 if it is not open."""
        if not order.is_open:
            raise errors.unknown_order_sent()
        self._close(order, "CANCELED")
        return order

    def match_resting(self, symbol: str) -> None:
        """Fill resting orders that the current book crosses (as makers, at their price)."""
        book = self.books[symbol]
        rules = self.info.rules[symbol]
        for order in self.open_orders(symbol):
            plan = book.plan(order.side, order.remaining, limit=order.price)
            if not plan:
                continue
            qty = sum((q for _, q in plan), ZERO)
            if self.kind == "spot":
                self._spot_fill(order, rules, order.price, qty, maker=True)
            else:
                self._futures_fill(order, order.price, qty, maker=True)
            book.consume(order.side, plan)

    def tick(self) -> None:
        """Advance every book one admin step and let resting orders fill."""
        now = self.clock.now_ms()
        for symbol, book in self.books.items():
            book.step()
            book.remember(now)
            self.match_resting(symbol)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of clock time pass on every book; resting orders fill."""
        now = self.clock.now_ms()
        for symbol, book in self.books.items():
            book.advance(seconds)
            book.remember(now)
            self.match_resting(symbol)

    def set_mid(self, symbol: str, price: Decimal) -> None:
        """Move one symbol's reference price and let resting orders fill."""
        book = self.book(symbol)
        book.set_mid(price)
        book.remember(self.clock.now_ms())
        self.match_resting(symbol)
