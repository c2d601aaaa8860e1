"""Reply validation: the JSON shape an endpoint must answer with.

ccxt reads some bodies of the wrong shape as an empty result; declared shapes let the
boundary tell "nothing" from "garbage".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from exsdk._value import Value

_orjson: Any
try:  # ccxt installs orjson on CPython (and parses every reply with it)
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library alone
    _orjson = None


# What ccxt's parsers raise on a reply of the wrong shape or types (``int("NaN")``,
# ``"x" in 5``, ``"".keys()``). Control flow (CancelledError, KeyboardInterrupt) and test
# machinery (vcrpy's cassette misses) are other types and pass through untouched.
PARSER_ERRORS: tuple[type[Exception], ...] = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# 19 digits can exceed a signed 64-bit integer (-9999999999999999999); 18 never do. Found
# as a run of zeros once every digit is one (a byte translation and a substring search
# in C: about a microsecond for an order reply; a regular expression takes ten).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def _has_long_digit_run(body: str) -> bool:
    return _LONG_RUN in body.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)


def json_of(body: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``body`` is JSON, else ``(False, None)``.

    orjson first (the create reply's shape is checked on every order: the standard
    library's decoder cost it several times ccxt's own parse); whatever orjson refuses
    (``NaN``, nesting past its limit) is left to the standard library, and so is a body
    with a run of 19 digits or more, where orjson would read an integer past 64 bits as
    a float (an ``orderId`` that is an ``int`` must stay one). The value is the one
    ``json.loads`` gives, and what counts as JSON is what it accepts, as before (tested
    on the recorded venue bodies and the edge cases).
    """
    if _orjson is not None and not _has_long_digit_run(body):
        try:
            return True, _orjson.loads(body)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            pass
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


@attrs.frozen(repr=False, eq=False)
class ReplyShape(Value):
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
