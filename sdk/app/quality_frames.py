"""Execution quality at scale: the vectorised path behind
:func:`exsdk.app.quality.execution_quality`.

One query per table over the journal's typed columns (schema version 2), every fill folded
by :func:`exsdk.fills.fold_frame` (exact integer arithmetic on the decimal text), and the
per-child sums the TWAP slippage needs folded the same way. The Python loops left run over
parents and children, never over trades. The figures are those of
:func:`exsdk.app.quality.execution_quality_rows`: the same selection of trades (matched to a
child by client order id; for the fill, only trades of the parent's own venue orders, each
venue trade once), the same formulas, and the same helpers for everything per parent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import Any

import attrs
import numpy as np
import pandas as pd

from exsdk.app.quality import (
    _PARENT_COLUMNS,
    BPS,
    TRADE_COLUMNS,
    ClockMap,
    ExecutionQuality,
    _children_frame,
    _mid_samples,
    _parent_row,
    _rejections,
    _samples_by_symbol,
    _total,
    _twap_config,
    _wave_windows,
    _waves,
    execution_quality_rows,
)
from exsdk.fills import fold_frame
from exsdk.journal import Journal
from exsdk.models import ChildStatus, OmsFill, Order, Side
from exsdk.models.base import lenient_enum

__all__ = ["vectorised_quality"]

_ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_side = lenient_enum(Side)
_status = lenient_enum(ChildStatus)


@attrs.frozen
class _Kid:
    """A child in its latest state, from the journal's typed columns (a
    :class:`~exsdk.app.quality.ChildView`)."""

    parent_order_id: int
    wave: int
    client_order_id: str
    symbol: str
    side: Side | str
    amount: Decimal
    limit_price: Decimal | None
    status: ChildStatus | str
    ccxt_order_id: str | None
    filled: Decimal
    reason: str | None
    created_at: datetime | None

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the side's sign."""
        return self.amount if self.side == Side.BUY else -self.amount


def _frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of these arrays as they are: object arrays stay object (pandas would scan
    and copy text into its string dtype)."""
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object)
            if isinstance(values, np.ndarray) and values.dtype == object
            else values
            for name, values in columns.items()
        },
        copy=False,
    )


def _from_ms(ms: Any) -> datetime | None:
    # As the models read epoch milliseconds: <= 0 is unknown.
    if ms is None or ms <= 0:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _kids(frame: pd.DataFrame) -> list[_Kid]:
    return [
        _Kid(
            parent_order_id=int(pid),
            wave=int(wave),
            client_order_id=str(cid),
            symbol=str(symbol),
            side=_side(side),
            amount=Decimal(amount),
            limit_price=None if limit is None else Decimal(limit),
            status=_status(status),
            ccxt_order_id=ccxt,
            filled=Decimal(filled),
            reason=reason,
            created_at=_from_ms(created),
        )
        for cid, pid, wave, status, ccxt, filled, reason, symbol, side, amount, limit, created in (
            frame.itertuples(index=False, name=None)
        )
    ]


def _quote_of(symbol: str) -> str:
    return symbol.split(":", 1)[0].split("/", 1)[1] if "/" in symbol else "USDT"


def _half_even_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """``numerator / denominator`` rounded half to even, exactly, in int64."""
    q = numerator // denominator
    r = numerator - q * denominator
    up = (2 * r > denominator) | ((2 * r == denominator) & (q % 2 == 1))
    result: np.ndarray = q + up.astype(np.int64)
    return result


def _to_clock_us(wall_us: np.ndarray, clock_map: ClockMap) -> np.ndarray:
    """Wall microseconds since the epoch onto the broker's clock, exactly as
    :meth:`ClockMap.to_clock` does it (a timedelta times a float, rounded half to even)."""
    if clock_map.wall_origin is None or clock_map.clock_origin is None or not len(wall_us):
        return wall_us
    wall0 = (clock_map.wall_origin - _EPOCH) // timedelta(microseconds=1)
    clock0 = (clock_map.clock_origin - _EPOCH) // timedelta(microseconds=1)
    a, b = float(clock_map.speed).as_integer_ratio()
    delta = wall_us - wall0
    if int(np.abs(delta).max()) * abs(a) < 2**62:
        return clock0 + _half_even_div(delta * a, b)
    # Beyond int64: Python integers (exact, slower; a clock rate with a long binary fraction).
    exact = [clock0 + _round_half_even(int(d) * a, b) for d in delta.tolist()]
    return np.asarray(exact, dtype=np.int64)


def _round_half_even(n: int, d: int) -> int:
    q, r = divmod(n, d)
    return q + (1 if 2 * r > d or (2 * r == d and q % 2 == 1) else 0)


def _trade_times_us(trades: pd.DataFrame, clock_map: ClockMap) -> np.ndarray:
    """Each trade's time on the broker's clock in epoch microseconds: the venue's timestamp,
    else the time the journal wrote the trade."""
    ms = pd.to_numeric(trades["timestamp"], errors="coerce").to_numpy(dtype=np.float64)
    missing = np.isnan(ms)
    wall = np.zeros(len(ms), dtype=np.int64)
    wall[~missing] = ms[~missing].astype(np.int64) * 1000
    if missing.any():
        at = pd.to_datetime(pd.Series(trades["at"].to_numpy()[missing]), utc=True, format="ISO8601")
        wall[missing] = at.to_numpy(dtype="datetime64[us]").astype(np.int64)
    return _to_clock_us(wall, clock_map)


def _abs_text(values: np.ndarray) -> np.ndarray:
    # Decimal text from the journal never starts with "+" or a space, so "-" sorts first.
    if len(values) and str(min(values)).startswith("-"):
        return np.asarray([v[1:] if v.startswith("-") else v for v in values], dtype=object)
    return values


_CHUNK_ROWS = 250_000
"""Trades folded per pass: memory stays bounded by the chunk, whatever the run's size."""
_EXACT = Context(prec=1000)


