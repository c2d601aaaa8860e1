"""Binance's own Python SDK clients (binance-sdk-spot, binance-sdk-derivatives-trading-
usds-futures: code this project did not write) against the simulator, on the endpoints
they call for balances, prices, klines and orders."""

from __future__ import annotations

import asyncio

from binance_common.configuration import ConfigurationRestAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_spot.spot import Spot

from exsdk.simulator import SimulatedBinance


def _config(venue: SimulatedBinance) -> ConfigurationRestAPI:
    return ConfigurationRestAPI(
        api_key=venue.api_key, api_secret=venue.secret, base_path=venue.base_url
    )


async def test_usds_futures_client(venue: SimulatedBinance) -> None:
    def flow() -> None:
        api = DerivativesTradingUsdsFutures(config_rest_api=_config(venue)).rest_api
        [usdt] = api.futures_account_balance_v3().data()
        assert usdt.asset == "USDT" and usdt.balance == "100000.00000000"
        placed = api.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.01)
        # USD-M's default answer is ACK: the order as accepted, not yet its fill.
        assert placed.data().status == "NEW" and placed.data().executed_qty == "0.000"
        ticker = api.symbol_price_ticker(symbol="BTCUSDT").data().actual_instance
        assert ticker is not None and float(ticker.price) > 0
        rows = api.kline_candlestick_data(symbol="BTCUSDT", interval="1m").data()
        assert rows and len(rows[0]) == 12
        resting = api.new_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity=0.01,
            price=50000,
            time_in_force="GTC",
        ).data()
        current = api.query_current_open_order(symbol="BTCUSDT", order_id=resting.order_id)
        assert current.data().status == "NEW"

    await asyncio.to_thread(flow)


async def test_spot_client(venue: SimulatedBinance) -> None:
    def flow() -> None:
        api = Spot(config_rest_api=_config(venue)).rest_api
        average = api.avg_price(symbol="BTCUSDT").data()
        assert average.mins == 5 and float(average.price) > 0
        price = api.ticker_price(symbol="ETHUSDT").data().actual_instance
        assert price is not None and price.symbol == "ETHUSDT"
        rows = api.klines(symbol="BTCUSDT", interval="1m").data()
        assert rows and len(rows[0]) == 12
        full = api.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.1).data()
        # Spot's default for MARKET is FULL: the fills are in the reply.
        assert full.status == "FILLED" and full.fills and len(full.fills) >= 2

    await asyncio.to_thread(flow)
