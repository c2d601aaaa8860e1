"""The seed's ``Order: key=value ...`` text format, both ways, without ``eval``.

One order is ``Order:`` followed by ``key=value`` pairs::

    Order: order_id=0 creation_timestamp=2022-08-05 10:36:44.976104-04:00 asset_id=1464553467
    type_=price@twap start_timestamp=... end_timestamp=... curr_num_shares=0.0
    diff_num_shares=0.121 tz=America/New_York

An order starts at a line beginning with ``Order:`` and runs to the next such line, so both
the one-order-per-line file (``examples/default_orders.txt``) and the seed's block, where
orders wrap across lines with blank lines between them, parse. Values may contain spaces
(timestamps do): a value runs until whitespace followed by ``identifier=``. The optional
``extra_params`` value is a JSON object, read with a JSON decoder so that it may contain
anything. Every failure is an :class:`~exsdk.errors.InvalidOrderInput` naming the line and
the field; nothing else escapes for any input string.
"""

from __future__ import annotations

import bisect
import json
import re
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from exsdk.errors import InvalidOrderInput
from exsdk.models.oms import MAX_ID, Order

__all__ = [
    "FIELDS",
    "MAX_FILE_BYTES",
    "format_orders",
    "load_orders",
    "parse_orders",
    "quote_value",
]

FIELDS: tuple[str, ...] = (
    "order_id",
    "creation_timestamp",
    "asset_id",
    "type_",
    "start_timestamp",
    "end_timestamp",
    "curr_num_shares",
    "diff_num_shares",
    "tz",
)
"""The required keys, in the order :func:`format_orders` writes them."""

_OPTIONAL = ("extra_params",)
_KNOWN = frozenset(FIELDS + _OPTIONAL)

_PREFIX = "Order:"
_ORDER_START = re.compile(r"^[ \t]*Order:", re.MULTILINE)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
# Whitespace followed by ``identifier=`` ends a value; anything else (the time part of a
# timestamp, a wrapped line) belongs to it.
_VALUE_END = re.compile(r"\s+(?=[A-Za-z_][A-Za-z0-9_]*=)")
_INT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TOKEN = re.compile(r"[A-Za-z0-9_@.+\-/]+")
# Quantities beyond this many powers of ten either way are typos, and an unbounded
# exponent would make formatting allocate gigabytes.
_MAX_EXPONENT = 30
_ZONES = zoneinfo.available_timezones()
MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest orders file :func:`load_orders` reads (about 250,000 orders)."""
# The longest word value (an order type, a time zone name): far above any real one.
_MAX_TOKEN = 64
# How much of an offending value an error message quotes.
_QUOTE_CHARS = 40


def quote_value(value: str, limit: int = _QUOTE_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters with the full length said.

    A 10 MB value must not become a 10 MB error line.
    """
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


class _Lines:
    """Line numbers of positions in one text, from one scan of its newlines."""

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def of(self, pos: int) -> int:
        """The 1-based line holding ``pos``."""
        return bisect.bisect_left(self._newlines, pos) + 1


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed")


