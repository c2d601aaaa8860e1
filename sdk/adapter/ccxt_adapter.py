"""The ccxt boundary: ``CcxtAdapter``, the only caller of ccxt.

``CcxtAdapter`` is the concrete base over a ``ccxt.async_support`` exchange: venue URL
sets (``sim`` rewrites every API URL to the simulator, ``testnet`` is ccxt's sandbox,
``demo`` its demo trading, ``live`` only with ``allow_live=True``), venue-bound
credentials, a JSON markets snapshot on disk (``MarketsCache``), and one boundary helper
(``CcxtAdapter._call``) through which every ccxt request goes; every ccxt exception is
translated (``exsdk.error_tables.translate``) there.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt_async
from ccxt.base.errors import BaseError as CcxtBaseError
from ccxt.base.errors import NotSupported as CcxtNotSupported

from exsdk.adapter import arguments
from exsdk.adapter.base import METHOD_PURPOSES, ExchangeAdapter
from exsdk.adapter.markets_cache import MarketsCache, default_cache_dir
from exsdk.adapter.pacing import (
    EndpointCost,
    Kind,
    OrderLimit,
    RateLimit,
    RequestCost,
    Ticket,
    VenuePacer,
    WeightLimit,
    limits_from_message,
    limits_from_rate_limits,
    venue_counts,
)
from exsdk.adapter.redaction import install_log_redaction
from exsdk.adapter.replies import PARSER_ERRORS, ReplyShape, json_of, one_line
from exsdk.adapter.requests import CallRecord, RequestRecord, recording
from exsdk.adapter.requests import install as install_request_records
from exsdk.adapter.requirements import (
    REQUIRED_METHODS,
    Requirement,
    capability_gaps,
    missing_methods,
)
from exsdk.adapter.urls import rewrite_urls
from exsdk.adapter.venue import Venue
from exsdk.error_tables import Request, translate
from exsdk.errors import (
    InvalidOrderInput,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
)
from exsdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    MarketLimits,
    OrderBook,
    OrderRequest,
    Position,
    Side,
)
from exsdk.models.base import shown

if TYPE_CHECKING:
    from exsdk.adapter.credentials import Credentials
    from exsdk.limits import Environment

log = logging.getLogger(__name__)

CREATE_EXPIRY_KEPT_S = 600.0
"""How long after a create stops being executable its expiry is still remembered: the broker
asks right after the create failed, and a resend waits at most a window plus its backoff."""


_SECRET_CONFIG_KEYS = frozenset(
    {"apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token"}
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# ccxt methods whose malformed reply leaves the outcome unknown: the venue answered, so it
# may well have placed the order; the broker must look it up before any resend.
_OUTCOME_UNKNOWN_ON_MALFORMED = frozenset({"create_order"})
# ccxt methods after whose reply :meth:`CcxtAdapter._call` yields one loop turn before
# judging it: a wave's creates, sent concurrently, each wait for no other's reply checks.
_YIELD_AFTER_REPLY = frozenset({"create_order"})

_T = TypeVar("_T")

# ccxt config keys that make ccxt print requests (API key header and signatures included)
# to stdout, past any log filter: refused, since nothing downstream could redact them.
_PRINTING_CONFIG_KEYS = frozenset({"verbose"})


def _venue_url_problem(exchange: Any, exchange_id: str, venue: Venue) -> str | None:
    """Why ccxt's ``exchange`` cannot reach ``venue``, or ``None`` when it can."""
    if venue is Venue.TESTNET and not exchange.urls.get("test"):
        # ccxt's set_sandbox_mode fails with a TypeError there.
        return f"{exchange_id} has no testnet (sandbox) URL in ccxt"
    if venue is Venue.DEMO and "demo" not in exchange.urls:
        return f"{exchange_id} has no demo trading URL set"
    return None


# The pacer's ticket of the HTTP request in progress in this task: ccxt's fetch2 (where a
# request is paced, before it is signed) and on_rest_response (where its reply is read)
# run in the same task, while other requests overlap in others.
# The request in progress in this task, and the pacer that granted it (a caller may swap
# ``adapter.pacer`` between requests: a reply is finished on the pacer that counted it).
_TICKET: contextvars.ContextVar[tuple[VenuePacer, Ticket] | None] = contextvars.ContextVar(
    "_TICKET", default=None
)
# A request costs one weight unless the adapter's table says otherwise.
_DEFAULT_COST = RequestCost()


