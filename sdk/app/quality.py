"""Execution quality of a run, from its journal alone.

What kaizenflow's ``ccxt_execution_quality`` and ``core/finance/execution`` computed, per
parent and in total: fill rate, slippage in basis points against the arrival mid and
against the time-weighted average mid of the wave each trade's child belonged to, fees in
basis points of the traded notional, time to fill, and rejections by reason.

Sign convention (kaizenflow's): slippage is a cost. For a buy it is ``(price - ref) /
ref``, for a sell ``(ref - price) / ref``, times 10,000; positive means the trade did worse
than the reference, negative that it improved on it.

Reference prices come from the top-of-book samples :mod:`exsdk.app.experiment` journals as raw
responses of kind ``mid_sample``; a run without them (a broker used directly) still gets
fill rates, fees and times, with slippage left empty. Times are on the broker's clock: an
experiment on an accelerated clock journals the mapping from venue (wall) time, and venue
trade timestamps are moved onto the clock with it.

Every money and rate value is a ``Decimal``; the frames hold them as objects.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

import attrs
from rich import box
from rich.table import Table

from exsdk.app.outcomes import (
    FILLED_OF_ASKED,
    FILLED_OF_SENT,
    OUTCOMES,
    RATE_LEGEND,
    child_outcome,
    environment_note,
    is_sent,
    percent,
)
from exsdk.broker.twap import TwapConfig, plan_waves
from exsdk.error_tables import code_table_for
from exsdk.errors import LiquidityRejected
from exsdk.extras import MissingExtra
from exsdk.fills import base_of, fold_fill
from exsdk.journal import Journal
from exsdk.models import CcxtTrade, ChildOrder, ChildStatus, OmsFill, Order, OrderKind, Side

try:
    import pandas as pd
except ModuleNotFoundError as exc:  # the report extra is not installed
    raise MissingExtra("execution quality", "pandas", "report") from exc


__all__ = [
    "BPS",
    "MAX_PANELS",
    "MAX_POINTS",
    "ChildView",
    "ClockMap",
    "ExecutionQuality",
    "TradeScope",
    "chart_parents",
    "chart_trades",
    "execution_quality",
    "execution_quality_rows",
    "fills_table",
    "quality_environment_note",
    "quality_table",
    "quote_currency",
    "rejection_reason",
    "slippage_bps",
    "time_weighted_mean",
]

BPS = Decimal(10_000)
_ZERO = Decimal(0)
_CODE = re.compile(r'"?code"?\s*[:=]\s*(-?\d{3,5})|\((-\d{3,5})\)|\s(-\d{4})\b')


@attrs.frozen
class ClockMap:
    """Venue (wall) time to the broker's clock: ``clock_origin + (t - wall_origin) * speed``."""

    speed: float = 1.0
    wall_origin: datetime | None = None
    clock_origin: datetime | None = None

    def to_clock(self, wall: datetime) -> datetime:
        """``wall`` on the broker's clock."""
        if self.wall_origin is None or self.clock_origin is None:
            return wall
        return self.clock_origin + (wall - self.wall_origin) * self.speed

    @classmethod
    def from_events(cls, events: pd.DataFrame) -> ClockMap:
        """The mapping an experiment journaled; the identity when there is none."""
        rows = events[events["event"] == "experiment"] if len(events) else events
        if not len(rows):
            return cls()
        detail = json.loads(rows.iloc[-1]["detail"])
        return cls(
            speed=float(detail.get("speed", 1.0)),
            wall_origin=datetime.fromisoformat(detail["wall_origin"]),
            clock_origin=datetime.fromisoformat(detail["clock_origin"]),
        )


TradeScope = Literal["all", "charts", "none"]
"""Which trades :attr:`ExecutionQuality.trades` holds: ``"all"`` of them, those the report's
price panels draw (``"charts"``: :func:`chart_trades` of the :func:`chart_parents`), or
``"none"`` (for the tables alone)."""

MAX_PANELS = 12
"""Parents the report draws price panels for at most (those of the largest filled notional)."""
MAX_POINTS = 1000
"""Fill markers per price panel at most (evenly taken in journal order)."""


