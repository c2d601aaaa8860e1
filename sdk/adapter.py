"""The adapter interface: the only place that talks to ccxt.

``ExchangeAdapter`` is the async base every exchange adapter subclasses. Every return
value is an SDK model and every ccxt exception is translated (``sdk.errors.translate``)
at this boundary. ``Capabilities`` are declared per adapter, not read from ccxt's
``has`` (``has['setLeverage']`` is true for Binance spot and still fails there).

``CcxtAdapter`` is the concrete base over a ``ccxt.async_support`` exchange: venue URL
sets (``sim`` rewrites every API URL to the simulator, ``testnet`` is ccxt's sandbox,
``demo`` its demo trading, ``live`` only with ``allow_live=True``), venue-bound
credentials, a JSON markets snapshot on disk (``MarketsCache``), and one boundary helper
(``CcxtAdapter._call``) through which every ccxt request goes.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import urlsplit

import aiohttp
import attrs
import ccxt.async_support as ccxt_async
from ccxt.base.errors import BaseError as CcxtBaseError
from ccxt.base.errors import NotSupported as CcxtNotSupported
from pydantic import ValidationError

from sdk.errors import (
    InvalidOrderInput,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
    translate,
)
from sdk.models import (
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    MarketLimits,
    Position,
    Side,
)
from sdk.pacing import OrderLimit, OrderPacer, limits_from_message, limits_from_rate_limits

if TYPE_CHECKING:
    from sdk.credentials import Credentials
    from sdk.limits import Environment

log = logging.getLogger(__name__)


class Venue(enum.StrEnum):
    """Where requests go. ``live`` must always be asked for explicitly."""

    SIM = "sim"
    TESTNET = "testnet"
    DEMO = "demo"
    LIVE = "live"


@attrs.frozen
class Capabilities:
    """What an adapter supports; the contract suite skips by these, the broker checks them."""

    market_orders: bool = True
    limit_orders: bool = True
    cancel: bool = True
    fetch_by_client_order_id: bool = True
    open_orders: bool = True
    order_trades: bool = True
    balances: bool = True
    positions: bool = False
    leverage: bool = False
    reduce_only: bool = False
    liquidity_error: bool = False  # the venue can answer -4131 style liquidity rejections

    def names(self) -> dict[str, bool]:
        """Every capability by name, for tables and skip reasons."""
        return attrs.asdict(self)


class ExchangeAdapter(ABC):
    """Async base of every exchange adapter.

    Subclasses declare ``name``, ``ccxt_id`` and ``capabilities`` and implement the
    hooks; shared code never asks "am I spot or futures?".
    """

    name: ClassVar[str]
    ccxt_id: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @property
    @abstractmethod
    def exchange_id(self) -> str:
        """The ccxt exchange id this adapter talks to."""

    @abstractmethod
    def symbol_for(self, base: str, quote: str) -> str:
        """The ccxt symbol of ``base``/``quote`` in this adapter's market type."""

    @abstractmethod
    async def load_markets(self, *, reload: bool = False) -> dict[str, MarketLimits]:
        """Markets with their typed limits, from the cache when there is one."""

    @abstractmethod
    async def best_bid_ask(self, symbol: str) -> BidAsk:
        """Top of the book now."""

    @abstractmethod
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
        """Send one order with the given client order id (the idempotency key)."""

    @abstractmethod
    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        """Cancel one order; an order already gone raises ``OrderNotFound``."""

    @abstractmethod
    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> CcxtOrder:
        """One order by exchange id or by client order id."""

    @abstractmethod
    async def fetch_open_orders(self, symbol: str) -> list[CcxtOrder]:
        """Open orders of one symbol."""

    @abstractmethod
    async def fetch_order_trades(self, symbol: str, *, order_id: str) -> list[CcxtTrade]:
        """The trades (partial fills) of one order."""

    @abstractmethod
    async def fetch_balances(self) -> Balances:
        """Account balances."""

    @abstractmethod
    async def fetch_positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        """Open positions (non-zero only)."""

    @abstractmethod
    async def set_leverage(self, symbol: str, leverage: int) -> None:
        """Set the leverage of one symbol."""

    @abstractmethod
    async def close(self) -> None:
        """Release the HTTP session."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# What each ccxt unified method is needed for; named in every ``UnsupportedMethod``.
METHOD_PURPOSES: Mapping[str, str] = {
    "loadMarkets": "market limits (minimal orders, quantizing)",
    "fetchOrderBook": "best bid/ask for limit prices",
    "createOrder": "broker submission of child orders",
    "createMarketOrder": "market orders (market parents, minimal-order forcing)",
    "cancelOrder": "cancelling open children at the end of a TWAP wave",
    "fetchOrder": "order status by exchange id (reconciliation)",
    "fetchOrders": "order lookup by client order id after an unknown outcome",
    "fetchOpenOrders": "open orders at the end of a wave",
    "fetchClosedOrders": "order lookup by client order id after an unknown outcome",
    "fetchMyTrades": "trades of each child order (OMS fills and fees)",
    "fetchBalance": "balances",
    "fetchPositions": "positions",
    "setLeverage": "leverage",
    "fetchTime": "clock sync after a timestamp rejection",
}

_CACHE_FORMAT = 1
_SECRET_CONFIG_KEYS = frozenset(
    {"apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token"}
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# What ccxt's parsers raise on a reply of the wrong shape or types (``int("NaN")``,
# ``"x" in 5``, ``"".keys()``). Control flow (CancelledError, KeyboardInterrupt) and test
# machinery (vcrpy's cassette misses) are other types and pass through untouched.
_PARSER_ERRORS: tuple[type[Exception], ...] = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
)

# ccxt methods whose malformed reply leaves the outcome unknown: the venue answered, so it
# may well have placed the order; the broker must look it up before any resend.
_OUTCOME_UNKNOWN_ON_MALFORMED = frozenset({"create_order"})

_T = TypeVar("_T")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _json_of(body: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``body`` is JSON, else ``(False, None)``."""
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


