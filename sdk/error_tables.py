"""The tables over the SDK's error tree (:mod:`exsdk.errors`): how a ccxt exception or a
venue's error code becomes an SDK error, and what is retried.

ccxt exceptions are translated at the adapter boundary with :func:`translate`; nothing ccxt
raises escapes it. Which errors are retried, and how, is :data:`RETRY_POLICY`, the one table
the broker reads. Apart from the tree so that a user of the typed models, which raise the
tree's errors, does not build these tables (issue 18 goal 3b).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from typing import Literal, NamedTuple

from exsdk.errors import (
    AuthenticationFailed,
    BelowMinimum,
    ClockSkew,
    InsufficientFunds,
    JournalUnavailable,
    LiquidityRejected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
)

__all__ = [
    "BINANCE_CODES",
    "BYBIT_CODES",
    "RETRY_POLICY",
    "VENUE_CODE_TABLES",
    "Request",
    "RetryKind",
    "RetryRule",
    "VenueCodeTable",
    "binance_error_code",
    "code_table_for",
    "is_documented_rejection",
    "retry_rule_for",
    "stops_run",
    "translate",
]


class RetryKind(enum.Enum):
    """How the broker treats an error."""

    NEVER = "never"
    BACKOFF = "backoff"
    AFTER_RETRY_AFTER = "after-retry-after"
    AFTER_CLOCK_SYNC = "after-clock-sync"
    LOOKUP_THEN_RESEND = "lookup-then-resend"


# Named tuples, not attrs or dataclasses, for the two value classes here: every model
# imports this module, and a named tuple is built from one small template where a frozen
# dataclass compiles each of its methods (about 10x the time, issue 18 goal 3). Read-only
# rows either way; a named tuple also compares equal to a plain tuple of its fields.
class RetryRule(NamedTuple):
    """One row of the retry table."""

    kind: RetryKind
    max_attempts: int
    reason: str


# The one table of what is retried. Order matters: the most specific class first.
RETRY_POLICY: tuple[tuple[type[SdkError], RetryRule], ...] = (
    (ClockSkew, RetryRule(RetryKind.AFTER_CLOCK_SYNC, 3, "resync the clock, then resend")),
    # A 429/418 says "not now", not "no": the request waits the venue's Retry-After (wall
    # time; the adapter's pacer holds every request meanwhile) and is resent, many times
    # over before a child is given up unsent.
    (RateLimited, RetryRule(RetryKind.AFTER_RETRY_AFTER, 20, "wait as the venue says")),
    (
        OrderOutcomeUnknown,
        RetryRule(RetryKind.LOOKUP_THEN_RESEND, 5, "look up by client id before any resend"),
    ),
    (
        TransientVenueError,
        RetryRule(RetryKind.LOOKUP_THEN_RESEND, 5, "back off; look up orders before resend"),
    ),
    (VenueRejected, RetryRule(RetryKind.NEVER, 1, "the venue said no; record it")),
    (AuthenticationFailed, RetryRule(RetryKind.NEVER, 1, "credentials are wrong; stop the run")),
    (JournalUnavailable, RetryRule(RetryKind.NEVER, 1, "nothing may be sent unjournaled; stop")),
    (SdkError, RetryRule(RetryKind.NEVER, 1, "not a venue failure")),
)


# Errors after which no child of the run may be sent: every other child would meet them
# too (wrong credentials) or could not be journaled (the journal is gone).
_STOPS_RUN: tuple[type[SdkError], ...] = (AuthenticationFailed, JournalUnavailable)


def stops_run(error: BaseException) -> bool:
    """Whether ``error`` ends the whole run rather than one child."""
    return isinstance(error, _STOPS_RUN)


def retry_rule_for(error: SdkError) -> RetryRule:
    """The retry rule for an error, from :data:`RETRY_POLICY`."""
    for cls, rule in RETRY_POLICY:
        if isinstance(error, cls):
            return rule
    raise AssertionError("RETRY_POLICY ends with SdkError")  # pragma: no cover


# Binance error codes whose meaning is precise enough to decide the SDK class alone.
_BINANCE_CODES: Mapping[int, type[SdkError]] = {
    -4131: LiquidityRejected,
    -1021: ClockSkew,
    -1003: RateLimited,
    -1015: RateLimited,
    -1007: OrderOutcomeUnknown,
    -1006: OrderOutcomeUnknown,
    -1001: TransientVenueError,
    -1000: TransientVenueError,
    -1008: TransientVenueError,
    -2015: AuthenticationFailed,
    -2014: AuthenticationFailed,
    -1022: AuthenticationFailed,
    -2019: InsufficientFunds,
    -4164: BelowMinimum,
    -2011: OrderNotFound,
    -2013: OrderNotFound,
    # ccxt's spot table maps -2022 to BadResponse (a transport-level class), but the venue
    # answered on purpose: the order was refused and retrying will not change that.
    -2022: VenueRejected,
}

# -1013 is a filter failure; which filter says whether the order is simply too small.
# The name must end there: "NOTIONAL" but not some future "NOTIONAL_X".
_BELOW_MINIMUM_RE = re.compile(r"Filter failure: (?:MIN_)?NOTIONAL(?![A-Z_])")

# Binance's "10xx general server or network issues" that are refusals of the request
# itself; the rest of that band (and any code not documented) says nothing certain.
_GENERAL_REJECTIONS = frozenset({-1002, -1010, -1013, -1014, -1020, -1100})


def _binance_documented(code: int) -> bool:
    # The 11xx request issues, the 20xx processing issues, the futures 4xxx/5xxx order
    # and filter codes, and a few 10xx.
    if -1099 <= code <= -1000:
        return code in _GENERAL_REJECTIONS
    return -5999 <= code <= -1100


# Bybit v5 retCodes (Bybit's error table and ccxt 4.5.90's bybit.py, both in
# /work/shared/data/bybit_samples/bybit_errors.json); the SDK's classes decide where ccxt
# says only InvalidOrder or BadRequest.
_BYBIT_CODES: Mapping[int, type[SdkError]] = {
    10002: ClockSkew,  # the timestamp is outside recv_window
    10003: AuthenticationFailed,  # API key is invalid
    10004: AuthenticationFailed,  # error sign
    10005: AuthenticationFailed,  # permission denied
    10010: AuthenticationFailed,  # unmatched IP
    10006: RateLimited,  # too many visits (the per-endpoint UID limit)
    10018: RateLimited,  # the IP limit
    10016: TransientVenueError,  # system error / request timeout: the outcome is open
    170007: OrderOutcomeUnknown,  # timeout waiting for the backend
    110001: OrderNotFound,
    170213: OrderNotFound,
    110004: InsufficientFunds,
    110007: InsufficientFunds,
    110012: InsufficientFunds,
    170131: InsufficientFunds,
    110094: BelowMinimum,  # order value below the symbol's minNotionalValue (linear)
    170136: BelowMinimum,  # quantity below minOrderQty (spot)
    170140: BelowMinimum,  # value below minOrderAmt (spot)
    # The price band: an order priced (or, on linear, a market order whose best counter
    # price lies) outside the range the venue allows around the mark. Binance's -4131
    # plays this role; the meaning is the same, so the class is.
    110003: LiquidityRejected,
    170193: LiquidityRejected,
    170194: LiquidityRejected,
    170371: LiquidityRejected,
    170372: LiquidityRejected,
    110017: VenueRejected,  # reduce-only rule not satisfied
    110043: VenueRejected,  # leverage not modified
}

# 10001 is Bybit's "params error"; its text says when the quantity is below the minimum.
_BYBIT_BELOW_MINIMUM_RE = re.compile(r"exceeds minimum limit allowed")
# In Bybit's order bands (110xxx UTA/contract, 170xxx spot) these do not refuse the
# request: internal error, backend timeout, create/cancel failed, still processing.
_BYBIT_NOT_REJECTIONS = frozenset({170001, 170007, 170149, 170150, 110079})


def _bybit_documented(code: int) -> bool:
    if code in _BYBIT_NOT_REJECTIONS:
        return False
    return code == 10001 or 110001 <= code <= 110999 or 170001 <= code <= 170999


class VenueCodeTable(NamedTuple):
    """How one venue family's error bodies are read: where the code is, which SDK class
    a code (or a code and its text) means, and which codes are documented refusals."""

    family: str
    exchanges: frozenset[str]
    code_re: re.Pattern[str]
    classes: Mapping[int, type[SdkError]]
    by_text: tuple[tuple[int, re.Pattern[str], type[SdkError]], ...]
    documented: Callable[[int], bool]
    success: frozenset[int] = frozenset()

    def code_of(self, text: str) -> int | None:
        """The venue's error code in ``text`` (a success code is none)."""
        match = self.code_re.search(text)
        if match is None:
            return None
        code = int(match.group(1))
        return None if code in self.success else code

    def class_of(self, code: int, text: str) -> type[SdkError] | None:
        """The SDK class ``code`` decides alone, or with its message; else ``None``."""
        if code in self.classes:
            return self.classes[code]
        for known, pattern, cls in self.by_text:
            if code == known and pattern.search(text):
                return cls
        return None

    def is_documented_rejection(self, code: int | None) -> bool:
        """Whether the venue documents ``code`` as refusing the request (nothing placed)."""
        if code is None:
            return False
        if code in self.classes:
            return issubclass(self.classes[code], VenueRejected | AuthenticationFailed)
        return self.documented(code)


