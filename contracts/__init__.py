"""The shared contract suite every adapter runs against its recorded cassettes.

An adapter's test module subclasses :class:`AdapterContract` (or, for an adapter with no
cassettes, :class:`MethodContract`) and sets its name and symbols. The suite needs the
``contracts`` extra (``pip install 'exsdk[contracts]'``); it is imported on first use, so
that the pytest plugin (:mod:`exsdk.contracts.plugin`) loads without it.
"""

from typing import TYPE_CHECKING

from exsdk._lazy import lazy_exports

if TYPE_CHECKING:
    from exsdk.contracts.suite import AdapterContract, MethodContract

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"AdapterContract": "exsdk.contracts.suite", "MethodContract": "exsdk.contracts.suite"},
    globals(),
)

__all__ = ["AdapterContract", "MethodContract"]