def _retry_after(headers: object) -> float | None:
    """Seconds from a ``Retry-After`` header (Binance sends it with 429 and 418)."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                return None
            return seconds if seconds >= 0 else None
    return None


@functools.lru_cache(maxsize=256)
def _url_path(url: str) -> str:
    """The path of an API base URL, without its trailing slash (asked per request)."""
    return urlsplit(url).path.rstrip("/")


def _camel(method: str) -> str:
    head, *rest = method.split("_")
    return head + "".join(part.title() for part in rest)


class CcxtAdapter(ExchangeAdapter):
    """An adapter over one ``ccxt.async_support`` exchange.

    Every ccxt request goes through :meth:`_call`, which translates ccxt and transport
    exceptions with :func:`exsdk.error_tables.translate`. Subclasses declare ``name``,
    ``ccxt_id``, ``market_type``, ``capabilities`` and ``default_options``, and override
    the small hooks (client order id rules, lookup by client order id, trades of an
    order, what to do after an error).

    Args:
        venue: where requests go. ``Venue.LIVE`` also needs ``allow_live=True``.
        credentials: a key set issued for ``venue`` (refused when it is for another).
        base_url: the simulator's ``http://127.0.0.1:PORT``; required for ``Venue.SIM``
            and refused for the others.
        markets_cache: the markets snapshot file; ``None`` for the default under
            :func:`default_cache_dir` (no cache on ``Venue.SIM``), ``False`` for none.
        ccxt_options: overrides of the ccxt constructor config; its ``options`` key is
            merged into the adapter's default options (replay passes
            ``{"enableRateLimit": False}``).
        allow_live: the explicit consent ``Venue.LIVE`` needs.
        environment: how the broker shapes orders (``local``/``preprod``/``prod``);
            kept for the broker, the adapter does not act on it.
    """

    market_type: ClassVar[str] = "spot"
    default_options: ClassVar[Mapping[str, Any]] = {
        # Both trigger signed sapi calls in load_markets that the SDK never needs.
        "fetchCurrencies": False,
        "fetchMargins": False,
    }
    order_book_depth: ClassVar[int | None] = 5
    # The venue's order-count and request-weight limits when nothing better is known
    # (none: no pacing), and what each endpoint costs: (HTTP method, URL path) -> cost.
    # An adapter with a cost table paces requests itself; ccxt's throttle is then off.
    order_limits: ClassVar[tuple[OrderLimit, ...]] = ()
    weight_limits: ClassVar[tuple[WeightLimit, ...]] = ()
    request_costs: ClassVar[Mapping[tuple[str, str], EndpointCost]] = {}
    # ccxt method -> the JSON shape of its endpoint's reply, for the methods where ccxt
    # reads a reply of another shape as an empty result. Venue knowledge: adapters fill it.
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {}
    # ccxt methods every broker needs (exsdk.adapter.requirements), checked at construction.
    required_methods: ClassVar[Mapping[str, Requirement]] = REQUIRED_METHODS
    markets_max_age: ClassVar[timedelta | None] = timedelta(hours=24)

    def __init__(
        self,
        venue: Venue | str,
        credentials: Credentials | None = None,
        *,
        base_url: str | None = None,
        markets_cache: Path | str | Literal[False] | None = None,
        ccxt_options: Mapping[str, Any] | None = None,
        allow_live: bool = False,
        environment: Environment | None = None,
        order_limits: Sequence[OrderLimit] | None = None,
    ) -> None:
        venue = Venue(venue)
        if venue is Venue.LIVE and not allow_live:
            raise SdkError(
                f"{self.name}: venue 'live' sends real orders with real money; "
                "pass allow_live=True to ask for it explicitly"
            )
        if credentials is not None and credentials.venue is not venue:
            from exsdk.adapter.credentials import CredentialsError

            raise CredentialsError(
                f"{self.name}: credentials were issued for venue '{credentials.venue}', "
                f"refusing to send them to venue '{venue}'"
            )
        if venue is Venue.SIM:
            if not base_url:
                raise SdkError(f"{self.name}: venue 'sim' needs base_url (the simulator's URL)")
            parsed = urlsplit(base_url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise SdkError(f"{self.name}: base_url must look like http://127.0.0.1:PORT")
        elif base_url is not None:
            raise SdkError(f"{self.name}: base_url is only for venue 'sim', not '{venue}'")
        self.venue = venue
        self.environment = environment
        self._base_url = base_url.rstrip("/") if base_url else None
        self._resyncing = False
        self._create_expiry: dict[str, float] = {}
        self._limits_cache: tuple[Mapping[str, Any], dict[str, MarketLimits]] | None = None
        self._markets_cache = self._resolve_cache(markets_cache)
        # The venue's limits: declared, then learnt from exchangeInfo, -1015 and -1003.
        self.pacer = VenuePacer(
            [*(self.order_limits if order_limits is None else order_limits), *self.weight_limits]
        )
        # Building a ccxt exchange makes no request, so _check_exchange still runs first.
        self._exchange: Any = self._build_exchange(credentials, ccxt_options or {})
        if venue is Venue.SIM:
            # ccxt waits 250 ms on close for TLS shutdown; the simulator and replays are plain
            # HTTP, and the wait was most of a contract test's time.
            self._exchange.timeout_on_exit = 0
        # One hook of each ccxt step: fetch2 paces, sign records the request, and
        # on_rest_response gives the pacer the venue's counts, then records the reply.
        install_request_records(self._exchange, on_reply=self._read_reply)
        # ccxt logs every request at DEBUG, API key header and signature included.
        own = getattr(self._exchange, "logger", None)  # a caller may pass its own logger
        install_log_redaction(*([own] if isinstance(own, logging.Logger) else []))
        self._install_pacing()
        self._check_exchange()

    # ----- construction hooks -------------------------------------------------------

    def _exchange_class(self) -> Any:
        """The ccxt.async_support class to instantiate."""
        return getattr(ccxt_async, self.exchange_id)

    def _venue_options(self, venue: Venue) -> dict[str, Any]:
        """Extra ccxt options for ``venue`` (futures silence the testnet deprecation)."""
        return {}

    def _check_exchange(self) -> None:
        """Called once the exchange exists, before any request; raise to refuse it.

        Refuses an exchange whose ccxt ``has`` lacks a method the broker needs
        (:attr:`required_methods`) or a method a declared capability needs, naming each
        method and what it is needed for.
        """
        has = self._exchange.has
        missing = missing_methods(has, self.required_methods)
        for capability, methods in capability_gaps(has, self.capabilities).items():
            for method in methods.split(", "):
                missing.setdefault(
                    method, f"{METHOD_PURPOSES.get(method, method)} (capability {capability})"
                )
        if missing:
            listing = "; ".join(f"{m} (needed for {why})" for m, why in missing.items())
            raise UnsupportedMethod(
                f"{self.exchange_id} lacks ccxt methods the broker needs: {listing}",
                missing=missing,
                exchange=self.exchange_id,
            )

    def _build_exchange(self, credentials: Credentials | None, overrides: Mapping[str, Any]) -> Any:
        options: dict[str, Any] = dict(self.default_options)
        options.update(self._venue_options(self.venue))
        # ccxt's throttle is one generic bucket (half the futures weight budget, 5 orders
        # a second); an adapter that knows the venue's costs paces by them instead.
        config: dict[str, Any] = {"enableRateLimit": not self.request_costs}
        for key, value in overrides.items():
            if key in _PRINTING_CONFIG_KEYS and value:
                raise SdkError(
                    f"{self.name}: ccxt_options[{key!r}] makes ccxt print every request, "
                    "API key and signature included, to stdout; use logging at DEBUG instead "
                    "(its records are redacted)"
                )
            if key in _SECRET_CONFIG_KEYS:
                # Keys smuggled in here would skip the venue binding of Credentials.
                raise SdkError(f"{self.name}: pass a Credentials object, not ccxt_options[{key!r}]")
            if key == "options":
                options.update(value)
            else:
                config[key] = value
        config["options"] = options
        if credentials is not None:
            config.update(credentials.ccxt_config())
        try:
            exchange = self._exchange_class()(config)
            problem = _venue_url_problem(exchange, self.exchange_id, self.venue)
            if problem is not None:
                raise CcxtNotSupported(problem)
            if self.venue is Venue.TESTNET:
                exchange.set_sandbox_mode(True)
            elif self.venue is Venue.DEMO:
                exchange.enable_demo_trading(True)
            elif self.venue is Venue.SIM:
                assert self._base_url is not None
                # ccxt builds request URLs from urls['api'] only, so moving every entry to
                # the simulator keeps paths (and ccxt's per-path behaviour) untouched.
                exchange.urls["api"] = rewrite_urls(exchange.urls["api"], self._base_url)
        except CcxtNotSupported as exc:
            raise UnsupportedMethod(
                f"{self.name}: venue '{self.venue}' is not available: {exc}",
                missing={str(self.venue): "the venue's URL set"},
                exchange=self.exchange_id,
            ) from None
        return exchange

    @classmethod
    def check_venue(cls, venue: Venue | str) -> None:
        """Raise ``UnsupportedMethod`` when ccxt has no URL set for ``venue`` here.

        No request and no credentials: the bare ccxt class is built and its URL table
        read, so a command can refuse ``--venue testnet`` for an exchange without a
        sandbox (kraken, coinbase, bitstamp) before it starts anything.
        """
        venue = Venue(venue)
        if venue not in (Venue.TESTNET, Venue.DEMO):
            return
        exchange = getattr(ccxt_async, cls.ccxt_id)({})
        problem = _venue_url_problem(exchange, cls.ccxt_id, venue)
        if problem is not None:
            raise UnsupportedMethod(
                f"{cls.name}: venue '{venue}' is not available: {problem}",
                missing={str(venue): "the venue's URL set"},
                exchange=cls.ccxt_id,
            )

    def _resolve_cache(
        self, markets_cache: Path | str | Literal[False] | None
    ) -> MarketsCache | None:
        if markets_cache is False:
            return None
        if markets_cache is None:
            if self.venue is Venue.SIM:
                # The simulator is local and cheap to ask; its port changes every run.
                return None
            filename = f"{_SAFE_NAME.sub('_', self.name)}-{self.venue.value}.json"
            return MarketsCache(default_cache_dir() / "markets" / filename, self.markets_max_age)
        path = Path(markets_cache)
        if path.is_dir():
            path = path / f"{_SAFE_NAME.sub('_', self.name)}-{self.venue.value}.json"
        return MarketsCache(path, self.markets_max_age)

    # ----- pacing ---------------------------------------------------------------------

    def _install_pacing(self) -> None:
        """Pace every HTTP request ccxt makes (its reply is read by :meth:`_read_reply`).

        ``fetch2`` is where ccxt starts one request, before signing it (a wait after
        signing would eat the request's recvWindow); ``on_rest_response``, hooked once
        by :func:`exsdk.adapter.requests.install`, is where it reads one reply, headers
        included, before raising for its status.
        """
        fetch2 = self._exchange.fetch2
        request_cost = self._request_cost

        async def paced_fetch2(
            path: Any, api: Any = "public", method: Any = "GET", *rest: Any, **kw: Any
        ) -> Any:
            params = rest[0] if rest else kw.get("params", {})
            pacer = self.pacer  # read per request: the attribute is the adapter's, not ours
            ticket = await pacer.acquire(request_cost(api, str(method), str(path), params))
            token = _TICKET.set((pacer, ticket))
            try:
                return await fetch2(path, api, method, *rest, **kw)
            finally:
                _TICKET.reset(token)
                if not ticket.done:  # no reply (a transport error): counted from now
                    pacer.finish(ticket)

        self._exchange.fetch2 = paced_fetch2

    def _read_reply(self, code: Any, headers: Any, body: Any) -> None:
        """A reply of the request in progress in this task was read (ccxt's
        ``on_rest_response``): the pacer learns the venue's counts from it."""
        current = _TICKET.get()
        # dict first: a dict skips the Mapping ABC check (Python code), on every reply.
        if current is not None and isinstance(headers, (dict, Mapping)):
            self._venue_replied(*current, code, headers, body)

    def venue_counts(
        self, headers: Mapping[str, Any], cost: RequestCost
    ) -> list[tuple[Kind, float, int]]:
        """What the venue says it counted, from the headers of a reply to a request of
        ``cost``: ``(kind, window seconds, used)``, each correcting the pacer's window of
        that kind and length. Binance's ``X-MBX-USED-WEIGHT-*`` and
        ``X-MBX-ORDER-COUNT-*`` here; an adapter of another venue reads its own."""
        return venue_counts(headers)

    def venue_limits(self, headers: Mapping[str, Any], cost: RequestCost) -> list[RateLimit]:
        """The limits a reply's headers state (none here: Binance states its limits in
        exchangeInfo and in its -1015 and -1003 refusals); the pacer adopts any that is
        lower than the one it keeps."""
        return []

    def retry_after(self, reply: RequestRecord) -> float | None:
        """Seconds the venue asks to wait after refusing ``reply``'s request for a rate
        limit (Binance: its ``Retry-After`` header), ``None`` when it says nothing."""
        return _retry_after(reply.headers)

    def _request_cost(self, api: Any, method: str, path: str, params: Any) -> RequestCost:
        """What one ccxt request costs at the venue, from :attr:`request_costs`."""
        if not self.request_costs:
            return _DEFAULT_COST
        name = api if isinstance(api, str) else (api[0] if api else "")
        base = self._exchange.urls.get("api", {})
        url = base.get(name, "") if isinstance(base, dict) else ""
        prefix = _url_path(url) if isinstance(url, str) else ""
        entry = self.request_costs.get((method.upper(), f"{prefix}/{path}"))
        if entry is None:
            return _DEFAULT_COST
        mapping = isinstance(params, (dict, Mapping))  # a dict: no ABC
        return entry.cost(params if mapping else {})

    def _venue_replied(
        self,
        pacer: VenuePacer,
        ticket: Ticket,
        status: Any,
        headers: Mapping[str, Any],
        body: Any,
    ) -> None:
        """A reply was read: the venue's counts correct the pacer's; a 429 or 418 holds
        requests for its Retry-After (orders only for -1015, everything for an IP limit).
        A success's body may stamp when the venue processed the request (``cost.stamps``)."""
        cost = ticket.cost
        stated = self.venue_limits(headers, cost)
        if stated:
            pacer.update(stated)  # (a known window only ever comes down)
        counts = self.venue_counts(headers, cost)
        pacer.finish(ticket, headers, body if status == 200 else None, counts=counts)
        if status in (418, 429):
            orders_only = status == 429 and '"code":-1015' in str(body).replace(" ", "")
            pacer.block_for(_retry_after(headers) or 1.0, orders_only=orders_only)

    # ----- the boundary -----------------------------------------------------------------

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call one ccxt method; the one place ccxt exceptions become SDK errors.

        Every reply is judged by what this call itself sent and received
        (:mod:`exsdk.adapter.requests`), never by ccxt's shared ``last_http_response``,
        so overlapping calls are checked like lone ones. A reply ccxt cannot parse (its
        parsers raise ``TypeError``, ``ValueError``, ...) and a reply of the wrong shape
        (see :attr:`reply_shapes`) are malformed: ``OrderOutcomeUnknown`` for a create
        (the venue may have placed the order), ``TransientVenueError`` (retried) for
        anything else. An error that is not a well-formed venue rejection is the same
        (:func:`exsdk.error_tables.translate`, "default unknown").
        """
        with recording() as record:
            try:
                result = await getattr(self._exchange, method)(*args, **kwargs)
                if method in _YIELD_AFTER_REPLY:
                    # The request is out and ccxt has read its reply: let the other
                    # children of a wave that are ready to send go before this reply is
                    # checked, noted and validated (a reply read in the same turn, as from
                    # an in-process venue, must not hold back the next child's request).
                    # Cancelled here, the reply is lost like any other: the finally below
                    # still notes the request's expiry.
                    await asyncio.sleep(0)
                shape = self.reply_shapes.get(method)
                if shape is not None:
                    self._check_replies(method, shape, record)
                return result
            except SdkError:
                raise
            except (CcxtBaseError, aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                error = self._translate(exc, method, record)
                last = record.last
                if isinstance(error, RateLimited) and error.retry_after is None and last:
                    error.retry_after = self.retry_after(last)
                await self._after_error(error)
                raise error from exc
            except PARSER_ERRORS as exc:
                if not record.sent:
                    # No request left: the error is in the request (ours or ccxt's), not
                    # the venue's doing, and must not pass for one.
                    raise
                last = record.last
                error = self._malformed(
                    method, f"{type(exc).__name__}: {exc}", last.body if last else None
                )
                await self._after_error(error)
                raise error from exc
            finally:
                if record.sent:
                    self._note_requests(method, args, kwargs, record)

    def _note_requests(
        self, method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], record: CallRecord
    ) -> None:
        """Remember when the last create of each client order id stops being executable."""
        if method != "create_order":
            return
        params = args[5] if len(args) > 5 else kwargs.get("params")
        # dict first: a dict skips the Mapping ABC check (Python code).
        cid = params.get("clientOrderId") if isinstance(params, (dict, Mapping)) else None
        last = record.last
        if isinstance(cid, str) and last is not None:
            # Moved to the end, so the oldest expiries are first and pruning stops early.
            self._create_expiry.pop(cid, None)
            self._create_expiry[cid] = self._expiry_of(last)
            self._forget_expired_creates(time.time())

    def _forget_expired_creates(self, now: float) -> None:
        """Drop expiries more than :data:`CREATE_EXPIRY_KEPT_S` in the past (one entry per
        client id for the life of the process otherwise). A caller that asks later gets
        ``None`` and waits a whole window from then: later than needed, never too early."""
        expiries = self._create_expiry
        horizon = now - CREATE_EXPIRY_KEPT_S
        while expiries:
            cid, at = next(iter(expiries.items()))
            if at >= horizon:
                return
            del expiries[cid]

    def _expiry_of(self, request: RequestRecord) -> float:
        """Wall time (``time.time()``) after which the venue refuses ``request``.

        Binance executes a signed request only while ``server time - timestamp <=
        recvWindow``; ccxt signs with local time minus ``options['timeDifference']``, so
        locally that is ``timestamp + recvWindow + timeDifference``. Unsigned: measured
        from when it was sent.
        """
        window = request.recv_window_ms
        if window is None:
            option = self._exchange.options.get("recvWindow")
            window = int(option) if isinstance(option, int | float) and option > 0 else 5000
        if request.signed_ms is None:
            return request.signed_at + window / 1000
        difference = self._exchange.options.get("timeDifference") or 0
        if not isinstance(difference, int | float):
            difference = 0
        return (request.signed_ms + window + difference) / 1000

    def create_expires_at(self, client_order_id: str) -> float | None:
        """When (``time.time()``) the last create sent for ``client_order_id`` in this
        process can no longer be executed by the venue; ``None`` when none was sent.

        Taken from the signed request itself, so a wait in a queue before it was signed
        (the order pacer, ccxt's throttle) does not count.
        """
        return self._create_expiry.get(client_order_id)

    def _check_replies(self, method: str, shape: ReplyShape, record: CallRecord) -> None:
        """Raise when this call's reply is not of ``shape`` (ccxt read it as empty).

        The method's own endpoint answers last: ccxt may load markets first.
        """
        request = record.last
        if request is None or request.body is None:
            return
        is_json, value = json_of(request.body)
        problem = shape.mismatch(value) if is_json else "not JSON"
        if problem is not None:
            raise self._malformed(method, problem, request.body)

    def _malformed(self, method: str, detail: str, body: str | None) -> SdkError:
        """The error for a malformed reply to ``method``, with a one-line message.

        A create's malformed reply leaves its outcome unknown (the venue answered, so it
        may well have placed the order); any other is transient: asked again, it may
        come back whole.
        """
        is_json = None if body is None else json_of(body)[0]
        cls: type[SdkError]
        if method in _OUTCOME_UNKNOWN_ON_MALFORMED:
            cls = OrderOutcomeUnknown
        else:
            cls = TransientVenueError
        what = "malformed reply" if is_json is not False else "unreadable reply"
        return cls(
            one_line(f"{self.exchange_id} {method}: {what}: {detail}"),
            exchange=self.exchange_id,
            body=body[:2000] if body else None,
        )

    def _parse(self, method: str, parse: Callable[[Any], _T], raw: Any) -> _T:
        """Validate ccxt's result into a model; a malformed one names this exchange."""
        try:
            return parse(raw)
        except VenueRejected as exc:
            raise self._malformed(method, exc.message, None) from None
        except PARSER_ERRORS as exc:  # e.g. ccxt handed back a raw body, not a list
            raise self._malformed(method, f"{type(exc).__name__}: {exc}", None) from None

    def _translate(self, exc: BaseException, method: str, record: CallRecord) -> SdkError:
        if isinstance(exc, CcxtNotSupported):
            name = _camel(method)
            return UnsupportedMethod(
                f"{self.exchange_id} does not support {name} here: {exc}",
                missing={name: METHOD_PURPOSES.get(name, f"{self.name}.{method}")},
                exchange=self.exchange_id,
            )
        last = record.last
        request: Request | None = None
        if record.sent:
            request = "create" if method in _OUTCOME_UNKNOWN_ON_MALFORMED else "read"
        error = translate(
            exc,
            exchange=self.exchange_id,
            body=last.body if last is not None else None,
            request=request,
        )
        if isinstance(exc, aiohttp.ClientError) and type(error) is VenueRejected:
            # A transport failure before any request was signed (session setup).
            return TransientVenueError(f"{type(exc).__name__}: {exc}", exchange=self.exchange_id)
        return error

    async def _after_error(self, error: SdkError) -> None:
        """Hook run after a translated error, before it is raised (Binance resyncs clocks).

        Subclasses call this first: a limit the venue states (-1015, -1003) becomes the
        pacer's (its Retry-After was applied when the reply was read).
        """
        if isinstance(error, RateLimited):
            self.pacer.update(limits_from_message(f"{error.message} {error.body or ''}"))

    def _require(self, capability: str, method: str) -> None:
        # One attribute, not names(): attrs.asdict costs microseconds on every order.
        if not getattr(self.capabilities, capability, False):
            raise UnsupportedMethod(
                f"{self.name} does not declare capability '{capability}'",
                missing={method: METHOD_PURPOSES.get(method, capability)},
                exchange=self.exchange_id,
            )

    async def _symbol(self, where: str, symbol: str) -> str:
        """``symbol`` when it is a market here, else ``InvalidOrderInput``.

        Call it after every other argument check: the markets are loaded first when they
        are not yet (ccxt would load them for the call anyway), so only this check can
        cost a request; everything it refuses is refused before the call's own request.
        """
        if not self._exchange.markets:
            await self.load_markets()
        markets: Mapping[str, Any] = self._exchange.markets or {}
        by_id: Mapping[str, Any] = self._exchange.markets_by_id or {}
        if symbol in by_id:  # ccxt takes a market id ("BTCUSDT") for its symbol too
            return symbol
        return arguments.known_symbol(where, symbol, markets, self.exchange_id)

    def _where(self, method: str) -> str:
        return f"{self.name}.{method}"

    def _client_id(self, where: str, client_order_id: object) -> str:
        """The shape every venue needs, then the venue's own rule, both naming ``where``."""
        checked = arguments.order_id(where, client_order_id, "client_order_id")
        try:
            return self.validate_client_order_id(checked)
        except InvalidOrderInput as exc:
            raise InvalidOrderInput(exc.message, source=where) from None

    # ----- client order ids (hooks) ---------------------------------------------------

    def validate_client_order_id(self, client_order_id: str) -> str:
        """The client order id if the venue accepts it, else ``InvalidOrderInput``."""
        if (
            not isinstance(client_order_id, str)
            or not client_order_id
            or not client_order_id.isprintable()
            or " " in client_order_id
        ):
            raise InvalidOrderInput(
                f"client order id {shown(client_order_id)} must be non-empty printable text",
                field="client_order_id",
            )
        return client_order_id

    def _client_order_id_params(self, client_order_id: str) -> dict[str, Any]:
        """ccxt params that set the client order id of a new order."""
        return {"clientOrderId": client_order_id}

    async def _fetch_raw_order_by_client_id(self, symbol: str, client_order_id: str) -> Any:
        """Find an order by client order id; generic: scan the symbol's orders."""
        if self._exchange.has.get("fetchOrders"):
            orders = await self._call("fetch_orders", symbol)
        else:
            orders = [
                *await self._call("fetch_open_orders", symbol),
                *await self._call("fetch_closed_orders", symbol),
            ]
        for order in orders:
            if order.get("clientOrderId") == client_order_id:
                return order
        raise OrderNotFound(
            f"no order with client order id {client_order_id!r} on {symbol}",
            exchange=self.exchange_id,
        )

    async def _fetch_raw_order_trades(self, symbol: str, order_id: str) -> list[Any]:
        """The raw trades of one order (filtered by order id by the caller)."""
        return list(await self._call("fetch_my_trades", symbol))

    # ----- ExchangeAdapter ----------------------------------------------------------------

    @property
    def exchange_id(self) -> str:
        """The ccxt exchange id this adapter talks to."""
        return self.ccxt_id

    @property
    def exchange(self) -> Any:
        """The ccxt exchange, for its precision helpers only: requests go through the adapter."""
        return self._exchange

    @property
    def markets_cache(self) -> MarketsCache | None:
        """The markets snapshot in use, if any."""
        return self._markets_cache

    def api_urls(self) -> dict[str, Any]:
        """The URL set requests go to (ccxt's ``urls['api']`` after venue setup)."""
        urls = self._exchange.urls["api"]
        return dict(urls) if isinstance(urls, dict) else {"api": urls}

    def symbol_for(self, base: str, quote: str) -> str:
        """The ccxt spot symbol ``BASE/QUOTE``."""
        return f"{base.upper()}/{quote.upper()}"

    async def load_markets(self, *, reload: bool = False) -> dict[str, MarketLimits]:
        """Markets with their typed limits; from the snapshot when it is fresh."""
        reload = arguments.flag(self._where("load_markets"), "reload", reload)
        from_cache = False
        if not reload and not self._exchange.markets and self._markets_cache is not None:
            cached = self._markets_cache.load(self.exchange_id)
            if cached is not None:
                # set_markets makes load_markets below return without any request.
                self._exchange.set_markets(cached)
                from_cache = True
        previous = self._exchange.markets if reload else None
        try:
            markets = await self._call("load_markets", reload)
            typed = self._typed_limits(markets)
            if not typed:
                # A garbled exchangeInfo (no symbols list, or none readable) reads as "no
                # markets": every parent would be refused as "not a market here".
                raise self._malformed("load_markets", "no market could be read", None)
        except SdkError:
            # ccxt keeps the finished load (marketsLoading) and hands it back to every
            # later call: forget it, so the next call asks the venue again.
            self._exchange.markets_loading = None
            self._exchange.reloading_markets = False
            if previous:
                self._exchange.set_markets(previous)
            else:
                self._exchange.markets = None
            raise
        if not from_cache:
            # The one request load_markets makes here is exchangeInfo: it states the
            # account's order and weight limits, which may be below the declared defaults.
            self._learn_order_limits(self._exchange.last_http_response)
        if self._markets_cache is not None and not from_cache and (reload or markets):
            try:
                self._markets_cache.save(self.exchange_id, markets)
            except OSError as exc:
                log.warning("cannot write markets cache %s: %s", self._markets_cache.path, exc)
        return typed

    def _learn_order_limits(self, body: object) -> None:
        """Adopt the limits an exchangeInfo body states (Binance's ``rateLimits``)."""
        if not isinstance(body, str) or '"rateLimits"' not in body:
            return
        try:
            info = json.loads(body)
        except ValueError:
            return
        if isinstance(info, dict):
            self.pacer.update(limits_from_rate_limits(info.get("rateLimits")))

    def _typed_limits(self, markets: Mapping[str, Any]) -> dict[str, MarketLimits]:
        # Identity, not id(): a reloaded dict may reuse a freed one's id.
        if self._limits_cache is not None and self._limits_cache[0] is markets:
            return dict(self._limits_cache[1])
        out: dict[str, MarketLimits] = {}
        for symbol, market in markets.items():
            try:
                out[symbol] = MarketLimits.from_ccxt(market)
            except VenueRejected as exc:
                # One odd market (no precision yet, a new type) must not hide the others.
                log.debug("%s: skipping market %s: %s", self.name, symbol, exc)
        self._limits_cache = (markets, out)
        return dict(out)

    async def best_bid_ask(self, symbol: str) -> BidAsk:
        """Top of the order book (Binance futures tickers have no bid/ask)."""
        where = self._where("best_bid_ask")
        symbol = await self._symbol(where, arguments.symbol_text(where, symbol))
        book = await self._call("fetch_order_book", symbol, self.order_book_depth)
        return self._parse(
            "fetch_order_book",
            lambda raw: OrderBook.from_ccxt(raw).bid_ask(symbol),
            book,
        )

    async def create_order(
        self,
        symbol: str,
        order_type: str,
        side: Side,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> CcxtOrder:
        """Send one order with the given client order id (the idempotency key).

        A market order's ``price`` is not sent: Binance spot would read a market buy with
        a price as a quote amount (``quoteOrderQty``).
        """
        where = self._where("create_order")
        symbol = arguments.symbol_text(where, symbol)
        if not isinstance(order_type, str):
            raise InvalidOrderInput(
                f"order type must be a str, not {type(order_type).__name__}",
                field="type",
                source=where,
            )
        order_type = order_type.lower()
        if order_type == "market":
            self._require("market_orders", "createMarketOrder")
            price = None
        elif order_type == "limit":
            self._require("limit_orders", "createOrder")
            if price is None:
                raise InvalidOrderInput(
                    "a limit order needs a positive price", field="price", source=where
                )
            price = arguments.order_number(where, "price", price)
        else:
            raise InvalidOrderInput(
                f"order type {shown(order_type)} is not 'market' or 'limit'",
                field="type",
                source=where,
            )
        amount = arguments.order_number(where, "amount", amount)
        side = arguments.order_side(where, side)
        params = self._client_order_id_params(self._client_id(where, client_order_id))
        if arguments.flag(where, "reduce_only", reduce_only):
            self._require("reduce_only", "reduceOnly")
            params["reduceOnly"] = True
        await self._symbol(where, symbol)
        # Paced per HTTP request (see _install_pacing), after every check above: a refused
        # order takes no venue slot.
        raw = await self._call(
            "create_order",
            symbol,
            order_type,
            side.value,
            # ccxt takes floats; Decimal -> float happens here and only here.
            float(amount),
            None if price is None else float(price),
            params,
        )
        # (_call let the wave's other ready children send before it checked this reply.)
        # The reply may leave out what the SDK itself sent (hyperliquid acknowledges a
        # filled market order with its id, amount and average only): fill it from the
        # request, marked in ``from_request``, rather than call a placed order unknown.
        # Every value was checked above (and is of its field's type): not validated again.
        sent = {
            "clientOrderId": client_order_id,
            "symbol": symbol,
            "side": side,
            "type": order_type,
            "amount": amount,
            "price": price,
        }
        return self._parse("create_order", lambda r: CcxtOrder.from_reply(r, sent), raw)

    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        """Cancel one order; an order already gone raises ``OrderNotFound``."""
        self._require("cancel", "cancelOrder")
        where = self._where("cancel_order")
        symbol = arguments.symbol_text(where, symbol)
        order_id = arguments.order_id(where, order_id)
        await self._symbol(where, symbol)
        raw = await self._call("cancel_order", order_id, symbol)
        request = OrderRequest(symbol=symbol)
        return self._parse("cancel_order", lambda r: CcxtOrder.from_ccxt(r, request), raw)

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> CcxtOrder:
        """One order by exchange id or by client order id (exactly one of them)."""
        where = self._where("fetch_order")
        symbol = arguments.symbol_text(where, symbol)
        if (order_id is None) == (client_order_id is None):
            raise InvalidOrderInput(
                "give exactly one of order_id and client_order_id", source=where
            )
        if order_id is not None:
            order_id = arguments.order_id(where, order_id)
        else:
            client_order_id = self._client_id(where, client_order_id)
        await self._symbol(where, symbol)
        if order_id is not None:
            raw = await self._call("fetch_order", order_id, symbol)
        else:
            assert client_order_id is not None
            self._require("fetch_by_client_order_id", "fetchOrders")
            raw = await self._fetch_raw_order_by_client_id(symbol, client_order_id)
        request = OrderRequest(symbol=symbol, client_order_id=client_order_id)
        return self._parse("fetch_order", lambda r: CcxtOrder.from_ccxt(r, request), raw)

    async def fetch_open_orders(self, symbol: str) -> list[CcxtOrder]:
        """Open orders of one symbol."""
        self._require("open_orders", "fetchOpenOrders")
        where = self._where("fetch_open_orders")
        symbol = await self._symbol(where, arguments.symbol_text(where, symbol))
        raw = await self._call("fetch_open_orders", symbol)
        request = OrderRequest(symbol=symbol)
        return self._parse(
            "fetch_open_orders",
            lambda orders: [CcxtOrder.from_ccxt(o, request) for o in orders],
            raw,
        )

    async def fetch_orders(self, symbol: str, *, since_ms: int | None = None) -> list[CcxtOrder]:
        """The symbol's orders, open and closed (the venue's recent history), oldest first."""
        self._require("open_orders", "fetchOpenOrders")
        where = self._where("fetch_orders")
        symbol = arguments.symbol_text(where, symbol)
        since_ms = arguments.time_ms(where, "since_ms", since_ms)
        await self._symbol(where, symbol)
        if self._exchange.has.get("fetchOrders"):
            raw = await self._call("fetch_orders", symbol, since_ms)
        else:
            raw = [
                *await self._call("fetch_open_orders", symbol, since_ms),
                *await self._call("fetch_closed_orders", symbol, since_ms),
            ]
        return self._parse(
            "fetch_orders", lambda orders: [CcxtOrder.from_ccxt(o) for o in orders], raw
        )

    async def fetch_order_trades(self, symbol: str, *, order_id: str) -> list[CcxtTrade]:
        """The trades (partial fills) of one order, oldest first."""
        self._require("order_trades", "fetchMyTrades")
        where = self._where("fetch_order_trades")
        symbol = arguments.symbol_text(where, symbol)
        order_id = arguments.order_id(where, order_id)
        await self._symbol(where, symbol)
        raw = await self._fetch_raw_order_trades(symbol, order_id)
        trades = self._parse(
            "fetch_my_trades",
            lambda rows: [
                CcxtTrade.from_ccxt(t) for t in rows if str(t.get("order")) == str(order_id)
            ],
            raw,
        )
        return sorted(trades, key=lambda t: (t.timestamp is None, t.timestamp, t.id))

    async def fetch_balances(self) -> Balances:
        """Account balances (zero balances dropped)."""
        self._require("balances", "fetchBalance")
        return self._parse("fetch_balance", Balances.from_ccxt, await self._call("fetch_balance"))

    async def fetch_positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        """Open positions (non-zero only)."""
        self._require("positions", "fetchPositions")
        where = self._where("fetch_positions")
        wanted = arguments.symbol_list(where, symbols)
        for symbol in wanted or ():
            await self._symbol(where, symbol)
        raw = await self._call("fetch_positions", wanted or None)
        return self._parse(
            "fetch_positions",
            lambda rows: [Position.from_ccxt(p) for p in rows if p.get("contracts")],
            raw,
        )

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        """Set the leverage of one symbol."""
        self._require("leverage", "setLeverage")
        where = self._where("set_leverage")
        symbol = arguments.symbol_text(where, symbol)
        leverage = arguments.leverage(where, leverage)
        await self._symbol(where, symbol)
        await self._call("set_leverage", leverage, symbol)

    async def resync_clock(self) -> int:
        """Measure the offset to the venue's clock; ccxt then signs with the venue's time.

        Returns the offset in milliseconds (local minus venue).
        """
        self._resyncing = True
        try:
            return int(await self._call("load_time_difference"))
        finally:
            self._resyncing = False

    async def close(self) -> None:
        """Release the HTTP session."""
        try:
            await self._exchange.close()
        except (CcxtBaseError, aiohttp.ClientError, OSError) as exc:
            log.debug("%s: error while closing: %s", self.name, exc)

    def __repr__(self) -> str:
        # Never shows credentials: only what the adapter is and where it sends requests.
        where = f" base_url={self._base_url}" if self._base_url else ""
        return f"<{type(self).__name__} {self.name} venue={self.venue.value}{where}>"
