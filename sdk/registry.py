"""Adapter names -> adapter classes, imported lazily.

Built-in names map to ``"module:Class"`` strings (``sdk`` never imports ``adapters`` at
import time); ``ccxt:<id>`` names any exchange ccxt knows through the generic adapter;
third-party packages add adapters through the ``exsdk.adapters`` entry-point group::

    [project.entry-points."exsdk.adapters"]
    my-exchange = "my_package.adapter:MyExchangeAdapter"

Built-in names win over entry points of the same name. Nothing registers itself on import.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from exsdk.adapter import ExchangeAdapter, Venue
from exsdk.errors import SdkError

if TYPE_CHECKING:
    from exsdk.adapter.credentials import Credentials
    from exsdk.adapter.pacing import OrderLimit
    from exsdk.limits import Environment

__all__ = [
    "BUILTIN_ADAPTERS",
    "ENTRY_POINT_GROUP",
    "GENERIC_ADAPTER",
    "GENERIC_PREFIX",
    "AdapterNotFound",
    "adapter_class",
    "adapter_names",
    "capability_table",
    "get_adapter",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "exsdk.adapters"
"""The entry-point group third-party adapters are declared in."""

BUILTIN_ADAPTERS: Mapping[str, str] = {
    "binance-spot": "exsdk.adapters.binance.spot:BinanceSpotAdapter",
    "binance-futures": "exsdk.adapters.binance.futures:BinanceFuturesAdapter",
    "bybit-spot": "exsdk.adapters.bybit.spot:BybitSpotAdapter",
    "bybit-linear": "exsdk.adapters.bybit.linear:BybitLinearAdapter",
}
"""Built-in adapter names -> ``"module:Class"``."""

GENERIC_PREFIX = "ccxt:"
GENERIC_ADAPTER = "exsdk.adapters.generic:GenericCcxtAdapter"
"""The class behind ``ccxt:<id>`` names (it has ``for_exchange(id)``)."""


class AdapterNotFound(SdkError):
    """No adapter has that name, or its module cannot be imported."""


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise AdapterNotFound(f"cannot import adapter {target!r}: {exc}") from None


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN_ADAPTERS or ep.name.startswith(GENERIC_PREFIX):
            log.warning("entry point %s=%s shadows a built-in name; ignored", ep.name, ep.value)
            continue
        found.setdefault(ep.name, ep)
    return found


def adapter_names() -> list[str]:
    """Every adapter name: built-ins, then entry points (sorted). ``ccxt:<id>`` is extra."""
    return [*BUILTIN_ADAPTERS, *sorted(_entry_points())]


def _checked(cls: Any, name: str) -> type[ExchangeAdapter]:
    if not (isinstance(cls, type) and issubclass(cls, ExchangeAdapter)):
        raise AdapterNotFound(f"adapter {name!r} is {cls!r}, not an ExchangeAdapter subclass")
    return cls


def adapter_class(name: str) -> type[ExchangeAdapter]:
    """The adapter class for ``name``: a built-in, ``ccxt:<id>``, or an entry point."""
    if name in BUILTIN_ADAPTERS:
        return _checked(_import(BUILTIN_ADAPTERS[name]), name)
    if name.startswith(GENERIC_PREFIX):
        exchange_id = name.removeprefix(GENERIC_PREFIX)
        return _checked(_import(GENERIC_ADAPTER).for_exchange(exchange_id), name)
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join([*adapter_names(), f"{GENERIC_PREFIX}<ccxt id>"])
        raise AdapterNotFound(f"no adapter named {name!r}; known: {known}")
    try:
        loaded = ep.load()
    except Exception as exc:  # a broken third-party package must not look like a typo
        raise AdapterNotFound(f"adapter {name!r} ({ep.value}) failed to import: {exc}") from None
    return _checked(loaded, name)


def get_adapter(
    name: str,
    *,
    venue: Venue | str,
    environment: Environment | str | None = None,
    credentials: Credentials | None = None,
    base_url: str | None = None,
    markets_cache: Path | str | Literal[False] | None = None,
    ccxt_options: Mapping[str, Any] | None = None,
    allow_live: bool = False,
    order_limits: Sequence[OrderLimit] | None = None,
) -> ExchangeAdapter:
    """Build the adapter called ``name`` for ``venue``.

    ``environment`` defaults to ``local`` off the live venue and ``prod`` on it. The other
    arguments go to the adapter (see ``exsdk.adapter.CcxtAdapter``): ``live`` needs
    ``allow_live=True``, ``sim`` needs ``base_url``.
    """
    from exsdk.limits import Environment  # exsdk.limits may import exsdk.adapter

    venue = Venue(venue)
    if environment is None:
        env = Environment.PROD if venue is Venue.LIVE else Environment.LOCAL
    else:
        try:
            env = Environment(environment)
        except ValueError:
            choices = ", ".join(e.value for e in Environment)
            raise SdkError(f"unknown environment {environment!r}; one of {choices}") from None
    # Adapter constructors share CcxtAdapter's keywords; the ABC itself has no constructor.
    cls: Any = adapter_class(name)
    adapter = cls(
        venue,
        credentials,
        base_url=base_url,
        markets_cache=markets_cache,
        ccxt_options=ccxt_options,
        allow_live=allow_live,
        environment=env,
        **({} if order_limits is None else {"order_limits": order_limits}),
    )
    if not isinstance(adapter, ExchangeAdapter):
        raise AdapterNotFound(f"adapter {name!r} built {adapter!r}, not an ExchangeAdapter")
    return adapter


def _row(name: str, cls: type[ExchangeAdapter], *, generic: bool = False) -> dict[str, Any]:
    """One table row: each capability is ``True`` only when declared *and* served by the
    ccxt exchange's methods; ``missing`` and ``needed_for`` say what it lacks."""
    from exsdk.adapter import METHOD_PURPOSES, Capabilities
    from exsdk.adapter.requirements import capability_gaps, missing_methods

    capabilities: dict[str, bool | None] = dict(cls.capabilities.names())
    missing: dict[str, str] = {}
    unserved: dict[str, str] = {}
    if generic:
        # The family row: each exchange derives its own (``--exchange ID`` shows one).
        capabilities = dict.fromkeys(capabilities)
    else:
        import ccxt

        has = getattr(ccxt, cls.ccxt_id)().has
        missing = missing_methods(has, getattr(cls, "required_methods", {}))
        unserved = capability_gaps(has, cls.capabilities)
        for capability in unserved:
            capabilities[capability] = False
    needed = [f"{m}: {why}" for m, why in missing.items()]
    needed += [f"{methods}: capability {c}" for c, methods in unserved.items()]
    if not generic:
        # Undeclared capabilities ccxt could not serve anyway: say which method is lacking,
        # so "no" reads as "cannot", not "was not asked for" (fetchTime: clock sync).
        every = Capabilities(**dict.fromkeys(cls.capabilities.names(), True))
        for capability, methods in capability_gaps(has, every).items():
            lacking = methods.split(", ")
            contract_only = capability in ("positions", "leverage", "reduce_only")
            spot = getattr(cls, "market_type", "spot") == "spot"
            if capability in unserved or (contract_only and spot):
                continue
            if any(m in missing for m in lacking):
                continue  # said above, with what needs it
            why = "; ".join(dict.fromkeys(METHOD_PURPOSES.get(m, m) for m in lacking))
            needed.append(f"{methods}: {why} (so no {capability})")
    return {
        "name": name,
        "ccxt_id": cls.ccxt_id,
        "market_type": getattr(cls, "market_type", "?"),
        **capabilities,
        "missing": ", ".join([*missing, *(m for c, m in unserved.items() if m not in missing)]),
        "needed_for": "; ".join(needed),
        "known_gaps": ", ".join(getattr(cls, "known_gaps", {})),
    }


