"""The exclusive lease of a run: one process drives a run at a time.

Two processes driving one run (two ``exsdk resume RUN``, two experiments with one
``--run-id``) would each send the run's children. The lease is an OS file lock
(``flock``) on a file next to the journal, ``<journal>.<run id>.lease``: the kernel drops
it when its holder exits, however it exits, so a crashed run's lease is free again
exactly when its holder is gone, and never before. The file names the holder (pid, host,
start time) for the one-line refusal of the next process.

A journal in a database (PostgreSQL) implements the same :class:`RunLease` with a row
lock or an advisory lock of its own; the broker only sees ``journal.lease(run_id)``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import attrs

from exsdk._value import Shown, Value
from exsdk.errors import RunLeased

__all__ = ["LeaseRegistry", "RunLease"]


class RunLease(Protocol):
    """A held lease: who holds it (for messages)."""

    @property
    def run_id(self) -> str:
        """The run the lease is for."""

    @property
    def holder(self) -> str:
        """Who holds it: ``pid N on HOST since TIME``."""


@attrs.frozen(repr=False, eq=False)
class _Held(Value):
    run_id: str
    holder: str


def _me() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {started}"


@attrs.define(repr=False)
class _Entry(Shown):
    count: int
    lease: _Held
    handle: IO[str] | None


class LeaseRegistry:
    """The leases one journal hands out; reentrant within one process.

    ``directory_of`` is the journal file (``None`` for an in-memory journal, whose runs
    no other process can reach: the lease is then only counted in this process).
    """

    _lock = threading.Lock()
    # One process-wide table: two Journal objects on one file share its leases.
    _held: dict[tuple[str, str], _Entry] = {}  # noqa: RUF012 - shared on purpose

    def __init__(self, journal_path: Path | None) -> None:
        self._path = journal_path
        self._memory_key = f"memory:{id(self)}"

    def _lease_file(self, run_id: str) -> Path | None:
        if self._path is None:
            return None
        return self._path.with_name(f"{self._path.name}.{run_id}.lease")

    @contextmanager
    def hold(self, run_id: str) -> Iterator[RunLease]:
        """Take the lease for the block; :class:`RunLeased` when another process has it."""
        path = self._lease_file(run_id)
        key = (str(path.resolve()) if path is not None else self._memory_key, run_id)
        with self._lock:
            entry = self._held.get(key)
            if entry is not None:
                entry.count += 1
            else:
                entry = self._acquire(run_id, path)
                self._held[key] = entry
        try:
            yield entry.lease
        finally:
            with self._lock:
                entry.count -= 1
                if entry.count == 0:
                    del self._held[key]
                    if entry.handle is not None:
                        # Closing the file drops the lock; the file stays (unlinking it
                        # would let a third process lock a new file beside a waiter).
                        entry.handle.close()

    @staticmethod
    def _acquire(run_id: str, path: Path | None) -> _Entry:
        holder = _me()
        if path is None:
            return _Entry(1, _Held(run_id, holder), None)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until released
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read()
            handle.close()
            try:
                other = str(json.loads(text)["holder"])
            except (ValueError, KeyError, TypeError):
                other = "another process (it has not named itself yet)"
            raise RunLeased(
                f"run {run_id} is already being driven by {other} (lease {path}); "
                "wait for it to end, or stop it first",
                holder=other,
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"holder": holder, "run_id": run_id}))
        handle.flush()
        return _Entry(1, _Held(run_id, holder), handle)
