"""One error tree for the SDK, and the table that translates ccxt exceptions into it.

Callers catch errors by meaning (``LiquidityRejected``, ``RateLimited``), never by ccxt
class. ccxt exceptions are translated at the adapter boundary with :func:`translate`;
nothing ccxt raises escapes it. Which errors are retried, and how, is
:data:`RETRY_POLICY`, the one table the broker reads.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from exsdk.redaction import redact_secrets

__all__ = [
    "RETRY_POLICY",
    "AuthenticationFailed",
    "BelowMinimum",
    "ClockSkew",
    "InsufficientFunds",
    "InvalidOrderInput",
    "JournalUnavailable",
    "LiquidityRejected",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "RateLimited",
    "Request",
    "RetryKind",
    "RetryRule",
    "RunLeased",
    "RunNotReconciled",
    "SdkError",
    "TransientVenueError",
    "UnsupportedMethod",
    "VenueRejected",
    "binance_error_code",
    "is_documented_rejection",
    "retry_rule_for",
    "stops_run",
    "translate",
]


class SdkError(Exception):
    """Base of every error the SDK raises; carries what the venue said, when it said it."""

    def __init__(
        self,
        message: str,
        *,
        exchange: str | None = None,
        code: int | None = None,
        body: str | None = None,
    ) -> None:
        # Every message and body is redacted here, once for all raisers: a signed request
        # that failed in transit is named by its URL, signature and all.
        message = redact_secrets(message)
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.code = code
        self.body = None if body is None else redact_secrets(body)

    def __str__(self) -> str:
        where = f"[{self.exchange}] " if self.exchange else ""
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{where}{self.message}{code}"


class AuthenticationFailed(SdkError):
    """The venue refused the credentials (unknown key, bad signature, no permission)."""


class UnsupportedMethod(SdkError):
    """The exchange lacks ccxt methods the SDK needs; ``missing`` maps each to its users."""

    def __init__(self, message: str, *, missing: Mapping[str, str], exchange: str | None = None):
        super().__init__(message, exchange=exchange)
        self.missing = dict(missing)


class InvalidOrderInput(SdkError):
    """Bad order text or values, found before anything was sent."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        parts = [p for p in (source, f"line {line}" if line else None) if p]
        where = ":".join(parts)
        prefix = f"{where}: " if where else ""
        field_part = f"field '{field}': " if field else ""
        super().__init__(f"{prefix}{field_part}{message}")
        self.line = line
        self.field = field
        self.source = source


class VenueRejected(SdkError):
    """The venue refused the request for a reason that retrying will not change."""


class BelowMinimum(VenueRejected):
    """The order is below the venue's minimum amount or notional."""


class LiquidityRejected(VenueRejected):
    """Binance -4131: the best counter price is outside the PERCENT_PRICE band."""


class InsufficientFunds(VenueRejected):
    """Not enough balance or margin for the order."""


class OrderNotFound(VenueRejected):
    """The venue has no order with that id or client order id."""


class TransientVenueError(SdkError):
    """A failure that may pass: 5xx, a timeout, a dropped connection, maintenance."""


class RateLimited(TransientVenueError):
    """HTTP 429/418 or -1003/-1015; ``retry_after`` is the venue's wait in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ClockSkew(TransientVenueError):
    """Binance -1021: the request timestamp is outside recvWindow; resync, then retry."""


class OrderOutcomeUnknown(TransientVenueError):
    """The request may or may not have placed an order (-1007, a reply lost after sending)."""


class JournalUnavailable(SdkError):
    """The journal cannot be written (read-only, disk full, locked past its timeout,
    corrupt): the run stops before its next request, since an unjournaled send could
    not be resumed."""


class RunLeased(SdkError):
    """Another live process holds the run's lease (``holder`` says which)."""

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class RunNotReconciled(SdkError):
    """The run's journal and the venue disagree, or a child is still in doubt: the run
    is not finished (resume it once the venue answers)."""


class RetryKind(enum.Enum):
    """How the broker treats an error."""

    NEVER = "never"
    BACKOFF = "backoff"
    AFTER_RETRY_AFTER = "after-retry-after"
    AFTER_CLOCK_SYNC = "after-clock-sync"
    LOOKUP_THEN_RESEND = "lookup-then-resend"


@attrs.frozen
class RetryRule:
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

_CODE_RE = re.compile(r'"code"\s*:\s*(-?\d+)')
_JSON_RE = re.compile(r"\{.*\}", re.DOTALL)


def binance_error_code(text: str) -> int | None:
    """The Binance ``code`` inside an error text or body, if there is one."""
    match = _CODE_RE.search(text)
    return int(match.group(1)) if match else None


def _body_of(text: str) -> str | None:
    match = _JSON_RE.search(text)
    if match is None:
        return None
    try:
        json.loads(match.group(0))
    except (ValueError, RecursionError):
        return None
    return match.group(0)


def _class_for(exc: BaseException, code: int | None, text: str) -> type[SdkError]:
    if code is not None:
        if code in _BINANCE_CODES:
            return _BINANCE_CODES[code]
        if code == -1013 and _BELOW_MINIMUM_RE.search(text):
            return BelowMinimum
    names = [cls.__name__ for cls in type(exc).__mro__]
    for ccxt_name, sdk_cls in _CCXT_CLASSES:
        if ccxt_name in names:
            return sdk_cls
    if isinstance(exc, TimeoutError | ConnectionError):
        return TransientVenueError
    return VenueRejected


# Binance's "10xx general server or network issues" that are refusals of the request
# itself; the rest of that band (and any code not documented) says nothing certain.
_GENERAL_REJECTIONS = frozenset({-1002, -1010, -1013, -1014, -1020, -1100})


def is_documented_rejection(code: int | None) -> bool:
    """Whether a Binance error code is one the venue documents as refusing the request
    (so an order it answers was not placed): the 11xx request issues, the 20xx
    processing issues, the futures 4xxx/5xxx order and filter codes, and a few 10xx."""
    if code is None:
        return False
    if code in _BINANCE_CODES:
        return issubclass(_BINANCE_CODES[code], VenueRejected | AuthenticationFailed)
    if -1099 <= code <= -1000:
        return code in _GENERAL_REJECTIONS
    return -5999 <= code <= -1100


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

    The Binance ``code`` in the body decides first, since ccxt maps the same code to
    different classes by host (-4131 is ``OperationRejected`` on fapi and
    ``ExchangeError`` on spot); ccxt's class decides otherwise.

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
    code = binance_error_code(found) if found else None
    cls = _class_for(exc, code, f"{text} {found or ''}")
    if request is not None:
        if issubclass(cls, VenueRejected) and not is_documented_rejection(code):
            cls = OrderOutcomeUnknown if request == "create" else TransientVenueError
        elif request == "create" and cls is TransientVenueError:
            # A create that met a 5xx or a dropped connection may have been executed.
            cls = OrderOutcomeUnknown
    # One line: a venue's HTML or pretty-printed body must not split a log or journal line.
    one_line = " ".join(text.split())
    message = one_line if len(one_line) <= 500 else one_line[:500] + "..."
    if not message:
        message = f"{type(exc).__name__} (no message)"
    if cls is UnsupportedMethod:
        return UnsupportedMethod(message, missing={}, exchange=exchange)
    if cls is RateLimited:
        return RateLimited(message, exchange=exchange, code=code, body=found)
    return cls(message, exchange=exchange, code=code, body=found)
