"""Pydantic models: the ccxt side (orders, trades, fees, markets, positions, balances)
and the OMS side (parent orders, child orders, one folded fill per parent)."""

from exsdk.models.ccxt import (
    Balance,
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    Fee,
    MarketLimits,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TakerOrMaker,
)
from exsdk.models.oms import ChildOrder, ChildStatus, OmsFill, Order, OrderKind

__all__ = [
    "Balance",
    "Balances",
    "BidAsk",
    "CcxtOrder",
    "CcxtTrade",
    "ChildOrder",
    "ChildStatus",
    "Fee",
    "MarketLimits",
    "OmsFill",
    "Order",
    "OrderKind",
    "OrderStatus",
    "OrderType",
    "Position",
    "Side",
    "TakerOrMaker",
]
