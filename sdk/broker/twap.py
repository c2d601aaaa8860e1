"""The TWAP wave plan and child sizing, as pure functions over frozen values.

Wave ``k`` spans ``[start + k*d, start + (k+1)*d)``. Its children are sent at the wave's
start, no later than ``submit_deadline``, and cancelled ``cancel_lead`` before its end.
Every wave is used, the last included: kaizenflow reserved the last slot and so executed
only (N-1)/N of a parent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from exsdk._value import Value
from exsdk.errors import InvalidOrderInput
from exsdk.models import MarketLimits

__all__ = ["TwapConfig", "TwapPlan", "Wave", "child_amount", "plan_waves"]


@attrs.frozen(repr=False, eq=False)
class TwapConfig(Value):
    """How a TWAP window is cut and run.

    Exactly one of ``waves`` (a count) and ``wave_seconds`` (a frequency) is used;
    ``waves`` wins when both are given. ``submit_window`` is how late into a wave its
    children may still be sent; later, the wave is skipped and said so.
    """

    waves: int | None = None
    wave_seconds: float | None = 60.0
    cancel_lead: float = 0.5
    submit_window: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.waves is None and self.wave_seconds is None:
            raise ValueError("give waves or wave_seconds")
        if self.waves is not None and self.waves < 1:
            raise ValueError("waves must be at least 1")
        if self.wave_seconds is not None and self.wave_seconds <= 0:
            raise ValueError("wave_seconds must be positive")
        if self.cancel_lead < 0:
            raise ValueError("cancel_lead must not be negative")


@attrs.frozen(repr=False, eq=False)
class Wave(Value):
    """One slot of a TWAP window."""

    index: int
    start: datetime
    end: datetime
    submit_deadline: datetime
    cancel_at: datetime

    @property
    def is_first(self) -> bool:
        """True for wave 0."""
        return self.index == 0


@attrs.frozen(repr=False, eq=False)
class TwapPlan(Value):
    """All the waves of one TWAP window."""

    start: datetime
    end: datetime
    waves: tuple[Wave, ...]

    @property
    def num_waves(self) -> int:
        """How many waves the window holds."""
        return len(self.waves)


def plan_waves(start: datetime, end: datetime, config: TwapConfig) -> TwapPlan:
    """Cut ``[start, end)`` into waves.

    With ``wave_seconds`` the count is ``ceil(window / d)`` and the last wave is clipped
    to ``end``, so no slot is lost to rounding.
    """
    if end <= start:
        raise InvalidOrderInput("TWAP end must be after start")
    window = (end - start).total_seconds()
    if config.waves is not None:
        count = config.waves
        length = window / count
    else:
        assert config.wave_seconds is not None
        length = config.wave_seconds
        count = max(1, math.ceil(window / length - 1e-9))
    waves = []
    for k in range(count):
        w_start = start + timedelta(seconds=k * length)
        w_end = end if k == count - 1 else start + timedelta(seconds=(k + 1) * length)
        span = (w_end - w_start).total_seconds()
        lead = min(config.cancel_lead, span / 2)
        cancel_at = w_end - timedelta(seconds=lead)
        window_s = span / 2 if config.submit_window is None else min(config.submit_window, span)
        deadline = min(w_start + timedelta(seconds=window_s), cancel_at)
        waves.append(Wave(k, w_start, w_end, deadline, cancel_at))
    return TwapPlan(start, end, tuple(waves))


def child_amount(remaining: Decimal, waves_left: int, limits: MarketLimits) -> Decimal:
    """The signed size of this wave's child.

    ``remaining / waves_left`` on the step grid toward zero; the last wave takes all that
    remains. Never larger than ``remaining`` and never of the opposite sign: an overfill
    or an outside fill yields zero, not a reversing order.
    """
    if remaining == 0 or waves_left <= 0:
        return Decimal(0)
    sign = 1 if remaining > 0 else -1
    whole = abs(remaining)
    share = whole if waves_left == 1 else whole / waves_left
    sized = _toward_zero(limits, share)
    if sized > whole:
        sized = _toward_zero(limits, whole)
    return sign * sized if sized > 0 else Decimal(0)


_quantize_amount: Callable[[MarketLimits, Decimal], Decimal] | None = None


def _toward_zero(limits: MarketLimits, amount: Decimal) -> Decimal:
    global _quantize_amount
    if _quantize_amount is None:
        # Here, not at the top: exsdk.limits imports ccxt (all of it, about a second),
        # which plan_waves, and so the report that plans a run's waves again, never needs.
        from exsdk.limits import quantize_amount

        _quantize_amount = quantize_amount
    # quantize_amount follows ccxt's helper; make sure it never rounds a child up.
    sized = _quantize_amount(limits, amount)
    while sized > amount and sized > 0:
        sized -= limits.amount_step
    return max(sized, Decimal(0))
