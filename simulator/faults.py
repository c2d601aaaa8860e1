"""Scripted faults, matched per (method, path) and per call number.

Fault kinds (``Fault.kind``):

* ``latency``: sleep ``seconds`` before handling (combines with the others).
* ``http_error``: HTTP ``status`` (500/502/503) with a JSON -1001 body, request not processed.
* ``html_error``: HTTP ``status`` with an HTML page, request not processed.
* ``timeout_unknown``: the request IS processed (an order is placed), then the reply is
  -1007 "Timeout waiting for response from backend server..." with ``status`` 408 or 503.
* ``drop_after_accept``: the request is processed, then the connection is closed without a reply.
* ``reset_before``: the connection is closed before the request is processed.
* ``rate_limit``: HTTP 429 -1003 with ``Retry-After`` (``seconds``, 60 when not given),
  request not processed.
* ``clock_skew``: HTTP 400 -1021 "outside of the recvWindow", request not processed (a
  client whose clock drifted for a moment).
* ``malformed``: HTTP ``status`` (pass 200 for a broken success reply) with ``body`` as
  the raw reply text and ``content_type`` as its type, request not processed: a broken
  proxy or a truncated, mistyped or empty reply.

Call numbers are 1-based and count every request to the same (method, path),
so a script plus a seed gives the same outcome on every run.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

FaultKind = Literal[
    "latency",
    "http_error",
    "html_error",
    "timeout_unknown",
    "drop_after_accept",
    "reset_before",
    "rate_limit",
    "clock_skew",
    "malformed",
]
FAULT_KINDS: tuple[str, ...] = (
    "latency",
    "http_error",
    "html_error",
    "timeout_unknown",
    "drop_after_accept",
    "reset_before",
    "rate_limit",
    "clock_skew",
    "malformed",
)


def _calls(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value)


@attrs.frozen
class Fault:
    """One scripted fault; ``calls=None`` means every call."""

    kind: str = attrs.field(validator=attrs.validators.in_(FAULT_KINDS))
    method: str = "*"
    path: str = "*"
    calls: tuple[int, ...] | None = attrs.field(default=None, converter=_calls)
    seconds: float = 0.0
    status: int = 500
    body: str = ""
    content_type: str = "application/json"

    def matches(self, method: str, path: str, call: int) -> bool:
        """Does this fault apply to call number ``call`` of ``method path``?"""
        if self.method not in ("*", method.upper()):
            return False
        if self.path not in ("*", path):
            return False
        return self.calls is None or call in self.calls

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for the admin API)."""
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "calls": list(self.calls) if self.calls is not None else None,
            "seconds": self.seconds,
            "status": self.status,
            "body": self.body,
            "content_type": self.content_type,
        }


@attrs.define
class FaultPlan:
    """The active faults and the per-(method, path) call counters."""

    faults: list[Fault] = attrs.field(factory=list)
    counters: dict[tuple[str, str], int] = attrs.field(factory=dict)

    def add(self, fault: Fault) -> None:
        """Activate a fault."""
        self.faults.append(fault)

    def clear(self) -> None:
        """Remove all faults and reset call counters."""
        self.faults.clear()
        self.counters.clear()

    def on_request(self, method: str, path: str) -> list[Fault]:
        """Count this call and return the faults that apply to it."""
        key = (method.upper(), path)
        call = self.counters.get(key, 0) + 1
        self.counters[key] = call
        return [f for f in self.faults if f.matches(method, path, call)]
