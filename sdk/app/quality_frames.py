"""Execution quality at scale: the vectorised path behind
:func:`exsdk.app.quality.execution_quality`.

The journal keeps each child's trades summed exactly as they are written (schema version
4's ``trade_sums``, from version 3's integer columns:
:meth:`~exsdk.journal.base.Journal.report_trade_sums`), so a run of a million trades comes
back as one row per child and fee currency; trades whose values do not fit those integers
are folded from their decimal text by :func:`exsdk.fills.fold_frame`, and when a sum
overflows, every trade is (in chunks, bounded memory). No Python loop runs over trades;
the loops left run over parents and children (and over the few trades the charts draw).
The figures are those of :func:`exsdk.app.quality.execution_quality_rows`: the same
selection of trades (matched to a child by client order id; for the fill, only trades of
the parent's own venue orders, each venue trade once), the same formulas, and the same
helpers for everything per parent.
"""

from __future__ import annotations

import functools
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
    TradeScope,
    _children_frame,
    _mid_samples,
    _parent_row,
    _rejections,
    _samples_by_symbol,
    _total,
    _twap_config,
    _wave_windows,
    _waves,
    chart_parents,
    chart_trades,
    execution_quality_rows,
)
from exsdk.fills import base_of, fold_frame
from exsdk.journal import Journal, RunRecord
from exsdk.journal.base import EXACT_LIMB, EXACT_SCALE
from exsdk.models import ChildStatus, OmsFill, Order, Side
from exsdk.models.base import lenient_enum

__all__ = ["vectorised_quality"]

_ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_side = functools.lru_cache(maxsize=64)(lenient_enum(Side))
_status = functools.lru_cache(maxsize=64)(lenient_enum(ChildStatus))


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


def _kids(rows: Sequence[tuple[Any, ...]]) -> list[_Kid]:
    """The children of :meth:`~exsdk.journal.base.Journal.report_child_rows`, one record
    each, straight from the row tuples."""
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
            rows
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


@attrs.frozen
class _Run:
    """What every path of the fold reads besides the trades."""

    record: RunRecord
    clock_map: ClockMap
    parents: list[tuple[Order, str]]
    kids: list[_Kid]
    kid_index: pd.Index
    kid_pid: np.ndarray
    owned: _Ownership
    table: pd.DataFrame
    signs: list[int]
    kid_twaps: list[Decimal | None]
    mids: pd.DataFrame
    samples: dict[str, list[tuple[datetime, Decimal]]]
    planned: Any


@attrs.define
class _Folded:
    """The fold's exact sums per parent (fill) and per child (TWAP), and each parent's first
    and last trade time (epoch microseconds on the broker's clock)."""

    fill: _Sums
    twap: _Sums
    lo: dict[int, int]
    hi: dict[int, int]
    pieces: list[pd.DataFrame] | None = None


def _read_run(journal: Journal, run_id: str) -> _Run:
    record = journal.run(run_id)
    config = _twap_config(record.params)
    parents = journal.parent_orders(run_id)
    kid_rows = journal.report_child_rows(run_id)
    mids = _mid_samples(journal, run_id)
    samples = _samples_by_symbol(mids)
    planned = _wave_windows(parents, config, samples)
    kids = _kids(kid_rows)
    return _Run(
        record=record,
        clock_map=ClockMap.from_events(journal.run_events(run_id)),
        parents=parents,
        kids=kids,
        kid_index=pd.Index([row[0] for row in kid_rows], dtype=object),
        kid_pid=np.asarray([k.parent_order_id for k in kids], dtype=np.int64),
        owned=_Ownership(kids),
        table=pd.DataFrame(
            {
                "parent_order_id": [o.order_id for o, _ in parents],
                "symbol": [s for _, s in parents],
                "diff_num_shares": [o.diff_num_shares for o, _ in parents],
                "quote": [_quote_of(s) for _, s in parents],
            }
        ),
        signs=[-1 if o.diff_num_shares < 0 else 1 for o, _ in parents],
        kid_twaps=[planned.wave_twaps.get((k.symbol, k.parent_order_id, k.wave)) for k in kids],
        mids=mids,
        samples=samples,
        planned=planned,
    )


