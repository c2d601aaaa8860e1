"""The generic ``ccxt:<id>`` adapter: required-method detection, offline (no request)."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from exsdk.adapter import Venue
from exsdk.adapters.generic import REQUIRED_METHODS, GenericCcxtAdapter, missing_methods
from exsdk.errors import OrderNotFound, SdkError, UnsupportedMethod
from exsdk.registry import get_adapter


def _build(exchange_id: str) -> GenericCcxtAdapter:
    cls = GenericCcxtAdapter.for_exchange(exchange_id)
    return cls(Venue.LIVE, allow_live=True, markets_cache=False)


def _with_btc_usd(adapter: GenericCcxtAdapter) -> GenericCcxtAdapter:
    # The adapter refuses a symbol that is not among the markets before any request; the
    # tests below fake ccxt's methods instead of loading markets, so they set the one used.
    adapter.exchange.set_markets(
        [{"id": "XBTUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "spot": True}]
    )
    return adapter


@pytest.mark.parametrize("exchange_id", ["bitfinex", "kraken"])
async def test_alternatives_serve(exchange_id: str) -> None:
    # Both lack fetchOrders in ccxt 4.5.90; fetchOpenOrders + fetchClosedOrders replace it.
    adapter = _build(exchange_id)
    async with adapter:
        assert not adapter.exchange.has.get("fetchOrders")
        assert adapter.exchange.has["fetchOpenOrders"] and adapter.exchange.has["fetchClosedOrders"]
        assert adapter.name == f"ccxt:{exchange_id}" and adapter.exchange_id == exchange_id
    assert GenericCcxtAdapter.check(exchange_id) == {}


def test_bitstamp_lacks_closed_orders() -> None:
    with pytest.raises(UnsupportedMethod) as info:
        _build("bitstamp")
    assert set(info.value.missing) == {"fetchOrders"}
    assert "lacks fetchClosedOrders" in info.value.missing["fetchOrders"]
    assert "fetchOrders (needed for order lookup by client order id" in str(info.value)
    assert info.value.exchange == "bitstamp"


def test_gemini_lacks_market_orders_and_order_history() -> None:
    with pytest.raises(UnsupportedMethod) as info:
        get_adapter("ccxt:gemini", venue="live", allow_live=True, markets_cache=False)
    assert set(info.value.missing) == {"createMarketOrder", "fetchOrders"}
    assert "market orders" in info.value.missing["createMarketOrder"]


def test_detection_makes_no_request(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_fetch(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request was made")

    monkeypatch.setattr(ccxt.async_support.Exchange, "fetch", no_fetch)
    with pytest.raises(UnsupportedMethod):
        _build("gemini")


def test_missing_methods_table() -> None:
    has = {m: True for m in REQUIRED_METHODS} | {"fetchOrders": None, "fetchOpenOrders": True}
    assert set(missing_methods(has)) == {"fetchOrders"}
    has["fetchClosedOrders"] = "emulated"
    assert missing_methods(has) == {}
    has["cancelOrder"] = False
    assert set(missing_methods(has)) == {"cancelOrder"}


def test_unknown_exchange() -> None:
    with pytest.raises(SdkError, match="unknown ccxt exchange id 'nosuchex'"):
        GenericCcxtAdapter.for_exchange("nosuchex")


def test_the_base_class_needs_an_exchange() -> None:
    with pytest.raises(SdkError, match="for_exchange"):
        GenericCcxtAdapter(Venue.LIVE, allow_live=True, markets_cache=False)


async def test_not_supported_at_run_time_is_unsupported_method() -> None:
    adapter = _with_btc_usd(_build("kraken"))

    async def not_supported(*args: Any, **kwargs: Any) -> Any:
        raise ccxt.NotSupported("kraken fetchMyTrades() is not supported yet")

    adapter.exchange.fetch_my_trades = not_supported
    async with adapter:
        with pytest.raises(UnsupportedMethod) as info:
            await adapter.fetch_order_trades("BTC/USD", order_id="1")
    assert info.value.missing == {"fetchMyTrades": REQUIRED_METHODS["fetchMyTrades"].purpose}


async def test_client_order_id_lookup_scans_open_and_closed() -> None:
    adapter = _with_btc_usd(_build("kraken"))
    base = {"symbol": "BTC/USD", "side": "buy", "amount": 1.0, "info": {}}
    calls: list[str] = []

    async def open_orders(symbol: str, *args: Any) -> list[dict[str, Any]]:
        calls.append("open")
        return [base | {"id": "O1", "clientOrderId": "a"}]

    async def closed_orders(symbol: str, *args: Any) -> list[dict[str, Any]]:
        calls.append("closed")
        return [base | {"id": "O2", "clientOrderId": "b", "status": "closed"}]

    adapter.exchange.fetch_open_orders = open_orders
    adapter.exchange.fetch_closed_orders = closed_orders
    async with adapter:
        found = await adapter.fetch_order("BTC/USD", client_order_id="b")
        assert found.id == "O2" and found.client_order_id == "b"
        with pytest.raises(OrderNotFound):
            await adapter.fetch_order("BTC/USD", client_order_id="zzz")
    assert calls == ["open", "closed", "open", "closed"]
