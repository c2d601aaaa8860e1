"""Fold a parent's child trades into one :class:`~exsdk.models.OmsFill`, and cross-check it.

Trades are the source of an OMS fill: they carry prices and fees. ccxt's order status
("ccxt fills") only has quantities, so :func:`cross_check` compares against it and never
replaces it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

import attrs

from exsdk._value import Value
from exsdk.extras import require
from exsdk.models.ccxt import CcxtOrder, CcxtTrade
from exsdk.models.oms import ChildOrder, OmsFill, Order

if TYPE_CHECKING:  # pandas and numpy load only when a frame is folded
    import numpy as np
    import pandas as pd

__all__ = [
    "FOLD_FRAME_COLUMNS",
    "FillDiscrepancy",
    "base_of",
    "cross_check",
    "fold_fill",
    "fold_frame",
]

_ZERO = Decimal(0)


def base_of(symbol: str) -> str:
    """The base currency of a ccxt symbol: ``ETH`` for ``ETH/USDT`` and ``ETH/USDT:USDT``."""
    return symbol.split(":", 1)[0].split("/", 1)[0]


def _fee_in_quote(
    currency: str | None,
    cost: Decimal,
    trade: CcxtTrade,
    *,
    base: str,
    quote: str,
    fee_conversion: Mapping[str, Decimal],
) -> Decimal | None:
    # A fee without a currency is taken as quote: that is how ccxt reports fees it
    # computed itself from the market's rates.
    if currency is None or currency == quote:
        return cost
    if currency == base:
        return cost * trade.price
    rate = fee_conversion.get(currency)
    return None if rate is None else cost * rate


def fold_fill(
    parent: Order,
    *,
    symbol: str,
    quote: str,
    children: Sequence[ChildOrder],
    trades: Sequence[CcxtTrade],
    fee_conversion: Mapping[str, Decimal] | None = None,
) -> OmsFill:
    """One fill for ``parent`` from the trades of its ``children``.

    Only trades whose ``order`` is one of the children's ``ccxt_order_id`` count; a trade
    seen twice (same order and trade id, e.g. fetched in two overlapping pages) counts
    once. The quantity has the parent's sign; the price is the volume-weighted average
    (``None`` when nothing filled); ``fees`` are summed per currency.

    ``fee_in_quote`` converts each fee: quote-currency fees as they are, base-currency fees
    at that trade's price, any other currency at ``fee_conversion[currency]`` (its price in
    the quote currency, e.g. ``{"BNB": Decimal("300")}``). A fee in a currency that cannot
    be converted is left out of ``fee_in_quote`` but still appears in ``fees``, so nothing
    is lost and nothing is guessed.
    """
    conversion = fee_conversion or {}
    base = base_of(symbol)
    order_ids = {c.ccxt_order_id for c in children if c.ccxt_order_id is not None}
    seen: set[tuple[str, str]] = set()
    mine: list[CcxtTrade] = []
    for trade in trades:
        if trade.order is None or trade.order not in order_ids:
            continue
        key = (trade.order, trade.id)
        if key in seen:
            continue
        seen.add(key)
        mine.append(trade)

    amount = _ZERO
    value = _ZERO
    fees: dict[str, Decimal] = {}
    fee_in_quote = _ZERO
    stamps: list[datetime] = []
    for trade in mine:
        amount += trade.amount
        value += trade.amount * trade.price
        if trade.timestamp is not None:
            stamps.append(trade.timestamp)
        for fee in trade.all_fees():
            currency = fee.currency if fee.currency is not None else quote
            fees[currency] = fees.get(currency, _ZERO) + fee.cost
            converted = _fee_in_quote(
                fee.currency, fee.cost, trade, base=base, quote=quote, fee_conversion=conversion
            )
            if converted is not None:
                fee_in_quote += converted

    # Negating only a non-zero amount: Decimal has a signed zero, and "-0" helps nobody.
    quantity = -amount if parent.diff_num_shares < 0 and amount else amount
    return OmsFill(
        parent_order_id=parent.order_id,
        asset_id=parent.asset_id,
        symbol=symbol,
        quantity=quantity,
        price=value / amount if amount else None,
        notional=value,
        fees=fees,
        fee_in_quote=fee_in_quote,
        quote=quote,
        num_trades=len(mine),
        first_trade_at=min(stamps) if stamps else None,
        last_trade_at=max(stamps) if stamps else None,
        child_client_order_ids=tuple(c.client_order_id for c in children),
    )


@attrs.frozen(repr=False, eq=False)
class FillDiscrepancy(Value):
    """The folded quantity of a parent disagrees with what the venue's orders report."""

    parent_order_id: int
    folded: Decimal
    reported: Decimal
    difference: Decimal