def chart_parents(parents: pd.DataFrame, count: int | None = None) -> pd.DataFrame:
    """The ``count`` (default :data:`MAX_PANELS`) parents of the largest filled notional
    (then by position), in their order: the ones the report draws."""
    count = MAX_PANELS if count is None else count
    if len(parents) <= count:
        return parents
    notional = pd.to_numeric(parents["notional"], errors="coerce").fillna(0.0).abs()
    values, labels = notional.tolist(), parents.index.tolist()
    order = sorted(range(len(parents)), key=lambda i: (-float(values[i]), labels[i]))
    return parents.iloc[sorted(order[:count])]


def chart_trades(trades: pd.DataFrame, points: int | None = None) -> pd.DataFrame:
    """Each parent's trades evenly thinned to at most ``points`` (default
    :data:`MAX_POINTS`), in journal order (every ``ceil(n / points)``-th, from the first):
    the fills a price panel draws."""
    points = MAX_POINTS if points is None else points
    if not len(trades):
        return trades
    parts = []
    for _, frame in trades.groupby("parent_order_id", sort=False):
        parts.append(
            frame.iloc[:: math.ceil(len(frame) / points)] if len(frame) > points else frame
        )
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    return out.sort_index(kind="stable")


@attrs.frozen
class ExecutionQuality:
    """The quality frames of one run.

    ``parents``: one row per parent. ``total``: one row over all parents (notional
    weighted). ``waves``: one row per (TWAP window, wave) with its children's counts and
    fill rate. ``rejections``: counts by reason. ``mids``, ``children``, ``trades`` and
    ``wave_windows`` are the time series the report draws.
    """

    run_id: str
    adapter: str
    exchange: str
    environment: str
    started_at: datetime
    speed: float
    parents: pd.DataFrame
    total: pd.DataFrame
    waves: pd.DataFrame
    rejections: pd.DataFrame
    mids: pd.DataFrame
    children: pd.DataFrame
    trades: pd.DataFrame
    wave_windows: pd.DataFrame
    trades_scope: TradeScope = "all"
    """Which trades ``trades`` holds (:data:`TradeScope`)."""


def slippage_bps(side: Side, price: Decimal, reference: Decimal) -> Decimal:
    """Slippage of a trade at ``price`` against ``reference``, in bps; positive is a cost."""
    signed = price - reference if side == Side.BUY else reference - price
    return signed / reference * BPS


def _at(sample: tuple[datetime, Decimal]) -> datetime:
    return sample[0]


def time_weighted_mean(
    samples: Sequence[tuple[datetime, Decimal]], start: datetime, end: datetime
) -> Decimal | None:
    """The time-weighted mean over ``[start, end)`` of a step function of ``samples``.

    Each sample holds until the next; the last one before ``start`` carries in. ``None``
    when no sample covers any of the span.
    """
    return _mean_of_ordered(sorted(samples), start, end)


def _mean_of_ordered(
    ordered: Sequence[tuple[datetime, Decimal]], start: datetime, end: datetime
) -> Decimal | None:
    """:func:`time_weighted_mean` of samples sorted already (as :func:`_samples_by_symbol`
    gives them): the last sample at or before ``start`` and those inside the span are
    found by bisection, not by comparing every sample's time (pandas Timestamps, slow)."""
    if end <= start:
        return None
    first = bisect.bisect_right(ordered, start, key=_at)  # ordered[:first]: at <= start
    stop = bisect.bisect_left(ordered, end, lo=first, key=_at)  # ordered[first:stop]: < end
    inside = list(ordered[first:stop])
    points = ([(start, ordered[first - 1][1])] if first else []) + inside
    if not points:
        return None
    total = _ZERO
    weight = _ZERO
    for i, (at, value) in enumerate(points):
        until = points[i + 1][0] if i + 1 < len(points) else end
        seconds = Decimal(str((until - at).total_seconds()))
        total += value * seconds
        weight += seconds
    if weight == 0:
        return points[-1][1]
    return total / weight


TRADE_COLUMNS = [
    "parent_order_id",
    "client_order_id",
    "symbol",
    "wave",
    "side",
    "price",
    "amount",
    "at",
    "wave_twap_mid",
    "maker",
]
"""The columns of :attr:`ExecutionQuality.trades`, the same on the row and vectorised paths."""