@attrs.frozen
class ReplyShape:
    """The top-level JSON shape of one endpoint's reply.

    ccxt reads some bodies of the wrong shape as an empty result (a non-list trades body
    becomes ``[]``, an account body without ``balances`` no balances at all); declaring
    the shape lets the adapter tell "nothing" from "garbage". ``kind`` is ``list`` or
    ``dict``; ``fields`` are keys a ``dict`` reply must hold, with the type of each.
    """

    kind: type[list[Any]] | type[dict[str, Any]]
    fields: Mapping[str, type] = attrs.field(factory=dict)

    def mismatch(self, value: Any) -> str | None:
        """What is wrong with a parsed reply, or ``None`` when it has this shape."""
        if not isinstance(value, self.kind):
            return f"expected {_kind_of(self.kind())}, got {_kind_of(value)}"
        if isinstance(value, dict):
            for key, kind in self.fields.items():
                if not isinstance(value.get(key), kind):
                    found = _kind_of(value[key]) if key in value else "nothing"
                    return f"expected {key!r} to be {_kind_of(kind())}, got {found}"
        return None


LIST_REPLY = ReplyShape(list)
"""A reply that is a JSON list (trades, open orders, order history)."""


# ----- secrets in logs ------------------------------------------------------------------

# Names whose values are credentials: headers (X-MBX-APIKEY), query strings and form
# bodies (signature=..., apiKey=...), dict and JSON reprs ('secret': '...').
_SECRET_NAMES = (
    r"x-mbx-apikey|api[-_]?key|api[-_]?secret|secret(?:[-_]?key)?|signature|password"
    r"|passphrase|private[-_]?key|access[-_]?token|token|listen[-_]?key"
)
_SECRET_IN_QUERY = re.compile(rf"(?i)(?<![\w-])({_SECRET_NAMES})=([^&\s'\",;]+)")
_SECRET_IN_MAPPING = re.compile(rf"""(?i)(['"])({_SECRET_NAMES})\1(\s*:\s*)(['"])(.*?)(?<!\\)\4""")
_SECRET_IN_HEADER = re.compile(rf"(?im)^(\s*(?:{_SECRET_NAMES})\s*:\s*)(\S+)")
REDACTED = "***"


def redact_secrets(text: str) -> str:
    """``text`` with API keys, secrets and request signatures replaced by ``***``."""
    text = _SECRET_IN_QUERY.sub(rf"\1={REDACTED}", text)
    text = _SECRET_IN_MAPPING.sub(rf"\1\2\1\3\4{REDACTED}\4", text)
    return _SECRET_IN_HEADER.sub(rf"\1{REDACTED}", text)


