"""Binance spot against the shared contract suite."""

from exsdk.contracts import AdapterContract


class TestBinanceSpot(AdapterContract):
    """binance-spot: every contract, replayed from cassettes/binance-spot/."""

    adapter_name = "binance-spot"
    liquid_symbol = "ETH/USDT"
    cheap_symbol = "DOGE/USDT"
    market_kind = "spot"