def rejection_reason(reason: str | None) -> str:
    """A short reason to group rejections by: the venue code when there is one.

    The code is read with the venue family's own table (the exchange is the bracketed
    name an SDK error starts with), so a price-band refusal is named the same way on
    every venue: Binance's -4131, Bybit's 110003 or 170193.
    """
    text = " ".join((reason or "no reason given").split())
    exchange = re.match(r"^\[(\w+)\]", text)
    table = code_table_for(exchange.group(1) if exchange else None)
    code = table.code_of(text)
    if code is None:
        match = _CODE.search(text)
        code = int(next(g for g in match.groups() if g)) if match else None
    if code is None:
        return text[:80]
    if table.class_of(code, text) is LiquidityRejected:
        return f"{code} liquidity: price outside the venue's allowed band"
    return f"{code} {_strip_code(text)[:60]}".strip()


def _strip_code(text: str) -> str:
    # The message after the bracketed exchange name, without the JSON body around it.
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    msg = re.search(r'"(?:ret)?[mM]sg"\s*:\s*"([^"]*)"', text)
    return msg.group(1) if msg else text


def _q(value: Decimal | None, places: int = 2) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(1).scaleb(-places))


def _parse_time(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mid_samples(journal: Journal, run_id: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for data in journal.raw_payloads(run_id, "mid_sample"):
        bid, ask = Decimal(data["bid"]), Decimal(data["ask"])
        rows.append(
            {
                "symbol": data["symbol"],
                "at": _parse_time(data["at"]),
                "bid": bid,
                "ask": ask,
                "mid": (bid + ask) / 2,
            }
        )
    frame = pd.DataFrame(rows, columns=["symbol", "at", "bid", "ask", "mid"])
    return frame.sort_values(["symbol", "at"], kind="stable").reset_index(drop=True)


def _twap_config(params: Mapping[str, Any]) -> TwapConfig:
    twap = params.get("twap") or {}
    return TwapConfig(
        waves=twap.get("waves"),
        wave_seconds=twap.get("wave_seconds"),
        cancel_lead=float(twap.get("cancel_lead", 0.5)),
        submit_window=twap.get("submit_window"),
    )


def _arrival(ordered: Sequence[tuple[datetime, Decimal]], start: datetime) -> Decimal | None:
    """The mid when the parent arrived: the last sample at or before its start, else the
    first one after it. ``ordered``: one symbol's samples sorted, as
    :func:`_samples_by_symbol` gives them (sorted once, not once per parent)."""
    # The last sample at or before ``start`` (samples are few; parents are many).
    index = bisect.bisect_right(ordered, start, key=_at)
    if index:
        return ordered[index - 1][1]
    return ordered[0][1] if ordered else None


class ChildView(Protocol):
    """What the quality frames read of a child: a :class:`~exsdk.models.ChildOrder`, or
    the vectorised path's light record of the journal's typed columns."""

    @property
    def parent_order_id(self) -> int: ...
    @property
    def wave(self) -> int: ...
    @property
    def client_order_id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side | str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def limit_price(self) -> Decimal | None: ...
    @property
    def status(self) -> ChildStatus | str: ...
    @property
    def ccxt_order_id(self) -> str | None: ...
    @property
    def filled(self) -> Decimal: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def signed_amount(self) -> Decimal: ...


@attrs.define
class _TradeRow:
    trade: CcxtTrade
    child: ChildOrder
    at: datetime | None
    wave_twap: Decimal | None


@attrs.frozen
class _Windows:
    """The TWAP plans of a run's parents, their distinct wave windows, and the mid's TWAP
    over each (symbol, parent, wave)."""

    plans: dict[int, Any]
    windows: list[dict[str, Any]]
    wave_twaps: dict[tuple[str, int, int], Decimal | None]


def _samples_by_symbol(mids: pd.DataFrame) -> dict[str, list[tuple[datetime, Decimal]]]:
    """Each symbol's (time, mid) samples, sorted."""
    samples: dict[str, list[tuple[datetime, Decimal]]] = {}
    for symbol, at, mid in zip(mids["symbol"], mids["at"], mids["mid"], strict=True):
        samples.setdefault(str(symbol), []).append((at, mid))
    return {symbol: sorted(values) for symbol, values in samples.items()}


def _wave_windows(
    parents: Sequence[tuple[Order, str]],
    config: TwapConfig,
    samples: Mapping[str, Sequence[tuple[datetime, Decimal]]],
) -> _Windows:
    plans = {}
    # Parents of one window share its plan: plan each window once.
    by_window: dict[tuple[datetime, datetime], Any] = {}
    for order, _ in parents:
        if str(order.type_) == OrderKind.TWAP:
            window = (order.start_timestamp, order.end_timestamp)
            if window not in by_window:
                by_window[window] = plan_waves(*window, config)
            plans[order.order_id] = by_window[window]
    windows: list[dict[str, Any]] = []
    wave_twaps: dict[tuple[str, int, int], Decimal | None] = {}
    # Parents of one symbol and window share each wave's TWAP: compute it once.
    means: dict[tuple[str, datetime, datetime], Decimal | None] = {}
    seen_windows: set[tuple[datetime, int]] = set()
    for order, symbol in parents:
        plan = plans.get(order.order_id)
        if plan is None:
            continue
        for wave in plan.waves:
            key = (wave.start, wave.index)
            if key not in seen_windows:
                seen_windows.add(key)
                windows.append(
                    {
                        "wave": wave.index,
                        "start": wave.start,
                        "end": wave.end,
                        "cancel_at": wave.cancel_at,
                    }
                )
            span = (symbol, wave.start, wave.end)
            if span not in means:
                means[span] = _mean_of_ordered(samples.get(symbol, []), wave.start, wave.end)
            wave_twaps[(symbol, order.order_id, wave.index)] = means[span]
    return _Windows(plans, windows, wave_twaps)


def execution_quality(
    journal: Journal, run_id: str, *, trades: TradeScope = "all"
) -> ExecutionQuality:
    """Every quality frame of ``run_id``, read from ``journal`` only.

    Vectorised: the database sums each child's trades exactly over the journal's integer
    columns (:mod:`exsdk.app.quality_frames`), no Python loop over trades, so a run of a
    million trades reports in seconds (bench/RESULTS.md). Its figures are those of
    :func:`execution_quality_rows`, the row-by-row reference (the tests hold the two
    together). ``trades`` says which trades the ``trades`` frame holds
    (:data:`TradeScope`; the report needs only ``"charts"``); it keeps ``price`` and
    ``amount`` as the journal's exact decimal text, and ``at`` as a datetime64 column.

    Raises ``KeyError`` when the journal has no such run.
    """
    from exsdk.app.quality_frames import vectorised_quality

    return vectorised_quality(journal, run_id, trades=trades)


def execution_quality_rows(journal: Journal, run_id: str) -> ExecutionQuality:
    """:func:`execution_quality` row by row: every trade through its JSON payload, a
    :class:`~exsdk.models.CcxtTrade` model and :func:`~exsdk.fills.fold_fill`.

    The reference the vectorised path is checked against (about 20k trades/s).
    """
    record = journal.run(run_id)
    clock_map = ClockMap.from_events(journal.run_events(run_id))
    config = _twap_config(record.params)
    parents = journal.parent_orders(run_id)
    children = journal.latest_children(run_id)
    trades_frame = journal.trades(run_id)
    mids = _mid_samples(journal, run_id)
    samples = _samples_by_symbol(mids)

    by_cid = {c.client_order_id: c for c in children}
    trades_by_parent: dict[int, list[CcxtTrade]] = {}
    trade_rows: dict[int, list[_TradeRow]] = {}
    planned = _wave_windows(parents, config, samples)
    plans, windows, wave_twaps = planned.plans, planned.windows, planned.wave_twaps

    for row in trades_frame.itertuples(index=False):
        cid = row.client_order_id
        child = by_cid.get(str(cid)) if cid is not None else None
        if child is None:
            continue
        trade = CcxtTrade.from_ccxt(json.loads(str(row.payload)))
        at = trade.timestamp
        at = clock_map.to_clock(at) if at is not None else None
        if at is None:
            journaled = _parse_time(row.at)
            at = clock_map.to_clock(journaled) if journaled is not None else None
        pid = child.parent_order_id
        trades_by_parent.setdefault(pid, []).append(trade)
        twap = wave_twaps.get((child.symbol, pid, child.wave))
        trade_rows.setdefault(pid, []).append(_TradeRow(trade, child, at, twap))

    parent_rows: list[dict[str, Any]] = []
    fills: dict[int, OmsFill] = {}
    for order, symbol in parents:
        pid = order.order_id
        kids = [c for c in children if c.parent_order_id == pid]
        quote = symbol.split(":", 1)[0].split("/", 1)[1] if "/" in symbol else "USDT"
        fill = fold_fill(
            order, symbol=symbol, quote=quote, children=kids, trades=trades_by_parent.get(pid, [])
        )
        fills[pid] = fill
        rows = trade_rows.get(pid, [])
        times = [r.at for r in rows if r.at is not None]
        parent_rows.append(
            _parent_row(
                order,
                symbol,
                quote,
                fill,
                kids,
                _twap_sums(order.side, rows),
                (min(times), max(times)) if times else None,
                samples.get(symbol, []),
            )
        )
    refs = {r["parent_order_id"]: r["_ref"] for r in parent_rows}
    waves = _waves(children, refs)
    parents_frame = pd.DataFrame(parent_rows, columns=_PARENT_COLUMNS)
    return ExecutionQuality(
        run_id=run_id,
        adapter=record.adapter,
        exchange=record.exchange,
        environment=record.environment,
        started_at=record.started_at,
        speed=clock_map.speed,
        parents=parents_frame,
        total=_total(parent_rows),
        waves=waves,
        rejections=_rejections(children),
        mids=mids,
        children=_children_frame(children, plans),
        trades=_trades_frame(trade_rows),
        wave_windows=pd.DataFrame(windows, columns=["wave", "start", "end", "cancel_at"]),
    )


_PARENT_COLUMNS = [
    "parent_order_id",
    "symbol",
    "side",
    "quote",
    "asked",
    "sent",
    "filled",
    "filled_of_asked",
    "filled_of_sent",
    "vwap",
    "notional",
    "arrival_mid",
    "slippage_arrival_bps",
    "wave_twap_mid",
    "slippage_twap_bps",
    "fees_quote",
    "fee_bps",
    "time_to_first_fill_s",
    "time_to_fill_s",
    "children",
    "rejected",
    "num_trades",
]


def _twap_sums(side: Side, trades: Sequence[_TradeRow]) -> tuple[Decimal, Decimal, Decimal]:
    """Over the trades with a wave TWAP: sum of qty x slippage against it (bps), sum of qty,
    sum of qty x TWAP (qty = |amount|)."""
    weighted = _ZERO
    weight = _ZERO
    ref_weighted = _ZERO
    for row in trades:
        if row.wave_twap is None:
            continue
        qty = abs(row.trade.amount)
        weighted += qty * slippage_bps(side, row.trade.price, row.wave_twap)
        ref_weighted += qty * row.wave_twap
        weight += qty
    return weighted, weight, ref_weighted


def _parent_row(
    order: Order,
    symbol: str,
    quote: str,
    fill: OmsFill,
    kids: Sequence[ChildView],
    twap: tuple[Decimal, Decimal, Decimal],
    span: tuple[datetime, datetime] | None,
    samples: Sequence[tuple[datetime, Decimal]],
) -> dict[str, Any]:
    """One parent's row from its fill, children, TWAP sums (:func:`_twap_sums`) and the
    first and last of its trades' times."""
    side = order.side
    arrival = _arrival(samples, order.start_timestamp)
    filled_abs = abs(fill.quantity)
    slip_arrival = (
        slippage_bps(side, fill.price, arrival)
        if fill.price is not None and arrival is not None
        else None
    )
    # Against each trade's own wave TWAP, weighted by the trade's quantity.
    weighted, weight, ref_weighted = twap
    slip_twap = weighted / weight if weight else None
    twap_ref = ref_weighted / weight if weight else None
    first = (span[0] - order.start_timestamp).total_seconds() if span else None
    last = (span[1] - order.start_timestamp).total_seconds() if span else None
    # What the policy made of the ask: the children that reached the venue, signed.
    sent = sum((c.signed_amount for c in kids if is_sent(child_outcome(c))), _ZERO)
    of_asked = fill.quantity / order.diff_num_shares if order.diff_num_shares else None
    of_sent = fill.quantity / sent if sent else None
    return {
        "parent_order_id": order.order_id,
        "symbol": symbol,
        "side": str(side),
        "quote": quote,
        "asked": order.diff_num_shares,
        "sent": sent,
        "filled": fill.quantity,
        "filled_of_asked": _q(of_asked, 4),
        "filled_of_sent": _q(of_sent, 4),
        "vwap": fill.price,
        "notional": fill.notional,
        "arrival_mid": arrival,
        "slippage_arrival_bps": _q(slip_arrival),
        "wave_twap_mid": twap_ref,
        "slippage_twap_bps": _q(slip_twap),
        "fees_quote": fill.fee_in_quote,
        "fee_bps": _q(fill.fee_in_quote / fill.notional * BPS) if fill.notional else None,
        "time_to_first_fill_s": None if first is None else round(first, 3),
        "time_to_fill_s": None if last is None else round(last, 3),
        "children": sum(1 for c in kids if c.ccxt_order_id is not None),
        "rejected": sum(1 for c in kids if c.status == ChildStatus.REJECTED),
        "num_trades": fill.num_trades,
        "_filled_abs": filled_abs,
        # The price every rate of this parent is weighted by: the arrival mid, else VWAP.
        "_ref": arrival if arrival is not None else fill.price,
        "_of_asked": of_asked,
        "_of_sent": of_sent,
    }


def _weighted(rows: Sequence[dict[str, Any]], rate: str, base: str) -> Decimal | None:
    """The rows' ``rate`` weighted by ``|base| x reference price``: the total of a column."""
    total = _ZERO
    weight = _ZERO
    for r in rows:
        ref, value = r["_ref"], r[rate]
        if ref is None or value is None or not r[base]:
            continue
        w = abs(r[base]) * ref
        total += value * w
        weight += w
    return total / weight if weight else None


def _total(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row over all parents: rates weighted by notional, since assets differ in price.

    Both fill rates are the weighted sums of the parents' own rates (weights: asked or sent
    quantity at the parent's arrival mid), so a total never contradicts its rows.
    """
    asked_notional = _ZERO
    sent_notional = _ZERO
    filled_notional = _ZERO
    fees = _ZERO
    slip_a = _ZERO
    weight_a = _ZERO
    slip_t = _ZERO
    weight_t = _ZERO
    for r in rows:
        notional = r["notional"]
        filled_notional += notional
        fees += r["fees_quote"]
        ref = r["_ref"]
        if ref is not None:
            asked_notional += abs(r["asked"]) * ref
            sent_notional += abs(r["sent"]) * ref
        if r["slippage_arrival_bps"] is not None:
            slip_a += notional * r["slippage_arrival_bps"]
            weight_a += notional
        if r["slippage_twap_bps"] is not None:
            slip_t += notional * r["slippage_twap_bps"]
            weight_t += notional
    times = [r["time_to_fill_s"] for r in rows if r["time_to_fill_s"] is not None]
    total = {
        "parents": len(rows),
        "asked_notional": _q(asked_notional),
        "sent_notional": _q(sent_notional),
        "filled_notional": _q(filled_notional),
        "filled_of_asked": _q(_weighted(rows, "_of_asked", "asked"), 4),
        "filled_of_sent": _q(_weighted(rows, "_of_sent", "sent"), 4),
        "slippage_arrival_bps": _q(slip_a / weight_a) if weight_a else None,
        "slippage_twap_bps": _q(slip_t / weight_t) if weight_t else None,
        "fees_quote": fees,
        "fee_bps": _q(fees / filled_notional * BPS) if filled_notional else None,
        "max_time_to_fill_s": max(times) if times else None,
        "children": sum(r["children"] for r in rows),
        "rejected": sum(r["rejected"] for r in rows),
    }
    for r in rows:
        for key in ("_filled_abs", "_ref", "_of_asked", "_of_sent"):
            r.pop(key, None)
    return pd.DataFrame([total])


_OUTCOME_COLUMN = {o: o.replace(" ", "_") for o in OUTCOMES}
_WAVE_COLUMNS = [
    "wave",
    "sent",
    *(o.replace(" ", "_") for o in OUTCOMES),
    "sent_notional",
    "filled_notional",
    "filled_of_sent",
]


def _waves(children: Sequence[ChildView], refs: Mapping[int, Decimal | None]) -> pd.DataFrame:
    """One row per wave: disjoint child counts (:func:`child_outcome`) and filled/sent.

    ``filled_of_sent`` is defined as for the parents: quantities at the arrival mid of each
    child's parent (its limit price when the parent has none).
    """
    rows: dict[int, dict[str, Any]] = {}
    for c in children:
        row = rows.get(c.wave)
        if row is None:
            row = rows[c.wave] = {
                "wave": c.wave,
                "sent": 0,
                **{_OUTCOME_COLUMN[o]: 0 for o in OUTCOMES},
                "sent_notional": _ZERO,
                "filled_notional": _ZERO,
            }
        outcome = child_outcome(c)
        if outcome is None:
            # An intent never answered: not on the venue as far as the journal knows.
            outcome = "not sent"
        row[_OUTCOME_COLUMN[outcome]] += 1
        if not is_sent(outcome):
            continue
        row["sent"] += 1
        price = refs.get(c.parent_order_id) or c.limit_price or _ZERO
        row["sent_notional"] += c.amount * price
        row["filled_notional"] += c.filled * price
    out = []
    for wave in sorted(rows):
        row = rows[wave]
        sent = row["sent_notional"]
        row["filled_of_sent"] = _q(row["filled_notional"] / sent, 4) if sent else None
        row["sent_notional"] = _q(row["sent_notional"])
        row["filled_notional"] = _q(row["filled_notional"])
        out.append(row)
    return pd.DataFrame(out, columns=_WAVE_COLUMNS)


def _rejections(children: Sequence[ChildView]) -> pd.DataFrame:
    counts: dict[tuple[str, str], int] = {}
    for c in children:
        if c.status == ChildStatus.REJECTED:
            key = (rejection_reason(c.reason), c.symbol)
            counts[key] = counts.get(key, 0) + 1
    rows = [{"reason": r, "symbol": s, "count": n} for (r, s), n in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["reason", "symbol", "count"])


_CHILD_COLUMNS = [
    "client_order_id",
    "parent_order_id",
    "symbol",
    "wave",
    "side",
    "amount",
    "limit_price",
    "status",
    "filled",
    "created_at",
    "ends_at",
    "reason",
]


def _children_frame(children: Sequence[ChildView], plans: Mapping[int, Any]) -> pd.DataFrame:
    ends_at = []
    for c in children:
        plan = plans.get(c.parent_order_id)
        ends = None
        if plan is not None and c.wave < plan.num_waves:
            ends = plan.waves[c.wave].cancel_at
        elif c.created_at is not None:
            ends = c.created_at + timedelta(seconds=1)
        ends_at.append(ends)
    # Column by column (10,000 children: a dict per row cost twice as much).
    columns: dict[str, list[Any]] = {
        "client_order_id": [c.client_order_id for c in children],
        "parent_order_id": [c.parent_order_id for c in children],
        "symbol": [c.symbol for c in children],
        "wave": [c.wave for c in children],
        "side": [str(c.side) for c in children],
        "amount": [c.amount for c in children],
        "limit_price": [c.limit_price for c in children],
        "status": [str(c.status) for c in children],
        "filled": [c.filled for c in children],
        "created_at": [c.created_at for c in children],
        "ends_at": ends_at,
        "reason": [c.reason for c in children],
    }
    return pd.DataFrame(columns, columns=_CHILD_COLUMNS)


def _trades_frame(trade_rows: Mapping[int, Sequence[_TradeRow]]) -> pd.DataFrame:
    rows = []
    for pid, items in trade_rows.items():
        for r in items:
            rows.append(
                {
                    "parent_order_id": pid,
                    "client_order_id": r.child.client_order_id,
                    "symbol": r.child.symbol,
                    "wave": r.child.wave,
                    "side": str(r.trade.side or r.child.side),
                    "price": r.trade.price,
                    "amount": r.trade.amount,
                    "at": r.at,
                    "wave_twap_mid": r.wave_twap,
                    "maker": None
                    if r.trade.taker_or_maker is None
                    else str(r.trade.taker_or_maker) == "maker",
                }
            )
    return pd.DataFrame(rows, columns=TRADE_COLUMNS)


def _cell(value: Any, places: int | None = None) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, Decimal):
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value.normalize() if places is None else value, "f")
    return str(value)


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return percent(Decimal(value))


def _seconds_cell(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.0f}s"


CONSOLE_ROWS = 40
"""Parent rows a console table shows at most; the HTML report has them all."""


def quality_table(quality: ExecutionQuality, *, max_rows: int | None = CONSOLE_ROWS) -> Table:
    """The per-parent quality frame, with its total row, as a rich table (the first
    ``max_rows`` parents, and a line saying how many more there are)."""
    table = Table(
        title=f"Execution quality of run {quality.run_id}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        caption=RATE_LEGEND,
        caption_justify="left",
    )
    heads = [
        "parent",
        "symbol",
        FILLED_OF_ASKED,
        FILLED_OF_SENT,
        "slip arr",
        "slip twap",
        "fee",
        "t fill",
    ]
    for head in heads:
        table.add_column(head, justify="left" if head == "symbol" else "right", no_wrap=True)
    shown = quality.parents if max_rows is None else quality.parents.iloc[:max_rows]
    for r in shown.to_dict("records"):
        table.add_row(
            str(r["parent_order_id"]),
            base_of(str(r["symbol"])),
            _pct(r["filled_of_asked"]),
            _pct(r["filled_of_sent"]),
            _cell(r["slippage_arrival_bps"], 1),
            _cell(r["slippage_twap_bps"], 1),
            _cell(r["fee_bps"], 1),
            _seconds_cell(r["time_to_fill_s"]),
        )
    if len(shown) < len(quality.parents):
        table.add_row("...", f"+{len(quality.parents) - len(shown)} in HTML")
    if len(quality.total):
        t = quality.total.iloc[0].to_dict()
        table.add_section()
        table.add_row(
            "all",
            "",
            _pct(t["filled_of_asked"]),
            _pct(t["filled_of_sent"]),
            _cell(t["slippage_arrival_bps"], 1),
            _cell(t["slippage_twap_bps"], 1),
            _cell(t["fee_bps"], 1),
            _seconds_cell(t["max_time_to_fill_s"]),
            style="bold",
        )
    return table


def quote_currency(quality: ExecutionQuality) -> str:
    """The one quote currency of the run's parents, or ``"quote"`` when they differ."""
    quotes = set(quality.parents["quote"]) if len(quality.parents) else set()
    return str(quotes.pop()) if len(quotes) == 1 else "quote"


def _fmt(value: Any, places: int = 6) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    q = Decimal(value).quantize(Decimal(1).scaleb(-places)).normalize()
    return "0" if q == 0 else format(q, "f")


def _sig(value: Any, digits: int = 7) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    value = Decimal(value)
    if value == 0:
        return "0"
    places = max(0, digits - value.adjusted() - 1)
    return format(value.quantize(Decimal(1).scaleb(-places)).normalize(), "f")


def fills_table(quality: ExecutionQuality, *, max_rows: int | None = CONSOLE_ROWS) -> Table:
    """Each parent's OMS fill beside its ask and what was sent for it, with the legend
    (the first ``max_rows`` parents, and a line saying how many more there are)."""
    quote = quote_currency(quality)
    table = Table(
        title=f"OMS fills of run {quality.run_id}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        # The box's one-space divider only: nine columns fit an 80-column terminal.
        padding=(0, 0),
        caption=RATE_LEGEND,
        caption_justify="left",
    )
    heads = (
        "id",
        "asset",
        "asked",
        "sent",
        "filled",
        "VWAP",
        f"fees {quote}",
        FILLED_OF_ASKED,
        FILLED_OF_SENT,
    )
    for head in heads:
        table.add_column(head, justify="left" if head == "asset" else "right", no_wrap=True)
    shown = quality.parents if max_rows is None else quality.parents.iloc[:max_rows]
    for r in shown.to_dict("records"):
        table.add_row(
            str(r["parent_order_id"]),
            base_of(str(r["symbol"])),
            _fmt(r["asked"]),
            _fmt(r["sent"]),
            _fmt(r["filled"]),
            _sig(r["vwap"]),
            _fmt(r["fees_quote"]),
            _pct(r["filled_of_asked"]),
            _pct(r["filled_of_sent"]),
        )
    if len(shown) < len(quality.parents):
        table.add_row("...", f"+{len(quality.parents) - len(shown)} in HTML")
    if len(quality.total):
        t = quality.total.iloc[0].to_dict()
        table.add_section()
        table.add_row(
            "all",
            "",
            "",
            "",
            "",
            "",
            _fmt(t["fees_quote"]),
            _pct(t["filled_of_asked"]),
            _pct(t["filled_of_sent"]),
            style="bold",
        )
    return table


def quality_environment_note(quality: ExecutionQuality) -> str:
    """The environment line of a journaled run."""
    return environment_note(quality.environment, adapter=quality.adapter)
