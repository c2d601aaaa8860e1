"""Pacing requests to the venue's own counters: request weight and order counts.

Binance counts every request's *weight* per IP (``REQUEST_WEIGHT``, e.g. 2400 per minute
on futures) and every new order per account (``ORDERS``: futures 300 per 10 s and 1200
per minute, spot 50 per 10 s and 160,000 per day), answers 429 (-1003 / -1015) beyond
them and bans IPs that keep going (418). A wave of a large TWAP sends hundreds of
requests at once, so the adapter paces them itself, by those counters.

**When a request counts.** The venue counts a request when it *arrives*, at a moment the
client cannot see: somewhere between handing the request over (after ccxt's throttle,
aiohttp's connection pool, the kernel's queues, a proxy) and reading the reply. A pacer
that counts from the moment it grants a request and forgets it a fixed window later is
wrong by however long the request then waits before it leaves, which under CPU
contention or with a hundred requests queued on one connection pool is far more than any
fixed margin (the cause of ``make bench``'s 429s at 0.81 of the limit). Here a request
counts from the moment it is granted, for as long as it is *in flight*, and until one
window after the latest moment it can have arrived: its reply read, or earlier when the
reply states when the venue processed it (Binance's ``updateTime`` of a new order), that
stamp mapped to the local clock from above. Any request that can share a venue window
with a new one is then still counted when the new one is granted, whatever the latency,
its spread, or how the venue's fixed windows are aligned (see :class:`VenuePacer`); a
reply read late (a busy event loop) no longer holds its slot for its read delay.

**The venue's own count.** Every Binance reply states the IP's used weight
(``X-MBX-USED-WEIGHT-1M``) and, on orders, the account's order counts
(``X-MBX-ORDER-COUNT-10S`` / ``-1M`` / ``-1D``). They include requests this process did
not send (another process on the same IP or account) and weights the local table got
wrong. Two corrections follow from them:

* what the venue counted beyond everything of ours it may have counted is other use; the
  largest such share seen in the last two windows is kept free for it;
* when there is such use, the reported count, plus whatever this process was granted
  after the request it answered, is a floor under the local count until one window after
  that request's arrival. A count all of ours can explain adds nothing to the local one.

Before the first reply only the local count is known: another client's use then shows as
a 429, whose Retry-After holds every request it concerns.

**Margin.** Counting by arrival as above needs no margin for latency. What is left is the
gap between the venue's clocks and ours: two clocks run at slightly different rates (NTP
keeps servers within ~10 ppm; 100 ppm is allowed), so a venue window may last 100 ppm
longer on our clock and an offset learnt from a stamp drifts by 100 ppm of its age. The
stated margin is 10 ms plus 100 ppm of the window (11 ms on a 10 s window, 16 ms on a
minute, 8.6 s on a day); the 10 ms also covers a backward step of the venue's stamping
clock up to that size (servers disciplined by NTP slew rather than step).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import itertools
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from exsdk._value import Shown, Value

__all__ = [
    "ORDERS",
    "REQUEST_WEIGHT",
    "EndpointCost",
    "OrderLimit",
    "RateLimit",
    "RequestCost",
    "Ticket",
    "VenuePacer",
    "WeightLimit",
    "limits_from_message",
    "limits_from_rate_limits",
    "reply_stamp",
    "venue_counts",
]

REQUEST_WEIGHT: Literal["REQUEST_WEIGHT"] = "REQUEST_WEIGHT"
ORDERS: Literal["ORDERS"] = "ORDERS"
Kind = Literal["REQUEST_WEIGHT", "ORDERS"]

_SECONDS = {"SECOND": 1.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}
_LETTER = {"S": 1.0, "M": 60.0, "H": 3600.0, "D": 86400.0}
# Binance's -1015 text: "Too many new orders; current limit is 50 orders per 10 SECOND."
_ORDER_TEXT = re.compile(r"current limit is (\d+) orders per (\d+) (SECOND|MINUTE|HOUR|DAY)")
# Binance's -1003 text: "... current limit is 1200 request weight per 1 MINUTE. ..."
_WEIGHT_TEXT = re.compile(
    r"current limit is (\d+) request weight per (\d+) (SECOND|MINUTE|HOUR|DAY)"
)
# X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S: the venue's count in its current window.
_COUNT_HEADER = re.compile(r"^x-mbx-(used-weight|order-count)-(\d+)([smhd])$", re.IGNORECASE)

# Clock error between the venue and us, per window: see the module docstring.
MARGIN_FIXED = 0.010
MARGIN_RATE = 1e-4


@attrs.frozen(repr=False, eq=False)
class OrderLimit(Value):
    """At most ``count`` order requests per ``seconds``."""

    count: int = attrs.field(validator=attrs.validators.gt(0))
    seconds: float = attrs.field(validator=attrs.validators.gt(0))


@attrs.frozen(repr=False, eq=False)
class WeightLimit(Value):
    """At most ``count`` request weight per ``seconds``."""

    count: int = attrs.field(validator=attrs.validators.gt(0))
    seconds: float = attrs.field(validator=attrs.validators.gt(0))


RateLimit = OrderLimit | WeightLimit


def _kind(limit: RateLimit) -> Kind:
    return ORDERS if isinstance(limit, OrderLimit) else REQUEST_WEIGHT


@attrs.frozen(repr=False, eq=False)
class RequestCost(Value):
    """What one request counts against the venue's limits.

    ``stamps`` names the fields of a successful reply in which the venue states, in
    milliseconds, when it processed this very request (Binance's ``updateTime`` of a new
    order): a bound on when it was counted (see :class:`VenuePacer`).
    """

    weight: int = 1
    orders: int = 0
    stamps: tuple[str, ...] = ()

    def of(self, kind: Kind) -> int:
        """The amount of ``kind`` this request uses."""
        return self.orders if kind == ORDERS else self.weight


@attrs.frozen(repr=False, eq=False)
class EndpointCost(Value):
    """The venue's documented cost of one endpoint (data, declared by an adapter).

    ``weight`` applies with a ``symbol`` parameter; ``without_symbol`` when there is none
    (Binance's all-symbols queries are dearer); ``by_limit`` maps ``limit`` upper bounds
    to weights (order books), ``default_limit`` is the venue's when none is sent;
    ``with_params`` lowers the weight when a parameter is present (spot myTrades with
    orderId); ``stamps`` as in :class:`RequestCost` (only fields stamped while the venue
    processed the request: never an echo of the client's time, never an older event's).
    """

    weight: int = 1
    orders: int = 0
    without_symbol: int | None = None
    by_limit: tuple[tuple[int, int], ...] = ()
    default_limit: int = 100
    with_params: tuple[tuple[str, int], ...] = ()
    stamps: tuple[str, ...] = ()

    @functools.cached_property
    def _fixed(self) -> RequestCost | None:
        # The cost when no parameter changes it (an order, most reads): built once.
        if self.by_limit or self.without_symbol is not None or self.with_params:
            return None
        return RequestCost(self.weight, self.orders, self.stamps)

    def cost(self, params: Mapping[str, object]) -> RequestCost:
        """The cost of one call with ``params``."""
        fixed = self._fixed
        if fixed is not None:
            return fixed
        weight = self.weight
        if self.by_limit:
            try:
                limit = int(str(params.get("limit", self.default_limit)))
            except ValueError:
                limit = self.default_limit
            weight = next((w for top, w in self.by_limit if limit <= top), self.by_limit[-1][1])
        elif self.without_symbol is not None and not ("symbol" in params or "symbols" in params):
            weight = self.without_symbol
        for name, lower in self.with_params:
            if name in params:
                weight = lower
        return RequestCost(weight, self.orders, self.stamps)


def _window_seconds(num: object, unit: object) -> float:
    return int(str(num)) * _SECONDS[str(unit)]


def limits_from_rate_limits(rate_limits: object) -> list[RateLimit]:
    """The ``ORDERS`` and ``REQUEST_WEIGHT`` entries of an exchangeInfo ``rateLimits`` list."""
    out: list[RateLimit] = []
    if not isinstance(rate_limits, list):
        return out
    for row in rate_limits:
        if not isinstance(row, dict):
            continue
        kind = row.get("rateLimitType")
        cls = OrderLimit if kind == ORDERS else WeightLimit if kind == REQUEST_WEIGHT else None
        if cls is None:
            continue
        try:
            seconds = _window_seconds(row["intervalNum"], row["interval"])
            out.append(cls(int(row["limit"]), seconds))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def limits_from_message(text: str) -> list[RateLimit]:
    """The limit a -1015 (orders) or -1003 (weight) rejection states, if it states one."""
    orders: list[RateLimit] = [
        OrderLimit(int(n), _window_seconds(num, unit)) for n, num, unit in _ORDER_TEXT.findall(text)
    ]
    weights: list[RateLimit] = [
        WeightLimit(int(n), _window_seconds(num, unit))
        for n, num, unit in _WEIGHT_TEXT.findall(text)
    ]
    return orders + weights


def venue_counts(headers: Mapping[str, object]) -> list[tuple[Kind, float, int]]:
    """``(kind, window seconds, count)`` from Binance's ``X-MBX-USED-WEIGHT-*`` and
    ``X-MBX-ORDER-COUNT-*`` reply headers."""
    out: list[tuple[Kind, float, int]] = []
    for key, value in headers.items():
        match = _COUNT_HEADER.match(str(key))
        if match is None:
            continue
        try:
            count = int(str(value).split(",")[0].strip())
        except ValueError:
            continue
        kind: Kind = REQUEST_WEIGHT if match[1].lower() == "used-weight" else ORDERS
        out.append((kind, int(match[2]) * _LETTER[match[3].upper()], count))
    return out


def reply_stamp(body: object, fields: Iterable[str]) -> int | None:
    """The latest of ``fields`` (integer milliseconds, maybe quoted) in a JSON reply
    ``body``, ``None`` when there is none.

    What ``re.finditer`` of ``"(?:field|...)"\\s*:\\s*"?(\\d{1,16})\\b`` finds, found by
    a substring search for each quoted name and that pattern's tail matched only there
    (a regular expression scanning the whole body costs several times more, per reply).
    """
    if not isinstance(body, str | bytes):
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    keys = _stamp_keys(fields if isinstance(fields, tuple) else tuple(fields))
    best: int | None = None
    if len(keys) == 1:  # one name (most endpoints): its places come in order
        key = keys[0]
        at = text.find(key)
        while at >= 0:
            found = _STAMP_TAIL.match(text, at + len(key))
            if found is None:
                at = text.find(key, at + 1)
                continue
            value = int(found[1])
            if best is None or value > best:
                best = value
            at = text.find(key, found.end())  # a match's own text is not searched again
        return best
    # Every place a name starts, in order, as the alternation tries them: the first name
    # that matches at a place wins, and a match's own text is not searched again.
    places: list[tuple[int, int]] = []
    for index, key in enumerate(keys):
        at = text.find(key)
        while at >= 0:
            places.append((at, index))
            at = text.find(key, at + 1)
    places.sort()
    end = 0
    for at, index in places:
        if at < end:
            continue
        found = _STAMP_TAIL.match(text, at + len(keys[index]))
        if found is not None:
            value = int(found[1])
            if best is None or value > best:
                best = value
            end = found.end()
    return best


# The part of a stamp after its quoted name: the value, maybe quoted, up to 16 digits.
_STAMP_TAIL = re.compile(r'\s*:\s*"?(\d{1,16})\b')


@functools.cache
def _stamp_keys(fields: tuple[str, ...]) -> tuple[str, ...]:
    # No name: the alternation of none matches the empty name ("").
    return tuple(f'"{f}"' for f in fields) or ('""',)


@attrs.define(eq=False, repr=False)
class Ticket(Shown):
    """One granted request: counted while in flight and one window after its arrival
    (its reply, or the venue's stamp in it)."""

    cost: RequestCost
    granted_at: float
    granted_through: Mapping[Kind, int]
    """The pacer's running total of granted weight and orders, this request included."""
    done: bool = False


class _Window:
    """One venue limit: our requests in flight or replied within the window, and the
    venue's own count from its latest reply."""

    def __init__(self, kind: Kind, seconds: float, count: int) -> None:
        self.kind = kind
        self.seconds = seconds
        self.count = count
        self.span = seconds + MARGIN_FIXED + MARGIN_RATE * seconds
        # (latest arrival, amount) of requests replied to, in order of arrival bound (the
        # reply read, or earlier when the venue's stamp says so: not in order of reply).
        # Those before _live no longer count; they are kept one more window for observe.
        self._finished: list[tuple[float, int]] = []
        self._live = 0
        self._finished_sum = 0
        # The venue's count at its latest reply that showed others' use, that reply's
        # request's place in our running total, and when the count stops telling
        # anything about a new request.
        self._reported = 0
        self._reported_through = 0
        self._reported_until = 0.0
        # What the venue counted beyond anything of ours it may have counted: other
        # clients' use (or weights our table has too low), kept for two windows as the
        # share they are likely to take of the next ones.
        self._others: deque[tuple[float, int]] = deque()

    def _prune(self, now: float) -> None:
        entries, live = self._finished, self._live
        while live < len(entries) and entries[live][0] + self.span <= now:
            self._finished_sum -= entries[live][1]
            live += 1
        gone = 0
        while gone < live and entries[gone][0] + 2 * self.span <= now:
            gone += 1
        if gone:
            del entries[:gone]
        self._live = live - gone
        if self._reported_until <= now:
            self._reported = 0
        while self._others and self._others[0][0] + 2 * self.span <= now:
            self._others.popleft()

    def _reserve(self) -> tuple[int, float]:
        """The share kept for others, and until when (its observation's age limit)."""
        if not self._others:
            return 0, 0.0
        at, amount = max(self._others, key=lambda o: (o[1], o[0]))
        return amount, at + 2 * self.span

    def seed(self, other: _Window) -> None:
        """Start with another window's finished requests (one at least as long)."""
        self._finished = list(other._finished)
        self._live = other._live
        self._finished_sum = other._finished_sum

    def finished(self, now: float, at: float, amount: int) -> None:
        """A request of ``amount``, replied to at ``now``, reached the venue by ``at``."""
        if not amount:
            return
        self._prune(now)
        self._finished.insert(bisect.bisect_right(self._finished, (at, amount)), (at, amount))
        if at + self.span <= now:  # sorted among those no longer counted
            self._live += 1
        else:
            self._finished_sum += amount

    def _ours_since(self, since: float, in_flight: int) -> int:
        """Ours that the venue may have counted at ``since`` or later."""
        ours = self._ours(in_flight)
        i = self._live - 1
        while i >= 0 and self._finished[i][0] + self.span > since:
            ours += self._finished[i][1]
            i -= 1
        return ours

    def observe(
        self,
        now: float,
        reported: int,
        through: int,
        in_flight: int,
        span: tuple[float, float],
    ) -> None:
        """The venue reports ``reported`` used in its current window, counting the request
        that made us ``through`` of our running total (and maybe some after), which
        reached it within ``span`` (its grant, its arrival bound); read at ``now``.

        A count that all of ours in flight or counted since that grant can explain says
        nothing the local count does not: each of those is counted until its own arrival
        plus a window (the proof in :class:`VenuePacer`). Beyond them it is others' use.
        """
        self._prune(now)
        others = reported - self._ours_since(span[0], in_flight)
        if others <= 0:
            return
        self._others.append((now, others))
        self._reported = reported
        self._reported_through = through
        # The count is of the venue's window at that arrival, which ends within a window.
        self._reported_until = span[1] + self.span

    def _ours(self, in_flight: int) -> int:
        return in_flight + self._finished_sum

    def _venue(self, granted: int) -> int:
        # Ours granted since the reported request may not be in the venue's count yet:
        # added (some twice, on the safe side).
        return self._reported + granted - self._reported_through if self._reported else 0

    def used(self, now: float, in_flight: int, granted: int) -> int:
        """What may share a venue window with a request granted at ``now``."""
        self._prune(now)
        return max(self._ours(in_flight) + self._reserve()[0], self._venue(granted))

    def ready_at(self, now: float, in_flight: int, granted: int, need: int) -> float | None:
        """When ``need`` more fits, or ``None`` when only outstanding replies can make room."""
        self._prune(now)
        ready = now
        if self._venue(granted) > self.count - need:
            ready = self._reported_until
        reserve, reserve_until = self._reserve()
        excess = self._ours(in_flight) + reserve - (self.count - need)
        if excess <= 0:
            return ready
        when: float | None = None
        for at, amount in itertools.islice(self._finished, self._live, None):
            excess -= amount
            if excess <= 0:
                when = at + self.span
                break
        if reserve:  # the share kept for others lapses then: look again
            when = reserve_until if when is None else min(when, reserve_until)
        if when is None:
            return None  # only replies still outstanding can make room
        return max(ready, when)


class _VenueClock:
    """Maps the venue's stamps (milliseconds on its clock) to local time, from above.

    A reply stamped ``S`` and read at local ``r`` shows that the venue's clock read at
    least ``S`` at ``r``: its offset (venue minus local) was at least ``S - r`` then, and
    at least ``S - r - rate x |t - r|`` at any other moment ``t``, the two clocks'
    rates differing by at most ``MARGIN_RATE``. The best such bound seen is kept.
    """

    def __init__(self) -> None:
        self._offset: float | None = None  # the tightest lower bound on the offset
        self._at = 0.0  # the local time it was measured at

    def _lower_bound(self, start: float, end: float) -> float:
        """The known lower bound on the offset, anywhere in [start, end]."""
        assert self._offset is not None
        return self._offset - MARGIN_RATE * max(end - self._at, self._at - start, 0.0)

    def arrived_by(self, granted: float, read: float, stamp_ms: int) -> float:
        """The latest local time at which a request granted at ``granted``, whose reply
        was read at ``read``, stamped ``stamp_ms`` while the venue processed it, can have
        been counted: the stamp's end (a millisecond) mapped by the offset bound."""
        stamp = stamp_ms / 1000.0
        sample = stamp - read
        if self._offset is None or sample >= self._lower_bound(read, read):
            self._offset, self._at = sample, read
        latest = stamp + 0.001 - self._lower_bound(granted, read)
        if latest < granted:
            # Before its own grant: the venue's clock stepped back (or the stamp is not
            # this request's). Nothing learnt before can be trusted; start again.
            self._offset, self._at = sample, read
            return read
        return min(read, latest)


Sleep = Callable[[float], Awaitable[object] | object]


class VenuePacer:
    """Grants requests so that no venue window of weight or orders is ever exceeded.

    :meth:`acquire` waits until a request of a given cost fits every limit, counting
    requests in flight and those whose reply came less than one window (plus margin)
    ago; :meth:`finish` records the reply (and the venue's own counts, from its headers).
    Orders and other requests queue apart, so reads are not held behind the order limit.

    Why that cannot exceed a venue window of length W (fixed at any alignment, or
    sliding): take G, the request granted last of those the venue counted in one window.
    Every other request X of that window was granted before G and arrived later than W
    before G did (W on the venue's clock, at most W x (1 + 100 ppm) on ours), so later
    than W before G was granted, G arriving after its grant. X is counted from its grant
    until ``b + W + margin``, where ``b`` is at least its arrival; so X was still counted
    when G was granted, and G was granted only if all of them fitted.

    ``b`` is the reply's read time, or the venue's stamp mapped to local time, if earlier.
    The venue stamps X while processing it, after counting it, in whole milliseconds: the
    stamping moment ``e`` has venue time in ``[S, S + 1 ms)``. Any reply stamped ``S_i``
    and read at ``r_i`` shows that the offset (venue minus local) was at least
    ``S_i - r_i`` at ``r_i``, and it changes by at most 100 ppm of the time between; so
    ``e`` is at most ``S + 1 ms - (S_i - r_i) + 100 ppm x |e - r_i|`` locally, with
    ``e`` between X's grant and its reply. The tightest such ``S_i - r_i`` is used: a
    late read or a stale sample only makes ``b`` later, never earlier than the truth.
    What this assumes: the stamp is of this request's processing (the adapter names the
    fields, per endpoint: ``RequestCost.stamps``) and the stamping clock does not step
    back by more than the margin's 10 ms. A ``b`` before X's own grant shows that this
    failed (a step back, another event's stamp): the reply's read time is used instead
    and the offset learnt again.

    ``clock`` and ``sleep`` are injectable so tests run without waiting; both are wall
    time (the venue's), never a broker's accelerated or virtual clock.
    """

    def __init__(
        self,
        limits: Iterable[RateLimit] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[tuple[Kind, float], _Window] = {}
        self._in_flight: dict[Kind, int] = {REQUEST_WEIGHT: 0, ORDERS: 0}
        self._granted: dict[Kind, int] = {REQUEST_WEIGHT: 0, ORDERS: 0}
        self._blocked_until: dict[Kind, float] = {REQUEST_WEIGHT: 0.0, ORDERS: 0.0}
        self._locks: dict[bool, asyncio.Lock] = {}
        # Requests in (or waiting for) acquire's queue, per queue (orders or not): while
        # any is, try_acquire grants nothing, so a waiting request is never overtaken.
        self._queued: dict[bool, int] = {}
        self._changed: asyncio.Event | None = None
        self._venue_clock = _VenueClock()
        self.update(limits)

    @property
    def limits(self) -> list[RateLimit]:
        """The limits in force: orders first, then weight, shortest window first."""
        ordered = sorted(self._windows.values(), key=lambda w: (w.kind != ORDERS, w.seconds))
        return [
            (OrderLimit if w.kind == ORDERS else WeightLimit)(w.count, w.seconds) for w in ordered
        ]

    def update(self, limits: Iterable[RateLimit]) -> None:
        """Adopt the venue's limits: a window already known keeps the lower count."""
        for limit in limits:
            key = (_kind(limit), float(limit.seconds))
            known = self._windows.get(key)
            if known is None:
                window = self._windows[key] = _Window(key[0], key[1], limit.count)
                # A limit learnt late (from exchangeInfo) must count what was sent before.
                peers = [w for w in self._windows.values() if w.kind == key[0] and w is not window]
                if peers:
                    window.seed(max(peers, key=lambda w: w.span))
            else:
                known.count = min(known.count, limit.count)

    def block_for(self, seconds: float, *, orders_only: bool = False) -> None:
        """Hold requests for ``seconds`` (the venue's Retry-After after a 429 or 418):
        order requests only (-1015), or every request (-1003, an IP ban)."""
        until = self._clock() + max(0.0, seconds)
        kinds: tuple[Kind, ...] = (ORDERS,) if orders_only else (ORDERS, REQUEST_WEIGHT)
        for kind in kinds:
            self._blocked_until[kind] = max(self._blocked_until[kind], until)

    def held(self, *, orders: bool = False) -> float:
        """Seconds the venue's Retry-After still holds requests (order requests if
        ``orders``), 0 when it does not."""
        cost = RequestCost(orders=1 if orders else 0)
        now = self._clock()
        return max(0.0, self._blocked(cost, now) - now)

    def _blocked(self, cost: RequestCost, now: float) -> float:
        until = self._blocked_until[REQUEST_WEIGHT]
        if cost.orders:
            until = max(until, self._blocked_until[ORDERS])
        return until

    def _ready_at(self, cost: RequestCost, now: float) -> float | None:
        ready = max(now, self._blocked(cost, now))
        for window in self._windows.values():
            need = cost.of(window.kind)
            if need <= 0:
                continue
            if need > window.count:
                continue  # can never fit: send it alone rather than never
            kind = window.kind
            at = window.ready_at(now, self._in_flight[kind], self._granted[kind], need)
            if at is None:
                return None
            ready = max(ready, at)
        return ready

    def _grant(self, cost: RequestCost, now: float) -> Ticket:
        in_flight, granted = self._in_flight, self._granted
        weight, orders = cost.weight, cost.orders  # (cost.of, without a call per kind)
        in_flight[REQUEST_WEIGHT] += weight
        in_flight[ORDERS] += orders
        granted[REQUEST_WEIGHT] += weight
        granted[ORDERS] += orders
        return Ticket(cost, now, granted.copy())

    def try_acquire(self, cost: RequestCost) -> Ticket | None:
        """The ticket :meth:`acquire` would grant at once, without waiting; ``None`` when
        it would wait (the request does not fit now, or others of its queue wait first).

        What :meth:`acquire` tries first: the same test and grant as its queue's first
        turn, without the queue's lock when nobody waits in it.
        """
        now = self._clock()
        if self._windows:
            if self._queued.get(bool(cost.orders)):
                return None  # behind those already waiting, in their order
            ready = self._ready_at(cost, now)
            if ready is None or ready > now:
                return None
        elif self._blocked(cost, now) > now:
            return None
        return self._grant(cost, now)

    async def acquire(self, cost: RequestCost | None = None) -> Ticket:
        """Wait until a request of ``cost`` fits every limit, then count it as in flight.

        Pass the ticket to :meth:`finish` once its reply was read (or it failed).
        """
        cost = cost or RequestCost()
        ticket = self.try_acquire(cost)  # most requests fit at once: no lock taken
        if ticket is not None:
            return ticket
        queue = bool(cost.orders)
        lock = self._locks.get(queue)
        if lock is None:
            lock = self._locks[queue] = asyncio.Lock()
        self._queued[queue] = self._queued.get(queue, 0) + 1
        try:
            async with lock:
                while True:
                    now = self._clock()
                    ready = self._ready_at(cost, now)
                    if ready is not None and ready <= now:
                        return self._grant(cost, now)
                    # At least a millisecond: a wait rounded to nothing would spin.
                    await self._wait(None if ready is None else max(ready - now, 0.001))
        finally:
            self._queued[queue] -= 1

    async def _wait(self, seconds: float | None) -> None:
        """Sleep ``seconds``, or until a reply frees room, whichever comes first."""
        if self._changed is None:
            self._changed = asyncio.Event()
        changed: asyncio.Future[Any] = asyncio.ensure_future(self._changed.wait())
        waits: list[asyncio.Future[Any]] = [changed]
        if seconds is not None:
            result = self._sleep(seconds)
            if not asyncio.iscoroutine(result):
                changed.cancel()
                return
            waits.append(asyncio.ensure_future(result))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in waits:
                if not fut.done():
                    fut.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fut

    def finish(
        self,
        ticket: Ticket,
        headers: Mapping[str, object] | None = None,
        body: object = None,
        *,
        counts: Iterable[tuple[Kind, float, int]] | None = None,
    ) -> None:
        """The request's reply was read (``headers`` and ``body`` are the venue's, the
        body only of a successful reply), or it failed.

        Counted until one window after its arrival at the latest: the reply read now, or
        earlier by the venue's stamp in ``body`` (the ticket's ``cost.stamps``). The
        venue's own counts correct the local ones: ``counts`` as the adapter read them
        from the reply (``(kind, window seconds, used)``), or else Binance's count headers
        in ``headers`` (:func:`venue_counts`). Finishing twice counts once.
        """
        if ticket.done:
            return
        now = self._clock()
        arrived = now
        stamp = reply_stamp(body, ticket.cost.stamps) if ticket.cost.stamps else None
        if stamp is not None:
            arrived = self._venue_clock.arrived_by(ticket.granted_at, now, stamp)
        if counts is None and headers:
            counts = venue_counts(headers)
        if counts:
            for kind, seconds, reported in counts:
                window = self._windows.get((kind, seconds))
                if window is not None:
                    through = ticket.granted_through[kind]
                    span = (ticket.granted_at, arrived)
                    window.observe(now, reported, through, self._in_flight[kind], span)
        ticket.done = True
        cost = ticket.cost
        self._in_flight[REQUEST_WEIGHT] -= cost.weight
        self._in_flight[ORDERS] -= cost.orders
        for window in self._windows.values():
            window.finished(now, arrived, cost.of(window.kind))
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()