BINANCE_CODES = VenueCodeTable(
    family="binance",
    exchanges=frozenset({"binance", "binanceusdm", "binancecoinm", "binanceus"}),
    code_re=re.compile(r'"code"\s*:\s*(-?\d+)'),
    classes=_BINANCE_CODES,
    by_text=((-1013, _BELOW_MINIMUM_RE, BelowMinimum),),
    documented=_binance_documented,
)
BYBIT_CODES = VenueCodeTable(
    family="bybit",
    exchanges=frozenset({"bybit"}),
    code_re=re.compile(r'"retCode"\s*:\s*"?(-?\d+)'),
    classes=_BYBIT_CODES,
    by_text=((10001, _BYBIT_BELOW_MINIMUM_RE, BelowMinimum),),
    documented=_bybit_documented,
    success=frozenset({0}),
)
VENUE_CODE_TABLES: tuple[VenueCodeTable, ...] = (BINANCE_CODES, BYBIT_CODES)
"""Every venue family's code table; an exchange in none is read with Binance's (the
SDK's first family: its ``{"code": -N}`` bodies are also what generic venues' tests use)."""


def code_table_for(exchange: str | None) -> VenueCodeTable:
    """The code table of the family ``exchange`` (a ccxt id) belongs to."""
    for table in VENUE_CODE_TABLES:
        if exchange in table.exchanges:
            return table
    return BINANCE_CODES


