"""The report's SVG charts (exsdk.app.svg): round ticks, plain labels, limits from the data,
well-formed documents that depend on the data alone."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from exsdk.app.svg import TITLE_SIZE, Figure, nice_ticks, tick_label

SVG = "{http://www.w3.org/2000/svg}"


def test_ticks_are_round_and_inside_the_range() -> None:
    assert nice_ticks(0, 600) == [0, 100, 200, 300, 400, 500, 600]
    assert nice_ticks(59712.3, 60305.9) == [59800, 59900, 60000, 60100, 60200, 60300]
    ticks = nice_ticks(-0.013, 0.021)
    assert ticks[0] >= -0.013 and ticks[-1] <= 0.021 and 4 <= len(ticks) <= 9
    ticks = nice_ticks(0.1495, 0.1505)  # a DOGE price: steps of 2e-4, float noise and all
    assert [tick_label(t, ticks) for t in ticks] == [
        "0.1496",
        "0.1498",
        "0.1500",
        "0.1502",
        "0.1504",
    ]
    assert nice_ticks(5, 5) == [5]
    assert nice_ticks(math.nan, 1) == []


def test_labels_carry_the_step_decimals_and_a_true_minus() -> None:
    ticks = [-0.5, 0.0, 0.5, 1.0]
    assert [tick_label(t, ticks) for t in ticks] == ["\u22120.5", "0.0", "0.5", "1.0"]
    ticks = [0.0, 25.0, 50.0]
    assert [tick_label(t, ticks) for t in ticks] == ["0", "25", "50"]
    ticks = [-1e-9, 0.0]  # a tick that rounds to zero is "0", never "-0"
    assert tick_label(-1e-12, ticks) == "0.000000000"
    assert tick_label(60000.0, [59800.0, 60000.0]) == "60000"  # plain: no offset, no exponent


def _chart() -> str:
    fig = Figure(880, 300)
    [[left, right]] = fig.grid(1, 2, left=75, right=20, top=35, bottom=50, gap_x=70, gap_y=0)
    left.span_x(0, 60, "#eef1f7")
    left.step([0, 30, 60], [100.0, 101.0, math.nan], "#4a5a78", 1.5)
    left.segments([100.5], [0], [45], "#1a9850", 3, dashed=True)
    left.triangles([10, 20], [100.2, 100.8], [40, 120], up=False, color="#d73027")
    left.title("a <b> & c")
    for x, _, top in right.bars([0.0, 1.0], [3.0, 5.0], color="#4575b4"):
        right.label(x, top, f"{top:.0f}")
    right.legend([("filled", "#1a9850", "box")], where="upper right")
    return fig.svg()


def test_a_chart_is_well_formed_and_depends_on_the_data_alone() -> None:
    text = _chart()
    assert text == _chart()
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 880 300"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "a <b> & c" in texts  # escaped in the document, the title's text when read
    assert {"3", "5", "filled"} <= set(texts)
    paths = [p.get("d") or "" for p in root.iter(f"{SVG}path")]
    # The step stops at the last finite point; the two markers are one path of two shapes.
    assert any(d.count("z") == 2 for d in paths)
    assert not any("nan" in d.lower() for d in paths)


def test_bars_stand_on_zero() -> None:
    fig = Figure(400, 300)
    [[ax]] = fig.grid(1, 1, left=50, right=10, top=10, bottom=40, gap_x=0, gap_y=0)
    ax.bars([0.0], [10.0], color="#000000")
    root = ET.fromstring(fig.svg())
    bar = next(r for g in root.iter(f"{SVG}g") if g.get("fill") == "#000000" for r in g)
    # The plotting box ends at y = 300 - 40; a bar from zero starts there, not above it.
    assert abs(float(bar.get("y", 0)) + float(bar.get("height", 0)) - 260) <= 0.1


def test_a_long_title_is_made_to_fit_its_panel() -> None:
    # The demo's DOGE panel: its title ran off the figure's right edge at 14 px.
    long = "DOGE  buy asked 6052.094  sent 170  filled/sent 100.0%"
    fig = Figure(1320, 300)
    [[_, _, right]] = fig.grid(1, 3, left=75, right=20, top=35, bottom=50, gap_x=70, gap_y=0)
    right.title(long)
    right.step([0, 1], [1.0, 2.0], "#000000", 1.0)
    width = right.box[2]
    root = ET.fromstring(fig.svg())
    [title] = [t for t in root.iter(f"{SVG}text") if t.text == long]
    size = float(title.get("font-size") or 0)
    assert size < TITLE_SIZE
    # At 0.55 em a glyph (this title renders at about 0.46 em in DejaVu Sans) it ends
    # inside its panel, so before the figure's edge.
    end = float(title.get("x") or 0) + 0.55 * size * len(long)
    assert end <= right.box[0] + width <= 1320
    short = Figure(400, 300)
    [[axes]] = short.grid(1, 1, left=75, right=20, top=35, bottom=50, gap_x=0, gap_y=0)
    axes.title("BTC")
    axes.step([0, 1], [1.0, 2.0], "#000000", 1.0)
    texts = ET.fromstring(short.svg()).iter(f"{SVG}text")
    assert [t.get("font-size") for t in texts if t.text == "BTC"] == ["14"]


def test_markers_are_written_as_each_coordinate_alone_would_be() -> None:
    # The markers' path is written in one format over arrays (svg.Axes.triangles); it must
    # be the text of each coordinate through _n, minus zeros, halves and all.
    import random

    from exsdk.app.svg import _n

    rng = random.Random(7)
    xs = [-0.04, -0.0, 0.0, 0.05, -0.05, 0.15, -0.25, 1e-300, -1e-300, 12345.65]
    xs += [rng.uniform(-1000, 1000) for _ in range(500)]
    ys = [rng.choice([0.0, -0.0, 0.049, -0.049, rng.uniform(-5, 5)]) for _ in xs]
    areas = [rng.choice([0.0004, 0.01, rng.uniform(0.001, 900)]) for _ in xs]
    for up in (True, False):
        fig = Figure(400, 300)
        [[ax]] = fig.grid(1, 1, left=50, right=10, top=10, bottom=40, gap_x=0, gap_y=0)
        ax.triangles(xs, ys, areas, up=up, color="#000000")
        [draw] = ax._draws

        def sx(v: float) -> float:
            return v * 1.0 - 0.0

        def sy(v: float) -> float:
            return 3.0 - v

        sign = 1 if up else -1
        expected = "".join(
            f"M{_n(sx(x))} {_n(sy(y) - sign * r)}l{_n(r)} {_n(2 * sign * r)}h{_n(-2 * r)}z"
            for x, y, r in ((x, y, math.sqrt(a) / 2) for x, y, a in zip(xs, ys, areas, strict=True))
        )
        assert f'd="{expected}"' in draw(sx, sy)