class SecretRedactingFilter(logging.Filter):
    """Masks credentials in a log record before any handler sees it.

    ccxt logs every request at DEBUG with its headers (``X-MBX-APIKEY``) and its signed
    URL or body (``signature=...``); this filter rewrites the formatted message (and a
    traceback's text) through :func:`redact_secrets`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when a handler formats
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_secrets(logging.Formatter().formatException(record.exc_info))
        return True


# The logger ccxt writes requests to (ccxt.async_support's exchanges inherit it).
CCXT_LOGGERS = ("ccxt.base.exchange", "ccxt.async_support.base.exchange")
_REDACTING_FILTER = SecretRedactingFilter()


def install_log_redaction(*loggers: logging.Logger) -> None:
    """Add the one :class:`SecretRedactingFilter` to ccxt's loggers and to ``loggers``.

    Idempotent: ``Logger.addFilter`` adds the shared instance at most once per logger.
    """
    for logger in (*(logging.getLogger(name) for name in CCXT_LOGGERS), *loggers):
        logger.addFilter(_REDACTING_FILTER)


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


def _camel(method: str) -> str:
    head, *rest = method.split("_")
    return head + "".join(part.title() for part in rest)


def default_cache_dir() -> Path:
    """Where the SDK caches files: ``$EXSDK_CACHE_DIR``, else ``$XDG_CACHE_HOME/exsdk``,
    else ``~/.cache/exsdk``."""
    explicit = os.environ.get("EXSDK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "exsdk"


@attrs.frozen
class MarketsCache:
    """A JSON snapshot of one exchange's ccxt markets, so a restart does not reload them.

    The snapshot records the exchange id and the ccxt version that parsed it; a snapshot
    from another exchange, another ccxt version, or older than ``max_age`` is ignored.
    """

    path: Path = attrs.field(converter=Path)
    max_age: timedelta | None = timedelta(hours=24)

    def load(self, exchange_id: str) -> dict[str, Any] | None:
        """The cached markets, or ``None`` when missing, stale or unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
            return None
        if data.get("exchange") != exchange_id or data.get("ccxt") != ccxt_async.__version__:
            return None
        saved_at = data.get("saved_at")
        if not isinstance(saved_at, int | float):
            return None
        if self.max_age is not None and time.time() - saved_at > self.max_age.total_seconds():
            return None
        markets = data.get("markets")
        return markets if isinstance(markets, dict) and markets else None

    def save(self, exchange_id: str, markets: Mapping[str, Any]) -> None:
        """Write the snapshot atomically (a reader never sees half a file)."""
        payload = {
            "format": _CACHE_FORMAT,
            "exchange": exchange_id,
            "ccxt": ccxt_async.__version__,
            "saved_at": time.time(),
            "markets": markets,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, default=str)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _rewrite_urls(urls: Any, base_url: str) -> Any:
    """Every URL in ``urls`` (a string or nested dicts) moved to ``base_url``, path kept."""
    if isinstance(urls, str):
        parts = urlsplit(urls)
        return base_url + parts.path + (f"?{parts.query}" if parts.query else "")
    if isinstance(urls, dict):
        return {key: _rewrite_urls(value, base_url) for key, value in urls.items()}
    return urls