class _Reader:
    """Parses one order's text; errors name the line of the offending field."""

    def __init__(self, text: str, start: int, end: int, source: str | None, lines: _Lines) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.source = source
        self.lines = lines
        self.line = lines.of(start)

    def fail(self, message: str, *, field: str | None = None, pos: int | None = None) -> NoReturn:
        line = self.line if pos is None else self.lines.of(pos)
        raise InvalidOrderInput(message, line=line, field=field, source=self.source)

    def pairs(self) -> dict[str, tuple[str | dict[str, Any], int]]:
        """The key/value pairs of the order, each with the position of its key."""
        text = self.text
        pos = text.index(_PREFIX, self.start) + len(_PREFIX)
        out: dict[str, tuple[str | dict[str, Any], int]] = {}
        while True:
            while pos < self.end and text[pos].isspace():
                pos += 1
            if pos >= self.end:
                return out
            match = _KEY.match(text, pos, self.end)
            if match is None:
                snippet = text[pos : min(self.end, pos + 20)].split("\n", 1)[0]
                self.fail(f"expected key=value, got {snippet!r}", pos=pos)
            key, key_pos, pos = match.group(1), pos, match.end()
            if key not in _KNOWN:
                name = key if len(key) <= _QUOTE_CHARS else f"{key[:_QUOTE_CHARS]}..."
                self.fail(
                    f"unknown key (known: {', '.join(FIELDS + _OPTIONAL)})", field=name, pos=key_pos
                )
            if key in out:
                self.fail("key given twice", field=key, pos=key_pos)
            value: str | dict[str, Any]
            if key == "extra_params":
                value, pos = self._json(pos, key_pos)
            else:
                stop = _VALUE_END.search(text, pos, self.end)
                value_end = stop.start() if stop else self.end
                # A value wrapped across lines (the seed's block) reads as one space.
                value = " ".join(text[pos:value_end].split())
                pos = value_end
            out[key] = (value, key_pos)

    def _json(self, pos: int, key_pos: int) -> tuple[dict[str, Any], int]:
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        try:
            # The whole text, not a slice of it: a copy per order made parsing quadratic.
            value, end = decoder.raw_decode(self.text, pos)
            if end > self.end:
                raise ValueError("the object runs into the next order")
        except (ValueError, RecursionError) as exc:
            detail = quote_value(str(exc), 120)
            self.fail(f"not valid JSON: {detail}", field="extra_params", pos=key_pos)
        if not isinstance(value, dict):
            self.fail("must be a JSON object", field="extra_params", pos=key_pos)
        if end < self.end and not self.text[end].isspace():
            self.fail("text right after the JSON object", field="extra_params", pos=key_pos)
        return value, end


def _parse_int(value: str) -> int:
    if len(value) > 30 or not _INT.fullmatch(value):
        raise ValueError(f"not a non-negative integer: {quote_value(value)}")
    number = int(value)
    if number > MAX_ID:
        raise ValueError(f"{value} is above the largest id, 2**63-1 = {MAX_ID}")
    return number


def _parse_decimal(value: str) -> Decimal:
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"not a decimal number: {quote_value(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover  (the pattern admits only numbers)
        raise ValueError(f"not a decimal number: {quote_value(value)}") from None
    if not number.is_finite() or (number and abs(number.adjusted()) > _MAX_EXPONENT):
        raise ValueError(f"out of range (beyond 1e±{_MAX_EXPONENT}): {quote_value(value)}")
    return number


def _parse_timestamp(value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"not an ISO timestamp: {quote_value(value)}") from None
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError(f"timestamp without a UTC offset: {quote_value(value)}")
    return stamp


def _parse_token(value: str) -> str:
    if len(value) > _MAX_TOKEN:
        raise ValueError(f"longer than {_MAX_TOKEN} characters: {quote_value(value)}")
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"not a single word: {quote_value(value)}")
    return value


def _parse_tz(value: str) -> str:
    _parse_token(value)
    # An empty zone database (no tzdata installed) cannot judge; accept rather than fail all.
    if _ZONES and value not in _ZONES:
        raise ValueError(f"unknown time zone: {quote_value(value)}")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "order_id": _parse_int,
    "creation_timestamp": _parse_timestamp,
    "asset_id": _parse_int,
    "type_": _parse_token,
    "start_timestamp": _parse_timestamp,
    "end_timestamp": _parse_timestamp,
    "curr_num_shares": _parse_decimal,
    "diff_num_shares": _parse_decimal,
    "tz": _parse_tz,
}


def _parse_one(reader: _Reader) -> Order:
    pairs = reader.pairs()
    missing = [f for f in FIELDS if f not in pairs]
    if missing:
        reader.fail(f"missing key (an order needs {', '.join(FIELDS)})", field=missing[0])
    values: dict[str, Any] = {}
    for key, (raw, pos) in pairs.items():
        if key == "extra_params":
            values[key] = raw
            continue
        assert isinstance(raw, str)
        if not raw:
            reader.fail("empty value", field=key, pos=pos)
        try:
            values[key] = _PARSERS[key](raw)
        except ValueError as exc:
            reader.fail(str(exc), field=key, pos=pos)

    def pos_of(key: str) -> int:
        return pairs[key][1]

    # The model checks these too; checking here names the field and its line.
    if values["diff_num_shares"] == 0:
        reader.fail("must not be zero", field="diff_num_shares", pos=pos_of("diff_num_shares"))
    if values["end_timestamp"] <= values["start_timestamp"]:
        reader.fail(
            "must be after start_timestamp", field="end_timestamp", pos=pos_of("end_timestamp")
        )
    if values["start_timestamp"] < values["creation_timestamp"]:
        reader.fail(
            "is before creation_timestamp", field="start_timestamp", pos=pos_of("start_timestamp")
        )
    try:
        return Order(**values)
    except InvalidOrderInput as exc:
        field = exc.field.split(".")[0] if exc.field else None
        reader.fail(exc.detail, field=field, pos=pos_of(field) if field in pairs else None)


