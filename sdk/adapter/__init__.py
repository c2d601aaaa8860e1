"""The adapter base: the interface, the ccxt boundary and what it leans on.

One concern per module; the arrows point down this list and never back up:

- :mod:`~exsdk.adapter.venue`: where requests go (``Venue``).
- :mod:`~exsdk.adapter.credentials`: API keys bound to one venue.
- :mod:`~exsdk.adapter.base`: ``ExchangeAdapter`` (the interface) and ``Capabilities``.
- :mod:`~exsdk.adapter.replies`: the JSON shape an endpoint's reply must have.
- :mod:`~exsdk.adapter.arguments`: checks of what callers pass, before any request.
- :mod:`~exsdk.adapter.redaction`: credentials masked in every log record (the rule is
  :mod:`exsdk.redaction`, shared with errors and the journal).
- :mod:`~exsdk.adapter.markets_cache`: the markets snapshot on disk.
- :mod:`~exsdk.adapter.urls`: a ccxt exchange's URLs moved to the bundled venue.
- :mod:`~exsdk.adapter.pacing`: order pacing to the venue's limits.
- :mod:`~exsdk.adapter.ccxt_adapter`: ``CcxtAdapter``, the only caller of ccxt.

Names resolve lazily, so ``from exsdk.adapter import Venue`` does not import ccxt.
"""

from typing import TYPE_CHECKING

from exsdk._lazy import lazy_exports

if TYPE_CHECKING:
    from exsdk.adapter.base import METHOD_PURPOSES, Capabilities, ExchangeAdapter
    from exsdk.adapter.ccxt_adapter import CcxtAdapter
    from exsdk.adapter.credentials import Credentials, CredentialsError
    from exsdk.adapter.markets_cache import MarketsCache, default_cache_dir
    from exsdk.adapter.redaction import (
        CCXT_LOGGERS,
        REDACTED,
        SecretRedactingFilter,
        install_log_redaction,
        redact_secrets,
    )
    from exsdk.adapter.replies import LIST_REPLY, ReplyShape
    from exsdk.adapter.venue import Venue

_EXPORTS = {
    "CCXT_LOGGERS": "exsdk.adapter.redaction",
    "LIST_REPLY": "exsdk.adapter.replies",
    "METHOD_PURPOSES": "exsdk.adapter.base",
    "REDACTED": "exsdk.adapter.redaction",
    "Capabilities": "exsdk.adapter.base",
    "CcxtAdapter": "exsdk.adapter.ccxt_adapter",
    "Credentials": "exsdk.adapter.credentials",
    "CredentialsError": "exsdk.adapter.credentials",
    "ExchangeAdapter": "exsdk.adapter.base",
    "MarketsCache": "exsdk.adapter.markets_cache",
    "ReplyShape": "exsdk.adapter.replies",
    "SecretRedactingFilter": "exsdk.adapter.redaction",
    "Venue": "exsdk.adapter.venue",
    "default_cache_dir": "exsdk.adapter.markets_cache",
    "install_log_redaction": "exsdk.adapter.redaction",
    "redact_secrets": "exsdk.adapter.redaction",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "CCXT_LOGGERS",
    "LIST_REPLY",
    "METHOD_PURPOSES",
    "REDACTED",
    "Capabilities",
    "CcxtAdapter",
    "Credentials",
    "CredentialsError",
    "ExchangeAdapter",
    "MarketsCache",
    "ReplyShape",
    "SecretRedactingFilter",
    "Venue",
    "default_cache_dir",
    "install_log_redaction",
    "redact_secrets",
]
