"""The broker: parent orders in, child orders to the venue, one OMS fill per parent out.

``Broker.submit_orders`` dispatches each parent by type: ``market`` and ``limit`` send one
child at once; ``price@twap`` runs the window as waves (:mod:`exsdk.broker.twap`). Every
child is sized by the venue's limits and the environment policy, journaled as an intent
with a deterministic client order id, then sent by :class:`~exsdk.broker.submission.Session`.
Execution is idempotent given the journal, which is what makes :meth:`Broker.resume`
possible: a (parent, wave) that already has a child is never sent again.
"""

from __future__ import annotations

import asyncio
import decimal
import functools
import logging
import re
import time
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exsdk._lazy import import_on_first_call
from exsdk.adapter import ExchangeAdapter, arguments
from exsdk.broker.client_ids import child_client_order_id, new_run_id, validate_run_id
from exsdk.broker.clock import Clock, WallClock, venue_time
from exsdk.broker.limit_price import LimitPriceComputer, UnusableBook
from exsdk.broker.submission import RetrySettings, Session
from exsdk.broker.twap import TwapConfig, TwapPlan, Wave, child_amount, plan_waves
from exsdk.error_tables import stops_run
from exsdk.errors import (
    InvalidOrderInput,
    LiquidityRejected,
    RunNotReconciled,
    SdkError,
    UnsupportedMethod,
)
from exsdk.journal import Journal
from exsdk.limits import (
    DEFAULT_POLICIES,
    Environment,
    EnvironmentPolicy,
    apply_policy,
    minimal_order_amount,
    quantize_amount,
)
from exsdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    ChildOrder,
    ChildStatus,
    MarketLimits,
    OmsFill,
    Order,
    OrderKind,
    Side,
)
from exsdk.models.base import shown
from exsdk.universe import DEFAULT_UNIVERSE, Universe

if TYPE_CHECKING:
    from exsdk.broker.events import ChildEmpty, Observer, RunFinished, WaveSkipped, WaveStarted
    from exsdk.fills import cross_check, fold_fill
else:
    # Built or imported when first used (the first wave, get_fills), not when a broker is
    # made ready (issue 18 goal 3a); the functions are called only, as the classes.
    import_on_first_call(
        globals(),
        "exsdk.broker.events",
        ["ChildEmpty", "RunFinished", "WaveSkipped", "WaveStarted"],
    )
    import_on_first_call(globals(), "exsdk.fills", ["cross_check", "fold_fill"])

__all__ = ["PENDING", "TERMINAL", "Broker"]

log = logging.getLogger(__name__)

PENDING = frozenset({ChildStatus.INTENT, ChildStatus.UNKNOWN})
"""Child states whose venue outcome is not known yet: looked up before anything else."""
TERMINAL = frozenset(
    {
        ChildStatus.CLOSED,
        ChildStatus.CANCELED,
        ChildStatus.EXPIRED,
        ChildStatus.REJECTED,
        ChildStatus.EMPTY,
    }
)
"""Child states that will not change any more."""

_ZERO = Decimal(0)
# child_client_order_id's shape: x{run}-{parent}-{role}{wave}
_CHILD_ID = re.compile(r"^x[a-z0-9]+-(\d+)-([a-z]*)(\d+)$")


def _checked_orders(orders: object) -> list[Order]:
    """``orders`` as a list of ``Order``, or ``InvalidOrderInput`` saying what it is."""
    if isinstance(orders, str | bytes | Mapping) or not isinstance(orders, Sequence):
        raise InvalidOrderInput(
            f"submit_orders takes a sequence of Order, not {type(orders).__name__}"
        )
    for index, order in enumerate(orders):
        if not isinstance(order, Order):
            raise InvalidOrderInput(
                f"submit_orders: item {index} is a {type(order).__name__}, not an Order "
                "(build one with Order(...) or exsdk.orders_text.parse_orders)"
            )
    return list(orders)


def _not_trading(limits: MarketLimits, exchange: str) -> str | None:
    """Why no child of this market may be sent now, or ``None`` when the market trades.

    ccxt's ``active`` (from the venue's markets) decides; the venue's own status word, when
    its market info has one (Binance: ``SETTLING``, ``PENDING_TRADING``), is quoted.
    """
    if limits.active:
        return None
    status = limits.info.get("status")
    said = f" (status {shown(status)})" if isinstance(status, str) and status else ""
    # The symbol is the child's own field (and every line showing a child names it).
    return f"not trading on {exchange} now{said}: not sent"


def _signed_filled(child: ChildOrder) -> Decimal:
    return child.filled if child.side == Side.BUY else -child.filled


