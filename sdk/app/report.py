"""The HTML report of a run: one self-contained file, charts embedded as SVG.

The charts are written as SVG text by :mod:`exsdk.app.svg`, not drawn by a plotting
library: importing and running one cost more than folding a million trades.

Per asset: the mid price over the TWAP window with the waves shaded, each child's limit
price as a segment over its life, and the fills as markers sized by quantity. Per wave:
the fill rate and what became of the children. Per parent: slippage against the arrival
mid and the wave TWAP, and the tables of :mod:`exsdk.app.quality`. Everything comes from the
journal; floats appear only here, at plotting.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from exsdk.app.outcomes import (
    FILLED_OF_ASKED,
    FILLED_OF_SENT,
    OUTCOMES,
    RATE_LEGEND,
    WAVE_LEGEND,
    percent,
)
from exsdk.app.quality import (
    MAX_PANELS,
    MAX_POINTS,
    ExecutionQuality,
    chart_parents,
    chart_trades,
    execution_quality,
    quality_environment_note,
    quote_currency,
)
from exsdk.app.svg import Figure
from exsdk.extras import MissingExtra
from exsdk.fills import base_of
from exsdk.journal import Journal

try:
    import pandas as pd
except ModuleNotFoundError as exc:  # the report extra is not installed
    raise MissingExtra("the HTML report", "pandas", "report") from exc


__all__ = ["MAX_BARS", "MAX_PANELS", "MAX_POINTS", "render_report", "write_report"]

_BUY = "#1a9850"
_SELL = "#d73027"
_MID = "#4a5a78"
_WAVE_SHADE = "#eef1f7"
_COLUMNS = 3
MAX_BARS = 40
"""Parents in the slippage chart at most."""
_RASTER_FROM = 200


_DPI = 100 / 72
"""Pixels per point: font sizes and marker areas are given in points, as the charts were."""


def _svg(fig: Figure) -> str:
    data = base64.b64encode(fig.svg().encode("utf-8")).decode("ascii")
    # An <img>: the page's styles and the SVGs' clip ids stay apart.
    return f'<img class="chart" alt="chart" src="data:image/svg+xml;base64,{data}">'


def _f(value: Any) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    return float(value)


def _seconds(at: datetime | None, origin: datetime) -> float:
    return math.nan if at is None or pd.isna(at) else (at - origin).total_seconds()


def _origin(quality: ExecutionQuality) -> datetime:
    windows = quality.wave_windows
    if len(windows):
        first: datetime = min(windows["start"])
        return first
    times = [t for t in quality.children["created_at"] if t is not None and not pd.isna(t)]
    return min(times) if times else quality.started_at


def _shown_note(shown: int, total: int, what: str) -> str:
    if shown >= total:
        return ""
    return (
        f'<p class="note">{what}: the {shown} parents of the largest filled notional, of'
        f" {total} (every parent is in the table below).</p>"
    )


def _seconds_since(times: pd.Series, origin: datetime) -> Any:
    """Seconds from ``origin`` of a column of datetimes, as floats (NaN where unknown)."""
    stamps = pd.to_datetime(times, utc=True)
    return ((stamps - pd.Timestamp(origin)).dt.total_seconds()).to_numpy(dtype=float)


def _floats(values: pd.Series) -> Any:
    """A column of Decimals or decimal text as floats, for plotting only."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def asset_charts(quality: ExecutionQuality) -> str:
    """One panel per parent (at most :data:`MAX_PANELS`, the largest): mid, child limit
    prices, fills (at most :data:`MAX_POINTS` per panel, evenly taken), waves shaded."""
    every = quality.parents
    if not len(every):
        return "<p>No parent orders.</p>"
    shown = chart_parents(every, MAX_PANELS)
    parents = shown.to_dict("records")
    trades_of = {pid: frame for pid, frame in quality.trades.groupby("parent_order_id", sort=False)}
    wanted = set(shown["parent_order_id"].tolist())
    children_of: dict[Any, list[dict[Any, Any]]] = {}
    kids = quality.children[quality.children["parent_order_id"].isin(wanted)]
    for record in kids.to_dict("records"):
        children_of.setdefault(record["parent_order_id"], []).append(record)
    origin = _origin(quality)
    rows = math.ceil(len(parents) / _COLUMNS)
    cols = min(_COLUMNS, len(parents))
    fig = Figure(440 * cols, 300 * rows)
    axes = fig.grid(rows, cols, left=75, right=20, top=35, bottom=50, gap_x=70, gap_y=85)
    windows = quality.wave_windows.to_dict("records")
    shades = [
        (_seconds(w["start"], origin), _seconds(w["end"], origin))
        for w in windows
        if w["wave"] % 2 == 0
    ]
    for index, parent in enumerate(parents):
        ax = axes[index // cols][index % cols]
        symbol = parent["symbol"]
        pid = parent["parent_order_id"]
        for start, end in shades:
            ax.span_x(start, end, _WAVE_SHADE)
        mids = quality.mids[quality.mids["symbol"] == symbol]
        if len(mids):
            ax.step(
                [_seconds(t, origin) for t in mids["at"]],
                [_f(v) for v in mids["mid"]],
                _MID,
                1.2 * _DPI,
            )
        # One path per colour and style, not one per child.
        segments: dict[tuple[str, bool], tuple[list[float], list[float], list[float]]] = {}
        for kid in children_of.get(pid, []):
            if kid["limit_price"] is None or kid["created_at"] is None:
                continue
            color = _BUY if kid["side"] == "buy" else _SELL
            filled = kid["filled"] is not None and kid["filled"] > 0
            ys, starts, ends = segments.setdefault((color, filled), ([], [], []))
            ys.append(_f(kid["limit_price"]))
            starts.append(_seconds(kid["created_at"], origin))
            ends.append(_seconds(kid["ends_at"], origin))
        for (color, filled), (ys, starts, ends) in segments.items():
            ax.segments(ys, starts, ends, color, 2.2 * _DPI, dashed=not filled, opacity=0.9)
        trades = chart_trades(trades_of.get(pid, quality.trades.iloc[:0]), MAX_POINTS)
        if len(trades):
            sizes = abs(_floats(trades["amount"]))
            biggest = float(sizes.max()) or 1.0
            ax.triangles(
                _seconds_since(trades["at"], origin).tolist(),
                _floats(trades["price"]).tolist(),
                ((30 + 90 * sizes / biggest) * _DPI**2).tolist(),
                up=parent["side"] == "buy",
                color=_BUY if parent["side"] == "buy" else _SELL,
            )
        ax.title(
            f"{base_of(symbol)}  {parent['side']} asked {_num(parent['asked'])}  "
            f"sent {_num(parent['sent'])}  {FILLED_OF_SENT} {_pct(parent['filled_of_sent'])}"
        )
        ax.xlabel("seconds into the window (clock time)")
        ax.grid("y")
        ax.margins(0.02, 0.15)
    for index in range(len(parents), rows * cols):
        axes[index // cols][index % cols].visible = False
    return _shown_note(len(parents), len(every), "Panels") + _svg(fig)


def wave_charts(quality: ExecutionQuality) -> str:
    """Fill rate per wave, and what became of each wave's children."""
    waves = quality.waves
    if not len(waves):
        return "<p>No TWAP waves.</p>"
    fig = Figure(1100, 320)
    [[left, right]] = fig.grid(1, 2, left=75, right=20, top=45, bottom=50, gap_x=70, gap_y=0)
    labels = [str(w) for w in waves["wave"]]
    where = [float(i) for i in range(len(labels))]
    rates = [_f(r) * 100 for r in waves["filled_of_sent"]]
    for x, _, top in left.bars(where, rates, color="#4575b4"):
        left.label(x, top, f"{top:.0f}%")
    left.title(f"{FILLED_OF_SENT} per wave")
    left.set_ylim(0, max([100.0, *[r for r in rates if not math.isnan(r)]]) * 1.15)
    left.xlabel("wave")
    left.ylabel("%")
    # Disjoint categories (exsdk.app.outcomes), stacked: each child is in one bar segment.
    colors = {
        "filled": _BUY,
        "partly": "#a6d96a",
        "unfilled": "#bdbdbd",
        "open": "#fee08b",
        "rejected": _SELL,
        "not sent": "#e0e0e0",
    }
    bottoms = [0.0] * len(labels)
    shown = []
    for outcome in OUTCOMES:
        counts = [float(v) for v in waves[outcome.replace(" ", "_")]]
        if not any(counts):
            continue
        right.bars(where, counts, bottoms=bottoms, color=colors[outcome])
        shown.append((outcome, colors[outcome], "box"))
        bottoms = [a + b for a, b in zip(bottoms, counts, strict=True)]
    right.title("children per wave")
    right.xlabel("wave")
    right.legend(shown, where="upper right")
    right.margins(0.05, 0.12)
    for ax in (left, right):
        ax.set_xticks(where, labels)
        ax.grid("y")
    return _svg(fig)


def slippage_chart(quality: ExecutionQuality) -> str:
    """Per parent (at most :data:`MAX_BARS`, the largest): slippage against the arrival mid
    and against the wave TWAP, in bps."""
    parents = chart_parents(quality.parents, MAX_BARS)
    if not len(parents):
        return ""
    labels = [
        f"{p} {base_of(str(s))}"
        for p, s in zip(parents["parent_order_id"], parents["symbol"], strict=True)
    ]
    arrival = [_f(v) for v in parents["slippage_arrival_bps"]]
    twap = [_f(v) for v in parents["slippage_twap_bps"]]
    fees = [_f(v) for v in parents["fee_bps"]]
    fig = Figure(1100, 45 * len(labels) + 120)
    [[ax]] = fig.grid(1, 1, left=110, right=20, top=60, bottom=50, gap_x=0, gap_y=0)
    ys = [float(y) for y in range(len(labels))]
    h = 0.27
    ax.bars([y - h for y in ys], arrival, width=h, color="#fc8d59", horizontal=True)
    ax.bars(ys, twap, width=h, color="#91bfdb", horizontal=True)
    ax.bars([y + h for y in ys], fees, width=h, color="#999999", horizontal=True)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.vline(0, "#000000", 0.8 * _DPI)
    ax.xlabel("basis points (positive = cost)")
    ax.grid("x")
    ax.legend(
        [
            ("vs arrival mid", "#fc8d59", "box"),
            ("vs wave TWAP of mid", "#91bfdb", "box"),
            ("fees", "#999999", "box"),
        ],
        where="above",
    )
    ax.title("slippage and fees per parent", loc="right")
    return _shown_note(len(parents), len(quality.parents), "Bars") + _svg(fig)


def _num(value: Any, places: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, Decimal):
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
            return format(value, ",f")
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return f"{value:,.{places if places is not None else 2}f}"
    return html.escape(str(value))


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return percent(Decimal(str(value)))


def _sig(value: Any, digits: int = 7) -> str:
    """A price to ``digits`` significant digits (a VWAP has as many as the division gave)."""
    if not isinstance(value, Decimal):
        return _num(value)
    if value == 0:
        return "0"
    places = max(0, digits - value.adjusted() - 1)
    return format(value.quantize(Decimal(1).scaleb(-places)).normalize(), "f")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i in numeric else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _parent_table(quality: ExecutionQuality) -> str:
    headers = [
        "parent",
        "symbol",
        "side",
        "asked",
        "sent",
        "filled",
        FILLED_OF_ASKED,
        FILLED_OF_SENT,
        "VWAP",
        "arrival mid",
        "slip arrival bps",
        "slip TWAP bps",
        "fees",
        "fee bps",
        "time to fill",
        "children",
        "rejected",
    ]
    rows = []
    for r in quality.parents.to_dict("records"):
        ttf = r["time_to_fill_s"]
        rows.append(
            [
                _num(r["parent_order_id"]),
                html.escape(str(r["symbol"])),
                html.escape(str(r["side"])),
                _num(r["asked"]),
                _num(r["sent"]),
                _num(r["filled"]),
                _pct(r["filled_of_asked"]),
                _pct(r["filled_of_sent"]),
                _sig(r["vwap"]),
                _sig(r["arrival_mid"]),
                _num(r["slippage_arrival_bps"]),
                _num(r["slippage_twap_bps"]),
                _num(r["fees_quote"], 6),
                _num(r["fee_bps"]),
                "–" if ttf is None or pd.isna(ttf) else f"{ttf:.1f} s",
                _num(r["children"]),
                _num(r["rejected"]),
            ]
        )
    total = _total_row(quality, len(headers))
    return _table(headers, [*rows, *total], numeric=set(range(3, len(headers))))


def _total_row(quality: ExecutionQuality, width: int) -> list[list[str]]:
    if not len(quality.total):
        return []
    t = quality.total.iloc[0].to_dict()
    row = ["<b>all</b>", "", "", "", "", ""]
    row += [f"<b>{_pct(t['filled_of_asked'])}</b>", f"<b>{_pct(t['filled_of_sent'])}</b>"]
    return [row + [""] * (width - len(row))]


def _wave_table(quality: ExecutionQuality) -> str:
    headers = ["wave", "sent", *OUTCOMES, FILLED_OF_SENT]
    rows = [
        [
            _num(w["wave"]),
            _num(w["sent"]),
            *(_num(w[o.replace(" ", "_")]) for o in OUTCOMES),
            _pct(w["filled_of_sent"]),
        ]
        for w in quality.waves.to_dict("records")
    ]
    table = _table(headers, rows, numeric=set(range(1, len(headers))))
    return f'{table}<p class="note">{html.escape(WAVE_LEGEND)}</p>'


def _rejection_table(quality: ExecutionQuality) -> str:
    if not len(quality.rejections):
        return "<p class=muted>No child was rejected.</p>"
    rows = [
        [html.escape(str(r["reason"])), html.escape(str(r["symbol"])), _num(r["count"])]
        for r in quality.rejections.to_dict("records")
    ]
    return _table(["reason", "symbol", "children"], rows, numeric={2})


def _cards(quality: ExecutionQuality) -> str:
    if not len(quality.total):
        return ""
    t = quality.total.iloc[0].to_dict()

    def bps(value: Any) -> str:
        return "–" if value is None or pd.isna(value) else f"{float(value):+.1f} bps"

    quote = quote_currency(quality)
    cards = [
        (FILLED_OF_ASKED, _pct(t["filled_of_asked"]), "weighted by asked notional at arrival"),
        (FILLED_OF_SENT, _pct(t["filled_of_sent"]), "weighted by sent notional at arrival"),
        ("slippage vs arrival", bps(t["slippage_arrival_bps"]), "notional weighted"),
        ("slippage vs wave TWAP", bps(t["slippage_twap_bps"]), "notional weighted"),
        ("fees", bps(t["fee_bps"]), f"{_num(t['fees_quote'], 4)} {quote}"),
        ("children", _num(t["children"]), f"{_num(t['rejected'])} rejected"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{value}</div><div class="sub">{html.escape(sub)}</div></div>'
            for label, value, sub in cards
        )
        + "</div>"
    )


_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 24px 32px; color: #1f2430; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ee; padding-bottom: 4px; }
.meta { color: #5b6275; font-size: 13px; margin-bottom: 16px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0 8px; }
.card { border: 1px solid #e3e6ee; border-radius: 8px; padding: 10px 14px; min-width: 150px;
        background: #fafbfd; }
.card .label { font-size: 12px; color: #5b6275; }
.card .value { font-size: 22px; font-weight: 600; margin: 2px 0; }
.card .sub { font-size: 11px; color: #8a90a0; }
img.chart { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eceef3; white-space: nowrap; }
th { text-align: left; background: #f4f6fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted, .note { color: #6b7285; font-size: 12px; }
.legend span { display: inline-block; margin-right: 14px; }
"""


def render_report(quality: ExecutionQuality, *, journal_path: str | None = None) -> str:
    """The report of ``quality`` as one HTML document (no external resources)."""
    speed = (
        f"clock accelerated {quality.speed:g}x (times are on the broker's clock)"
        if quality.speed != 1.0
        else "wall clock"
    )
    meta = " · ".join(
        html.escape(x)
        for x in (
            f"adapter {quality.adapter} ({quality.exchange})",
            f"environment {quality.environment}",
            f"started {quality.started_at:%Y-%m-%d %H:%M:%S} UTC",
            speed,
            *([f"journal {journal_path}"] if journal_path else []),
        )
    )
    policy = (
        f'<p class="note"><b>{html.escape(quality_environment_note(quality))}</b></p>'
        f'<p class="note">{html.escape(RATE_LEGEND)}</p>'
    )
    legend = (
        '<p class="note legend"><span><b style="color:#4a5a78">━</b> mid price</span>'
        f'<span><b style="color:{_BUY}">━</b> buy child limit price (dashed: never filled)</span>'
        f'<span><b style="color:{_SELL}">━</b> sell child limit price</span>'
        "<span>▲▼ fills, sized by quantity</span><span>shaded: alternate TWAP waves</span></p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Run {html.escape(quality.run_id)}: execution quality</title>
<style>{_CSS}</style></head>
<body>
<h1>Run {html.escape(quality.run_id)}: execution quality</h1>
<div class="meta">{meta}</div>
{policy}
{_cards(quality)}
<h2>Prices, child orders and fills per asset</h2>
{legend}
{asset_charts(quality)}
<h2>Waves</h2>
{wave_charts(quality)}
{_wave_table(quality)}
<h2>Slippage and fees</h2>
{slippage_chart(quality)}
<p class="note">Slippage is a cost: (price − reference) / reference for buys, the reverse for
sells, in basis points. The arrival mid is the last mid sampled at or before the parent's
start; the wave TWAP is the time-weighted mid over the wave each trade's child belonged to.</p>
<h2>Parent orders</h2>
{_parent_table(quality)}
<h2>Rejections by reason</h2>
{_rejection_table(quality)}
</body></html>
"""


def write_report(
    journal: Journal,
    run_id: str,
    path: Path | str,
    *,
    quality: ExecutionQuality | None = None,
) -> Path:
    """Write the HTML report of ``run_id`` to ``path`` (parents created); return the path."""
    quality = quality or execution_quality(journal, run_id, trades="charts")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(quality, journal_path=journal.path), encoding="utf-8")
    return target