def capability_table(exchanges: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One row per known adapter for ``exsdk adapters``.

    Columns: ``name``, ``ccxt_id``, ``market_type``, each capability (``True`` only when
    the adapter declares it and ccxt's ``has`` has the methods it needs; ``None`` on the
    ``ccxt:<id>`` family row, where each exchange derives its own), ``missing`` (the ccxt
    methods the broker or a declared capability needs that the exchange lacks),
    ``needed_for`` (what each missing method is needed for) and ``known_gaps`` (contracts
    the adapter declares it fails). Pass ccxt ids in ``exchanges`` to add a checked row
    for each (no request is made). An entry point that fails to import gets a row whose
    ``missing`` says why.
    """
    rows: list[dict[str, Any]] = []
    for name in adapter_names():
        try:
            rows.append(_row(name, adapter_class(name)))
        except SdkError as exc:
            rows.append({"name": name, "ccxt_id": "?", "market_type": "?", "missing": str(exc)})
    generic = _import(GENERIC_ADAPTER)
    rows.append(_row(f"{GENERIC_PREFIX}<id>", generic, generic=True))
    for exchange_id in exchanges:
        cls = generic.for_exchange(exchange_id)
        rows.append(_row(cls.name, cls))
    columns = list(rows[-1])
    return [{c: row.get(c, "") for c in columns} for row in rows]
