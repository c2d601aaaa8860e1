"""Typed progress events the broker emits; the CLI renders them, tests assert on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from exsdk._value import Value
from exsdk.models import ChildOrder

__all__ = [
    "BrokerEvent",
    "CancelStarted",
    "ChildAdopted",
    "ChildCanceled",
    "ChildEmpty",
    "ChildFilled",
    "ChildIntent",
    "ChildRejected",
    "ChildSent",
    "Observer",
    "RunFinished",
    "Warned",
    "WaveSkipped",
    "WaveStarted",
]


@attrs.frozen(repr=False, eq=False)
class WaveStarted(Value):
    """A TWAP wave begins submitting its children."""

    run_id: str
    wave: int
    at: datetime
    num_waves: int


@attrs.frozen(repr=False, eq=False)
class WaveSkipped(Value):
    """A TWAP wave was not submitted, and why (usually: the clock was past its deadline)."""

    run_id: str
    wave: int
    at: datetime
    reason: str


@attrs.frozen(repr=False, eq=False)
class ChildIntent(Value):
    """A child is journaled as an intent; its create request leaves next.

    Emitted before every send of the child, a resend included (``attempt`` counts from 1).
    """

    child: ChildOrder
    attempt: int = 1


@attrs.frozen(repr=False, eq=False)
class ChildSent(Value):
    """The venue accepted a child order."""

    child: ChildOrder


@attrs.frozen(repr=False, eq=False)
class ChildAdopted(Value):
    """A child's outcome was unknown; the lookup by client order id found it on the venue."""

    child: ChildOrder


@attrs.frozen(repr=False, eq=False)
class ChildFilled(Value):
    """A child filled, fully or partly, by the time its state was collected."""

    child: ChildOrder


@attrs.frozen(repr=False, eq=False)
class ChildCanceled(Value):
    """An open child was cancelled at the end of its wave."""

    child: ChildOrder


@attrs.frozen(repr=False, eq=False)
class CancelStarted(Value):
    """The cancel request of an open child leaves next (the end of its wave, or a resume)."""

    child: ChildOrder


@attrs.frozen(repr=False, eq=False)
class ChildRejected(Value):
    """A child was refused by the venue or by policy; it is recorded, never retried."""

    child: ChildOrder
    reason: str
    # The SDK error class that refused it (``"LiquidityRejected"``), or None for policy.
    error: str | None = None


@attrs.frozen(repr=False, eq=False)
class ChildEmpty(Value):
    """A child sized to nothing by the limits or the remaining amount; not sent."""

    child: ChildOrder
    reason: str


@attrs.frozen(repr=False, eq=False)
class Warned(Value):
    """Something the operator should see that did not stop the run."""

    run_id: str
    message: str


@attrs.frozen(repr=False, eq=False)
class RunFinished(Value):
    """A submission (or a resume) finished."""

    run_id: str
    at: datetime
    num_children: int


BrokerEvent = (
    WaveStarted
    | WaveSkipped
    | ChildIntent
    | ChildSent
    | ChildAdopted
    | ChildFilled
    | CancelStarted
    | ChildCanceled
    | ChildRejected
    | ChildEmpty
    | Warned
    | RunFinished
)
Observer = Callable[[BrokerEvent], None]