@attrs.define
class _Sums:
    """Exact running sums over chunks (Decimal adds at a precision that never rounds)."""

    amount: list[Decimal]
    value: list[Decimal]
    fee_in_quote: list[Decimal]
    fees: list[dict[str, Decimal]]
    count: list[int]

    @classmethod
    def zeros(cls, n: int) -> _Sums:
        return cls([_ZERO] * n, [_ZERO] * n, [_ZERO] * n, [{} for _ in range(n)], [0] * n)

    def add(self, folded: pd.DataFrame, signs: Sequence[int]) -> None:
        """Add one fold_frame result (rows in group order); ``signs`` undo the parent's sign
        fold_frame gave the quantity."""
        quantity = folded["quantity"].tolist()
        value = folded["notional"].tolist()
        fee = folded["fee_in_quote"].tolist()
        fees = folded["fees"].tolist()
        count = folded["num_trades"].tolist()
        with localcontext(_EXACT):
            for g in range(len(quantity)):
                if not count[g] and not fees[g]:
                    continue
                self.amount[g] += quantity[g] * signs[g]
                self.value[g] += value[g]
                self.fee_in_quote[g] += fee[g]
                for cur, cost in fees[g].items():
                    self.fees[g][cur] = self.fees[g].get(cur, _ZERO) + cost
                self.count[g] += count[g]


