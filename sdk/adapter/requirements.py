"""Which ccxt unified methods the broker and each capability need, checked against ``has``.

One place answers "what does this exchange lack, and what is it needed for?": the
construction check of every :class:`~exsdk.adapter.CcxtAdapter`, the ``ccxt:<id>``
adapters' capabilities, ``exsdk new-adapter`` and ``exsdk adapters`` all call
:func:`derive_capabilities` / :func:`missing_methods` / :func:`capability_gaps`, so the
scaffold, the table and the adapter never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from exsdk._value import Value
from exsdk.adapter.base import METHOD_PURPOSES, Capabilities

__all__ = [
    "CAPABILITY_METHODS",
    "REQUIRED_METHODS",
    "Requirement",
    "capability_gaps",
    "derive_capabilities",
    "missing_methods",
]


@attrs.frozen(repr=False, eq=False)
class Requirement(Value):
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
"""ccxt unified method -> what needs it and its alternatives (every broker needs these)."""

CAPABILITY_METHODS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "market_orders": (("createOrder", "createMarketOrder"),),
    "limit_orders": (("createOrder",),),
    "cancel": (("cancelOrder",),),
    "fetch_by_client_order_id": (("fetchOrders",), ("fetchOpenOrders", "fetchClosedOrders")),
    "open_orders": (("fetchOpenOrders",),),
    "order_trades": (("fetchMyTrades",),),
    "balances": (("fetchBalance",),),
    "positions": (("fetchPositions",),),
    "leverage": (("setLeverage",),),
    "clock_sync": (("fetchTime",),),
    # reduce_only is an order parameter and liquidity_error a venue answer: ccxt's has
    # says nothing about either, so they are what the adapter declares.
    "reduce_only": (),
    "liquidity_error": (),
}
"""Capability -> the ccxt method sets that can serve it (any one set, every method in it).

An empty tuple: no ccxt method stands for the capability."""

# Only contract markets have positions, leverage and reduce-only orders; ccxt's has is
# per exchange class, so a spot adapter of an exchange with futures would claim them.
_CONTRACT_ONLY = frozenset({"positions", "leverage", "reduce_only"})


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


def _served(has: Mapping[str, Any], capability: str) -> bool:
    sets = CAPABILITY_METHODS[capability]
    return not sets or any(all(_has(has, m) for m in methods) for methods in sets)


def capability_gaps(has: Mapping[str, Any], capabilities: Capabilities) -> dict[str, str]:
    """Each declared capability ``has`` cannot serve -> the ccxt methods it lacks.

    A capability declared ``True`` whose methods ccxt lacks would pass the table and fail
    at the first order; the construction check and ``exsdk adapters`` both refuse it.
    """
    gaps: dict[str, str] = {}
    for capability, declared in capabilities.names().items():
        if not declared or _served(has, capability):
            continue
        sets = CAPABILITY_METHODS[capability]
        lacking = sorted({m for methods in sets for m in methods if not _has(has, m)})
        gaps[capability] = ", ".join(lacking)
    return gaps


def derive_capabilities(has: Mapping[str, Any], market_type: str) -> Capabilities:
    """The capabilities ccxt's ``has`` supports for ``market_type`` (``spot``, ``swap``...).

    ``ccxt:<id>`` adapters use these as they are; ``exsdk new-adapter`` writes them into
    the scaffold for the developer to check. ``liquidity_error`` is never derived: it is a
    venue answer the contract suite provokes on the bundled venue only.
    """
    contract = market_type != "spot"
    values: dict[str, bool] = {}
    for capability in Capabilities().names():
        if capability == "liquidity_error" or (capability in _CONTRACT_ONLY and not contract):
            values[capability] = False
        elif capability == "reduce_only":
            values[capability] = contract
        else:
            values[capability] = _served(has, capability)
    return Capabilities(**values)