# ccxt's exception classes, most specific first; matched by class name along the MRO so
# this module does not need ccxt's types at import time.
_CCXT_CLASSES: tuple[tuple[str, type[SdkError]], ...] = (
    ("AuthenticationError", AuthenticationFailed),
    ("PermissionDenied", AuthenticationFailed),
    ("AccountSuspended", AuthenticationFailed),
    ("NotSupported", UnsupportedMethod),
    ("InsufficientFunds", InsufficientFunds),
    ("OrderNotFound", OrderNotFound),
    ("InvalidNonce", ClockSkew),
    ("RateLimitExceeded", RateLimited),
    ("DDoSProtection", RateLimited),
    ("RequestTimeout", OrderOutcomeUnknown),
    ("ExchangeNotAvailable", TransientVenueError),
    ("OnMaintenance", TransientVenueError),
    ("NetworkError", TransientVenueError),
    ("BadResponse", TransientVenueError),
    ("NullResponse", TransientVenueError),
    ("ExchangeError", VenueRejected),
    # ccxt: "the operation failed for reasons unrelated to the request" (-1001 and the
    # like); NetworkError derives from it and is matched above.
    ("OperationFailed", TransientVenueError),
    ("BaseError", VenueRejected),
)

_JSON_RE = re.compile(r"\{.*\}", re.DOTALL)


def binance_error_code(text: str) -> int | None:
    """The Binance ``code`` inside an error text or body, if there is one."""
    return BINANCE_CODES.code_of(text)


