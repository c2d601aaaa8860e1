"""Any other exchange ccxt knows, as ``ccxt:<id>``.

The broker needs a set of ccxt unified methods (:data:`REQUIRED_METHODS`), some with
alternatives (``fetchOrders`` may be replaced by ``fetchOpenOrders`` + ``fetchClosedOrders``).
At construction the adapter checks them against the exchange's ``has`` and raises
``UnsupportedMethod`` naming each missing method and what needs it, before any request.
A ccxt ``NotSupported`` at run time becomes the same error (in ``CcxtAdapter._call``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, cast

import ccxt.async_support as ccxt_async

from exsdk.adapter import Capabilities, CcxtAdapter
from exsdk.adapter.requirements import (
    REQUIRED_METHODS,
    Requirement,
    derive_capabilities,
    missing_methods,
)
from exsdk.errors import SdkError

__all__ = [
    "REQUIRED_METHODS",
    "GenericCcxtAdapter",
    "Requirement",
    "missing_methods",
]


class GenericCcxtAdapter(CcxtAdapter):
    """Base of ``ccxt:<id>`` adapters; get one with :meth:`for_exchange`.

    Spot only: positions and leverage need per-exchange knowledge ccxt's ``has`` does
    not give (it is per exchange class, not per market type). The capabilities of each
    exchange's class come from :func:`~exsdk.adapter.requirements.derive_capabilities`,
    the same function ``exsdk new-adapter`` writes a scaffold's from.
    """

    name: ClassVar[str] = "ccxt:<id>"
    ccxt_id: ClassVar[str] = "<any ccxt id>"
    market_type: ClassVar[str] = "spot"
    capabilities: ClassVar[Capabilities] = Capabilities()
    required_methods: ClassVar[Mapping[str, Requirement]] = REQUIRED_METHODS
    # Exchanges accept different depth values (bitfinex 1/25/100); take their default.
    order_book_depth: ClassVar[int | None] = None

    @classmethod
    def for_exchange(cls, exchange_id: str) -> type[GenericCcxtAdapter]:
        """The adapter class for ccxt exchange ``exchange_id``; unknown ids raise ``SdkError``."""
        return _generic_class(exchange_id)

    @classmethod
    def check(cls, exchange_id: str) -> dict[str, str]:
        """The required methods ``exchange_id`` lacks, without building an adapter or
        making any request."""
        adapter_cls = cls.for_exchange(exchange_id)
        exchange = getattr(ccxt_async, adapter_cls.ccxt_id)()
        return missing_methods(exchange.has, adapter_cls.required_methods)

    def _exchange_class(self) -> Any:
        if type(self) is GenericCcxtAdapter:
            raise SdkError("use GenericCcxtAdapter.for_exchange(id) to pick the exchange")
        return super()._exchange_class()


@functools.cache
def _generic_class(exchange_id: str) -> type[GenericCcxtAdapter]:
    if exchange_id not in ccxt_async.exchanges:
        raise SdkError(
            f"unknown ccxt exchange id {exchange_id!r} (ccxt {ccxt_async.__version__} "
            "lists its ids in ccxt.exchanges)"
        )
    class_name = "Ccxt" + "".join(ch for ch in exchange_id.title() if ch.isalnum()) + "Adapter"
    has = getattr(ccxt_async, exchange_id)().has
    namespace = {
        "name": f"ccxt:{exchange_id}",
        "capabilities": derive_capabilities(has, GenericCcxtAdapter.market_type),
        "ccxt_id": exchange_id,
        "__doc__": f"ccxt exchange {exchange_id!r} through the generic adapter.",
        "__module__": __name__,
        "__qualname__": class_name,
    }
    return cast(type[GenericCcxtAdapter], type(class_name, (GenericCcxtAdapter,), namespace))