def parse_orders(text: str, *, source: str | None = None) -> list[Order]:
    """Parse every order in ``text``.

    ``source`` (a file name) prefixes error messages. Raises ``InvalidOrderInput`` naming
    the 1-based line and the field for any bad input: unknown, missing or repeated keys,
    bad numbers or timestamps, NaN or infinite quantities, a zero ``diff_num_shares``, an
    end not after the start, repeated order ids, or ``extra_params`` that is not a JSON
    object.
    """
    if not isinstance(text, str):
        raise InvalidOrderInput(f"expected text, got {type(text).__name__}", source=source)
    lines = _Lines(text)
    starts = [m.start() for m in _ORDER_START.finditer(text)]
    head = text[: starts[0]] if starts else text
    if head.strip():
        offset = len(head) - len(head.lstrip())
        raise InvalidOrderInput(
            f"expected a line starting with {_PREFIX!r}",
            line=lines.of(offset),
            source=source,
        )
    orders: list[Order] = []
    seen: dict[int, int] = {}
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        reader = _Reader(text, start, end, source, lines)
        order = _parse_one(reader)
        if order.order_id in seen:
            reader.fail(
                f"order id {order.order_id} already used on line {seen[order.order_id]}",
                field="order_id",
            )
        seen[order.order_id] = reader.line
        orders.append(order)
    return orders


def _format_decimal(value: Decimal) -> str:
    # Fixed-point, so 0.0000001 is written as such and not as 1E-7.
    return format(value, "f")


def _format_one(order: Order) -> str:
    values: dict[str, str] = {
        "order_id": str(order.order_id),
        "creation_timestamp": str(order.creation_timestamp),
        "asset_id": str(order.asset_id),
        "type_": str(order.type_),
        "start_timestamp": str(order.start_timestamp),
        "end_timestamp": str(order.end_timestamp),
        "curr_num_shares": _format_decimal(order.curr_num_shares),
        "diff_num_shares": _format_decimal(order.diff_num_shares),
        "tz": order.tz,
    }
    parts = [f"{key}={values[key]}" for key in FIELDS]
    if order.extra_params:
        try:
            blob = json.dumps(order.extra_params, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise InvalidOrderInput(
                f"order {order.order_id}: not JSON-serialisable: {exc}", field="extra_params"
            ) from None
        parts.append(f"extra_params={blob}")
    return f"{_PREFIX} " + " ".join(parts)


def format_orders(orders: Sequence[Order]) -> str:
    """The text of ``orders``, one per line, each line ending in a newline.

    ``parse_orders(format_orders(x)) == x``, and formatting the parse of
    ``examples/default_orders.txt`` gives the file back byte for byte.
    """
    return "".join(_format_one(order) + "\n" for order in orders)


def load_orders(path: str | Path) -> list[Order]:
    """Parse the orders in the file at ``path`` (UTF-8).

    A missing, unreadable or non-UTF-8 file, or one larger than :data:`MAX_FILE_BYTES`,
    raises ``InvalidOrderInput`` naming the path.
    """
    name = str(path)
    try:
        # Read at most one byte past the limit: /dev/zero or a runaway file must not fill memory.
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InvalidOrderInput(
                f"larger than the limit of {MAX_FILE_BYTES // (1024 * 1024)} MiB", source=name
            )
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # The path is the source already; strerror names the cause without repeating it.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidOrderInput(f"cannot read order file: {reason}", source=name) from None
    return parse_orders(text, source=name)