def vectorised_quality(journal: Journal, run_id: str) -> ExecutionQuality:
    """:func:`exsdk.app.quality.execution_quality`, vectorised (see the module docstring)."""
    record = journal.run(run_id)
    clock_map = ClockMap.from_events(journal.run_events(run_id))
    config = _twap_config(record.params)
    parents = journal.parent_orders(run_id)
    kid_frame = journal.report_children(run_id)
    mids = _mid_samples(journal, run_id)
    samples = _samples_by_symbol(mids)
    planned = _wave_windows(parents, config, samples)
    kids = _kids(kid_frame)
    kid_index = pd.Index(kid_frame["client_order_id"].to_numpy(dtype=object), dtype=object)
    kid_pid = np.asarray([k.parent_order_id for k in kids], dtype=np.int64)
    owned = _Ownership(kids)
    table = pd.DataFrame(
        {
            "parent_order_id": [o.order_id for o, _ in parents],
            "symbol": [s for _, s in parents],
            "diff_num_shares": [o.diff_num_shares for o, _ in parents],
            "quote": [_quote_of(s) for _, s in parents],
        }
    )
    signs = [-1 if o.diff_num_shares < 0 else 1 for o, _ in parents]
    groups = pd.DataFrame(
        {
            "parent_order_id": np.arange(len(kids)),
            "symbol": [k.symbol for k in kids],
            "diff_num_shares": [Decimal(1)] * len(kids),
        }
    )
    kid_twaps = [planned.wave_twaps.get((k.symbol, k.parent_order_id, k.wave)) for k in kids]
    fill_sums = _Sums.zeros(len(parents))
    twap_sums = _Sums.zeros(len(kids))
    lo: dict[int, int] = {}
    hi: dict[int, int] = {}
    hashes: list[np.ndarray] = []
    pieces: list[pd.DataFrame] = []
    several = False
    for trades in journal.report_trade_chunks(run_id, _CHUNK_ROWS):
        kid_of = kid_index.get_indexer(pd.Index(trades["client_order_id"].to_numpy(dtype=object)))
        known = kid_of >= 0
        if not known.all():
            trades, kid_of = trades[known], kid_of[known]
        if not len(trades):
            continue
        pid = kid_pid[kid_of]
        ccxt = trades["ccxt_order_id"].to_numpy(dtype=object)
        amount = trades["amount"].to_numpy(dtype=object)
        price = trades["price"].to_numpy(dtype=object)
        keep = owned.keep(pid, ccxt)
        trade_ids = trades["trade_id"].to_numpy(dtype=object)[keep]
        # Venues number trades per symbol: only (parent, order, trade id) must not repeat.
        hashes.append(
            pd.util.hash_pandas_object(
                _frame({"p": pid[keep], "o": ccxt[keep], "t": trade_ids}), index=False
            ).to_numpy()
        )
        fee_count = trades["fee_count"].to_numpy(dtype=object)[keep]
        several = several or bool(np.any(fee_count.astype(np.int64) > 1))
        fill_frame = _frame(
            {
                "parent_order_id": pid[keep],
                "ccxt_order_id": ccxt[keep],
                "trade_id": trade_ids,
                "amount": amount[keep],
                "price": price[keep],
                "fee_cost": trades["fee_cost"].to_numpy(dtype=object)[keep],
                "fee_currency": trades["fee_currency"].to_numpy(dtype=object)[keep],
            }
        )
        fill_sums.add(fold_frame(fill_frame, table, dedupe=False), signs)
        twap_frame = _frame(
            {
                "parent_order_id": kid_of,
                "ccxt_order_id": np.full(len(kid_of), "", dtype=object),
                "trade_id": np.full(len(kid_of), "", dtype=object),
                "amount": _abs_text(amount),
                "price": price,
            }
        )
        twap_sums.add(fold_frame(twap_frame, groups, dedupe=False), [1] * len(kids))
        at_us = _trade_times_us(trades, clock_map)
        _extend_spans(lo, hi, at_us, pid)
        pieces.append(_trades_frame(trades, kids, kid_of, pid, at_us, kid_twaps))
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    if len(np.unique(all_hashes)) != len(all_hashes):
        # A venue trade journaled twice for one run (possible only across exchanges or
        # symbols): fold_fill's dedupe, row by row. Rare, exact, slow.
        return execution_quality_rows(journal, run_id)
    if several:
        extra = _extra_fees(journal, run_id, kids, owned.owners, table)
        fill_sums.add(extra, signs)
        fill_sums.count = [c - e for c, e in zip(fill_sums.count, extra["num_trades"], strict=True)]
    fills = _fills(parents, kids, fill_sums)
    twap = _twap_by_parent(parents, kids, kid_twaps, twap_sums)
    us = timedelta(microseconds=1)
    spans = {p: (_EPOCH + lo[p] * us, _EPOCH + hi[p] * us) for p in lo}

    kids_by_parent: dict[int, list[_Kid]] = {}
    for kid in kids:
        kids_by_parent.setdefault(kid.parent_order_id, []).append(kid)
    parent_rows = [
        _parent_row(
            order,
            symbol,
            _quote_of(symbol),
            fills[order.order_id],
            kids_by_parent.get(order.order_id, []),
            twap.get(order.order_id, (_ZERO, _ZERO, _ZERO)),
            spans.get(order.order_id),
            samples.get(symbol, []),
        )
        for order, symbol in parents
    ]
    refs = {r["parent_order_id"]: r["_ref"] for r in parent_rows}
    trades_out = (
        pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=TRADE_COLUMNS)
    )
    return ExecutionQuality(
        run_id=run_id,
        adapter=record.adapter,
        exchange=record.exchange,
        environment=record.environment,
        started_at=record.started_at,
        speed=clock_map.speed,
        parents=pd.DataFrame(parent_rows, columns=_PARENT_COLUMNS),
        total=_total(parent_rows),
        waves=_waves(kids, refs),
        rejections=_rejections(kids),
        mids=mids,
        children=_children_frame(kids, planned.plans),
        trades=trades_out,
        wave_windows=pd.DataFrame(planned.windows, columns=["wave", "start", "end", "cancel_at"]),
    )


