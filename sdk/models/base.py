"""Shared building blocks of the models: the frozen base, Decimal and timestamp types, the
deep-frozen raw payload, and the one error every ccxt-side model raises on bad data."""

# No ``from __future__ import annotations`` in the model modules: pydantic would get every
# field's annotation as a string and compile and evaluate it when the class is created
# (about 180 fields on ``import exsdk``); written out, they are evaluated once by Python.
# Names defined further down (a model's own class) are quoted.

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, NoReturn, Self, SupportsIndex, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticKnownError, core_schema

from exsdk.errors import VenueRejected

E = TypeVar("E", bound=enum.Enum)

_SHOWN_VALUE_CHARS = 60


class MalformedPayload(VenueRejected):
    """A venue payload no caller could act on (missing id, a price that is not a number).

    Raised by every ccxt-side model, by ``from_ccxt`` and by the constructor alike, with a
    one-line message naming the field and the value.
    """


def shown(value: Any) -> str:
    """A short one-line ``repr`` of a value, for error messages."""
    text = repr(value).replace("\n", "\\n")
    if len(text) > _SHOWN_VALUE_CHARS:
        text = text[: _SHOWN_VALUE_CHARS - 3] + "..."
    return text


def raise_malformed(model: str, exc: ValidationError) -> NoReturn:
    """Re-raise a pydantic failure as one ``MalformedPayload`` line: field, value, reason."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    if first["type"] == "missing":
        detail = f"{where}: missing"
    else:
        detail = f"{where}={shown(first.get('input'))}: {first['msg']}"
    raise MalformedPayload(f"malformed {model} from the venue: {detail}") from None


# ----- the raw payload, deep-frozen ---------------------------------------------------------


def _immutable(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is read-only: models keep the venue's payload as sent")


class FrozenDict(dict[str, Any]):
    """A read-only dict: the raw payload as the venue sent it, nested values frozen too.

    A real ``dict`` subclass, so ``json.dumps``, ``isinstance(x, dict)`` and equality with
    plain dicts keep working; every mutating method raises ``TypeError``.
    """

    __setitem__ = _immutable
    __delitem__ = _immutable
    __ior__ = _immutable
    clear = _immutable
    pop = _immutable
    popitem = _immutable
    setdefault = _immutable
    update = _immutable

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_frozen_dict_from, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, _hashable(v)) for k, v in self.items())))


class FrozenList(list[Any]):
    """A read-only list (see :class:`FrozenDict`)."""

    __setitem__ = _immutable
    __delitem__ = _immutable
    __iadd__ = _immutable
    __imul__ = _immutable
    append = _immutable
    clear = _immutable
    extend = _immutable
    insert = _immutable
    pop = _immutable
    remove = _immutable
    reverse = _immutable
    sort = _immutable

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_frozen_list_from, (list(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(_hashable(v) for v in self))

    def __mul__(self, n: SupportsIndex) -> list[Any]:
        return list(self) * n


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, dict | list) else hash(deep_freeze(value))


def _frozen_dict_from(items: Mapping[str, Any]) -> FrozenDict:
    return FrozenDict(items)


def _frozen_list_from(items: Iterable[Any]) -> FrozenList:
    return FrozenList(items)


# The types JSON decoding gives, which need no freezing: the common case, decided by one
# lookup instead of ABC checks (``isinstance(x, Mapping)`` costs a microsecond per value,
# and a venue reply holds dozens of them).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})


def deep_freeze(value: Any) -> Any:
    """The same JSON-like value with every dict and list (at any depth) made read-only."""
    kind = type(value)
    if kind in _SCALARS or kind is FrozenDict or kind is FrozenList:
        return value
    if kind is dict:
        if not _STR.issuperset(map(type, value)):  # a key that is not text (rare)
            return FrozenDict(
                {(k if type(k) is str else str(k)): deep_freeze(v) for k, v in value.items()}
            )
        # One copy in C; only the values that are containers are replaced in it (in a
        # venue reply most values are scalars, and ``info``'s all are).
        frozen = FrozenDict(value)
        if not _SCALARS.issuperset(map(type, value.values())):
            for k, v in value.items():
                if type(v) not in _SCALARS:
                    dict.__setitem__(frozen, k, deep_freeze(v))
        return frozen
    if kind is list or kind is tuple:
        if _SCALARS.issuperset(map(type, value)):
            return FrozenList(value)
        return FrozenList([v if type(v) in _SCALARS else deep_freeze(v) for v in value])
    # Anything else (a Mapping that is no dict, a subclass, a Decimal): the general rule.
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): deep_freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(deep_freeze(v) for v in value)
    return value


class SerializedBy:
    """``PlainSerializer(func, return_type=..., when_used=...)`` for a ``func`` of the value
    alone: the same core schema (``schema["serialization"]``, a plain function serializer
    with ``return_type``'s schema), so the same output and JSON schema.

    Not pydantic's own class: it lives in ``pydantic.functional_serializers``, whose import
    (three slotted frozen dataclasses) costs about 8 M instructions, 1.5 % of a typed-models
    ``import exsdk`` (issue 18 goal 3b; ``tests/core/test_models.py`` compares the schemas).
    """

    __slots__ = ("func", "return_type", "when_used")

    def __init__(
        self,
        func: Callable[[Any], Any],
        *,
        return_type: Any,
        when_used: core_schema.WhenUsed = "always",
    ) -> None:
        self.func, self.return_type, self.when_used = func, return_type, when_used

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source_type)
        # As PlainSerializer does; mypy reads CoreSchema (a union of TypedDicts) as a Mapping.
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(  # type: ignore[index]
            function=self.func,
            info_arg=False,
            return_schema=handler.generate_schema(self.return_type),
            when_used=self.when_used,
        )
        return schema


def thaw(value: Any) -> Any:
    """A plain, mutable copy of a frozen value (for callers that want to edit one)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


RawPayload = Annotated[
    Any,
    BeforeValidator(deep_freeze),
    SerializedBy(thaw, return_type=Any, when_used="always"),
]
"""The venue's raw payload (ccxt's ``info``): any JSON shape, kept as it came, read-only."""


# ----- models -------------------------------------------------------------------------------


class FrozenModel(BaseModel):
    """Frozen, strict about unknown extras being kept out, populated by name or alias."""

    model_config = ConfigDict(
        frozen=True,
        # Schemas are built on first use, not at import: a user of a few models does not
        # pay for all of them (import exsdk stays a fraction of import ccxt).
        defer_build=True,
        populate_by_name=True,
        extra="ignore",
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
    )


class VenueModel(FrozenModel):
    """A model of venue data: constructing one from bad data raises ``MalformedPayload``."""

    @model_validator(mode="wrap")
    @classmethod
    def _malformed_on_one_line(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # Also runs for nested models; MalformedPayload is no ValueError, so pydantic lets
        # it through as it is instead of wrapping it into the outer model's error.
        try:
            return handler(data)
        except ValidationError as exc:
            raise_malformed(cls.__name__, exc)


class CcxtModel(VenueModel):
    """A model validated from one of ccxt's unified dicts (camelCase keys)."""

    model_config = ConfigDict(alias_generator=to_camel)


# What odd payloads make validators or plain dict access raise besides ValidationError.
PAYLOAD_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


class FromCcxt(CcxtModel):
    """Validation from a ccxt dict, with failures reported as the venue's fault."""

    @classmethod
    def from_ccxt(cls, data: Any) -> Self:
        """Validate a ccxt unified dict; a malformed one raises ``MalformedPayload``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise_malformed(cls.__name__, exc)
        except MalformedPayload:
            raise
        except PAYLOAD_ERRORS as exc:
            # A validator tripping over an odd value is still a malformed payload.
            raise MalformedPayload(
                f"malformed {cls.__name__} from the venue: {type(exc).__name__}: {exc}"
            ) from None


# ----- scalar types -------------------------------------------------------------------------


def _ms_to_datetime(value: Any) -> Any:
    """ccxt gives epoch milliseconds; store aware UTC datetimes. Non-positive means unknown."""
    kind = type(value)
    if kind is not int and kind is not float:  # ccxt's own integer milliseconds skip this
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError("a timestamp cannot be a boolean")
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int | float):
            return value
    if value <= 0:
        # Venues send 0 or -1 for "not known"; 1970 or 1969 would be a lie.
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        # pydantic reports only ValueError as a validation failure; anything else
        # would escape ``from_ccxt`` as a crash instead of a malformed-payload error.
        raise ValueError(f"timestamp out of range: {value!r}") from exc


def _to_ms(value: datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * 1000)


# The validator wraps the Optional: a non-positive timestamp turns into None, which only
# the Optional as a whole accepts.
Timestamp = Annotated[
    datetime | None,
    BeforeValidator(_ms_to_datetime),
    SerializedBy(_to_ms, return_type=int | None, when_used="json"),
]
"""An aware datetime or ``None``, accepted as epoch milliseconds or a datetime (<= 0 ms and
``None`` are unknown)."""


def _within_float_range(value: Decimal) -> Decimal:
    # ccxt takes floats: a Decimal beyond a double's range (1e400) would go out as inf.
    # The same test and error as pydantic's own for ``allow_inf_nan=False``.
    if not math.isfinite(value):
        raise PydanticKnownError("finite_number")
    return value


# pydantic-core's own Decimal, in Rust: a float through its shortest repr (the string
# ccxt parsed it from, so no binary noise gets in), text stripped and exact, booleans,
# NaN and infinities refused; then one Python check of the range.
Money = Annotated[Decimal, Field(allow_inf_nan=False), AfterValidator(_within_float_range)]
"""A Decimal amount or price: never a float, never NaN or infinite."""


def text_id(value: Any) -> Any:
    """Ids as text: venues send integers for what ccxt usually gives as strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


TextId = Annotated[str, BeforeValidator(text_id)]
"""An identifier, accepted as text or an integer, kept as text."""


def lenient_enum(enum_cls: type[E]) -> Callable[[Any], Any]:
    """A validator mapping known values to ``enum_cls`` (any case) and keeping unseen text."""

    members = {member.value: member for member in enum_cls}

    def convert(value: Any) -> Any:
        if type(value) is str:  # the common case, one lookup: "buy", "limit", "open"
            member = members.get(value)
            if member is not None:
                return member
        if isinstance(value, enum_cls):
            return value
        try:
            return enum_cls(value)
        except ValueError:
            if isinstance(value, str):
                try:
                    return enum_cls(value.strip().lower())
                except ValueError:
                    return value
            raise

    return convert


__all__ = [
    "PAYLOAD_ERRORS",
    "CcxtModel",
    "FromCcxt",
    "FrozenDict",
    "FrozenList",
    "FrozenModel",
    "MalformedPayload",
    "Money",
    "RawPayload",
    "SerializedBy",
    "TextId",
    "Timestamp",
    "VenueModel",
    "deep_freeze",
    "lenient_enum",
    "raise_malformed",
    "shown",
    "text_id",
    "thaw",
]
