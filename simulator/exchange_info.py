"""Loading the bundled exchangeInfo snapshots and extracting per-symbol rules."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from importlib import resources
from typing import Any, Literal

import attrs

MarketKind = Literal["spot", "futures"]

# The newest bundled snapshot of each market is the default; older ones stay selectable
# (the 2021-09 futures one is the only one listing HNTUSDT, the -4131 scenario's symbol).
DEFAULT_SPOT_SNAPSHOT = "spot_exchange_info_2024-09_selected.json"
DEFAULT_FUTURES_SNAPSHOT = "futures_exchange_info_2025-11_selected.json"
FUTURES_2021_SNAPSHOT = "futures_exchange_info_2021-09_selected_with_hntusdt.json"
_PREFIX = {"spot": "spot_exchange_info_", "futures": "futures_exchange_info_"}

_ZERO = Decimal(0)


def bundled_snapshots(kind: MarketKind) -> list[str]:
    """File names of the snapshots shipped for ``kind``, oldest first (names sort by date)."""
    folder = resources.files("exsdk.simulator").joinpath("data")
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.startswith(_PREFIX[kind]) and entry.name.endswith(".json")
    )


def resolve_snapshot(kind: MarketKind, name: str) -> str:
    """A bundled file name, a path, or a date prefix such as ``2021-09`` -> what to load.

    Raises ``ValueError`` naming the bundled snapshots when a prefix matches none or several.
    """
    if "/" in name or name in bundled_snapshots(kind):
        return name
    matches = [n for n in bundled_snapshots(kind) if n.startswith(_PREFIX[kind] + name)]
    if len(matches) != 1:
        known = ", ".join(bundled_snapshots(kind))
        raise ValueError(f"{kind} snapshot {name!r}: not one of the bundled ones ({known})")
    return matches[0]


def load_snapshot(name: str) -> dict[str, Any]:
    """Read a snapshot shipped in ``simulator/data`` (or an absolute path)."""
    if "/" in name:
        with open(name, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
            return data
    text = resources.files("exsdk.simulator").joinpath("data", name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@attrs.frozen
class SymbolRules:
    """The filters and precisions of one symbol, as Decimals."""

    symbol: str
    kind: MarketKind
    status: str
    base: str
    quote: str
    tick: Decimal
    min_price: Decimal
    max_price: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    min_notional_filter: str  # "NOTIONAL", "MIN_NOTIONAL" or "" (none)
    apply_min_to_market: bool
    max_notional: Decimal
    percent_up: Decimal
    percent_down: Decimal
    max_num_orders: int
    price_precision: int
    qty_precision: int


def _filters(sym: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in sym.get("filters", [])}


def _dec(d: dict[str, Any], key: str, default: str = "0") -> Decimal:
    return Decimal(str(d.get(key, default)))


def _places(value: Decimal) -> int:
    """Number of decimals needed to print multiples of ``value`` (0.010 -> 2)."""
    if value <= 0:
        return 8
    exp = value.normalize().as_tuple().exponent
    return max(0, -int(exp))


def rules_from_symbol(sym: dict[str, Any], kind: MarketKind) -> SymbolRules:
    """Build :class:`SymbolRules` from one ``symbols[]`` entry of exchangeInfo."""
    f = _filters(sym)
    price = f.get("PRICE_FILTER", {})
    lot = f.get("LOT_SIZE", {})
    mlot = f.get("MARKET_LOT_SIZE", lot)
    notional_name = ""
    min_notional = _ZERO
    max_notional = _ZERO
    apply_market = True
    if "NOTIONAL" in f:
        notional_name = "NOTIONAL"
        min_notional = _dec(f["NOTIONAL"], "minNotional")
        max_notional = _dec(f["NOTIONAL"], "maxNotional")
        apply_market = bool(f["NOTIONAL"].get("applyMinToMarket", True))
    elif "MIN_NOTIONAL" in f:
        notional_name = "MIN_NOTIONAL"
        mn = f["MIN_NOTIONAL"]
        min_notional = Decimal(str(mn.get("minNotional", mn.get("notional", "0"))))
        apply_market = bool(mn.get("applyToMarket", True))
    pp = f.get("PERCENT_PRICE", {})
    mno = f.get("MAX_NUM_ORDERS", {})
    tick = _dec(price, "tickSize")
    step = _dec(lot, "stepSize")
    return SymbolRules(
        symbol=sym["symbol"],
        kind=kind,
        status=sym.get("status", "TRADING"),
        base=sym["baseAsset"],
        quote=sym["quoteAsset"],
        tick=tick,
        min_price=_dec(price, "minPrice"),
        max_price=_dec(price, "maxPrice"),
        step=step,
        min_qty=_dec(lot, "minQty"),
        max_qty=_dec(lot, "maxQty"),
        market_step=_dec(mlot, "stepSize"),
        market_min_qty=_dec(mlot, "minQty"),
        market_max_qty=_dec(mlot, "maxQty"),
        min_notional=min_notional,
        min_notional_filter=notional_name,
        apply_min_to_market=apply_market,
        max_notional=max_notional,
        percent_up=_dec(pp, "multiplierUp", "0"),
        percent_down=_dec(pp, "multiplierDown", "0"),
        max_num_orders=int(mno.get("maxNumOrders", mno.get("limit", 200))),
        price_precision=int(sym.get("pricePrecision", _places(tick))),
        qty_precision=int(sym.get("quantityPrecision", _places(step))),
    )


@attrs.frozen
class ExchangeInfo:
    """A loaded snapshot: the raw document plus parsed rules per symbol."""

    kind: MarketKind
    raw: dict[str, Any]
    rules: dict[str, SymbolRules]

    @classmethod
    def load(cls, kind: MarketKind, name: str) -> ExchangeInfo:
        """Load snapshot ``name`` (see :func:`resolve_snapshot`) for market ``kind``."""
        raw = load_snapshot(resolve_snapshot(kind, name))
        rules = {s["symbol"]: rules_from_symbol(s, kind) for s in raw.get("symbols", [])}
        return cls(kind=kind, raw=raw, rules=rules)

    def document(self, server_time: int) -> dict[str, Any]:
        """The exchangeInfo body with ``serverTime`` set to now."""
        doc = copy.deepcopy(self.raw)
        doc["serverTime"] = server_time
        return doc

    def rate_limits(self) -> list[dict[str, Any]]:
        """The ``rateLimits`` section of the snapshot."""
        limits: list[dict[str, Any]] = self.raw.get("rateLimits", [])
        return limits