class _Ownership:
    """fold_fill's rule: a trade counts for its parent only when its venue order is one of
    that parent's children's."""

    def __init__(self, kids: Sequence[_Kid]) -> None:
        self.owners: dict[str, set[int]] = {}
        for k in kids:
            if k.ccxt_order_id is not None:
                self.owners.setdefault(k.ccxt_order_id, set()).add(k.parent_order_id)
        self.single = all(len(v) == 1 for v in self.owners.values())
        ids = list(self.owners)
        self.index = pd.Index(ids, dtype=object)
        # The last entry, -1, is what a trade of an unknown order (index -1) looks up.
        self.owner = np.asarray(
            [next(iter(self.owners[i])) for i in ids] + [-1] if self.single else [-1],
            dtype=np.int64,
        )
        self.pairs = pd.MultiIndex.from_tuples(
            [(p, o) for o, ps in self.owners.items() for p in ps] or [(-1, "")]
        )

    def keep(self, pid: np.ndarray, ccxt: np.ndarray) -> np.ndarray:
        """Which trades (of parents ``pid``, venue orders ``ccxt``) count for the fill."""
        if self.single:
            where = self.index.get_indexer(pd.Index(ccxt, dtype=object))
            result: np.ndarray = self.owner[where] == pid
            return result
        return np.asarray(pd.MultiIndex.from_arrays([pid, ccxt]).isin(self.pairs))


def _fills(
    parents: Sequence[tuple[Order, str]], kids: Sequence[_Kid], sums: _Sums
) -> dict[int, OmsFill]:
    """Each parent's fill from the exact sums, finished as fold_fill finishes it."""
    kid_ids: dict[int, list[str]] = {}
    for k in kids:
        kid_ids.setdefault(k.parent_order_id, []).append(k.client_order_id)
    out = {}
    for g, (order, symbol) in enumerate(parents):
        amount, value = sums.amount[g], sums.value[g]
        out[order.order_id] = OmsFill(
            parent_order_id=order.order_id,
            asset_id=order.asset_id,
            symbol=symbol,
            quantity=-amount if order.diff_num_shares < 0 and amount else amount,
            price=value / amount if amount else None,
            notional=value,
            fees=sums.fees[g],
            fee_in_quote=sums.fee_in_quote[g],
            quote=_quote_of(symbol),
            num_trades=sums.count[g],
            child_client_order_ids=tuple(kid_ids.get(order.order_id, ())),
        )
    return out


