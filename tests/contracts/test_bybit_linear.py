"""Bybit v5 USDT perpetuals against the shared contract suite."""

from exsdk.contracts import AdapterContract


class TestBybitLinear(AdapterContract):
    """bybit-linear: every contract, replayed from cassettes/bybit-linear/."""

    adapter_name = "bybit-linear"
    liquid_symbol = "BTC/USDT:USDT"
    cheap_symbol = "DOGE/USDT:USDT"
    thin_symbol = "HNT/USDT:USDT"
