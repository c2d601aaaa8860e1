"""Shared building blocks of the models: the frozen base, Decimal and timestamp types."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

E = TypeVar("E", bound=enum.Enum)


class FrozenModel(BaseModel):
    """Frozen, strict about unknown extras being kept out, populated by name or alias."""

    model_config = ConfigDict(
        frozen=True,
        populate_by_name=True,
        extra="ignore",
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
    )


class CcxtModel(FrozenModel):
    """A model validated from one of ccxt's unified dicts (camelCase keys)."""

    model_config = ConfigDict(alias_generator=to_camel)


def _ms_to_datetime(value: Any) -> Any:
    """ccxt gives epoch milliseconds; store aware UTC datetimes."""
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError) as exc:
            # pydantic reports only ValueError as a validation failure; anything else
            # would escape ``from_ccxt`` as a crash instead of a malformed-payload error.
            raise ValueError(f"timestamp out of range: {value!r}") from exc
    return value


def _to_ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


Timestamp = Annotated[
    datetime,
    BeforeValidator(_ms_to_datetime),
    PlainSerializer(_to_ms, return_type=int, when_used="json"),
]
"""An aware datetime, accepted as epoch milliseconds or a datetime."""


def _decimal_from_any(value: Any) -> Any:
    # Strings like "0.0010" stay exact; floats go through str() to avoid binary noise.
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool):
        raise ValueError("a number cannot be a boolean")
    return value


Money = Annotated[Decimal, BeforeValidator(_decimal_from_any), Field(allow_inf_nan=False)]
"""A Decimal amount or price: never a float, never NaN or infinite."""


def lenient_enum(enum_cls: type[E]) -> Callable[[Any], Any]:
    """A validator that maps known values to ``enum_cls`` and keeps unseen ones as ``str``."""

    def convert(value: Any) -> Any:
        if isinstance(value, enum_cls):
            return value
        try:
            return enum_cls(value)
        except ValueError:
            if isinstance(value, str):
                return value
            raise

    return convert


__all__ = [
    "CcxtModel",
    "FrozenModel",
    "Money",
    "Timestamp",
    "lenient_enum",
]
