"""Optional dependencies, and the one line that names the extra bringing them.

The core (models, adapters, broker, journal, CLI) needs neither pandas nor a test
framework. What does need them imports them through :func:`require`, so a missing
one is a :class:`MissingExtra` naming the ``pip install`` that fixes it, not a traceback
ending in ``No module named 'pandas'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from exsdk.errors import SdkError

__all__ = ["EXTRAS", "MissingExtra", "install_hint", "require", "require_extra"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("pandas",),
    "contracts": ("pytest", "pytest_asyncio", "vcr", "pytest_recording"),
    "postgres": ("psycopg",),
}
"""Each extra of the ``exsdk`` distribution and the modules it brings."""


def install_hint(extra: str) -> str:
    """``pip install 'exsdk[EXTRA]'``."""
    return f"pip install 'exsdk[{extra}]'"


class MissingExtra(SdkError, ImportError):
    """A feature needs a module that only one of ``exsdk``'s extras installs.

    An :class:`ImportError` too, so code that guards optional imports keeps working.
    """

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(f"{what} needs {module}: {install_hint(extra)}")
        self.extra = extra
        self.name = module


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` (of ``extra``) for ``what``, or raise :class:`MissingExtra`.

    Only a missing ``module`` itself is translated; an error raised while importing an
    installed one propagates unchanged.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingExtra(what, module.split(".")[0], extra) from None


def require_extra(extra: str, what: str) -> None:
    """Check that every module of ``extra`` imports, before ``what`` starts any work."""
    for module in EXTRAS[extra]:
        require(module, extra, what)
