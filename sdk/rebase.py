"""Moving parent orders whose time window has passed to start at a given moment.

The seed's orders (``examples/default_orders.txt``) are from 2022: submitted as they are,
every TWAP wave is long over, so the broker refuses them (``InvalidOrderInput``) rather
than send nothing. :func:`rebase_orders` is the rule ``exsdk experiment`` applies to an
orders file, for library callers who want the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from exsdk.models import Order

__all__ = ["rebase_orders"]


def rebase_orders(orders: Sequence[Order], start: datetime) -> tuple[list[Order], timedelta | None]:
    """Move the orders' windows so the earliest starts at ``start``; durations are kept.

    Every order moves by the same shift (creation, start and end), so orders that shared a
    window still share one. Returns the orders and the shift, or the orders unchanged and
    ``None`` when the earliest window starts at ``start`` or later.
    """
    if not orders:
        return [], None
    earliest = min(o.start_timestamp for o in orders)
    if earliest >= start:
        return list(orders), None
    shift = start - earliest
    moved = [
        o.model_copy(
            update={
                "creation_timestamp": o.creation_timestamp + shift,
                "start_timestamp": o.start_timestamp + shift,
                "end_timestamp": o.end_timestamp + shift,
            }
        )
        for o in orders
    ]
    return moved, shift