def _body_of(text: str) -> str | None:
    match = _JSON_RE.search(text)
    if match is None:
        return None
    try:
        json.loads(match.group(0))
    except (ValueError, RecursionError):
        return None
    return match.group(0)


def _class_for(
    exc: BaseException, code: int | None, text: str, table: VenueCodeTable
) -> type[SdkError]:
    if code is not None:
        decided = table.class_of(code, text)
        if decided is not None:
            return decided
    names = [cls.__name__ for cls in type(exc).__mro__]
    for ccxt_name, sdk_cls in _CCXT_CLASSES:
        if ccxt_name in names:
            return sdk_cls
    if isinstance(exc, TimeoutError | ConnectionError):
        return TransientVenueError
    return VenueRejected


def _is_venue_error(exc: BaseException) -> bool:
    """Whether ``exc`` is ccxt's or the transport's (else: an adapter's own bug)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return (
        type(exc).__module__.startswith(("ccxt", "aiohttp"))
        or any(ccxt_name in names for ccxt_name, _ in _CCXT_CLASSES)
        or isinstance(exc, TimeoutError | ConnectionError | OSError)
    )


def is_documented_rejection(code: int | None, exchange: str | None = None) -> bool:
    """Whether an error code of ``exchange``'s family (Binance's by default) is one the
    venue documents as refusing the request, so an order it answers was not placed."""
    return code_table_for(exchange).is_documented_rejection(code)


Request = Literal["create", "read"]
"""What a request that left for the venue was: one that may place an order, or not."""


def translate(
    exc: BaseException,
    *,
    exchange: str | None = None,
    body: str | None = None,
    request: Request | None = None,
) -> SdkError:
    """Translate a ccxt (or transport) exception into the SDK's tree.

    The venue family's code table (:func:`code_table_for` ``exchange``: Binance's
    ``code``, Bybit's ``retCode``) decides first, since ccxt maps the same code to
    different classes by host (-4131 is ``OperationRejected`` on fapi and
    ``ExchangeError`` on spot) and Bybit's to InvalidOrder/BadRequest wholesale; ccxt's
    class decides otherwise.

    ccxt puts the response body in the message for most errors, but not for those it
    matched by message text (``"binance Account has insufficient balance ..."``); pass
    ``body`` (the reply to this very request) so the code is known for those too.

    **Default unknown.** ``request`` says that a request left for the venue (``None``:
    not known). Then a refusal is only a refusal when the venue said so in a
    well-formed error body with a documented rejection code: anything else (a body cut
    after its headers, a proxy's page, an undocumented code) is an unknown outcome
    (``OrderOutcomeUnknown``) for a ``create`` and a transient failure for a ``read``.
    """
    if isinstance(exc, SdkError):
        return exc
    text = str(exc)
    found = _body_of(text)
    if body is not None and _body_of(body) is not None:
        found = _body_of(body)
    table = code_table_for(exchange)
    code = table.code_of(found) if found else None
    cls = _class_for(exc, code, f"{text} {found or ''}", table)
    if request is not None:
        if issubclass(cls, VenueRejected) and not table.is_documented_rejection(code):
            cls = OrderOutcomeUnknown if request == "create" else TransientVenueError
        elif request == "create" and cls is TransientVenueError:
            # A create that met a 5xx or a dropped connection may have been executed.
            cls = OrderOutcomeUnknown
    # One line: a venue's HTML or pretty-printed body must not split a log or journal line.
    one_line = " ".join(text.split())
    message = one_line if len(one_line) <= 500 else one_line[:500] + "..."
    if not message:
        message = f"{type(exc).__name__} (no message)"
    elif not _is_venue_error(exc):
        # Not ccxt's nor the transport's: a bug in an adapter, named as such.
        message = f"{type(exc).__name__} in the adapter, not from the venue: {message}"
    if cls is UnsupportedMethod:
        return UnsupportedMethod(message, missing={}, exchange=exchange)
    if cls is RateLimited:
        return RateLimited(message, exchange=exchange, code=code, body=found)
    return cls(message, exchange=exchange, code=code, body=found)
