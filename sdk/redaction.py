"""Credentials out of text and payloads: one rule for error messages, logs and the journal.

A name is a credential when, lower-cased and without ``-`` or ``_``, it is in
:data:`SECRET_KEYS` (``X-MBX-APIKEY``, ``api_key``, ``signature``, ...). :func:`redact_secrets`
masks the values such names carry in text (query strings and form bodies, dict and JSON
reprs, ``Name: value`` header lines); :func:`scrub` masks them in a payload's keys and, through
:func:`redact_secrets`, in its strings. :class:`~exsdk.errors.SdkError`, the adapter's log
filter (:mod:`exsdk.adapter.redaction`) and the journal all use these two, so a value masked in
one place is masked in every other.

This module sits below everything that uses it: it imports the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

__all__ = [
    "REDACTED",
    "SECRET_KEYS",
    "is_secret_key",
    "may_name_secret",
    "redact_secrets",
    "scrub",
]

REDACTED = "***"

# Names whose values are credentials, compared lower-cased and without - or _: headers
# (X-MBX-APIKEY), query and form fields (signature, apiKey), ccxt's config keys (secret,
# password, privateKey), and the headers and tokens other venues sign with: Bybit v5
# (X-BAPI-API-KEY, X-BAPI-SIGN), OKX (OK-ACCESS-KEY/-SIGN/-PASSPHRASE), Kraken (API-Sign),
# passphrase, listenKey.
SECRET_KEYS = frozenset(
    {
        "accesstoken",
        "apikey",
        "apisecret",
        "apisign",
        "listenkey",
        "okaccesskey",
        "okaccesspassphrase",
        "okaccesssign",
        "passphrase",
        "password",
        "privatekey",
        "secret",
        "secretkey",
        "signature",
        "token",
        "xbapiapikey",
        "xbapisign",
        "xmbxapikey",
    }
)


def _spellings(key: str) -> str:
    # Any spelling that normalises to ``key``: "api_key", "API-KEY", "apiKey".
    return "[-_]*".join(key)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The patterns that find credentials in text, compiled on first use: their
    case-insensitive alternations of every spelling take milliseconds to compile, and a
    process that only imports the SDK (the typed models) never masks anything."""
    # The same names as a pattern (case-insensitive), so text and keys follow one rule.
    names = "|".join(_spellings(key) for key in sorted(SECRET_KEYS))
    return (
        # name=value in a query string or form body.
        re.compile(rf"(?i)(?<![\w-])({names})=([^&\s'\",;]+)"),
        # 'name': 'value' or "name": "value" in a dict or JSON repr.
        re.compile(rf"""(?i)(['"])({names})\1(\s*:\s*)(['"])(.*?)(?<!\\)\4"""),
        # Name: value, as in a header line or a message ("X-MBX-APIKEY: ...", 'signature: "..."').
        re.compile(rf"""(?i)(?<![\w'"-])({names})(\s*:[ \t]*"?)([^&\s",}}]+)"""),
    )


@lru_cache(maxsize=1024)
def is_secret_key(name: str) -> bool:
    """Whether a field, header or query name carries a credential (``X-MBX-APIKEY``, ...)."""
    # Payload keys repeat endlessly (price, qty, ...): each name is decided once.
    return name.lower().replace("-", "").replace("_", "") in SECRET_KEYS


# Parts at least one of which every credential name holds ("apikey" and "listenkey"
# hold "key", "apisign" and "signature" "sign"): a text holds some spelling of a
# credential name only if, folded as is_secret_key folds names, it holds one of them.
# Five scans of a reply instead of one per name: "key" or "sign" in a text that names no
# credential only sends it the slow way, never lets a credential through.
_NAME_PARTS = ("key", "pass", "secret", "sign", "token")


def may_name_secret(text: str) -> bool:
    """Whether ``text`` might name a credential; ``False`` means it names none.

    A quick, looser form of the rule (substring tests, no patterns): when it says
    ``False``, :func:`redact_secrets` leaves ``text`` as it is, and :func:`scrub` leaves as
    it is every payload whose JSON is ``text``. Beyond ASCII case folding has exceptions
    (the Kelvin sign lower-cases to ``k``), and a JSON ``\\u`` escape may stand for any
    character: such text always might.
    """
    if not text.isascii() or ("\\" in text and "\\u" in text):
        return True
    folded = text.lower()
    if "-" in folded or "_" in folded:
        folded = folded.replace("-", "").replace("_", "")
    return any(part in folded for part in _NAME_PARTS)


def redact_secrets(text: str) -> str:
    """``text`` with API keys, secrets and request signatures replaced by ``***``."""
    # Most text has neither "=" nor ":", and so no place a secret could be named; most
    # of the rest names no credential at all (a venue's reply, a timestamp).
    if ("=" not in text and ":" not in text) or not may_name_secret(text):
        return text
    return _redact(text)


def _redact(text: str) -> str:
    """The patterns themselves, on any text (:func:`redact_secrets` without its shortcuts)."""
    in_query, in_mapping, in_header = _patterns()
    text = in_query.sub(rf"\1={REDACTED}", text)
    text = in_mapping.sub(rf"\1\2\1\3\4{REDACTED}\4", text)
    return in_header.sub(rf"\1\2{REDACTED}", text)


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every credential masked: by key, and in every string."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return redact_secrets(value)
    return value
