"""One child order's life on the wire: intent, send, retry or look up, collect.

The invariant is that one child is at most one venue order. The intent is journaled
before any request; after an error whose outcome is unknown (a timeout, a dropped
connection, a 5xx, -1007) the child is looked up by its client order id before anything
is resent, and an order that exists is adopted. Which errors are retried, and how, comes
from :data:`exsdk.error_tables.RETRY_POLICY` only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from exsdk._lazy import import_on_first_call
from exsdk._value import Shown, Value
from exsdk.adapter import ExchangeAdapter
from exsdk.broker.clock import Clock
from exsdk.broker.group_commit import GroupCommit
from exsdk.error_tables import RetryKind, retry_rule_for, stops_run, translate
from exsdk.errors import ClockSkew, OrderNotFound, RateLimited, SdkError, VenueRejected
from exsdk.journal import Journal
from exsdk.models import CcxtOrder, CcxtTrade, ChildOrder, ChildStatus, OrderStatus

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from exsdk.broker.events import (
        BrokerEvent,
        CancelStarted,
        ChildAdopted,
        ChildCanceled,
        ChildFilled,
        ChildIntent,
        ChildRejected,
        ChildSent,
        Observer,
        Warned,
    )
else:
    # The event classes are built at the first child, not when a broker is made ready.
    import_on_first_call(
        globals(),
        "exsdk.broker.events",
        [
            "CancelStarted",
            "ChildAdopted",
            "ChildCanceled",
            "ChildFilled",
            "ChildIntent",
            "ChildRejected",
            "ChildSent",
            "Warned",
        ],
    )

__all__ = ["RetrySettings", "Session", "child_status_of", "request_expiry"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_STATUS = {
    OrderStatus.OPEN: ChildStatus.OPEN,
    OrderStatus.CLOSED: ChildStatus.CLOSED,
    OrderStatus.CANCELED: ChildStatus.CANCELED,
    OrderStatus.EXPIRED: ChildStatus.EXPIRED,
    OrderStatus.REJECTED: ChildStatus.REJECTED,
}


def child_status_of(order: CcxtOrder) -> ChildStatus:
    """The child status an order's venue status means (unknown statuses count as open)."""
    status = order.status
    return (
        _STATUS.get(status, ChildStatus.OPEN)
        if isinstance(status, OrderStatus)
        else (ChildStatus.OPEN)
    )


def request_expiry(adapter: Any) -> float:
    """Seconds after sending when the venue will no longer execute a request; 0 if unknown.

    Binance refuses a signed request that reaches its matching engine more than
    ``recvWindow`` after the request's timestamp (-1021, -5028), so a create whose reply
    was lost is either on the venue or dead for good once that much time has passed. An
    adapter may state it as ``request_expiry`` (seconds); otherwise ccxt's
    ``options['recvWindow']`` (milliseconds) is used.
    """
    explicit = getattr(adapter, "request_expiry", None)
    if isinstance(explicit, int | float) and not isinstance(explicit, bool):
        return max(0.0, float(explicit))
    options = getattr(getattr(adapter, "exchange", None), "options", None)
    if isinstance(options, Mapping):
        window = options.get("recvWindow")
        if isinstance(window, int | float) and not isinstance(window, bool) and window > 0:
            return float(window) / 1000
    return 0.0


@attrs.frozen(repr=False, eq=False)
class RetrySettings(Value):
    """Backoff of transient errors: exponential from ``initial`` up to ``maximum``, jittered.

    ``expiry_margin`` is added to the venue's request expiry (:func:`request_expiry`)
    before a lookup that finds nothing may authorize a resend: it covers a client clock
    up to a second ahead of the venue's, which Binance still accepts.
    """

    initial: float = 0.25
    maximum: float = 8.0
    jitter: float = 0.25
    expiry_margin: float = 1.0


@attrs.define(repr=False)
class _Attempt(Shown):
    """What one create loop has learnt so far."""

    maybe_placed: bool = False
    adopted: bool = False
    expires_at: float = 0.0
    """``time.time()`` after which the last create request can no longer execute."""
    sends: int = 0