def vectorised_quality(
    journal: Journal, run_id: str, *, trades: TradeScope = "all"
) -> ExecutionQuality:
    """:func:`exsdk.app.quality.execution_quality`, vectorised (see the module docstring).

    First the database's exact integer sums (:func:`_sql_fold`); when they cannot be used
    (a sum beyond 64 bits, a venue trade that may be journaled twice), the trades' decimal
    text folded in chunks (:func:`_chunked_fold`); when a trade is journaled twice, the row
    path.
    """
    # One snapshot: a broker still writing the run adds nothing half-way through the reads.
    with journal.snapshot():
        run = _read_run(journal, run_id)
        folded = _sql_fold(journal, run_id, run, journal.report_trade_sum_limbs(run_id))
        if folded is None:
            folded = _chunked_fold(journal, run_id, run, keep_trades=trades != "none")
            if folded is None:
                # A venue trade journaled twice for one run (possible only across exchanges
                # or symbols): fold_fill's dedupe, row by row. Rare, exact, slow.
                return execution_quality_rows(journal, run_id)
        if folded.pieces is None and trades == "all":
            folded.pieces = [
                _trades_frame(chunk, run)
                for chunk in journal.report_trade_chunks(run_id, _CHUNK_ROWS)
            ]
        return _finish(journal, run_id, run, folded, trades)


def _finish(
    journal: Journal, run_id: str, run: _Run, folded: _Folded, scope: TradeScope
) -> ExecutionQuality:
    parents, kids = run.parents, run.kids
    fills = _fills(parents, kids, folded.fill)
    twap = _twap_by_parent(parents, kids, run.kid_twaps, folded.twap)
    us = timedelta(microseconds=1)
    spans = {p: (_EPOCH + folded.lo[p] * us, _EPOCH + folded.hi[p] * us) for p in folded.lo}
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
            run.samples.get(symbol, []),
        )
        for order, symbol in parents
    ]
    refs = {r["parent_order_id"]: r["_ref"] for r in parent_rows}
    total = _total(parent_rows)
    parents_frame = pd.DataFrame(parent_rows, columns=_PARENT_COLUMNS)
    pieces = [p for p in folded.pieces or [] if len(p)]
    if scope == "charts":
        shown = set(chart_parents(parents_frame)["parent_order_id"].tolist())
        if folded.pieces is None:
            ids = [k.client_order_id for k in kids if k.parent_order_id in shown]
            chunk = journal.report_trades_of(run_id, ids)
            pieces = [_trades_frame(chunk, run)]
        else:
            pieces = [p[p["parent_order_id"].isin(shown)] for p in pieces]
    trades_out = (
        pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=TRADE_COLUMNS)
    )
    if scope == "charts":
        trades_out = chart_trades(trades_out)
    elif scope == "none":
        trades_out = trades_out.iloc[:0]
    return ExecutionQuality(
        run_id=run_id,
        adapter=run.record.adapter,
        exchange=run.record.exchange,
        environment=run.record.environment,
        started_at=run.record.started_at,
        speed=run.clock_map.speed,
        parents=parents_frame,
        total=total,
        waves=_waves(kids, refs),
        rejections=_rejections(kids),
        mids=run.mids,
        children=_children_frame(kids, run.planned.plans),
        trades=trades_out,
        wave_windows=pd.DataFrame(
            run.planned.windows, columns=["wave", "start", "end", "cancel_at"]
        ),
        trades_scope=scope,
    )


def _decimal(total: int | None) -> Decimal:
    # An exact sum at 18 decimals as the Decimal sum of its parts would be (exponent -18);
    # untouched stays Decimal(0), as a sum that never added anything.
    return _ZERO if total is None else Decimal(total).scaleb(-EXACT_SCALE, context=_EXACT)


