"""One ``__repr__``, ``__eq__`` and ``__hash__`` for the SDK's attrs classes.

attrs writes these three methods as source for every class and ``compile()``s them when the
class is created: about half of the creation's cost (1.5 M of 2.8 M instructions for a class
of four fields), paid at import for each of the 36 classes a ready broker loads (issue 18
goal 3a). A class declared ``@attrs.frozen(repr=False, eq=False)`` (or ``@attrs.define(
repr=False)``) that derives from :class:`Shown` or :class:`Value` gets the same methods,
written once here. attrs still builds everything else (``__init__``, validators,
converters, frozenness, slots, ``attrs.fields``/``evolve``/``asdict``).

Behaviour is attrs' own: the repr is ``Name(a=1, b='x')`` over the fields with
``repr=True`` (a field's repr callable is used, a recursive repr shows ``...``); two
instances are equal when they are of the same class and equal field by field over the
fields with ``eq=True``, in order (another class: ``NotImplemented``); the hash covers the
same fields and the class. ``tests/core/test_value.py`` compares each with attrs' generated
method.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["Shown", "Value"]

_REPRING = threading.local()
# Per class, built at its first repr/eq/hash: (name, repr function) of the shown fields, and
# a getter of the compared fields' values as a tuple.
_SHOWN: dict[type, tuple[tuple[str, Callable[[Any], str]], ...]] = {}
_KEYS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _shown(cls: type) -> tuple[tuple[str, Callable[[Any], str]], ...]:
    plan = _SHOWN.get(cls)
    if plan is None:
        plan = tuple(
            (a.name, repr if a.repr is True else a.repr)
            for a in attrs.fields(cls)
            if a.repr is not False
        )
        _SHOWN[cls] = plan
    return plan


def _key(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    key = _KEYS.get(cls)
    if key is None:
        fields = attrs.fields(cls)
        if any(a.eq_key is not None or a.hash not in (None, a.eq) for a in fields):
            raise TypeError(f"{cls.__qualname__}: a field's eq_key or hash setting needs attrs' eq")
        names = [a.name for a in fields if a.eq]
        if len(names) == 1:
            one = operator.attrgetter(names[0])
            key = lambda obj: (one(obj),)  # noqa: E731 (one tuple per call, no closure over a list)
        elif names:
            key = operator.attrgetter(*names)
        else:
            key = lambda obj: ()  # noqa: E731
        _KEYS[cls] = key
    return key


class Shown:
    """attrs' ``__repr__``, for a class declared with ``repr=False``."""

    __slots__ = ()

    def __repr__(self) -> str:
        try:
            seen: set[int] = _REPRING.seen
        except AttributeError:
            seen = _REPRING.seen = set()
        if id(self) in seen:
            return "..."
        seen.add(id(self))
        try:
            cls = self.__class__
            shown = ", ".join(
                f"{name}={show(getattr(self, name, attrs.NOTHING))}" for name, show in _shown(cls)
            )
            return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({shown})"
        finally:
            seen.discard(id(self))


class Value(Shown):
    """attrs' ``__repr__``, ``__eq__`` and ``__hash__``, for a frozen class declared with
    ``repr=False, eq=False``: equal by class and fields, hashable."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = _key(self.__class__)
        # Field by field with ==, as attrs' generated method (no identity shortcut).
        return all(a == b for a, b in zip(key(self), key(other), strict=True))

    def __hash__(self) -> int:
        return hash((self.__class__, *_key(self.__class__)(self)))