@attrs.define(repr=False)
class Session(Shown):
    """Everything a child's request needs: venue, journal, run, clock, observer."""

    adapter: ExchangeAdapter
    journal: Journal
    run_id: str
    clock: Clock
    observer: Observer | None = None
    retry: RetrySettings = RetrySettings()
    orders: dict[str, CcxtOrder] = attrs.field(factory=dict)
    """The latest venue view of each child, by client order id."""
    collected: set[str] = attrs.field(factory=set)
    """Children whose final state and trades are journaled."""
    last_errors: dict[str, SdkError] = attrs.field(factory=dict)
    """The error that ended each child's send loop, by client order id."""
    venue_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    """How retry waits (backoff, the venue's Retry-After) sleep: in wall time, the venue's,
    never on :attr:`clock` (an accelerated clock would shorten a Retry-After, a virtual
    one skip it)."""
    cancel_wanted: set[str] = attrs.field(factory=set)
    """Children asked to be canceled: live exposure until the venue confirms them final."""
    placed_here: set[str] = attrs.field(factory=set)
    """Children whose create requests this process sent (the adapter knows their expiry)."""
    started_at: float = attrs.field(factory=time.time)
    """When this process took over the run: a process before it sent nothing later."""
    stopped: SdkError | None = None
    """The error that stopped the run (wrong credentials, no journal): nothing more is sent."""
    in_flight: set[str] = attrs.field(factory=set)
    """Children inside :meth:`place` right now: their own send loop settles them."""
    commits: GroupCommit = attrs.field(
        default=attrs.Factory(lambda self: GroupCommit(self.journal, self.run_id), takes_self=True)
    )
    """The intents (and replies) of concurrent children, one transaction per loop turn
    inside :meth:`GroupCommit.gathering`."""

    @property
    def exchange(self) -> str:
        """The ccxt exchange id, for journal keys."""
        return self.adapter.exchange_id

    def emit(self, event: BrokerEvent) -> None:
        """Hand an event to the observer; an observer's failure never stops the run."""
        if self.observer is None:
            return
        try:
            self.observer(event)
        except Exception:  # the CLI's rendering must not break an order run
            log.exception("broker observer failed on %s", type(event).__name__)

    def warn(self, message: str) -> None:
        """Log, journal and emit a warning."""
        log.warning("%s: %s", self.run_id, message)
        self.journal.record_run_event(self.run_id, "warning", message)
        self.emit(Warned(self.run_id, message))

    # -- retrying ---------------------------------------------------------------

    def _backoff(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return max(0.0, exc.retry_after)
        if isinstance(exc, ClockSkew):
            return 0.0
        # tenacity's wait_exponential_jitter, by attempt number.
        try:
            base = float(self.retry.initial * 2 ** (attempt - 1))
        except OverflowError:
            base = self.retry.maximum
        base += random.uniform(0, self.retry.jitter)
        return max(0.0, min(base, self.retry.maximum))

    @staticmethod
    def _gives_up(exc: BaseException | None, attempt: int) -> bool:
        """True when no attempt may follow failed attempt number ``attempt``."""
        if not isinstance(exc, SdkError):
            return True
        return attempt >= retry_rule_for(exc).max_attempts

    def check_running(self) -> None:
        """Raise the error that stopped the run, if one did: no request may follow it.

        A journal that failed once stops the run too, whichever call met the failure
        (an intent, a raw reply, a run event): nothing may leave unjournaled.
        """
        if self.stopped is None and self.journal.failure is not None:
            self.stopped = self.journal.failure
        if self.stopped is not None:
            raise self.stopped

    def note_stop(self, exc: BaseException) -> None:
        """Remember an error that ends the run (see :func:`exsdk.error_tables.stops_run`)."""
        if stops_run(exc) and self.stopped is None:
            assert isinstance(exc, SdkError)
            self.stopped = exc

    async def _before_retry(self, exc: SdkError, client_order_id: str | None) -> None:
        self.journal.record_error(self.run_id, exc, client_order_id=client_order_id)
        log.info("retrying after %s: %s", type(exc).__name__, exc)
        if isinstance(exc, ClockSkew):
            resync = getattr(self.adapter, "resync_clock", None)
            if resync is not None:
                await resync()

    async def call(self, fn: Callable[[], Awaitable[T]], *, client_order_id: str | None) -> T:
        """Run an idempotent venue call (a read or a cancel) under the retry table."""
        # The first attempt runs outside tenacity, and inline (what _retry's once() does,
        # without a coroutine of its own): most calls succeed at once, and tenacity's
        # machinery costs tens of microseconds per call. Only a retryable failure builds
        # the retry loop, which then counts that attempt as its first.
        self.check_running()
        try:
            return await fn()
        except Exception as exc:
            first = self._first_failure(exc)
        return await self._retry(fn, first, client_order_id)

    def _first_failure(self, exc: Exception) -> SdkError:
        """The error of a call's first attempt, as once() in :meth:`_retry` makes it."""
        if isinstance(exc, SdkError):
            self.note_stop(exc)
            return exc
        first = translate(exc, exchange=self.exchange, request="read")
        first.__cause__ = exc
        return first

    async def _retry(
        self, fn: Callable[[], Awaitable[T]], first: SdkError, client_order_id: str | None
    ) -> T:
        """The rest of :meth:`call` after its first attempt failed with ``first``."""
        if not _retryable(first) or self._gives_up(first, 1):
            raise first
        await self._before_retry(first, client_order_id)
        await self.venue_sleep(self._backoff(first, 1))
        # Imported here: tenacity (and tornado, which it probes for) belongs only on the
        # retry path, not in every process's start-up.
        from tenacity import AsyncRetrying, retry_if_exception

        async def once() -> T:
            self.check_running()
            try:
                return await fn()
            except SdkError as exc:
                self.note_stop(exc)
                raise
            except Exception as exc:  # an adapter that leaked a ccxt or transport error
                # A request may have left: an error the venue did not document (or a bug
                # in the adapter) is transient, never a venue's answer.
                raise translate(exc, exchange=self.exchange, request="read") from exc

        def failed(state: RetryCallState) -> BaseException | None:
            return state.outcome.exception() if state.outcome else None

        async def before_sleep(state: RetryCallState) -> None:
            exc = failed(state)
            assert isinstance(exc, SdkError)
            await self._before_retry(exc, client_order_id)

        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=lambda state: self._gives_up(failed(state), state.attempt_number + 1),
            wait=lambda state: self._backoff(failed(state), state.attempt_number + 1),
            sleep=self.venue_sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(once)

    # -- one child --------------------------------------------------------------

    async def place(self, child: ChildOrder) -> ChildOrder:
        """Journal the intent, send, retry or adopt; return the child in its new state.

        Never raises for a venue outcome: a refusal becomes a ``REJECTED`` child, an
        outcome still unknown after every retry an ``UNKNOWN`` one (resolved later by
        :meth:`reconcile`).
        """
        self.in_flight.add(child.client_order_id)
        try:
            return await self._place(child)
        finally:
            self.in_flight.discard(child.client_order_id)

    def journal_intents(self, children: Sequence[ChildOrder]) -> None:
        """Commit the intents of children to be sent together (a wave's, sized in one
        pass) as one durable transaction, with the rows queued before them; then
        :meth:`send` each. Raises the commit's failure: then none of them may be sent.

        They count as in flight from here on (reconciliation leaves them to their own
        send loop) until :meth:`send` or :meth:`forget_in_flight` ends that.
        """
        self.check_running()
        cids = [c.client_order_id for c in children]
        self.in_flight.update(cids)
        try:
            self.commits.commit(children)
        except BaseException:
            self.in_flight.difference_update(cids)
            raise

    def forget_in_flight(self, children: Sequence[ChildOrder]) -> None:
        """End :meth:`journal_intents`'s in-flight mark of children whose :meth:`send`
        never ran (a wave cancelled before its tasks started); harmless after it."""
        self.in_flight.difference_update(c.client_order_id for c in children)

    async def _place(self, child: ChildOrder) -> ChildOrder:
        self.check_running()
        # Committed (with the other intents of this loop turn) before the request leaves.
        await self.commits.write(child=child)
        return await self.send(child)

    async def send(self, child: ChildOrder) -> ChildOrder:
        """:meth:`place` for a child whose intent is committed (by :meth:`journal_intents`,
        or by :meth:`place`): send it; retry, look up or adopt.

        One coroutine from here to the adapter's (the retry table's first attempt runs
        inline, as in :meth:`call`): a wave has one such chain per child in flight.
        """
        cid = child.client_order_id
        self.in_flight.add(cid)
        try:
            self.check_running()
            seen = _Attempt()
            self.placed_here.add(cid)

            async def attempt() -> CcxtOrder:
                if seen.maybe_placed:
                    found = await self._lookup(child)
                    if found is None:
                        # The lost request may still be on its way (a proxy queue, a slow
                        # backend): only once the venue can no longer execute it does "not
                        # found" mean "never placed".
                        await self._until_expired(seen.expires_at)
                        found = await self._lookup(child)
                    if found is not None:
                        seen.adopted = True
                        return found
                    seen.maybe_placed = False  # not on the venue: a resend cannot duplicate
                if seen.sends:
                    # Journaled before it leaves, like the intent: a resume after a crash
                    # must know when the child's last request may have gone out.
                    self.journal.record_raw(
                        self.run_id, "resend", {"attempt": seen.sends + 1}, client_order_id=cid
                    )
                seen.sends += 1
                # The intent (or the resend) is in the journal: a crash from here on is resumable.
                if self.observer is not None:  # (the event is not even built for nobody)
                    self.emit(ChildIntent(child, seen.sends))
                try:
                    order = await self.adapter.create_order(
                        child.symbol,
                        str(child.order_type),
                        child.side,  # type: ignore[arg-type]
                        child.amount,
                        child.limit_price,
                        client_order_id=cid,
                        reduce_only=child.reduce_only,
                    )
                except Exception as raw:
                    # Whatever the adapter leaked (a ccxt error, a bug after the request left)
                    # is not a refusal unless the venue documented it: "default unknown".
                    exc = (
                        raw
                        if isinstance(raw, SdkError)
                        else translate(raw, exchange=self.exchange, request="create")
                    )
                    seen.expires_at = self._create_expiry(cid)
                    if isinstance(exc, VenueRejected) and _is_duplicate(exc):
                        found = await self._lookup(child)
                        if found is not None:
                            seen.adopted = True
                            return found
                    if retry_rule_for(exc).kind is RetryKind.LOOKUP_THEN_RESEND:
                        seen.maybe_placed = True
                    if exc is raw:
                        raise
                    raise exc from raw
                return order

            try:
                # The retry table's first attempt inline, as in call (no coroutine of its own).
                try:
                    order = await attempt()
                    first = None
                except Exception as exc:
                    first = self._first_failure(exc)
                if first is not None:
                    order = await self._retry(attempt, first, cid)
            except SdkError as exc:
                self.journal.record_error(self.run_id, exc, client_order_id=cid)
                self.last_errors[cid] = exc
                if stops_run(exc):
                    if seen.sends:
                        # Sent, then refused for good (the credentials): never placed.
                        self.journal.record_child(
                            self.run_id,
                            child.model_copy(
                                update={"status": ChildStatus.REJECTED, "reason": str(exc)}
                            ),
                        )
                    raise
                if seen.maybe_placed:
                    unknown = child.model_copy(
                        update={"status": ChildStatus.UNKNOWN, "reason": f"outcome unknown: {exc}"}
                    )
                    self.journal.record_child(self.run_id, unknown)
                    self.warn(f"{cid}: outcome unknown after retries ({exc}); will look it up")
                    return unknown
                return self.reject(child, str(exc), error=type(exc).__name__)
            # The reply and the child's new state, committed with the other replies of this
            # loop turn: one sync for a wave's replies, after every child of it was sent (the
            # writer waits, so the next child's send runs first).
            self.orders[cid] = order
            updated = self._updated(child, order, adopted=seen.adopted)
            if seen.adopted:
                await self.commits.write(child=updated)
            else:
                await self.commits.write(
                    lambda: self.journal.record_raw(
                        self.run_id, "create_order", order, client_order_id=cid
                    ),
                    child=updated,
                )
            # Said only once it is on disk: an observer may act on it (kill, report).
            if self.observer is not None:
                self.emit(ChildAdopted(updated) if seen.adopted else ChildSent(updated))
            return updated
        finally:
            self.in_flight.discard(cid)

    @property
    def expiry(self) -> float:
        """Seconds after which a request sent now can no longer be executed by the venue
        (0 when the venue states no expiry: then nothing can be gained by waiting)."""
        base = request_expiry(self.adapter)
        return base + self.retry.expiry_margin if base > 0 else 0.0

    def _create_expiry(self, client_order_id: str) -> float:
        """When the child's last create can no longer execute (``time.time()``, margin
        included): from the signed request when the adapter knows it, else measured
        from now (after the request's reply or failure, so never too early)."""
        signed = self._signed_expiry(client_order_id)
        return signed if signed is not None else time.time() + self.expiry

    def _signed_expiry(self, client_order_id: str) -> float | None:
        """The adapter's expiry of the child's last signed create, margin included."""
        known = getattr(self.adapter, "create_expires_at", None)
        at = known(client_order_id) if callable(known) else None
        if isinstance(at, int | float) and not isinstance(at, bool):
            return float(at) + self.retry.expiry_margin
        return None

    async def _until_expired(self, expires_at: float) -> None:
        """Wait (in real time: the venue's clock, not the broker's) until ``expires_at``
        (``time.time()``), when the last create request can no longer execute."""
        left = expires_at - time.time()
        if left > 0:
            log.info("waiting %.2f s for a lost request to expire before resending", left)
            await asyncio.sleep(left)

    def reject(self, child: ChildOrder, reason: str, *, error: str | None = None) -> ChildOrder:
        """Record a child as refused (by the venue, ``error`` naming the SDK class, or by
        policy) and say so."""
        rejected = child.model_copy(update={"status": ChildStatus.REJECTED, "reason": reason})
        self.journal.record_child(self.run_id, rejected)
        self.emit(ChildRejected(rejected, reason, error))
        log.warning("%s rejected: %s", child.client_order_id, reason)
        return rejected

    @staticmethod
    def _updated(child: ChildOrder, order: CcxtOrder, *, adopted: bool) -> ChildOrder:
        """The child in the state its venue order says."""
        return child.model_copy(
            update={
                "status": child_status_of(order),
                "ccxt_order_id": order.id,
                "filled": order.filled if order.filled is not None else child.filled,
                "reason": "adopted after lookup by client order id" if adopted else None,
            }
        )

    def _adopt(self, child: ChildOrder, order: CcxtOrder, *, adopted: bool) -> ChildOrder:
        self.orders[child.client_order_id] = order
        updated = self._updated(child, order, adopted=adopted)
        self.journal.record_child(self.run_id, updated)
        self.emit(ChildAdopted(updated) if adopted else ChildSent(updated))
        return updated

    async def _lookup(self, child: ChildOrder) -> CcxtOrder | None:
        """The child's venue order by client order id, or ``None`` when it is not there."""
        cid = child.client_order_id
        try:
            order = await self.adapter.fetch_order(child.symbol, client_order_id=cid)
        except OrderNotFound:
            self.journal.record_run_event(self.run_id, "lookup_not_found", cid)
            return None
        self.journal.record_raw(self.run_id, "lookup", order, client_order_id=cid)
        return order

    async def reconcile(self, child: ChildOrder) -> ChildOrder:
        """Resolve a child whose outcome is unknown (or whose intent was never answered).

        "Not found" counts only once the last request that may have carried the child has
        expired on the venue; until then the lookup is repeated after waiting for it.
        """
        cid = child.client_order_id

        async def lookup() -> CcxtOrder | None:
            found = await self._lookup(child)
            if found is None:
                left = self._not_found_counts_at(cid) - time.time()
                if left > 0:
                    log.info("%s: waiting %.2f s for a lost request to expire", cid, left)
                    await asyncio.sleep(left)
                    found = await self._lookup(child)
            return found

        try:
            found = await self.call(lookup, client_order_id=cid)
        except SdkError as exc:
            if stops_run(exc):
                raise
            self.journal.record_error(self.run_id, exc, client_order_id=child.client_order_id)
            self.warn(f"{child.client_order_id}: lookup failed ({exc}); left {child.status}")
            return child
        if found is None:
            return self.reject(child, "never reached the venue (lookup by client order id)")
        return self._adopt(child, found, adopted=True)

    def _not_found_counts_at(self, client_order_id: str) -> float:
        """When "not found" proves a child never reached the venue (``time.time()``).

        Its last create request must have expired: this process knows when it signed
        it; a create of an earlier process was signed before that process's last
        journal row about the child or, for a process that died between that row and
        the request (a pacer wait), before this process took the run over.
        """
        expiry = self.expiry
        last = self.journal.last_activity(self.run_id, client_order_id)
        last_at = last.timestamp() if last is not None else None
        if client_order_id in self.placed_here:
            signed = self._signed_expiry(client_order_id)
            if signed is not None:
                return signed
            return (last_at if last_at is not None else time.time()) + expiry
        return max(self.started_at, last_at or 0.0) + expiry

    async def collect(self, child: ChildOrder, *, cancel: bool) -> ChildOrder:
        """Cancel an open child when asked, then fetch its order and trades and journal them."""
        if child.ccxt_order_id is None:
            return child
        cid = child.client_order_id
        oid = child.ccxt_order_id
        was_canceled = False
        if cancel and child.status == ChildStatus.OPEN:
            # Live exposure until the venue confirms the child final.
            self.cancel_wanted.add(cid)
            self.emit(CancelStarted(child))
            try:
                reply = await self.call(
                    lambda: self.adapter.cancel_order(child.symbol, order_id=oid),
                    client_order_id=cid,
                )
                self.journal.record_raw(self.run_id, "cancel_order", reply, client_order_id=cid)
                was_canceled = True
            except OrderNotFound:
                pass  # filled or gone between the wave's end and the cancel: fine
            except SdkError as exc:
                if stops_run(exc):
                    raise
                self.journal.record_error(self.run_id, exc, client_order_id=cid)
                self.warn(f"{cid}: cancel failed ({exc}); still live exposure")
        try:
            order = await self.call(
                lambda: self.adapter.fetch_order(child.symbol, order_id=oid), client_order_id=cid
            )
            trades = await self.call(
                lambda: self.adapter.fetch_order_trades(child.symbol, order_id=oid),
                client_order_id=cid,
            )
        except SdkError as exc:
            if stops_run(exc):
                raise
            self.journal.record_error(self.run_id, exc, client_order_id=cid)
            self.warn(f"{cid}: could not collect its state ({exc})")
            return child
        self.journal.record_raw(self.run_id, "fetch_order", order, client_order_id=cid)
        self.orders[cid] = order
        new_trades = self.record_trades(child, trades)
        updated = child.model_copy(
            update={
                "status": child_status_of(order),
                "filled": order.filled if order.filled is not None else child.filled,
            }
        )
        if updated.status != child.status or updated.filled != child.filled:
            self.journal.record_child(self.run_id, updated)
        final = updated.status not in (ChildStatus.OPEN, ChildStatus.UNKNOWN, ChildStatus.INTENT)
        if final and order.filled is not None and self._journaled_amount(child) < order.filled:
            # The venue says more was filled than the trades it listed (a reply cut short,
            # a lagging trade feed): not collected yet, so the next settle fetches again.
            self.warn(
                f"{cid}: the venue reports {order.filled} filled but lists trades for "
                f"{self._journaled_amount(child)}; will fetch its trades again"
            )
        elif final:
            self.collected.add(cid)
        if was_canceled and updated.status == ChildStatus.CANCELED:
            self.emit(ChildCanceled(updated))
        if new_trades:
            self.emit(ChildFilled(updated))
        return updated

    def adopt(self, child: ChildOrder, order: CcxtOrder) -> ChildOrder:
        """Record ``order`` (found on the venue) as the child's venue order."""
        self.journal.record_raw(self.run_id, "lookup", order, client_order_id=child.client_order_id)
        return self._adopt(child, order, adopted=True)

    def journaled_amount(self, child: ChildOrder) -> Decimal:
        """The amount of the child's trades in the journal."""
        return self._journaled_amount(child)

    def _journaled_amount(self, child: ChildOrder) -> Decimal:
        trades = self.journal.trade_models(self.run_id, parent_order_id=child.parent_order_id)
        oid = child.ccxt_order_id
        return sum((t.amount for t in trades if t.order is not None and t.order == oid), Decimal(0))

    def record_trades(self, child: ChildOrder, trades: list[CcxtTrade]) -> int:
        """Journal a child's trades (known ones are ignored); how many were new."""
        return self.journal.record_trades(
            self.run_id,
            self.exchange,
            trades,
            symbol=child.symbol,
            client_order_id=child.client_order_id,
            parent_order_id=child.parent_order_id,
        )


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, SdkError) and retry_rule_for(exc).kind is not RetryKind.NEVER


def _is_duplicate(exc: SdkError) -> bool:
    # Binance answers a resent id that is still open with "duplicate": the order exists.
    return "duplicate" in f"{exc} {exc.body or ''}".lower()
