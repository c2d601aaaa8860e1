"""Group commit: the journal rows of many concurrent children in one durable transaction.

A wave's children reach their intent in the same turn of the event loop; writing each
intent in its own transaction costs one disk sync per child before the next may leave.
Inside :meth:`GroupCommit.gathering` (the broker opens it around a wave's concurrent
children) :class:`GroupCommit` queues the rows, and the first writer of a turn schedules
one commit for all of them after the other ready tasks have queued theirs
(``loop.call_soon``). Every writer waits until the commit that holds its rows is on disk,
so "an intent is committed before its request leaves" holds for each child, and a failed
commit fails every writer in it (the transaction is rolled back: none of them is sent).

Outside a gathering (a lone child: one market order, a one-parent TWAP wave) nobody can
join the commit, so a writer commits at once, without waiting loop turns for company.
A TWAP wave sizes all its children in one pass and hands their intents to
:meth:`GroupCommit.commit`, which writes them at once, in one transaction (with whatever
rows are queued), before any of them is sent.

Child states go in as models and are written with one statement per commit
(:meth:`Journal.record_children`); other rows are functions that write them. Only
:meth:`Journal.batch` and the journal's writers are used, so any journal backend with a
transaction works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from exsdk.errors import JournalUnavailable
from exsdk.journal import Journal
from exsdk.models import ChildOrder

__all__ = ["GroupCommit"]


class GroupCommit:
    """Rows queued by concurrent tasks, committed together once per loop turn."""

    def __init__(self, journal: Journal, run_id: str = "") -> None:
        self.journal = journal
        self.run_id = run_id
        """The run whose child states :meth:`write` takes as models."""
        self._rows: list[Callable[[], None]] = []
        self._children: list[ChildOrder] = []
        self._waiters: list[asyncio.Future[None]] | None = None
        """The writers waiting for the scheduled commit (``None``: none is scheduled)."""
        self._gathering = 0
        self.commits = 0
        """How many transactions were committed (for benchmarks and tests)."""

    @contextmanager
    def gathering(self) -> Iterator[None]:
        """Group the writes of the block's concurrent tasks: each waits for the rows the
        other ready tasks queue in the same loop turn, and all commit as one (reentrant)."""
        self._gathering += 1
        try:
            yield
        finally:
            self._gathering -= 1

    async def write(
        self, rows: Callable[[], None] | None = None, *, child: ChildOrder | None = None
    ) -> None:
        """Queue ``rows`` (a function that writes them) and ``child`` (a state of one of
        the run's children) and return once they are committed.

        Raises what the commit raised (then nothing of that commit was written). A commit
        holds at most one state of a child (its writer waits for it before it writes
        again), so the child rows of one commit may go in after its other rows.
        """
        if rows is not None:
            self._rows.append(rows)
        if child is not None:
            self._children.append(child)
        waiters = self._waiters
        if waiters is None and not self._gathering:
            # Nobody can join: commit now, without the loop turns a group waits.
            self._write_queued()
            return
        loop = asyncio.get_running_loop()
        if waiters is None:
            waiters = self._waiters = []
            loop.call_soon(self._commit_group)
        # A future of its own per writer (cheaper than shielding one shared future): a
        # writer cancelled cancels only its own, never the commit the others wait for.
        waiter = loop.create_future()
        waiters.append(waiter)
        await waiter

    def commit(self, children: Sequence[ChildOrder]) -> None:
        """Write the states of ``children`` now, with every row queued, in one transaction
        (a wave's intents, sized together: nobody else is to be waited for).

        Writers waiting for a scheduled commit share this one: its outcome is theirs.
        Raises the commit's failure (then nothing of it was written).
        """
        self._children.extend(children)
        if self._waiters is None:
            self._write_queued()
        else:
            self._commit_group(raises=True)

    def add(self, rows: Callable[[], None]) -> None:
        """Queue ``rows`` to ride along with the next commit, without a sync of their own
        (a run event ahead of a wave's intents); :meth:`flush` commits them if no writer
        came."""
        self._rows.append(rows)

    def flush(self) -> None:
        """Commit queued rows now if no commit is on its way (raises its failure)."""
        if (self._rows or self._children) and self._waiters is None:
            self._write_queued()

    def _commit_group(self, *, raises: bool = False) -> None:
        """The scheduled commit of a loop turn's writers: its outcome is theirs (and the
        caller's too, with ``raises``)."""
        waiters, self._waiters = self._waiters, None
        if waiters is None:
            return  # already committed by commit(), which took the turn's writers along
        try:
            self._write_queued()
        except BaseException as exc:  # the journal's failure belongs to every writer
            for waiter in waiters:
                if not waiter.done():  # a cancelled writer's future is done already
                    waiter.set_exception(exc)
            if raises or not isinstance(exc, Exception):
                raise
        else:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _write_queued(self) -> None:
        """Write what is queued in one transaction and commit it (raises its failure)."""
        rows, self._rows = self._rows, []
        children, self._children = self._children, []
        try:
            with self.journal.batch():
                for write in rows:
                    write()
                if children:
                    self.journal.record_children(self.run_id, children)
        except JournalUnavailable as exc:
            if self.journal.failure is None:
                self.journal.failure = exc  # sticky, as for any other journal write
            raise
        self.commits += 1
