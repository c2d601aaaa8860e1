"""Group commit: the journal rows of many concurrent children in one durable transaction.

A wave's children reach their intent in the same turn of the event loop; writing each
intent in its own transaction costs one disk sync per child before the next may leave.
:class:`GroupCommit` queues the rows, and the first writer of a turn schedules one
commit for all of them after the other ready tasks have queued theirs
(``loop.call_soon``). Every writer waits until the commit that holds its rows is on disk,
so "an intent is committed before its request leaves" holds for each child, and a failed
commit fails every writer in it (the transaction is rolled back: none of them is sent).

Only :meth:`Journal.batch` is used, so any journal backend with a transaction works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from exsdk.errors import JournalUnavailable
from exsdk.journal import Journal

__all__ = ["GroupCommit"]


class GroupCommit:
    """Rows queued by concurrent tasks, committed together once per loop turn."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._rows: list[Callable[[], None]] = []
        self._done: asyncio.Future[None] | None = None
        self.commits = 0
        """How many transactions were committed (for benchmarks and tests)."""

    async def write(self, rows: Callable[[], None]) -> None:
        """Queue ``rows`` (a function that writes them) and wait until they are committed.

        Raises what the commit raised (then nothing of that commit was written).
        """
        self._rows.append(rows)
        done = self._done
        if done is None:
            loop = asyncio.get_running_loop()
            done = self._done = loop.create_future()
            loop.call_soon(self._commit)
        # Shielded: one writer cancelled must not cancel the commit the others wait for.
        await asyncio.shield(done)

    def add(self, rows: Callable[[], None]) -> None:
        """Queue ``rows`` to ride along with the next commit, without a sync of their own
        (a run event ahead of a wave's intents); :meth:`flush` commits them if no writer
        came."""
        self._rows.append(rows)

    def flush(self) -> None:
        """Commit queued rows now if no commit is on its way (raises its failure)."""
        if not self._rows or self._done is not None:
            return
        done = self._done = asyncio.get_running_loop().create_future()
        self._commit()
        done.result()

    def _commit(self) -> None:
        rows, self._rows = self._rows, []
        done, self._done = self._done, None
        assert done is not None
        try:
            with self.journal.batch():
                for write in rows:
                    write()
        except BaseException as exc:  # the journal's failure belongs to every writer
            if isinstance(exc, JournalUnavailable) and self.journal.failure is None:
                self.journal.failure = exc  # sticky, as for any other journal write
            done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self.commits += 1
            done.set_result(None)
