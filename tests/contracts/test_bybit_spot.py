"""Bybit spot against the shared contract suite."""

from exsdk.contracts import AdapterContract


class TestBybitSpot(AdapterContract):
    """bybit-spot: every contract, replayed from cassettes/bybit-spot/."""

    adapter_name = "bybit-spot"
    liquid_symbol = "ETH/USDT"
    cheap_symbol = "DOGE/USDT"
    market_kind = "spot"
