"""exsdk: a typed, contract-tested SDK for trading through ccxt.

The public surface is below; everything else is internal. Importing ``sdk`` imports no
adapter and starts nothing: adapters load by name through :func:`get_adapter`.
"""

from sdk.adapter import Capabilities, CcxtAdapter, ExchangeAdapter, MarketsCache, Venue
from sdk.broker import Broker
from sdk.broker.clock import AcceleratedClock, Clock, VirtualClock, WallClock
from sdk.broker.twap import TwapConfig
from sdk.credentials import Credentials, CredentialsError
from sdk.errors import (
    AuthenticationFailed,
    BelowMinimum,
    ClockSkew,
    InsufficientFunds,
    InvalidOrderInput,
    LiquidityRejected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    SdkError,
    TransientVenueError,
    UnsupportedMethod,
    VenueRejected,
)
from sdk.fills import FillDiscrepancy, cross_check, fold_fill
from sdk.journal import Journal
from sdk.limits import (
    DEFAULT_POLICIES,
    Action,
    Environment,
    EnvironmentPolicy,
    SizedOrder,
    apply_policy,
    minimal_order_amount,
    quantize_amount,
    quantize_price,
)
from sdk.models import (
    Balance,
    Balances,
    BidAsk,
    CcxtOrder,
    CcxtTrade,
    ChildOrder,
    ChildStatus,
    Fee,
    MarketLimits,
    OmsFill,
    Order,
    OrderKind,
    OrderStatus,
    OrderType,
    Position,
    Side,
)
from sdk.orders_text import format_orders, load_orders, parse_orders
from sdk.registry import adapter_names, capability_table, get_adapter
from sdk.universe import DEFAULT_UNIVERSE, Asset, Universe, asset_id_for

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_POLICIES",
    "DEFAULT_UNIVERSE",
    "AcceleratedClock",
    "Action",
    "Asset",
    "AuthenticationFailed",
    "Balance",
    "Balances",
    "BelowMinimum",
    "BidAsk",
    "Broker",
    "Capabilities",
    "CcxtAdapter",
    "CcxtOrder",
    "CcxtTrade",
    "ChildOrder",
    "ChildStatus",
    "Clock",
    "ClockSkew",
    "Credentials",
    "CredentialsError",
    "Environment",
    "EnvironmentPolicy",
    "ExchangeAdapter",
    "Fee",
    "FillDiscrepancy",
    "InsufficientFunds",
    "InvalidOrderInput",
    "Journal",
    "LiquidityRejected",
    "MarketLimits",
    "MarketsCache",
    "OmsFill",
    "Order",
    "OrderKind",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderStatus",
    "OrderType",
    "Position",
    "RateLimited",
    "SdkError",
    "Side",
    "SizedOrder",
    "TransientVenueError",
    "TwapConfig",
    "Universe",
    "UnsupportedMethod",
    "Venue",
    "VenueRejected",
    "VirtualClock",
    "WallClock",
    "__version__",
    "adapter_names",
    "apply_policy",
    "asset_id_for",
    "capability_table",
    "cross_check",
    "fold_fill",
    "format_orders",
    "get_adapter",
    "load_orders",
    "minimal_order_amount",
    "parse_orders",
    "quantize_amount",
    "quantize_price",
]