def _group_sum(values: np.ndarray, groups: np.ndarray, n: int) -> list[int]:
    """``values`` (ints) summed by ``groups`` (0 .. n-1), exactly, as Python ints: in int64
    when no sum can leave it (the sum of every |value| fits), else as Python ints."""
    if values.dtype != object and len(values):
        low, high = int(values.min()), int(values.max())
        if max(-low, high) * len(values) < 2**63:
            out = np.zeros(n, dtype=np.int64)
            np.add.at(out, groups, values)
            result: list[int] = out.tolist()
            return result
        values = values.astype(object)
    exact = np.zeros(n, dtype=object)  # Python int 0s: object adds are Python's, exact
    if len(values):
        np.add.at(exact, groups, values)
    return [int(v) for v in exact.tolist()]


def _limb_sums(
    c: Mapping[str, np.ndarray], name: str, rows: np.ndarray, groups: np.ndarray, n: int
) -> tuple[list[int], list[int]]:
    """The ``hi`` and ``lo`` limbs of ``name`` over ``rows`` (a mask), summed by ``groups``."""
    return (
        _group_sum(c[f"{name}_hi"][rows], groups, n),
        _group_sum(c[f"{name}_lo"][rows], groups, n),
    )


def _int_sums(
    run: _Run, c: Mapping[str, np.ndarray], kid_of: np.ndarray, pid: np.ndarray, keep: np.ndarray
) -> tuple[_Sums, _Sums]:
    """The fill sums per parent and the |amount| sums per child from the database's rows,
    each limb summed by group in int64 where no sum can overflow it, then made one Python
    integer at 18 decimals per group (exact; one Decimal per sum at the end). A sum no row
    added to stays untouched (``Decimal(0)``, as the row path's start value)."""
    n_parents, n_kids = len(run.parents), len(run.kids)
    group_of = {o.order_id: g for g, (o, _) in enumerate(run.parents)}
    quotes = [_quote_of(s) for _, s in run.parents]
    bases = [base_of(s) for _, s in run.parents]
    exact = c["exact"]
    counted = exact > 0

    # Per child: |amount| = amount - 2 x the negative amounts, and the same for notional.
    k_rows = kid_of[counted]
    t_count = _group_sum(exact[counted], k_rows, n_kids)
    t_amount: list[int | None] = [None] * n_kids
    t_value: list[int | None] = [None] * n_kids
    a_hi, a_lo = _limb_sums(c, "amount", counted, k_rows, n_kids)
    na_hi, na_lo = _limb_sums(c, "neg_amount", counted, k_rows, n_kids)
    v_hi, v_lo = _limb_sums(c, "notional", counted, k_rows, n_kids)
    nv_hi, nv_lo = _limb_sums(c, "neg_notional", counted, k_rows, n_kids)
    for k in np.flatnonzero(np.asarray(t_count) > 0).tolist():
        t_amount[k] = (a_hi[k] - 2 * na_hi[k]) * EXACT_LIMB + a_lo[k] - 2 * na_lo[k]
        t_value[k] = (v_hi[k] - 2 * nv_hi[k]) * EXACT_LIMB + v_lo[k] - 2 * nv_lo[k]

    # Per parent: the trades of its own venue orders.
    groups = np.asarray([group_of.get(p, -1) for p in pid.tolist()], dtype=np.int64)
    filled = counted & keep & (groups >= 0)
    g_rows = groups[filled]
    f_count = _group_sum(exact[filled], g_rows, n_parents)
    f_amount: list[int | None] = [None] * n_parents
    f_value: list[int | None] = [None] * n_parents
    a_hi, a_lo = _limb_sums(c, "amount", filled, g_rows, n_parents)
    v_hi, v_lo = _limb_sums(c, "notional", filled, g_rows, n_parents)
    for g in np.flatnonzero(np.asarray(f_count) > 0).tolist():
        f_amount[g] = a_hi[g] * EXACT_LIMB + a_lo[g]
        f_value[g] = v_hi[g] * EXACT_LIMB + v_lo[g]

    # Fees by (parent, currency), each parent's currencies in the order its rows name them
    # first; in quote currency: a quote fee as it is, a base fee at the trade's price.
    with_fee = filled & (c["fees"] > 0)
    fee_rows = np.flatnonzero(with_fee)
    fee_groups = groups[fee_rows].tolist()
    currencies = [
        quotes[g] if cur is None else str(cur)
        for g, cur in zip(fee_groups, c["fee_currency"][fee_rows].tolist(), strict=True)
    ]
    keys: dict[tuple[int, str], int] = {}
    codes = np.asarray(
        [keys.setdefault(key, len(keys)) for key in zip(fee_groups, currencies, strict=True)],
        dtype=np.int64,
    )
    f_hi, f_lo = _limb_sums(c, "fee", with_fee, codes, len(keys))
    fn_hi, fn_lo = _limb_sums(c, "fee_notional", with_fee, codes, len(keys))
    f_fees: list[dict[str, int]] = [{} for _ in range(n_parents)]
    f_quote: list[int | None] = [None] * n_parents
    for (g, cur), code in keys.items():
        cost = f_hi[code] * EXACT_LIMB + f_lo[code]
        f_fees[g][cur] = cost
        if cur == quotes[g]:
            in_quote: int | None = cost
        elif cur == bases[g]:
            in_quote = fn_hi[code] * EXACT_LIMB + fn_lo[code]
        else:
            in_quote = None
        if in_quote is not None:
            old = f_quote[g]
            f_quote[g] = in_quote if old is None else old + in_quote
    fill = _Sums(
        [_decimal(x) for x in f_amount],
        [_decimal(x) for x in f_value],
        [_decimal(x) for x in f_quote],
        [{cur: _decimal(x) for cur, x in fees.items()} for fees in f_fees],
        f_count,
    )
    twap = _Sums(
        [_decimal(x) for x in t_amount],
        [_decimal(x) for x in t_value],
        [_ZERO] * n_kids,
        [{} for _ in range(n_kids)],
        t_count,
    )
    return fill, twap


