"""Binance USD-M futures against the shared contract suite."""

from exsdk.contracts import AdapterContract


class TestBinanceFutures(AdapterContract):
    """binance-futures: every contract, replayed from cassettes/binance-futures/."""

    adapter_name = "binance-futures"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"
    thin_symbol = "APE/USDT:USDT"
    market_kind = "futures"
