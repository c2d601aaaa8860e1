"""Secrets in logs: credentials masked before any handler sees a record.

The rule itself (which names are credentials, how their values are masked) is
:mod:`exsdk.redaction`, shared with error messages and the journal; this module only
attaches it to ccxt's loggers.
"""

from __future__ import annotations

import logging

from exsdk.redaction import REDACTED, redact_secrets

__all__ = [
    "CCXT_LOGGERS",
    "REDACTED",
    "SecretRedactingFilter",
    "install_log_redaction",
    "redact_secrets",
]


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