def _sql_fold(
    journal: Journal, run_id: str, run: _Run, sums: Mapping[str, np.ndarray] | None
) -> _Folded | None:
    """The fold from the journal's exact integer sums (schema version 4,
    :meth:`~exsdk.journal.base.Journal.report_trade_sum_limbs`): one row per
    (child, venue order, exchange, symbol, fee currency) instead of one per trade; the
    trades without exact integers folded from their text. ``None`` when the sums cannot be
    used: one overflowed, or a (parent, venue order) has trades of two exchanges or
    symbols, so a venue trade may be journaled twice (the chunked fold checks exactly)."""
    if sums is None:
        return None
    kid_of = run.kid_index.get_indexer(pd.Index(sums["client_order_id"], dtype=object))
    known = kid_of >= 0
    if not known.all():
        sums = {name: column[known] for name, column in sums.items()}
        kid_of = kid_of[known]
    inexact = None
    if len(kid_of) and (sums["exact"] < sums["trades"]).any():
        inexact = journal.report_inexact_trades(run_id)
    pid = run.kid_pid[kid_of]
    ccxt = sums["ccxt_order_id"]
    keep = run.owned.keep(pid, ccxt) if len(kid_of) else np.zeros(0, dtype=bool)
    where = [
        pd.DataFrame(
            {
                "p": pid[keep],
                "o": ccxt[keep],
                "e": sums["exchange"][keep],
                "s": sums["symbol"][keep],
            }
        )
    ]
    if inexact is not None and len(inexact):
        i_kid = run.kid_index.get_indexer(
            pd.Index(inexact["client_order_id"].to_numpy(dtype=object))
        )
        inexact = inexact[i_kid >= 0].reset_index(drop=True)
        i_pid = run.kid_pid[i_kid[i_kid >= 0]]
        i_ccxt = inexact["ccxt_order_id"].to_numpy(dtype=object)
        i_keep = run.owned.keep(i_pid, i_ccxt) if len(inexact) else np.zeros(0, dtype=bool)
        where.append(
            pd.DataFrame(
                {
                    "p": i_pid[i_keep],
                    "o": i_ccxt[i_keep],
                    "e": inexact["exchange"].to_numpy(dtype=object)[i_keep],
                    "s": inexact["symbol"].to_numpy(dtype=object)[i_keep],
                }
            )
        )
    # Where one venue order of one parent has trades under two exchanges or symbols:
    # its distinct (exchange, symbol) places are more than one.
    places = pd.concat(where, ignore_index=True) if len(where) > 1 else where[0]
    if places.drop_duplicates().duplicated(subset=["p", "o"]).any():
        return None

    fill, twap = _int_sums(run, sums, kid_of, pid, keep)
    folded = _Folded(fill, twap, {}, {})
    if inexact is not None and len(inexact):
        _fold_chunk(inexact, run, folded, keep_trades=False)
    _sql_spans(journal, run_id, run, sums, kid_of, folded)
    _add_extra_fees(journal, run_id, run, folded)
    return folded