def _extra_fees(
    journal: Journal,
    run_id: str,
    kids: Sequence[_Kid],
    owners: Mapping[str, set[int]],
    table: pd.DataFrame,
) -> pd.DataFrame:
    """The fees of trades with several, folded per parent like the single fees (the
    trade's price converts a base-currency fee); ``num_trades`` counts fee rows."""
    fees = journal.report_trade_fees(run_id)
    kid_pid = {k.client_order_id: k.parent_order_id for k in kids}
    pids = [kid_pid.get(c, -1) for c in fees["client_order_id"]]
    keep = [
        p >= 0 and o is not None and p in owners.get(o, ())
        for p, o in zip(pids, fees["ccxt_order_id"], strict=True)
    ]
    mask = np.asarray(keep, dtype=bool)
    frame = _frame(
        {
            "parent_order_id": np.asarray(pids, dtype=np.int64)[mask],
            "ccxt_order_id": fees["ccxt_order_id"].to_numpy(dtype=object)[mask],
            "trade_id": fees["trade_id"].to_numpy(dtype=object)[mask],
            "amount": np.full(int(mask.sum()), "0", dtype=object),
            "price": fees["price"].to_numpy(dtype=object)[mask],
            "fee_cost": fees["cost"].to_numpy(dtype=object)[mask],
            "fee_currency": fees["currency"].to_numpy(dtype=object)[mask],
        }
    )
    return fold_frame(frame, table, dedupe=False)


def _twap_by_parent(
    parents: Sequence[tuple[Order, str]],
    kids: Sequence[_Kid],
    kid_twaps: Sequence[Decimal | None],
    sums: _Sums,
) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """:func:`exsdk.app.quality._twap_sums` per parent, from the exact per-child sums of
    |amount| and |amount| x price (every trade of a child shares the child's wave TWAP)."""
    sides = {o.order_id: o.side for o, _ in parents}
    out: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
    for index, kid in enumerate(kids):
        ref = kid_twaps[index]
        if ref is None or not sums.count[index]:
            continue
        qty, value = sums.amount[index], sums.value[index]
        weighted, weight, ref_weighted = out.get(kid.parent_order_id, (_ZERO, _ZERO, _ZERO))
        signed = (
            value - ref * qty if sides.get(kid.parent_order_id) == Side.BUY else ref * qty - value
        )
        out[kid.parent_order_id] = (
            weighted + signed / ref * BPS,
            weight + qty,
            ref_weighted + qty * ref,
        )
    return out


def _extend_spans(
    lo: dict[int, int], hi: dict[int, int], at_us: np.ndarray, pid: np.ndarray
) -> None:
    """Widen each parent's first and last trade time (epoch microseconds) by a chunk."""
    codes, uniques = pd.factorize(pid)
    low = np.full(len(uniques), np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(len(uniques), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(low, codes, at_us)
    np.maximum.at(high, codes, at_us)
    for i, p in enumerate(uniques.tolist()):
        lo[p] = min(lo.get(p, int(low[i])), int(low[i]))
        hi[p] = max(hi.get(p, int(high[i])), int(high[i]))


def _trades_frame(
    trades: pd.DataFrame,
    kids: Sequence[_Kid],
    kid_of: np.ndarray,
    pid: np.ndarray,
    at_us: np.ndarray,
    kid_twaps: Sequence[Decimal | None],
) -> pd.DataFrame:
    """The trades the report draws, one row per trade in journal order; price and amount
    as the journal's decimal text."""
    if not len(pid):
        return pd.DataFrame(columns=TRADE_COLUMNS)
    kid_side = np.asarray([str(k.side) for k in kids], dtype=object)[kid_of]
    side = trades["side"].to_numpy(dtype=object)
    side = np.where(pd.isna(side), kid_side, side)
    maker_text = trades["taker_or_maker"].to_numpy(dtype=object)
    maker = np.full(len(pid), None, dtype=object)
    known = ~pd.isna(maker_text)
    maker[known] = maker_text[known] == "maker"
    twaps = np.empty(len(kids), dtype=object)
    twaps[:] = list(kid_twaps)
    frame = _frame(
        {
            "parent_order_id": pid,
            "client_order_id": np.asarray([k.client_order_id for k in kids], dtype=object)[kid_of],
            "symbol": np.asarray([k.symbol for k in kids], dtype=object)[kid_of],
            "wave": np.asarray([k.wave for k in kids], dtype=np.int64)[kid_of],
            "side": side,
            "price": trades["price"].to_numpy(dtype=object),
            "amount": trades["amount"].to_numpy(dtype=object),
            "at": pd.to_datetime(at_us, unit="us", utc=True),
            "wave_twap_mid": twaps[kid_of],
            "maker": maker,
        }
    )
    return frame[TRADE_COLUMNS]
