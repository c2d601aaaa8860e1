"""The price process runs in the venue's clock time: the realised volatility of the mid,
measured in clock time, is the configured annual figure at any clock speed and however
often the venue samples it. The clock is driven by hand; no wall time is involved."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from pathlib import Path

import pytest

from exsdk.simulator.exchange_info import load_snapshot
from exsdk.simulator.price_process import SECONDS_PER_YEAR, annual_volatility
from exsdk.simulator.state import VenueState

SYMBOLS = ("BTCUSDT", "ETHUSDT", "DOGEUSDT")
SAMPLE_CLOCK_SECONDS = 60.0
SAMPLES = 300
# With 300 one-minute returns the standard error of a realised volatility is about 4 %;
# 20 % is five of them, and an order of magnitude below the old process's error.
BAND = 0.20


class HandClock:
    """Seconds since the epoch that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def small_snapshots(tmp_path: Path) -> tuple[str, str]:
    """The bundled snapshots cut down to a few symbols (fewer books: a faster test)."""
    paths = []
    for name, keep in (
        ("futures_exchange_info_2025-11_selected.json", SYMBOLS),
        ("spot_exchange_info_2024-09_selected.json", ("BTCUSDT",)),
    ):
        doc = load_snapshot(name)
        doc["symbols"] = [s for s in doc["symbols"] if s["symbol"] in keep]
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    return paths[0], paths[1]


def realised(mids: list[float], seconds: float) -> float:
    """Annualised standard deviation of the log returns between successive samples."""
    returns = [math.log(b / a) for a, b in itertools.pairwise(mids)]
    return statistics.pstdev(returns) * math.sqrt(SECONDS_PER_YEAR / seconds)


# 1x sampled every 3 wall seconds (3 clock seconds a step) and 20x every 0.3 wall seconds
# (6 clock seconds a step): different speeds and different steps, one volatility.
@pytest.mark.parametrize(("speed", "wall_tick"), [(1.0, 3.0), (20.0, 0.3)])
def test_realised_volatility_in_clock_time(tmp_path: Path, speed: float, wall_tick: float) -> None:
    futures, spot = small_snapshots(tmp_path)
    wall = HandClock()
    state = VenueState.create(
        seed=7,
        futures_snapshot=futures,
        spot_snapshot=spot,
        clock_speed=speed,
        time_source=wall,
    )
    ticks_per_sample = round(SAMPLE_CLOCK_SECONDS / (wall_tick * speed))
    mids: dict[str, list[float]] = {s: [] for s in SYMBOLS}
    for sample in range(SAMPLES + 1):
        for symbol in SYMBOLS:
            mids[symbol].append(float(state.futures.books[symbol].mid))
        if sample == SAMPLES:
            break
        for _ in range(ticks_per_sample):
            wall.now += wall_tick
            state.advance_clock()
    assert state.clock.elapsed() == pytest.approx(SAMPLES * SAMPLE_CLOCK_SECONDS)
    for symbol in SYMBOLS:
        configured = annual_volatility(state.futures.books[symbol].rules.base)
        measured = realised(mids[symbol], SAMPLE_CLOCK_SECONDS)
        assert abs(measured / configured - 1) < BAND, (symbol, speed, measured, configured)


def test_no_clock_time_no_move(tmp_path: Path) -> None:
    futures, spot = small_snapshots(tmp_path)
    wall = HandClock()
    state = VenueState.create(
        seed=7, futures_snapshot=futures, spot_snapshot=spot, clock_speed=20, time_source=wall
    )
    before = {s: b.mid for s, b in state.futures.books.items()}
    assert state.advance_clock() == 0.0
    assert {s: b.mid for s, b in state.futures.books.items()} == before
    wall.now += 0.5
    assert state.advance_clock() == pytest.approx(10.0)  # half a wall second at 20x
