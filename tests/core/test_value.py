"""``exsdk._value``: the shared repr, eq and hash behave as attrs' generated methods.

Each check builds the same class twice, once with attrs' own methods and once on
``Shown``/``Value``, and compares what the two do; then every SDK attrs class on the
shared methods is checked to really use them (attrs would silently generate its own if a
class were declared without ``repr=False, eq=False``).
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

import exsdk
from exsdk._value import Shown, Value

T = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _pair() -> tuple[type[Any], type[Any]]:
    """The same frozen class, with attrs' methods and with the shared ones."""

    def attrs_made() -> type[Any]:
        @attrs.frozen
        class Point:
            name: str
            at: datetime
            size: Decimal = Decimal("1.5")
            note: str = attrs.field(default="n", repr=False)
            tag: str = attrs.field(default="t", eq=False)
            code: int = attrs.field(default=7, repr=lambda v: f"<{v}>")

        return Point

    def shared() -> type[Any]:
        @attrs.frozen(repr=False, eq=False)
        class Point(Value):
            name: str
            at: datetime
            size: Decimal = Decimal("1.5")
            note: str = attrs.field(default="n", repr=False)
            tag: str = attrs.field(default="t", eq=False)
            code: int = attrs.field(default=7, repr=lambda v: f"<{v}>")

        return Point

    return attrs_made(), shared()


def test_repr_is_attrs_repr() -> None:
    made, ours = _pair()
    for args in [("a", T), ("b'q", T, Decimal("2"), "x", "y", 9)]:
        assert repr(ours(*args)) == repr(made(*args))
    assert repr(ours("a", T)) == (
        "Point(name='a', at=datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.timezone.utc),"
        " size=Decimal('1.5'), tag='t', code=<7>)"
    )


def test_eq_and_hash_follow_attrs() -> None:
    made, ours = _pair()
    cases = [
        (("a", T), ("a", T)),
        (("a", T), ("b", T)),
        (("a", T, Decimal("1.50")), ("a", T, Decimal("1.5"))),  # Decimal equality, as attrs
        (("a", T, Decimal(1), "n", "t1"), ("a", T, Decimal(1), "n", "t2")),  # eq=False field
        (("a", T, Decimal(1), "n1"), ("a", T, Decimal(1), "n2")),  # repr=False still compared
        (("a", T, Decimal("NaN")), ("a", T, Decimal("NaN"))),  # no identity shortcut
    ]
    for left, right in cases:
        expected = made(*left) == made(*right)
        assert (ours(*left) == ours(*right)) is expected, (left, right)
        assert (ours(*left) != ours(*right)) is (not expected), (left, right)
        if expected:
            assert hash(ours(*left)) == hash(ours(*right))
    nan = Decimal("NaN")
    one = ours("a", T, nan)
    assert (one == one) is (made("a", T, nan) == made("a", T, nan))
    # Another class (even one with the same fields) is not equal: NotImplemented, as attrs.
    assert ours("a", T) != made("a", T)
    assert ours("a", T).__eq__(made("a", T)) is NotImplemented
    assert len({ours("a", T), ours("a", T), ours("b", T)}) == 2


def test_frozen_and_attrs_helpers_kept() -> None:
    _, ours = _pair()
    point = ours("a", T)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        point.name = "b"
    assert attrs.evolve(point, name="b") == ours("b", T)
    assert attrs.asdict(point)["size"] == Decimal("1.5")
    assert not hasattr(point, "__dict__")  # still slotted


def test_shown_on_a_mutable_class_keeps_attrs_eq_and_no_hash() -> None:
    @attrs.define(repr=False)
    class Box(Shown):
        items: list[Any] = attrs.field(factory=list)

    box = Box()
    box.items.append(box)  # a cycle: attrs shows "..." for the inner one
    assert repr(box) == "Box(items=[...])"
    assert Box([1]) == Box([1]) and Box([1]) != Box([2])
    with pytest.raises(TypeError):
        hash(Box())


def test_eq_key_is_refused_not_ignored() -> None:
    @attrs.frozen(repr=False, eq=False)
    class Keyed(Value):
        name: str = attrs.field(eq=str.lower)

    with pytest.raises(TypeError, match="eq_key"):
        _ = Keyed("a") == Keyed("A")


def _sdk_classes() -> list[type[Any]]:
    found: list[type[Any]] = []
    for info in pkgutil.walk_packages(exsdk.__path__, "exsdk."):
        if info.name.startswith(("exsdk.app", "exsdk.journal.postgres", "exsdk.__main__")):
            continue  # the CLI's modules and the postgres extra import optional packages
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == info.name
                and attrs.has(value)
                and issubclass(value, Shown)
            ):
                found.append(value)
    return found


def test_sdk_classes_use_the_shared_methods() -> None:
    classes = _sdk_classes()
    names = {cls.__name__ for cls in classes}
    assert {"WaveStarted", "Capabilities", "TwapConfig", "Session", "EndpointCost"} <= names
    for cls in classes:
        assert cls.__repr__ is Shown.__repr__, cls
        if issubclass(cls, Value):
            assert cls.__eq__ is Value.__eq__ and cls.__hash__ is Value.__hash__, cls