class CcxtAdapter(ExchangeAdapter):
    """An adapter over one ``ccxt.async_support`` exchange.

    Every ccxt request goes through :meth:`_call`, which translates ccxt and transport
    exceptions with :func:`sdk.errors.translate`. Subclasses declare ``name``,
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
    # The venue's order-count limits when nothing better is known (none: no pacing).
    order_limits: ClassVar[tuple[OrderLimit, ...]] = ()
    # ccxt method -> the JSON shape of its endpoint's reply, for the methods where ccxt
    # reads a reply of another shape as an empty result. Venue knowledge: adapters fill it.
    reply_shapes: ClassVar[Mapping[str, ReplyShape]] = {}
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
            from sdk.credentials import CredentialsError

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
        self._active: set[object] = set()
        self._tainted: set[object] = set()
        self._limits_cache: tuple[Mapping[str, Any], dict[str, MarketLimits]] | None = None
        self._markets_cache = self._resolve_cache(markets_cache)
        # The venue's order-count limits: declared, then learnt from exchangeInfo and -1015.
        self.order_pacer = OrderPacer(self.order_limits if order_limits is None else order_limits)
        # Building a ccxt exchange makes no request, so _check_exchange still runs first.
        self._exchange: Any = self._build_exchange(credentials, ccxt_options or {})
        if venue is Venue.SIM:
            # ccxt waits 250 ms on close for TLS shutdown; the simulator and replays are plain
            # HTTP, and the wait was most of a contract test's time.
            self._exchange.timeout_on_exit = 0
        # ccxt logs every request at DEBUG, API key header and signature included.
        own = getattr(self._exchange, "logger", None)  # a caller may pass its own logger
        install_log_redaction(*([own] if isinstance(own, logging.Logger) else []))
        self._check_exchange()

    # ----- construction hooks -------------------------------------------------------

    def _exchange_class(self) -> Any:
        """The ccxt.async_support class to instantiate."""
        return getattr(ccxt_async, self.exchange_id)

    def _venue_options(self, venue: Venue) -> dict[str, Any]:
        """Extra ccxt options for ``venue`` (futures silence the testnet deprecation)."""
        return {}

    def _check_exchange(self) -> None:
        """Called once the exchange exists, before any request; raise to refuse it."""

    def _build_exchange(self, credentials: Credentials | None, overrides: Mapping[str, Any]) -> Any:
        options: dict[str, Any] = dict(self.default_options)
        options.update(self._venue_options(self.venue))
        config: dict[str, Any] = {"enableRateLimit": True}
        for key, value in overrides.items():
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
            if self.venue is Venue.TESTNET:
                exchange.set_sandbox_mode(True)
            elif self.venue is Venue.DEMO:
                if "demo" not in exchange.urls:
                    raise CcxtNotSupported(f"{self.exchange_id} has no demo trading URL set")
                exchange.enable_demo_trading(True)
            elif self.venue is Venue.SIM:
                assert self._base_url is not None
                # ccxt builds request URLs from urls['api'] only, so moving every entry to
                # the simulator keeps paths (and ccxt's per-path behaviour) untouched.
                exchange.urls["api"] = _rewrite_urls(exchange.urls["api"], self._base_url)
        except CcxtNotSupported as exc:
            raise UnsupportedMethod(
                f"{self.name}: venue '{self.venue}' is not available: {exc}",
                missing={str(self.venue): "the venue's URL set"},
                exchange=self.exchange_id,
            ) from None
        return exchange

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

    # ----- the boundary -----------------------------------------------------------------

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call one ccxt method; the one place ccxt exceptions become SDK errors.

        A reply ccxt cannot parse (its parsers raise ``TypeError``, ``ValueError``, ...)
        and a reply of the wrong shape (see :attr:`reply_shapes`) are malformed replies:
        ``VenueRejected`` for JSON the venue sent, ``TransientVenueError`` for a body that
        is not JSON at all, ``OrderOutcomeUnknown`` for an order the venue may have placed.
        """
        token = object()
        if self._active:
            # Overlapping calls share ccxt's last_http_response; none of them may trust it.
            self._tainted.update(self._active)
            self._tainted.add(token)
        else:
            self._exchange.last_http_response = None
            self._exchange.last_response_headers = None
        self._active.add(token)
        try:
            result = await getattr(self._exchange, method)(*args, **kwargs)
            shape = self.reply_shapes.get(method)
            if shape is not None and token not in self._tainted:
                self._check_reply(method, shape)
            return result
        except SdkError:
            raise
        except (CcxtBaseError, aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            # ccxt drops the body from errors it matched by message text; it is only known
            # to be this call's body when no other call ran meanwhile.
            body = None if token in self._tainted else self._exchange.last_http_response
            error = self._translate(exc, method, body if isinstance(body, str) else None)
            trusted = token not in self._tainted
            if isinstance(error, RateLimited) and error.retry_after is None and trusted:
                error.retry_after = _retry_after(self._exchange.last_response_headers)
            await self._after_error(error)
            raise error from exc
        except _PARSER_ERRORS as exc:
            body = None if token in self._tainted else self._exchange.last_http_response
            if body is None and token not in self._tainted and self._records_replies():
                # No reply arrived: the error is in the request (ours or ccxt's), not the
                # venue's doing, and must not pass for one.
                raise
            error = self._malformed(
                method, f"{type(exc).__name__}: {exc}", body if isinstance(body, str) else None
            )
            await self._after_error(error)
            raise error from exc
        finally:
            self._active.discard(token)
            self._tainted.discard(token)

    def _records_replies(self) -> bool:
        return bool(getattr(self._exchange, "enableLastHttpResponse", False))

    def _check_reply(self, method: str, shape: ReplyShape) -> None:
        """Raise when this call's raw reply is not of ``shape`` (ccxt read it as empty)."""
        body = self._exchange.last_http_response
        if not isinstance(body, str) or not self._records_replies():
            return
        is_json, value = _json_of(body)
        problem = shape.mismatch(value) if is_json else "not JSON"
        if problem is not None:
            raise self._malformed(method, problem, body)

    def _malformed(self, method: str, detail: str, body: str | None) -> SdkError:
        """The error for a malformed reply to ``method``, with a one-line message.

        ``body`` is the raw reply when known to be this call's; a body that is not JSON at
        all (an HTML page, an empty or truncated reply) is a transport problem.
        """
        is_json = None if body is None else _json_of(body)[0]
        cls: type[SdkError]
        if method in _OUTCOME_UNKNOWN_ON_MALFORMED:
            cls = OrderOutcomeUnknown
        elif is_json is False:
            cls = TransientVenueError
        else:
            cls = VenueRejected
        what = "malformed reply" if is_json is not False else "unreadable reply"
        return cls(
            _one_line(f"{self.exchange_id} {method}: {what}: {detail}"),
            exchange=self.exchange_id,
            body=body[:2000] if body else None,
        )

    def _parse(self, method: str, parse: Callable[[Any], _T], raw: Any) -> _T:
        """Validate ccxt's result into a model; a malformed one names this exchange."""
        try:
            return parse(raw)
        except VenueRejected as exc:
            raise self._malformed(method, exc.message, None) from None
        except _PARSER_ERRORS as exc:  # e.g. ccxt handed back a raw body, not a list
            raise self._malformed(method, f"{type(exc).__name__}: {exc}", None) from None

    def _translate(self, exc: BaseException, method: str, body: str | None = None) -> SdkError:
        if isinstance(exc, CcxtNotSupported):
            name = _camel(method)
            return UnsupportedMethod(
                f"{self.exchange_id} does not support {name} here: {exc}",
                missing={name: METHOD_PURPOSES.get(name, f"{self.name}.{method}")},
                exchange=self.exchange_id,
            )
        if isinstance(exc, aiohttp.ClientError) and not isinstance(exc, ConnectionError):
            return TransientVenueError(f"{type(exc).__name__}: {exc}", exchange=self.exchange_id)
        return translate(exc, exchange=self.exchange_id, body=body)

    async def _after_error(self, error: SdkError) -> None:
        """Hook run after a translated error, before it is raised (Binance resyncs clocks).

        Subclasses call this first: a rate limit holds every order request for the
        venue's Retry-After, and a stated order limit (-1015) becomes the pacer's.
        """
        if isinstance(error, RateLimited):
            self.order_pacer.block_for(error.retry_after or 1.0)
            self.order_pacer.update(limits_from_message(f"{error.message} {error.body or ''}"))

    def _require(self, capability: str, method: str) -> None:
        if not self.capabilities.names().get(capability, False):
            raise UnsupportedMethod(
                f"{self.name} does not declare capability '{capability}'",
                missing={method: METHOD_PURPOSES.get(method, capability)},
                exchange=self.exchange_id,
            )

    # ----- client order ids (hooks) ---------------------------------------------------

    def validate_client_order_id(self, client_order_id: str) -> str:
        """The client order id if the venue accepts it, else ``InvalidOrderInput``."""
        if not client_order_id or not client_order_id.isprintable() or " " in client_order_id:
            raise InvalidOrderInput(
                f"client order id {client_order_id!r} must be non-empty printable text",
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
        from_cache = False
        if not reload and not self._exchange.markets and self._markets_cache is not None:
            cached = self._markets_cache.load(self.exchange_id)
            if cached is not None:
                # set_markets makes load_markets below return without any request.
                self._exchange.set_markets(cached)
                from_cache = True
        markets = await self._call("load_markets", reload)
        if not from_cache:
            # The one request load_markets makes here is exchangeInfo: it states the
            # account's order limits, which may be below the declared defaults.
            self._learn_order_limits(self._exchange.last_http_response)
        if self._markets_cache is not None and not from_cache and (reload or markets):
            try:
                self._markets_cache.save(self.exchange_id, markets)
            except OSError as exc:
                log.warning("cannot write markets cache %s: %s", self._markets_cache.path, exc)
        return self._typed_limits(markets)

    def _learn_order_limits(self, body: object) -> None:
        """Adopt the order limits an exchangeInfo body states (Binance's ``rateLimits``)."""
        if not isinstance(body, str) or '"rateLimits"' not in body:
            return
        try:
            info = json.loads(body)
        except ValueError:
            return
        if isinstance(info, dict):
            self.order_pacer.update(limits_from_rate_limits(info.get("rateLimits")))

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
        book = await self._call("fetch_order_book", symbol, self.order_book_depth)
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            raise VenueRejected(
                f"{symbol}: the book has no bid or no ask", exchange=self.exchange_id
            )
        try:
            return BidAsk(
                symbol=symbol,
                bid=bids[0][0],
                ask=asks[0][0],
                bid_size=bids[0][1],
                ask_size=asks[0][1],
                timestamp=book.get("timestamp"),
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            errors = exc.errors() if isinstance(exc, ValidationError) else None
            detail = f"{errors[0]['loc'][0]}: {errors[0]['msg']}" if errors else str(exc)
            raise self._malformed(
                "fetch_order_book", f"{symbol} order book: {detail}", None
            ) from None

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
        order_type = str(order_type).lower()
        if order_type == "market":
            self._require("market_orders", "createMarketOrder")
            price = None
        elif order_type == "limit":
            self._require("limit_orders", "createOrder")
            if price is None or price <= 0:
                raise InvalidOrderInput("a limit order needs a positive price", field="price")
        else:
            raise InvalidOrderInput(
                f"order type {order_type!r} is not 'market' or 'limit'", field="type"
            )
        if amount <= 0:
            raise InvalidOrderInput(
                "amount must be positive (the side gives the sign)", field="amount"
            )
        params = self._client_order_id_params(self.validate_client_order_id(client_order_id))
        if reduce_only:
            self._require("reduce_only", "reduceOnly")
            params["reduceOnly"] = True
        # Paced here, after every check: a refused order must not take a venue slot.
        await self.order_pacer.acquire()
        raw = await self._call(
            "create_order",
            symbol,
            order_type,
            Side(side).value,
            # ccxt takes floats; Decimal -> float happens here and only here.
            float(amount),
            None if price is None else float(price),
            params,
        )
        return self._parse("create_order", CcxtOrder.from_ccxt, raw)

    async def cancel_order(self, symbol: str, *, order_id: str) -> CcxtOrder:
        """Cancel one order; an order already gone raises ``OrderNotFound``."""
        self._require("cancel", "cancelOrder")
        raw = await self._call("cancel_order", order_id, symbol)
        return self._parse("cancel_order", CcxtOrder.from_ccxt, raw)

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> CcxtOrder:
        """One order by exchange id or by client order id (exactly one of them)."""
        if (order_id is None) == (client_order_id is None):
            raise InvalidOrderInput("give exactly one of order_id and client_order_id")
        if order_id is not None:
            raw = await self._call("fetch_order", order_id, symbol)
        else:
            assert client_order_id is not None
            self._require("fetch_by_client_order_id", "fetchOrders")
            raw = await self._fetch_raw_order_by_client_id(symbol, client_order_id)
        return self._parse("fetch_order", CcxtOrder.from_ccxt, raw)

    async def fetch_open_orders(self, symbol: str) -> list[CcxtOrder]:
        """Open orders of one symbol."""
        self._require("open_orders", "fetchOpenOrders")
        raw = await self._call("fetch_open_orders", symbol)
        return self._parse(
            "fetch_open_orders", lambda orders: [CcxtOrder.from_ccxt(o) for o in orders], raw
        )

    async def fetch_order_trades(self, symbol: str, *, order_id: str) -> list[CcxtTrade]:
        """The trades (partial fills) of one order, oldest first."""
        self._require("order_trades", "fetchMyTrades")
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
        raw = await self._call("fetch_positions", list(symbols) if symbols else None)
        return self._parse(
            "fetch_positions",
            lambda rows: [Position.from_ccxt(p) for p in rows if p.get("contracts")],
            raw,
        )

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        """Set the leverage of one symbol."""
        self._require("leverage", "setLeverage")
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise InvalidOrderInput(f"leverage must be a whole number >= 1, not {leverage!r}")
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


__all__ = [
    "CCXT_LOGGERS",
    "LIST_REPLY",
    "METHOD_PURPOSES",
    "REDACTED",
    "Capabilities",
    "CcxtAdapter",
    "ExchangeAdapter",
    "MarketsCache",
    "ReplyShape",
    "SecretRedactingFilter",
    "Venue",
    "default_cache_dir",
    "install_log_redaction",
    "redact_secrets",
]