def _sql_spans(
    journal: Journal,
    run_id: str,
    run: _Run,
    sums: Mapping[str, np.ndarray],
    kid_of: np.ndarray,
    folded: _Folded,
) -> None:
    """Each parent's first and last trade time from the groups' venue timestamps, and the
    journaled times of the trades without one (read only when there are such trades)."""
    timed = sums["timed"] > 0
    ms = np.concatenate([sums["first_ms"][timed], sums["last_ms"][timed]]).astype(object)
    pids = np.concatenate([run.kid_pid[kid_of][timed]] * 2)
    frame = pd.DataFrame({"timestamp": ms, "at": np.full(len(ms), None, dtype=object)})
    if (sums["timed"] < sums["trades"]).any():
        untimed = journal.report_untimed_trades(run_id)
        u_kid = run.kid_index.get_indexer(
            pd.Index(untimed["client_order_id"].to_numpy(dtype=object))
        )
        untimed = untimed[u_kid >= 0]
        frame = pd.concat(
            [
                frame,
                pd.DataFrame(
                    {
                        "timestamp": np.full(len(untimed), None, dtype=object),
                        "at": untimed["at"].to_numpy(dtype=object),
                    }
                ),
            ],
            ignore_index=True,
        )
        pids = np.concatenate([pids, run.kid_pid[u_kid[u_kid >= 0]]])
    if len(frame):
        _extend_spans(folded.lo, folded.hi, _trade_times_us(frame, run.clock_map), pids)


def _chunked_fold(journal: Journal, run_id: str, run: _Run, *, keep_trades: bool) -> _Folded | None:
    """The fold from every trade's decimal text, in chunks of :data:`_CHUNK_ROWS` (bounded
    memory); ``None`` when a venue trade is journaled twice for one run."""
    folded = _Folded(
        _Sums.zeros(len(run.parents)),
        _Sums.zeros(len(run.kids)),
        {},
        {},
        [] if keep_trades else None,
    )
    hashes: list[np.ndarray] = []
    for trades in journal.report_trade_chunks(run_id, _CHUNK_ROWS):
        hashes.append(_fold_chunk(trades, run, folded, keep_trades=keep_trades, spans=True))
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    if len(np.unique(all_hashes)) != len(all_hashes):
        return None
    _add_extra_fees(journal, run_id, run, folded)
    return folded


