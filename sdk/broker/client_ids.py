"""Deterministic client order ids: the idempotency key of every child order.

The id is a pure function of the run, the parent, the wave and the child's role, with no
attempt counter, so a retry, a lookup and a resume after a crash all name the same
order. Binance accepts ``^[\\.A-Z\\:/a-z0-9_\\-]{1,36}$``.
"""

from __future__ import annotations

import re
import secrets

from exsdk.errors import InvalidOrderInput
from exsdk.models.base import shown

__all__ = ["BINANCE_CLIENT_ID", "child_client_order_id", "new_run_id", "validate_run_id"]

BINANCE_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_RUN_ID = re.compile(r"^[a-z0-9]{1,12}$")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_run_id(length: int = 8) -> str:
    """A fresh random run id: ``length`` base-36 characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def validate_run_id(run_id: str) -> str:
    """Check a caller-supplied run id (1-12 of ``[a-z0-9]``) and return it."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidOrderInput(
            f"run id {shown(run_id)} must be 1-12 characters of [a-z0-9]", field="run_id"
        )
    return run_id


def child_client_order_id(run_id: str, parent_order_id: int, wave: int, role: str = "") -> str:
    """The client order id of one child: ``x{run}-{parent}-{role}{wave}``.

    ``role`` separates children that are not TWAP waves (``f`` for flatten orders), so
    they never collide with a parent's own children.
    """
    if parent_order_id < 0 or wave < 0:
        raise InvalidOrderInput("parent order id and wave must be non-negative")
    cid = f"x{validate_run_id(run_id)}-{parent_order_id}-{role}{wave}"
    if not BINANCE_CLIENT_ID.match(cid):
        raise InvalidOrderInput(f"client order id {cid!r} breaks the venue's rules (<=36 chars)")
    return cid
