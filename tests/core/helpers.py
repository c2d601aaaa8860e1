"""Sample data helpers: the real Binance bodies, parsed by ccxt offline (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ccxt

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_sample(name: str) -> Any:
    """The JSON body of one sample file."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def futures_exchange(snapshot: str) -> Any:
    """A ``binanceusdm`` instance with markets parsed from an exchangeInfo snapshot."""
    ex = ccxt.binanceusdm()
    ex.set_markets(ex.parse_markets(load_sample(snapshot)["symbols"]))
    return ex


def spot_exchange(snapshot: str) -> Any:
    """A ``binance`` instance with markets parsed from a spot exchangeInfo snapshot."""
    ex = ccxt.binance()
    # ``load_markets`` fills these from sapi margin endpoints; offline there are none.
    ex.options["crossMarginPairsData"] = []
    ex.options["isolatedMarginPairsData"] = []
    ex.set_markets(ex.parse_markets(load_sample(snapshot)["symbols"]))
    return ex