def _fold_chunk(
    trades: pd.DataFrame,
    run: _Run,
    folded: _Folded,
    *,
    keep_trades: bool,
    spans: bool = False,
) -> np.ndarray:
    """Fold one frame of trades (report columns) into ``folded``; the hashes of its
    counted (parent, venue order, trade id) keys."""
    kid_of = run.kid_index.get_indexer(pd.Index(trades["client_order_id"].to_numpy(dtype=object)))
    known = kid_of >= 0
    if not known.all():
        trades, kid_of = trades[known], kid_of[known]
    if not len(trades):
        return np.zeros(0, dtype=np.uint64)
    pid = run.kid_pid[kid_of]
    ccxt = trades["ccxt_order_id"].to_numpy(dtype=object)
    amount = trades["amount"].to_numpy(dtype=object)
    price = trades["price"].to_numpy(dtype=object)
    keep = run.owned.keep(pid, ccxt)
    trade_ids = trades["trade_id"].to_numpy(dtype=object)[keep]
    # Venues number trades per symbol: only (parent, order, trade id) must not repeat.
    hashes = pd.util.hash_pandas_object(
        _frame({"p": pid[keep], "o": ccxt[keep], "t": trade_ids}), index=False
    ).to_numpy()
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
    folded.fill.add(fold_frame(fill_frame, run.table, dedupe=False), run.signs)
    groups = pd.DataFrame(
        {
            "parent_order_id": np.arange(len(run.kids)),
            "symbol": [k.symbol for k in run.kids],
            "diff_num_shares": [Decimal(1)] * len(run.kids),
        }
    )
    twap_frame = _frame(
        {
            "parent_order_id": kid_of,
            "ccxt_order_id": np.full(len(kid_of), "", dtype=object),
            "trade_id": np.full(len(kid_of), "", dtype=object),
            "amount": _abs_text(amount),
            "price": price,
        }
    )
    folded.twap.add(fold_frame(twap_frame, groups, dedupe=False), [1] * len(run.kids))
    if spans or keep_trades:
        at_us = _trade_times_us(trades, run.clock_map)
        if spans:
            _extend_spans(folded.lo, folded.hi, at_us, pid)
        if keep_trades and folded.pieces is not None:
            folded.pieces.append(_trades_frame(trades, run, at_us=at_us))
    result: np.ndarray = hashes
    return result


def _add_extra_fees(journal: Journal, run_id: str, run: _Run, folded: _Folded) -> None:
    """The fees of the run's trades with several (``trade_fees``), folded into the fills."""
    if not any(folded.fill.count) and not any(folded.twap.count):
        return
    extra = _extra_fees(journal, run_id, run.kids, run.owned.owners, run.table)
    if not int(extra["num_trades"].sum()):
        return
    folded.fill.add(extra, run.signs)
    folded.fill.count = [c - e for c, e in zip(folded.fill.count, extra["num_trades"], strict=True)]


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

    @functools.cached_property
    def pairs(self) -> pd.MultiIndex:
        """Every (parent, venue order) that counts; built only when an order has several
        owners (10,000 tuples cost more than the rest of the ownership check)."""
        return pd.MultiIndex.from_tuples(
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
    trades: pd.DataFrame, run: _Run, *, at_us: np.ndarray | None = None
) -> pd.DataFrame:
    """The trades the report draws, one row per trade of one of the run's children, in
    journal order; price and amount as the journal's decimal text. ``at_us``: the trades'
    times, when known already."""
    kids = run.kids
    kid_of = run.kid_index.get_indexer(pd.Index(trades["client_order_id"].to_numpy(dtype=object)))
    if not (kid_of >= 0).all():
        mask = kid_of >= 0
        trades, kid_of = trades[mask], kid_of[mask]
        at_us = None if at_us is None else at_us[mask]
    if not len(trades):
        return pd.DataFrame(columns=TRADE_COLUMNS)
    if at_us is None:
        at_us = _trade_times_us(trades, run.clock_map)
    pid = run.kid_pid[kid_of]
    kid_side = np.asarray([str(k.side) for k in kids], dtype=object)[kid_of]
    side = trades["side"].to_numpy(dtype=object)
    side = np.where(pd.isna(side), kid_side, side)
    maker_text = trades["taker_or_maker"].to_numpy(dtype=object)
    maker = np.full(len(pid), None, dtype=object)
    has = ~pd.isna(maker_text)
    maker[has] = maker_text[has] == "maker"
    twaps = np.empty(len(kids), dtype=object)
    twaps[:] = list(run.kid_twaps)
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