def cross_check(
    fill: OmsFill,
    ccxt_orders: Sequence[CcxtOrder],
    *,
    tolerance: Decimal = _ZERO,
) -> FillDiscrepancy | None:
    """Compare ``|fill.quantity|`` with the sum of ``filled`` over the parent's orders.

    ``ccxt_orders`` are the venue's views of this parent's children; an order listed twice
    (same id) counts once. Returns ``None`` when they agree within ``tolerance``, else the
    discrepancy (``difference = folded - reported``).
    """
    seen: set[str] = set()
    reported = _ZERO
    for order in ccxt_orders:
        if order.id in seen:
            continue
        seen.add(order.id)
        reported += order.filled or _ZERO
    folded = abs(fill.quantity)
    difference = folded - reported
    if abs(difference) <= tolerance:
        return None
    return FillDiscrepancy(fill.parent_order_id, folded, reported, difference)


# -- folding at scale ----------------------------------------------------------------

FOLD_FRAME_COLUMNS = (
    "symbol",
    "quote",
    "quantity",
    "price",
    "notional",
    "fee_in_quote",
    "fees",
    "num_trades",
    "first_trade_at",
    "last_trade_at",
)
"""The columns of :func:`fold_frame`'s result, one row per parent."""

# Decimal strings of at most this many characters have at most 15 significant digits, so
# a float64 parse of them, scaled by a power of ten and rounded, is exactly the integer
# (see _scaled_ints).
_FAST_MAX_LEN = 15
_LIMB_BITS = 21
# Rows per pass: every per-group sum of 21-bit limb products then stays below 2**63.
_CHUNK_ROWS = 1 << 20
# Scaling a Decimal to an integer must never round.
_EXACT = Context(prec=1000)


def _scaled_ints_exact(values: Sequence[Any]) -> tuple[list[int], int]:
    """Slow path: every value through ``Decimal``; Python integers at a common scale."""
    decimals = [Decimal(str(v)) if not isinstance(v, Decimal) else v for v in values]
    for d in decimals:
        if not d.is_finite():
            raise ValueError(f"not a finite decimal: {d}")
    scale = max((max(0, -int(d.as_tuple().exponent)) for d in decimals), default=0)
    return [int(d.scaleb(scale, context=_EXACT)) for d in decimals], scale


