"""One error tree for the SDK: callers catch errors by meaning (``LiquidityRejected``,
``RateLimited``), never by ccxt class.

The tables over it are :mod:`exsdk.error_tables`: how ccxt exceptions and venue codes are
translated into the tree (:func:`translate`, at the adapter boundary; nothing ccxt raises
escapes it) and which errors are retried, and how (:data:`RETRY_POLICY`, the one table the
broker reads). Their names resolve here too, on first use (:mod:`exsdk._lazy`): the typed
models need the tree, not the tables (issue 18 goal 3b).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from exsdk._lazy import lazy_exports
from exsdk.redaction import redact_secrets

if TYPE_CHECKING:
    from exsdk.error_tables import (
        BINANCE_CODES,
        BYBIT_CODES,
        RETRY_POLICY,
        VENUE_CODE_TABLES,
        Request,
        RetryKind,
        RetryRule,
        VenueCodeTable,
        binance_error_code,
        code_table_for,
        is_documented_rejection,
        retry_rule_for,
        stops_run,
        translate,
    )

__all__ = [
    "BINANCE_CODES",
    "BYBIT_CODES",
    "RETRY_POLICY",
    "VENUE_CODE_TABLES",
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
    "VenueCodeTable",
    "VenueRejected",
    "binance_error_code",
    "code_table_for",
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
        self.detail = message  # without the place: for callers that name it their own way
        self.line = line
        self.field = field
        self.source = source


class VenueRejected(SdkError):
    """The venue refused the request for a reason that retrying will not change."""


class BelowMinimum(VenueRejected):
    """The order is below the venue's minimum amount or notional."""


class LiquidityRejected(VenueRejected):
    """The price band: Binance -4131 (the best counter price is outside PERCENT_PRICE),
    Bybit 110003 / 170193 / 170194 / 170371 / 170372 (the order's price, or a linear
    market order's best counter price, outside the allowed range)."""


class InsufficientFunds(VenueRejected):
    """Not enough balance or margin for the order."""


class OrderNotFound(VenueRejected):
    """The venue has no order with that id or client order id."""


class TransientVenueError(SdkError):
    """A failure that may pass: 5xx, a timeout, a dropped connection, maintenance."""


class RateLimited(TransientVenueError):
    """HTTP 429/418, Binance's -1003/-1015, Bybit's 10006; ``retry_after`` is the venue's
    wait in seconds (``None`` when it names none)."""

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


_EXPORTS = {
    "BINANCE_CODES": "exsdk.error_tables",
    "BYBIT_CODES": "exsdk.error_tables",
    "RETRY_POLICY": "exsdk.error_tables",
    "Request": "exsdk.error_tables",
    "RetryKind": "exsdk.error_tables",
    "RetryRule": "exsdk.error_tables",
    "VENUE_CODE_TABLES": "exsdk.error_tables",
    "VenueCodeTable": "exsdk.error_tables",
    "binance_error_code": "exsdk.error_tables",
    "code_table_for": "exsdk.error_tables",
    "is_documented_rejection": "exsdk.error_tables",
    "retry_rule_for": "exsdk.error_tables",
    "stops_run": "exsdk.error_tables",
    "translate": "exsdk.error_tables",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
