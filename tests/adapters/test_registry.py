"""Registry: names, lazy imports, entry points, venue URL sets, the capability table."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from exsdk import registry
from exsdk.adapter import CcxtAdapter, ExchangeAdapter, Venue
from exsdk.adapters.binance.futures import BinanceFuturesAdapter
from exsdk.adapters.binance.spot import BinanceSpotAdapter
from exsdk.errors import SdkError, UnsupportedMethod
from exsdk.limits import Environment
from exsdk.registry import (
    AdapterNotFound,
    adapter_class,
    adapter_names,
    capability_table,
    get_adapter,
)

ROOT = Path(__file__).resolve().parents[2]


def test_importing_sdk_imports_no_adapter() -> None:
    code = (
        "import sys, exsdk, exsdk.adapter, exsdk.registry, exsdk.adapter.credentials\n"
        "bad = [m for m in sys.modules if m.partition('.')[2].startswith('adapters')]\n"
        "assert not bad, bad\n"
        "exsdk.registry.adapter_class('binance-spot')\n"
        "assert 'exsdk.adapters.binance.spot' in sys.modules\n"
        "assert 'exsdk.adapters.binance.futures' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_builtin_names_resolve() -> None:
    assert adapter_names()[:2] == ["binance-spot", "binance-futures"]
    assert adapter_class("binance-spot") is BinanceSpotAdapter
    assert adapter_class("binance-futures") is BinanceFuturesAdapter


def test_generic_names_resolve_to_one_class_per_exchange() -> None:
    cls = adapter_class("ccxt:kraken")
    assert issubclass(cls, CcxtAdapter)
    assert cls.name == "ccxt:kraken" and cls.ccxt_id == "kraken"
    assert adapter_class("ccxt:kraken") is cls


def test_unknown_names() -> None:
    with pytest.raises(AdapterNotFound, match=r"no adapter named 'nope'.*binance-spot"):
        adapter_class("nope")
    with pytest.raises(SdkError, match="unknown ccxt exchange id 'nope'"):
        adapter_class("ccxt:nope")


class _ThirdParty(BinanceSpotAdapter):
    """A stand-in for an adapter shipped by another package."""

    name = "third-party"


def _fake_entry_points(*eps: EntryPoint) -> Any:
    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == "exsdk.adapters"
        return list(eps)

    return entry_points


def test_entry_point_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = (
        EntryPoint("third-party", f"{__name__}:_ThirdParty", "exsdk.adapters"),
        EntryPoint("binance-spot", f"{__name__}:_ThirdParty", "exsdk.adapters"),
        EntryPoint("broken", "no_such_module_xyz:Thing", "exsdk.adapters"),
    )
    monkeypatch.setattr(registry, "entry_points", _fake_entry_points(*eps))
    assert adapter_names() == [
        "binance-spot",
        "binance-futures",
        "bybit-spot",
        "bybit-linear",
        "broken",
        "third-party",
    ]
    assert adapter_class("third-party") is _ThirdParty
    assert adapter_class("binance-spot") is BinanceSpotAdapter  # built-ins win
    with pytest.raises(AdapterNotFound, match="failed to import"):
        adapter_class("broken")
    rows = {row["name"]: row for row in capability_table()}
    assert rows["third-party"]["ccxt_id"] == "binance"
    assert "failed to import" in rows["broken"]["missing"]


async def test_get_adapter_demo_urls() -> None:
    adapter = get_adapter("binance-futures", venue="demo", markets_cache=False)
    async with adapter:
        assert isinstance(adapter, BinanceFuturesAdapter)
        assert adapter.environment is Environment.LOCAL
        urls = adapter.api_urls()
        assert urls["fapiPrivate"] == "https://demo-fapi.binance.com/fapi/v1"
        assert urls["fapiPrivateV3"] == "https://demo-fapi.binance.com/fapi/v3"


async def test_testnet_urls_and_futures_sandbox_option() -> None:
    async with get_adapter("binance-futures", venue=Venue.TESTNET, markets_cache=False) as fut:
        assert fut.exchange.options["disableFuturesSandboxWarning"] is True
        assert fut.api_urls()["fapiPrivate"] == "https://testnet.binancefuture.com/fapi/v1"
    async with get_adapter("binance-spot", venue=Venue.TESTNET, markets_cache=False) as spot:
        assert spot.api_urls()["private"] == "https://testnet.binance.vision/api/v3"
        assert "disableFuturesSandboxWarning" not in spot.exchange.options


async def test_sim_rewrites_every_url_to_the_base_url() -> None:
    adapter = get_adapter("binance-spot", venue="sim", base_url="http://127.0.0.1:8123/")
    async with adapter:
        assert isinstance(adapter, CcxtAdapter)
        urls = adapter.api_urls()
        assert urls["private"] == "http://127.0.0.1:8123/api/v3"
        assert urls["fapiPrivateV2"] == "http://127.0.0.1:8123/fapi/v2"
        assert all(url.startswith("http://127.0.0.1:8123/") for url in urls.values())
        assert adapter.markets_cache is None  # the simulator is not cached by default


def test_sim_needs_base_url_and_others_refuse_it() -> None:
    with pytest.raises(SdkError, match="needs base_url"):
        BinanceSpotAdapter(Venue.SIM)
    with pytest.raises(SdkError, match="only for venue 'sim'"):
        BinanceSpotAdapter(Venue.DEMO, base_url="http://127.0.0.1:1")
    with pytest.raises(SdkError, match="must look like"):
        BinanceSpotAdapter(Venue.SIM, base_url="127.0.0.1:80")


def test_live_must_be_asked_for() -> None:
    with pytest.raises(SdkError, match="allow_live=True"):
        get_adapter("binance-futures", venue="live")


async def test_live_with_consent() -> None:
    adapter = get_adapter("binance-spot", venue="live", allow_live=True, markets_cache=False)
    async with adapter:
        assert adapter.environment is Environment.PROD
        assert adapter.api_urls()["private"] == "https://api.binance.com/api/v3"


def test_bad_environment() -> None:
    with pytest.raises(SdkError, match="unknown environment 'staging'"):
        get_adapter("binance-spot", venue="demo", environment="staging")


def test_generic_without_demo_urls_is_refused() -> None:
    with pytest.raises(UnsupportedMethod, match="venue 'demo' is not available"):
        get_adapter("ccxt:kraken", venue="demo", markets_cache=False)


def test_capability_table() -> None:
    rows = capability_table(exchanges=["bitfinex", "gemini"])
    by_name = {row["name"]: row for row in rows}
    spot, fut = by_name["binance-spot"], by_name["binance-futures"]
    assert (spot["ccxt_id"], spot["market_type"]) == ("binance", "spot")
    assert (fut["ccxt_id"], fut["market_type"]) == ("binanceusdm", "swap")
    assert not spot["positions"] and not spot["leverage"] and not spot["reduce_only"]
    assert fut["positions"] and fut["leverage"] and fut["reduce_only"] and fut["liquidity_error"]
    assert by_name["ccxt:<id>"]["missing"] == ""
    assert by_name["ccxt:<id>"]["market_orders"] is None, "each exchange derives its own"
    assert by_name["ccxt:bitfinex"]["missing"] == ""
    gemini = by_name["ccxt:gemini"]
    assert gemini["missing"] == "createMarketOrder, fetchOrders"
    # Never "yes" beside a missing method: the capability follows ccxt's has.
    assert gemini["market_orders"] is False and gemini["fetch_by_client_order_id"] is False
    assert "createMarketOrder: market orders" in gemini["needed_for"]
    assert "fetchTime: clock sync after a timestamp rejection" in gemini["needed_for"]
    columns = set(rows[0])
    assert all(set(row) == columns for row in rows)


def test_every_builtin_is_an_exchange_adapter() -> None:
    for name in adapter_names():
        assert issubclass(adapter_class(name), ExchangeAdapter)
