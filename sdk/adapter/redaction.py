"""Secrets in logs: credentials masked before any handler sees a record."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


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
