"""What the operator's tables mean: one definition per figure, shared by CLI and HTML.

- :func:`environment_note`: the line every run's output starts with, saying what the
  environment policy does to the asked quantities (``local`` forces every child to the
  venue's minimal order, so a fill of 17,000 % of the ask is the policy, not a bug).
- :data:`FILLED_OF_ASKED` and :data:`FILLED_OF_SENT`: the two fill rates, each one column
  under one name everywhere, with :data:`RATE_LEGEND` explaining both and their totals.
- :func:`child_outcome`: the one category of a child in the wave tables, so that the
  counts are disjoint and ``sent`` is the sum of the categories of sent children.
- :func:`percent`: a rate as text, never ``-0.0 %``.

Pandas-free, so the live progress display can use it without importing pandas.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from exsdk.models import ChildStatus

__all__ = [
    "FILLED_OF_ASKED",
    "FILLED_OF_SENT",
    "OUTCOMES",
    "RATE_LEGEND",
    "WAVE_LEGEND",
    "ChildState",
    "child_outcome",
    "environment_note",
    "percent",
]

FILLED_OF_ASKED = "filled/asked"
"""Column: filled quantity / the parent's asked quantity."""
FILLED_OF_SENT = "filled/sent"
"""Column: filled quantity / the quantity sent to the venue for the parent."""

RATE_LEGEND = (
    f"{FILLED_OF_ASKED}: filled qty / asked qty (above 100% when the environment raised "
    f"the order). {FILLED_OF_SENT}: filled qty / qty sent to the venue (the ask as the "
    "policy shaped it). Totals and waves: the rows weighted by notional at each parent's "
    f"arrival mid, i.e. sum(filled x mid) / sum(asked x mid) (or sent x mid). "
    "Slippage and fees in bps, positive = cost."
)
"""The legend under every table with a fill rate, CLI and HTML alike."""

OUTCOMES = ("filled", "partly", "unfilled", "open", "rejected", "not sent")
"""The wave tables' child categories, in column order; each child is in exactly one."""

WAVE_LEGEND = (
    "sent = filled + partly + unfilled + open. filled: fully filled; partly: partly "
    "filled, the rest cancelled; unfilled: cancelled or expired with nothing filled; "
    "open: not final yet; rejected (by the venue or the policy) and not sent (sized to "
    "nothing) never reached the venue."
)
"""The legend under every wave table."""

_SENT = ("filled", "partly", "unfilled", "open")

_ENVIRONMENT_NOTES = {
    "local": (
        "every child is forced to the venue's minimal order (raised when below it, lowered "
        "when above), so filled quantities differ from the asked ones: read "
        f"{FILLED_OF_SENT}, not {FILLED_OF_ASKED}"
    ),
    "preprod": (
        "children below the venue's minimal order are raised to it; the others are sent as asked"
    ),
    "prod": (
        "children below the venue's minimal order are not sent (recorded as rejected); "
        "the others are sent as asked"
    ),
}


def environment_note(environment: Any, *, venue: Any = None, adapter: str | None = None) -> str:
    """One line: where the run goes and what its environment does to the asks."""
    env = str(environment)
    where = f" on venue {venue}" if venue is not None else ""
    how = f" ({adapter})" if adapter else ""
    note = _ENVIRONMENT_NOTES.get(env, "a policy this version does not describe")
    return f"Environment {env}{where}{how}: {note}."


class ChildState(Protocol):
    """The parts of a child its outcome depends on (a :class:`~exsdk.models.ChildOrder`
    has them)."""

    @property
    def status(self) -> ChildStatus | str: ...
    @property
    def ccxt_order_id(self) -> str | None: ...
    @property
    def filled(self) -> Decimal: ...


def child_outcome(child: ChildState) -> str | None:
    """The wave-table category of ``child``; ``None`` for an intent not yet sent."""
    if child.status == ChildStatus.REJECTED:
        return "rejected"
    if child.status == ChildStatus.EMPTY:
        return "not sent"
    if child.ccxt_order_id is None:
        return None
    if child.status == ChildStatus.CLOSED:
        return "filled"
    if child.status in (ChildStatus.CANCELED, ChildStatus.EXPIRED):
        return "partly" if child.filled > 0 else "unfilled"
    return "open"


def is_sent(outcome: str | None) -> bool:
    """Whether a child of this category reached the venue."""
    return outcome in _SENT


def percent(value: Decimal | float | None) -> str:
    """``value`` (a ratio) as ``12.3%``; ``-`` when unknown; zero is ``0.0%``, never ``-0.0%``."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    scaled = Decimal(str(value)) * 100
    text = f"{scaled:.1f}%"
    return "0.0%" if text in ("-0.0%", "0.0%") else text