def _scaled_ints(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Decimal text as exact integers at a common scale: ``value == ints / 10**scale``.

    Fast path, for text of at most 15 characters (hence at most 15 significant digits):
    parse as float64, then find the smallest scale ``s`` at which every ``f * 10**s`` is
    within its rounding error of an integer. Both roundings together are below
    ``|y| * 2**-51``, while a value with more than ``s`` decimals sits at least
    ``0.77 * 10**-(extra digits)`` from an integer, more than that bound allows, so the
    rounded integers are exact and the scale is the true one. Anything else (longer text,
    ``Decimal`` or other objects) goes through ``Decimal`` row by row: exact, slower.
    Returns an int64 array, or an object array of Python ints when they do not fit.
    """
    import numpy as np

    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    fast = values.dtype.kind == "O" or values.dtype.kind == "U"
    if fast:
        try:
            fast = max(map(len, values)) <= _FAST_MAX_LEN and all(
                type(v) is str for v in values[: min(n, 64)]
            )
        except TypeError:  # not text (Decimal, float, None)
            fast = False
    if fast:
        try:
            floats = values.astype(np.float64)
        except (TypeError, ValueError):
            fast = False
    if fast and np.isfinite(floats).all():
        for scale in range(16):
            y = floats * (10.0**scale)
            rounded = np.rint(y)
            if np.all(np.abs(y - rounded) <= np.abs(y) * 2.0**-51):
                if np.abs(rounded).max() < 2.0**62:
                    return rounded.astype(np.int64), scale
                break
    ints, scale = _scaled_ints_exact(list(values))
    if all(-(2**62) < v < 2**62 for v in ints):
        return np.asarray(ints, dtype=np.int64), scale
    return np.asarray(ints, dtype=object), scale


def _limbs(ints: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sign and the 21-bit limbs of ``|ints|`` (as few as the largest value needs)."""
    import numpy as np

    sign = np.sign(ints).astype(np.int64)
    mag = np.abs(ints)
    top = int(mag.max()) if len(mag) else 0
    count = max(1, math.ceil(top.bit_length() / _LIMB_BITS))
    mask = (1 << _LIMB_BITS) - 1
    return sign, [(mag >> (_LIMB_BITS * k)) & mask for k in range(count)]


class _GroupSums:
    """Exact per-group sums of int64 columns and of products of two int64 columns.

    Every term is split into 21-bit limbs, so per-group sums of limb products stay in
    int64 for up to 2**21 rows per pass; passes and limbs are recombined as Python ints.
    """

    def __init__(self, groups: int) -> None:
        self.groups = groups
        self.columns: dict[str, list[tuple[int, np.ndarray]]] = {}

    def _add(self, name: str, shift: int, column: np.ndarray) -> None:
        self.columns.setdefault(name, []).append((shift, column))

    def add_sum(self, name: str, ints: np.ndarray, mask: np.ndarray | None = None) -> None:
        sign, limbs = _limbs(ints)
        if mask is not None:
            sign = sign * mask
        for k, limb in enumerate(limbs):
            self._add(name, _LIMB_BITS * k, sign * limb)

    def add_product(
        self, name: str, left: np.ndarray, right: np.ndarray, mask: np.ndarray | None = None
    ) -> None:
        lsign, llimbs = _limbs(left)
        rsign, rlimbs = _limbs(right)
        sign = lsign * rsign
        if mask is not None:
            sign = sign * mask
        for i, a in enumerate(llimbs):
            for j, b in enumerate(rlimbs):
                self._add(name, _LIMB_BITS * (i + j), sign * (a * b))

    def totals(self, codes: np.ndarray) -> dict[str, list[int]]:
        """Per-group exact sums (Python ints) of every named column."""
        import numpy as np

        out: dict[str, list[int]] = {}
        for name, parts in self.columns.items():
            acc = [0] * self.groups
            for shift, column in parts:
                # Sorted-free group sums: bincount would go through float64, so use
                # np.add.at on int64, which is exact.
                sums = np.zeros(self.groups, dtype=np.int64)
                np.add.at(sums, codes, column)
                for g, v in enumerate(sums.tolist()):
                    if v:
                        acc[g] += v << shift
            out[name] = acc
        return out


def _decimal(value: int, scale: int) -> Decimal:
    # Through text: the constructor is exact, whatever the context's precision.
    return Decimal(f"{value}E-{scale}") if scale else Decimal(value)


def fold_frame(
    trades: pd.DataFrame,
    parents: pd.DataFrame,
    *,
    quote: str = "USDT",
    fee_conversion: Mapping[str, Decimal] | None = None,
    dedupe: bool = True,
) -> pd.DataFrame:
    """:func:`fold_fill` for a whole frame of journaled trades at once: one row per parent.

    ``trades`` has a row per trade with ``parent_order_id``, ``ccxt_order_id``,
    ``trade_id``, ``amount`` and ``price`` (decimal text, as the journal stores them), and
    optionally ``fee_cost`` and ``fee_currency`` (one fee per trade, Binance's case) and
    ``timestamp`` (milliseconds). Rows belong to the parent the journal recorded them
    under; rows without a ``ccxt_order_id`` or of a parent not in ``parents`` are left
    out, and with ``dedupe`` a repeated (order, trade id) counts once, as in
    :func:`fold_fill`. ``parents`` has ``parent_order_id``, ``symbol`` and
    ``diff_num_shares`` (and may have ``quote``, else ``quote`` applies).

    Returns a frame indexed by ``parent_order_id`` (in ``parents``' order) with
    :data:`FOLD_FRAME_COLUMNS`: the same values :func:`fold_fill` gives, as ``Decimal``.
    The arithmetic is exact integer arithmetic on the values' own decimal scale (sums
    and products through 21-bit limbs in int64, recombined as Python ints), so nothing
    is rounded that ``fold_fill`` would not round; only the final VWAP division runs in
    the current decimal context, as it does there.
    """
    require("pandas", "report", "fold_frame")
    import numpy as np
    import pandas as pd

    conversion = dict(fee_conversion or {})
    pids = parents["parent_order_id"].to_numpy()
    groups = len(pids)
    symbols = [str(s) for s in parents["symbol"]]
    quotes = [str(q) for q in parents["quote"]] if "quote" in parents.columns else [quote] * groups
    bases = [base_of(s) for s in symbols]
    diffs = [d if isinstance(d, Decimal) else Decimal(str(d)) for d in parents["diff_num_shares"]]

    frame = trades
    if len(frame) and frame["ccxt_order_id"].isna().any():
        frame = frame[frame["ccxt_order_id"].notna()]
    if dedupe and len(frame):
        dup = frame.duplicated(["ccxt_order_id", "trade_id"])
        if dup.any():
            frame = frame[~dup.to_numpy()]
    codes = pd.Index(pids).get_indexer(frame["parent_order_id"])
    if len(codes) and (codes < 0).any():
        frame = frame[codes >= 0]
        codes = codes[codes >= 0]
    codes = codes.astype(np.intp)

    has_fees = "fee_cost" in frame.columns
    counts = np.bincount(codes, minlength=groups) if len(codes) else np.zeros(groups, int)
    amount_sum = [0] * groups
    value_sum = [0] * groups
    fee_quote_sum = [0] * groups  # at fee_scale (quote fees) / fee_scale + price_scale (base)
    fee_base_sum = [0] * groups
    fee_by_currency: list[dict[str, int]] = [{} for _ in range(groups)]
    amount_scale = price_scale = fee_scale = 0
    other: list[dict[str, int]] = [{} for _ in range(groups)]

    amount_all = frame["amount"].to_numpy()
    price_all = frame["price"].to_numpy()
    amount_ints, amount_scale = _scaled_ints(amount_all)
    price_ints, price_scale = _scaled_ints(price_all)
    if has_fees:
        costs = frame["fee_cost"]
        present = costs.notna().to_numpy()
        cost_text = costs.to_numpy() if present.all() else costs.where(present, "0").to_numpy()
        fee_ints, fee_scale = _scaled_ints(cost_text)
        currency_codes, currency_names = pd.factorize(frame["fee_currency"], use_na_sentinel=True)
        names = [str(c) for c in currency_names]
    big = amount_ints.dtype == object or price_ints.dtype == object
    if has_fees:
        big = big or fee_ints.dtype == object

    if big:
        # Values beyond int64 at their scale: plain Python ints, row by row (exact, slow).
        for r, g in enumerate(codes.tolist()):
            row_amount, row_price = int(amount_ints[r]), int(price_ints[r])
            amount_sum[g] += row_amount
            value_sum[g] += row_amount * row_price
            if has_fees and present[r]:
                cur = quotes[g] if currency_codes[r] < 0 else names[currency_codes[r]]
                cost = int(fee_ints[r])
                fee_by_currency[g][cur] = fee_by_currency[g].get(cur, 0) + cost
                if cur == quotes[g]:
                    fee_quote_sum[g] += cost
                elif cur == bases[g]:
                    fee_base_sum[g] += cost * row_price
                else:
                    other[g][cur] = other[g].get(cur, 0) + cost
    else:
        for start in range(0, len(codes), _CHUNK_ROWS):
            part = slice(start, start + _CHUNK_ROWS)
            chunk_codes = codes[part]
            sums = _GroupSums(groups)
            a, p = amount_ints[part], price_ints[part]
            sums.add_sum("amount", a)
            sums.add_product("value", a, p)
            if has_fees:
                f = fee_ints[part]
                cc = currency_codes[part]
                row_quote_code = np.full(groups, -2, dtype=np.int64)
                row_base_code = np.full(groups, -2, dtype=np.int64)
                for g in range(groups):
                    if quotes[g] in names:
                        row_quote_code[g] = names.index(quotes[g])
                    if bases[g] in names:
                        row_base_code[g] = names.index(bases[g])
                is_quote = (cc < 0) | (cc == row_quote_code[chunk_codes])
                is_base = ~is_quote & (cc == row_base_code[chunk_codes])
                keep = present[part].astype(np.int64)
                sums.add_sum("fee_quote", f, is_quote.astype(np.int64) * keep)
                sums.add_product("fee_base", f, p, is_base.astype(np.int64) * keep)
                # Per (parent, currency): a dense key, so no sort is needed. Key 0 of a
                # parent is "no currency", which fold_fill books as the quote.
                width = len(names) + 1
                key = chunk_codes.astype(np.int64) * width + (cc + 1)
                per_key = _GroupSums(groups * width)
                per_key.add_sum("cost", f, keep)
                key_totals = per_key.totals(key)["cost"]
                seen_keys = np.flatnonzero(np.bincount(key[keep > 0], minlength=groups * width))
                for k in seen_keys.tolist():
                    g, c = divmod(k, width)
                    cur = quotes[g] if c == 0 else names[c - 1]
                    total = key_totals[k]
                    fee_by_currency[g][cur] = fee_by_currency[g].get(cur, 0) + total
                    if c and cur != quotes[g] and cur != bases[g]:
                        other[g][cur] = other[g].get(cur, 0) + total
            totals = sums.totals(chunk_codes)
            for g in range(groups):
                amount_sum[g] += totals["amount"][g]
                value_sum[g] += totals["value"][g]
                if has_fees:
                    fee_quote_sum[g] += totals["fee_quote"][g]
                    fee_base_sum[g] += totals["fee_base"][g]

    first_at: list[Any] = [None] * groups
    last_at: list[Any] = [None] * groups
    if "timestamp" in frame.columns and len(codes):
        stamps = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(dtype=np.float64)
        ok = ~np.isnan(stamps)
        if ok.any():
            s = stamps[ok].astype(np.int64)
            c = codes[ok]
            lo = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
            hi = np.full(groups, np.iinfo(np.int64).min, dtype=np.int64)
            np.minimum.at(lo, c, s)
            np.maximum.at(hi, c, s)
            seen = np.bincount(c, minlength=groups) > 0
            for g in np.flatnonzero(seen).tolist():
                first_at[g] = pd.Timestamp(int(lo[g]), unit="ms", tz="UTC").to_pydatetime()
                last_at[g] = pd.Timestamp(int(hi[g]), unit="ms", tz="UTC").to_pydatetime()

    rows = []
    zero = Decimal(0)
    for g in range(groups):
        amount = _decimal(amount_sum[g], amount_scale)
        value = _decimal(value_sum[g], amount_scale + price_scale)
        fees: dict[str, Decimal] = {}
        fee_in_quote = zero
        if has_fees:
            fee_in_quote = _decimal(fee_quote_sum[g], fee_scale) + _decimal(
                fee_base_sum[g], fee_scale + price_scale
            )
            for cur, total in fee_by_currency[g].items():
                fees[cur] = _decimal(total, fee_scale)
            for cur, total in other[g].items():
                if cur in conversion:
                    fee_in_quote += _decimal(total, fee_scale) * conversion[cur]
        quantity = -amount if diffs[g] < 0 and amount else amount
        rows.append(
            (
                symbols[g],
                quotes[g],
                quantity,
                value / amount if amount else None,
                value,
                fee_in_quote,
                fees,
                int(counts[g]),
                first_at[g],
                last_at[g],
            )
        )
    # Object columns keep Decimal, None and aware datetimes as they are (no NaN, no NaT).
    out = pd.DataFrame(rows, columns=list(FOLD_FRAME_COLUMNS), index=pd.Index(pids), dtype=object)
    out["num_trades"] = out["num_trades"].astype(np.int64)
    out.index.name = "parent_order_id"
    return out
