"""Order submission: market, limit and TWAP parents as idempotent child orders.

``Broker`` is the entry point; ``resume_run`` finishes a run after a crash. Clocks,
client order ids, limit pricing and the TWAP plan are small modules of their own.
"""

from exsdk.broker.broker import PENDING, TERMINAL, Broker
from exsdk.broker.client_ids import child_client_order_id, new_run_id
from exsdk.broker.clock import AcceleratedClock, Clock, VirtualClock, WallClock
from exsdk.broker.events import (
    BrokerEvent,
    CancelStarted,
    ChildAdopted,
    ChildCanceled,
    ChildEmpty,
    ChildFilled,
    ChildIntent,
    ChildRejected,
    ChildSent,
    Observer,
    RunFinished,
    Warned,
    WaveSkipped,
    WaveStarted,
)
from exsdk.broker.limit_price import LimitPriceComputer, UnusableBook
from exsdk.broker.resume import broker_for_run, resume_run
from exsdk.broker.submission import RetrySettings
from exsdk.broker.twap import TwapConfig, TwapPlan, Wave, child_amount, plan_waves

__all__ = [
    "PENDING",
    "TERMINAL",
    "AcceleratedClock",
    "Broker",
    "BrokerEvent",
    "CancelStarted",
    "ChildAdopted",
    "ChildCanceled",
    "ChildEmpty",
    "ChildFilled",
    "ChildIntent",
    "ChildRejected",
    "ChildSent",
    "Clock",
    "LimitPriceComputer",
    "Observer",
    "RetrySettings",
    "RunFinished",
    "TwapConfig",
    "TwapPlan",
    "UnusableBook",
    "VirtualClock",
    "WallClock",
    "Warned",
    "Wave",
    "WaveSkipped",
    "WaveStarted",
    "broker_for_run",
    "child_amount",
    "child_client_order_id",
    "new_run_id",
    "plan_waves",
    "resume_run",
]