class Broker:
    """Submits parent orders as child orders, journals everything, reports OMS fills.

    ``run_id`` (1-12 of ``[a-z0-9]``, generated when not given) names the run in the
    journal and in every client order id. ``clock`` defaults to the wall clock; tests pass
    a :class:`~exsdk.broker.clock.VirtualClock`. ``observer`` receives typed progress events.
    """

    def __init__(
        self,
        adapter: ExchangeAdapter,
        environment: Environment,
        journal: Journal,
        clock: Clock | None = None,
        *,
        run_id: str | None = None,
        universe: Universe = DEFAULT_UNIVERSE,
        limit_prices: LimitPriceComputer | None = None,
        twap: TwapConfig | None = None,
        policies: Mapping[Environment, EnvironmentPolicy] = DEFAULT_POLICIES,
        observer: Observer | None = None,
        retry: RetrySettings | None = None,
        fee_conversion: Mapping[str, Decimal] | None = None,
        quote: str = "USDT",
    ) -> None:
        self.adapter = adapter
        try:
            self.environment = Environment(environment)
        except ValueError:
            known = ", ".join(e.value for e in Environment)
            raise InvalidOrderInput(
                f"environment {shown(environment)} is not one of {known}",
                field="environment",
                source="Broker",
            ) from None
        self.journal = journal
        self.clock: Clock = clock or WallClock()
        self.run_id = new_run_id() if run_id is None or run_id == "" else validate_run_id(run_id)
        self.universe = universe
        self.limit_prices = limit_prices or LimitPriceComputer()
        self.twap = twap or TwapConfig()
        self.policies = policies
        self.fee_conversion = dict(fee_conversion or {})
        self.quote = quote
        self._session = Session(
            adapter, journal, self.run_id, self.clock, observer, retry or RetrySettings()
        )
        self._markets: dict[str, MarketLimits] | None = None

    # -- run bookkeeping -------------------------------------------------------------

    def run_params(self) -> dict[str, Any]:
        """What a resume needs to continue the run the same way."""
        return {
            "twap": {
                "waves": self.twap.waves,
                "wave_seconds": self.twap.wave_seconds,
                "cancel_lead": self.twap.cancel_lead,
                "submit_window": self.twap.submit_window,
            },
            "passivity": str(self.limit_prices.passivity),
            "max_age": None
            if self.limit_prices.max_age is None
            else self.limit_prices.max_age.total_seconds(),
            "quote": self.quote,
        }

    def _record_run(self) -> None:
        self.journal.record_run(
            self.run_id,
            adapter=getattr(self.adapter, "name", type(self.adapter).__name__),
            exchange=self.adapter.exchange_id,
            environment=str(self.environment),
            params=self.run_params(),
            started_at=self.clock.now(),
        )

    async def _limits(self) -> dict[str, MarketLimits]:
        if self._markets is None:
            self._markets = await self._session.call(
                self.adapter.load_markets, client_order_id=None
            )
        return self._markets

    def _symbol(self, order: Order) -> str:
        explicit = order.extra_params.get("ccxt_symbol")
        if isinstance(explicit, str):
            return explicit
        asset = self.universe.resolve(order.asset_id)
        return self.adapter.symbol_for(asset.base, asset.quote)

    # -- submission ------------------------------------------------------------------

    async def submit_orders(self, orders: Sequence[Order]) -> list[ChildOrder]:
        """Execute parent orders; return every child in its final state.

        Parents run concurrently; a failure of one child (a rejection, -4131 on a thin
        book) is recorded and never stops the others. A parent id already in this run is
        refused: the run's client order ids would collide (use :meth:`resume`). Anything
        but a sequence of :class:`~exsdk.models.Order` raises ``InvalidOrderInput``.
        """
        orders = _checked_orders(orders)
        if not orders:
            return []
        with self.journal.lease(self.run_id):
            return await self._submit(orders)

    async def _submit(self, orders: Sequence[Order]) -> list[ChildOrder]:
        ids = [o.order_id for o in orders]
        if len(set(ids)) != len(ids):
            raise InvalidOrderInput("parent order ids must be unique within a submission")
        known = {o.order_id for o, _ in self.journal.parent_orders(self.run_id)}
        clash = sorted(set(ids) & known)
        if clash:
            raise InvalidOrderInput(
                f"parents {clash} are already in run {self.run_id}; resume it instead"
            )
        now = self.clock.now()
        for order in orders:
            if str(order.type_) not in {k.value for k in OrderKind}:
                raise InvalidOrderInput(f"order {order.order_id}: unknown type {order.type_!r}")
            if str(order.type_) == OrderKind.TWAP and order.end_timestamp <= now:
                # Every wave would be skipped: refuse, rather than send nothing quietly.
                raise InvalidOrderInput(
                    f"order {order.order_id}: its TWAP window ended at "
                    f"{_utc(order.end_timestamp)} (now {_utc(now)}); nothing "
                    "would be sent. Move the windows with exsdk.rebase_orders(orders, start)"
                )
        parents = [(o, self._symbol(o)) for o in orders]
        # Every parent is checked before the first send: one that sizing cannot handle
        # must not fail inside a wave, after the others' children went out.
        self._check_sizes(parents, await self._limits())
        self._record_run()
        self.journal.record_parents(self.run_id, parents)
        self.journal.record_run_event(self.run_id, "submitted", {"parents": ids})
        return await self._execute(parents, existing={})

    async def resume(self) -> list[ChildOrder]:
        """Finish this run after a crash: reconcile pending children, then carry on.

        Children journaled as intents or with an unknown outcome are looked up by client
        order id (adopted when found, rejected when not); waves already past their
        deadline are skipped and said so; the rest runs as it would have.
        """
        with self.journal.lease(self.run_id):
            # Whoever drove the run before is gone now (the lease says so): no request
            # of theirs was signed after this moment.
            self._session.started_at = time.time()
            parents = self.journal.parent_orders(self.run_id)
            if not parents:
                raise InvalidOrderInput(f"run {self.run_id} has no parent orders to resume")
            self.journal.record_run_event(self.run_id, "resumed")
            existing = {c.client_order_id: c for c in self.journal.latest_children(self.run_id)}
            return await self._execute(parents, existing=existing)

    def _check_sizes(
        self, parents: Sequence[tuple[Order, str]], markets: Mapping[str, MarketLimits]
    ) -> None:
        """Refuse, before anything is sent, parents whose size quantizing cannot represent."""
        bad: list[str] = []
        for order, symbol in parents:
            limits = markets.get(symbol)
            if limits is None:
                continue  # recorded as "not a market here" per child, as before
            try:
                with decimal.localcontext() as ctx:
                    ctx.traps[decimal.Inexact] = False
                    quantize_amount(limits, order.diff_num_shares)
                    (abs(order.diff_num_shares) / limits.amount_step).to_integral_value()
                    child_amount(order.diff_num_shares, 1, limits)
            except (ArithmeticError, InvalidOrderInput) as exc:
                bad.append(f"{order.order_id} ({order.diff_num_shares} {symbol}: {exc!r})")
        if bad:
            raise InvalidOrderInput(
                "parents too large for the venue's step grid, nothing sent: " + "; ".join(bad)
            )

    async def _execute(
        self, parents: Sequence[tuple[Order, str]], *, existing: dict[str, ChildOrder]
    ) -> list[ChildOrder]:
        markets = await self._limits()
        one_shot = [(o, s) for o, s in parents if str(o.type_) != OrderKind.TWAP]
        groups: dict[tuple[datetime, datetime], list[tuple[Order, str]]] = {}
        for order, symbol in parents:
            if str(order.type_) == OrderKind.TWAP:
                key = (order.start_timestamp, order.end_timestamp)
                groups.setdefault(key, []).append((order, symbol))
        # A symbol that is no market here can hold no venue order: nothing to reconcile.
        symbols = sorted({s for _, s in parents if s in markets})
        jobs: list[Awaitable[object]] = [
            self._one_shot(o, s, markets, existing) for o, s in one_shot
        ]
        jobs += [
            self._twap(items, start, end, markets, existing, symbols)
            for (start, end), items in groups.items()
        ]
        # Concurrent jobs share commits; a lone one commits at once (see GroupCommit).
        with self._gathering(len(jobs)):
            results = await asyncio.gather(*jobs, return_exceptions=True)
        self._session.check_running()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        problems = await self._reconcile_venue(symbols)
        children = self.journal.latest_children(self.run_id)
        doubt = sorted(c.client_order_id for c in children if self._in_doubt(c))
        if doubt:
            problems.append(f"children in doubt: {', '.join(doubt)}")
        if problems:
            message = (
                f"run {self.run_id} not finished, the venue and the journal do not agree yet: "
                + "; ".join(problems)
                + f"; run `exsdk resume {self.run_id}` once the venue answers"
            )
            self.journal.record_run_event(self.run_id, "not_reconciled", problems)
            raise RunNotReconciled(" ".join(message.split()))
        self.journal.record_run_event(self.run_id, "finished", {"children": len(children)})
        self._session.emit(RunFinished(self.run_id, self.clock.now(), len(children)))
        return children

    def _gathering(self, concurrent: int) -> AbstractContextManager[None]:
        """Group the journal commits of ``concurrent`` tasks run together (one is alone)."""
        return self._session.commits.gathering() if concurrent > 1 else nullcontext()

    def _latest(self, known: dict[str, ChildOrder], cid: str) -> ChildOrder:
        """``known[cid]``, unless another task of this process placed or adopted the child
        while this one awaited the venue: then the journal's newer state (read again for all).
        """
        placed = self._session.orders.get(cid)
        if placed is not None and known[cid].ccxt_order_id != placed.id:
            known.update((c.client_order_id, c) for c in self.journal.latest_children(self.run_id))
        return known[cid]

    def _in_doubt(self, child: ChildOrder) -> bool:
        """A child whose venue state is not known, or asked to cancel and not final."""
        if child.status in PENDING:
            return True
        return child.client_order_id in self._session.cancel_wanted and (
            child.status not in TERMINAL
        )

    # -- venue truth -------------------------------------------------------------------

    async def _reconcile_venue(self, symbols: Sequence[str]) -> list[str]:
        """Make the journal agree with the venue's own list of the run's orders.

        Every venue order whose client order id carries the run's prefix is known to the
        journal (an unknown one is adopted), collected (its trades journaled) and, when
        still open and not a child meant to rest, canceled; every child in doubt is
        looked up again and every unconfirmed cancel retried; each child's journaled
        trades must add up to what the venue says it filled. Returns what still
        disagrees (nothing when the run may be called finished).
        """
        prefix = f"x{self.run_id}-"
        known = {c.client_order_id: c for c in self.journal.latest_children(self.run_id)}
        problems: list[str] = []
        listed: set[str] = set()
        for symbol in symbols:
            try:
                orders = await self._session.call(
                    lambda symbol=symbol: self.adapter.fetch_orders(symbol),  # type: ignore[misc]
                    client_order_id=None,
                )
            except UnsupportedMethod:
                orders = []  # the venue cannot list orders: the journal's own view counts
            except SdkError as exc:
                if stops_run(exc):
                    raise
                problems.append(f"{symbol}: cannot list the venue's orders ({exc})")
                continue
            # A child whose send loop ended while the list was asked for is journaled
            # in its new state now: read it again rather than adopt it a second time.
            known.update((c.client_order_id, c) for c in self.journal.latest_children(self.run_id))
            for order in orders:
                cid = order.client_order_id
                if not cid or not cid.startswith(prefix) or order.id is None:
                    continue
                listed.add(cid)
                if cid in self._session.in_flight:
                    continue  # its own send loop (another parent's task) settles it
                child = known.get(cid)
                if (
                    child is not None
                    and child.ccxt_order_id == order.id
                    and cid in self._session.collected
                    and not order.is_open
                    and order.filled == child.filled
                ):
                    # Final, collected, and the venue agrees: nothing to fetch again.
                    self._session.orders[cid] = order
                    continue
                if child is None:
                    child = self._orphan(order, symbol)
                    if child is None:
                        problems.append(f"venue order {order.id} ({cid}) names no parent")
                        continue
                    self.journal.record_child(self.run_id, child)
                    self._session.warn(f"{cid}: on the venue but not in the journal; adopted")
                if child.ccxt_order_id != order.id:
                    if child.ccxt_order_id is None and child.status not in PENDING:
                        self._session.warn(
                            f"{cid}: journaled {child.status} but live on the venue; adopted"
                        )
                    child = self._session.adopt(child, order)
                wanted = self._session.cancel_wanted
                resting = child.status == ChildStatus.OPEN and cid not in wanted
                known[cid] = await self._session.collect(
                    child, cancel=order.is_open and not resting
                )
        for cid in list(known):
            if cid in self._session.in_flight:
                continue
            child = self._latest(known, cid)
            if child.status in PENDING and cid not in listed:
                child = await self._session.reconcile(child)
            if child.ccxt_order_id is not None and (
                self._in_doubt(child)
                or (child.status not in TERMINAL and cid in self._session.cancel_wanted)
            ):
                child = await self._session.collect(child, cancel=True)
            known[cid] = child
        for cid, child in known.items():
            venue = self._session.orders.get(cid)
            if child.ccxt_order_id is None or venue is None or venue.filled is None:
                continue
            journaled = self._session.journaled_amount(child)
            if journaled != venue.filled:
                problems.append(f"{cid}: venue filled {venue.filled}, trades journaled {journaled}")
        return problems

    def _orphan(self, order: CcxtOrder, symbol: str) -> ChildOrder | None:
        """A journal child for a venue order of this run the journal never heard of."""
        match = _CHILD_ID.match(order.client_order_id or "")
        if match is None:
            return None
        parent_id, wave = int(match.group(1)), int(match.group(3))
        parents = {o.order_id: o for o, _ in self.journal.parent_orders(self.run_id)}
        parent = parents.get(parent_id)
        if parent is None or order.side is None or order.amount is None:
            return None
        return ChildOrder(
            parent_order_id=parent_id,
            asset_id=parent.asset_id,
            wave=wave,
            client_order_id=str(order.client_order_id),
            symbol=symbol,
            side=order.side,
            order_type=str(order.type or "limit"),
            amount=order.amount,
            limit_price=order.price,
            reduce_only=bool(order.reduce_only),
            status=ChildStatus.UNKNOWN,
            reason="found on the venue by reconciliation",
            created_at=self.clock.now(),
        )

    def _new_child(
        self,
        order: Order,
        symbol: str,
        wave: int,
        *,
        order_type: str,
        amount: Decimal,
        side: Side,
        limit_price: Decimal | None = None,
        reduce_only: bool = False,
        role: str = "",
        reason: str | None = None,
        client_order_id: str | None = None,
    ) -> ChildOrder:
        """The child model, validated once: built when its size is known (a child that
        policy stops before the wire is built with amount 0 only on that path).
        ``client_order_id`` is :func:`child_client_order_id` when the caller has it."""
        if client_order_id is None:
            client_order_id = child_client_order_id(self.run_id, order.order_id, wave, role)
        return ChildOrder(
            parent_order_id=order.order_id,
            asset_id=order.asset_id,
            wave=wave,
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            order_type=order_type,
            amount=abs(amount),
            limit_price=limit_price,
            reduce_only=reduce_only,
            reason=reason,
            created_at=self.clock.now(),
        )

    def _draft(self, order: Order, symbol: str, wave: Wave) -> ChildOrder:
        """The child of ``order`` in ``wave`` that policy or the book stopped before it was
        sized (amount 0: built only on that path, not by a closure for every child)."""
        return self._new_child(
            order, symbol, wave.index, order_type="limit", amount=_ZERO, side=order.side
        )

    def _not_sent(self, child: ChildOrder, status: ChildStatus, reason: str) -> ChildOrder:
        """Record a child that policy or sizing stopped before the wire."""
        done = child.model_copy(update={"status": status, "reason": reason})
        if status == ChildStatus.EMPTY:
            self.journal.record_child(self.run_id, done)
            self._session.emit(ChildEmpty(done, reason))
            return done
        return self._session.reject(done, reason)

    async def _settle_existing(self, child: ChildOrder, *, cancel: bool) -> ChildOrder:
        """Bring a child found in the journal up to date with the venue."""
        if child.status in PENDING:
            child = await self._session.reconcile(child)
        # A child final on the venue is collected once per process (its trades journaled);
        # journaling again is harmless, trades are unique per exchange and symbol.
        if child.ccxt_order_id is not None and (
            child.status not in TERMINAL or child.client_order_id not in self._session.collected
        ):
            child = await self._collect(child, cancel=cancel)
        return child

    async def _collect(self, child: ChildOrder, *, cancel: bool) -> ChildOrder:
        return await self._session.collect(child, cancel=cancel)

    async def _one_shot(
        self,
        order: Order,
        symbol: str,
        markets: Mapping[str, MarketLimits],
        existing: Mapping[str, ChildOrder],
    ) -> ChildOrder:
        """A ``market`` or ``limit`` parent: one child, sent now."""
        kind = str(order.type_)
        cid = child_client_order_id(self.run_id, order.order_id, 0)
        if cid in existing:
            return await self._settle_existing(existing[cid], cancel=False)
        side = order.side

        def draft() -> ChildOrder:
            return self._new_child(order, symbol, 0, order_type=kind, amount=_ZERO, side=side)

        limits = markets.get(symbol)
        if limits is None:
            return self._not_sent(draft(), ChildStatus.REJECTED, f"{symbol}: not a market here")
        closed = _not_trading(limits, self.adapter.exchange_id)
        if closed is not None:
            return self._not_sent(draft(), ChildStatus.REJECTED, closed)
        try:
            book = await self._session.call(
                lambda: self.adapter.best_bid_ask(symbol), client_order_id=cid
            )
            if kind == OrderKind.LIMIT:
                price = self.limit_prices.price(book, side, limits, now=venue_time(self.clock))
            else:
                if book.is_crossed or book.bid <= 0:
                    raise UnusableBook(f"{symbol}: no usable book to size a market order")
                price = book.mid
        except SdkError as exc:
            if stops_run(exc):
                raise
            return self._not_sent(draft(), ChildStatus.REJECTED, str(exc))
        sized = apply_policy(limits, order.diff_num_shares, price, self.environment, self.policies)
        if sized.rejected:
            return self._not_sent(draft(), ChildStatus.REJECTED, sized.reason or "policy")
        if sized.empty:
            return self._not_sent(draft(), ChildStatus.EMPTY, sized.reason or "sized to zero")
        child = self._new_child(
            order,
            symbol,
            0,
            order_type=kind,
            amount=sized.amount,
            side=side,
            limit_price=price if kind == OrderKind.LIMIT else None,
            reason=sized.reason,
        )
        child = await self._place(child)
        if kind == OrderKind.MARKET and child.ccxt_order_id is not None:
            # A market order is done at once; its trades belong in the journal now.
            child = await self._collect(child, cancel=False)
        return child

    async def _place(self, child: ChildOrder) -> ChildOrder:
        """Journal the child's intent and send it."""
        return self._placed(child, await self._session.place(child))

    def _placed(self, child: ChildOrder, placed: ChildOrder) -> ChildOrder:
        """``placed``, the outcome of sending ``child``; a liquidity rejection is warned of."""
        if placed.status == ChildStatus.REJECTED:
            error = self._session.last_errors.get(child.client_order_id)
            if isinstance(error, LiquidityRejected):
                # The venue's own code: -4131 on Binance, 110003 / 170193 ... on Bybit.
                code = error.code if error.code is not None else "price band"
                self._session.warn(
                    f"{child.client_order_id} {child.symbol}: liquidity rejection ({code}); "
                    "the book is too thin, other orders proceed"
                )
        return placed

    # -- TWAP --------------------------------------------------------------------------

    async def _twap(
        self,
        items: Sequence[tuple[Order, str]],
        start: datetime,
        end: datetime,
        markets: Mapping[str, MarketLimits],
        existing: dict[str, ChildOrder],
        symbols: Sequence[str] = (),
    ) -> list[ChildOrder]:
        """Run one TWAP window for all its parents, wave by wave; after each wave the
        journal is reconciled with the venue's list of the run's orders."""
        plan = plan_waves(start, end, self.twap)
        parent_ids = {o.order_id for o, _ in items}
        mine: dict[str, ChildOrder] = {}
        stopped: set[int] = set()
        # Children of waves that ended while nobody watched (a crash): settle them first.
        now = self.clock.now()
        for wave in plan.waves:
            if wave.end > now:
                break
            for order, _ in items:
                cid = child_client_order_id(self.run_id, order.order_id, wave.index)
                if cid in existing:
                    mine[cid] = await self._settle_existing(existing[cid], cancel=True)
        await self.clock.sleep_until(start)
        for wave in plan.waves:
            now = self.clock.now()
            wave_cids = {
                o.order_id: child_client_order_id(self.run_id, o.order_id, wave.index)
                for o, _ in items
            }
            if wave.end <= now:
                if not any(c in existing for c in wave_cids.values()):
                    self._skip(wave, "the wave had ended before it could be submitted")
                continue
            already = [existing[c] for c in wave_cids.values() if c in existing]
            if now > wave.submit_deadline and not already:
                self._skip(
                    wave,
                    f"too late: now {_utc(now)} is past the submit deadline "
                    f"{_utc(wave.submit_deadline)}",
                )
                await self.clock.sleep_until(wave.end)
                continue
            self._session.emit(WaveStarted(self.run_id, wave.index, now, plan.num_waves))
            # Committed with the wave's intents (one sync for both), before any request;
            # flushed after the wave if no child had anything to send.
            self._session.commits.add(
                functools.partial(
                    self.journal.record_run_event,
                    self.run_id,
                    "wave_started",
                    {"wave": wave.index},
                )
            )
            late = now > wave.submit_deadline
            quotes: dict[tuple[str, Side], tuple[BidAsk, Decimal, Decimal]] = {}
            grouped = self._by_parent(mine)
            books = (
                {}
                if late
                else await self._wave_books(items, wave_cids, markets, existing, stopped, grouped)
            )
            # Sized in one pass (no task, coroutine or loop turn per child before its
            # intent), the intents committed as one durable transaction, then sent.
            outcomes: list[object] = [None] * len(items)
            jobs: list[tuple[int, Awaitable[ChildOrder | None]]] = []
            intents: list[tuple[int, ChildOrder]] = []
            for i, (order, symbol) in enumerate(items):
                cid = wave_cids[order.order_id]
                if cid in existing:
                    jobs.append((i, self._existing_wave_child(existing[cid], mine)))
                    continue
                try:
                    intent = self._size_wave_child(
                        order,
                        symbol,
                        cid,
                        wave,
                        plan,
                        markets,
                        mine,
                        stopped,
                        late=late,
                        books=books,
                        quotes=quotes,
                        grouped=grouped,
                    )
                except Exception as exc:  # a book failure that stops the run
                    outcomes[i] = exc
                    continue
                if intent is not None:
                    intents.append((i, intent))
            to_send = [c for _, c in intents]
            if to_send:
                try:
                    self._session.journal_intents(to_send)
                except Exception as exc:  # nothing of the commit was written: none is sent
                    for i, _ in intents:
                        outcomes[i] = exc
                    intents, to_send = [], []
            jobs += [(i, self._send_wave_child(c, mine)) for i, c in intents]
            try:
                with self._gathering(len(jobs)):
                    results = await asyncio.gather(*(j for _, j in jobs), return_exceptions=True)
            finally:
                self._session.forget_in_flight(to_send)
            for (i, _), result in zip(jobs, results, strict=True):
                outcomes[i] = result
            self._session.commits.flush()
            sent = [c for c in outcomes if isinstance(c, ChildOrder)]
            failed = [e for e in outcomes if isinstance(e, BaseException)]
            if not failed:
                await self.clock.sleep_until(wave.cancel_at)
            # Whatever went out is canceled and collected, even when the wave failed.
            settled = await asyncio.gather(
                *(self._settle_existing(c, cancel=True) for c in sent),
                return_exceptions=True,
            )
            for child in settled:
                if isinstance(child, ChildOrder):
                    mine[child.client_order_id] = child
                else:
                    failed.append(child)
            if failed:
                raise failed[0]
            for problem in await self._reconcile_venue(symbols):
                self._session.warn(f"after wave {wave.index}: {problem}")
            for child in self.journal.latest_children(self.run_id):
                if child.client_order_id in mine or child.parent_order_id in parent_ids:
                    mine[child.client_order_id] = child
            await self.clock.sleep_until(wave.end)
            grouped = self._by_parent(mine)
            if all(o.order_id in stopped or self._remaining(o, grouped) == 0 for o, _ in items):
                rest = plan.waves[wave.index + 1 :]
                if rest:
                    self.journal.record_run_event(
                        self.run_id, "twap_done_early", {"after_wave": wave.index}
                    )
                break
        return list(mine.values())

    async def _wave_books(
        self,
        items: Sequence[tuple[Order, str]],
        cids: Mapping[int, str],
        markets: Mapping[str, MarketLimits],
        existing: Mapping[str, ChildOrder],
        stopped: set[int],
        grouped: Mapping[int, Sequence[ChildOrder]],
    ) -> dict[str, BidAsk | Exception]:
        """The wave's top of book per symbol, asked once per symbol and wave (concurrently)
        and shared by its children: one request instead of one per child, the same
        price basis for all. Only for symbols a child will be sized for (the checks
        :meth:`_size_wave_child` makes before it reads its book). A failure is every
        sharing child's; retries are journaled under the first such child's id."""
        asks: dict[str, Awaitable[BidAsk]] = {}
        for order, symbol in items:
            cid = cids[order.order_id]
            if symbol in asks or cid in existing or order.order_id in stopped:
                continue
            limits = markets.get(symbol)
            if limits is None or _not_trading(limits, self.adapter.exchange_id) is not None:
                continue
            if self._remaining(order, grouped) != 0:
                asks[symbol] = self._session.call(
                    functools.partial(self.adapter.best_bid_ask, symbol), client_order_id=cid
                )
        answers = await asyncio.gather(*asks.values(), return_exceptions=True)
        books: dict[str, BidAsk | Exception] = {}
        for symbol, answer in zip(asks, answers, strict=True):
            if not isinstance(answer, BidAsk | Exception):
                raise answer  # cancelled: not a venue's answer
            books[symbol] = answer
        return books

    def _skip(self, wave: Wave, reason: str) -> None:
        self.journal.record_run_event(
            self.run_id, "wave_skipped", {"wave": wave.index, "reason": reason}
        )
        self._session.emit(WaveSkipped(self.run_id, wave.index, self.clock.now(), reason))
        log.info("run %s wave %d skipped: %s", self.run_id, wave.index, reason)

    @staticmethod
    def _by_parent(children: Mapping[str, ChildOrder]) -> dict[int, list[ChildOrder]]:
        """Children grouped by parent: each parent's remainder reads only its own."""
        out: dict[int, list[ChildOrder]] = {}
        for child in children.values():
            out.setdefault(child.parent_order_id, []).append(child)
        return out

    @staticmethod
    def _remaining(order: Order, children: Mapping[int, Sequence[ChildOrder]]) -> Decimal:
        """``asked - filled - live open quantity``: a child not final on the venue (open,
        its cancel not confirmed, or in doubt) may still fill all it has left.

        ``children`` is :meth:`_by_parent` of the run's children (one pass per wave, not
        one per parent: a wave of many parents stays linear)."""
        done = _ZERO
        for child in children.get(order.order_id, ()):
            done += _signed_filled(child)
            if child.status not in TERMINAL:
                live = max(child.amount - child.filled, _ZERO)
                done += live if child.side == Side.BUY else -live
        remaining = order.diff_num_shares - done
        # Past the target (an overfill, or a minimum forced by policy): nothing remains.
        if remaining != 0 and (remaining > 0) != (order.diff_num_shares > 0):
            return _ZERO
        return remaining

    async def _existing_wave_child(
        self, child: ChildOrder, mine: dict[str, ChildOrder]
    ) -> ChildOrder:
        """A child of this wave found in the journal (a resume): its outcome settled."""
        if child.status in PENDING:
            child = await self._session.reconcile(child)
        mine[child.client_order_id] = child
        return child

    async def _send_wave_child(
        self, child: ChildOrder, mine: dict[str, ChildOrder]
    ) -> ChildOrder | None:
        """Send a wave's child whose intent is committed (``None`` if refused)."""
        # The session's send awaited here, not through _place: one coroutine less between
        # the wave and the venue, for each of its children.
        placed = self._placed(child, await self._session.send(child))
        mine[child.client_order_id] = placed
        if placed.status == ChildStatus.REJECTED:
            return None
        return placed

    def _size_wave_child(
        self,
        order: Order,
        symbol: str,
        cid: str,
        wave: Wave,
        plan: TwapPlan,
        markets: Mapping[str, MarketLimits],
        mine: dict[str, ChildOrder],
        stopped: set[int],
        *,
        late: bool,
        books: Mapping[str, BidAsk | Exception],
        quotes: dict[tuple[str, Side], tuple[BidAsk, Decimal, Decimal]],
        grouped: Mapping[int, Sequence[ChildOrder]],
    ) -> ChildOrder | None:
        """One parent's child of ``wave``, sized, not yet journaled (``None`` if none).

        ``books`` and ``quotes`` are shared by the wave's children: one book request per
        symbol, and one limit price and venue minimum per symbol and side from that book.
        A child that policy or the book refuses is journaled as such here. Raises a book
        failure that stops the run.
        """
        if late or order.order_id in stopped:
            return None
        remaining = self._remaining(order, grouped)
        if remaining == 0:
            return None
        side = order.side
        limits = markets.get(symbol)
        closed = None if limits is None else _not_trading(limits, self.adapter.exchange_id)
        if limits is None or closed is not None:
            # Refused once, in its first wave; the parent's later waves are not tried.
            stopped.add(order.order_id)
            reason = closed or f"{symbol}: not a market here"
            mine[cid] = self._not_sent(
                self._draft(order, symbol, wave), ChildStatus.REJECTED, reason
            )
            return None
        try:
            book = books.get(symbol)
            if book is None:  # asked for only when a child would be sized (see above)
                raise AssertionError(f"{symbol}: the wave asked for no book")
            if isinstance(book, Exception):
                raise book
            quote = quotes.get((symbol, side))
            if quote is None or quote[0] is not book:
                price = self.limit_prices.price(book, side, limits, now=venue_time(self.clock))
                quote = (book, price, minimal_order_amount(limits, price))
                quotes[symbol, side] = quote
            _, price, minimal = quote
        except SdkError as exc:
            if stops_run(exc):
                raise
            mine[cid] = self._not_sent(
                self._draft(order, symbol, wave), ChildStatus.REJECTED, str(exc)
            )
            return None
        waves_left = plan.num_waves - wave.index
        share = child_amount(remaining, waves_left, limits)
        if abs(remaining) < minimal:
            # What remains is below the venue minimum: the policy decides (raise it in
            # local and preprod, refuse it in prod, which also stops this parent).
            to_size = remaining
        elif abs(share) < minimal:
            # A wave's share below the minimum: send the minimum instead, never more than
            # what remains, so small parents still finish within the window.
            to_size = min(minimal, abs(quantize_amount(limits, remaining))) * (
                1 if remaining > 0 else -1
            )
        else:
            to_size = share
        sized = apply_policy(
            limits, to_size, price, self.environment, self.policies, minimal=minimal
        )
        if sized.rejected:
            stopped.add(order.order_id)
            reason = sized.reason or "refused by policy"
            self._session.warn(f"parent {order.order_id} stopped: {reason}")
            mine[cid] = self._not_sent(
                self._draft(order, symbol, wave), ChildStatus.REJECTED, reason
            )
            return None
        if sized.empty:
            mine[cid] = self._not_sent(
                self._draft(order, symbol, wave), ChildStatus.EMPTY, sized.reason or "sized to zero"
            )
            return None
        child = self._new_child(
            order,
            symbol,
            wave.index,
            order_type="limit",
            amount=sized.amount,
            side=side,
            limit_price=price,
            reason=sized.reason,
            client_order_id=cid,
        )
        return child

    # -- results -----------------------------------------------------------------------

    async def get_fills(self) -> list[OmsFill]:
        """One :class:`OmsFill` per parent with trades new since the last call.

        Open children are refreshed from the venue first (their trades journaled).
        A finished parent that never filled is reported once as an empty fill. Each
        fill is cross-checked against the venue's order quantities; a disagreement is a
        warning and a ``fill_discrepancy`` run event in the journal; the trades decide.
        """
        with self.journal.lease(self.run_id):
            return await self._get_fills()

    async def _get_fills(self) -> list[OmsFill]:
        children = self.journal.latest_children(self.run_id)
        refreshed = await asyncio.gather(
            *(self._settle_existing(c, cancel=False) for c in children)
        )
        by_parent: dict[int, list[ChildOrder]] = {}
        for child in refreshed:
            by_parent.setdefault(child.parent_order_id, []).append(child)
        markets = await self._limits()
        fills: list[OmsFill] = []
        now = self.clock.now()
        for parent, symbol in self.journal.parent_orders(self.run_id):
            pid = parent.order_id
            kids = by_parent.get(pid, [])
            all_trades = self.journal.trade_models(self.run_id, parent_order_id=pid)
            # Which trades were reported lives in the journal: a process killed after a
            # fill was written, or a second get_fills after a resume, reports none again.
            reported = self.journal.reported_trade_ids(self.run_id, pid)
            new = [t for t in all_trades if t.id not in reported]
            quote = markets[symbol].quote if symbol in markets else self.quote
            finished = all(c.status in TERMINAL for c in kids) and (
                str(parent.type_) != OrderKind.TWAP or parent.end_timestamp <= now
            )
            if not new and (
                all_trades or not finished or self.journal.reported_empty(self.run_id, pid)
            ):
                continue
            fill = fold_fill(
                parent,
                symbol=symbol,
                quote=quote,
                children=kids,
                trades=new,
                fee_conversion=self.fee_conversion,
            )
            await self._cross_check(parent, symbol, quote, kids, all_trades)
            self.journal.record_fill(self.run_id, fill, trade_ids=[t.id for t in new])
            fills.append(fill)
        return fills

    async def _cross_check(
        self, parent: Order, symbol: str, quote: str, kids: Sequence[ChildOrder], trades: Any
    ) -> None:
        total = fold_fill(
            parent,
            symbol=symbol,
            quote=quote,
            children=kids,
            trades=trades,
            fee_conversion=self.fee_conversion,
        )
        orders: list[CcxtOrder] = []
        for child in kids:
            order = await self._venue_view(child)
            if order is not None:
                orders.append(order)
        discrepancy = cross_check(total, orders)
        if discrepancy is not None:
            message = (
                f"parent {parent.order_id}: trades sum to {discrepancy.folded}, the venue's "
                f"orders report {discrepancy.reported} filled"
            )
            self.journal.record_run_event(self.run_id, "fill_discrepancy", message)
            self._session.warn(message)

    async def _venue_view(self, child: ChildOrder) -> CcxtOrder | None:
        """The venue's latest word on a child (cached once it is final)."""
        oid = child.ccxt_order_id
        if oid is None:
            return None
        cid = child.client_order_id
        order = self._session.orders.get(cid)
        if order is not None and not order.is_open:
            return order
        try:
            order = await self._session.call(
                lambda: self.adapter.fetch_order(child.symbol, order_id=oid), client_order_id=cid
            )
        except SdkError as exc:
            self._session.warn(f"{cid}: no ccxt fill to check ({exc})")
            return None
        self._session.orders[cid] = order
        return order

    async def positions(self) -> dict[str, Decimal]:
        """Open positions by symbol, signed.

        Futures adapters report positions; on spot a position is a non-zero balance of
        a currency that trades against ``quote`` here.
        """
        if self.adapter.capabilities.positions:
            found = await self._session.call(self.adapter.fetch_positions, client_order_id=None)
            out: dict[str, Decimal] = {}
            for p in found:
                if p.amount != 0:
                    out[p.symbol] = out.get(p.symbol, _ZERO) + p.amount
            return out
        balances = await self.balances()
        markets = await self._limits()
        out = {}
        for currency in balances.by_currency:
            # total() derives free + used when the venue gave no total; unknown is not zero.
            held = balances.total(currency)
            if currency == self.quote or held == 0:
                continue
            symbol = self.adapter.symbol_for(currency, self.quote)
            if symbol in markets:
                out[symbol] = held
        return out

    async def balances(self) -> Balances:
        """Account balances."""
        return await self._session.call(self.adapter.fetch_balances, client_order_id=None)

    async def flatten(self, *, dry_run: bool = True) -> list[ChildOrder]:
        """Close every open position with a market order (reduce-only where supported).

        With ``dry_run`` (the default) nothing is sent and nothing is journaled: the
        children that would be sent are returned with status ``intent``. Otherwise the
        flatten runs as its own journaled run (a fresh run id), so its client order ids
        never meet those of a submission.
        """
        dry_run = arguments.flag("Broker.flatten", "dry_run", dry_run)
        positions = await self.positions()
        markets = await self._limits()
        flat_run = new_run_id()
        children: list[ChildOrder] = []
        for index, (symbol, amount) in enumerate(sorted(positions.items())):
            limits = markets.get(symbol)
            if limits is None:
                continue
            side = Side.SELL if amount > 0 else Side.BUY
            size = abs(quantize_amount(limits, amount))
            try:
                asset_id = self.universe.asset_for_symbol(symbol).asset_id
            except InvalidOrderInput:
                asset_id = 0  # a position outside the universe still gets closed
            child = ChildOrder(
                parent_order_id=index,
                asset_id=asset_id,
                wave=0,
                client_order_id=child_client_order_id(flat_run, index, 0, "f"),
                symbol=symbol,
                side=side,
                order_type="market",
                amount=size,
                reduce_only=self.adapter.capabilities.reduce_only,
                created_at=self.clock.now(),
                reason="dry run: not sent" if dry_run else None,
            )
            children.append(child)
        if dry_run:
            return children
        flat = Broker(
            self.adapter,
            self.environment,
            self.journal,
            self.clock,
            run_id=flat_run,
            universe=self.universe,
            observer=self._session.observer,
            retry=self._session.retry,
            quote=self.quote,
        )
        flat._markets = markets
        flat._record_run()
        flat.journal.record_run_event(flat_run, "flatten", {"positions": len(children)})
        with flat._gathering(len(children)):
            return list(await asyncio.gather(*(flat._flatten_one(c) for c in children)))

    async def _flatten_one(self, child: ChildOrder) -> ChildOrder:
        assert self._markets is not None
        limits = self._markets[child.symbol]
        book_price = None
        if child.amount == 0:
            return self._not_sent(child, ChildStatus.EMPTY, "position below one amount step")
        if not child.reduce_only:
            # Without reduce-only the venue's minimum applies; dust cannot be sold.
            book = await self._session.call(
                lambda: self.adapter.best_bid_ask(child.symbol),
                client_order_id=child.client_order_id,
            )
            book_price = book.bid if child.side == Side.SELL else book.ask
            if book_price > 0 and child.amount < minimal_order_amount(limits, book_price):
                return self._not_sent(
                    child, ChildStatus.EMPTY, "position below the venue minimum (dust)"
                )
        placed = await self._place(child)
        if placed.ccxt_order_id is not None:
            placed = await self._collect(placed, cancel=False)
        return placed


def _utc(at: datetime) -> str:
    """An instant for a message, in UTC: two times of one line compare at a glance (an
    orders file's windows may carry another offset than the clock)."""
    return at.astimezone(UTC).isoformat()
