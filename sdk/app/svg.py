"""Charts written as SVG text: what the HTML report draws, without a plotting library.

A :class:`Figure` is a grid of :class:`Axes` with fixed margins, in pixels. An axes collects
what it draws (wave shading, steps, horizontal segments, triangle markers, bars, text) with
the data's extent; when the figure is written, each axes' limits come from that extent
(padded by its margins, bars kept on zero) with round ticks, and every element is turned
into pixels once. Markers are one path per colour, so a panel of a thousand fills stays one
element. The output depends on the data alone (no ids, no dates, no fonts measured), so a
report of the same figures is the same text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np

__all__ = ["Axes", "Figure", "nice_ticks", "tick_label"]

_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_TICK = 3.5
"""Tick mark length, px."""
_Scale = Callable[[float], float]
_Draw = Callable[[_Scale, _Scale], str]


def _n(value: float) -> str:
    """A pixel coordinate as short text (a tenth of a pixel is below any screen's
    resolution, and a chart of a thousand markers writes tens of thousands of them)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


_MARKER = "M%.1f %.1fl%.1f %.1fh%.1fz"
"""One triangle marker's path, :func:`_n`'s format for each coordinate."""


def _ns(text: str) -> str:
    """:func:`_n` over a path of coordinates written ``%.1f`` (the same digits as
    ``f"{v:.1f}"``): each ``-0.0`` made ``0.0``. At one decimal a ``-0`` is always ``-0.0``
    itself, a whole coordinate, never the start of another."""
    return text.replace("-0.0", "0.0")


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def nice_ticks(low: float, high: float, target: int = 7) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) within
    ``[low, high]``, at most ``target + 1`` of them, as many as that allows."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    # The smallest round step that gives at most target + 1 ticks.
    magnitude = 10.0 ** math.floor(math.log10((high - low) / target))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first <= target:
            break
    return [i * step for i in range(first, last + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """``value`` with as many decimals as the ticks' step needs, plain (no offset, no
    exponent), with a true minus sign."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    decimals = 0
    while decimals < 12 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    text = f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 11,
    anchor: Literal["start", "middle", "end"] = "start",
    weight: str | None = None,
    color: str = "#000000",
    rotate: bool = False,
) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    if rotate:
        extra += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size:g}" text-anchor="{anchor}"'
        f' fill="{color}"{extra}>{html.escape(text)}</text>'
    )


TITLE_SIZE = 14.0
"""A panel title's font size, px, when it fits."""
_EM_PER_CHAR = 0.55
"""A generous average advance of a glyph, in em (DejaVu Sans: digits 0.64, lower case
about 0.55, a space 0.32): no font is measured, so a title is sized to fit by this."""


def title_size(text: str, width: float) -> float:
    """The font size (px) at which ``text`` fits ``width`` pixels: :data:`TITLE_SIZE`, or
    smaller for a long title (a per-asset panel's title can be wider than its panel and run
    off the figure's edge)."""
    if not text:
        return TITLE_SIZE
    return min(TITLE_SIZE, math.floor(10 * width / (_EM_PER_CHAR * len(text))) / 10)


class Axes:
    """One panel: a plotting box in pixels and what is drawn in it, in data coordinates."""

    def __init__(self, left: float, top: float, width: float, height: float, name: str) -> None:
        self.box = (left, top, width, height)
        self.name = name
        """Unique in its figure (the clip path's id)."""
        self.visible = True
        self._draws: list[_Draw] = []
        self._x: list[float] = []
        self._y: list[float] = []
        self._sticky_x: list[float] = []
        self._sticky_y: list[float] = []
        self._margins = (0.05, 0.05)
        self._ylim: tuple[float, float] | None = None
        self._xticks: tuple[list[float], list[str]] | None = None
        self._yticks: tuple[list[float], list[str]] | None = None
        self._y_inverted = False
        self._grid: Literal["x", "y"] | None = None
        self._titles: list[tuple[str, Literal["left", "right"]]] = []
        self._xlabel = ""
        self._ylabel = ""
        self._legend: tuple[list[tuple[str, str, str]], Literal["upper right", "above"]] | None
        self._legend = None
        self.font = 11.0
        """Tick and label font size, px."""

    # -- what is drawn -------------------------------------------------------------

    def span_x(self, start: float, end: float, color: str) -> None:
        """A band over the full height between two x values."""
        if not (math.isfinite(start) and math.isfinite(end)):
            return
        self._x += [start, end]
        top, height = self.box[1], self.box[3]

        def draw(sx: _Scale, sy: _Scale) -> str:
            a, b = sorted((sx(start), sx(end)))
            return (
                f'<rect x="{_n(a)}" y="{_n(top)}" width="{_n(b - a)}" height="{_n(height)}"'
                f' fill="{color}"/>'
            )

        self._draws.append(draw)

    def step(self, xs: Sequence[float], ys: Sequence[float], color: str, width: float) -> None:
        """A step line: each value holds until the next x (matplotlib's ``where="post"``)."""
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x + y)]
        if not points:
            return
        self._x += [p[0] for p in points]
        self._y += [p[1] for p in points]

        def draw(sx: _Scale, sy: _Scale) -> str:
            d = [f"M{_n(sx(points[0][0]))} {_n(sy(points[0][1]))}"]
            d += [f"H{_n(sx(x))}V{_n(sy(y))}" for x, y in points[1:]]
            return (
                f'<path d="{"".join(d)}" fill="none" stroke="{color}"'
                f' stroke-width="{width:g}" stroke-linejoin="miter"/>'
            )

        self._draws.append(draw)

    def segments(
        self,
        ys: Sequence[float],
        starts: Sequence[float],
        ends: Sequence[float],
        color: str,
        width: float,
        *,
        dashed: bool = False,
        opacity: float = 1.0,
    ) -> None:
        """Horizontal segments ``[start, end]`` at ``y``, as one path."""
        lines = [
            (y, a, b) for y, a, b in zip(ys, starts, ends, strict=True) if math.isfinite(y + a + b)
        ]
        if not lines:
            return
        self._y += [y for y, _, _ in lines]
        self._x += [a for _, a, _ in lines] + [b for _, _, b in lines]
        dash = ' stroke-dasharray="4 4"' if dashed else ""

        def draw(sx: _Scale, sy: _Scale) -> str:
            d = "".join(f"M{_n(sx(a))} {_n(sy(y))}H{_n(sx(b))}" for y, a, b in lines)
            return (
                f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width:g}"'
                f' stroke-opacity="{opacity:g}"{dash}/>'
            )

        self._draws.append(draw)

    def triangles(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        areas: Sequence[float],
        *,
        up: bool,
        color: str,
        edge: str = "#000000",
    ) -> None:
        """Triangle markers (pointing up or down) of these areas in px², as one path."""
        marks = [
            (x, y, math.sqrt(a) / 2)
            for x, y, a in zip(xs, ys, areas, strict=True)
            if math.isfinite(x + y + a) and a > 0
        ]
        if not marks:
            return
        self._x += [m[0] for m in marks]
        self._y += [m[1] for m in marks]
        sign = 1 if up else -1

        def draw(sx: _Scale, sy: _Scale) -> str:
            # The scales run over whole arrays (the same float operations in the same
            # order, so the same doubles) and one format string writes every marker: a
            # panel of a thousand fills is five thousand coordinates.
            x, y, r = (np.asarray(v, dtype=np.float64) for v in zip(*marks, strict=True))
            columns = (sx(x), sy(y) - sign * r, r, 2 * sign * r, -2 * r)  # type: ignore[arg-type]
            flat = np.column_stack(columns).ravel().tolist()
            return (
                f'<path d="{_ns(_MARKER * len(marks) % tuple(flat))}" fill="{color}"'
                f' stroke="{edge}" stroke-width="0.5"/>'
            )

        self._draws.append(draw)

    def bars(
        self,
        positions: Sequence[float],
        heights: Sequence[float],
        *,
        width: float = 0.8,
        bottoms: Sequence[float] | None = None,
        color: str,
        horizontal: bool = False,
    ) -> list[tuple[float, float, float]]:
        """Bars centred on ``positions`` (vertical, or horizontal: ``heights`` along x),
        from ``bottoms`` (zero by default); the axis keeps zero at its edge when every bar
        is on one side of it. Returns each drawn bar's (position, bottom, top)."""
        bottoms = bottoms if bottoms is not None else [0.0] * len(positions)
        bars = [
            (p, b, b + h)
            for p, h, b in zip(positions, heights, bottoms, strict=True)
            if math.isfinite(p + h + b)
        ]
        if not bars:
            return []
        along, across = (self._x, self._y) if horizontal else (self._y, self._x)
        along += [v for _, b, t in bars for v in (b, t)]
        across += [v for p, _, _ in bars for v in (p - width / 2, p + width / 2)]
        (self._sticky_x if horizontal else self._sticky_y).append(0.0)

        def draw(sx: _Scale, sy: _Scale) -> str:
            out = []
            for p, b, t in bars:
                if horizontal:
                    x0, x1 = sorted((sx(b), sx(t)))
                    y0, y1 = sorted((sy(p - width / 2), sy(p + width / 2)))
                else:
                    x0, x1 = sorted((sx(p - width / 2), sx(p + width / 2)))
                    y0, y1 = sorted((sy(b), sy(t)))
                out.append(
                    f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}"'
                    f' height="{_n(y1 - y0)}"/>'
                )
            return f'<g fill="{color}">{"".join(out)}</g>'

        self._draws.append(draw)
        return bars

    def label(self, x: float, y: float, text: str, *, size: float = 11) -> None:
        """Text centred above the data point ``(x, y)``."""
        if not math.isfinite(x + y):
            return
        self._draws.append(lambda sx, sy: _text(sx(x), sy(y) - 2, text, size=size, anchor="middle"))

    def vline(self, x: float, color: str, width: float) -> None:
        """A vertical line over the full height at ``x``."""
        top, height = self.box[1], self.box[3]
        self._x.append(x)
        self._draws.append(
            lambda sx, sy: (
                f'<path d="M{_n(sx(x))} {_n(top)}V{_n(top + height)}" stroke="{color}"'
                f' stroke-width="{width:g}"/>'
            )
        )

    # -- how it is shown -----------------------------------------------------------

    def margins(self, x: float, y: float) -> None:
        """Padding of the data's extent on each side, as a fraction of it."""
        self._margins = (x, y)

    def set_ylim(self, low: float, high: float) -> None:
        self._ylim = (low, high)

    def set_xticks(self, positions: Sequence[float], labels: Sequence[str]) -> None:
        self._xticks = (list(positions), list(labels))

    def set_yticks(self, positions: Sequence[float], labels: Sequence[str]) -> None:
        self._yticks = (list(positions), list(labels))

    def invert_yaxis(self) -> None:
        self._y_inverted = True

    def grid(self, axis: Literal["x", "y"]) -> None:
        self._grid = axis

    def title(self, text: str, *, loc: Literal["left", "right"] = "left") -> None:
        self._titles.append((text, loc))

    def xlabel(self, text: str) -> None:
        self._xlabel = text

    def ylabel(self, text: str) -> None:
        self._ylabel = text

    def legend(
        self, entries: Sequence[tuple[str, str, str]], *, where: Literal["upper right", "above"]
    ) -> None:
        """Entries of (label, colour, ``"box"`` or ``"line"``)."""
        self._legend = (list(entries), where)

    # -- writing -------------------------------------------------------------------

    def _limits(
        self,
        values: list[float],
        sticky: list[float],
        fixed: tuple[float, float] | None,
        pad: float,
    ) -> tuple[float, float]:
        if fixed is not None:
            return fixed
        data = _finite(values)
        if not data:
            return (0.0, 1.0)
        low, high = min(data), max(data)
        if high == low:
            half = abs(low) * 0.05 or 0.5
            return (low - half, high + half)
        span = high - low
        lo, hi = low - pad * span, high + pad * span
        for edge in sticky:
            if low >= edge > lo:
                lo = edge
            if high <= edge < hi:
                hi = edge
        return (lo, hi)

    def svg(self) -> str:
        """This axes as SVG elements (empty when hidden)."""
        if not self.visible:
            return ""
        left, top, width, height = self.box
        x0, x1 = self._limits(self._x, self._sticky_x, None, self._margins[0])
        y0, y1 = self._limits(self._y, self._sticky_y, self._ylim, self._margins[1])
        bottom = top + height

        def sx(v: float) -> float:
            return left + (v - x0) / (x1 - x0) * width

        def sy(v: float) -> float:
            if self._y_inverted:
                return top + (v - y0) / (y1 - y0) * height
            return bottom - (v - y0) / (y1 - y0) * height

        xticks = self._xticks or self._auto_ticks(x0, x1)
        yticks = self._yticks or self._auto_ticks(y0, y1)
        out = [f'<g font-family="{_FONT}">']
        if self._grid == "y":
            out += [
                f'<path d="M{_n(left)} {_n(sy(v))}H{_n(left + width)}" stroke="#dddddd"'
                ' stroke-width="0.6"/>'
                for v in yticks[0]
            ]
        elif self._grid == "x":
            out += [
                f'<path d="M{_n(sx(v))} {_n(top)}V{_n(bottom)}" stroke="#dddddd"'
                ' stroke-width="0.6"/>'
                for v in xticks[0]
            ]
        # Clipped to the plotting box, as a plotting library clips its artists.
        clip = f"clip-{self.name}"
        out.append(
            f'<clipPath id="{clip}"><rect x="{_n(left)}" y="{_n(top)}" width="{_n(width)}"'
            f' height="{_n(height)}"/></clipPath><g clip-path="url(#{clip})">'
        )
        out += [draw(sx, sy) for draw in self._draws]
        out.append("</g>")
        out.append(
            f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(width)}" height="{_n(height)}"'
            ' fill="none" stroke="#000000" stroke-width="0.8"/>'
        )
        marks = []
        for v, text in zip(*xticks, strict=True):
            px = sx(v)
            marks.append(f"M{_n(px)} {_n(bottom)}v{_TICK}")
            out.append(
                # Baselines by offset, not dominant-baseline (which not every viewer reads).
                _text(
                    px, bottom + _TICK + 2 + 0.8 * self.font, text, size=self.font, anchor="middle"
                )
            )
        for v, text in zip(*yticks, strict=True):
            py = sy(v)
            marks.append(f"M{_n(left)} {_n(py)}h{-_TICK}")
            out.append(
                _text(left - _TICK - 2, py + 0.35 * self.font, text, size=self.font, anchor="end")
            )
        if marks:
            out.append(f'<path d="{"".join(marks)}" stroke="#000000" stroke-width="0.8"/>')
        if self._xlabel:
            out.append(
                _text(
                    left + width / 2,
                    bottom + _TICK + self.font + 16,
                    self._xlabel,
                    size=self.font,
                    anchor="middle",
                )
            )
        if self._ylabel:
            out.append(
                _text(
                    left - 40,
                    top + height / 2,
                    self._ylabel,
                    size=self.font,
                    anchor="middle",
                    rotate=True,
                )
            )
        for text, loc in self._titles:
            x = left if loc == "left" else left + width
            size = title_size(text, width)
            out.append(
                _text(x, top - 6, text, size=size, anchor="start" if loc == "left" else "end")
            )
        if self._legend is not None:
            out.append(self._legend_svg(*self._legend))
        out.append("</g>")
        return "".join(out)

    def _auto_ticks(self, low: float, high: float) -> tuple[list[float], list[str]]:
        values = nice_ticks(low, high)
        return values, [tick_label(v, values) for v in values]

    def _legend_svg(
        self, entries: list[tuple[str, str, str]], where: Literal["upper right", "above"]
    ) -> str:
        left, top, width, _ = self.box
        size = self.font
        out = []
        if where == "above":
            # In one row just above the plotting box, from its left edge.
            x, y = left, top - 8
            for text, color, kind in entries:
                out.append(self._swatch(x, y - size / 2, color, kind))
                out.append(_text(x + 22, y, text, size=size))
                x += 22 + 0.6 * size * len(text) + 18
        else:
            # In one column inside the top right corner, right-aligned.
            y = top + 6 + size
            for text, color, kind in entries:
                right = left + width - 6
                out.append(_text(right, y, text, size=size, anchor="end"))
                out.append(
                    self._swatch(right - 0.6 * size * len(text) - 24, y - size / 2, color, kind)
                )
                y += size + 5
        return "".join(out)

    @staticmethod
    def _swatch(x: float, y: float, color: str, kind: str) -> str:
        if kind == "line":
            return f'<path d="M{_n(x)} {_n(y)}h18" stroke="{color}" stroke-width="2"/>'
        return f'<rect x="{_n(x)}" y="{_n(y - 5)}" width="18" height="10" fill="{color}"/>'


class Figure:
    """An SVG document of ``width`` x ``height`` pixels holding a grid of axes."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self.axes: list[Axes] = []

    def grid(
        self,
        rows: int,
        cols: int,
        *,
        left: float,
        right: float,
        top: float,
        bottom: float,
        gap_x: float,
        gap_y: float,
    ) -> list[list[Axes]]:
        """``rows`` x ``cols`` axes with these fixed margins and gaps, in pixels."""
        w = (self.width - left - right - gap_x * (cols - 1)) / cols
        h = (self.height - top - bottom - gap_y * (rows - 1)) / rows
        grid = [
            [
                Axes(
                    left + c * (w + gap_x),
                    top + r * (h + gap_y),
                    w,
                    h,
                    name=f"{len(self.axes)}-{r}-{c}",
                )
                for c in range(cols)
            ]
            for r in range(rows)
        ]
        self.axes += [ax for row in grid for ax in row]
        return grid

    def svg(self) -> str:
        """The whole document."""
        body = "".join(ax.svg() for ax in self.axes)
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
            f' width="{self.width:g}" height="{self.height:g}"'
            f' viewBox="0 0 {self.width:g} {self.height:g}">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>{body}</svg>'
        )
