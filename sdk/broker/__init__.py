"""Order submission: market, limit and TWAP parents as idempotent child orders.

``Broker`` is the entry point; ``resume_run`` finishes a run after a crash. Clocks,
client order ids, limit pricing and the TWAP plan are small modules of their own.

Names resolve lazily (:mod:`exsdk._lazy`), so ``from exsdk.broker import Broker`` loads only
what the broker itself imports.
"""

from typing import TYPE_CHECKING

from exsdk._lazy import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "AcceleratedClock": "exsdk.broker.clock",
    "Broker": "exsdk.broker.broker",
    "BrokerEvent": "exsdk.broker.events",
    "CancelStarted": "exsdk.broker.events",
    "ChildAdopted": "exsdk.broker.events",
    "ChildCanceled": "exsdk.broker.events",
    "ChildEmpty": "exsdk.broker.events",
    "ChildFilled": "exsdk.broker.events",
    "ChildIntent": "exsdk.broker.events",
    "ChildRejected": "exsdk.broker.events",
    "ChildSent": "exsdk.broker.events",
    "Clock": "exsdk.broker.clock",
    "LimitPriceComputer": "exsdk.broker.limit_price",
    "Observer": "exsdk.broker.events",
    "PENDING": "exsdk.broker.broker",
    "RetrySettings": "exsdk.broker.submission",
    "RunFinished": "exsdk.broker.events",
    "TERMINAL": "exsdk.broker.broker",
    "TwapConfig": "exsdk.broker.twap",
    "TwapPlan": "exsdk.broker.twap",
    "UnusableBook": "exsdk.broker.limit_price",
    "VirtualClock": "exsdk.broker.clock",
    "WallClock": "exsdk.broker.clock",
    "Warned": "exsdk.broker.events",
    "Wave": "exsdk.broker.twap",
    "WaveSkipped": "exsdk.broker.events",
    "WaveStarted": "exsdk.broker.events",
    "broker_for_run": "exsdk.broker.resume",
    "child_amount": "exsdk.broker.twap",
    "child_client_order_id": "exsdk.broker.client_ids",
    "new_run_id": "exsdk.broker.client_ids",
    "plan_waves": "exsdk.broker.twap",
    "resume_run": "exsdk.broker.resume",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

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
