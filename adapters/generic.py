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

import attrs
import ccxt.async_support as ccxt_async

from exsdk.adapter import METHOD_PURPOSES, Capabilities, CcxtAdapter
from exsdk.errors import SdkError, UnsupportedMethod

__all__ = [
    "REQUIRED_METHODS",
    "GenericCcxtAdapter",
    "Requirement",
    "missing_methods",
]


@attrs.frozen
class Requirement:
    """One ccxt method the broker needs: what for, and which method sets may replace it."""

    purpose: str
    alternatives: tuple[tuple[str, ...], ...] = ()


def _need(method: str, *alternatives: tuple[str, ...]) -> Requirement:
    return Requirement(METHOD_PURPOSES[method], tuple(alternatives))


REQUIRED_METHODS: Mapping[str, Requirement] = {
    "createOrder": _need("createOrder"),
    "createMarketOrder": _need("createMarketOrder"),
    "cancelOrder": _need("cancelOrder"),
    "fetchOrder": _need("fetchOrder"),
    # Finding a child by client order id after an unknown outcome scans the symbol's
    # orders; open + closed together cover the same history.
    "fetchOrders": _need("fetchOrders", ("fetchOpenOrders", "fetchClosedOrders")),
    "fetchOpenOrders": _need("fetchOpenOrders"),
    "fetchMyTrades": _need("fetchMyTrades"),
    "fetchBalance": _need("fetchBalance"),
    "fetchOrderBook": _need("fetchOrderBook"),
}
"""ccxt unified method -> what needs it and its alternatives."""


def _has(has: Mapping[str, Any], method: str) -> bool:
    # ccxt says True, 'emulated', False or None (unknown = not implemented).
    return bool(has.get(method))


def missing_methods(
    has: Mapping[str, Any], required: Mapping[str, Requirement] = REQUIRED_METHODS
) -> dict[str, str]:
    """Each required method ``has`` lacks (with no complete alternative) -> what needs it."""
    missing: dict[str, str] = {}
    for method, req in required.items():
        if _has(has, method):
            continue
        if any(all(_has(has, m) for m in alt) for alt in req.alternatives):
            continue
        text = req.purpose
        for alt in req.alternatives:
            lacking = [m for m in alt if not _has(has, m)]
            text += f"; the alternative {' + '.join(alt)} lacks {', '.join(lacking)}"
        missing[method] = text
    return missing


class GenericCcxtAdapter(CcxtAdapter):
    """Base of ``ccxt:<id>`` adapters; get one with :meth:`for_exchange`.

    Spot only: positions and leverage need per-exchange knowledge ccxt's ``has`` does
    not give (it is per exchange class, not per market type).
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

    def _check_exchange(self) -> None:
        missing = missing_methods(self._exchange.has, self.required_methods)
        if missing:
            listing = "; ".join(f"{m} (needed for {why})" for m, why in missing.items())
            raise UnsupportedMethod(
                f"{self.exchange_id} lacks ccxt methods the broker needs: {listing}",
                missing=missing,
                exchange=self.exchange_id,
            )


@functools.cache
def _generic_class(exchange_id: str) -> type[GenericCcxtAdapter]:
    if exchange_id not in ccxt_async.exchanges:
        raise SdkError(
            f"unknown ccxt exchange id {exchange_id!r} (ccxt {ccxt_async.__version__} "
            "lists its ids in ccxt.exchanges)"
        )
    class_name = "Ccxt" + "".join(ch for ch in exchange_id.title() if ch.isalnum()) + "Adapter"
    namespace = {
        "name": f"ccxt:{exchange_id}",
        "ccxt_id": exchange_id,
        "__doc__": f"ccxt exchange {exchange_id!r} through the generic adapter.",
        "__module__": __name__,
        "__qualname__": class_name,
    }
    return cast(type[GenericCcxtAdapter], type(class_name, (GenericCcxtAdapter,), namespace))
