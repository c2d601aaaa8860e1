"""Lazy exports: a package's public names, imported from their module on first use; and
names a module only calls, imported at their first call (:func:`import_on_first_call`).

``import exsdk`` must stay cheap (no ccxt, aiohttp or pandas until a caller needs them), yet
``from exsdk import Broker`` must work and type-check. A package lists its names once in a
table (name -> module) for the runtime, and imports them under ``TYPE_CHECKING`` for type
checkers; ``tests/core/test_public_surface.py`` checks that the two agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, resolving ``exports`` on first access.

    A resolved name is stored in ``namespace`` (the package's globals), so each costs one
    import, once.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__


def import_on_first_call(namespace: dict[str, Any], module: str, names: Iterable[str]) -> None:
    """Bind ``names`` in ``namespace`` (a module's globals) to stand-ins for callables of
    ``module`` (classes or functions) that the importing module only ever calls.

    The first call of any stand-in imports ``module``, rebinds every name to the real object
    (so later calls reach it directly, at no cost) and returns what the call returns. For
    what a module needs on a later path than its import: the broker's events are built from
    the first wave on and the fills folded at ``get_fills``, not when a broker is made ready
    (issue 18 goal 3a; ``bench/startup.py`` prints the first order's cost beside ready).
    Type checkers see the real import under ``TYPE_CHECKING``; ``isinstance`` against a
    stand-in would be wrong, so a name used that way must be imported normally.
    """
    wanted = tuple(names)

    def load() -> None:
        real = importlib.import_module(module)
        for name in wanted:
            namespace[name] = getattr(real, name)

    for name in wanted:
        namespace[name] = _StandIn(module, name, namespace, load)


class _StandIn:
    __slots__ = ("_load", "_module", "_name", "_namespace")

    def __init__(
        self, module: str, name: str, namespace: dict[str, Any], load: Callable[[], None]
    ) -> None:
        self._module, self._name, self._namespace, self._load = module, name, namespace, load

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._load()
        return self._namespace[self._name](*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self._module}.{self._name}, imported at its first call>"
