"""Asset ids by kaizenflow's md5 rule, and the universe that resolves them."""

from __future__ import annotations

import pytest

from exsdk.errors import InvalidOrderInput
from exsdk.orders_text import load_orders
from exsdk.universe import DEFAULT_UNIVERSE, Asset, Universe, asset_id_for

from .helpers import EXAMPLES

KAIZENFLOW_IDS = {
    "ETH": 1464553467,
    "BTC": 1467591036,
    "EOS": 2061507978,
    "SOL": 2237530510,
    "LINK": 2601760471,
    "DOGE": 3065029174,
    "ADA": 3303714233,
    "AVAX": 8717633868,
    "BNB": 8968126878,
    "APE": 6051632686,
}


@pytest.mark.parametrize(("base", "asset_id"), sorted(KAIZENFLOW_IDS.items()))
def test_asset_id_matches_kaizenflow(base: str, asset_id: int) -> None:
    assert asset_id_for("binance", base, "USDT") == asset_id


def test_other_ids_from_kaizenflow_outputs() -> None:
    assert asset_id_for("binance", "GMT", "USDT") == 1030828978
    assert asset_id_for("binance", "BTC", "BUSD") == 1182743717


def test_default_universe_covers_default_orders() -> None:
    orders = load_orders(EXAMPLES / "default_orders.txt")
    bases = [DEFAULT_UNIVERSE.resolve(o.asset_id).base for o in orders]
    assert bases == ["ETH", "BTC", "EOS", "SOL", "LINK", "DOGE", "ADA", "AVAX", "BNB"]
    assert len(DEFAULT_UNIVERSE) == 11
    assert {a.base for a in DEFAULT_UNIVERSE} >= {"APE", "HNT"}


def test_resolve_unknown_id_names_known_ones() -> None:
    with pytest.raises(InvalidOrderInput, match=r"unknown asset id 42; known: 1464553467"):
        DEFAULT_UNIVERSE.resolve(42)


@pytest.mark.parametrize("symbol", ["ETH/USDT", "ETH/USDT:USDT"])
def test_asset_for_symbol_spot_and_futures(symbol: str) -> None:
    asset = DEFAULT_UNIVERSE.asset_for_symbol(symbol)
    assert asset == Asset(1464553467, "binance", "ETH", "USDT")
    assert asset.spot_symbol == "ETH/USDT"
    assert asset.futures_symbol == "ETH/USDT:USDT"
    assert asset.full_symbol == "binance::ETH_USDT"


@pytest.mark.parametrize("symbol", ["XRP/USDT", "ETH/BTC", "garbage", ""])
def test_asset_for_unknown_symbol(symbol: str) -> None:
    with pytest.raises(InvalidOrderInput):
        DEFAULT_UNIVERSE.asset_for_symbol(symbol)


def test_asset_for_symbol_filters_by_exchange() -> None:
    with pytest.raises(InvalidOrderInput):
        DEFAULT_UNIVERSE.asset_for_symbol("ETH/USDT", exchange="okx")


def test_from_pairs_with_extra_table() -> None:
    uni = Universe.from_pairs("binance", ["ETH/USDT"], extra={7: ("FOO", "USDT")})
    assert len(uni) == 2
    assert uni.resolve(7) == Asset(7, "binance", "FOO", "USDT")
    assert 1464553467 in uni
    assert [a.base for a in uni] == ["ETH", "FOO"]


def test_colliding_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="asset id 1"):
        Universe([Asset(1, "binance", "A", "USDT"), Asset(1, "binance", "B", "USDT")])


def test_bad_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="BASE_QUOTE"):
        Universe.from_pairs("binance", ["ETHUSDT"])


def test_asset_is_frozen() -> None:
    asset = DEFAULT_UNIVERSE.resolve(1464553467)
    with pytest.raises(AttributeError):
        asset.base = "BTC"  # type: ignore[misc]
