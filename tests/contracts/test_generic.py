"""Generic ccxt adapters: the method contract, which needs no venue and no cassette."""

from exsdk.contracts import MethodContract


class TestGenericBitfinex(MethodContract):
    """bitfinex lacks fetchOrders, but fetchOpenOrders + fetchClosedOrders serve."""

    adapter_name = "ccxt:bitfinex"


class TestGenericKraken(MethodContract):
    """kraken, like bitfinex, is served by the alternatives."""

    adapter_name = "ccxt:kraken"


class TestGenericGemini(MethodContract):
    """gemini lacks market orders and any way to list past orders."""

    adapter_name = "ccxt:gemini"
    expected_missing = ("createMarketOrder", "fetchOrders")
