"""Pydantic models: the ccxt side (orders, trades, fees; and the venue's state: markets,
positions, balances, order books, tickers) and the OMS side (parent orders, child orders,
one folded fill per parent).

Names resolve lazily (:mod:`exsdk._lazy`), so ``from exsdk.models import CcxtOrder`` creates
the classes of the orders' module, not the markets' and tickers' too (issue 18 goal 3b).
"""

from typing import TYPE_CHECKING

from exsdk._lazy import lazy_exports

if TYPE_CHECKING:
    from exsdk.models.base import FrozenDict, FrozenList, MalformedPayload, thaw
    from exsdk.models.ccxt import (
        CcxtOrder,
        CcxtTrade,
        Fee,
        OrderRequest,
        OrderStatus,
        OrderType,
        Side,
        TakerOrMaker,
        derived_trade_id,
    )
    from exsdk.models.market import (
        Balance,
        Balances,
        BidAsk,
        MarketLimits,
        OrderBook,
        Position,
        Ticker,
    )
    from exsdk.models.oms import ChildOrder, ChildStatus, OmsFill, Order, OrderKind

_EXPORTS = {
    "Balance": "exsdk.models.market",
    "Balances": "exsdk.models.market",
    "BidAsk": "exsdk.models.market",
    "CcxtOrder": "exsdk.models.ccxt",
    "CcxtTrade": "exsdk.models.ccxt",
    "ChildOrder": "exsdk.models.oms",
    "ChildStatus": "exsdk.models.oms",
    "Fee": "exsdk.models.ccxt",
    "FrozenDict": "exsdk.models.base",
    "FrozenList": "exsdk.models.base",
    "MalformedPayload": "exsdk.models.base",
    "MarketLimits": "exsdk.models.market",
    "OmsFill": "exsdk.models.oms",
    "Order": "exsdk.models.oms",
    "OrderBook": "exsdk.models.market",
    "OrderKind": "exsdk.models.oms",
    "OrderRequest": "exsdk.models.ccxt",
    "OrderStatus": "exsdk.models.ccxt",
    "OrderType": "exsdk.models.ccxt",
    "Position": "exsdk.models.market",
    "Side": "exsdk.models.ccxt",
    "TakerOrMaker": "exsdk.models.ccxt",
    "Ticker": "exsdk.models.market",
    "derived_trade_id": "exsdk.models.ccxt",
    "thaw": "exsdk.models.base",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "Balance",
    "Balances",
    "BidAsk",
    "CcxtOrder",
    "CcxtTrade",
    "ChildOrder",
    "ChildStatus",
    "Fee",
    "FrozenDict",
    "FrozenList",
    "MalformedPayload",
    "MarketLimits",
    "OmsFill",
    "Order",
    "OrderBook",
    "OrderKind",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "Side",
    "TakerOrMaker",
    "Ticker",
    "derived_trade_id",
    "thaw",
]
