"""Route table: (method, path) -> handler, signed flag and request weight."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from exsdk.simulator.exchange_info import MarketKind
from exsdk.simulator.params import Params
from exsdk.simulator.ratelimit import futures_weight, spot_weight
from exsdk.simulator.state import VenueState

Handler = Callable[[VenueState, Params], Any]


@attrs.frozen
class Route:
    """One served endpoint."""

    method: str
    path: str
    handler: Handler
    signed: bool
    market: MarketKind
    is_order: bool = False

    def weight(self, params: Mapping[str, str]) -> int:
        """Request weight of this call (depends on params for some endpoints)."""
        if self.path.startswith("/sapi") or self.path.startswith("/dapi"):
            return 1
        if self.market == "futures":
            return futures_weight(self.method, self.path, params)
        return spot_weight(self.method, self.path, params)


def build_routes() -> dict[tuple[str, str], Route]:
    """All endpoints served by the simulator."""
    from exsdk.simulator import handlers_futures as hf
    from exsdk.simulator import handlers_spot as hs

    table: list[Route] = [
        Route("GET", "/api/v3/ping", hs.ping, False, "spot"),
        Route("GET", "/api/v3/time", hs.server_time, False, "spot"),
        Route("GET", "/api/v3/exchangeInfo", hs.exchange_info, False, "spot"),
        Route("GET", "/api/v3/depth", hs.depth, False, "spot"),
        Route("GET", "/api/v3/ticker/bookTicker", hs.book_ticker, False, "spot"),
        Route("GET", "/api/v3/ticker/24hr", hs.ticker_24hr, False, "spot"),
        Route("GET", "/api/v3/ticker/price", hs.ticker_price, False, "spot"),
        Route("GET", "/api/v3/klines", hs.spot_klines, False, "spot"),
        Route("GET", "/api/v3/avgPrice", hs.avg_price, False, "spot"),
        Route("POST", "/api/v3/order", hs.new_order, True, "spot", is_order=True),
        Route("GET", "/api/v3/order", hs.query_order, True, "spot"),
        Route("DELETE", "/api/v3/order", hs.cancel_order, True, "spot"),
        Route("GET", "/api/v3/openOrders", hs.open_orders, True, "spot"),
        Route("GET", "/api/v3/allOrders", hs.all_orders, True, "spot"),
        Route("GET", "/api/v3/myTrades", hs.my_trades, True, "spot"),
        Route("GET", "/api/v3/account", hs.account, True, "spot"),
        Route("GET", "/sapi/v1/capital/config/getall", hs.empty_list, True, "spot"),
        Route("GET", "/sapi/v1/margin/allPairs", hs.empty_list, True, "spot"),
        Route("GET", "/sapi/v1/margin/isolated/allPairs", hs.empty_list, True, "spot"),
        Route("GET", "/dapi/v1/exchangeInfo", hs.dapi_exchange_info, False, "spot"),
        Route("GET", "/fapi/v1/ping", hs.ping, False, "futures"),
        Route("GET", "/fapi/v1/time", hs.server_time, False, "futures"),
        Route("GET", "/fapi/v1/exchangeInfo", hf.exchange_info, False, "futures"),
        Route("GET", "/fapi/v1/depth", hf.depth, False, "futures"),
        Route("GET", "/fapi/v1/ticker/bookTicker", hf.book_ticker, False, "futures"),
        Route("GET", "/fapi/v1/ticker/24hr", hf.ticker_24hr, False, "futures"),
        Route("GET", "/fapi/v1/ticker/price", hf.ticker_price, False, "futures"),
        Route("GET", "/fapi/v2/ticker/price", hf.ticker_price, False, "futures"),
        Route("GET", "/fapi/v1/klines", hf.futures_klines, False, "futures"),
        Route("GET", "/fapi/v1/premiumIndex", hf.premium_index, False, "futures"),
        Route("POST", "/fapi/v1/order", hf.new_order, True, "futures", is_order=True),
        Route("GET", "/fapi/v1/order", hf.query_order, True, "futures"),
        Route("DELETE", "/fapi/v1/order", hf.cancel_order, True, "futures"),
        Route("GET", "/fapi/v1/openOrder", hf.open_order, True, "futures"),
        Route("GET", "/fapi/v1/openOrders", hf.open_orders, True, "futures"),
        Route("GET", "/fapi/v1/allOrders", hf.all_orders, True, "futures"),
        Route("GET", "/fapi/v1/userTrades", hf.user_trades, True, "futures"),
        Route("GET", "/fapi/v2/account", hf.account_v2, True, "futures"),
        Route("GET", "/fapi/v3/account", hf.account_v3, True, "futures"),
        Route("GET", "/fapi/v2/balance", hf.balance_v2, True, "futures"),
        Route("GET", "/fapi/v3/balance", hf.balance_v2, True, "futures"),
        Route("GET", "/fapi/v2/positionRisk", hf.position_risk_v2, True, "futures"),
        Route("GET", "/fapi/v3/positionRisk", hf.position_risk_v3, True, "futures"),
        Route("GET", "/fapi/v1/leverageBracket", hf.leverage_bracket, True, "futures"),
        Route("POST", "/fapi/v1/leverage", hf.set_leverage, True, "futures"),
        Route("POST", "/fapi/v1/marginType", hf.margin_type, True, "futures"),
        Route("GET", "/fapi/v1/rateLimit/order", hf.rate_limit_order, True, "futures"),
    ]
    return {(r.method, r.path): r for r in table}
