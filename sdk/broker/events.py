"""Typed progress events the broker emits; the CLI renders them, tests assert on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from sdk.models import ChildOrder

__all__ = [
    "BrokerEvent",
    "ChildAdopted",
    "ChildCanceled",
    "ChildEmpty",
    "ChildFilled",
    "ChildRejected",
    "ChildSent",
    "Observer",
    "RunFinished",
    "Warned",
    "WaveSkipped",
    "WaveStarted",
]


@attrs.frozen
class WaveStarted:
    """A TWAP wave begins submitting its children."""

    run_id: str
    wave: int
    at: datetime
    num_waves: int


@attrs.frozen
class WaveSkipped:
    """A TWAP wave was not submitted, and why (usually: the clock was past its deadline)."""

    run_id: str
    wave: int
    at: datetime
    reason: str


@attrs.frozen
class ChildSent:
    """The venue accepted a child order."""

    child: ChildOrder


@attrs.frozen
class ChildAdopted:
    """A child's outcome was unknown; the lookup by client order id found it on the venue."""

    child: ChildOrder


@attrs.frozen
class ChildFilled:
    """A child filled, fully or partly, by the time its state was collected."""

    child: ChildOrder


@attrs.frozen
class ChildCanceled:
    """An open child was cancelled at the end of its wave."""

    child: ChildOrder


@attrs.frozen
class ChildRejected:
    """A child was refused by the venue or by policy; it is recorded, never retried."""

    child: ChildOrder
    reason: str


@attrs.frozen
class ChildEmpty:
    """A child sized to nothing by the limits or the remaining amount; not sent."""

    child: ChildOrder
    reason: str


@attrs.frozen
class Warned:
    """Something the operator should see that did not stop the run."""

    run_id: str
    message: str


@attrs.frozen
class RunFinished:
    """A submission (or a resume) finished."""

    run_id: str
    at: datetime
    num_children: int


BrokerEvent = (
    WaveStarted
    | WaveSkipped
    | ChildSent
    | ChildAdopted
    | ChildFilled
    | ChildCanceled
    | ChildRejected
    | ChildEmpty
    | Warned
    | RunFinished
)
Observer = Callable[[BrokerEvent], None]
