"""Lazy exports: a package's public names, imported from their module on first use.

``import exsdk`` must stay cheap (no ccxt, aiohttp or pandas until a caller needs them), yet
``from exsdk import Broker`` must work and type-check. A package lists its names once in a
table (name -> module) for the runtime, and imports them under ``TYPE_CHECKING`` for type
checkers; ``tests/core/test_public_surface.py`` checks that the two agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
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
